"""The Celery app and every periodic schedule (STYLE R14, R16)."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mes")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Apps built in parallel keep their tasks in their own modules.
app.autodiscover_tasks(related_name="campaign_tasks")


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
    # every hour at :05, open the spaces whose 6-week opposition window is over (LC-5)
    "spaces-auto-open": {
        "task": "espace.tasks.spaces_auto_open",
        "schedule": crontab(minute=5),
    },
    # every day at 00:15, end parents' access for those turning 18 today (LC-10)
    "minors-turning-18": {
        "task": "espace.tasks.minors_turning_18",
        "schedule": crontab(hour=0, minute=15),
    },
    # every day at 00:20, inform again at 18 those whose space never opened (LC-10)
    "adults-informed-again": {
        "task": "espace.tasks.adults_informed_again",
        "schedule": crontab(hour=0, minute=20),
    },
    # every day at 02:30, close spaces suspended 6 weeks ago without objection (LC-9)
    "spaces-close-suspended": {
        "task": "espace.tasks.spaces_close_suspended",
        "schedule": crontab(hour=2, minute=30),
    },
    # every day at 03:00, purge archives past 10 years and early deletions (LC-8)
    "spaces-purge": {
        "task": "espace.tasks.spaces_purge",
        "schedule": crontab(hour=3, minute=0),
    },
    # every day at 06:00, queue today's information messages up to the cap (LC-2)
    "information-enqueue": {
        "task": "espace.tasks.information_enqueue_daily",
        "schedule": crontab(hour=6, minute=0),
    },
    # every 5 minutes, send pending e-mails and SMS (information, new codes)
    "notifications-dispatch": {
        "task": "espace.tasks.notifications_dispatch",
        "schedule": crontab(minute="*/5"),
    },
    # every day at 07:00, pending letters into print batches (LC-2)
    "letters-print": {
        "task": "espace.tasks.letters_print",
        "schedule": crontab(hour=7, minute=0),
    },
    # every 15 minutes, re-queue notifications a dead worker had claimed (SEC-6)
    "notifications-sweep": {
        "task": "espace.tasks.notifications_sweep_stale",
        "schedule": crontab(minute="*/15"),
    },
    # every hour at :20, integrate pre-2022 DMPs into newly opened spaces (LC-11)
    "legacy-dmp-integrate": {
        "task": "espace.tasks.legacy_dmp_integrate",
        "schedule": crontab(minute=20),
    },
    # every day at 05:00, ask former opposers holding a pre-2022 DMP to confirm (LC-11)
    "legacy-dmp-confirm": {
        "task": "espace.tasks.legacy_dmp_confirm",
        "schedule": crontab(hour=5, minute=0),
    },
    # every hour at :40, withheld results: notice at 2 weeks, visible at 1 month (DMP-9)
    "dmp-withheld-timers": {
        "task": "dmp.tasks.withheld_timers",
        "schedule": crontab(minute=40),
    },
    # every 5 minutes, e-mail professionals their notices (emergency access, CONS-6)
    "professional-notices": {
        "task": "dmp.tasks.professional_notices_send",
        "schedule": crontab(minute="*/5"),
    },
    # every 5 minutes, start due prevention campaigns and carry on those
    # sending, range by range (MSG-4)
    "prevention-campaigns": {
        "task": "messagerie.campaign_tasks.campaigns_send",
        "schedule": crontab(minute="*/5"),
    },
    # every 5 minutes, send the prevention e-mails, never to refusers (CONS-9)
    "prevention-emails": {
        "task": "messagerie.campaign_tasks.prevention_emails_dispatch",
        "schedule": crontab(minute="*/5"),
    },
    # every 15 minutes, queue the agenda reminders due (day before from 18:00,
    # same day from 07:00, Europe/Paris), each once (AG-2)
    "agenda-reminders": {
        "task": "agenda.tasks.reminders_send",
        "schedule": crontab(minute="*/15"),
    },
    # every day at 04:00, forget provisional-code hashes expired a month ago (LC-3)
    "codes-expire": {
        "task": "espace.tasks.codes_expire",
        "schedule": crontab(hour=4, minute=0),
    },
}
