"""Test harness: personas (STYLE R23), real services under CI, browser fixture."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from typing import Any

import pytest

CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop
    if CI:
        database = os.environ.get("DATABASE_URL", "")
        if not database.startswith(("postgres://", "postgresql://")):
            raise pytest.UsageError("CI=true: DATABASE_URL must point at PostgreSQL")
        if not os.environ.get("REDIS_URL"):
            raise pytest.UsageError("CI=true: REDIS_URL must point at Redis")


def _need(what: str, available: bool) -> None:
    """Fail under CI, skip elsewhere, when a real service is missing."""
    if available:
        return
    if CI:
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} not available")


@pytest.fixture
def postgres(db: Any) -> None:
    from django.db import connection

    _need("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    ok = False
    if url:
        import redis

        try:
            ok = bool(redis.Redis.from_url(url, socket_timeout=2).ping())
        except redis.RedisError:
            ok = False
    _need("Redis (REDIS_URL)", ok)
    return url


@pytest.fixture(autouse=True)
def _isolated_files(tmp_path: Any, settings: Any) -> Iterator[None]:
    """Each test gets its own storage folder and outbox (Django resets the
    storage handler when STORAGES changes)."""
    settings.OUTBOX_DIR = tmp_path / "outbox"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "lib.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "files")},
        },
    }
    from django.core.cache import cache

    cache.clear()  # throttles and lockout counters never leak between tests
    yield


@pytest.fixture(autouse=True)
def _access_matrix(request: Any) -> None:
    """Transactional tests (browser journeys, PostgreSQL races) empty every
    table between tests, the reference data their data migrations loaded
    included: load it again, as in a real database (the access matrix,
    CONS-1; the preventive calendar's rules, AG-1)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from agenda.models import Recommendation
    from agenda.rules import rules_load
    from consent.matrix import matrix_load
    from consent.models import AccessRule

    matrix_load(AccessRule)
    rules_load(Recommendation)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    _need("Chromium (/usr/bin/chromium)", os.path.exists(path))
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- personas
# alice: patient (Beneficiary), mother of léo; bob: her médecin traitant;
# charlie: a doctor with no link to alice; nina: a nurse; paul: a pharmacist;
# agnes: an Assurance maladie agent (admin); eve: another patient.
from tests.personas import *  # noqa: E402,F403
