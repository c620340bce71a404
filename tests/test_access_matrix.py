"""Every URL × every persona → the expected answer and its audit entry
(G-S1, G-S12, SEC-1, STYLE R12).

A new route fails `test_every_url_pattern_is_declared` until it is declared
in tests/matrix_data.py with its expected status for each persona (written
by hand, never computed from the policy). Each cell is its own test, in a
world built afresh (tests/matrix_world.py): alice's open DMP with real
documents, folder, profile entry and measure, her child's and her former
child's. Admin routes are declared once, as a rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.test import Client, RequestFactory, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from audit.models import AuditEvent
from tests.http import page_body
from tests.matrix_data import ARGS, BASIS, GATE_OF, NO_POST, ROUTES, Route, row
from tests.matrix_valid import VALID
from tests.matrix_world import (
    MISSING_ID,
    MISSING_UUID,
    PERSONAS,
    World,
    build_world,
    client_of,
    make_personas,
)


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
        n for n in names if n not in ROUTES and not n.startswith("admin:")
    )
    assert undeclared == [], f"declare these routes in ROUTES: {undeclared}"
    stale = sorted(set(ROUTES) - names)
    assert stale == [], f"routes declared but gone: {stale}"
    assert set(ARGS) <= set(ROUTES)


def _storage(location: Path) -> dict[str, Any]:
    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": "lib.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }


@pytest.fixture(scope="module")
def _world(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[tuple[World, Path]]:
    """The world, built once for this module inside a transaction that is
    rolled back at the end; each test runs in a savepoint of it (pytest-
    django's `db`), so every cell starts from the same fresh world, as with
    Django's setUpTestData. Its files live in their own folder."""
    files = tmp_path_factory.mktemp("matrix-files")
    with (
        django_db_blocker.unblock(),
        override_settings(STORAGES=_storage(files)),
        transaction.atomic(),
    ):
        yield build_world(make_personas()), files
        transaction.set_rollback(True)


@pytest.fixture
def world(_world: tuple[World, Path], db: Any, settings: Any) -> World:
    """The module's world, its files where this test's storage looks."""
    built, files = _world
    settings.STORAGES = _storage(files)
    return built


def _url(world: World, name: str, persona: str, *, missing: bool = False) -> str:
    values = world.args(persona)
    if missing:
        values |= {
            "doc": MISSING_UUID,
            "own_doc": MISSING_UUID,
            "folder": MISSING_UUID,
            "entry": MISSING_UUID,
            "measure": MISSING_UUID,
            "patient": MISSING_ID,
            "child": MISSING_ID,
            "block": MISSING_ID,
            "care": MISSING_ID,
            "rpps": "99700009999",
            "campaign": MISSING_UUID,
            "appointment": MISSING_UUID,
            "item_reminder": MISSING_UUID,
            "conversation": MISSING_UUID,
            "attachment": MISSING_UUID,
        }
    return reverse(name, kwargs={k: values[v] for k, v in ARGS.get(name, {}).items()})


def _last_seq() -> int:
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return last or 0


def _audit_problems(
    route: Route, method: str, persona: str, status: int, world: World, since: int
) -> list[str]:
    """G-S12: what the cell's audit entries should have been, if not that."""
    events = list(AuditEvent.objects.filter(seq__gt=since).order_by("seq"))
    got = [(e.patient_id, e.code, e.outcome) for e in events]
    expected = route.audit(method, persona, status)
    if expected is None:
        return [] if not events else [f"no entry expected, got {got}"]
    count, refused = expected
    if route.kind_of(method) == "auth":  # login events: no patient, no basis
        ok = len(events) == count and all(e.patient_id is None for e in events)
        return [] if ok else [f"{count} entries without patient expected: {got}"]
    basis = BASIS.get(persona, "")
    if route.on == "profile":
        patient = world.acting_for(persona)
    elif route.on == "own" and GATE_OF[persona] == "pro":
        patient = world.patient(persona)  # a professional's own list
    elif route.on == "own":
        patient, basis = world.users[persona].beneficiary, "self"
    elif route.on == "alice":
        patient = world.objects["alice"].patient
    else:
        patient = world.patient(persona)
    if len(events) != count:
        return [f"{count} entries expected, got {got}"]
    problems = []
    for event in events:
        if event.patient_id != patient.pk:
            problems.append(f"patient {event.patient_id} instead of {patient.pk}")
        if refused:
            if event.outcome != AuditEvent.Outcome.MINOR_FAILURE or (
                ":refused." not in event.code
            ):
                problems.append(f"a refusal expected, got {got}")
        elif event.outcome != AuditEvent.Outcome.SUCCESS or (
            route.tagged
            and not event.code.endswith(f":{basis}")
            and not event.code.endswith(":in_care")  # a list of those in care
        ):
            problems.append(f"success as {basis} expected, got {got}")
    return problems


def _check_cell(
    world: World,
    name: str,
    method: str,
    persona: str,
    route: Route | None = None,
    data: dict[str, Any] | None = None,
    multipart: bool = True,
) -> None:
    route = route or ROUTES[name]
    expected = route.expected(method)[persona]
    client = client_of(world, persona)
    url = _url(world, name, persona)
    since = _last_seq()
    if data is None:
        data = route.data(world, persona)
    if method == "get":
        response = client.get(url)
    elif multipart:
        response = client.post(url, data)
    else:  # an API body
        response = client.post(url, data, content_type="application/json")
    problems = []
    if response.status_code != expected:
        problems.append(f"status {response.status_code} instead of {expected}")
    problems += _audit_problems(
        route, method, persona, response.status_code, world, since
    )
    assert problems == [], f"{method.upper()} {name} as {persona}: {problems}"


GET_CELLS = [(name, persona) for name in sorted(ROUTES) for persona in PERSONAS]
# POST cells for the routes that take one (a GET-only route's 405 is
# Django's require_GET, the same for everyone)
POST_CELLS = [
    (name, persona)
    for name in sorted(ROUTES)
    if ROUTES[name].post not in (None, NO_POST)
    for persona in PERSONAS
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "persona"), GET_CELLS)
def test_sec1_get_answers_each_persona_as_declared(
    name: str, persona: str, world: World
) -> None:
    _check_cell(world, name, "get", persona)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "persona"), POST_CELLS)
