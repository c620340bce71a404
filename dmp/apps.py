from __future__ import annotations

from django.apps import AppConfig


class DmpConfig(AppConfig):
    name = "dmp"
    verbose_name = "Dossier médical partagé"
