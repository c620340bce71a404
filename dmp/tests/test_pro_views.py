"""The professional portal (CONS-1, CONS-6, DMP-4, DMP-9, DMP-10, DMP-11,
SEC-1, SEC-3): search, the patient's DMP within the matrix, declarations,
deposits, versions, emergency access and alerts, as professionals use them."""

from __future__ import annotations

import html
import io
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from consent.models import (
    AccessRule,
    CareRelationship,
    PrivacySettings,
    ProfessionalNotice,
)
from dmp import pro_selectors, profile_services
from dmp.models import Document
from dmp.services import document_deposit
from espace.models import Beneficiary, User
from tests.files import pdf_bytes
from tests.http import page_body
from tests.personas import verified_client

SEARCH = reverse("pro:patient-search")
ALICE_BIRTH = "14/03/1979"
UNKNOWN_NIR = "180017510812367"  # valid key, nobody has it


def _deposit(actor: User, patient: Beneficiary, **fields: Any) -> Document:
    options: dict[str, Any] = {
        "title": "Compte rendu de biologie",
        "type_code": "11502-2",
        "file_name": "cr.pdf",
    }
    options.update(fields)
    return document_deposit(
        actor=actor, patient=patient, stream=io.BytesIO(pdf_bytes()), **options
    )


def _search(client: Client, nir: str, birth: str = ALICE_BIRTH) -> Any:
    return client.post(SEARCH, {"mode": "nir", "nir-nir": nir, "nir-birth_date": birth})


def _found_client(user: User, patient: Beneficiary) -> Client:
    """A professional who found the patient by NIR in this session."""
    client = verified_client(user)
    response = _search(client, patient.nir, patient.birth_date.strftime("%d/%m/%Y"))
    assert response.status_code == 302
    return client


def _text(response: Any) -> str:
    """The page as read (HTML entities decoded)."""
    return html.unescape(response.content.decode())


def _url(name: str, patient: Beneficiary, *args: Any) -> str:
    return reverse(f"pro:{name}", args=[patient.pk, *args])


def _upload(data: bytes | None = None, name: str = "compte-rendu.pdf") -> Any:
    return SimpleUploadedFile(name, pdf_bytes() if data is None else data)


def _deposit_form(**fields: Any) -> dict[str, Any]:
    form = {
        "type_code": "11488-4",
        "title": "Consultation du jour",
        "document_date": timezone.localdate().strftime("%d/%m/%Y"),
        "file": _upload(),
    }
    form.update(fields)
    return form


def _stored_files() -> list[Path]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _mark() -> int:
    """The audit log is append-only: tests read what comes after a mark."""
    return (
        AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    )


def _codes(prefix: str, after: int = 0) -> list[str]:
    return list(
        AuditEvent.objects.filter(code__startswith=prefix, seq__gt=after)
        .order_by("seq")
        .values_list("code", flat=True)
    )


# ---------------------------------------------------------------- search


