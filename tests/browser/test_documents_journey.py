"""The patient's documents in Chromium, under the real CSP (DMP-1, DMP-2,
DMP-3, DMP-5, DMP-8): alice uploads a PDF through the page and watches the
progress bar, finds it in the list, opens it with its preview shown, masks
it, and filters the list by category. Screenshots go to var/screenshots/."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from dmp import services
from espace.models import Beneficiary, User
from tests.browser.test_children_journey import _log_in_as
from tests.browser.test_login_journeys import (
    BrowserProblems,
    _screenshot,
    problems,  # noqa: F401 - fixture
)
from tests.files import pdf_bytes, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What Chromium logs for the refused upload's answer (expected here).
BAD_REQUEST = (
    "Failed to load resource: the server responded with a status of 400 (Bad Request)"
)
NOT_FOUND = (
    "Failed to load resource: the server responded with a status of 404 (Not Found)"
)


def _throttle_uploads(page: Page, bytes_per_second: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )


def _until(locator: Locator, check: str, seconds: float = 10) -> None:
    """Poll a check on an element (wait_for_function would need the
    'unsafe-eval' our CSP forbids)."""
    deadline = time.monotonic() + seconds
    while not locator.evaluate(check):
        assert time.monotonic() < deadline, check
        locator.page.wait_for_timeout(50)


def _pdf_shown(page: Page, file_name: str, seconds: float = 10) -> None:
    """Chromium's PDF viewer (an extension frame inside the preview frame)
    has loaded the file: its title becomes the file's name. This proves the
    sandboxed preview answer (CSP sandbox, nosniff) still renders."""
    deadline = time.monotonic() + seconds
    while True:
        viewers = [f for f in page.frames if f.url.startswith("chrome-extension://")]
        if viewers and viewers[0].evaluate("() => document.title") == file_name:
            return
        assert time.monotonic() < deadline, [f.url for f in page.frames]
        page.wait_for_timeout(100)  # lets Playwright take in the new frames


class _PreviewRequests:
    """The preview's requests: Chromium loads a PDF twice (the frame, then
    its viewer); leaving the page before both ended would abort one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.started = self.ended = 0
        page.on("request", lambda r: self._count(r.url, started=1))
        page.on("requestfinished", lambda r: self._count(r.url, ended=1))
        page.on("requestfailed", lambda r: self._count(r.url, ended=1))

    def _count(self, url: str, *, started: int = 0, ended: int = 0) -> None:
        if url.endswith("/apercu"):
            self.started += started
            self.ended += ended

    def wait_settled(self, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while self.started < 2 or self.ended < self.started:
            assert time.monotonic() < deadline, (self.started, self.ended)
            self.page.wait_for_timeout(100)


def _report_pdf() -> bytes:
    """A one-page report with text (WeasyPrint), padded to 3 MB so that the
    upload takes a few seconds at 1 MB/s."""
    from weasyprint import HTML

    report = HTML(
        string="<h1>Bilan sanguin</h1><p>Glycémie à jeun : 0,95 g/L</p>"
    ).write_pdf()
    assert report is not None
    return report + b"%" + b"0" * (3 * 1024 * 1024 - len(report))


def test_dmp2_alice_uploads_a_pdf_sees_it_previews_masks_and_filters(
    page: Page,
    problems: BrowserProblems,
    alice: User,
    alice_dmp: Beneficiary,
    charlie_in_care: User,
    live_server: Any,
) -> None:
    services.document_deposit(
        actor=charlie_in_care,
        patient=alice_dmp,
        stream=io.BytesIO(pdf_bytes()),
        file_name="consultation.pdf",
        title="Compte rendu de consultation",
        type_code="11488-4",
    )
    page.goto("/")
    _log_in_as(page, alice)
    page.goto("/mon-espace/")
    _screenshot(page, "documents-0-home")
    page.get_by_test_id("home-documents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes documents")
    expect(page.get_by_test_id("document-count")).to_have_text("1 document")

    page.get_by_role("link", name="Ajouter un document").first.click()
    page.get_by_label("Fichier").set_input_files(
        files=[
            {
                "name": "bilan.pdf",
                "mimeType": "application/pdf",
                "buffer": _report_pdf(),
            }
        ]
    )
    page.get_by_label("Titre du document").fill("Bilan sanguin de mars")
    page.get_by_label("Type de document").select_option(
        label="Compte rendu de biologie"
    )
    page.get_by_label("Date du document").fill("12/03/2025")
    _throttle_uploads(page, 1024 * 1024)
    page.get_by_role("button", name="Ajouter le document").click()
    bar = page.get_by_test_id("upload-progress")
    expect(bar).to_be_visible()
    _until(bar, "bar => bar.value > 0")
    expect(page.get_by_text("Envoi du fichier :")).to_be_visible()
    _screenshot(page, "documents-1-upload-progress")

    page.wait_for_url("**/mon-espace/documents/")
    expect(page.get_by_role("status")).to_contain_text("Votre document a été ajouté.")
    expect(page.get_by_test_id("document-count")).to_have_text("2 documents")
    row = page.get_by_test_id("document-row").filter(has_text="Bilan sanguin de mars")
    expect(row).to_contain_text("Compte rendu de biologie")
    expect(row).to_contain_text("Vous")
    expect(row).to_contain_text("12/03/2025")
    _screenshot(page, "documents-2-list")

    previews = _PreviewRequests(page)
    row.get_by_role("link", name="Bilan sanguin de mars", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bilan sanguin de mars")
    expect(page.get_by_test_id("document-meta")).to_contain_text("3\u00a0Mo")
    expect(page.get_by_test_id("preview")).to_be_visible()
    _pdf_shown(page, "bilan.pdf")
    previews.wait_settled()
    page.wait_for_timeout(500)  # the viewer paints its first page
    _screenshot(page, "documents-3-detail")

    page.get_by_role("button", name="Masquer aux professionnels").click()
    expect(page.get_by_role("status")).to_contain_text("masqué aux professionnels")
    expect(page.get_by_test_id("masked-badge")).to_have_text(
        "Masqué aux professionnels"
    )
    page.get_by_role("link", name="Retour aux documents").click()
    expect(row.get_by_test_id("masked-badge")).to_be_visible()

    page.get_by_label("Catégorie").select_option(
        label="Autres documents déposés par le patient"
    )
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_test_id("document-count")).to_have_text("1 document")
    expect(page.get_by_test_id("document-row")).to_contain_text("Bilan sanguin de mars")
    expect(page.get_by_label("Catégorie")).to_have_value("90")
    _screenshot(page, "documents-4-filtered")
    # Leaving the page stops the PDF viewer's own (chrome://) loads: not ours.
    problems.failed_assets = [
        asset
        for asset in problems.failed_assets
        if not asset.startswith(("chrome-extension://", "chrome://"))
    ]
    problems.assert_clean()


def test_dmp3_dmp5_image_preview_refused_upload_and_folders(
    page: Page,
    problems: BrowserProblems,
    alice: User,
    alice_dmp: Beneficiary,
    live_server: Any,
) -> None:
    photo = services.document_deposit(
        actor=alice,
        patient=alice_dmp,
        stream=io.BytesIO(png_bytes(320, 200)),
        file_name="ordonnance.png",
        title="Photo de l'ordonnance",
        type_code="DOCPAT02",
    )
    page.goto("/")
    _log_in_as(page, alice)
    page.goto(f"/mon-espace/documents/{photo.pk}/")
    image = page.get_by_test_id("preview")
    expect(image).to_be_visible()
    _until(image, "img => img.complete && img.naturalWidth === 320")
    _screenshot(page, "documents-5-image")

    page.goto("/mon-espace/documents/ajouter/")
    page.get_by_label("Fichier").set_input_files(
        files=[
            {"name": "lettre.docx", "mimeType": "text/plain", "buffer": b"PK\x03\x04"}
        ]
    )
    page.get_by_label("Titre du document").fill("Lettre")
    page.get_by_label("Type de document").select_option(label="Compte rendu")
    page.get_by_role("button", name="Ajouter le document").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Ce type de fichier n'est pas accepté"
    )
    expect(page.get_by_label("Titre du document")).to_have_value("Lettre")
    _screenshot(page, "documents-6-refused")

    # DMP-5: folders, made, renamed and deleted (after a confirmation).
    page.get_by_role("link", name="Retour aux documents").click()
    page.get_by_label("Nom du dossier").fill("Ordonnances")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("status")).to_contain_text("Ordonnances")
    folder = page.get_by_test_id("folder")
    folder.get_by_text("Modifier").click()
    folder.get_by_label("Nouveau nom").fill("Ordonnances 2025")
    _screenshot(page, "documents-7-folders")
    folder.get_by_role("button", name="Renommer").click()
    expect(folder.get_by_role("link")).to_have_text("Ordonnances 2025")
    page.get_by_role("link", name="Photo de l'ordonnance", exact=True).click()
    page.get_by_label("Ranger dans un dossier").select_option(label="Ordonnances 2025")
    page.get_by_role("button", name="Ranger").click()
    expect(page.get_by_role("status")).to_contain_text("Ordonnances 2025")
    page.get_by_role("link", name="Retour aux documents").click()
    page.get_by_test_id("folder").get_by_role("link").click()
    expect(page.get_by_test_id("document-row")).to_contain_text("Photo")
    page.get_by_test_id("folder").get_by_text("Modifier").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Supprimer le dossier").click()
    expect(page.get_by_role("status")).to_contain_text("Le dossier a été supprimé")
    expect(page.get_by_test_id("folder")).to_have_count(0)
    expect(page.get_by_test_id("document-count")).to_have_text("1 document")
    problems.assert_clean(known=(BAD_REQUEST,))


def test_refusal_another_patient_finds_no_page_nor_file(
    page: Page,
    problems: BrowserProblems,
    alice: User,
    alice_dmp: Beneficiary,
    eve: User,
    live_server: Any,
) -> None:
    document = services.document_deposit(
        actor=alice,
        patient=alice_dmp,
        stream=io.BytesIO(pdf_bytes()),
        file_name="bilan.pdf",
        title="Bilan sanguin",
        type_code="DOCPAT05",
    )
    page.goto("/")
    _log_in_as(page, eve)
    for url in (
        f"/mon-espace/documents/{document.pk}/",
        f"/documents/{document.pk}/apercu",
    ):
        response = page.goto(url)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
        expect(page.get_by_text("Bilan sanguin")).to_have_count(0)
    page.goto("/mon-espace/documents/")
    expect(page.get_by_test_id("no-dmp")).to_be_visible()  # eve's space has no DMP
    problems.assert_clean(known=(NOT_FOUND,))
