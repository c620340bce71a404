"""Client address behind trusted proxies (SEC-3, SEC-4) and the beat heartbeat."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from audit.models import AuditEvent
from espace.tasks import heartbeat
from tests.personas import PASSWORD


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_the_address_behind_one_proxy_comes_from_x_forwarded_for(alice) -> None:  # type: ignore[no-untyped-def]
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")
    client.post("/connexion/", {"identifier": "alice", "password": PASSWORD})
    client.post("/connexion/code/", {"code": "000000"})
    event = AuditEvent.objects.get(code="login.code_failed")
    assert (
        event.remote_addr == "203.0.113.5"
    )  # the proxy's view, not the forgeable left


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_lockout_is_per_client_behind_the_proxy(alice) -> None:  # type: ignore[no-untyped-def]
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5")
    for _ in range(5):
        attacker.post(
            "/connexion/", {"identifier": "alice", "password": "wrong-password-1"}
        )
    assert (
        attacker.post(
            "/connexion/", {"identifier": "alice", "password": PASSWORD}
        ).status_code
        == 429
    )
    victim = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert (
        victim.post(
            "/connexion/", {"identifier": "alice", "password": PASSWORD}
        ).status_code
        == 302
    )


@pytest.mark.django_db
def test_without_trusted_proxies_the_header_is_ignored(alice) -> None:  # type: ignore[no-untyped-def]
    client = Client(REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    client.post("/connexion/", {"identifier": "alice", "password": PASSWORD})
    client.post("/connexion/code/", {"code": "000000"})
    assert (
        AuditEvent.objects.get(code="login.code_failed").remote_addr == "198.51.100.9"
    )


@pytest.mark.django_db
def test_healthz_shows_the_last_heartbeat(client: Client) -> None:
    from django.core.cache import cache

    cache.delete("celery:heartbeat")
    assert client.get("/healthz").json()["heartbeat"] == {"seen": False}
    heartbeat.delay()  # eager in tests: runs here
    beat = client.get("/healthz").json()["heartbeat"]
    assert beat["seen"] is True and beat["age_s"] <= 2
