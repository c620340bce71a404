"""The Celery app and every periodic schedule (STYLE R14, R16)."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mes")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _filesystem_broker_folders(sender: Celery, **kwargs: object) -> None:
    """The embedded broker (kombu's filesystem transport) needs its folders."""
    if str(sender.conf.broker_url).startswith("filesystem"):
        options = sender.conf.broker_transport_options or {}
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            if options.get(key):
                os.makedirs(options[key], exist_ok=True)


app.conf.beat_schedule = {
    # every minute: the worker proves beat and broker are alive (see /healthz)
    "heartbeat": {"task": "espace.tasks.heartbeat", "schedule": crontab(minute="*")},
}
