"""Thin Celery wrappers of `dmp.jobs` (STYLE R14)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="dmp.tasks.withheld_timers")
def withheld_timers() -> int:
    from dmp.jobs import withheld_notify, withheld_release

    return withheld_notify() + withheld_release()


@shared_task(name="dmp.tasks.professional_notices_send")
def professional_notices_send() -> int:
    from dmp.jobs import professional_notices_send as job

    return job()
