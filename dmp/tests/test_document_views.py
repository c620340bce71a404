"""The patient's documents pages (DMP-1, DMP-2, DMP-3, DMP-5, DMP-8, DMP-11,
CONS-7): list with filters and search, add with its refusals in French, the
upload handler that skips oversize files, detail with preview and versions,
masks, deletion and folders. Other people get the same 404 as a missing
object (SEC-1)."""

from __future__ import annotations

import datetime as dt
import html
import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from consent.models import CareRelationship
from dmp import services
from dmp.codes import PREVIEWABLE
from dmp.models import Document, Folder
from dmp.views import PREVIEW_KINDS
from espace.models import Beneficiary, User
from tests.files import pdf_bytes, png_bytes
from tests.http import page_body
from tests.personas import open_dmp, verified_client

LIST = "/mon-espace/documents/"
ADD = "/mon-espace/documents/ajouter/"


def _deposit(
    actor: User, patient: Beneficiary, data: bytes | None = None, **fields: Any
) -> Document:
    options: dict[str, Any] = {
        "title": "Compte rendu de biologie",
        "type_code": "11502-2" if actor.role == User.Role.PROFESSIONAL else "DOCPAT05",
        "file_name": "résultats.pdf",
    }
    options.update(fields)
    return services.document_deposit(
        actor=actor,
        patient=patient,
        stream=io.BytesIO(pdf_bytes() if data is None else data),
        **options,
    )


def _stored_files() -> list[Path]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _text(response: Any) -> str:
    """The page as read (entities decoded: d'examens -> d'examens)."""
    return html.unescape(response.content.decode())


def _upload(
    client: Client, data: bytes = b"", name: str = "bilan.pdf", **fields: Any
) -> Any:
    headers = fields.pop("headers", {})
    form: dict[str, Any] = {
        "title": "Bilan sanguin",
        "type_code": "DOCPAT05",
        "document_date": "03/02/2025",
        "folder": "",
        "file": SimpleUploadedFile(name, data or pdf_bytes()),
    }
    form.update(fields)
    return client.post(ADD, form, headers=headers)


# ------------------------------------------------------------------ list


