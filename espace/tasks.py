from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)


HEARTBEAT_KEY = "celery:heartbeat"


@shared_task(name="espace.tasks.heartbeat")
def heartbeat() -> str:
    """Beat → broker → worker round trip, seen by /healthz through the cache."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    logger.info("heartbeat %s", now)
    return now


# Lifecycle jobs (SPEC §2): thin wrappers named after the job they run; the
# jobs are set-based and safe to repeat, so a retry or a redelivery after a
# killed worker does nothing twice (SEC-6).


@shared_task(name="espace.tasks.spaces_auto_open")
def spaces_auto_open() -> int:
    from espace.jobs import spaces_auto_open as job

    return job()


@shared_task(name="espace.tasks.spaces_close_suspended")
def spaces_close_suspended() -> int:
    from espace.jobs import spaces_close_suspended as job

    return job()


@shared_task(name="espace.tasks.spaces_purge")
def spaces_purge() -> int:
    from espace.jobs import spaces_purge as job

    return job()


@shared_task(name="espace.tasks.minors_turning_18")
def minors_turning_18() -> int:
    from espace.jobs import minors_turning_18 as job

    return job()


@shared_task(name="espace.tasks.codes_expire")
def codes_expire() -> int:
    from espace.jobs import codes_expire as job

    return job()


@shared_task(
    name="espace.tasks.notification_send",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def notification_send(notification_id: int) -> bool:
    """Send one notification (LC-2, LC-3, LC-12); the service claims it
    atomically, so a redelivered task sends nothing twice."""
    from espace.notifications import notification_send as send

    return send(notification_id=notification_id)


@shared_task(name="espace.tasks.information_enqueue_daily")
def information_enqueue_daily() -> int:
    from espace.jobs import information_enqueue_daily as job

    queued = job()
    notifications_dispatch.delay()
    return queued


@shared_task(name="espace.tasks.notifications_dispatch")
def notifications_dispatch() -> int:
    """Fan pending e-mails and SMS out to one `notification_send` task each;
    each task claims its notification, so a double dispatch sends once."""
    from espace.jobs import notifications_pending_ids

    ids = notifications_pending_ids(limit=10_000)
    for notification_id in ids:
        notification_send.delay(notification_id)
    return len(ids)


@shared_task(name="espace.tasks.letters_print")
def letters_print() -> int:
    from espace.jobs import letters_print as job

    return job()


@shared_task(name="espace.tasks.notifications_sweep_stale")
def notifications_sweep_stale() -> int:
    from espace.jobs import notifications_sweep_stale as job

    return job()


@shared_task(name="espace.tasks.legacy_dmp_integrate")
def legacy_dmp_integrate() -> int:
    from espace.jobs import legacy_dmp_integrate as job

    return job()


@shared_task(name="espace.tasks.legacy_dmp_confirm")
def legacy_dmp_confirm() -> int:
    from espace.jobs import legacy_dmp_confirm as job

    return job()


@shared_task(name="espace.tasks.adults_informed_again")
def adults_informed_again() -> int:
    from espace.jobs import adults_informed_again as job

    return job()
