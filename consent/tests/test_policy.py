"""The one access policy (CONS-1 to CONS-7, DMP-8, DMP-9, G-S2)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from consent.matrix import matrix_cells
from consent.models import CLASS_CODES, AccessRule, CareRelationship, EmergencyAccess
from consent.policy import Basis, Purpose, Refusal, access_for
from dmp import codes
from dmp.models import Document
from dmp.selectors import visible_documents
from espace.models import Beneficiary, Professional, User
from tests.files import pdf_bytes
from tests.personas import _pro


def deposit(actor: User, patient: Beneficiary, **fields: Any) -> Document:
    from dmp.services import document_deposit

    options: dict[str, Any] = {
        "title": "Compte rendu",
        "type_code": "11502-2" if actor.role == User.Role.PROFESSIONAL else "DOCPAT03",
        "file_name": "cr.pdf",
    }
    options.update(fields)
    return document_deposit(
        actor=actor, patient=patient, stream=io.BytesIO(pdf_bytes()), **options
    )


def _basis(actor: User, patient: Beneficiary, purpose: Purpose = Purpose.READ) -> Any:
    access = access_for(actor=actor, patient=patient, purpose=purpose)
    return access.basis or access.refusal


@pytest.mark.django_db
class WhoMaySeeTestCase:
    def test_cons1_each_persona_gets_its_basis_or_its_refusal(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        bob: User,
        charlie_in_care: User,
        nina_in_care: User,
        dora_blocked: User,
        victor: User,
        eve: User,
        agnes: User,
        sam: User,
    ) -> None:
        assert _basis(alice, alice_dmp) == Basis.SELF
        assert _basis(bob, alice_dmp) == Basis.MEDECIN_TRAITANT
        assert _basis(charlie_in_care, alice_dmp) == Basis.CARE_CONSENT
        assert _basis(nina_in_care, alice_dmp) == Basis.CARE_TEAM
        assert _basis(dora_blocked, alice_dmp) == Refusal.BLOCKED
        assert _basis(victor, alice_dmp) == Refusal.NOT_IN_CARE
        assert _basis(sam, alice_dmp) == Refusal.NOT_IN_CARE  # no emergency yet
        assert _basis(eve, alice_dmp) == Refusal.NOT_RELATED
        assert _basis(agnes, alice_dmp) == Refusal.ROLE  # agents: no health data
        # Professionals never manage the patient's settings.
        assert _basis(bob, alice_dmp, Purpose.MANAGE) == Refusal.PURPOSE

    def test_cons7_representatives_until_the_18th_birthday(
        self, alice: User, leo_dmp: Beneficiary, zoe: Beneficiary, eve: User
    ) -> None:
        assert _basis(alice, leo_dmp) == Basis.REPRESENTATIVE
        assert _basis(eve, leo_dmp) == Refusal.NOT_RELATED  # the other family
        assert _basis(alice, zoe) == Refusal.NOT_RELATED  # 18 today
        with time_machine.travel(timezone.now() - timedelta(days=1)):
            assert _basis(alice, zoe) == Basis.REPRESENTATIVE  # the day before

    def test_no_dmp_no_access(self, alice: User, bob: User) -> None:
        """An informed, opposed or closed space has no DMP to show."""
        assert _basis(alice, alice.beneficiary) == Refusal.NO_DMP
        assert _basis(bob, alice.beneficiary) == Refusal.NO_DMP

    def test_cons6_emergency_opens_until_it_ends_unless_opposed(
        self, alice_dmp: Beneficiary, victor: User, sam: User
    ) -> None:
        from consent.services import emergency_access_start, privacy_settings_update

        emergency_access_start(
            actor=victor,
            patient=alice_dmp,
            mode=EmergencyAccess.Mode.BRIS_DE_GLACE,
            reason="Patiente inconsciente aux urgences, antécédents inconnus",
        )
        assert _basis(victor, alice_dmp) == Basis.EMERGENCY_BRIS_DE_GLACE
        assert _basis(victor, alice_dmp, Purpose.DEPOSIT) == Refusal.NOT_IN_CARE
        with time_machine.travel(timezone.now() + timedelta(minutes=61)):
            assert _basis(victor, alice_dmp) == Refusal.NOT_IN_CARE
        # The patient opposes bris de glace: the open access closes at once.
        privacy_settings_update(
            actor=alice_dmp.user, patient=alice_dmp, bris_de_glace=False, samu=True
        )
        assert _basis(victor, alice_dmp) == Refusal.NOT_IN_CARE
        emergency_access_start(
            actor=sam,
            patient=alice_dmp,
            mode=EmergencyAccess.Mode.SAMU,
            reason="Appel au 15 : malaise, la patiente ne répond plus",
        )
        assert _basis(sam, alice_dmp) == Basis.EMERGENCY_SAMU


@pytest.mark.django_db
class WhatTheySeeTestCase:
    """DMP-8, DMP-9, CONS-7: the flags, per persona, in one SQL filter."""

    def test_flags_per_persona(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        bob: User,
        charlie_in_care: User,
        paul_in_care: User,
    ) -> None:
        plain = deposit(charlie_in_care, alice_dmp)
        masked = deposit(charlie_in_care, alice_dmp)
        Document.objects.filter(pk=masked.pk).update(masked=True)
        withheld = deposit(charlie_in_care, alice_dmp, invisible_patient=True)
        own = deposit(alice, alice_dmp)

        def seen(user: User) -> set[Any]:
            access = access_for(actor=user, patient=alice_dmp, purpose=Purpose.READ)
            return set(visible_documents(access).values_list("pk", flat=True))

        assert seen(alice) == {plain.pk, masked.pk, own.pk}  # not the withheld
        assert seen(bob) == {plain.pk, masked.pk, withheld.pk, own.pk}  # MT: all
        # The author still sees the masked one; the patient's own document
        # is class 90, open to doctors by the matrix.
        assert seen(charlie_in_care) == {plain.pk, masked.pk, withheld.pk, own.pk}
        # The pharmacist: classes 10 (CR) yes by the matrix, 90 no, masked no.
        assert seen(paul_in_care) == {plain.pk, withheld.pk}
        with time_machine.travel(timezone.now() + timedelta(days=30, minutes=1)):
            assert withheld.pk in seen(alice)  # DMP-9: visible after a month

    def test_cons7_invisible_to_representatives(
        self, alice: User, leo_dmp: Beneficiary, bob: User
    ) -> None:
        leo_dmp.medecin_traitant = bob.professional
        leo_dmp.save()
        secret = deposit(bob, leo_dmp, invisible_representatives=True)
        shared = deposit(bob, leo_dmp)
        access = access_for(actor=alice, patient=leo_dmp, purpose=Purpose.READ)
        assert set(visible_documents(access).values_list("pk", flat=True)) == {
            shared.pk
        }
        assert secret.pk in set(
            visible_documents(
                access_for(actor=bob, patient=leo_dmp, purpose=Purpose.READ)
            ).values_list("pk", flat=True)
        )


@pytest.mark.django_db
def test_g_s2_every_matrix_cell_matches_the_file(alice_dmp: Beneficiary) -> None:
    """Every profession × class cell of the fixture decides what a
    professional in care sees (21 × 11 cells), and an agent's edit counts
    from the next decision (no cache)."""
    cells = matrix_cells()
    professions = {p for p, _c in cells}
    assert professions == set(Professional.Profession.values)
    assert {c for _p, c in cells} == set(CLASS_CODES)
    assert {cls for _label, cls in codes.ALL_TYPES.values()} <= set(CLASS_CODES)
    for n, profession in enumerate(sorted(professions)):
        user = _pro(f"pro{n}", _rpps(n), profession)
        CareRelationship.objects.create(
            patient=alice_dmp, professional=user.professional, kind="consent"
        )
        access = access_for(actor=user, patient=alice_dmp, purpose=Purpose.READ)
        for (cell_profession, class_code), allowed in cells.items():
            if cell_profession == profession:
                assert (class_code in access.classes) == allowed, (
                    profession,
                    class_code,
                )
    doctor = Professional.objects.filter(profession="10").first()
    assert doctor is not None
    AccessRule.objects.filter(profession="10", class_code="31").update(allowed=False)
    access = access_for(actor=doctor.user, patient=alice_dmp, purpose=Purpose.READ)
    assert "31" not in access.classes


def _rpps(n: int) -> str:
    from stdnum import luhn

    body = f"9980000{n:03d}"
    return body + luhn.calc_check_digit(body)


@pytest.mark.django_db
def test_g_s12_one_audit_entry_per_decision(
    alice: User, alice_dmp: Beneficiary, victor: User
) -> None:
    from django.http import Http404

    from dmp.selectors import documents_list_for

    before = AuditEvent.objects.count()
    documents_list_for(actor=alice, patient=alice_dmp)
    assert AuditEvent.objects.count() == before + 1
    entry = AuditEvent.objects.order_by("-seq").first()
    assert entry is not None and entry.code == "dmp.documents.list:self"
    with pytest.raises(Http404):
        documents_list_for(actor=victor, patient=alice_dmp)
    refused = AuditEvent.objects.order_by("-seq").first()
    assert refused is not None
    assert refused.code == "dmp.documents.list:refused.not_in_care"
    assert refused.outcome == AuditEvent.Outcome.MINOR_FAILURE
    assert AuditEvent.objects.count() == before + 2


@pytest.mark.django_db
def test_g_s2_an_agent_edits_a_cell_in_the_back_office_and_it_counts_at_once(
    agnes: User, alice_dmp: Beneficiary, nina_in_care: User
) -> None:
    from django.urls import reverse

    from tests.personas import verified_client

    assert (
        "31"
        not in access_for(
            actor=nina_in_care, patient=alice_dmp, purpose=Purpose.READ
        ).classes
    )
    rule = AccessRule.objects.get(profession="60", class_code="31")
    client = verified_client(agnes)
    page = client.get(reverse("admin:consent_accessrule_change", args=[rule.pk]))
    assert page.status_code == 200
    client.post(
        reverse("admin:consent_accessrule_change", args=[rule.pk]), {"allowed": "on"}
    )
    assert (
        "31"
        in access_for(
            actor=nina_in_care, patient=alice_dmp, purpose=Purpose.READ
        ).classes
    )
    assert AuditEvent.objects.filter(code="consent.matrix.allow").count() == 1
    assert client.get(reverse("admin:consent_accessrule_add")).status_code == 403