def test_sec1_post_answers_each_persona_as_declared(
    name: str, persona: str, world: World
) -> None:
    _check_cell(world, name, "post", persona)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "persona"),
    [
        (n, p)
        for n in sorted(VALID)
        for p in PERSONAS
        if p in (VALID[n].personas or PERSONAS)
    ],
)
def test_sec1_valid_forms_answer_each_persona_as_declared(
    name: str, persona: str, world: World
) -> None:
    """A complete, valid form: no unexpected success (tests/matrix_valid.py)."""
    valid = VALID[name]
    _check_cell(
        world,
        name.partition("@")[0],
        "post",
        persona,
        route=valid.route,
        data=valid.build(world, persona),
        multipart=valid.multipart,
    )


def test_every_write_refusing_an_empty_form_is_posted_a_valid_one() -> None:
    """Where an empty form answers 400, the valid form is in the table too."""
    answering_400 = {
        name
        for name, route in ROUTES.items()
        if route.post is not None and 400 in route.post.values()
    }
    assert answering_400 - {name.partition("@")[0] for name in VALID} == set()


# CONS-2: DELETE is the block API's only write method; alice's block of dora
# (the API acts on the holder's own record: alice whatever profile she chose)
BLOCK_DELETE = row(
    anon=401,
    patients=404,
    pros=404,
    agent=404,
    patient=204,
    parent=204,
    former_parent=204,
)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_cons2_block_api_delete_answers_each_persona_as_declared(
    persona: str, world: World
) -> None:
    client = client_of(world, persona)
    since = _last_seq()
    response = client.delete(_url(world, "consent-api:block-delete", persona))
    assert response.status_code == BLOCK_DELETE[persona]
    events = list(AuditEvent.objects.filter(seq__gt=since))
    codes = [e.code for e in events]
    if BLOCK_DELETE[persona] == 204:
        assert codes == ["consent.unblock:self"]
    elif GATE_OF[persona] == "patient":
        # no block of dora on their own record: nothing to unblock
        assert all(":refused." in c for c in codes), codes
    else:
        assert codes == []


REFUSED_404 = [
    (name, persona)
    for name in sorted(ARGS)
    for persona in ("other_patient", "not_in_care")
    if ROUTES[name].get[persona] == 404 and GATE_OF[persona] == ROUTES[name].gate
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "persona"), REFUSED_404)
def test_gs1_refused_and_missing_objects_give_the_same_404(
    name: str, persona: str, world: World
) -> None:
    client = client_of(world, persona)
    refused = client.get(_url(world, name, persona))
    missing = client.get(_url(world, name, persona, missing=True))
    assert refused.status_code == missing.status_code == 404
    assert page_body(refused.content) == page_body(missing.content)


# ------------------------------------------------------------------ admin
ADMIN_PERSONAS = ("anonymous", "pending", "patient", "mt", "agent")
ADMIN_RULE = {"anonymous": 302, "pending": 302, "patient": 302, "mt": 302}


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
def test_sec2_admin_pages_answer_agents_only(world: World) -> None:
    clients: dict[str, Client] = {p: client_of(world, p) for p in ADMIN_PERSONAS}
    for url, agent_status in _admin_urls(world.users["agent"]):
        got = {p: clients[p].get(url).status_code for p in ADMIN_PERSONAS}
        assert got == {**ADMIN_RULE, "agent": agent_status}, url


# ------------------------------------------------------------- flagged documents
# The documents the matrix's cells do not name: who sees a masked (DMP-8),
# a withheld (DMP-9) and a minor's secret (CONS-7) document, with the one
# audit entry of each decision (G-S12).
FLAGGED = [
    ("masked", "mt", 200, "medecin_traitant"),
    ("masked", "care", 200, "care_consent"),  # its author
    ("masked", "nurse", 404, "refused"),
    ("masked", "patient", 200, "self"),
    ("withheld", "patient", 404, "refused"),
    ("withheld", "mt", 200, "medecin_traitant"),
    ("secret", "parent", 404, "refused"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("document", "persona", "status", "code"), FLAGGED)
def test_dmp8_dmp9_cons7_flagged_documents_answer_as_declared(
    document: str, persona: str, status: int, code: str, world: World
) -> None:
    owner = "leo" if document == "secret" else "alice"
    pk = world.objects[owner].extra[document].pk
    since = _last_seq()
    response = client_of(world, persona).get(
        reverse("dmp-api:document-detail", kwargs={"pk": pk})
    )
    assert response.status_code == status
    events = list(AuditEvent.objects.filter(seq__gt=since))
    assert [e.patient_id for e in events] == [world.objects[owner].patient.pk]
    suffix = ":refused." if code == "refused" else f":{code}"
    assert suffix in events[0].code