@pytest.mark.django_db
class DocumentListTestCase:
    def test_dmp1_the_patient_sees_her_documents_with_authors_and_one_audit(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        _deposit(charlie_in_care, alice_dmp, title="Bilan lipidique")
        _deposit(alice, alice_dmp, title="Carnet de vaccination")
        response = verified_client(alice).get(LIST)
        assert response.status_code == 200
        page = _text(response)
        assert "Bilan lipidique" in page and "Carnet de vaccination" in page
        assert "Charlie Test" in page and "Vous" in page
        assert "CR d'examens biologiques" in page
        assert "2 documents" in page
        assert AuditEvent.objects.filter(code="dmp.documents.list:self").count() == 1

    def test_dmp1_filters_category_author_dates_folder_and_title_search(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        folder = services.folder_create(actor=alice, patient=alice_dmp, name="Suivi")
        _deposit(
            charlie_in_care,
            alice_dmp,
            title="Bilan lipidique",
            document_date=dt.date(2024, 5, 1),
        )
        _deposit(
            alice,
            alice_dmp,
            title="Ordonnance lunettes",
            document_date=dt.date(2025, 1, 10),
            folder=folder,
        )
        client = verified_client(alice)

        def titles(**query: str) -> set[str]:
            response = client.get(LIST, query)
            assert response.status_code == 200
            page = _text(response)
            return {t for t in ("Bilan lipidique", "Ordonnance lunettes") if t in page}

        assert titles(category="10") == {"Bilan lipidique"}
        assert titles(category="90") == {"Ordonnance lunettes"}
        assert titles(author="patient") == {"Ordonnance lunettes"}
        assert titles(author="professional") == {"Bilan lipidique"}
        assert titles(since="01/01/2025") == {"Ordonnance lunettes"}
        assert titles(until="31/12/2024") == {"Bilan lipidique"}
        assert titles(folder=str(folder.pk)) == {"Ordonnance lunettes"}
        assert titles(folder=str(uuid.uuid4())) == set()
        assert titles(q="LIPIDIQUE") == {"Bilan lipidique"}
        assert titles(q="bilan ordonnance") == set()
        empty = _text(client.get(LIST, {"q": "radio"}))
        assert "Aucun document ne correspond à votre recherche." in empty

    def test_bad_filters_answer_400_in_french(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        client = verified_client(alice)
        response = client.get(LIST, {"since": "32/13/2024", "category": "77"})
        assert response.status_code == 400
        page = _text(response)
        assert "Saisissez une date au format JJ/MM/AAAA." in page
        assert "Sélectionnez un choix valide" in page
        backwards = client.get(LIST, {"since": "02/01/2025", "until": "01/01/2025"})
        assert backwards.status_code == 400
        assert "La date de fin précède la date de début." in _text(backwards)

    def test_empty_state_and_masked_badge(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        client = verified_client(alice)
        assert "Aucun document pour le moment" in _text(client.get(LIST))
        document = _deposit(alice, alice_dmp)
        services.documents_mask(
            actor=alice, patient=alice_dmp, documents=[document], masked=True
        )
        assert "Masqué aux professionnels" in _text(client.get(LIST))

    def test_the_home_and_the_menu_lead_to_the_documents_once_the_dmp_exists(
        self, alice: User, leo: Beneficiary
    ) -> None:
        client = verified_client(alice)
        home = _text(client.get(reverse("espace:patient-home")))
        assert 'href="/mon-espace/documents/"' in home  # the menu
        assert "Voir mes documents" not in home  # no DMP yet: no card
        open_dmp(alice.beneficiary)
        assert "Voir mes documents" in _text(client.get(reverse("espace:patient-home")))
        client.post(reverse("espace:profile-switch", args=[leo.pk]))
        assert "Voir ses documents" not in _text(
            client.get(reverse("espace:patient-home"))
        )
        open_dmp(leo)
        assert "Voir ses documents" in _text(client.get(reverse("espace:patient-home")))

    def test_a_space_without_dmp_gets_a_clear_page(
        self, alice: User, leo: Beneficiary
    ) -> None:
        client = verified_client(alice)
        for url in (LIST, ADD):
            response = client.get(url)
            assert response.status_code == 200
            assert "Le dossier médical partagé n'est pas ouvert" in _text(response)
        client.post(reverse("espace:profile-switch", args=[leo.pk]))
        assert "Le dossier médical partagé (DMP) de Leo" in _text(client.get(LIST))

    def test_cons7_the_parent_sees_the_child_documents_but_not_the_hidden_ones(
        self, alice: User, leo_dmp: Beneficiary, charlie: User
    ) -> None:
        CareRelationship.objects.create(
            patient=leo_dmp, professional=charlie.professional, kind="consent"
        )
        _deposit(charlie, leo_dmp, title="Vaccins de Leo")
        secret = _deposit(
            charlie, leo_dmp, title="Consultation confidentielle", **_secret()
        )
        client = verified_client(alice)
        own = _text(client.get(LIST))
        assert "Vaccins de Leo" not in own  # her own profile first
        client.post(reverse("espace:profile-switch", args=[leo_dmp.pk]))
        page = _text(client.get(LIST))
        assert "Documents de Leo" in page and "Vaccins de Leo" in page
        assert "Consultation confidentielle" not in page and "1 document" in page
        hidden = reverse("dmp:document-detail", args=[secret.pk])
        missing = reverse("dmp:document-detail", args=[uuid.uuid4()])
        one, other = client.get(hidden), client.get(missing)
        assert one.status_code == other.status_code == 404
        assert page_body(one.content) == page_body(other.content)

    def test_refusals_other_patients_and_professionals_get_404(
        self, alice: User, alice_dmp: Beneficiary, eve_dmp: Beneficiary, victor: User
    ) -> None:
        _deposit(alice, alice_dmp, title="Carnet de vaccination")
        assert "Carnet de vaccination" not in _text(
            verified_client(eve_dmp.user).get(LIST)  # type: ignore[arg-type]
        )
        assert verified_client(victor).get(LIST).status_code == 404


def _secret() -> dict[str, Any]:
    return {"invisible_representatives": True}


# ------------------------------------------------------------------ add


@pytest.mark.django_db
class DocumentAddTestCase:
    def test_dmp5_the_patient_adds_a_pdf_into_a_folder(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        folder = services.folder_create(actor=alice, patient=alice_dmp, name="Bilans")
        client = verified_client(alice)
        form = client.get(ADD)
        assert form.status_code == 200
        assert "Bilans" in _text(form) and "Compte rendu de biologie" in _text(form)
        response = _upload(client, folder=str(folder.pk))
        assert response.status_code == 302 and response["Location"] == LIST
        document = Document.objects.get()
        assert (document.title, document.type_code, document.class_code) == (
            "Bilan sanguin",
            "DOCPAT05",
            "90",
        )
        assert document.document_date == dt.date(2025, 2, 3)
        assert document.folder == folder and document.deposited_by == alice
        assert "Votre document a été ajouté." in _text(client.get(LIST))

    def test_the_upload_script_gets_the_address_to_go_to(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        client = verified_client(alice)
        response = _upload(
            client, headers={"X-Requested-With": "XMLHttpRequest"}, document_date=""
        )
        assert response.status_code == 200
        assert response.json() == {"redirect": LIST}
        assert Document.objects.get().document_date == timezone.localdate()

    @pytest.mark.parametrize(
        ("data", "fields", "reason"),
        [
            (b"MZ\x90\x00binary", {}, "Ce type de fichier n'est pas accepté"),
            (
                b"%PDF-1.4\n1 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\n",
                {},
                "Ce PDF contient du code (JavaScript)",
            ),
            (
                pdf_bytes() + b"%" + b"0" * (5 * 1024 * 1024),
                {},
                "Le fichier dépasse la taille maximale de 5 Mo.",
            ),
            (b"", {"type_code": "11502-2"}, "Choisissez un type de document"),
            (b"", {"title": "  "}, "Donnez un titre au document."),
            (b"", {"document_date": "01/01/2999"}, "La date du document est dans"),
            (b"", {"document_date": "2025-13-45"}, "Saisissez une date au format"),
            (b"", {"folder": str(uuid.uuid4())}, "Sélectionnez un choix valide"),
            (b"", {"file": ""}, "Choisissez un fichier."),
        ],
    )
    def test_dmp2_refusals_say_why_in_french_with_400_and_store_nothing(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        data: bytes,
        fields: dict[str, str],
        reason: str,
    ) -> None:
        response = _upload(verified_client(alice), data, **fields)
        assert response.status_code == 400
        assert reason in _text(response)
        assert "Le document n'a pas été ajouté" in _text(response)
        assert Document.objects.count() == 0 and _stored_files() == []

    def test_refusal_another_patient_or_a_professional_cannot_add(
        self, alice: User, alice_dmp: Beneficiary, victor: User, eve: User
    ) -> None:
        assert verified_client(victor).get(ADD).status_code == 404
        assert _upload(verified_client(victor)).status_code == 404
        # eve has no open DMP: the clear page, and nothing stored
        response = _upload(verified_client(eve))
        assert "n'est pas ouvert" in _text(response)
        assert Document.objects.count() == 0


class SpyHandler(FileUploadHandler):
    """Stands for the handlers that keep a file: counts what reaches them."""

    received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        SpyHandler.received += len(raw_data)
        return None

    def file_complete(self, file_size: int) -> None:
        return None


@pytest.mark.django_db
class UploadHandlerTestCase:
    def test_dmp2_an_oversize_upload_is_skipped_and_answered_in_french(
        self, alice: User, alice_dmp: Beneficiary, settings: Any
    ) -> None:
        settings.DMP_PROFESSIONAL_MAX_BYTES = 256 * 1024
        settings.FILE_UPLOAD_HANDLERS = [
            "lib.upload_handlers.SizeLimitUploadHandler",
            "dmp.tests.test_document_views.SpyHandler",
        ]
        SpyHandler.received = 0
        huge = pdf_bytes() + b"%" + b"0" * (4 * 1024 * 1024)
        response = _upload(verified_client(alice), huge, title="Scanner complet")
        assert response.status_code == 413
        page = _text(response)
        assert "Le fichier est trop volumineux : 5\u00a0Mo au maximum." in page
        assert 'value="Scanner complet"' in page  # the rest of the form is kept
        assert SpyHandler.received <= settings.DMP_PROFESSIONAL_MAX_BYTES + 1
        assert Document.objects.count() == 0 and _stored_files() == []

    def test_a_file_within_the_limit_goes_through(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        assert settings.FILE_UPLOAD_HANDLERS[0] == (
            "lib.upload_handlers.SizeLimitUploadHandler"
        )
        response = _upload(verified_client(alice), png_bytes(), name="photo.png")
        assert response.status_code == 302
        assert Document.objects.get().mime_type == "image/png"


# ------------------------------------------------------------------ detail


@pytest.mark.django_db
class DocumentDetailTestCase:
    def test_dmp1_dmp11_metadata_versions_and_pdf_preview(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        first = _deposit(charlie_in_care, alice_dmp, document_date=dt.date(2025, 3, 4))
        second = _deposit(
            charlie_in_care,
            alice_dmp,
            replaces=first,
            title="Bilan corrigé",
            document_date=dt.date(2025, 3, 4),
        )
        response = verified_client(alice).get(
            reverse("dmp:document-detail", args=[second.pk])
        )
        assert response.status_code == 200
        page = _text(response)
        for text in (
            "Bilan corrigé",
            "CR d'examens biologiques",
            "Compte rendu",  # the class
            "Charlie Test",
            "04/03/2025",
            "PDF",
            f"{len(pdf_bytes())}\u00a0octets",
            "Version 1, ajoutée le",
            reverse("dmp:document-preview", args=[second.pk]),
            reverse("dmp:document-download", args=[second.pk]),
        ):
            assert text in page, text
        assert "<iframe" in page
        assert "Supprimer le document" not in page  # a professional's document
        assert (
            AuditEvent.objects.filter(
                code="dmp.document.read:self", target_id=str(second.pk)
            ).count()
            == 1
        )

    def test_images_are_shown_and_rtf_is_downloaded(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        client = verified_client(alice)
        photo = _deposit(alice, alice_dmp, png_bytes(), file_name="photo.png")
        letter = _deposit(alice, alice_dmp, b"{\\rtf1 Lettre}", file_name="l.rtf")
        page = _text(client.get(reverse("dmp:document-detail", args=[photo.pk])))
        assert '<img class="mes-preview mes-preview--image"' in page
        page = _text(client.get(reverse("dmp:document-detail", args=[letter.pk])))
        assert "Un fichier RTF ne peut pas être affiché ici" in page
        assert "<iframe" not in page
        assert set(PREVIEW_KINDS) == PREVIEWABLE  # every inline type has its kind

    def test_refusal_eve_and_victor_get_the_missing_404(
        self, alice: User, alice_dmp: Beneficiary, eve_dmp: Beneficiary, victor: User
    ) -> None:
        document = _deposit(alice, alice_dmp)
        for user in (eve_dmp.user, victor):
            client = verified_client(user)  # type: ignore[arg-type]
            one = client.get(reverse("dmp:document-detail", args=[document.pk]))
            other = client.get(reverse("dmp:document-detail", args=[uuid.uuid4()]))
            assert one.status_code == other.status_code == 404
            assert page_body(one.content) == page_body(other.content)


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (1, "1\u00a0octet"),
        (1023, "1023\u00a0octets"),
        (12_390, "12,1\u00a0Ko"),
        (5 * 1024 * 1024, "5\u00a0Mo"),
        (1_300_000, "1,2\u00a0Mo"),
    ],
)
def test_dmp1_sizes_are_shown_in_ko_and_mo(size: int, shown: str) -> None:
    from django.utils import translation

    from dmp.views import human_size

    with translation.override("fr"):
        assert human_size(size) == shown


# ------------------------------------------------------------------ actions


@pytest.mark.django_db
class DocumentActionsTestCase:
    def test_dmp8_mask_and_unmask_one_document(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        document = _deposit(charlie_in_care, alice_dmp)
        client = verified_client(alice)
        response = client.post(
            reverse("dmp:document-mask", args=[document.pk]), {"next": LIST}
        )
        assert response.status_code == 302 and response["Location"] == LIST
        document.refresh_from_db()
        assert document.masked
        assert "masqué aux professionnels de santé" in _text(client.get(LIST))
        response = client.post(reverse("dmp:document-unmask", args=[document.pk]))
        assert response["Location"] == reverse(
            "dmp:document-detail", args=[document.pk]
        )
        document.refresh_from_db()
        assert not document.masked

    def test_dmp8_mask_all_then_show_all(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        _deposit(charlie_in_care, alice_dmp)
        _deposit(alice, alice_dmp)
        client = verified_client(alice)
        client.post(reverse("dmp:documents-mask-all"))
        assert Document.objects.filter(masked=True).count() == 2
        assert "2 documents ont été masqués" in _text(client.get(LIST))
        client.post(reverse("dmp:documents-unmask-all"), {"next": "https://evil.test/"})
        assert Document.objects.filter(masked=True).count() == 0

    def test_dmp5_delete_what_the_patient_added_only(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        theirs = _deposit(charlie_in_care, alice_dmp)
        mine = _deposit(alice, alice_dmp)
        client = verified_client(alice)
        response = client.post(reverse("dmp:document-delete", args=[mine.pk]))
        assert response.status_code == 302 and response["Location"] == LIST
        mine.refresh_from_db()
        assert mine.status == Document.Status.DELETED  # DMP-11: the row stays
        refused = client.post(reverse("dmp:document-delete", args=[theirs.pk]))
        assert refused.status_code == 404
        theirs.refresh_from_db()
        assert theirs.status == Document.Status.CURRENT
        gone = client.get(reverse("dmp:document-detail", args=[mine.pk]))
        assert gone.status_code == 404

    def test_dmp5_move_into_a_folder_and_out(
        self, alice: User, alice_dmp: Beneficiary, eve_dmp: Beneficiary
    ) -> None:
        document = _deposit(alice, alice_dmp)
        folder = services.folder_create(actor=alice, patient=alice_dmp, name="Yeux")
        others = services.folder_create(
            actor=eve_dmp.user,  # type: ignore[arg-type]
            patient=eve_dmp,
            name="Eve",
        )
        client = verified_client(alice)
        url = reverse("dmp:document-move", args=[document.pk])
        client.post(url, {"folder": str(folder.pk)})
        document.refresh_from_db()
        assert document.folder == folder
        assert client.post(url, {"folder": str(others.pk)}).status_code == 404
        assert client.post(url, {"folder": "pas-un-id"}).status_code == 404
        client.post(url, {"folder": ""})
        document.refresh_from_db()
        assert document.folder is None

    def test_refusal_eve_cannot_touch_alice_documents(
        self, alice: User, alice_dmp: Beneficiary, eve_dmp: Beneficiary
    ) -> None:
        document = _deposit(alice, alice_dmp)
        client = verified_client(eve_dmp.user)  # type: ignore[arg-type]
        for name in ("document-mask", "document-delete", "document-move"):
            response = client.post(reverse(f"dmp:{name}", args=[document.pk]))
            assert response.status_code == 404, name
        document.refresh_from_db()
        assert not document.masked and document.status == Document.Status.CURRENT
        client.post(reverse("dmp:documents-mask-all"))
        document.refresh_from_db()
        assert not document.masked  # her own documents only


# ------------------------------------------------------------------ folders


@pytest.mark.django_db
class FolderTestCase:
    def test_dmp5_create_rename_delete_a_folder(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        client = verified_client(alice)
        response = client.post(reverse("dmp:folder-create"), {"name": " Analyses "})
        assert response.status_code == 302
        folder = Folder.objects.get()
        assert folder.name == "Analyses"
        document = _deposit(alice, alice_dmp, folder=folder)
        client.post(reverse("dmp:folder-rename", args=[folder.pk]), {"name": "Bilans"})
        folder.refresh_from_db()
        assert folder.name == "Bilans"
        assert "Bilans" in _text(client.get(LIST))
        client.post(reverse("dmp:folder-delete", args=[folder.pk]))
        assert Folder.objects.count() == 0
        document.refresh_from_db()
        assert document.folder is None and document.status == "current"

    def test_bad_names_are_said_in_french_with_400(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        client = verified_client(alice)
        for name in ("", "x" * 81):
            response = client.post(reverse("dmp:folder-create"), {"name": name})
            assert response.status_code == 400
            assert "Nom de dossier : de 1 à 80 caractères." in _text(response)
        folder = services.folder_create(actor=alice, patient=alice_dmp, name="A")
        response = client.post(
            reverse("dmp:folder-rename", args=[folder.pk]), {"name": "   "}
        )
        assert response.status_code == 400
        assert Folder.objects.get().name == "A"

    def test_refusal_another_family_folder_is_a_404(
        self, alice: User, alice_dmp: Beneficiary, eve_dmp: Beneficiary
    ) -> None:
        folder = services.folder_create(actor=alice, patient=alice_dmp, name="A")
        client = verified_client(eve_dmp.user)  # type: ignore[arg-type]
        rename = client.post(
            reverse("dmp:folder-rename", args=[folder.pk]), {"name": "B"}
        )
        delete = client.post(reverse("dmp:folder-delete", args=[folder.pk]))
        missing = client.post(reverse("dmp:folder-delete", args=[uuid.uuid4()]))
        assert rename.status_code == delete.status_code == missing.status_code == 404
        assert page_body(delete.content) == page_body(missing.content)
        assert Folder.objects.get().name == "A"


@pytest.mark.django_db
class OneAuditEntryPerWriteTestCase:
    """G-S12: a write from a page leaves exactly one audit entry (the
    service's), and a parent's "mask all" leaves alone what is hidden from
    the child's representatives (CONS-7)."""

    def test_g_s12_mask_delete_move_each_leave_one_entry(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        client = verified_client(alice)
        document = _deposit(alice, alice_dmp)
        for name in ("dmp:document-mask", "dmp:document-unmask", "dmp:document-delete"):
            before = AuditEvent.objects.count()
            client.post(reverse(name, args=[document.pk]))
            assert AuditEvent.objects.count() == before + 1, name

    def test_cons7_mask_all_by_a_parent_skips_what_parents_cannot_see(
        self, alice: User, leo_dmp: Beneficiary, bob: User
    ) -> None:
        CareRelationship.objects.create(
            patient=leo_dmp, professional=bob.professional, kind="consent"
        )
        secret = _deposit(bob, leo_dmp, invisible_representatives=True)
        shared = _deposit(bob, leo_dmp)
        services.documents_mask(
            actor=alice, patient=leo_dmp, documents=None, masked=True
        )
        secret.refresh_from_db()
        shared.refresh_from_db()
        assert (secret.masked, shared.masked) == (False, True)
