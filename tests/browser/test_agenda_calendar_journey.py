"""AG-1, AG-2 in Chromium, under the real CSP: alice opens her child leo's
agenda, marks a vaccine done, sees it in "Fait" and in the vaccination
record; the pages also fit a 375 px phone screen."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from agenda.models import DoneMark, Recommendation
from agenda.rules import rules_load
from espace.models import Beneficiary
from tests.browser.nav import go_to
from tests.browser.test_children_journey import _log_in_as
from tests.browser.test_login_journeys import (
    BrowserProblems,
    _screenshot,
    problems,  # noqa: F401 - fixture
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/cal")


@pytest.fixture(autouse=True)
def _rules(transactional_db: Any) -> None:
    """Transactional tests empty every table: load the calendars again, as
    the migration does (AG-1)."""
    rules_load(Recommendation)


def _shot(page: Page, name: str) -> None:
    _screenshot(page, name)
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(
        Path(settings.BASE_DIR) / "var" / "screenshots" / f"{name}.png",
        SHOTS / f"{name}.png",
    )


def test_ag2_alice_marks_a_vaccine_done_in_leos_agenda(
    page: Page,
    browser: Browser,
    problems: BrowserProblems,
    alice: Any,
    alice_dmp: Beneficiary,
    leo_dmp: Beneficiary,
    live_server: Any,
) -> None:
    page.goto("/")
    _log_in_as(page, alice)
    page.goto("/mon-espace/")
    page.get_by_role("button", name="Espace de Leo").click()
    go_to(page, "Agenda", "Calendrier de prévention")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda de Leo")
    overdue = page.get_by_test_id("group-overdue")
    expect(overdue).to_contain_text("Examen de santé entre 8 et 9 ans")
    expect(page.get_by_test_id("group-due")).to_contain_text("M'T dents")
    expect(page.get_by_test_id("group-done")).to_contain_text(
        "Aucune recommandation marquée comme faite."
    )
    _shot(page, "agenda-1-leo")

    booster = page.locator('[data-testid="item"][data-key="VAC-DTCAP-11"]')
    booster.get_by_role("link", name="Marquer comme fait").click()
    expect(page.get_by_test_id("item-label")).to_have_text(
        "Rappel dTcaP entre 11 et 13 ans"
    )
    # a date to come is refused, in French, next to the field
    page.get_by_label("Date").fill("2099-01-01")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".fr-error-text")).to_contain_text("La date est dans le futur.")
    page.get_by_label("Date").fill("2026-10-05")
    page.get_by_label("Fait par").fill("Dr Martin, pédiatre")
    _shot(page, "agenda-2-form")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("est marqué comme fait")
    done = page.get_by_test_id("group-done")
    expect(done).to_contain_text("Rappel dTcaP entre 11 et 13 ans")
    expect(done).to_contain_text("Fait le 05/10/2026 — Dr Martin, pédiatre")
    _shot(page, "agenda-3-done")

    page.get_by_role("link", name="Carnet de vaccination").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Carnet de vaccination")
    row = page.locator('[data-testid="vaccine"][data-key="VAC-DTCAP-11"]')
    expect(row).to_contain_text("Fait le 05/10/2026")
    expect(row).to_contain_text("Dr Martin, pédiatre")
    _shot(page, "agenda-4-record")
    mark = DoneMark.objects.get()
    assert mark.patient_id == leo_dmp.pk and mark.marked_by_id == alice.pk

    # the same pages on a phone (375 px): nothing wider than the screen
    phone = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 375, "height": 800}
    )
    phone.add_cookies(page.context.cookies())
    small = phone.new_page()
    for url, name in (
        ("/mon-espace/agenda/", "agenda-5-phone"),
        ("/mon-espace/agenda/vaccinations/", "agenda-6-phone-record"),
    ):
        small.goto(url)
        expect(small.get_by_role("heading", level=1)).to_be_visible()
        width = small.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (url, width)
        _shot(small, name)
    phone.close()
