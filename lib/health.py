"""GET /healthz: database, broker and storage health (200 or 503, no secrets)."""

from __future__ import annotations

import time
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _storage() -> None:
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            if handle.read() != b"ok":
                raise RuntimeError("storage round trip mismatch")
    finally:
        default_storage.delete(name)


def _heartbeat() -> dict[str, object]:
    """When the beat → worker heartbeat last ran (information, not a check:
    the web answers even while workers restart)."""
    from django.core.cache import cache
    from django.utils.dateparse import parse_datetime

    last = cache.get("celery:heartbeat")
    when = parse_datetime(last) if isinstance(last, str) else None
    if when is None:
        return {"seen": False}
    return {"seen": True, "age_s": round((timezone.now() - when).total_seconds())}


CHECKS = {"database": _database, "broker": _broker, "storage": _storage}


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report: dict[str, object] = {}
    healthy = True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception:
            report[name] = {"ok": False}
            healthy = False
        else:
            report[name] = {
                "ok": True,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            "checks": report,
            "heartbeat": _heartbeat(),
        },
        status=200 if healthy else 503,
    )
