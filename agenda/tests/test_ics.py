"""AG-3: the .ics download and the private feed: no health detail unless
asked (titles only, never notes), token-only, no-store, regenerated → the
old address answers 404, each fetch audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from agenda.appointment_models import CalendarFeed
from agenda.appointment_services import (
    AppointmentData,
    appointment_create,
    calendar_feed_rotate,
)
from audit.models import AuditEvent
from espace.models import LegalRepresentation
from tests.personas import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(alice_dmp: Any) -> Any:
    return appointment_create(
        actor=alice_dmp.user,
        patient=alice_dmp,
        data=AppointmentData(
            starts_at=dt.datetime(2026, 12, 3, 13, 30, tzinfo=dt.UTC),
            title="Contrôle dentaire",
            professional_text="Dr Martin",
            place="Cabinet rue Haute",
            notes="Apporter la radio",
        ),
    )


def _feed_url(token: str) -> str:
    return reverse("rendezvous:feed-ics", kwargs={"token": token})


def test_ag3_the_feed_says_rendez_vous_sante_and_nothing_else(
    alice_dmp: Any, booked: Any
) -> None:
    _feed, token = calendar_feed_rotate(actor=alice_dmp.user, patient=alice_dmp)
    before = AuditEvent.objects.count()
    response = Client().get(_feed_url(token))  # no session, no cookie
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    for word in ("dentaire", "Martin", "Cabinet", "radio"):
        assert word not in text
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Rendez-vous santé"
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 3, 13, 30, tzinfo=dt.UTC)
    (entry,) = AuditEvent.objects.order_by("seq")[before:]
    assert entry.code == "ag3.feed.read:self" and entry.patient_id == alice_dmp.pk
    assert "sessionid" not in response.cookies


def test_ag3_titles_when_chosen_never_notes(alice_dmp: Any, booked: Any) -> None:
    _feed, token = calendar_feed_rotate(
        actor=alice_dmp.user, patient=alice_dmp, include_titles=True
    )
    text = Client().get(_feed_url(token)).content.decode()
    assert "Contrôle dentaire" in text
    for word in ("Martin", "Cabinet", "radio"):
        assert word not in text


def test_ag3_regenerating_kills_the_old_address(alice_dmp: Any, booked: Any) -> None:
    _feed, old = calendar_feed_rotate(actor=alice_dmp.user, patient=alice_dmp)
    _feed, new = calendar_feed_rotate(actor=alice_dmp.user, patient=alice_dmp)
    assert Client().get(_feed_url(old)).status_code == 404
    assert Client().get(_feed_url(new)).status_code == 200
    stored = CalendarFeed.objects.get()
    assert new not in stored.token_hash and len(stored.token_hash) == 64
    assert Client().get(_feed_url("x" * 200)).status_code == 404


def test_ag3_a_parents_feed_stops_when_the_access_ends(
    alice: Any, leo_dmp: Any, alice_dmp: Any
) -> None:
    _feed, token = calendar_feed_rotate(actor=alice, patient=leo_dmp)
    assert Client().get(_feed_url(token)).status_code == 200
    LegalRepresentation.objects.filter(minor=leo_dmp).update(status="ended")
    before = AuditEvent.objects.count()
    assert Client().get(_feed_url(token)).status_code == 404
    (entry,) = AuditEvent.objects.order_by("seq")[before:]
    assert ":refused." in entry.code and entry.patient_id == leo_dmp.pk


def test_ag3_the_feed_is_throttled(alice_dmp: Any, settings: Any) -> None:
    _feed, token = calendar_feed_rotate(actor=alice_dmp.user, patient=alice_dmp)
    client = Client()
    from agenda import appointment_views

    statuses = [
        client.get(_feed_url(token)).status_code
        for _ in range(appointment_views.FEED_THROTTLE + 1)
    ]
    assert statuses[-2] == 200 and statuses[-1] == 429


def test_ag3_download_with_or_without_details(alice_dmp: Any, booked: Any) -> None:
    client = verified_client(alice_dmp.user)
    plain = client.get(reverse("rendezvous:ics-download"))
    assert plain["Content-Disposition"].startswith("attachment")
    assert "dentaire" not in plain.content.decode()
    detailed = client.get(reverse("rendezvous:ics-download") + "?details=1")
    (event,) = Calendar.from_ical(detailed.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Contrôle dentaire"
    assert str(event["LOCATION"]) == "Cabinet rue Haute"
    assert "radio" not in detailed.content.decode()


def test_ag3_the_feed_page_shows_the_address_once(alice_dmp: Any) -> None:
    client = verified_client(alice_dmp.user)
    response = client.post(
        reverse("rendezvous:feed"), {"action": "regenerate"}, follow=True
    )
    page = response.content.decode()
    assert 'data-testid="feed-url"' in page
    again = client.get(reverse("rendezvous:feed")).content.decode()
    assert 'data-testid="feed-url"' not in again and "feed-exists" in again
