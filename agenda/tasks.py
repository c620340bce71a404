"""Thin Celery wrappers of the agenda's jobs (STYLE R14)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="agenda.tasks.reminders_send")
def reminders_send() -> int:
    """AG-2: queue the reminders due now (set-based, exactly once); the
    e-mails leave with `espace.tasks.notifications_dispatch`."""
    from agenda.reminders import reminders_send as job

    return job()
