"""Deposits, versions, deletions, masks and folders (DMP-1 to DMP-11), and the
timers and notices around them (DMP-9, CONS-3, CONS-6)."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from audit.models import AuditEvent
from consent import services as consent_services
from consent.models import EmergencyAccess, ProfessionalNotice
from dmp import jobs, services
from dmp.models import Document
from dmp.selectors import document_open_for, documents_list_for
from espace import jobs as espace_jobs
from espace.models import Beneficiary, Notification, User
from tests.files import jpeg_bytes, pdf_bytes, png_bytes, png_flood_bytes


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


@pytest.mark.django_db
class DepositTestCase:
    def test_dmp4_a_doctor_in_care_deposits_encrypted_with_its_metadata(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        document = _deposit(charlie_in_care, alice_dmp)
        assert document.class_code == "10"
        assert document.format_code == "urn:ihe:iti:xds-sd:pdf:2008"
        assert document.mime_type == "application/pdf"
        assert document.size == len(pdf_bytes())
        assert document.author_professional == charlie_in_care.professional
        assert document.file_name == "résultats.pdf"
        (stored,) = _stored_files()
        assert pdf_bytes() not in stored.read_bytes()  # encrypted at rest (DMP-3)
        _same, chunks = document_open_for(actor=charlie_in_care, pk=document.pk)
        assert b"".join(chunks) == pdf_bytes()
        assert (
            AuditEvent.objects.filter(
                code="dmp.document.deposit:care_consent", target_id=str(document.pk)
            ).count()
            == 1
        )

    def test_dmp5_the_patient_adds_images_and_text_in_a_folder(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        folder = services.folder_create(actor=alice, patient=alice_dmp, name="Analyses")
        photo = _deposit(
            alice, alice_dmp, png_bytes(), file_name="photo.png", folder=folder
        )
        scan = _deposit(alice, alice_dmp, jpeg_bytes(), file_name="scan.jpg")
        note = _deposit(
            alice, alice_dmp, b"Tension le matin : 12/8\n", file_name="notes.txt"
        )
        assert (photo.mime_type, scan.mime_type, note.mime_type) == (
            "image/png",
            "image/jpeg",
            "text/plain",
        )
        assert photo.class_code == "90" and photo.by_patient
        services.document_move(actor=alice, document=scan, folder=folder)
        listed = documents_list_for(actor=alice, patient=alice_dmp)
        assert {d.pk for d in listed.documents} == {photo.pk, scan.pk, note.pk}

    @pytest.mark.parametrize(
        ("data", "name", "reason"),
        [
            (b"", "vide.pdf", "vide"),
            (b"MZ\x90\x00binary", "virus.pdf", "type de fichier"),
            (b"PK\x03\x04docx", "lettre.docx", "type de fichier"),
            (
                b"%PDF-1.4\n1 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\n",
                "js.pdf",
                "JavaScript",
            ),
            (
                b"%PDF-1.4\n1 0 obj<</J#61vaScript 2 0 R>>endobj\n",
                "js2.pdf",
                "JavaScript",
            ),
            (b"%PDF-1.4\ntrailer<</Encrypt 5 0 R>>\n", "chiffre.pdf", "chiffrement"),
            (b"%PDF-1.7\nnot really a pdf", "abime.pdf", "illisible"),
            (png_flood_bytes(), "flood.png", "trop grande"),
            (png_flood_bytes(9000, 9000), "grand.png", "trop grande"),
            (b"texte\x00binaire", "x.txt", "type de fichier"),
        ],
    )
    def test_dmp2_refused_uploads_store_nothing_and_say_why(
        self, alice: User, alice_dmp: Beneficiary, data: bytes, name: str, reason: str
    ) -> None:
        with pytest.raises(ValidationError) as refused:
            _deposit(alice, alice_dmp, data, file_name=name)
        assert reason in " ".join(refused.value.messages)
        assert Document.objects.count() == 0
        assert _stored_files() == []
        assert (
            AuditEvent.objects.filter(
                code="dmp.document.deposit:refused.invalid"
            ).count()
            == 1
        )

    def test_dmp2_size_limits(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User, settings: Any
    ) -> None:
        big = pdf_bytes() + b"%" + b"0" * (5 * 1024 * 1024)
        with pytest.raises(ValidationError, match="taille maximale de 5 Mo"):
            _deposit(alice, alice_dmp, big)
        settings.DMP_PROFESSIONAL_MAX_BYTES = 10 * 1024 * 1024
        assert _deposit(charlie_in_care, alice_dmp, big).size == len(big)

    def test_cons2_refused_depositors(
        self,
        alice_dmp: Beneficiary,
        dora_blocked: User,
        victor: User,
        eve: User,
        agnes: User,
    ) -> None:
        for user in (dora_blocked, victor, eve, agnes):
            with pytest.raises(PermissionDenied):
                _deposit(user, alice_dmp)
        assert Document.objects.count() == 0 and _stored_files() == []

    def test_flags_are_for_professionals_and_minors(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        with pytest.raises(ValidationError):
            _deposit(alice, alice_dmp, invisible_patient=True)
        with pytest.raises(ValidationError, match="mineur"):
            _deposit(charlie_in_care, alice_dmp, invisible_representatives=True)
        with pytest.raises(ValidationError, match="type de document"):
            _deposit(charlie_in_care, alice_dmp, type_code="DOCPAT01")


@pytest.mark.django_db
class VersionsTestCase:
    def test_dmp11_a_new_version_replaces_and_the_old_one_stays(
        self, alice_dmp: Beneficiary, charlie_in_care: User, bob: User
    ) -> None:
        first = _deposit(charlie_in_care, alice_dmp)
        second = _deposit(charlie_in_care, alice_dmp, replaces=first)
        first.refresh_from_db()
        assert first.status == Document.Status.REPLACED
        assert (second.version, second.replaces_id) == (2, first.pk)
        with pytest.raises(ValidationError):
            _deposit(charlie_in_care, alice_dmp, replaces=first)  # stale
        with pytest.raises(PermissionDenied):
            _deposit(bob, alice_dmp, replaces=second)  # not the author
        services.document_delete(actor=charlie_in_care, document=second)
        second.refresh_from_db()
        assert second.status == Document.Status.DELETED
        listed = documents_list_for(actor=bob, patient=alice_dmp)
        assert listed.documents == []

    def test_dmp5_the_patient_deletes_only_what_they_added(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        theirs = _deposit(charlie_in_care, alice_dmp)
        mine = _deposit(alice, alice_dmp)
        with pytest.raises(PermissionDenied):
            services.document_delete(actor=alice, document=theirs)
        services.document_delete(actor=alice, document=mine)
        assert (
            AuditEvent.objects.filter(
                code="dmp.document.delete:refused.not_author"
            ).count()
            == 1
        )


@pytest.mark.django_db
class MaskTestCase:
    def test_dmp8_mask_one_or_all_then_unmask(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        charlie_in_care: User,
        nina_in_care: User,
        bob: User,
    ) -> None:
        one = _deposit(charlie_in_care, alice_dmp)
        two = _deposit(charlie_in_care, alice_dmp, type_code="57833-6")

        def seen(user: User) -> set[Any]:
            return {
                d.pk
                for d in documents_list_for(actor=user, patient=alice_dmp).documents
            }

        assert (
            services.documents_mask(
                actor=alice, patient=alice_dmp, documents=[one], masked=True
            )
            == 1
        )
        assert seen(nina_in_care) == {two.pk}
        assert seen(charlie_in_care) == {one.pk, two.pk}  # the author
        assert seen(bob) == {one.pk, two.pk}  # the médecin traitant
        services.documents_mask(
            actor=alice, patient=alice_dmp, documents=None, masked=True
        )
        assert seen(nina_in_care) == set()
        services.documents_mask(
            actor=alice, patient=alice_dmp, documents=None, masked=False
        )
        assert seen(nina_in_care) == {one.pk, two.pk}
        with pytest.raises(PermissionDenied):
            services.documents_mask(
                actor=bob, patient=alice_dmp, documents=None, masked=True
            )


@pytest.mark.django_db
class TimersAndNoticesTestCase:
    def test_dmp9_withheld_result_notice_at_2_weeks_visible_at_1_month(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        withheld = _deposit(charlie_in_care, alice_dmp, invisible_patient=True)
        assert not Notification.objects.filter(kind="dmp.new_document").exists()
        start = timezone.now()
        with time_machine.travel(start + timedelta(weeks=2) - timedelta(minutes=1)):
            assert jobs.withheld_notify() == 0
        with time_machine.travel(start + timedelta(weeks=2, minutes=1)):
            assert jobs.withheld_notify() == 1
            assert jobs.withheld_notify() == 0  # once
            assert documents_list_for(actor=alice, patient=alice_dmp).documents == []
        assert Notification.objects.filter(kind="dmp9.updated").count() == 2
        with time_machine.travel(start + timedelta(days=30, minutes=1)):
            assert jobs.withheld_release() == 1
            listed = documents_list_for(actor=alice, patient=alice_dmp).documents
        assert [d.pk for d in listed] == [withheld.pk]
        assert Notification.objects.filter(kind="dmp.new_document").count() == 2

    def test_dmp9_the_author_announces_before_the_month(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        charlie_in_care: User,
        nina_in_care: User,
    ) -> None:
        withheld = _deposit(charlie_in_care, alice_dmp, invisible_patient=True)
        with pytest.raises(PermissionDenied):
            services.document_announce(actor=nina_in_care, document=withheld)
        services.document_announce(actor=charlie_in_care, document=withheld)
        listed = documents_list_for(actor=alice, patient=alice_dmp).documents
        assert [d.pk for d in listed] == [withheld.pk]

    def test_cons3_first_access_then_at_most_once_a_day_per_professional(
        self, alice_dmp: Beneficiary, charlie_in_care: User, nina_in_care: User
    ) -> None:
        for _ in range(3):
            documents_list_for(actor=charlie_in_care, patient=alice_dmp)
        documents_list_for(actor=nina_in_care, patient=alice_dmp)
        notices = Notification.objects.filter(kind="cons3.access")
        assert notices.count() == 4  # 2 professionals × (in-app + e-mail)
        with time_machine.travel(timezone.now() + timedelta(days=1)):
            documents_list_for(actor=charlie_in_care, patient=alice_dmp)
        assert notices.count() == 6

    def test_g_s4_emergency_reads_are_traced_and_notified_unless_opposed(
        self, alice: User, alice_dmp: Beneficiary, bob: User, victor: User
    ) -> None:
        """G-S4, CONS-6: each of 200 emergency accesses: one audit entry
        linked to its access, whose reason is kept (encrypted, readable); one
        notice to the patient (in-app + e-mail) and one to the médecin
        traitant (in the portal + e-mail); with the patient's opposition,
        none; never without a reason."""
        n = 200
        reasons = {}
        for i in range(n):
            emergency = consent_services.emergency_access_start(
                actor=victor,
                patient=alice_dmp,
                mode=EmergencyAccess.Mode.BRIS_DE_GLACE,
                reason=f"Patiente inconsciente, prise en charge n° {i}",
            )
            reasons[str(emergency.pk)] = (
                f"Patiente inconsciente, prise en charge n° {i}"
            )
        entries = AuditEvent.objects.filter(
            code="consent.emergency.bris_de_glace", patient_id=alice_dmp.pk
        )
        assert entries.count() == n
        assert {e.target_type for e in entries} == {"consent.emergencyaccess"}
        assert {e.actor_id for e in entries} == {victor.pk}
        kept = {
            str(e.pk): str(e.reason)
            for e in EmergencyAccess.objects.filter(
                pk__in=list(entries.values_list("target_id", flat=True))
            )
        }
        assert kept == reasons  # each entry links to its access, reason kept
        patient_notices = Notification.objects.filter(
            beneficiary=alice_dmp, kind="cons6.emergency"
        )
        for channel in (Notification.Channel.INAPP, Notification.Channel.EMAIL):
            assert patient_notices.filter(channel=channel).count() == n
        assert {
            key.split(":")[1] for key in patient_notices.values_list("key", flat=True)
        } == set(reasons)
        doctor_notices = ProfessionalNotice.objects.filter(
            professional=bob.professional, patient=alice_dmp, kind="cons6.emergency"
        )
        assert doctor_notices.count() == n
        mail.outbox.clear()
        assert jobs.professional_notices_send() == n
        assert jobs.professional_notices_send() == 0
        assert len(mail.outbox) == n
        assert {m.to[0] for m in mail.outbox} == {bob.email}
        assert not doctor_notices.filter(sent_at__isnull=True).exists()
        assert espace_jobs.notifications_send() == n  # the patient's e-mails
        assert len(mail.outbox) == 2 * n
        assert {m.to[0] for m in mail.outbox[n:]} == {alice_dmp.email}
        for message in mail.outbox:  # LC-12: never the reason
            assert "inconsciente" not in message.body
        with pytest.raises(ValidationError):
            consent_services.emergency_access_start(
                actor=victor, patient=alice_dmp, mode="bris_de_glace", reason="court"
            )
        consent_services.privacy_settings_update(
            actor=alice, patient=alice_dmp, bris_de_glace=False, samu=True
        )
        with pytest.raises(ValidationError, match="opposé"):
            consent_services.emergency_access_start(
                actor=victor,
                patient=alice_dmp,
                mode=EmergencyAccess.Mode.BRIS_DE_GLACE,
                reason="Patiente inconsciente, nouvelle prise en charge",
            )
        assert EmergencyAccess.objects.count() == n
        assert (
            AuditEvent.objects.filter(
                code="consent.emergency.bris_de_glace:refused.opposed"
            ).count()
            == 1
        )

    def test_cons2_the_medecin_traitant_cannot_be_blocked(
        self, alice: User, alice_dmp: Beneficiary, bob: User, victor: User
    ) -> None:
        with pytest.raises(ValidationError, match="médecin traitant"):
            consent_services.professional_block(
                actor=alice, patient=alice_dmp, professional=bob.professional
            )
        consent_services.professional_block(
            actor=alice, patient=alice_dmp, professional=victor.professional
        )
        with pytest.raises(PermissionDenied):
            consent_services.care_declare(
                actor=victor, patient=alice_dmp, kind="consent"
            )
        consent_services.professional_unblock(
            actor=alice, patient=alice_dmp, professional=victor.professional
        )
        consent_services.care_declare(actor=victor, patient=alice_dmp, kind="consent")
        assert documents_list_for(actor=victor, patient=alice_dmp).access.allowed


def test_storage_is_isolated_per_test() -> None:
    assert default_storage is not None
