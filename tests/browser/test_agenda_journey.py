"""The agenda in one journey, in Chromium (AG-1, AG-2, AG-3): alice, acting
for leo, opens his preventive calendar, marks a vaccine done, asks to be
reminded of a check-up, adds an appointment; the reminder job runs (a fixed
clock, in the test process) and both reminders are in the outbox with no
health detail; the private feed, fetched by its address alone, parses with
icalendar and shows "Rendez-vous santé" for both."""

from __future__ import annotations

import datetime as dt
import urllib.request
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import Page, expect

from agenda.models import DoneMark, ItemReminder
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
BOOSTER = "VAC-DTCAP-11"  # leo (11) is due his dTcaP booster


def test_ag1_ag2_ag3_a_parent_keeps_a_childs_agenda_and_is_reminded(
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

    # AG-1: leo's calendar; AG-2: a vaccine marked done
    go_to(page, "Agenda", "Calendrier de prévention")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda de Leo")
    booster = page.locator(f'[data-testid="item"][data-key="{BOOSTER}"]')
    booster.get_by_role("link", name="Marquer comme fait").click()
    page.get_by_label("Date").fill("2026-10-05")
    page.get_by_label("Fait par").fill("Dr Martin, pédiatre")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_test_id("group-done")).to_contain_text(
        "Fait le 05/10/2026 — Dr Martin, pédiatre"
    )
    assert DoneMark.objects.get().patient_id == leo_dmp.pk

    # AG-2: "me le rappeler" on a dental check-up due now, for tomorrow
    dental = (
        page.get_by_test_id("group-due")
        .get_by_test_id("item")
        .filter(has_text="M'T dents")
    )
    dental.get_by_label("Me le rappeler le").fill(tomorrow.isoformat())
    dental.get_by_role("button", name="Me le rappeler").click()
    expect(page.get_by_role("status")).to_contain_text("Vous recevrez un rappel")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda de Leo")
    expect(page.get_by_test_id("group-due").get_by_test_id("reminder")).to_contain_text(
        f"Rappel prévu le {tomorrow:%d/%m/%Y}"
    )
    _screenshot(page, "agenda-journey-1-calendar")
    reminder = ItemReminder.objects.get()
    assert (reminder.beneficiary_id, reminder.due_on) == (leo_dmp.pk, tomorrow)

    # AG-2: an appointment tomorrow at 14:30
    go_to(page, "Agenda", "Rendez-vous")
    page.get_by_role("link", name="Ajouter un rendez-vous").click()
    page.get_by_label("Date").fill(tomorrow.isoformat())
    page.get_by_label("Heure").fill("14:30")
    page.get_by_label("Motif (facultatif)").fill("Vaccin ROR")
    page.get_by_label("Lieu (facultatif)").fill("Centre de PMI")
    page.get_by_role("button", name="Ajouter le rendez-vous").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vaccin ROR")
    _screenshot(page, "agenda-journey-2-appointment")

    # the reminder job at 18:00 the day before (Paris), then the e-mails
    evening = dt.datetime.combine(timezone.localdate(), dt.time(18, 0), tzinfo=PARIS)
    assert reminders_send(now=max(evening, timezone.now())) == 2
    assert reminders_send(now=max(evening, timezone.now())) == 0  # once only
    assert notifications_send() == 2
    assert {m.to[0] for m in mail.outbox} == {alice_dmp.email}
    bodies = " ".join(m.subject + m.body + m.alternatives[0][0] for m in mail.outbox)
    assert "Leo a un rendez-vous santé demain à 14 h 30." in bodies
    for word in ("ROR", "PMI", "dents", "Martin", "dTcaP"):
        assert word not in bodies, word
    page.get_by_test_id("inbox-link").click()
    expect(page.get_by_test_id("inbox-item")).to_have_count(2)
    _screenshot(page, "agenda-journey-3-inbox")

    # AG-3: the private feed, by its address alone
    page.goto("/mon-espace/agenda/rendez-vous/abonnement/")
    page.get_by_role("button", name="Créer mon adresse d'abonnement").click()
    url = page.get_by_test_id("feed-url").input_value()
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our live server
        assert response.headers["Content-Type"].startswith("text/calendar")
        body = response.read()
    events = Calendar.from_ical(body).walk("VEVENT")
    assert len(events) == 2
    assert {str(e["SUMMARY"]) for e in events} <= {
        "Rendez-vous santé",
        "Rappel santé",
    }
    assert any(str(e["SUMMARY"]) == "Rendez-vous santé" for e in events)
    for word in (b"ROR", b"PMI", b"dents", b"Martin"):
        assert word not in body
    problems.assert_clean()
