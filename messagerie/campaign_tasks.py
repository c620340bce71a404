"""Thin Celery wrappers of `messagerie.campaign_jobs` (STYLE R14)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="messagerie.campaign_tasks.campaigns_send")
def campaigns_send() -> int:
    from messagerie.campaign_jobs import campaigns_send as job

    return job()


@shared_task(name="messagerie.campaign_tasks.prevention_emails_dispatch")
def prevention_emails_dispatch() -> int:
    """Fan the waiting prevention e-mails (not to refusers, CONS-9) out to
    one `notification_send` task each; each task claims its notification."""
    from espace.tasks import notification_send
    from messagerie.campaign_jobs import prevention_emails_pending

    ids = prevention_emails_pending(limit=10_000)
    for notification_id in ids:
        notification_send.delay(notification_id)
    return len(ids)
