"""Production settings and HTTP security (SEC-7)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, RequestFactory

from lib.errors import server_error

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "False",
    "HTTPS": "True",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "monespacesante.example",
    "ENCRYPTION_KEYS": "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "AUDIT_CHAIN_KEY": secrets.token_urlsafe(32),
    "CODE_HASH_KEY": secrets.token_urlsafe(32),
    # The suite does not run collectstatic: serve static files from the apps.
    "STATIC_COLLECTED": "False",
}
_SECRETS = ("SECRET_KEY", "ENCRYPTION_KEYS", "AUDIT_CHAIN_KEY", "CODE_HASH_KEY")


def _production(*args: str) -> subprocess.CompletedProcess[str]:
    drop = {*PRODUCTION_ENV, *_SECRETS, "DEV_SECRETS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(PRODUCTION_ENV)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _production("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 silenced" in result.stdout


def test_production_refuses_to_start_without_secrets() -> None:
    env_backup = dict(PRODUCTION_ENV)
    PRODUCTION_ENV.pop("SECRET_KEY")
    try:
        result = _production("manage.py", "check")
    finally:
        PRODUCTION_ENV.update(env_backup)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_production_responses_carry_the_security_headers() -> None:
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/connexion/', secure=True, HTTP_HOST='monespacesante.example');"
        "print(r.status_code);"
        "[print(h + ': ' + r.get(h, '')) for h in ('Strict-Transport-Security',"
        "'Content-Security-Policy','X-Content-Type-Options','Referrer-Policy',"
        "'X-Frame-Options')];"
        "print('csrf: ' + str(r.cookies['csrftoken']))"
    )
    result = _production("-c", script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == "200"
    assert (
        "Strict-Transport-Security: max-age=63072000; includeSubDomains; preload" in out
    )
    assert "default-src 'self'" in out and "frame-ancestors 'none'" in out
    assert "X-Content-Type-Options: nosniff" in out
    assert "Referrer-Policy: same-origin" in out
    assert "X-Frame-Options: DENY" in out
    assert "Secure" in out and "HttpOnly" in out


def test_plain_http_is_redirected_to_https_in_production() -> None:
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/connexion/', HTTP_HOST='monespacesante.example');"
        "print(r.status_code, r['Location'])"
    )
    result = _production("-c", script)
    assert result.stdout.strip() == "301 https://monespacesante.example/connexion/"


@pytest.mark.django_db
def test_pages_allow_no_inline_script_or_style(client: Client) -> None:
    response = client.get("/connexion/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp or csp.endswith("script-src 'self'")
    assert "style-src 'self'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "<script>" not in response.content.decode()


@pytest.mark.django_db
def test_session_cookies_are_http_only(client: Client, alice) -> None:  # type: ignore[no-untyped-def]
    from tests.personas import PASSWORD

    response = client.post("/connexion/", {"identifier": "alice", "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_error_pages_are_in_french_and_never_debug(client: Client) -> None:
    missing = client.get("/nulle-part/")
    assert missing.status_code == 404
    assert "Page introuvable" in missing.content.decode()
    crashed = server_error(RequestFactory().get("/"))
    assert crashed.status_code == 500
    assert "Erreur inattendue" in crashed.content.decode()
    assert "Traceback" not in crashed.content.decode()


@pytest.mark.django_db
def test_a_portal_405_is_a_french_page_and_the_api_keeps_json(
    client_for: Any, alice: Any
) -> None:
    """A link followed to a URL that only takes a form: a page, not a blank."""
    from django.urls import reverse

    client = client_for(alice)
    page = client.get(reverse("prevention:preferences"))
    assert page.status_code == 405
    assert "Action impossible depuis cette adresse" in page.content.decode()
    assert "POST" in page["Allow"]
    api = client.post(reverse("espace-api:me-detail"))
    assert api.status_code == 405 and api["Content-Type"].startswith("application/json")
