"""DMP-6 in Chromium, under the real CSP: alice adds an allergy and two
weight measures, sees the chart, saves a PDF copy of her profile and finds
it among her documents (DOCPAT08, opened through the preview route)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from dmp.selectors import documents_list_for
from espace.models import Beneficiary
from tests.browser.nav import go_to
from tests.browser.test_children_journey import _log_in_as
from tests.browser.test_login_journeys import (
    BrowserProblems,
    _screenshot,
    problems,  # noqa: F401 - fixture
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BAD_REQUEST = (
    "Failed to load resource: the server responded with a status of 400 (Bad Request)"
)


def test_alice_fills_her_profile_charts_her_weight_and_saves_a_pdf_copy(
    page: Page,
    problems: BrowserProblems,
    alice: Any,
    alice_dmp: Beneficiary,
    live_server: Any,
) -> None:
    page.goto("/")
    _log_in_as(page, alice)
    page.goto("/mon-espace/")
    page.get_by_role("link", name="Voir le profil médical").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Profil médical")
    _screenshot(page, "profile-1-empty")

    page.get_by_role("link", name="Ajouter une allergie").click()
    page.get_by_label("Allergie ou intolérance").fill("Pénicilline")
    page.get_by_label("Réaction observée").fill("Urticaire géante")
    page.get_by_label("Date de découverte").fill("2001-05-01")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("ajoutée à votre profil")
    allergies = page.get_by_test_id("section-allergy")
    expect(allergies.get_by_test_id("entry")).to_contain_text("Pénicilline")
    expect(allergies).to_contain_text("01/05/2001")

    # DMP-11: an edit keeps the previous version in the entry's history.
    allergies.get_by_role("link", name="Modifier Pénicilline").click()
    page.get_by_label("Réaction observée").fill("Urticaire et œdème")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_test_id("section-allergy").get_by_role(
        "link", name="Historique Pénicilline"
    ).click()
    expect(page.get_by_test_id("history").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("history")).to_contain_text("Urticaire géante")
    _screenshot(page, "profile-2-history")
    page.get_by_role("link", name="Retour au profil médical").click()

    page.get_by_role("link", name="Mes mesures").first.click()
    weight = page.get_by_test_id("measure-weight")
    for day, value in (("2024-01-10", "74,2"), ("2024-03-10", "72")):
        weight = page.get_by_test_id("measure-weight")
        weight.get_by_label("Date de la mesure").fill(day)
        weight.get_by_label("Poids (kg)").fill(value)
        weight.get_by_role("button", name="Ajouter poids").click()
        expect(page.get_by_role("status")).to_contain_text(
            "La mesure a été enregistrée"
        )
    # A value out of range: a French message next to the field, nothing saved.
    weight = page.get_by_test_id("measure-weight")
    weight.get_by_label("Date de la mesure").fill("2024-04-10")
    weight.get_by_label("Poids (kg)").fill("900")
    weight.get_by_role("button", name="Ajouter poids").click()
    expect(page.get_by_test_id("measure-weight")).to_contain_text(
        "Le poids doit être compris entre 0,3 et 500 kg."
    )
    chart = page.get_by_test_id("chart-weight")
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(2)
    expect(page.get_by_test_id("table-weight").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("table-weight")).to_contain_text("74,2")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    _screenshot(page, "profile-3-measures")

    page.get_by_role("link", name="Profil médical").first.click()
    page.get_by_role(
        "button", name="Enregistrer une copie en PDF dans mes documents"
    ).click()
    expect(page.get_by_test_id("copy-saved")).to_contain_text(
        "Copie enregistrée dans vos documents"
    )
    expect(page.get_by_test_id("section-allergy")).to_contain_text("Pénicilline")
    _screenshot(page, "profile-4-copy-saved")

    href = page.get_by_test_id("copy-link").get_attribute("href")
    assert href is not None
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    (Path(settings.BASE_DIR) / "var" / "screenshots" / "profile-copy.pdf").write_bytes(
        response.body()
    )
    (document,) = documents_list_for(actor=alice, patient=alice_dmp).documents
    assert document.type_code == "DOCPAT08"
    assert href.endswith(f"/documents/{document.pk}/apercu")
    go_to(page, "Mon dossier médical", "Données administratives")
    expect(page.get_by_role("heading", level=1)).to_have_text("Données administratives")
    expect(page.get_by_test_id("nir")).to_have_text("2 79 03 51 215 189 89")
    expect(page.get_by_test_id("medecin-traitant")).to_contain_text("Bob Test")
    _screenshot(page, "profile-5-administrative")
    # The refused measure was answered with a 400 (SEC-8), which Chromium logs.
    problems.assert_clean(known=(BAD_REQUEST,))
