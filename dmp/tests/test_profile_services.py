"""The medical profile (DMP-6): entries with their history (DMP-11), the
organ-donation choice, measures and their ranges, who reads what (CONS-1,
CONS-2, CONS-7, DMP-8), one audit entry per read or write (G-S12), and the
PDF copy deposited as DOCPAT08."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from consent.models import AccessRule
from dmp import profile_services as services
from dmp.models import Document, Measure, ProfileEntry
from dmp.profile_selectors import (
    measures_list_for,
    profile_entry_history_for,
    profile_get_for,
)
from dmp.selectors import document_open_for, documents_list_for
from espace.models import Beneficiary, User

Section = ProfileEntry.Section


def _codes(prefix: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(code__startswith=prefix).values_list(
            "code", flat=True
        )
    )


def _allergy(actor: User, patient: Beneficiary, **fields: Any) -> ProfileEntry:
    options: dict[str, Any] = {
        "section": Section.ALLERGY,
        "label": "Pénicilline",
        "details": "Urticaire",
    }
    options.update(fields)
    return services.profile_entry_add(actor=actor, patient=patient, **options)


@pytest.mark.django_db
class ProfileEntryTestCase:
    def test_dmp6_the_patient_adds_an_entry_encrypted_and_audited_once(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        entry = _allergy(alice, alice_dmp, entry_date=dt.date(2001, 5, 1))
        assert (entry.label, entry.details, entry.version) == (
            "Pénicilline",
            "Urticaire",
            1,
        )
        assert entry.lineage == entry.pk
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT label, details FROM dmp_profileentry WHERE id = %s",
                [entry.pk.hex if connection.vendor == "sqlite" else entry.pk],
            )
            stored = " ".join(cursor.fetchone())
        assert "Pénicilline" not in stored and "Urticaire" not in stored  # SEC-5
        assert _codes("dmp.profile") == ["dmp.profile.entry.add:self"]

    def test_dmp11_an_edit_is_a_new_version_and_a_deletion_keeps_the_row(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        first = _allergy(alice, alice_dmp)
        second = services.profile_entry_update(
            actor=alice, entry=first, label="Amoxicilline", details="Œdème"
        )
        first.refresh_from_db()
        assert first.status == ProfileEntry.Status.REPLACED
        assert (second.version, second.replaces_id, second.lineage) == (
            2,
            first.pk,
            first.pk,
        )
        services.profile_entry_delete(actor=alice, entry=second)
        versions, _access = profile_entry_history_for(actor=alice, pk=first.pk)
        assert [(v.version, v.status, v.label) for v in versions] == [
            (2, "deleted", "Amoxicilline"),
            (1, "replaced", "Pénicilline"),
        ]
        profile = profile_get_for(actor=alice, patient=alice_dmp)
        assert all(not s.entries for s in profile.sections)
        assert _codes("dmp.profile.entry") == [
            "dmp.profile.entry.add:self",
            "dmp.profile.entry.update:self",
            "dmp.profile.entry.delete:self",
            "dmp.profile.entry.history:self",
        ]

    def test_dmp11_a_stale_edit_is_refused_with_a_message(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        first = _allergy(alice, alice_dmp)
        services.profile_entry_update(actor=alice, entry=first, label="Arachide")
        with pytest.raises(ValidationError, match="déjà été modifiée"):
            services.profile_entry_update(actor=alice, entry=first, label="Noix")
        with pytest.raises(ValidationError, match="déjà été modifiée"):
            services.profile_entry_delete(actor=alice, entry=first)
        assert ProfileEntry.objects.count() == 2
        assert _codes("dmp.profile.entry.update:refused") == [
            "dmp.profile.entry.update:refused.invalid"
        ]

    def test_an_unchanged_edit_adds_no_version(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        entry = _allergy(alice, alice_dmp)
        same = services.profile_entry_update(
            actor=alice, entry=entry, label="Pénicilline", details="Urticaire"
        )
        assert same.pk == entry.pk and ProfileEntry.objects.count() == 1

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"label": "   "}, "Renseignez l'intitulé"),
            ({"label": "x" * 201}, "200 caractères"),
            ({"details": "x" * 2001}, "2000 caractères"),
            ({"entry_date": dt.date(2999, 1, 1)}, "dans le futur"),
            ({"entry_date": dt.date(1970, 1, 1)}, "antérieure à la naissance"),
            ({"section": "tarot"}, "Rubrique inconnue"),
        ],
    )
    def test_bad_input_writes_nothing_and_says_why_in_french(
        self, alice: User, alice_dmp: Beneficiary, fields: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(ValidationError, match=message):
            _allergy(alice, alice_dmp, **fields)
        assert ProfileEntry.objects.count() == 0
        assert _codes("dmp.profile") == ["dmp.profile.entry.add:refused.invalid"]

    def test_one_trusted_person_and_one_organ_donation_choice(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        services.profile_entry_add(
            actor=alice,
            patient=alice_dmp,
            section=Section.TRUSTED_PERSON,
            label="Paul Moreau",
            details="Frère, 06 12 34 56 78",
        )
        with pytest.raises(ValidationError, match="déjà une réponse"):
            services.profile_entry_add(
                actor=alice,
                patient=alice_dmp,
                section=Section.TRUSTED_PERSON,
                label="Jeanne Moreau",
            )
        first = services.organ_donation_set(
            actor=alice, patient=alice_dmp, choice="accepte"
        )
        second = services.organ_donation_set(
            actor=alice, patient=alice_dmp, choice="refuse"
        )
        assert second.version == 2 and second.lineage == first.pk
        profile = profile_get_for(actor=alice, patient=alice_dmp)
        assert profile.organ_donation_choice == "refuse"
        assert profile.organ_donation_label.startswith("Je refuse")
        with pytest.raises(ValidationError, match="Choisissez une réponse"):
            services.organ_donation_set(
                actor=alice, patient=alice_dmp, choice="peut-être"
            )

    def test_cons7_a_parent_writes_the_childs_profile_until_18(
        self, alice: User, leo_dmp: Beneficiary, zoe: Beneficiary
    ) -> None:
        entry = _allergy(alice, leo_dmp, label="Arachide")
        assert entry.patient == leo_dmp and entry.created_by == alice
        assert _codes("dmp.profile") == ["dmp.profile.entry.add:representative"]
        with pytest.raises(PermissionDenied):
            _allergy(alice, zoe)

    def test_refusals_are_audited_and_write_nothing(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        bob: User,
        charlie_in_care: User,
        eve: User,
        agnes: User,
    ) -> None:
        entry = _allergy(alice, alice_dmp)
        for intruder in (bob, charlie_in_care, eve, agnes):
            with pytest.raises(PermissionDenied):
                _allergy(intruder, alice_dmp)
            with pytest.raises(PermissionDenied):
                services.profile_entry_update(actor=intruder, entry=entry, label="x")
            with pytest.raises(PermissionDenied):
                services.profile_entry_delete(actor=intruder, entry=entry)
            with pytest.raises(PermissionDenied):
                services.measure_add(
                    actor=intruder,
                    patient=alice_dmp,
                    kind="weight",
                    measured_on=timezone.localdate(),
                    value="70",
                )
        assert ProfileEntry.objects.count() == 1 and Measure.objects.count() == 0
        refused = _codes("dmp.profile.entry.add:refused")
        assert sorted(refused) == [
            "dmp.profile.entry.add:refused.not_related",
            "dmp.profile.entry.add:refused.purpose",
            "dmp.profile.entry.add:refused.purpose",
            "dmp.profile.entry.add:refused.role",
        ]

    def test_no_dmp_no_profile(self, alice: User, eve: User) -> None:
        with pytest.raises(PermissionDenied):
            _allergy(eve, eve.beneficiary)
        with pytest.raises(Http404):
            profile_get_for(actor=eve, patient=eve.beneficiary)


@pytest.mark.django_db
class MeasureTestCase:
    def _add(self, actor: User, patient: Beneficiary, **fields: Any) -> Measure:
        options: dict[str, Any] = {
            "kind": "weight",
            "measured_on": timezone.localdate(),
            "value": "72,5",
        }
        options.update(fields)
        return services.measure_add(actor=actor, patient=patient, **options)

    def test_dmp6_measures_are_encrypted_and_listed_by_kind_oldest_first(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        today = timezone.localdate()
        self._add(alice, alice_dmp, measured_on=today)
        self._add(alice, alice_dmp, measured_on=today - dt.timedelta(days=30), value=74)
        self._add(
            alice,
            alice_dmp,
            kind="blood_pressure",
            value="128",
            value2="82",
        )
        pressure = Measure.objects.get(kind="blood_pressure")
        assert (pressure.number, pressure.number2) == (Decimal(128), Decimal(82))
        with connection.cursor() as cursor:
            cursor.execute("SELECT value FROM dmp_measure")
            stored = [row[0] for row in cursor.fetchall()]
        # SEC-5: ciphertexts, never the numbers (a ciphertext may contain the
        # digits "72" by chance: compare with every plain form instead).
        plain = {"72", "72.5", "72,5", "74", "74.0", "128", "82", "128/82"}
        assert stored and all(
            value not in plain and len(value) > 40 for value in stored
        )
        listing = measures_list_for(actor=alice, patient=alice_dmp)
        assert [m.number for m in listing.by_kind["weight"]] == [
            Decimal("74.0"),
            Decimal("72.5"),
        ]
        assert listing.by_kind["glycaemia"] == []
        latest = profile_get_for(actor=alice, patient=alice_dmp).latest
        assert [(m.kind, m.number) for m in latest] == [
            ("weight", Decimal("72.5")),
            ("blood_pressure", Decimal(128)),
        ]

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"value": "0,2"}, "entre 0,3 et 500 kg"),
            ({"value": "501"}, "entre 0,3 et 500 kg"),
            ({"value": "soixante"}, "Saisissez un nombre"),
            ({"value": "NaN"}, "Saisissez un nombre"),
            ({"kind": "height", "value": "300"}, "entre 20 et 260 cm"),
            ({"kind": "glycaemia", "value": "12"}, "entre 0,10 et 10 g/L"),
            ({"kind": "blood_pressure", "value": "120"}, "diastolique"),
            (
                {"kind": "blood_pressure", "value": "80", "value2": "120"},
                "inférieure à la systolique",
            ),
            ({"kind": "blood_pressure", "value": "30", "value2": "20"}, "50 et 300"),
            ({"kind": "temperature"}, "Mesure inconnue"),
            ({"measured_on": dt.date(2999, 1, 1)}, "dans le futur"),
        ],
    )
    def test_dmp6_ranges_are_checked_with_french_messages(
        self, alice: User, alice_dmp: Beneficiary, fields: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(ValidationError, match=message):
            self._add(alice, alice_dmp, **fields)
        assert Measure.objects.count() == 0
        assert _codes("dmp.profile") == ["dmp.profile.measure.add:refused.invalid"]

    def test_dmp11_a_deleted_measure_leaves_the_chart_and_stays_on_record(
        self, alice: User, alice_dmp: Beneficiary, eve: User
    ) -> None:
        measure = self._add(alice, alice_dmp)
        with pytest.raises(PermissionDenied):
            services.measure_delete(actor=eve, measure=measure)
        services.measure_delete(actor=alice, measure=measure)
        measure.refresh_from_db()
        assert measure.status == Measure.Status.DELETED and measure.deleted_by == alice
        listing = measures_list_for(actor=alice, patient=alice_dmp)
        assert listing.by_kind["weight"] == []
        assert _codes("dmp.profile.measure.delete") == [
            "dmp.profile.measure.delete:refused.not_related",
            "dmp.profile.measure.delete:self",
        ]


@pytest.mark.django_db
class ProfileReadTestCase:
    def _fill(self, alice: User, patient: Beneficiary) -> None:
        _allergy(alice, patient)
        _allergy(alice, patient, label="Latex", masked=True)
        services.measure_add(
            actor=alice,
            patient=patient,
            kind="weight",
            measured_on=timezone.localdate(),
            value="60",
            masked=True,
        )

    def test_cons1_a_professional_in_care_reads_the_profile_without_masked_entries(
        self, alice: User, alice_dmp: Beneficiary, bob: User, nina_in_care: User
    ) -> None:
        """DMP-8: masked entries are hidden from professionals but the
        médecin traitant, who sees everything (L1111-16, A5.7)."""
        self._fill(alice, alice_dmp)
        profile = profile_get_for(actor=nina_in_care, patient=alice_dmp.pk)
        allergies = next(s for s in profile.sections if s.code == "allergy")
        assert [e.label for e in allergies.entries] == ["Pénicilline"]
        assert profile.latest == []
        profile = profile_get_for(actor=bob, patient=alice_dmp.pk)
        allergies = next(s for s in profile.sections if s.code == "allergy")
        assert {e.label for e in allergies.entries} == {"Pénicilline", "Latex"}
        assert len(profile.latest) == 1
        own = profile_get_for(actor=alice, patient=alice_dmp)
        allergies = next(s for s in own.sections if s.code == "allergy")
        assert {e.label for e in allergies.entries} == {"Pénicilline", "Latex"}
        assert _codes("dmp.profile.read") == [
            "dmp.profile.read:care_team",
            "dmp.profile.read:medecin_traitant",
            "dmp.profile.read:self",
        ]

    def test_cons1_the_matrix_must_open_the_synthesis_class(
        self, alice: User, alice_dmp: Beneficiary, nina_in_care: User
    ) -> None:
        AccessRule.objects.filter(profession="60", class_code="11").update(
            allowed=False
        )
        with pytest.raises(Http404):
            profile_get_for(actor=nina_in_care, patient=alice_dmp)
        assert _codes("dmp.profile") == ["dmp.profile.read:refused.matrix"]

    def test_refused_readers_get_404_and_one_audit_entry_each(
        self,
        alice_dmp: Beneficiary,
        dora_blocked: User,
        victor: User,
        eve: User,
        agnes: User,
    ) -> None:
        for intruder in (dora_blocked, victor, eve, agnes):
            with pytest.raises(Http404):
                profile_get_for(actor=intruder, patient=alice_dmp)
            with pytest.raises(Http404):
                measures_list_for(actor=intruder, patient=alice_dmp)
        with pytest.raises(Http404):
            profile_get_for(actor=victor, patient=999_999)
        assert sorted(_codes("dmp.profile.read")) == [
            "dmp.profile.read:refused.blocked",
            "dmp.profile.read:refused.not_in_care",
            "dmp.profile.read:refused.not_related",
            "dmp.profile.read:refused.role",
        ]
        assert len(_codes("dmp.profile.measures.read")) == 4

    def test_a_read_costs_the_same_queries_whatever_the_profile_size(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        _allergy(alice, alice_dmp)
        with CaptureQueriesContext(connection) as small:
            profile_get_for(actor=alice, patient=alice_dmp)
        for i in range(20):
            _allergy(alice, alice_dmp, label=f"Allergie {i}", section="treatment")
        with CaptureQueriesContext(connection) as large:
            profile_get_for(actor=alice, patient=alice_dmp)
        assert len(large) == len(small)


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = tmp_path / "copie.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout


@pytest.mark.django_db
class ProfileCopyTestCase:
    def test_dmp6_the_pdf_copy_is_a_docpat08_document_of_the_patient(
        self, alice: User, alice_dmp: Beneficiary, tmp_path: Path
    ) -> None:
        _allergy(alice, alice_dmp)
        services.profile_entry_add(
            actor=alice,
            patient=alice_dmp,
            section=Section.TREATMENT,
            label="Lévothyrox 75 µg",
            details="1 comprimé le matin",
        )
        services.organ_donation_set(actor=alice, patient=alice_dmp, choice="accepte")
        services.measure_add(
            actor=alice,
            patient=alice_dmp,
            kind="weight",
            measured_on=dt.date(2024, 3, 1),
            value="72.5",
        )
        document = services.profile_copy_deposit(actor=alice, patient=alice_dmp)
        assert (document.type_code, document.class_code) == ("DOCPAT08", "90")
        assert document.mime_type == "application/pdf" and document.by_patient
        listed = documents_list_for(actor=alice, patient=alice_dmp).documents
        assert [d.pk for d in listed] == [document.pk]
        _same, chunks = document_open_for(actor=alice, pk=document.pk)
        text = _pdf_text(b"".join(chunks), tmp_path)
        for expected in (
            "Profil médical",
            "Alice MOREAU",
            "Pénicilline",
            "Urticaire",
            "Lévothyrox 75 µg",
            "J'accepte de donner mes organes",
            "72,5 kg",
            "01/03/2024",
        ):
            assert expected in text
        assert _codes("dmp.profile.copy") == ["dmp.profile.copy:self"]
        assert _codes("dmp.document.deposit") == ["dmp.document.deposit:self"]

    def test_a_professional_cannot_save_a_copy(
        self, alice_dmp: Beneficiary, bob: User
    ) -> None:
        with pytest.raises(PermissionDenied):
            services.profile_copy_deposit(actor=bob, patient=alice_dmp)
        assert Document.objects.count() == 0
        assert _codes("dmp.profile.copy") == ["dmp.profile.copy:refused.purpose"]
