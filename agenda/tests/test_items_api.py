"""The calendar API (AG-1, AG-2; SPEC §8): the same policy and audit as the
pages; another's profile → 404 (audited), bad input → 400 in French."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from agenda.models import DoneMark
from audit.models import AuditEvent
from espace.models import Beneficiary, User

pytestmark = pytest.mark.django_db
ITEMS = reverse("agenda-api:item-list")


def _done_url(key: str) -> str:
    return reverse("agenda-api:item-done", kwargs={"key": key})


def test_ag1_items_of_the_holder_and_of_her_child(
    alice: User, alice_dmp: Beneficiary, leo_dmp: Beneficiary, client_for: Any
) -> None:
    client = client_for(alice)
    own = client.get(ITEMS).json()
    assert own["profile"] == alice_dmp.pk
    bilan = next(i for i in own["items"] if i["key"] == "BILAN-45-50")
    assert bilan["status"] == "due" and bilan["window_start"] == "2024-03-14"
    assert bilan["window_end"] == "2030-03-13"
    assert bilan["source_text"].startswith("Mon bilan prévention")
    child = client.get(ITEMS, {"profile": leo_dmp.pk}).json()
    assert child["profile"] == leo_dmp.pk
    assert any(i["key"] == "EXS-A11" for i in child["items"])
    codes = list(AuditEvent.objects.order_by("seq").values_list("code", flat=True))[-2:]
    assert codes == ["agenda.calendar.read:self", "agenda.calendar.read:representative"]


def test_sec1_another_profile_missing_or_not_is_the_same_404(
    eve: User, eve_dmp: Beneficiary, leo_dmp: Beneficiary, client_for: Any
) -> None:
    client = client_for(eve)
    refused = client.get(ITEMS, {"profile": leo_dmp.pk})
    missing = client.get(ITEMS, {"profile": 987654})
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None and last.code == "agenda.calendar.read:refused.not_related"
    assert last.patient_id == leo_dmp.pk


def test_sec8_a_bad_profile_is_a_400_in_french(
    alice: User, alice_dmp: Beneficiary, client_for: Any
) -> None:
    answer = client_for(alice).get(ITEMS, {"profile": "abc"})
    assert answer.status_code == 400
    assert "identifiant" in answer.json()["profile"][0]


def test_ag2_mark_done_and_undo_through_the_api(
    alice: User, leo_dmp: Beneficiary, client_for: Any
) -> None:
    client = client_for(alice)
    done = client.post(
        _done_url("VAC-DTCAP-11"),
        {"profile": leo_dmp.pk, "done_on": "2026-09-01", "performer": "Dr Martin"},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "done" and done.json()["performer"] == "Dr Martin"
    bad = client.post(
        _done_url("VAC-DTCAP-11"),
        {"profile": leo_dmp.pk, "done_on": "01/09/2026"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "AAAA-MM-JJ" in bad.json()["done_on"][0]
    future = client.post(
        _done_url("VAC-DTCAP-11"),
        {"profile": leo_dmp.pk, "done_on": "2099-09-01"},
        content_type="application/json",
    )
    assert future.status_code == 400
    assert future.json()["done_on"] == ["La date est dans le futur."]
    undo = client.post(
        reverse("agenda-api:item-undo", kwargs={"key": "VAC-DTCAP-11"}),
        {"profile": leo_dmp.pk},
        content_type="application/json",
    )
    assert undo.status_code == 204
    assert not DoneMark.objects.exists()


def test_sec1_professionals_get_404_even_naming_their_patient(
    bob: User, alice_dmp: Beneficiary, client_for: Any
) -> None:
    client = client_for(bob)
    assert client.get(ITEMS, {"profile": alice_dmp.pk}).status_code == 404
    answer = client.post(
        _done_url("BILAN-45-50"),
        {"profile": alice_dmp.pk, "done_on": "2026-09-01"},
        content_type="application/json",
    )
    assert answer.status_code == 404
    assert not DoneMark.objects.exists()


def test_the_schema_documents_the_agenda_api(client: Any) -> None:
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    assert "/api/v1/agenda/items/" in schema["paths"]
    assert "/api/v1/agenda/items/{key}/done/" in schema["paths"]
