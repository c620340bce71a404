"""The documents API (SPEC §8): the same policy, audit and answers as the
portal (DMP-2 to DMP-11, CONS-1, CONS-2, CONS-7, SEC-1, SEC-8), a constant
number of queries per page (G-P4), and a schema that builds without warnings."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dmp import services
from dmp.models import Document
from espace.models import Beneficiary, User
from tests.files import pdf_bytes, png_bytes
from tests.personas import verified_client

LIST = reverse("dmp-api:document-list")
MASK_ALL = reverse("dmp-api:document-mask-all")


def _deposit(actor: User, patient: Beneficiary, **fields: Any) -> Document:
    options: dict[str, Any] = {
        "title": "Bilan sanguin",
        "type_code": "11502-2" if actor.role == User.Role.PROFESSIONAL else "DOCPAT05",
        "file_name": "bilan.pdf",
    }
    options.update(fields)
    return services.document_deposit(
        actor=actor, patient=patient, stream=io.BytesIO(pdf_bytes()), **options
    )


def _many(patient: Beneficiary, author: User, count: int) -> None:
    """`count` documents of a doctor, straight into the table (no files: the
    list never opens them)."""
    today = timezone.localdate()
    Document.objects.bulk_create(
        [
            Document(
                patient=patient,
                title=f"Compte rendu {i}",
                type_code="11488-4",
                class_code="10",
                mime_type="application/pdf",
                size=1000 + i,
                sha256="0" * 64,
                file=f"dmp/{patient.pk}/{uuid.uuid4().hex}",
                file_name=f"cr-{i}.pdf",
                author_professional=author.professional,
                deposited_by=author,
                document_date=today - dt.timedelta(days=i),
            )
            for i in range(count)
        ]
    )


def _upload(data: bytes | None = None, name: str = "bilan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes() if data is None else data)


def _stored_files() -> list[Path]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _ids(response: Any) -> set[str]:
    return {item["id"] for item in response.json()["results"]}


def _audits(code: str) -> int:
    return AuditEvent.objects.filter(code=code).count()


@pytest.mark.django_db
class DocumentListApiTestCase:
    def test_g_p4_the_patient_lists_her_record_paged_newest_first(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        old = _deposit(alice, alice_dmp, document_date=dt.date(2024, 1, 5))
        new = _deposit(charlie_in_care, alice_dmp, title="Radio du genou")
        response = verified_client(alice).get(LIST)
        assert response.status_code == 200
        body = response.json()
        assert (body["count"], body["next"], body["previous"]) == (2, None, None)
        first, second = body["results"]
        assert (first["id"], second["id"]) == (str(new.pk), str(old.pk))
        assert first["title"] == "Radio du genou"
        assert (first["type_code"], first["type_label"]) == (
            "11502-2",
            "CR d'examens biologiques",
        )
        assert (first["class_code"], first["class_label"]) == ("10", "Compte rendu")
        assert first["author"] == {
            "kind": "professional",
            "name": "Charlie Test",
            "profession": "10",
            "profession_label": "Médecin",
            "establishment": "",
        }
        assert second["author"]["kind"] == "patient"
        assert first["masked"] is False and first["version"] == 1
        assert first["size"] == len(pdf_bytes())
        assert first["mime_type"] == "application/pdf"
        assert first["links"]["detail"] == (
            f"http://testserver{reverse('dmp-api:document-detail', args=[new.pk])}"
        )
        assert first["links"]["download"].endswith(f"/documents/{new.pk}/file")
        # Never the storage name, the hash or the original file name in a list.
        assert not {"file", "sha256", "file_name"} & set(first)
        assert new.file not in response.content.decode()
        assert _audits("dmp.documents.list:self") == 1

    def test_g_p4_pages_of_20_up_to_100(
        self, alice: User, alice_dmp: Beneficiary, bob: User
    ) -> None:
        _many(alice_dmp, bob, 105)
        client = verified_client(alice)
        first = client.get(LIST).json()
        assert (first["count"], len(first["results"])) == (105, 20)
        assert first["previous"] is None and "page=2" in first["next"]
        last = client.get(LIST, {"page": 2, "page_size": 100}).json()
        assert len(last["results"]) == 5 and last["next"] is None
        assert client.get(LIST, {"page_size": 101}).status_code == 400
        assert client.get(LIST, {"page": 99}).status_code == 404

    def test_filters_narrow_the_list(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        folder = services.folder_create(actor=alice, patient=alice_dmp, name="Dents")
        mine = _deposit(
            alice,
            alice_dmp,
            title="Devis dentaire",
            type_code="DOCPAT09",
            folder=folder,
            document_date=dt.date(2023, 6, 1),
        )
        lab = _deposit(charlie_in_care, alice_dmp, title="Glycémie à jeun")
        scan = _deposit(
            charlie_in_care, alice_dmp, title="IRM du genou", type_code="18748-4"
        )
        client = verified_client(alice)
        cases: list[tuple[dict[str, Any], set[Document]]] = [
            ({"class_code": "90"}, {mine}),
            ({"type_code": "18748-4"}, {scan}),
            ({"author": "patient"}, {mine}),
            ({"author": "professional"}, {lab, scan}),
            ({"author": str(charlie_in_care.professional.pk)}, {lab, scan}),
            ({"since": "2024-01-01"}, {lab, scan}),
            ({"until": "2023-12-31"}, {mine}),
            ({"search": "GENOU irm"}, {scan}),
            ({"search": "glycémie"}, {lab}),
            ({"folder": str(folder.pk)}, {mine}),
        ]
        for query, expected in cases:
            response = client.get(LIST, query)
            assert response.status_code == 200, query
            assert _ids(response) == {str(d.pk) for d in expected}, query
            assert response.json()["count"] == len(expected), query
        bad = client.get(LIST, {"since": "2024-02-01", "until": "2024-01-01"})
        assert bad.status_code == 400
        assert bad.json() == {"until": ["La date de fin précède la date de début."]}
        assert client.get(LIST, {"since": "hier"}).status_code == 400

    def test_cons7_a_representative_lists_her_child_minus_his_secret(
        self, alice: User, leo_dmp: Beneficiary, bob: User
    ) -> None:
        from consent.models import CareRelationship

        CareRelationship.objects.create(
            patient=leo_dmp, professional=bob.professional, kind="consent"
        )
        shown = _deposit(bob, leo_dmp)
        _deposit(bob, leo_dmp, invisible_representatives=True)  # DMP-10
        response = verified_client(alice).get(LIST, {"patient": leo_dmp.pk})
        assert response.status_code == 200
        assert _ids(response) == {str(shown.pk)}
        assert _audits("dmp.documents.list:representative") == 1

    def test_dmp8_masked_documents_never_listed_for_the_nurse(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        bob: User,
        charlie_in_care: User,
        nina_in_care: User,
    ) -> None:
        hidden = _deposit(charlie_in_care, alice_dmp, title="Consultation")
        shown = _deposit(charlie_in_care, alice_dmp, title="Ordonnance")
        services.documents_mask(
            actor=alice, patient=alice_dmp, documents=[hidden], masked=True
        )
        query = {"patient": alice_dmp.pk}
        nurse = verified_client(nina_in_care).get(LIST, query)
        assert _ids(nurse) == {str(shown.pk)} and nurse.json()["count"] == 1
        assert verified_client(nina_in_care).get(
            LIST, {**query, "search": "consultation"}
        ).json() == {"count": 0, "next": None, "previous": None, "results": []}
        # The médecin traitant and the author still see it; no "masked" key.
        for user in (bob, charlie_in_care):
            response = verified_client(user).get(LIST, query)
            assert _ids(response) == {str(hidden.pk), str(shown.pk)}
            assert all("masked" not in item for item in response.json()["results"])
        assert _audits("dmp.documents.list:medecin_traitant") == 1
        assert _audits("dmp.documents.list:care_team") == 2

    def test_a_professional_names_the_patient(self, bob: User) -> None:
        response = verified_client(bob).get(LIST)
        assert response.status_code == 400
        assert response.json() == {
            "patient": ["Indiquez le patient (son identifiant)."]
        }

    def test_cons2_refused_and_missing_patients_are_the_same_404(
        self,
        alice_dmp: Beneficiary,
        eve: User,
        victor: User,
        dora_blocked: User,
        agnes: User,
        bob: User,
    ) -> None:
        _deposit(bob, alice_dmp)
        missing = verified_client(bob).get(LIST, {"patient": 999999})
        assert missing.status_code == 404
        for user in (eve, victor, dora_blocked, agnes):
            response = verified_client(user).get(LIST, {"patient": alice_dmp.pk})
            assert response.status_code == 404, user
            assert response.content == missing.content
        assert verified_client(agnes).get(LIST).status_code == 404  # no profile
        refused = AuditEvent.objects.filter(
            code__startswith="dmp.documents.list:refused."
        )
        assert sorted(refused.values_list("code", flat=True)) == [
            "dmp.documents.list:refused.blocked",
            "dmp.documents.list:refused.not_in_care",
            "dmp.documents.list:refused.not_related",
            "dmp.documents.list:refused.role",
        ]

    def test_a_patient_without_an_open_dmp_gets_404(self, alice: User) -> None:
        assert verified_client(alice).get(LIST).status_code == 404

    def test_cons7_a_parent_loses_access_at_18(
        self, alice: User, zoe: Beneficiary
    ) -> None:
        response = verified_client(alice).get(LIST, {"patient": zoe.pk})
        assert response.status_code == 404
        assert _audits("dmp.documents.list:refused.not_related") == 1


@pytest.mark.django_db
class DocumentQueryCountTestCase:
    """G-P4: the same number of queries for 1, 20 and 100 documents."""

    @pytest.mark.parametrize("count", [1, 20, 100])
    def test_g_p4_patient_list(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        bob: User,
        count: int,
        django_assert_num_queries: Any,
    ) -> None:
        _many(alice_dmp, bob, count)
        client = verified_client(alice)
        client.get(LIST)  # the session's first request (OTP device, and so on)
        with django_assert_num_queries(PATIENT_LIST_QUERIES):
            response = client.get(LIST, {"page_size": 100})
        assert len(response.json()["results"]) == count

    @pytest.mark.parametrize("count", [1, 20, 100])
    def test_g_p4_professional_list(
        self,
        alice_dmp: Beneficiary,
        charlie_in_care: User,
        count: int,
        django_assert_num_queries: Any,
    ) -> None:
        _many(alice_dmp, charlie_in_care, count)
        client = verified_client(charlie_in_care)
        query = {"patient": alice_dmp.pk, "page_size": 100}
        client.get(LIST, query)  # the first access's notice (CONS-3)
        with django_assert_num_queries(PROFESSIONAL_LIST_QUERIES):
            response = client.get(LIST, query)
        assert len(response.json()["results"]) == count


# Session, user and OTP device (3); the patient (1); the decision (patient: the
# open DMP, 1; professional: their row, the open DMP, a block, a care
# relationship, the matrix, 5); the audit entry (3, in a savepoint); the
# CONS-3 notice (professional, 1); the count and the page (2); the session
# saved (3, in a savepoint).
# On SQLite the audit chain's head is read by one more (counted) query: on
# PostgreSQL the lock and the read go in one raw statement.
_SQLITE = int(connection.vendor != "postgresql")
PATIENT_LIST_QUERIES = 13 + _SQLITE
PROFESSIONAL_LIST_QUERIES = 18 + _SQLITE


@pytest.mark.django_db
class DocumentDetailAndFileApiTestCase:
    def test_dmp1_detail_with_its_metadata(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        document = _deposit(charlie_in_care, alice_dmp, file_name="résultat.pdf")
        url = reverse("dmp-api:document-detail", args=[document.pk])
        response = verified_client(alice).get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == str(document.pk)
        assert body["file_name"] == "résultat.pdf"
        assert body["format_code"] == "urn:ihe:iti:xds-sd:pdf:2008"
        assert body["sha256"] == document.sha256
        assert body["replaces"] is None and body["masked"] is False
        assert "file" not in body
        assert _audits("dmp.document.read:self") == 1
        pro = verified_client(charlie_in_care).get(url).json()
        assert "masked" not in pro

    def test_dmp3_download_streams_the_file_with_safe_headers(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        document = _deposit(alice, alice_dmp, file_name="Bilan « mars ».pdf")
        url = reverse("dmp-api:document-download", args=[document.pk])
        client = verified_client(alice)
        for accept in ("*/*", "application/pdf", "application/json"):
            response = client.get(url, headers={"accept": accept})
            assert response.status_code == 200, accept
            assert b"".join(response.streaming_content) == pdf_bytes()
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Length"] == str(len(pdf_bytes()))
        assert response["Content-Disposition"] == (
            'attachment; filename="Bilan  mars .pdf"; '
            "filename*=UTF-8''Bilan%20%C2%AB%20mars%20%C2%BB.pdf"
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert _audits("dmp.document.download:self") == 3

    def test_sec1_refused_and_missing_documents_are_the_same_404(
        self,
        alice_dmp: Beneficiary,
        bob: User,
        eve: User,
        victor: User,
        dora_blocked: User,
        agnes: User,
    ) -> None:
        document = _deposit(bob, alice_dmp)
        for name, accept in (
            ("dmp-api:document-detail", "application/json"),
            ("dmp-api:document-download", "application/pdf"),
        ):
            missing = reverse(name, args=[uuid.uuid4()])
            forbidden = reverse(name, args=[document.pk])
            for user in (eve, victor, dora_blocked, agnes):
                client = verified_client(user)
                one = client.get(missing, headers={"accept": accept})
                other = client.get(forbidden, headers={"accept": accept})
                assert one.status_code == other.status_code == 404, (name, user)
                assert one.content == other.content
                assert one.json() == {"detail": "Ressource introuvable."}

    def test_dmp9_a_withheld_result_is_a_404_for_the_patient(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        withheld = _deposit(charlie_in_care, alice_dmp, invisible_patient=True)
        client = verified_client(alice)
        url = reverse("dmp-api:document-detail", args=[withheld.pk])
        assert client.get(url).status_code == 404
        assert client.get(LIST).json()["count"] == 0


@pytest.mark.django_db
class DocumentDepositApiTestCase:
    def test_dmp5_the_patient_adds_a_document(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        response = verified_client(alice).post(
            LIST,
            {
                "file": _upload(png_bytes(), "photo ordonnance.png"),
                "title": "  Ordonnance   lunettes ",
                "type_code": "DOCPAT02",
                "document_date": "2025-03-01",
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        document = Document.objects.get()
        assert body["id"] == str(document.pk)
        assert response["Location"] == body["links"]["detail"]
        assert (body["title"], body["mime_type"], body["class_code"]) == (
            "Ordonnance lunettes",
            "image/png",
            "90",
        )
        assert body["file_name"] == "photo ordonnance.png"
        assert body["document_date"] == "2025-03-01"
        assert body["masked"] is False
        assert document.patient == alice_dmp and document.by_patient
        assert _audits("dmp.document.deposit:self") == 1

    def test_dmp4_a_doctor_in_care_deposits_with_flags(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        response = verified_client(charlie_in_care).post(
            LIST,
            {
                "patient": alice_dmp.pk,
                "file": _upload(),
                "title": "Résultat anatomopathologique",
                "type_code": "60568-3",
                "invisible_patient": "true",
            },
        )
        assert response.status_code == 201, response.content
        assert "masked" not in response.json()
        document = Document.objects.get()
        assert document.invisible_patient and not document.masked
        assert document.author_professional == charlie_in_care.professional
        # DMP-9: withheld from the patient until the announcement.
        assert verified_client(alice).get(LIST).json()["count"] == 0

    def test_dmp11_a_new_version_by_its_author(
        self, alice_dmp: Beneficiary, charlie_in_care: User, bob: User
    ) -> None:
        first = _deposit(charlie_in_care, alice_dmp)
        form = {
            "patient": alice_dmp.pk,
            "title": "Bilan corrigé",
            "type_code": "11502-2",
            "replaces": str(first.pk),
        }
        # The médecin traitant sees it but did not write it: refused, 404.
        refused = verified_client(bob).post(LIST, {**form, "file": _upload()})
        assert refused.status_code == 404
        response = verified_client(charlie_in_care).post(
            LIST, {**form, "file": _upload()}
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["version"], body["replaces"]) == (2, str(first.pk))
        first.refresh_from_db()
        assert first.status == Document.Status.REPLACED
        again = verified_client(charlie_in_care).post(LIST, {**form, "file": _upload()})
        assert again.status_code == 404  # the replaced version is no longer shown
        assert Document.objects.count() == 2

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            ({"file": b""}, "file", "vide"),
            ({"file": b"MZ\x90\x00binary"}, "file", "type de fichier"),
            (
                {
                    "file": b"%PDF-1.4\n1 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\n"
                },
                "file",
                "JavaScript",
            ),
            ({"type_code": "11502-2"}, "type_code", "type de document"),
            ({"title": "   "}, "title", "vide"),
            ({"title": "x" * 201}, "title", "200"),
            ({"document_date": "2999-01-01"}, "document_date", "futur"),
            ({"document_date": "demain"}, "document_date", "date"),
            ({"invisible_patient": "true"}, "non_field_errors", "professionnels"),
            ({"replaces": "pas-un-uuid"}, "replaces", "UUID"),
            ({"patient": "alice"}, "patient", "entier"),
        ],
    )
    def test_sec8_refused_uploads_say_why_and_store_nothing(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        fields: dict[str, Any],
        field: str,
        message: str,
    ) -> None:
        form = {"title": "Bilan", "type_code": "DOCPAT05", **fields}
        form["file"] = _upload(fields.get("file"))
        response = verified_client(alice).post(LIST, form)
        assert response.status_code == 400, response.content
        errors = response.json()
        assert list(errors) == [field]
        assert message.casefold() in " ".join(errors[field]).casefold()
        assert Document.objects.count() == 0
        assert _stored_files() == []

    def test_cons2_refused_depositors_get_404_and_nothing_is_stored(
        self,
        alice_dmp: Beneficiary,
        eve: User,
        victor: User,
        dora_blocked: User,
        agnes: User,
    ) -> None:
        for user in (eve, victor, dora_blocked, agnes):
            response = verified_client(user).post(
                LIST,
                {
                    "patient": alice_dmp.pk,
                    "file": _upload(),
                    "title": "Intrus",
                    "type_code": "11502-2",
                },
            )
            assert response.status_code == 404, user
            assert response.json() == {"detail": "Ressource introuvable."}
        assert Document.objects.count() == 0
        assert _stored_files() == []
        assert (
            AuditEvent.objects.filter(
                code__startswith="dmp.document.deposit:refused."
            ).count()
            == 4
        )

    def test_a_professional_deposit_names_the_patient(self, bob: User) -> None:
        response = verified_client(bob).post(
            LIST, {"file": _upload(), "title": "Bilan", "type_code": "11502-2"}
        )
        assert response.status_code == 400
        assert list(response.json()) == ["patient"]


@pytest.mark.django_db
class DocumentMaskApiTestCase:
    def test_dmp8_the_patient_masks_one_then_all_then_shows_them_again(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        charlie_in_care: User,
        nina_in_care: User,
    ) -> None:
        one = _deposit(charlie_in_care, alice_dmp)
        two = _deposit(charlie_in_care, alice_dmp)
        client = verified_client(alice)
        nurse = verified_client(nina_in_care)
        query = {"patient": alice_dmp.pk}
        url = reverse("dmp-api:document-mask", args=[one.pk])
        response = client.post(url, {"masked": True}, content_type="application/json")
        assert response.json() == {"id": str(one.pk), "masked": True}
        assert _ids(nurse.get(LIST, query)) == {str(two.pk)}
        assert client.get(LIST).json()["results"][1]["masked"] is True
        everything = client.post(
            MASK_ALL, {"masked": True}, content_type="application/json"
        )
        assert everything.json() == {"changed": 1}
        assert nurse.get(LIST, query).json()["count"] == 0
        shown = client.post(MASK_ALL, {"masked": "false"})  # a form works too
        assert shown.json() == {"changed": 2}
        assert nurse.get(LIST, query).json()["count"] == 2
        assert _audits("dmp.document.mask:self") == 2  # one, then all (G-S12)
        assert _audits("dmp.document.unmask:self") == 1

    def test_cons7_dmp10_a_representative_masks_only_what_she_sees(
        self, alice: User, leo_dmp: Beneficiary, bob: User
    ) -> None:
        from consent.models import CareRelationship

        CareRelationship.objects.create(
            patient=leo_dmp, professional=bob.professional, kind="consent"
        )
        _deposit(alice, leo_dmp, title="Carnet de santé")
        secret = _deposit(bob, leo_dmp, invisible_representatives=True)
        client = verified_client(alice)
        for masked in (True, False):  # the minor's secret is never touched
            response = client.post(MASK_ALL, {"patient": leo_dmp.pk, "masked": masked})
            assert response.json() == {"changed": 1}
        secret.refresh_from_db()
        assert not secret.masked
        url = reverse("dmp-api:document-mask", args=[secret.pk])
        assert client.post(url, {"masked": True}).status_code == 404

    def test_dmp9_a_withheld_result_is_neither_masked_nor_counted(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        _deposit(charlie_in_care, alice_dmp)
        withheld = _deposit(charlie_in_care, alice_dmp, invisible_patient=True)
        response = verified_client(alice).post(MASK_ALL, {"masked": True})
        assert response.json() == {"changed": 1}
        withheld.refresh_from_db()
        assert not withheld.masked

    def test_sec1_professionals_and_strangers_cannot_mask(
        self,
        alice_dmp: Beneficiary,
        bob: User,
        charlie_in_care: User,
        eve: User,
        agnes: User,
    ) -> None:
        document = _deposit(charlie_in_care, alice_dmp)
        url = reverse("dmp-api:document-mask", args=[document.pk])
        for user in (bob, charlie_in_care, eve, agnes):
            client = verified_client(user)
            one = client.post(url, {"masked": True})
            every = client.post(MASK_ALL, {"patient": alice_dmp.pk, "masked": True})
            assert one.status_code == every.status_code == 404, user
        assert verified_client(bob).post(MASK_ALL, {"masked": True}).status_code == 400
        assert not Document.objects.filter(masked=True).exists()

    def test_sec8_the_mask_needs_a_boolean(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        document = _deposit(alice, alice_dmp)
        url = reverse("dmp-api:document-mask", args=[document.pk])
        response = verified_client(alice).post(
            url, {"masked": "peut-être"}, content_type="application/json"
        )
        assert response.status_code == 400
        assert list(response.json()) == ["masked"]


@pytest.mark.django_db
def test_the_schema_builds_without_warnings(tmp_path: Path) -> None:
    call_command(
        "spectacular",
        "--fail-on-warn",
        "--validate",
        "--file",
        str(tmp_path / "schema.yaml"),
    )
    schema = (tmp_path / "schema.yaml").read_text()
    for operation in (
        "dmp_documents_list",
        "dmp_documents_create",
        "dmp_documents_detail",
        "dmp_documents_download",
        "dmp_documents_mask",
        "dmp_documents_mask_all",
    ):
        assert f"operationId: {operation}" in schema
    for url in ("/api/schema/", "/api/v1/schema/"):
        response = Client().get(url)
        assert response.status_code == 200
        assert b"/api/v1/dmp/documents/{id}/file" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("patient_side", [True, False])
def test_gp4_written_out_documents_equal_drfs_own_representation(
    patient_side: bool, alice_dmp: Beneficiary, charlie_in_care: User
) -> None:
    """G-P4: the hand-written representations give exactly what DRF's field
    by field serialisation of the declared fields gives."""
    from rest_framework import serializers

    from dmp.apis import DocumentDetailSerializer, DocumentSerializer

    first = _deposit(charlie_in_care, alice_dmp)
    second = _deposit(charlie_in_care, alice_dmp, replaces=first)
    own = _deposit(alice_dmp.user, alice_dmp, masked=True)
    context = {"patient_side": patient_side, "documents_url": "https://x/documents/"}
    for document in Document.objects.filter(pk__in=[second.pk, own.pk]):
        for kind in (DocumentSerializer, DocumentDetailSerializer):
            written = kind(document, context=context).data
            drf = serializers.Serializer.to_representation(
                kind(context=context), document
            )
            if not patient_side:
                del drf["masked"]
            assert dict(written) == dict(drf)