@pytest.mark.django_db
class PatientSearchTestCase:
    def test_cons1_a_nir_and_birth_date_find_the_patient_once_audited(
        self, alice_dmp: Beneficiary, victor: User
    ) -> None:
        client = verified_client(victor)
        response = _search(client, "2 79 03 51 215 189 89")
        assert response.status_code == 302
        assert response["Location"] == _url("patient", alice_dmp)
        assert client.session["pro_found_patients"] == [alice_dmp.pk]
        event = AuditEvent.objects.get(code__startswith="pro.patient.search")
        assert event.code == "pro.patient.search.nir:found"
        assert event.patient_id == alice_dmp.pk

    def test_cons1_ins_traits_find_the_patient_whatever_the_case_and_accents(
        self, alice_dmp: Beneficiary, victor: User
    ) -> None:
        client = verified_client(victor)
        response = client.post(
            SEARCH,
            {
                "mode": "traits",
                "traits-birth_name": "Moreau",
                "traits-first_name": "Alicé",
                "traits-birth_date": ALICE_BIRTH,
                "traits-sex": "F",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == _url("patient", alice_dmp)
        assert _codes("pro.patient.search") == ["pro.patient.search.traits:found"]

    def test_sec1_nothing_found_no_dmp_and_blocked_read_the_same(
        self,
        alice_dmp: Beneficiary,
        eve: User,
        victor: User,
        dora_blocked: User,
    ) -> None:
        client = verified_client(victor)
        unknown = _search(client, UNKNOWN_NIR)
        wrong_birth = _search(client, alice_dmp.nir, "15/03/1979")
        no_dmp = _search(client, eve.beneficiary.nir, "01/10/1995")
        for response in (unknown, wrong_birth, no_dmp):
            assert response.status_code == 200
            assert page_body(response.content) == page_body(unknown.content)
        # The blocked doctor reads what she reads for an unknown NIR.
        dora = verified_client(dora_blocked)
        blocked = _search(dora, alice_dmp.nir)
        assert blocked.status_code == 200
        assert page_body(blocked.content) == page_body(
            _search(dora, UNKNOWN_NIR).content
        )
        assert "Aucun dossier médical partagé accessible" in _text(unknown)
        assert alice_dmp.nir not in _text(wrong_birth)  # not echoed
        assert "pro_found_patients" not in client.session
        # Codes only; the patient's id only when found (or a blocked attempt).
        events = AuditEvent.objects.filter(code__startswith="pro.patient.search")
        assert [(e.code, e.patient_id) for e in events.order_by("seq")] == [
            ("pro.patient.search.nir:not_found", None),
            ("pro.patient.search.nir:not_found", None),
            ("pro.patient.search.nir:not_found", None),
            ("pro.patient.search.nir:refused.blocked", alice_dmp.pk),
            ("pro.patient.search.nir:not_found", None),
        ]

    def test_sec3_searches_are_throttled_per_professional(
        self,
        alice_dmp: Beneficiary,
        victor: User,
        charlie: User,
        monkeypatch: Any,
    ) -> None:
        monkeypatch.setattr(pro_selectors, "SEARCHES_PER_HOUR", 2)
        client = verified_client(victor)
        assert _search(client, UNKNOWN_NIR).status_code == 200
        assert _search(client, UNKNOWN_NIR).status_code == 200
        throttled = _search(client, alice_dmp.nir)
        assert throttled.status_code == 429
        assert "réessayez plus tard" in _text(throttled)
        assert "pro_found_patients" not in client.session
        # Another professional is not slowed down.
        assert _search(verified_client(charlie), alice_dmp.nir).status_code == 302

    def test_sec8_a_malformed_nir_is_a_french_400(self, victor: User) -> None:
        response = _search(verified_client(victor), "12345")
        assert response.status_code == 400
        assert "Le NIR doit comporter 15 caractères" in _text(response)
        assert not AuditEvent.objects.filter(code__startswith="pro.patient.search")

    def test_sec1_patients_and_agents_get_404(self, alice: User, agnes: User) -> None:
        for user in (alice, agnes):
            client = verified_client(user)
            assert client.get(SEARCH).status_code == 404
            assert _search(client, UNKNOWN_NIR).status_code == 404


# ---------------------------------------------------------------- the patient


@pytest.mark.django_db
class PatientPageTestCase:
    def test_sec1_a_patient_neither_found_nor_in_care_is_a_404(
        self, alice_dmp: Beneficiary, victor: User
    ) -> None:
        client = verified_client(victor)
        for name in ("patient", "emergency", "document-deposit"):
            assert client.get(_url(name, alice_dmp)).status_code == 404
        missing = reverse("pro:patient", args=[999999])
        assert page_body(client.get(missing).content) == page_body(
            client.get(_url("patient", alice_dmp)).content
        )

    def test_cons1_the_doctor_in_care_sees_the_basis_classes_and_documents(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        document = _deposit(charlie_in_care, alice_dmp, title="Bilan lipidique")
        mark = _mark()
        response = verified_client(charlie_in_care).get(_url("patient", alice_dmp))
        assert response.status_code == 200
        page = _text(response)
        assert "Alice MOREAU" in page
        assert "279035121518989" in page  # INS of a qualified identity
        assert "Consentement déclaré le" in page
        assert "Votre profession donne accès à : Compte rendu, Synthèse" in page
        assert "Bilan lipidique" in page
        assert reverse("dmp:document-preview", args=[document.pk]) in page
        assert reverse("dmp:document-download", args=[document.pk]) in page
        # One audit entry per read on the page: documents, profile (G-S12).
        assert _codes("dmp.", mark) == [
            "dmp.documents.list:care_consent",
            "dmp.profile.read:care_consent",
        ]

    def test_cons1_a_pharmacist_sees_fewer_classes_than_a_doctor(
        self,
        alice_dmp: Beneficiary,
        bob: User,
        charlie_in_care: User,
        paul_in_care: User,
    ) -> None:
        _deposit(bob, alice_dmp, title="Certificat sport", type_code="89601-9")
        _deposit(bob, alice_dmp, title="Ordonnance", type_code="57833-6")
        doctor = verified_client(charlie_in_care).get(_url("patient", alice_dmp))
        pharmacist = verified_client(paul_in_care).get(_url("patient", alice_dmp))
        assert "Certificat sport" in _text(doctor)
        assert "Certificat sport" not in _text(pharmacist)
        assert "Ordonnance" in _text(pharmacist)
        doctor_classes = doctor.context["classes"]
        pharmacist_classes = pharmacist.context["classes"]
        assert set(pharmacist_classes) < set(doctor_classes)
        assert "Certificat, déclaration" not in pharmacist_classes
        # The category filter only offers what the matrix opens.
        choices = dict(pharmacist.context["form"].fields["category"].choices)
        assert "52" not in choices and "43" in choices

    def test_dmp8_the_medecin_traitant_sees_masked_documents_and_the_summary_link(
        self, alice_dmp: Beneficiary, bob: User, charlie_in_care: User
    ) -> None:
        _deposit(charlie_in_care, alice_dmp, title="Masqué", masked=True)
        mt = _text(verified_client(bob).get(_url("patient", alice_dmp)))
        assert "Vous êtes le médecin traitant" in mt
        assert "Masqué par le patient" in mt
        assert _url("yearly-summary", alice_dmp) in mt

    def test_cons1_documents_filtered_by_category_and_date(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        _deposit(
            charlie_in_care,
            alice_dmp,
            title="Ancien",
            document_date=timezone.localdate().replace(year=2020),
        )
        _deposit(charlie_in_care, alice_dmp, title="Certificat", type_code="89601-9")
        client = verified_client(charlie_in_care)
        by_class = client.get(_url("patient", alice_dmp), {"category": "52"})
        assert [r["document"].title for r in by_class.context["rows"]] == ["Certificat"]
        since = client.get(_url("patient", alice_dmp), {"since": "01/01/2021"})
        assert [r["document"].title for r in since.context["rows"]] == ["Certificat"]
        bad = client.get(_url("patient", alice_dmp), {"since": "hier"})
        assert bad.status_code == 400
        assert "JJ/MM/AAAA" in _text(bad)

    def test_cons2_a_blocked_doctor_gets_404_even_after_a_search(
        self, alice_dmp: Beneficiary, dora_blocked: User
    ) -> None:
        client = verified_client(dora_blocked)
        session = client.session
        session["pro_found_patients"] = [alice_dmp.pk]
        session.save()
        assert client.get(_url("patient", alice_dmp)).status_code == 404
        assert _codes("dmp.documents.list") == ["dmp.documents.list:refused.blocked"]
        response = client.post(
            _url("care-declare", alice_dmp), {"kind": "consent", "attestation": "on"}
        )
        assert response.status_code == 404
        assert client.get(_url("document-deposit", alice_dmp)).status_code == 404

    def test_sec1_patients_and_agents_get_404(
        self, alice: User, alice_dmp: Beneficiary, agnes: User
    ) -> None:
        for user in (alice, agnes):
            client = verified_client(user)
            for name in ("patient", "emergency", "document-deposit", "yearly-summary"):
                assert client.get(_url(name, alice_dmp)).status_code == 404


# ---------------------------------------------------------------- medical profile


def _profile(alice: User, patient: Beneficiary) -> None:
    """Alice's profile: a visible allergy and treatment, a masked history,
    a visible weight and a masked (more recent) blood pressure."""
    add = profile_services.profile_entry_add
    add(actor=alice, patient=patient, section="allergy", label="Pénicilline")
    add(
        actor=alice,
        patient=patient,
        section="treatment",
        label="Lévothyrox",
        details="75 µg le matin",
    )
    add(
        actor=alice,
        patient=patient,
        section="medical_history",
        label="Dépression en 2015",
        masked=True,
    )
    today = timezone.localdate()
    profile_services.measure_add(
        actor=alice, patient=patient, kind="weight", measured_on=today, value="62.5"
    )
    profile_services.measure_add(
        actor=alice,
        patient=patient,
        kind="blood_pressure",
        measured_on=today,
        value="135",
        value2="85",
        masked=True,
    )


@pytest.mark.django_db
class PatientProfileTestCase:
    def test_dmp6_the_nurse_sees_the_profile_without_masked_entries(
        self, alice: User, alice_dmp: Beneficiary, nina_in_care: User
    ) -> None:
        _profile(alice, alice_dmp)
        mark = _mark()
        response = verified_client(nina_in_care).get(_url("patient", alice_dmp))
        assert response.status_code == 200
        page = _text(response)
        assert 'data-testid="profile"' in page
        # After the documents, read-only.
        assert page.index("documents-empty") < page.index('data-testid="profile"')
        assert "Pénicilline" in page and "Lévothyrox" in page
        assert "75 µg le matin" in page
        assert "62,5 kg" in page
        assert "Dépression en 2015" not in page  # DMP-8
        assert "135/85" not in page and "Tension artérielle" not in page
        assert reverse("profil:overview") not in page
        assert "Modifier" not in page
        assert _codes("dmp.", mark) == [
            "dmp.documents.list:care_team",
            "dmp.profile.read:care_team",
        ]

    def test_dmp6_dmp8_the_medecin_traitant_sees_masked_entries_marked(
        self, alice: User, alice_dmp: Beneficiary, bob: User
    ) -> None:
        _profile(alice, alice_dmp)
        page = _text(verified_client(bob).get(_url("patient", alice_dmp)))
        assert "Pénicilline" in page
        assert "Dépression en 2015" in page
        assert "135/85 mmHg" in page
        assert page.count("Masquée par le patient") == 2

    def test_dmp6_cons1_the_pharmacist_sees_it_while_the_matrix_opens_it(
        self, alice: User, alice_dmp: Beneficiary, paul_in_care: User
    ) -> None:
        _profile(alice, alice_dmp)
        organ = profile_services.organ_donation_set
        organ(actor=alice, patient=alice_dmp, choice="accepte")
        client = verified_client(paul_in_care)
        page = _text(client.get(_url("patient", alice_dmp)))
        assert "Pénicilline" in page and "Dépression en 2015" not in page
        assert "Choix du patient : J'accepte de donner mes organes" in page
        # An agent closes class 11 to pharmacists: the section goes, and the
        # profile is not even read (no audit entry for it).
        AccessRule.objects.filter(profession="21", class_code="11").update(
            allowed=False
        )
        mark = _mark()
        response = client.get(_url("patient", alice_dmp))
        assert response.status_code == 200
        assert 'data-testid="profile"' not in _text(response)
        assert "Pénicilline" not in _text(response)
        assert _codes("dmp.", mark) == ["dmp.documents.list:care_consent"]

    def test_dmp6_an_empty_profile_says_so(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        page = _text(verified_client(charlie_in_care).get(_url("patient", alice_dmp)))
        assert 'data-testid="profile-empty"' in page

    def test_cons2_a_blocked_doctor_sees_no_profile_and_one_refusal(
        self, alice: User, alice_dmp: Beneficiary, dora_blocked: User
    ) -> None:
        _profile(alice, alice_dmp)
        client = verified_client(dora_blocked)
        session = client.session
        session["pro_found_patients"] = [alice_dmp.pk]
        session.save()
        mark = _mark()
        response = client.get(_url("patient", alice_dmp))
        assert response.status_code == 404
        assert "Pénicilline" not in _text(response)
        assert _codes("dmp.", mark) == ["dmp.documents.list:refused.blocked"]


# ---------------------------------------------------------------- declaration


@pytest.mark.django_db
class CareDeclareTestCase:
    def test_cons1_found_without_care_the_page_offers_the_ways_in(
        self, alice_dmp: Beneficiary, victor: User
    ) -> None:
        client = _found_client(victor, alice_dmp)
        response = client.get(_url("patient", alice_dmp))
        assert response.status_code == 200
        page = _text(response)
        assert "Déclarer le consentement du patient" in page
        assert "J'atteste que le patient, informé, a consenti" in page
        assert "Je fais partie de l'équipe de soins" in page
        assert _url("emergency", alice_dmp) in page
        assert "documents" not in response.context
        assert _codes("dmp.documents.list") == [
            "dmp.documents.list:refused.not_in_care"
        ]

    def test_cons1_the_attestation_is_required(
        self, alice_dmp: Beneficiary, victor: User
    ) -> None:
        client = _found_client(victor, alice_dmp)
        response = client.post(_url("care-declare", alice_dmp), {"kind": "consent"})
        assert response.status_code == 400
        assert "Cochez l'attestation" in _text(response)
        assert not CareRelationship.objects.filter(professional=victor.professional)

    def test_cons1_declaring_the_consent_opens_the_dmp(
        self, alice_dmp: Beneficiary, victor: User
    ) -> None:
        client = _found_client(victor, alice_dmp)
        response = client.post(
            _url("care-declare", alice_dmp), {"kind": "consent", "attestation": "on"}
        )
        assert response.status_code == 302
        relationship = CareRelationship.objects.get(professional=victor.professional)
        assert relationship.kind == "consent"
        page = client.get(_url("patient", alice_dmp))
        assert page.status_code == 200
        assert "Consentement déclaré le" in _text(page)
        # In care now: the patient is on the home page, and reachable without
        # the search (a new session).
        fresh = verified_client(victor)
        assert fresh.get(_url("patient", alice_dmp)).status_code == 200
        home = _text(fresh.get(reverse("espace:pro-home")))
        assert "Alice MOREAU" in home

    def test_cons1_the_care_team(self, alice_dmp: Beneficiary, nina: User) -> None:
        client = _found_client(nina, alice_dmp)
        client.post(
            _url("care-declare", alice_dmp), {"kind": "care_team", "attestation": "on"}
        )
        page = _text(client.get(_url("patient", alice_dmp)))
        assert "Équipe de soins, déclarée le" in page

    def test_sec1_not_found_in_the_session_is_a_404(
        self, alice_dmp: Beneficiary, victor: User
    ) -> None:
        response = verified_client(victor).post(
            _url("care-declare", alice_dmp), {"kind": "consent", "attestation": "on"}
        )
        assert response.status_code == 404
        assert not CareRelationship.objects.filter(professional=victor.professional)


# ---------------------------------------------------------------- deposits


@pytest.mark.django_db
class DepositTestCase:
    def test_dmp4_a_doctor_in_care_deposits_a_pdf(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        client = verified_client(charlie_in_care)
        form = client.get(_url("document-deposit", alice_dmp))
        assert form.status_code == 200
        page = _text(form)
        assert '<optgroup label="Compte rendu">' in page
        assert "Secret du mineur" not in page  # alice is an adult
        response = client.post(
            _url("document-deposit", alice_dmp),
            _deposit_form(invisible_patient="on", invisible_representatives="on"),
        )
        document = Document.objects.get()
        assert response.status_code == 302
        assert response["Location"] == _url("document-detail", alice_dmp, document.pk)
        assert document.type_code == "11488-4"
        assert document.class_code == "10"
        assert document.author_professional == charlie_in_care.professional
        assert document.invisible_patient is True  # DMP-9
        assert document.invisible_representatives is False  # adults: no field
        assert _codes("dmp.document.deposit") == ["dmp.document.deposit:care_consent"]

    def test_dmp10_the_minor_secret_is_offered_for_a_minor_only(
        self, leo_dmp: Beneficiary, charlie: User
    ) -> None:
        CareRelationship.objects.create(
            patient=leo_dmp, professional=charlie.professional, kind="consent"
        )
        client = verified_client(charlie)
        page = _text(client.get(_url("document-deposit", leo_dmp)))
        assert "Secret du mineur : non visible par les représentants légaux" in page
        client.post(
            _url("document-deposit", leo_dmp),
            _deposit_form(invisible_representatives="on"),
        )
        assert Document.objects.get().invisible_representatives is True

    def test_dmp2_a_refused_file_says_why_in_french_and_stores_nothing(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        client = verified_client(charlie_in_care)
        response = client.post(
            _url("document-deposit", alice_dmp),
            _deposit_form(file=_upload(b"MZ\x90\x00 not a pdf", "cr.pdf")),
        )
        assert response.status_code == 400
        assert "Ce type de fichier n'est pas accepté" in _text(response)
        assert not Document.objects.exists()
        assert _stored_files() == []

    def test_sec8_missing_or_bad_fields_are_french_400s(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        client = verified_client(charlie_in_care)
        url = _url("document-deposit", alice_dmp)
        future = (timezone.localdate() + timedelta(days=1)).strftime("%d/%m/%Y")
        cases = [
            ({"file": ""}, "Choisissez le fichier à déposer."),
            ({"type_code": "DOCPAT01"}, "Choisissez un type de document de la liste."),
            ({"title": ""}, "Donnez un titre au document."),
            ({"document_date": future}, "La date du document est dans le futur."),
        ]
        for fields, message in cases:
            response = client.post(url, _deposit_form(**fields))
            assert response.status_code == 400, message
            assert message in _text(response)
        assert not Document.objects.exists()

    def test_cons1_no_deposit_without_care_nor_under_an_emergency(
        self, alice_dmp: Beneficiary, victor: User
    ) -> None:
        client = _found_client(victor, alice_dmp)
        assert client.get(_url("document-deposit", alice_dmp)).status_code == 404
        client.post(
            _url("emergency", alice_dmp),
            {"mode": "bris_de_glace", "reason": "Patient inconscient aux urgences"},
        )
        page = _text(client.get(_url("patient", alice_dmp)))
        assert _url("document-deposit", alice_dmp) not in page
        response = client.post(_url("document-deposit", alice_dmp), _deposit_form())
        assert response.status_code == 404
        assert not Document.objects.exists()


@pytest.mark.django_db
class YearlySummaryTestCase:
    def test_dmp4_the_medecin_traitant_deposits_the_yearly_summary(
        self, alice_dmp: Beneficiary, bob: User
    ) -> None:
        client = verified_client(bob)
        url = _url("yearly-summary", alice_dmp)
        page = _text(client.get(url))
        assert "L1111-15" in page
        assert "Vous n'avez pas encore déposé de synthèse" in page
        assert '<option value="60591-5" selected>Synthèse médicale (VSM)' in page
        assert "11502-2" not in page  # the only type offered
        response = client.post(
            url,
            _deposit_form(
                type_code="60591-5",
                title="Synthèse 2025",
                document_date="02/01/2025",
            ),
        )
        assert response.status_code == 302
        assert Document.objects.get().type_code == "60591-5"
        again = _text(client.get(url))
        assert "Votre dernière synthèse date du 2 janvier 2025." in again

    def test_dmp4_another_type_is_refused(
        self, alice_dmp: Beneficiary, bob: User
    ) -> None:
        response = verified_client(bob).post(
            _url("yearly-summary", alice_dmp), _deposit_form(type_code="11502-2")
        )
        assert response.status_code == 400
        assert not Document.objects.exists()

    def test_sec1_only_the_medecin_traitant(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        client = verified_client(charlie_in_care)
        assert client.get(_url("yearly-summary", alice_dmp)).status_code == 404


# ---------------------------------------------------------------- one document


@pytest.mark.django_db
class DocumentDetailTestCase:
    def test_dmp1_the_author_sees_metadata_preview_and_actions(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        document = _deposit(charlie_in_care, alice_dmp, invisible_patient=True)
        mark = _mark()
        response = verified_client(charlie_in_care).get(
            _url("document-detail", alice_dmp, document.pk)
        )
        assert response.status_code == 200
        page = _text(response)
        assert "CR d'examens biologiques" in page
        assert reverse("dmp:document-preview", args=[document.pk]) in page
        assert "Confirmer la consultation d'annonce" in page
        assert _url("document-replace", alice_dmp, document.pk) in page
        assert "Supprimer ce document" in page
        assert _codes("dmp.", mark) == ["dmp.document.read:care_consent"]

    def test_dmp9_the_author_confirms_the_announcement(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        document = _deposit(charlie_in_care, alice_dmp, invisible_patient=True)
        response = verified_client(charlie_in_care).post(
            _url("document-announce", alice_dmp, document.pk)
        )
        assert response.status_code == 302
        document.refresh_from_db()
        assert document.announced_at is not None

    def test_dmp11_a_new_version_keeps_the_old_one_in_the_history(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        first = _deposit(charlie_in_care, alice_dmp, title="Version un")
        client = verified_client(charlie_in_care)
        url = _url("document-replace", alice_dmp, first.pk)
        form = client.get(url)
        assert form.status_code == 200
        assert 'value="Version un"' in _text(form)
        response = client.post(
            url, _deposit_form(type_code="11502-2", title="Version deux")
        )
        second = Document.objects.get(status=Document.Status.CURRENT)
        assert response["Location"] == _url("document-detail", alice_dmp, second.pk)
        first.refresh_from_db()
        assert first.status == Document.Status.REPLACED
        assert (second.version, second.replaces_id) == (2, first.pk)
        detail = _text(client.get(response["Location"]))
        assert "Versions précédentes" in detail
        assert "Version 1, déposée le" in detail

    def test_dmp11_the_author_deletes_their_document(
        self, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        document = _deposit(charlie_in_care, alice_dmp)
        client = verified_client(charlie_in_care)
        response = client.post(_url("document-delete", alice_dmp, document.pk))
        assert response["Location"] == _url("patient", alice_dmp)
        document.refresh_from_db()
        assert document.status == Document.Status.DELETED

    def test_dmp11_another_professional_cannot_replace_announce_or_delete(
        self, alice_dmp: Beneficiary, charlie_in_care: User, nina_in_care: User
    ) -> None:
        document = _deposit(charlie_in_care, alice_dmp, invisible_patient=True)
        client = verified_client(nina_in_care)
        detail = client.get(_url("document-detail", alice_dmp, document.pk))
        assert detail.status_code == 200
        assert "Supprimer ce document" not in _text(detail)
        assert "Confirmer la consultation" not in _text(detail)
        for name in ("document-announce", "document-delete", "document-replace"):
            assert client.post(_url(name, alice_dmp, document.pk)).status_code == 404
        document.refresh_from_db()
        assert document.status == Document.Status.CURRENT
        assert document.announced_at is None

    def test_sec1_a_document_of_another_patient_or_none_is_a_404(
        self,
        alice_dmp: Beneficiary,
        eve_dmp: Beneficiary,
        charlie_in_care: User,
    ) -> None:
        CareRelationship.objects.create(
            patient=eve_dmp, professional=charlie_in_care.professional, kind="consent"
        )
        of_eve = _deposit(charlie_in_care, eve_dmp)
        client = verified_client(charlie_in_care)
        wrong_patient = client.get(_url("document-detail", alice_dmp, of_eve.pk))
        missing = client.get(_url("document-detail", alice_dmp, uuid.uuid4()))
        assert wrong_patient.status_code == missing.status_code == 404
        assert page_body(wrong_patient.content) == page_body(missing.content)


# ---------------------------------------------------------------- emergency


@pytest.mark.django_db
class EmergencyTestCase:
    def test_cons6_bris_de_glace_opens_the_dmp_with_a_red_banner(
        self, alice_dmp: Beneficiary, bob: User, charlie: User, victor: User
    ) -> None:
        _deposit(bob, alice_dmp, title="Compte rendu récent")
        client = _found_client(victor, alice_dmp)
        form = client.get(_url("emergency", alice_dmp))
        assert form.status_code == 200
        page = _text(form)
        assert "le patient et son médecin traitant seront informés" in page.replace(
            "Le patient", "le patient"
        )
        assert "samu" not in page  # not a regulator: one mode only
        response = client.post(
            _url("emergency", alice_dmp),
            {"mode": "bris_de_glace", "reason": "Patiente inconsciente, allergies ?"},
        )
        assert response.status_code == 302
        dmp = _text(client.get(_url("patient", alice_dmp)))
        assert 'data-testid="emergency-banner"' in dmp
        assert "Accès en urgence (bris de glace) jusqu'à" in dmp
        assert "Compte rendu récent" in dmp
        # The médecin traitant is told (CONS-6).
        assert ProfessionalNotice.objects.get().professional == bob.professional

    def test_cons6_the_reason_is_required_15_characters_at_least(
        self, alice_dmp: Beneficiary, victor: User
    ) -> None:
        client = _found_client(victor, alice_dmp)
        response = client.post(
            _url("emergency", alice_dmp), {"mode": "bris_de_glace", "reason": "vite"}
        )
        assert response.status_code == 400
        assert "15 caractères au moins" in _text(response)
        assert client.get(_url("patient", alice_dmp)).context.get("access") is None

    def test_cons6_an_opposed_patient_stays_closed_403(
        self, alice_dmp: Beneficiary, victor: User
    ) -> None:
        PrivacySettings.objects.create(patient=alice_dmp, bris_de_glace=False)
        client = _found_client(victor, alice_dmp)
        response = client.post(
            _url("emergency", alice_dmp),
            {"mode": "bris_de_glace", "reason": "Patiente inconsciente, allergies ?"},
        )
        assert response.status_code == 403
        assert "s'est opposé à ce type d'accès" in _text(response)
        assert _codes("consent.emergency") == [
            "consent.emergency.bris_de_glace:refused.opposed"
        ]
        assert "Déclarer le consentement" in _text(
            client.get(_url("patient", alice_dmp))
        )

    def test_cons6_the_samu_mode_is_for_the_regulator_only(
        self, alice_dmp: Beneficiary, sam: User, victor: User
    ) -> None:
        reason = {"mode": "samu", "reason": "Appel au 15 : malaise, patiente seule"}
        regulator = _found_client(sam, alice_dmp)
        assert "Régulation SAMU-Centre 15" in _text(
            regulator.get(_url("emergency", alice_dmp))
        )
        assert regulator.post(_url("emergency", alice_dmp), reason).status_code == 302
        other = _found_client(victor, alice_dmp)
        assert other.post(_url("emergency", alice_dmp), reason).status_code == 400


# ---------------------------------------------------------------- alerts, home


@pytest.mark.django_db
class AlertsTestCase:
    def test_cons6_the_medecin_traitant_sees_the_alert_once_new(
        self, alice_dmp: Beneficiary, bob: User, victor: User
    ) -> None:
        _found_client(victor, alice_dmp).post(
            _url("emergency", alice_dmp),
            {"mode": "bris_de_glace", "reason": "Patiente inconsciente, allergies ?"},
        )
        client = verified_client(bob)
        home = _text(client.get(reverse("espace:pro-home")))
        assert '1<span class="fr-sr-only"> non lue(s)' in home
        alerts = client.get(reverse("pro:alerts"))
        assert alerts.status_code == 200
        page = _text(alerts)
        assert "ouvert en urgence" in page
        assert "Alice MOREAU" in page
        assert "Nouveau" in page
        assert "Patiente inconsciente" not in page  # never the reason
        assert ProfessionalNotice.objects.get().read_at is not None
        assert "Nouveau" not in _text(client.get(reverse("pro:alerts")))

    def test_sec1_alerts_are_the_professionals_own(
        self, alice: User, agnes: User, charlie: User
    ) -> None:
        assert verified_client(alice).get(reverse("pro:alerts")).status_code == 404
        assert verified_client(agnes).get(reverse("pro:alerts")).status_code == 404
        page = verified_client(charlie).get(reverse("pro:alerts"))
        assert 'data-testid="alerts-empty"' in _text(page)


@pytest.mark.django_db
class ProHomeTestCase:
    def test_cons1_the_home_lists_the_patients_in_care_only(
        self,
        alice_dmp: Beneficiary,
        bob: User,
        charlie_in_care: User,
        dora_blocked: User,
        victor: User,
    ) -> None:
        for user, listed in (
            (bob, True),
            (charlie_in_care, True),
            (dora_blocked, False),
            (victor, False),
        ):
            page = verified_client(user).get(reverse("espace:pro-home"))
            assert ("Alice MOREAU" in _text(page)) is listed, user
        mt = _text(verified_client(bob).get(reverse("espace:pro-home")))
        assert "Médecin traitant" in mt
        assert reverse("pro:patient-search") in mt
