"""Across both portals in Chromium (CONS-1, CONS-4, DMP-4, DMP-6, DMP-8): a
doctor finds a patient, declares her consent and deposits a PDF; the patient
sees it, masks it, and a nurse in her care no longer does, while the author
and the médecin traitant still do; the patient's history shows the doctor's
deposit and reads. Screenshots go to var/screenshots/dmp-journey-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from dmp import profile_services
from espace.models import Beneficiary, User
from tests.browser.test_children_journey import _log_in_as
from tests.browser.test_documents_journey import _pdf_shown, _PreviewRequests
from tests.browser.test_login_journeys import (
    BrowserProblems,
    _screenshot,
    problems,  # noqa: F401 - fixture
)
from tests.browser.test_pro_journey import _find_alice
from tests.files import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Compte rendu de consultation de cardiologie"


def _as(page: Page, user: User, path: str) -> None:
    """Log in as `user` and open `path`. The session cookie is set for the
    current path: log out first, so that "/" stays "/" (a logged-in
    professional would be redirected to /pro/)."""
    page.context.clear_cookies()
    page.goto("/")
    _log_in_as(page, user)
    page.goto(path)


def test_cons1_dmp8_a_deposit_seen_masked_and_hidden_from_other_professionals(
    page: Page,
    problems: BrowserProblems,
    alice: User,
    alice_dmp: Beneficiary,
    bob: User,
    charlie: User,
    nina_in_care: User,
    live_server: Any,
) -> None:
    # Alice's profile: an allergy for her carers, a history she masked.
    add = profile_services.profile_entry_add
    add(actor=alice, patient=alice_dmp, section="allergy", label="Pénicilline")
    add(
        actor=alice,
        patient=alice_dmp,
        section="medical_history",
        label="Épisode dépressif en 2015",
        masked=True,
    )
    dmp_page = reverse("pro:patient", args=[alice_dmp.pk])

    # 1. charlie, who has never seen alice, finds her and declares her consent.
    _as(page, charlie, "/pro/")
    _find_alice(page, alice_dmp, screenshot="dmp-journey-01-search")
    page.get_by_text("J'atteste que le patient, informé, a consenti").click()
    _screenshot(page, "dmp-journey-02-consent")
    page.get_by_role("button", name="Déclarer le consentement du patient").click()
    expect(page.get_by_test_id("access-basis")).to_contain_text(
        "Consentement déclaré le"
    )
    expect(page.get_by_test_id("documents-empty")).to_be_visible()
    expect(page.get_by_test_id("profile")).to_contain_text("Pénicilline")
    expect(page.get_by_test_id("profile")).not_to_contain_text("Épisode dépressif")
    _screenshot(page, "dmp-journey-03-dmp-open")

    # 2. He deposits a PDF compte rendu.
    page.get_by_role("link", name="Déposer un document").click()
    page.get_by_label("Type de document").select_option(
        label="CR ou fiche de consultation ou de visite"
    )
    page.get_by_label("Titre").fill(TITLE)
    page.get_by_label("Fichier").set_input_files(
        files=[
            {
                "name": "cardiologie.pdf",
                "mimeType": "application/pdf",
                "buffer": pdf_bytes(),
            }
        ]
    )
    _screenshot(page, "dmp-journey-04-deposit")
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.get_by_role("status")).to_contain_text("Le document a été déposé")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    _screenshot(page, "dmp-journey-05-deposited")

    # 3. alice finds it in "Mes documents", opens it with its preview, masks it.
    _as(page, alice, "/mon-espace/")
    page.get_by_test_id("home-documents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes documents")
    row = page.get_by_test_id("document-row").filter(has_text=TITLE)
    expect(row).to_contain_text("Charlie Test")
    _screenshot(page, "dmp-journey-06-patient-list")
    previews = _PreviewRequests(page)
    row.get_by_role("link", name=TITLE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_test_id("preview")).to_be_visible()
    _pdf_shown(page, "cardiologie.pdf")
    previews.wait_settled()
    page.wait_for_timeout(500)  # the viewer paints its first page
    _screenshot(page, "dmp-journey-07-patient-detail")
    previews = _PreviewRequests(page)  # the page comes back with its preview
    page.get_by_role("button", name="Masquer aux professionnels").click()
    expect(page.get_by_role("status")).to_contain_text("masqué aux professionnels")
    expect(page.get_by_test_id("masked-badge")).to_have_text(
        "Masqué aux professionnels"
    )
    previews.wait_settled()
    _screenshot(page, "dmp-journey-08-masked")

    # 4. nina, a nurse in her care team, no longer sees it (nor the masked
    # history); charlie, its author, and bob, the médecin traitant, still do.
    _as(page, nina_in_care, dmp_page)
    expect(page.get_by_test_id("access-basis")).to_contain_text("Équipe de soins")
    expect(page.get_by_test_id("documents-empty")).to_be_visible()
    expect(page.get_by_text(TITLE)).to_have_count(0)
    expect(page.get_by_test_id("profile")).to_contain_text("Pénicilline")
    expect(page.get_by_test_id("profile")).not_to_contain_text("Épisode dépressif")
    _screenshot(page, "dmp-journey-09-nurse")

    _as(page, charlie, "/pro/")
    page.get_by_test_id("patient-row").get_by_role("link").first.click()
    author_row = page.get_by_test_id("document-row").filter(has_text=TITLE)
    expect(author_row).to_contain_text("Masqué par le patient")
    _screenshot(page, "dmp-journey-10-author")

    _as(page, bob, dmp_page)
    expect(page.get_by_test_id("access-basis")).to_contain_text(
        "Vous êtes le médecin traitant"
    )
    expect(page.get_by_test_id("document-row").filter(has_text=TITLE)).to_contain_text(
        "Masqué par le patient"
    )
    expect(page.get_by_test_id("profile")).to_contain_text("Épisode dépressif")
    _screenshot(page, "dmp-journey-11-medecin-traitant")

    # 5. alice's history: "Les actions des autres" shows charlie's deposit and
    # his reads.
    _as(page, alice, "/mon-espace/")
    page.get_by_role("link", name="Historique d'activité").first.click()
    expect(page.get_by_test_id("tab-others")).to_have_attribute("aria-current", "page")
    by_charlie = page.get_by_test_id("history-entry").filter(has_text="Charlie Test")
    expect(by_charlie.filter(has_text="Ajout d'un document")).to_have_count(1)
    expect(
        by_charlie.filter(has_text="Consultation de la liste des documents").first
    ).to_be_visible()
    expect(
        by_charlie.filter(has_text="Consultation d'un document").first
    ).to_be_visible()
    _screenshot(page, "dmp-journey-12-history")

    # Leaving the preview stops the PDF viewer's own (chrome://) loads: not ours.
    problems.failed_assets = [
        asset
        for asset in problems.failed_assets
        if not asset.startswith(("chrome-extension://", "chrome://"))
    ]
    problems.assert_clean()
