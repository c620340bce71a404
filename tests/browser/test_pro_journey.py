"""The professional portal in Chromium (CONS-1, CONS-6, DMP-4): a doctor
finds a patient by NIR, declares her consent, deposits a PDF and sees it in
her DMP; another doctor opens the DMP in an emergency ("bris de glace")."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from espace.models import Beneficiary
from tests.browser.test_children_journey import _log_in_as
from tests.browser.test_login_journeys import (
    BrowserProblems,
    _screenshot,
    problems,  # noqa: F401 - fixture
)
from tests.files import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _find_alice(page: Page, alice_dmp: Beneficiary, screenshot: str = "") -> None:
    page.get_by_role("link", name="Rechercher un patient").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rechercher un patient")
    page.get_by_label("NIR du patient (matricule INS)").fill("2 79 03 51 215 189 89")
    page.locator("#id_nir-birth_date").fill("14/03/1979")
    if screenshot:
        _screenshot(page, screenshot)
    page.get_by_role("button", name="Rechercher par NIR").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alice MOREAU")


def test_a_doctor_finds_declares_deposits_then_another_breaks_the_glass(
    page: Page,
    problems: BrowserProblems,
    alice_dmp: Beneficiary,
    charlie: Any,
    victor: Any,
    live_server: Any,
) -> None:
    page.goto("/")
    _log_in_as(page, charlie)
    page.goto("/pro/")
    expect(page.get_by_test_id("patients-empty")).to_be_visible()
    _screenshot(page, "pro-portal-1-home")

    _find_alice(page, alice_dmp, screenshot="pro-portal-2-search")
    expect(
        page.get_by_text("Vous n'avez pas encore accès à ce dossier")
    ).to_be_visible()
    _screenshot(page, "pro-portal-3-locked")
    page.get_by_text("J'atteste que le patient, informé, a consenti").click()
    page.get_by_role("button", name="Déclarer le consentement du patient").click()
    expect(page.get_by_role("status")).to_contain_text("Votre accès au dossier")
    expect(page.get_by_test_id("access-basis")).to_contain_text(
        "Consentement déclaré le"
    )
    expect(page.get_by_test_id("matrix-classes")).to_contain_text("Compte rendu")

    page.get_by_role("link", name="Déposer un document").click()
    page.get_by_label("Type de document").select_option(
        label="CR ou fiche de consultation ou de visite"
    )
    page.get_by_label("Titre").fill("Consultation de suivi")
    page.get_by_label("Fichier").set_input_files(
        files=[
            {
                "name": "consultation.pdf",
                "mimeType": "application/pdf",
                "buffer": pdf_bytes(),
            }
        ]
    )
    _screenshot(page, "pro-portal-4-deposit")
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultation de suivi")
    expect(page.get_by_test_id("document-meta")).to_contain_text(
        "CR ou fiche de consultation ou de visite"
    )
    _screenshot(page, "pro-portal-5-document")
    page.get_by_role("link", name="Dossier de Alice MOREAU").click()
    row = page.get_by_test_id("document-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Consultation de suivi")
    _screenshot(page, "pro-portal-6-dmp")
    page.get_by_role("link", name="Mes patients").click()
    expect(page.get_by_test_id("patient-row")).to_contain_text("Alice MOREAU")
    _screenshot(page, "pro-portal-6-home-in-care")

    page.goto("/")  # the session cookie is set for the current path
    _log_in_as(page, victor)
    page.goto("/pro/")
    _find_alice(page, alice_dmp)
    page.get_by_role("link", name="Accès en urgence").click()
    expect(page.get_by_text("Cet accès est exceptionnel et tracé")).to_be_visible()
    page.get_by_label("Motif de l'accès en urgence").fill(
        "Patiente inconsciente admise aux urgences, antécédents inconnus"
    )
    _screenshot(page, "pro-portal-7-emergency")
    page.get_by_role("button", name="Ouvrir le dossier en urgence").click()
    banner = page.get_by_test_id("emergency-banner")
    expect(banner).to_contain_text("Accès en urgence (bris de glace) jusqu'à")
    expect(page.get_by_test_id("document-row")).to_contain_text("Consultation de suivi")
    _screenshot(page, "pro-portal-8-emergency-banner")
    problems.assert_clean()
