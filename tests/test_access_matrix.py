"""Every URL pattern × every persona → the expected answer (SEC-1, STYLE R12).

A new route fails this test until it is declared below with its expected
status for each persona. Admin routes are declared once, as a rule, and
checked on the admin index and every registered model's pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

PERSONAS = ("anonymous", "pending", "alice", "bob", "agnes")
# pending: password given, second factor not yet (must be treated as anonymous)


def _all(status: int) -> dict[str, int]:
    return dict.fromkeys(PERSONAS, status)


def _by(
    anon: int, alice: int, bob: int, agnes: int, pending: int | None = None
) -> dict[str, int]:
    return {
        "anonymous": anon,
        "pending": anon if pending is None else pending,
        "alice": alice,
        "bob": bob,
        "agnes": agnes,
    }


# name -> (kwargs for reverse, method, {persona: status})
MATRIX: dict[str, tuple[dict[str, str], str, dict[str, int]]] = {
    "healthz": ({}, "get", _all(200)),
    "api-schema": ({}, "get", _all(200)),
    "api-schema-current": ({}, "get", _all(200)),
    "espace-api:me-detail": ({}, "get", _by(401, 200, 200, 200)),
    # documents API (SPEC §8): alice's DMP is not open here, bob must name a
    # patient (400), agents have none; POST-only routes answer GET with 405
    "dmp-api:document-list": ({}, "get", _by(401, 404, 400, 404)),
    "dmp-api:document-detail": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _by(401, 404, 404, 404),
    ),
    "dmp-api:document-download": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _by(401, 404, 404, 404),
    ),
    "dmp-api:document-mask": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _by(401, 405, 405, 405),
    ),
    "dmp-api:document-mask-all": ({}, "get", _by(401, 405, 405, 405)),
    "espace:home": ({}, "get", _by(200, 302, 302, 302)),
    "espace:login": ({}, "get", _all(200)),
    "espace:login-code": ({}, "get", _by(302, 302, 302, 302, pending=200)),
    "espace:login-code-email": ({}, "get", _all(405)),
    "espace:login-code-email-entry": ({}, "get", _all(302)),
    # pending here is a patient: she uses her e-mailed code, never enrolment
    "espace:totp-enrol": ({}, "get", _by(302, 200, 200, 200, pending=302)),
    "espace:logout": ({}, "get", _all(405)),
    "espace:password-reset": ({}, "get", _all(200)),
    "espace:password-reset-done": ({}, "get", _all(200)),
    "espace:password-reset-confirm": (
        {"uidb64": "MQ", "token": "bad-token"},
        "get",
        _all(200),  # "lien invalide" page
    ),
    "espace:password-reset-complete": ({}, "get", _all(200)),
    "espace:patient-home": ({}, "get", _by(302, 200, 404, 404)),
    "espace:inbox": ({}, "get", _by(302, 200, 404, 404)),
    # journeys (LC-3, LC-4, LC-6, LC-8): public forms, then session-bound steps
    "espace:activation": ({}, "get", _all(200)),
    "espace:activation-account": ({}, "get", _all(302)),
    "espace:opposition": ({}, "get", _all(200)),
    "espace:opposition-confirm": ({}, "get", _all(302)),
    "espace:opposition-done": ({}, "get", _all(302)),
    "espace:opposition-receipt": ({}, "get", _all(404)),
    "espace:new-code": ({}, "get", _all(200)),
    "espace:space-close": ({}, "get", _by(302, 200, 404, 404)),
    "espace:space-closed-info": ({}, "get", _all(200)),
    "espace:space-reopen": ({}, "get", _by(302, 302, 404, 404)),
    # children (LC-10): POST-only switches and answers; another profile is a 404
    "espace:profile-switch": ({"pk": "999999"}, "get", _all(405)),
    "espace:profile-share": ({"pk": "999999"}, "get", _by(302, 404, 404, 404)),
    "espace:invitation-accept": ({"pk": "999999"}, "get", _all(405)),
    "espace:invitation-refuse": ({"pk": "999999"}, "get", _all(405)),
    "espace:pro-home": ({}, "get", _by(302, 404, 200, 404)),
    # privacy pages (CONS-2, CONS-4, CONS-5, CONS-6): the patient side of an
    # open DMP only; alice's persona here has none, so she gets the 404 of a
    # refusal (her own pages answer 200 in consent/tests/test_views.py)
    "consent:professionals": ({}, "get", _by(302, 404, 404, 404)),
    "consent:professional-block": ({}, "get", _all(405)),
    "consent:professional-unblock": ({"pk": "999999"}, "get", _all(405)),
    "consent:care-revoke": ({"pk": "999999"}, "get", _all(405)),
    "consent:privacy": ({}, "get", _by(302, 404, 404, 404)),
    "consent:history": ({}, "get", _by(302, 404, 404, 404)),
    "consent:history-csv": ({}, "get", _by(302, 404, 404, 404)),
    "consent:history-pdf": ({}, "get", _by(302, 404, 404, 404)),
    "consent-api:history-list": ({}, "get", _by(401, 404, 404, 404)),
    "consent-api:block-list": ({}, "get", _by(401, 404, 404, 404)),
    "consent-api:block-delete": (
        {"rpps": "99700000013"},
        "get",
        _by(401, 405, 405, 405),
    ),
    "dmp:document-preview": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _by(302, 404, 404, 404),
    ),
    "dmp:document-download": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _by(302, 404, 404, 404),
    ),
    # professional portal (CONS-1, CONS-6): professionals only; a patient
    # neither found nor in care, like a missing one, is a 404
    "pro:patient-search": ({}, "get", _by(302, 404, 200, 404)),
    "pro:patient": ({"pk": "999999"}, "get", _by(302, 404, 404, 404)),
    "pro:care-declare": ({"pk": "999999"}, "get", _all(405)),
    "pro:emergency": ({"pk": "999999"}, "get", _by(302, 404, 404, 404)),
    "pro:document-deposit": ({"pk": "999999"}, "get", _by(302, 404, 404, 404)),
    "pro:yearly-summary": ({"pk": "999999"}, "get", _by(302, 404, 404, 404)),
    "pro:document-detail": (
        {"pk": "999999", "doc": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _by(302, 404, 404, 404),
    ),
    "pro:document-replace": (
        {"pk": "999999", "doc": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _by(302, 404, 404, 404),
    ),
    "pro:document-announce": (
        {"pk": "999999", "doc": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _all(405),
    ),
    "pro:document-delete": (
        {"pk": "999999", "doc": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _all(405),
    ),
    "pro:alerts": ({}, "get", _by(302, 404, 200, 404)),
    # DMP-6, DMP-7: the medical profile and the administrative data of the
    # active profile; alice has no open DMP here (404, as for another's
    # object); POST-only writes answer 405 to a GET.
    "profil:overview": ({}, "get", _by(302, 404, 404, 404)),
    "profil:entry-add": ({"section": "allergies"}, "get", _by(302, 404, 404, 404)),
    "profil:entry-edit": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _by(302, 404, 404, 404),
    ),
    # the patient's documents pages (DMP-1, DMP-5, DMP-8): alice has no DMP
    # here (no space), so she gets the "DMP not open" page, not an error
    "dmp:documents": ({}, "get", _by(302, 200, 404, 404)),
    "dmp:document-add": ({}, "get", _by(302, 200, 404, 404)),
    "dmp:document-detail": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _by(302, 404, 404, 404),
    ),
    "profil:entry-delete": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _by(302, 404, 404, 404),
    ),
    "profil:entry-history": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _by(302, 404, 404, 404),
    ),
    "profil:organ-donation": ({}, "get", _all(405)),
    "profil:copy-pdf": ({}, "get", _all(405)),
    "profil:measures": ({}, "get", _by(302, 404, 404, 404)),
    "profil:measure-add": ({}, "get", _all(405)),
    "profil:measure-delete": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _all(405),
    ),
    "dmp:documents-mask-all": ({}, "get", _all(405)),
    "dmp:documents-unmask-all": ({}, "get", _all(405)),
    "dmp:document-mask": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _all(405),
    ),
    "dmp:document-unmask": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _all(405),
    ),
    "dmp:document-delete": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _all(405),
    ),
    "dmp:document-move": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _all(405),
    ),
    "dmp:folder-create": ({}, "get", _all(405)),
    "dmp:folder-rename": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _all(405),
    ),
    "dmp:folder-delete": (
        {"pk": "6f1c1b9e-0000-4000-8000-000000000001"},
        "get",
        _all(405),
    ),
    "profil:admin-data": ({}, "get", _by(302, 404, 404, 404)),
    # without ?patient=: a 400 once past both factors
    "profil-api:profile-detail": ({}, "get", _by(401, 400, 400, 400)),
}

ADMIN_RULE = _by(302, 302, 302, 200)


def _patterns(resolver: URLResolver, namespace: str = "") -> Iterator[str]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, inner)
        elif isinstance(entry, URLPattern):
            yield (
                f"{namespace}{entry.name}"
                if entry.name
                else f"{namespace}<unnamed {entry.pattern}>"
            )


def test_every_url_pattern_is_declared() -> None:
    names = set(_patterns(get_resolver()))
    undeclared = sorted(
        n for n in names if n not in MATRIX and not n.startswith("admin:")
    )
    assert undeclared == [], f"declare these routes in MATRIX: {undeclared}"
    stale = sorted(set(MATRIX) - names)
    assert stale == [], f"routes declared but gone: {stale}"


@pytest.fixture
def clients(alice: Any, bob: Any, agnes: Any, client_for: Any) -> dict[str, Client]:
    from tests.personas import PASSWORD

    pending = Client()
    pending.post(reverse("espace:login"), {"identifier": "alice", "password": PASSWORD})
    return {
        "anonymous": Client(),
        "pending": pending,
        "alice": client_for(alice),
        "bob": client_for(bob),
        "agnes": client_for(agnes),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_route_answers_each_persona_as_declared(
    name: str, clients: dict[str, Client]
) -> None:
    kwargs, method, expected = MATRIX[name]
    url = reverse(name, kwargs=kwargs)
    got = {
        persona: getattr(clients[persona], method)(url).status_code
        for persona in PERSONAS
    }
    assert got == expected


def _admin_urls(agent: Any) -> list[tuple[str, int]]:
    """(url, status expected for the agent): add pages of read-only models are 403."""
    request = RequestFactory().get("/")
    request.user = agent
    urls = [(reverse("admin:index"), 200)]
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        urls.append(
            (reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"), 200)
        )
        can_add = model_admin.has_add_permission(request)
        urls.append(
            (
                reverse(f"admin:{meta.app_label}_{meta.model_name}_add"),
                200 if can_add else 403,
            )
        )
    return urls


@pytest.mark.django_db
def test_admin_pages_answer_agents_only(clients: dict[str, Client], agnes: Any) -> None:
    for url, agent_status in _admin_urls(agnes):
        got = {persona: clients[persona].get(url).status_code for persona in PERSONAS}
        assert got == {**ADMIN_RULE, "agnes": agent_status}, url
