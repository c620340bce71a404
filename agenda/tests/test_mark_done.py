"""Mark done and undo (AG-2): the patient side only, through consent.policy,
one audit entry per decision, the free text encrypted at rest, documents
only the actor may read; other people's → 404 (SEC-1, G-S12, SEC-5)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from agenda import selectors, services
from agenda.models import DoneMark
from audit.models import AuditEvent
from dmp.services import document_deposit
from espace.models import Beneficiary, User
from espace.views import PROFILE
from tests.files import pdf_bytes

pytestmark = pytest.mark.django_db
BILAN = "BILAN-45-50"  # alice (born 1979) is 47: due now


def _entries(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=since).order_by("seq"))


def _last() -> int:
    return (
        AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    )


def _document(actor: User, patient: Beneficiary, **fields: Any) -> Any:
    return document_deposit(
        actor=actor,
        patient=patient,
        stream=io.BytesIO(pdf_bytes()),
        title="Certificat de vaccination",
        type_code="11502-2" if actor.role == User.Role.PROFESSIONAL else "DOCPAT05",
        file_name="vaccin.pdf",
        **fields,
    )


def test_ag2_the_holder_marks_an_item_done_with_who_and_a_document(
    alice: User, alice_dmp: Beneficiary
) -> None:
    document = _document(alice, alice_dmp)
    since = _last()
    mark = services.calendar_item_mark_done(
        actor=alice,
        patient=alice_dmp,
        key=BILAN,
        done_on=dt.date(2026, 10, 2),
        performer="Pharmacie du Centre, Reims",
        document=document.pk,
    )
    (entry,) = _entries(since)
    assert entry.code == "agenda.item.done:self"
    assert entry.patient_id == alice_dmp.pk
    assert entry.target_id == str(mark.pk)
    assert "Pharmacie" not in str(entry.__dict__)
    cal = selectors.calendar_get_for(actor=alice, patient=alice_dmp)
    item = cal.get(BILAN)
    assert item is not None and item.status == "done"
    assert item.done_on == dt.date(2026, 10, 2)
    assert item.performer == "Pharmacie du Centre, Reims"
    assert item.done is not None and item.done.document_id == document.pk


def test_sec5_who_did_it_is_encrypted_at_rest(
    alice: User, alice_dmp: Beneficiary
) -> None:
    services.calendar_item_mark_done(
        actor=alice,
        patient=alice_dmp,
        key=BILAN,
        done_on=dt.date(2026, 10, 2),
        performer="Docteur Secretissime",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT performer FROM agenda_donemark")
        (raw,) = cursor.fetchone()
    assert "Secretissime" not in raw


def test_ag2_marking_again_changes_the_mark_and_undo_removes_it(
    alice: User, alice_dmp: Beneficiary
) -> None:
    for day in (dt.date(2026, 10, 2), dt.date(2026, 10, 5)):
        services.calendar_item_mark_done(
            actor=alice, patient=alice_dmp, key=BILAN, done_on=day
        )
    assert DoneMark.objects.get().done_on == dt.date(2026, 10, 5)
    since = _last()
    assert services.calendar_item_undo(actor=alice, patient=alice_dmp, key=BILAN)
    assert not DoneMark.objects.exists()
    assert [e.code for e in _entries(since)] == ["agenda.item.undo:self"]
    # again: nothing to undo, still one audited decision
    assert not services.calendar_item_undo(actor=alice, patient=alice_dmp, key=BILAN)
    assert len(_entries(since)) == 2


def test_cons7_a_parent_marks_their_childs_vaccine(
    alice: User, leo_dmp: Beneficiary
) -> None:
    since = _last()
    services.calendar_item_mark_done(
        actor=alice, patient=leo_dmp, key="VAC-DTCAP-11", done_on=dt.date(2026, 9, 1)
    )
    (entry,) = _entries(since)
    assert entry.code == "agenda.item.done:representative"
    assert entry.patient_id == leo_dmp.pk


@pytest.mark.parametrize(
    ("done_on", "key", "field"),
    [
        (dt.date(2030, 1, 1), BILAN, "done_on"),  # in the future
        (dt.date(1970, 1, 1), BILAN, "done_on"),  # before the birth
        (None, BILAN, "done_on"),
        (dt.date(2026, 1, 1), "VAC-HEXA-1", None),  # not in her calendar
        (dt.date(2026, 1, 1), "nimporte_quoi", None),
    ],
)
def test_sec8_bad_input_is_refused_audited_and_nothing_written(
    alice: User, alice_dmp: Beneficiary, done_on: Any, key: str, field: str | None
) -> None:
    since = _last()
    with pytest.raises(ValidationError) as error:
        services.calendar_item_mark_done(
            actor=alice, patient=alice_dmp, key=key, done_on=done_on
        )
    if field:
        assert field in error.value.message_dict
    assert not DoneMark.objects.exists()
    (entry,) = _entries(since)
    assert entry.code == "agenda.item.done:refused.invalid"


def test_sec8_who_did_it_is_limited(alice: User, alice_dmp: Beneficiary) -> None:
    with pytest.raises(ValidationError):
        services.calendar_item_mark_done(
            actor=alice,
            patient=alice_dmp,
            key=BILAN,
            done_on=dt.date(2026, 1, 20),
            performer="x" * 201,
        )


def test_cons7_a_document_hidden_from_representatives_cannot_be_linked(
    alice: User, leo_dmp: Beneficiary, alice_dmp: Beneficiary, bob: User
) -> None:
    """Only documents the actor may read, through consent.policy: not a
    document of another person, not one hidden from the parents."""
    from consent.models import CareRelationship

    CareRelationship.objects.create(
        patient=leo_dmp, professional=bob.professional, kind="consent"
    )
    secret = _document(bob, leo_dmp, invisible_representatives=True)
    of_alice = _document(alice, alice_dmp)
    for document in (secret, of_alice):
        with pytest.raises(ValidationError) as error:
            services.calendar_item_mark_done(
                actor=alice,
                patient=leo_dmp,
                key="VAC-DTCAP-11",
                done_on=dt.date(2026, 9, 1),
                document=document.pk,
            )
        assert "document" in error.value.message_dict
    assert not DoneMark.objects.exists()


def test_sec1_another_person_or_a_professional_is_refused_and_audited(
    alice: User, alice_dmp: Beneficiary, eve: User, bob: User
) -> None:
    for actor in (eve, bob):
        since = _last()
        with pytest.raises(PermissionDenied):
            services.calendar_item_mark_done(
                actor=actor, patient=alice_dmp, key=BILAN, done_on=dt.date(2026, 1, 20)
            )
        with pytest.raises(PermissionDenied):
            services.calendar_item_undo(actor=actor, patient=alice_dmp, key=BILAN)
        entries = _entries(since)
        assert len(entries) == 2
        assert all(":refused." in e.code for e in entries)
        assert all(e.patient_id == alice_dmp.pk for e in entries)
    assert not DoneMark.objects.exists()


def test_sec1_reading_another_calendar_is_a_404_audited_as_refused(
    alice_dmp: Beneficiary, eve: User, bob: User
) -> None:
    from django.http import Http404

    for actor, why in ((eve, "not_related"), (bob, "patient_side_only")):
        since = _last()
        with pytest.raises(Http404):
            selectors.calendar_get_for(actor=actor, patient=alice_dmp)
        (entry,) = _entries(since)
        assert entry.code == f"agenda.calendar.read:refused.{why}"
    with pytest.raises(Http404):
        selectors.calendar_get_for(actor=eve, patient=999999)


# ------------------------------------------------------------------ pages
def _as_parent(client: Any, child: Beneficiary) -> Any:
    session = client.session
    session[PROFILE] = child.pk
    session.save()
    return client


def test_ag1_the_agenda_page_groups_items(
    alice: User, alice_dmp: Beneficiary, client_for: Any
) -> None:
    client = client_for(alice)
    since = _last()
    page = client.get(reverse("agenda:calendar"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Mon agenda" in body
    for title in ("En retard", "À faire maintenant", "À venir", "Fait"):
        assert title in body
    assert "Mon bilan prévention (45-50 ans)" in body
    assert [e.code for e in _entries(since)] == ["agenda.calendar.read:self"]


def test_ag2_a_parent_marks_done_from_the_page_and_sees_it_in_the_record(
    alice: User, leo_dmp: Beneficiary, client_for: Any
) -> None:
    client = _as_parent(client_for(alice), leo_dmp)
    url = reverse("agenda:item-done", kwargs={"key": "VAC-DTCAP-11"})
    form = client.get(url)
    assert form.status_code == 200 and "Rappel dTcaP" in form.content.decode()
    bad = client.post(url, {"done_on": "2099-01-01"})
    assert bad.status_code == 400
    assert "La date est dans le futur." in bad.content.decode()
    done = client.post(url, {"done_on": "2026-09-01", "performer": "Dr Martin"})
    assert done.status_code == 302
    record = client.get(reverse("agenda:vaccinations")).content.decode()
    assert "Agenda de Leo" in record and "Fait le 01/09/2026" in record
    assert "Dr Martin" in record
    client.post(reverse("agenda:item-undo", kwargs={"key": "VAC-DTCAP-11"}))
    assert not DoneMark.objects.exists()


def test_sec1_professionals_and_agents_get_the_patient_pages_404(
    bob: User, agnes: User, client_for: Any
) -> None:
    for user in (bob, agnes):
        assert client_for(user).get(reverse("agenda:calendar")).status_code == 404
