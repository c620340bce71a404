"""The lifecycle journeys in Chromium (LC-3, LC-4, LC-6, LC-8): opposition
with its PDF receipt, a new code, activation by a person who changed their
mind, closure and re-opening. Codes are read from the outbox, as a person
reads their mailbox."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from espace import services
from espace.codes import code_issue
from espace.models import Beneficiary, Space
from tests.browser.test_login_journeys import (
    BrowserProblems,
    _code_in,
    _emails,
    _screenshot,
    outbox,  # noqa: F401 - fixture
    problems,  # noqa: F401 - fixture
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERIAL = "8025000012345678"
BODY = "1800175000123"
NIR = BODY + f"{97 - int(BODY) % 97:02d}"
PASSWORD = "Un-secret-tres-long-42"
PROVISIONAL = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})\b")


@pytest.fixture
def letter_code(db: None) -> str:
    """Bernard was informed by post: his space is INFORMED, the code is his."""
    bernard = Beneficiary.objects.create(
        nir=NIR,
        birth_name="DURAND",
        first_names="BERNARD",
        sex="M",
        birth_date=dt.date(1980, 1, 15),
        birth_place_code="75056",
        vitale_serial=SERIAL,
        email="bernard@example.test",
    )
    space = services.space_inform(
        actor=None, space=Space.objects.create(beneficiary=bernard)
    )
    return code_issue(space=space, channel="letter")


def _identity(page: Page, code: str | None = None) -> None:
    if code is not None:
        page.get_by_label("Code provisoire").fill(code)
    page.get_by_label("Numéro de sécurité sociale (NIR)").fill(NIR)
    page.get_by_label("Numéro de série de la carte Vitale").fill(SERIAL)
    page.get_by_label("Date de naissance").fill("15/01/1980")


def _login(page: Page, outbox: Path) -> None:
    page.goto("/connexion/")
    page.get_by_label("Identifiant").fill("bernard.durand")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Code à usage unique").fill(_code_in(_emails(outbox)[-1]))
    page.get_by_role("button", name="Valider").click()


def test_opposition_new_code_activation_closure_and_reopening(
    page: Page,
    problems: BrowserProblems,
    outbox: Path,
    letter_code: str,
) -> None:
    # LC-4: opposition online, with its PDF receipt
    page.goto("/opposition/")
    _identity(page, letter_code)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Confirmer mon opposition")).to_be_visible()
    page.get_by_role("button", name="Je confirme mon opposition").click()
    expect(
        page.get_by_role("heading", name="Votre opposition est enregistrée")
    ).to_be_visible()
    _screenshot(page, "journey-1-opposition-done")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger l'attestation d'opposition").click()
    receipt = Path(download_info.value.path())
    assert receipt.read_bytes().startswith(b"%PDF")

    # LC-3: a new provisional code by e-mail (the letter's one is spent)
    page.goto("/nouveau-code/")
    _identity(page)
    page.get_by_label("E-mail").check()
    page.get_by_role("button", name="Recevoir un nouveau code").click()
    expect(page.get_by_role("status")).to_be_visible()
    new_code = PROVISIONAL.search(
        _emails(outbox)[-1].get_body(("plain",)).get_content()
    ).group(1)

    # LC-6: "I changed my mind": activation with the new code
    page.goto("/activer/")
    _identity(page, new_code)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Identifiant").fill("bernard.durand")
    page.get_by_label("Adresse électronique").fill("bernard@example.test")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    _screenshot(page, "journey-2-activation-account")
    page.get_by_role("button", name="Activer mon espace").click()
    page.get_by_label("Code à usage unique").fill(_code_in(_emails(outbox)[-1]))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Bonjour Bernard")).to_be_visible()

    # LC-8: closure after typing the password again
    page.get_by_role("link", name="Fermer mon espace").click()
    page.get_by_label("Votre mot de passe").fill(PASSWORD)
    page.get_by_text("Je comprends que mon espace et mon DMP seront fermés.").click()
    _screenshot(page, "journey-3-closure")
    page.get_by_role("button", name="Fermer mon espace").click()
    expect(page.get_by_role("heading", name="Votre espace est fermé")).to_be_visible()
    assert "10 ans" in _emails(outbox)[-1].get_body(("plain",)).get_content()

    # LC-8: re-opening brings the space back
    _login(page, outbox)
    expect(page.get_by_role("heading", name="Rouvrir mon espace")).to_be_visible()
    page.get_by_label("Votre mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Rouvrir mon espace").click()
    expect(page.get_by_role("heading", name="Bonjour Bernard")).to_be_visible()
    assert Space.objects.get(beneficiary__nir=NIR).state == Space.State.ACTIVATED
    problems.assert_clean()
