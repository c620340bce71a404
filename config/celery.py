"""The Celery app and every periodic schedule (STYLE R14, R16)."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mes")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # every minute: the worker proves beat and broker are alive (see /healthz)
    "heartbeat": {"task": "espace.tasks.heartbeat", "schedule": crontab(minute="*")},
}
