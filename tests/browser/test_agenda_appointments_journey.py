"""AG-2, AG-3 in Chromium: alice, acting for leo, adds an appointment; the
reminder job runs (a fixed clock, in the test process); the e-mail (no
health detail) and the in-app notice are there; the private feed, fetched
by its address alone, parses and says "Rendez-vous santé"."""

from __future__ import annotations

import datetime as dt
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import Page, expect

from agenda.reminders import PARIS, reminders_send
from espace.jobs import notifications_send
from tests.browser.nav import go_to
from tests.browser.test_children_journey import _log_in_as
from tests.browser.test_login_journeys import (
    BrowserProblems,
    _screenshot,
    problems,  # noqa: F401 - fixture
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/appt")


def _shot(page: Page, name: str) -> None:
    _screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_ag2_ag3_parent_adds_a_childs_appointment_gets_reminded_and_subscribes(
    page: Page,
    problems: BrowserProblems,
    alice_dmp: Any,
    leo_dmp: Any,
    live_server: Any,
) -> None:
    alice = alice_dmp.user
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page.goto("/")
    _log_in_as(page, alice)
    page.goto("/mon-espace/")
    page.get_by_role("button", name="Espace de Leo").click()
    go_to(page, "Agenda", "Rendez-vous")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rendez-vous de Leo")
    page.get_by_role("link", name="Ajouter un rendez-vous").click()
    page.get_by_label("Date").fill(tomorrow.isoformat())
    page.get_by_label("Heure").fill("14:30")
    page.get_by_label("Motif (facultatif)").fill("Vaccin ROR")
    page.get_by_label("Professionnel de santé (facultatif)").fill("Dr Lefèvre")
    page.get_by_label("Lieu (facultatif)").fill("Centre de PMI")
    page.get_by_label("Notes (facultatif)").fill("Apporter le carnet de santé")
    _shot(page, "agenda-1-form")
    page.get_by_role("button", name="Ajouter le rendez-vous").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vaccin ROR")
    expect(page.get_by_test_id("appointment-detail")).to_contain_text("14 h 30")
    _shot(page, "agenda-2-detail")
    page.goto(f"/mon-espace/agenda/rendez-vous/mois/?mois={tomorrow:%Y-%m}")
    expect(page.get_by_test_id("month-appointment")).to_contain_text("14h30")
    _shot(page, "agenda-3-month")
    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    _shot(page, "agenda-3-month-375")
    page.goto("/mon-espace/agenda/rendez-vous/")
    _shot(page, "agenda-4-list-375")
    page.set_viewport_size({"width": 1280, "height": 800})

    # the job, at 18:00 the day before (Paris), then the e-mails
    evening = dt.datetime.combine(timezone.localdate(), dt.time(18, 0), tzinfo=PARIS)
    assert reminders_send(now=max(evening, timezone.now())) == 1
    assert notifications_send() == 1
    (message,) = mail.outbox
    assert message.to == [alice_dmp.email]
    assert "Leo a un rendez-vous santé demain à 14 h 30." in message.body
    for word in ("ROR", "Lefèvre", "PMI", "carnet"):
        assert word not in message.subject + message.body + message.alternatives[0][0]

    page.get_by_test_id("inbox-link").click()
    expect(page.get_by_test_id("inbox-item").first).to_contain_text(
        "Rappel : vous avez un rendez-vous santé demain."
    )
    _shot(page, "agenda-5-inbox")

    page.goto("/mon-espace/agenda/rendez-vous/abonnement/")
    page.get_by_role("button", name="Créer mon adresse d'abonnement").click()
    url = page.get_by_test_id("feed-url").input_value()
    _shot(page, "agenda-6-feed")
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our live server
        assert response.headers["Content-Type"].startswith("text/calendar")
        assert "no-store" in response.headers["Cache-Control"]
        body = response.read()
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Rendez-vous santé"
    assert b"ROR" not in body and b"carnet" not in body
    problems.assert_clean()
