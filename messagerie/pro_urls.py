"""The professional's messaging pages (namespace "pro-messagerie")."""

from __future__ import annotations

from messagerie.urls import pro_urlpatterns

app_name = "pro-messagerie"

urlpatterns = pro_urlpatterns
