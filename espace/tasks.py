from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="espace.tasks.heartbeat")
def heartbeat() -> str:
    """Beat → broker → worker round trip; the time lands in var/celery/heartbeat."""
    now = timezone.now().isoformat()
    path = settings.HEARTBEAT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(now, encoding="utf-8")
    logger.info("heartbeat %s", now)
    return now
