"""Login journeys in Chromium, on the DSFR pages, under the real CSP (LC-7, SEC-2).

The e-mail code is read from the outbox, as a patient reads their mailbox; the
TOTP code is computed from the secret shown on the enrolment page, as an
authenticator app does. Screenshots go to var/screenshots/ for a human look.
"""

from __future__ import annotations

import base64
import email
import re
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django_otp.oath import TOTP
from playwright.sync_api import ConsoleMessage, Page, Response, expect

from espace.models import User
from tests.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# DSFR colours in the light theme: primary button (blue-france-sun-113) and the
# red of error alerts (error-425). Computed styles prove the CSS really applies.
DSFR_BLUE = "rgb(0, 0, 145)"
DSFR_ERROR_RED = re.compile(r"rgb\(206, 5, 0\)")
TOTP_STEP = 30


class BrowserProblems:
    """What the page reports on its own: console errors (CSP violations among
    them), uncaught script errors, and static files that failed to load."""

    def __init__(self, page: Page) -> None:
        self.console_errors: list[str] = []
        self.where: list[str] = []  # the page each console error came from
        self.failed_assets: list[str] = []
        self.saw_document_file = False
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_request_failed)

    @staticmethod
    def _document_file(url: str) -> bool:
        """A DMP file shown or downloaded (DMP-3): Chromium's PDF viewer
        aborts the frame's first request and fetches the file again, and
        reports its own inline styles as refused by the file's sandbox CSP
        (which is meant to forbid everything but displaying the file)."""
        return url.rsplit("?", 1)[0].endswith(("/apercu", "/fichier", "/file"))

    def _on_request_failed(self, request: Any) -> None:
        if self._document_file(request.url) and "ERR_ABORTED" in str(request.failure):
            return
        self.failed_assets.append(f"{request.url} {request.failure}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = str(message.location.get("url", ""))
            if self._document_file(where) or where.startswith(
                ("chrome-extension://", "chrome://")  # the browser's PDF viewer
            ):
                return
            if "/static/dsfr/" in where and message.text.startswith(
                "Applying inline style violates"
            ):
                # The design system's script copies the header's links into
                # the mobile menu by innerHTML, sometimes after it has set
                # their widths itself (CSSOM): the copy's style attributes
                # are refused. Our markup has none (any in it is caught).
                return
            self.console_errors.append(message.text)
            self.where.append(f"{where}:{message.location.get('lineNumber', '')}")

    def _on_response(self, response: Response) -> None:
        if self._document_file(response.url):
            self.saw_document_file = True
        if "/static/" in response.url and response.status >= 400:
            self.failed_assets.append(f"{response.url} {response.status}")

    def assert_clean(self, *, known: tuple[str, ...] = ()) -> None:
        if self.saw_document_file:
            # Chromium's PDF viewer, once a DMP file was shown, sometimes
            # (under load) reports its own inline styles as refused; our
            # pages have no style attribute (the journeys that show no file
            # still catch any).
            self.console_errors = [
                e
                for e in self.console_errors
                if not e.startswith("Applying inline style violates")
            ]
        csp = [e for e in self.console_errors if "Content Security Policy" in e]
        assert not csp, (csp, self.where)
        others = [e for e in self.console_errors if e not in known]
        assert not others, others
        assert not self.failed_assets, self.failed_assets


@pytest.fixture
def problems(page: Page) -> BrowserProblems:
    page.emulate_media(color_scheme="light")  # DSFR follows the system theme
    return BrowserProblems(page)


@pytest.fixture
def outbox(settings: Any) -> Path:
    """The outbox backend writes one .eml per message under the per-test
    OUTBOX_DIR (conftest); the live server thread shares these settings."""
    settings.EMAIL_BACKEND = "lib.outbox.OutboxEmailBackend"
    return Path(settings.OUTBOX_DIR) / "email"


def _screenshot(page: Page, name: str) -> None:
    folder = Path(settings.BASE_DIR) / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def _emails(outbox: Path) -> list[EmailMessage]:
    # Names start with time_ns(), so they sort oldest first.
    paths = sorted(outbox.glob("*.eml")) if outbox.exists() else []
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in paths
    ]


