"""AG-2: appointments for oneself or a child, encrypted, audited through
consent.policy, refused to everyone else with the 404 of a missing one;
the pages (list, month, form) and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from agenda.appointment_models import Appointment, ItemReminder
from agenda.appointment_services import AppointmentData, appointment_create
from audit.models import AuditEvent
from espace.views import PROFILE
from tests.personas import verified_client

pytestmark = pytest.mark.django_db
PARIS = dt.timezone(dt.timedelta(hours=1))


def _create(actor: Any, patient: Any, **fields: Any) -> Appointment:
    data = {
        "starts_at": dt.datetime(2026, 12, 3, 14, 30, tzinfo=PARIS),
        "title": "Contrôle dentaire",
        "place": "Cabinet rue Haute",
        "notes": "Apporter la radio",
    } | fields
    appointment = appointment_create(
        actor=actor, patient=patient, data=AppointmentData(**data)
    )
    assert appointment is not None
    return appointment


def _events() -> list[tuple[int | None, str, str]]:
    return list(
        AuditEvent.objects.order_by("seq").values_list("patient_id", "code", "outcome")
    )


def test_ag2_health_text_is_encrypted_at_rest(alice_dmp: Any) -> None:
    appointment = _create(alice_dmp.user, alice_dmp)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT title, place, notes FROM agenda_appointment WHERE id = %s",
            [appointment.pk.hex],  # as stored on SQLite too
        )
        row = cursor.fetchone()
    for stored, plain in zip(
        row,
        ("Contrôle dentaire", "Cabinet rue Haute", "Apporter la radio"),
        strict=True,
    ):
        assert plain not in stored
    fresh = Appointment.objects.get(pk=appointment.pk)
    assert fresh.notes == "Apporter la radio"


def test_ag2_a_parent_adds_a_childs_appointment_through_the_pages(
    alice: Any, leo_dmp: Any, alice_dmp: Any
) -> None:
    client = verified_client(alice)
    session = client.session
    session[PROFILE] = leo_dmp.pk
    session.save()
    response = client.post(
        reverse("rendezvous:create"),
        {
            "day": "2026-12-03",
            "time": "09:15",
            "duration_minutes": "45",
            "title": "Vaccin",
            "professional": "Bob Martin — RPPS 99700000013",
            "place": "Cabinet",
            "notes": "Carnet de santé",
        },
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.beneficiary_id == leo_dmp.pk
    assert appointment.starts_at == dt.datetime(2026, 12, 3, 8, 15, tzinfo=dt.UTC)
    assert _events()[-1][:2] == (leo_dmp.pk, "ag2.appointment.create:representative")
    page = client.get(reverse("rendezvous:detail", args=[appointment.pk]))
    assert "Carnet de santé" in page.content.decode()
    month = client.get(reverse("rendezvous:month") + "?mois=2026-12")
    assert "décembre 2026" in month.content.decode()
    assert "Vaccin" in month.content.decode()


def test_ag2_others_get_the_404_of_a_missing_appointment_and_a_refusal_entry(
    alice_dmp: Any, eve: Any, bob: Any
) -> None:
    appointment = _create(alice_dmp.user, alice_dmp)
    for user in (eve,):
        client = verified_client(user)
        before = AuditEvent.objects.count()
        refused = client.get(reverse("rendezvous:detail", args=[appointment.pk]))
        assert refused.status_code == 404
        (event,) = AuditEvent.objects.order_by("seq")[before:]
        assert event.patient_id == alice_dmp.pk and ":refused." in event.code
    api = verified_client(bob).get(
        reverse("rendezvous-api:appointment-detail", args=[appointment.pk])
    )
    assert api.status_code == 404  # even the médecin traitant: not his agenda


def test_ag2_invalid_input_is_a_400_in_french_with_nothing_written(
    alice_dmp: Any,
) -> None:
    client = verified_client(alice_dmp.user)
    cases = [
        {"day": "2026-13-40", "time": "10:00", "duration_minutes": "30"},
        {"day": "2026-03-29", "time": "02:30", "duration_minutes": "30"},
        {"day": "2026-12-01", "time": "25:00", "duration_minutes": "30"},
        {"day": "2026-12-01", "time": "10:00", "duration_minutes": "7"},
        {
            "day": "2026-12-01",
            "time": "10:00",
            "duration_minutes": "30",
            "notes": "x" * 3000,
        },
    ]
    for data in cases:
        response = client.post(reverse("rendezvous:create"), data)
        assert response.status_code == 400, data
        assert "fr-error-text" in response.content.decode()
    assert Appointment.objects.count() == 0
    bad_month = client.get(reverse("rendezvous:month") + "?mois=2026-13")
    assert bad_month.status_code == 400
    item = client.post(
        reverse("rendezvous:item-reminder"),
        {"item_code": "pas un slug!", "label": "x", "due_on": "2026-12-01"},
    )
    assert item.status_code == 400
    assert ItemReminder.objects.count() == 0


def test_ag2_edit_and_cancel_keep_the_appointment(alice_dmp: Any) -> None:
    appointment = _create(alice_dmp.user, alice_dmp)
    client = verified_client(alice_dmp.user)
    response = client.post(
        reverse("rendezvous:edit", args=[appointment.pk]),
        {
            "day": "2026-12-04",
            "time": "10:00",
            "duration_minutes": "30",
            "title": "Détartrage",
        },
    )
    assert response.status_code == 302
    assert (
        client.post(reverse("rendezvous:cancel", args=[appointment.pk])).status_code
        == 302
    )
    appointment.refresh_from_db()
    assert appointment.is_cancelled and appointment.title == "Détartrage"
    again = client.post(
        reverse("rendezvous:edit", args=[appointment.pk]),
        {"day": "2026-12-05", "time": "10:00", "duration_minutes": "30"},
    )
    assert again.status_code == 400
    assert "annulé" in again.content.decode()
    listing = client.get(reverse("rendezvous:list"))
    assert "Annulé" in listing.content.decode()


def test_ag2_api_create_list_update_cancel(
    alice_dmp: Any, leo_dmp: Any, eve: Any
) -> None:
    alice = alice_dmp.user
    client = verified_client(alice)
    created = client.post(
        reverse("rendezvous-api:appointment-list") + f"?patient={leo_dmp.pk}",
        {
            "starts_at": "2026-12-10T16:00",
            "title": "Pédiatre",
            "professional_rpps": "99700000013",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["starts_at"].endswith("+01:00") and body["professional"]
    pk = body["id"]
    listed = client.get(
        reverse("rendezvous-api:appointment-list") + f"?patient={leo_dmp.pk}"
    )
    assert [a["id"] for a in listed.json()] == [pk]
    patched = client.patch(
        reverse("rendezvous-api:appointment-detail", args=[pk]),
        {"notes": "À jeun"},
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["notes"] == "À jeun"
    assert patched.json()["title"] == "Pédiatre"
    cancel = client.post(reverse("rendezvous-api:appointment-cancel", args=[pk]))
    assert cancel.json()["status"] == "cancelled"
    bad = client.post(
        reverse("rendezvous-api:appointment-list"),
        {"starts_at": "2026-03-29T02:30"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "heure" in str(bad.json())
    other = verified_client(eve).get(
        reverse("rendezvous-api:appointment-list") + f"?patient={leo_dmp.pk}"
    )
    assert other.status_code == 404


def test_ag2_item_reminder_and_preferences_api(alice_dmp: Any, eve: Any) -> None:
    client = verified_client(alice_dmp.user)
    url = reverse("rendezvous-api:item-reminder-list")
    first = client.post(
        url,
        {"item_code": "ror-2", "label": "Vaccin ROR", "due_on": "2027-01-05"},
        content_type="application/json",
    )
    again = client.post(
        url,
        {"item_code": "ror-2", "label": "Vaccin ROR", "due_on": "2027-01-05"},
        content_type="application/json",
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    pk = first.json()["id"]
    assert (
        verified_client(eve)
        .delete(reverse("rendezvous-api:item-reminder-delete", args=[pk]))
        .status_code
        == 404
    )
    assert (
        client.delete(
            reverse("rendezvous-api:item-reminder-delete", args=[pk])
        ).status_code
        == 204
    )
    prefs = reverse("rendezvous-api:reminder-preferences")
    assert client.get(prefs).json() == {
        "email": True,
        "inapp": True,
        "day_before": True,
        "same_day": True,
    }
    put = client.put(
        prefs,
        {"email": False, "inapp": True, "day_before": True, "same_day": False},
        content_type="application/json",
    )
    assert put.status_code == 200 and put.json()["email"] is False
    assert (
        client.put(
            prefs, {"email": "peut-être"}, content_type="application/json"
        ).status_code
        == 400
    )
