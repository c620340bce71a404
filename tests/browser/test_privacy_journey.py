"""CONS-2, CONS-4, CONS-5, CONS-6 in Chromium: alice blocks a doctor who had
read her DMP, finds another doctor's emergency access (with its written
reason) in her history, exports it as CSV, and opposes the SAMU access."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from consent.models import Block, CareRelationship, PrivacySettings
from consent.services import care_declare, care_revoke, emergency_access_start
from dmp.selectors import documents_list_for
from espace.models import Beneficiary, User
from tests.browser.nav import go_to
from tests.browser.test_children_journey import _log_in_as
from tests.browser.test_login_journeys import (
    BrowserProblems,
    _screenshot,
    problems,  # noqa: F401 - fixture
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Patiente inconsciente aux urgences, recherche d'allergies connues"


def test_alice_blocks_a_doctor_sees_an_emergency_access_and_exports_her_history(
    page: Page,
    problems: BrowserProblems,
    alice: User,
    alice_dmp: Beneficiary,
    victor: User,
    charlie: User,
    live_server: Any,
) -> None:
    # victor followed alice for a while: he read her DMP, then left her care.
    care_declare(actor=victor, patient=alice_dmp, kind="consent")
    documents_list_for(actor=victor, patient=alice_dmp)
    care_revoke(actor=victor, relationship=CareRelationship.objects.get())
    # charlie, who does not know her, opened her DMP in an emergency.
    emergency_access_start(
        actor=charlie, patient=alice_dmp, mode="bris_de_glace", reason=REASON
    )

    page.goto("/")
    _log_in_as(page, alice)
    page.goto("/mon-espace/")
    go_to(page, "Confidentialité", "Qui a accès")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Professionnels ayant accès au dossier"
    )
    expect(page.get_by_test_id("medecin-traitant")).to_contain_text(
        "ne peut pas être bloqué"
    )
    recent = page.get_by_test_id("recent-table")
    expect(recent).to_contain_text("Victor Test")
    expect(page.get_by_test_id("emergency-table")).to_contain_text("inconsciente")
    _screenshot(page, "privacy-1-professionals")
    recent.get_by_role("button", name="Bloquer Victor Test").click()
    expect(page.get_by_role("status")).to_contain_text("Victor Test est bloqué")
    expect(page.get_by_test_id("blocked-table")).to_contain_text("Victor Test")
    assert Block.objects.filter(
        patient=alice_dmp, professional=victor.professional
    ).exists()
    _screenshot(page, "privacy-2-blocked")

    page.get_by_role("link", name="Historique d'activité").first.click()
    expect(page.get_by_test_id("tab-others")).to_have_attribute("aria-current", "page")
    emergency = page.get_by_test_id("history-entry").filter(
        has_text="Accès en urgence (bris de glace)"
    )
    expect(emergency).to_contain_text("Charlie Test (Médecin)")
    expect(emergency.get_by_test_id("emergency-reason")).to_contain_text(REASON)
    _screenshot(page, "privacy-3-history")

    with page.expect_download() as info:
        page.get_by_test_id("export-csv").click()
    download = info.value
    assert download.suggested_filename.startswith("historique-")
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert any(row[1] == "Charlie Test (Médecin)" and row[6] == REASON for row in rows)

    page.get_by_test_id("tab-mine").click()
    expect(page.get_by_test_id("history-table")).to_contain_text(
        "Blocage d'un professionnel"
    )
    _screenshot(page, "privacy-4-history-mine")

    go_to(page, "Confidentialité", "Accès en urgence et prévention")
    samu = page.get_by_label("Accès du médecin régulateur du SAMU-Centre 15")
    expect(samu).to_be_checked()
    _screenshot(page, "privacy-5-emergency-settings")
    page.get_by_text("Accès du médecin régulateur du SAMU-Centre 15").click()
    expect(samu).not_to_be_checked()
    page.get_by_role("button", name="Enregistrer mes choix").click()
    expect(page.get_by_role("status")).to_contain_text("Vos choix sont enregistrés")
    privacy = PrivacySettings.objects.get(patient=alice_dmp)
    assert (privacy.bris_de_glace, privacy.samu) == (True, False)
    problems.assert_clean()
