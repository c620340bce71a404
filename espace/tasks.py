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
