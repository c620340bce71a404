"""The access history in words and its selector (CONS-4, A6.10): labels,
tabs, who did it, filters, pages, and what it must not reveal (DMP-9,
DMP-10, CONS-7)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.services import audit_record
from consent import history
from consent.models import CareRelationship
from consent.selectors import HistoryFilters, access_history_for
from consent.services import emergency_access_start
from dmp.selectors import documents_list_for
from dmp.services import document_announce, document_delete, document_deposit
from espace.models import Beneficiary, LegalRepresentation, User
from tests.files import pdf_bytes

PARIS = dt.timezone(dt.timedelta(hours=1))  # winter time, for readable instants


def _history(
    actor: User, patient: Beneficiary, tab: str = "others", **filters: Any
) -> Any:
    return access_history_for(
        actor=actor, patient=patient, tab=tab, filters=HistoryFilters(**filters)
    )


def _deposit(actor: User, patient: Beneficiary, **flags: Any) -> Any:
    return document_deposit(
        actor=actor,
        patient=patient,
        stream=io.BytesIO(pdf_bytes()),
        file_name="cr.pdf",
        title="Compte rendu",
        type_code="11502-2",
        **flags,
    )


class LabelsTestCase:
    @pytest.mark.parametrize(
        ("code", "label"),
        [
            (
                "dmp.documents.list:care_consent",
                "Consultation de la liste des documents",
            ),
            ("dmp.document.read:self", "Consultation d'un document"),
            ("dmp.document.download:medecin_traitant", "Téléchargement d'un document"),
            ("dmp.document.deposit:care_team", "Ajout d'un document"),
            (
                "dmp.document.new_version:self",
                "Ajout d'une nouvelle version d'un document",
            ),
            ("dmp.document.delete:self", "Suppression d'un document"),
            ("dmp.document.mask:self", "Masquage de document aux professionnels"),
            ("consent.emergency.bris_de_glace", "Accès en urgence (bris de glace)"),
            (
                "consent.emergency.samu",
                "Accès en urgence par le médecin régulateur du SAMU-Centre 15",
            ),
            ("consent.care.declare:consent", "Déclaration d'accès au dossier"),
            ("consent.block", "Blocage d'un professionnel"),
            (
                "consent.blocks.read:self",
                "Consultation de la liste des professionnels bloqués",
            ),
            ("consent.unblock", "Déblocage d'un professionnel"),
            ("lc3.code_issued.email", "Envoi d'un code provisoire"),
            ("lc9.fraud", "Suspension du profil"),
            ("transition", "Autre opération sur le profil"),
        ],
    )
    def test_cons4_each_audit_code_has_a_french_label(
        self, code: str, label: str
    ) -> None:
        assert history.what_label(code) == label

    def test_cons4_details_say_the_basis_the_settings_and_why_refused(self) -> None:
        assert (
            history.detail_label("consent.care.declare:care_team") == "équipe de soins"
        )
        assert (
            history.detail_label("consent.emergency_settings.bdg_off.samu_on")
            == "bris de glace : refusé ; SAMU-Centre 15 : autorisé"
        )
        assert history.detail_label("dmp.documents.list:refused.blocked") == (
            "professionnel bloqué"
        )
        assert history.detail_label("dmp.documents.list:self") == ""

    def test_cons4_how_normal_emergency_or_service(self) -> None:
        assert (
            history.how_of("dmp.documents.list:care_consent", "professional")
            == "normal"
        )
        assert (
            history.how_of("dmp.document.read:emergency_samu", "professional")
            == "urgence"
        )
        assert history.how_of("consent.emergency.samu", "professional") == "urgence"
        assert history.how_of(
            "consent.emergency_settings.bdg_on.samu_on", "patient"
        ) == ("normal")
        assert history.how_of("dmp.documents.list:self", "service") == "service"
        assert history.kind_of("consent.emergency_settings.bdg_on.samu_on") == (
            "autorisations"
        )
        assert history.kind_of("consent.blocks.read:self") == "consultation"
        assert history.kind_of("lc6.activated") == "profil"


@pytest.mark.django_db
class AccessHistoryTestCase:
    def test_cons4_who_in_the_patients_words(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        charlie_in_care: User,
        agnes: User,
        eve: User,
    ) -> None:
        documents_list_for(actor=charlie_in_care, patient=alice_dmp)
        audit_record(
            actor=agnes,
            action=AuditEvent.Action.EXECUTE,
            target="espace.space",
            patient=alice_dmp,
            code="lc3.new_code.letter",
        )
        audit_record(
            actor=None,
            action=AuditEvent.Action.UPDATE,
            target="espace.space",
            patient=alice_dmp,
            code="lc5.auto_opened",
        )
        with pytest.raises(Http404):
            documents_list_for(actor=eve, patient=alice_dmp)
        documents_list_for(actor=alice, patient=alice_dmp)
        others = _history(alice, alice_dmp).entries
        assert [e.who for e in others] == [
            "Un autre usager",  # never another patient's name
            "Système (traitement automatique)",
            "Assurance Maladie",  # never an agent's name
            "Charlie Test (Médecin)",
        ]
        assert others[0].refused and others[0].detail == "aucun lien avec ce profil"
        mine = _history(alice, alice_dmp, tab="mine").entries
        assert [(e.who, e.what, e.mine) for e in mine] == [
            ("Vous", "Consultation de l'historique d'activité", True),  # just above
            ("Vous", "Consultation de la liste des documents", True),
        ]

    def test_cons7_a_parent_sees_the_other_parent_by_name(
        self, alice: User, leo_dmp: Beneficiary, eve: User
    ) -> None:
        LegalRepresentation.objects.create(
            representative=eve.beneficiary, minor=leo_dmp
        )
        documents_list_for(actor=eve, patient=leo_dmp)
        entries = _history(alice, leo_dmp).entries
        assert entries[0].who == "Eve Autre (représentant légal)"

    def test_cons6_emergency_entries_carry_their_reason(
        self, alice: User, alice_dmp: Beneficiary, sam: User
    ) -> None:
        reason = "Appel au 15 : malaise, recherche des traitements en cours"
        emergency_access_start(actor=sam, patient=alice_dmp, mode="samu", reason=reason)
        documents_list_for(actor=sam, patient=alice_dmp)
        read, start = _history(alice, alice_dmp, kind="urgence").entries
        assert start.what.startswith("Accès en urgence par le médecin régulateur")
        assert start.reason == reason and start.how == "urgence"
        assert read.what == "Consultation de la liste des documents"
        assert read.how == "urgence" and read.reason == ""

    def test_dmp10_dmp9_the_history_hides_what_the_list_hides(
        self, alice: User, alice_dmp: Beneficiary, leo_dmp: Beneficiary, bob: User
    ) -> None:
        CareRelationship.objects.create(
            patient=leo_dmp, professional=bob.professional, kind="consent"
        )
        _deposit(bob, leo_dmp, invisible_representatives=True)  # minor's secret
        withheld = _deposit(bob, alice_dmp, invisible_patient=True)  # DMP-9
        assert _history(alice, leo_dmp, kind="ajout").entries == []
        assert _history(alice, alice_dmp, kind="ajout").entries == []
        document_announce(actor=bob, document=withheld)
        assert [e.what for e in _history(alice, alice_dmp, kind="ajout").entries] == [
            "Mise à disposition d'un résultat après la consultation d'annonce",
            "Ajout d'un document",
        ]

    def test_dmp11_deleted_documents_stay_in_the_history(
        self, alice: User, alice_dmp: Beneficiary, bob: User
    ) -> None:
        document = _deposit(bob, alice_dmp)
        document_delete(actor=bob, document=document)
        assert [e.what for e in _history(alice, alice_dmp).entries] == [
            "Suppression d'un document",
            "Ajout d'un document",
        ]

    def test_cons4_period_in_paris_time_and_kind_filters(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        with time_machine.travel(dt.datetime(2025, 1, 1, 23, 30, tzinfo=PARIS)):
            documents_list_for(actor=charlie_in_care, patient=alice_dmp)
        with time_machine.travel(dt.datetime(2025, 1, 2, 0, 30, tzinfo=PARIS)):
            audit_record(
                actor=charlie_in_care,
                action=AuditEvent.Action.CREATE,
                target="dmp.document",
                patient=alice_dmp,
                code="dmp.document.deposit:care_consent",
            )
        day = dt.date(2025, 1, 1)
        only_first = _history(alice, alice_dmp, since=day, until=day).entries
        assert [e.what for e in only_first] == [
            "Consultation de la liste des documents"
        ]
        assert only_first[0].local_at.hour == 23
        second = _history(alice, alice_dmp, since=dt.date(2025, 1, 2)).entries
        assert [e.kind for e in second] == ["ajout"]
        assert len(_history(alice, alice_dmp, kind="consultation").entries) == 1
        assert _history(alice, alice_dmp, kind="refus").entries == []
        assert _history(alice, alice_dmp, kind="profil").entries == []

    def test_cons4_fifty_a_page_with_a_constant_number_of_queries(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        charlie_in_care: User,
        nina_in_care: User,
        victor: User,
    ) -> None:
        def emergency(n: int) -> None:
            emergency_access_start(
                actor=victor,
                patient=alice_dmp,
                mode="bris_de_glace",
                reason=f"Urgence vitale numéro {n}, patiente inconsciente",
            )

        emergency(0)
        documents_list_for(actor=charlie_in_care, patient=alice_dmp)
        with CaptureQueriesContext(connection) as few:
            _history(alice, alice_dmp)
        for _ in range(60):
            documents_list_for(actor=nina_in_care, patient=alice_dmp)
        emergency(1)
        emergency(2)
        with CaptureQueriesContext(connection) as many:
            page = _history(alice, alice_dmp)
        assert len(page.entries) == 50
        assert page.page is not None and page.page.paginator.num_pages == 2
        assert len(many) == len(few)
        last = access_history_for(
            actor=alice,
            patient=alice_dmp,
            tab="others",
            filters=HistoryFilters(),
            page=2,
        )
        assert len(last.entries) == 64 - 50

    def test_refused_to_professionals_and_other_patients(
        self, alice_dmp: Beneficiary, victor: User, bob: User, eve: User
    ) -> None:
        for actor in (victor, bob, eve):
            with pytest.raises(Http404):
                _history(actor, alice_dmp)
        assert list(
            AuditEvent.objects.filter(code__startswith="consent.history").values_list(
                "code", flat=True
            )
        ) == [
            "consent.history.read:refused.purpose",
            "consent.history.read:refused.purpose",
            "consent.history.read:refused.not_related",
        ]


def test_cons4_every_audit_code_written_by_the_apps_has_a_label() -> None:
    """No "Autre opération" for what the DMP, the profile, the portal and
    consent write (the codes are read from the sources)."""
    import re
    from pathlib import Path

    from consent.history import _OTHER, what_label

    root = Path(__file__).resolve().parents[2]
    codes: set[str] = set()
    for folder in ("dmp", "consent"):
        for path in (root / folder).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            codes |= set(
                re.findall(
                    r'code="((?:dmp|consent|pro)\.[a-z_.]+[a-z_])"', path.read_text()
                )
            )
    assert codes
    unlabelled = sorted(c for c in codes if what_label(c) == str(_OTHER))
    assert unlabelled == []
