"""Secure messaging across both portals in Chromium (MSG-1, MSG-2, MSG-3,
LC-12): charlie, a doctor in alice's care, writes to her with a PDF; alice
is told by e-mail (no content, no sender) and in her space, reads, files the
PDF into her DMP, replies; charlie sees the reply and the read receipt.
Screenshots (desktop and 375 px) go to var/screenshots/messagerie-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dmp.models import Document
from espace.models import Beneficiary, User
from tests.browser.test_children_journey import _log_in_as
from tests.browser.test_login_journeys import (
    BrowserProblems,
    _emails,
    _screenshot,
    outbox,  # noqa: F401 - fixture
    problems,  # noqa: F401 - fixture
)
from tests.files import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBJECT = "Vos résultats de bilan sanguin"
BODY = "Bonjour, votre bilan est rassurant : ferritine normale."
REPLY = "Merci docteur, bien reçu."


def _as(page: Page, user: User, path: str) -> None:
    page.context.clear_cookies()
    page.goto("/")
    _log_in_as(page, user)
    page.goto(path)


def _both_widths(page: Page, name: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    _screenshot(page, f"{name}-desktop")
    page.set_viewport_size({"width": 375, "height": 812})
    _screenshot(page, f"{name}-375")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_msg1_msg2_msg3_a_doctor_writes_the_patient_reads_files_and_replies(
    page: Page,
    problems: BrowserProblems,
    outbox: Path,
    alice: User,
    alice_dmp: Beneficiary,
    charlie_in_care: User,
    live_server: Any,
) -> None:
    charlie = charlie_in_care
    # 1. charlie writes to alice, a PDF attached.
    _as(page, charlie, "/pro/messagerie/")
    page.get_by_role("link", name="Écrire à un patient").click()
    page.get_by_label("Patient", exact=True).select_option(
        label="Alice MOREAU — 14/03/1979"
    )
    page.get_by_label("Objet").fill(SUBJECT)
    page.get_by_label("Votre message").fill(BODY)
    page.get_by_label("Pièce jointe").set_input_files(
        files=[
            {"name": "bilan.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
        ]
    )
    _both_widths(page, "messagerie-01-pro-new")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("status")).to_contain_text("Votre message a été envoyé")
    expect(page.get_by_test_id("patient-address")).to_have_text(
        "279035121518989@patient.mssante.fr"
    )
    expect(page.get_by_test_id("receipt")).to_have_text("Non lu")

    # 2. alice is told, with no content and no sender name (MSG-3, LC-12).
    mails = [m for m in _emails(outbox) if "nouveau message" in str(m["subject"])]
    assert len(mails) == 1
    text = mails[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    for secret in (SUBJECT, "ferritine", "Charlie", "bilan"):
        assert secret not in text and secret not in str(mails[0]["subject"])

    # 3. alice sees the badge, the in-app notice, reads the message.
    _as(page, alice, "/mon-espace/notifications/")
    expect(page.get_by_test_id("messages-link")).to_contain_text("1")
    expect(page.get_by_text("Vous avez reçu un nouveau message")).to_be_visible()
    page.get_by_test_id("messages-link").click()
    row = page.get_by_test_id("conversation-row").filter(has_text=SUBJECT)
    expect(row.get_by_test_id("unread")).to_have_text("1 non lu")
    _both_widths(page, "messagerie-02-patient-inbox")
    row.get_by_role("link", name=SUBJECT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    expect(page.get_by_test_id("message")).to_contain_text("ferritine normale")
    expect(page.get_by_test_id("attachment")).to_contain_text("bilan.pdf")

    # 4. She files the PDF into her DMP in one click, with its type.
    page.get_by_label("Type de document").select_option(
        label="Compte rendu de biologie"
    )
    _both_widths(page, "messagerie-03-patient-read")
    page.get_by_role("button", name="Classer dans mes documents").click()
    expect(page.get_by_role("status")).to_contain_text("ajoutée à vos documents")
    expect(page.get_by_test_id("filed")).to_be_visible()
    document = Document.objects.get(patient=alice_dmp)
    assert document.type_code == "DOCPAT05"

    # 5. She replies.
    page.get_by_label("Votre message").fill(REPLY)
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("status")).to_contain_text("Votre réponse a été envoyée")
    expect(page.get_by_test_id("thread")).to_contain_text(REPLY)
    _both_widths(page, "messagerie-04-patient-replied")

    # 6. charlie sees the reply (badge, unread) and his read receipt.
    _as(page, charlie, "/pro/messagerie/")
    expect(page.get_by_test_id("messages-link")).to_contain_text("1")
    pro_row = page.get_by_test_id("conversation-row")
    expect(pro_row.get_by_test_id("unread")).to_have_text("1 non lu")
    _both_widths(page, "messagerie-05-pro-inbox")
    pro_row.get_by_role("link").first.click()
    expect(page.get_by_test_id("thread")).to_contain_text(REPLY)
    expect(page.get_by_test_id("receipt")).to_contain_text("Lu le")

    # 7. He closes the conversation; alice can no longer answer.
    page.get_by_role("button", name="Clore la conversation").click()
    expect(page.get_by_test_id("closed")).to_be_visible()
    _both_widths(page, "messagerie-06-pro-closed")
    _as(page, alice, "/mon-espace/messagerie/")
    page.get_by_role("link", name=SUBJECT).click()
    expect(page.get_by_test_id("closed")).to_be_visible()
    expect(page.get_by_label("Votre message")).to_have_count(0)
    problems.assert_clean()
