"""Load the calendar rules files into the table (AG-1): the versions missing
are created, the others (maybe changed by an agent) are kept."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from agenda.models import Recommendation
from agenda.rules import rules_load


class Command(BaseCommand):
    help = "Charge les règles du calendrier de prévention (agenda/fixtures/)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = rules_load(Recommendation)
        self.stdout.write(f"{created} version(s) de règle ajoutée(s).")