def _code_in(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(r"\b(\d{6})\b", body.get_content())
    assert match, body.get_content()
    return match.group(1)


def _totp_code(secret_text: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows, `steps_ahead` windows from now.

    Stays out of the last 3 seconds of a window: the server must check the code
    in the window it was computed for, else django-otp records a clock drift.
    """
    left = TOTP_STEP - time.time() % TOTP_STEP
    if left < 3:
        time.sleep(left + 0.1)
    secret = secret_text.replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, step=TOTP_STEP, digits=6)
    totp.time = time.time() + TOTP_STEP * steps_ahead
    return f"{totp.token():06d}"


def _password_step(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Continuer").click()


def _submit_code(page: Page, code: str) -> None:
    page.get_by_label("Code à usage unique").fill(code)
    page.get_by_role("button", name="Valider").click()


def _assert_dsfr_page(page: Page) -> None:
    """The DSFR header is there, its script ran under the CSP nonce (it marks
    <html data-fr-js>), and its font is applied."""
    expect(page.locator(".fr-header__service-title")).to_have_text("Mon espace santé")
    expect(page.locator("html")).to_have_attribute("data-fr-js", "true")
    expect(page.locator("body")).to_have_css("font-family", re.compile("^Marianne"))


def _assert_dsfr_form(page: Page) -> None:
    _assert_dsfr_page(page)
    expect(page.locator("main button.fr-btn").first).to_have_css(
        "background-color", DSFR_BLUE
    )
    # DSFR inputs: grey field with a dark inset underline.
    field = page.locator("main .fr-input").first
    expect(field).to_have_css("background-color", "rgb(238, 238, 238)")
    expect(field).to_have_css("box-shadow", re.compile("inset"))


class LoginJourneyTestCase:
    def test_it_logs_a_patient_in_with_the_emailed_code(
        self, page: Page, problems: BrowserProblems, outbox: Path, alice: User
    ) -> None:
        page.goto("/connexion/")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Se connecter à Mon espace santé"
        )
        _assert_dsfr_form(page)
        _screenshot(page, "login-1-password")

        _password_step(page, "alice")
        page.wait_for_url("**/connexion/code/")
        expect(page.get_by_text("vient de vous être envoyé par e-mail")).to_be_visible()
        _assert_dsfr_form(page)
        _screenshot(page, "login-2-email-code")

        messages = _emails(outbox)
        assert len(messages) == 1
        assert messages[0]["To"] == "alice@example.test"
        assert messages[0]["Subject"] == "Votre code de connexion Mon espace santé"
        _submit_code(page, _code_in(messages[0]))

        page.wait_for_url("**/mon-espace/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Alice")
        expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
        _assert_dsfr_page(page)
        _screenshot(page, "login-3-patient-home")
        problems.assert_clean()

        # Refusal (R12): the professional portal answers a patient with a 404.
        response = page.goto("/pro/")
        assert response is not None and response.status == 404

    def test_it_enrols_a_professional_then_asks_for_the_totp_code(
        self, page: Page, problems: BrowserProblems, outbox: Path, bob: User
    ) -> None:
        _password_step(page, "bob")
        page.wait_for_url("**/connexion/application/")
        qr = page.get_by_role("img", name="QR code")
        expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml;base64,"))
        # img-src allows data: URIs, so the SVG decodes and has a size.
        assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
        _assert_dsfr_form(page)
        _screenshot(page, "pro-1-totp-enrol")

        secret = page.get_by_test_id("totp-secret").inner_text()
        enrolment_code = _totp_code(secret)
        _submit_code(page, enrolment_code)
        page.wait_for_url("**/pro/")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Espace professionnel"
        )
        _assert_dsfr_page(page)
        _screenshot(page, "pro-2-home")

        page.get_by_role("button", name="Se déconnecter").click()
        page.wait_for_url("**/connexion/")
        expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
        expect(page.get_by_role("link", name="Se connecter")).to_be_visible()

        # Second login: the code page asks for the app's code, no enrolment,
        # and professionals are never offered an e-mail code (SEC-2).
        _password_step(page, "bob")
        page.wait_for_url("**/connexion/code/")
        expect(page.get_by_text("affiché par votre application")).to_be_visible()
        expect(page.get_by_test_id("totp-secret")).to_have_count(0)
        expect(page.get_by_role("button", name="Recevoir plutôt")).to_have_count(0)
        assert _emails(outbox) == []
        _assert_dsfr_form(page)
        _screenshot(page, "pro-3-totp-code")

        # The code used for the enrolment cannot be replayed...
        _submit_code(page, enrolment_code)
        expect(page.locator(".fr-error-text")).to_have_text("Code incorrect ou expiré.")
        expect(page.locator(".fr-input-group--error")).to_have_count(1)
        # ...while the next window's code is accepted at once (django-otp's
        # tolerance of one step), after the 1 s throttle of one failure.
        page.wait_for_timeout(1_100)
        _submit_code(page, _totp_code(secret, steps_ahead=1))
        page.wait_for_url("**/pro/")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Espace professionnel"
        )
        problems.assert_clean()

        # Refusal (R12): the patient portal answers a professional with a 404.
        response = page.goto("/mon-espace/")
        assert response is not None and response.status == 404

    def test_it_refuses_a_wrong_password_in_french(
        self, page: Page, problems: BrowserProblems, outbox: Path, alice: User
    ) -> None:
        _password_step(page, "alice", "Pas-le-bon-mot-de-passe-1")

        alert = page.get_by_role("alert")
        expect(alert).to_have_text("Identifiant ou mot de passe incorrect.")
        expect(alert).to_have_class(re.compile(r"\bfr-alert--error\b"))
        # DSFR draws the red border and icon band with background gradients.
        expect(alert).to_have_css("background-image", DSFR_ERROR_RED)
        assert page.url.endswith("/connexion/")
        expect(page.get_by_label("Identifiant")).to_have_value("alice")
        expect(page.get_by_label("Mot de passe")).to_have_value("")
        _assert_dsfr_form(page)
        _screenshot(page, "login-wrong-password")
        assert _emails(outbox) == []
        problems.assert_clean()

        # Refusal (R12): no half-done login, so the code page sends us back.
        page.goto("/connexion/code/")
        page.wait_for_url("**/connexion/")
        expect(page.get_by_text("Identifiez-vous d'abord")).to_be_visible()


def test_dsfr_scripts_run_without_errors(page: Page, problems: BrowserProblems) -> None:
    page.goto("/connexion/")
    expect(page.locator("html")).to_have_attribute("data-fr-js", "true")
    # Script errors reach us in order with this reply: wait until DSFR started.
    page.evaluate("() => new Promise(resolve => setTimeout(resolve, 200))")
    problems.assert_clean()


def test_the_mobile_menu_reaches_the_login_button(
    page: Page, problems: BrowserProblems
) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    page.get_by_role("button", name="Menu").click()
    menu = page.locator("#modal-menu")
    expect(menu.get_by_role("link", name="Se connecter")).to_be_visible()
    problems.assert_clean()
