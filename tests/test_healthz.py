"""GET /healthz: database, broker and storage, 200 or 503, no secrets (issue 2)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from lib import health


@pytest.mark.django_db
def test_it_reports_every_part_healthy(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "storage"}
    assert all(check["ok"] for check in body["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_a_failing_part_gives_503_without_details(
    client: Client, monkeypatch: Any
) -> None:
    def broken() -> None:
        raise ConnectionError("redis://:s3cr3t@10.0.0.1:6379 refused")

    monkeypatch.setitem(health.CHECKS, "broker", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False}
    assert b"s3cr3t" not in response.content


@pytest.mark.django_db
def test_the_broker_check_talks_to_redis(client: Client, redis_url: str) -> None:
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = redis_url
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = previous
    assert response.json()["checks"]["broker"]["ok"] is True


@pytest.mark.django_db
def test_an_unreachable_broker_is_reported(client: Client) -> None:
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 503


def test_healthz_only_answers_get(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
