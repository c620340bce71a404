"""The consent API (STYLE R19): access history (CONS-4) and blocks (CONS-2),
for the holder's own profile or a child they represent; anything else 404."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from consent.models import Block
from consent.services import emergency_access_start
from dmp.selectors import documents_list_for
from espace.models import Beneficiary, User
from tests.personas import verified_client

HISTORY = "/api/v1/consent/history/"
BLOCKS = "/api/v1/consent/blocks/"


@pytest.mark.django_db
class HistoryApiTestCase:
    def test_cons4_the_holders_history_by_default_with_both_tabs(
        self, alice: User, alice_dmp: Beneficiary, victor: User
    ) -> None:
        reason = "Patiente inconsciente, recherche d'antécédents cardiaques"
        emergency_access_start(
            actor=victor, patient=alice_dmp, mode="bris_de_glace", reason=reason
        )
        client = verified_client(alice)
        answer = client.get(HISTORY)
        assert answer.status_code == 200
        body = answer.json()
        assert (body["count"], body["page"], body["pages"]) == (1, 1, 1)
        entry = body["results"][0]
        assert entry["who"] == "Victor Test (Médecin)"
        assert entry["what"] == "Accès en urgence (bris de glace)"
        assert (entry["how"], entry["kind"], entry["refused"]) == (
            "urgence",
            "urgence",
            False,
        )
        assert entry["reason"] == reason
        mine = client.get(HISTORY, {"tab": "mine"}).json()
        assert [e["who"] for e in mine["results"]] == ["Vous"]  # the first read
        assert AuditEvent.objects.filter(code="consent.history.read:self").count() == 2

    def test_cons7_a_childs_history_for_a_representative(
        self, alice: User, leo_dmp: Beneficiary, bob: User
    ) -> None:
        documents_list_for(actor=alice, patient=leo_dmp)
        answer = verified_client(alice).get(
            HISTORY, {"patient": leo_dmp.pk, "tab": "mine"}
        )
        assert answer.status_code == 200
        assert answer.json()["results"][0]["what"] == (
            "Consultation de la liste des documents"
        )

    def test_bad_filters_are_a_400_in_french(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        answer = verified_client(alice).get(HISTORY, {"tab": "tout"})
        assert answer.status_code == 400
        assert "tab" in answer.json()

    def test_refused_other_patients_professionals_and_agents_get_404(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        eve: User,
        eve_dmp: Beneficiary,
        bob: User,
        agnes: User,
    ) -> None:
        alice_client = verified_client(alice)
        assert alice_client.get(HISTORY, {"patient": eve_dmp.pk}).status_code == 404
        assert alice_client.get(HISTORY, {"patient": "x"}).status_code == 404
        assert verified_client(bob).get(HISTORY).status_code == 404
        assert (
            verified_client(bob).get(HISTORY, {"patient": alice_dmp.pk}).status_code
            == 404
        )
        assert verified_client(agnes).get(HISTORY).status_code == 404
        assert Client().get(HISTORY).status_code == 401


@pytest.mark.django_db
class BlocksApiTestCase:
    def test_cons2_lists_blocks_and_blocks_by_rpps(
        self, alice: User, alice_dmp: Beneficiary, dora_blocked: User, victor: User
    ) -> None:
        client = verified_client(alice)
        listed = client.get(BLOCKS)
        assert listed.status_code == 200
        assert [(b["rpps"], b["name"], b["profession"]) for b in listed.json()] == [
            ("99700000054", "Dora Test", "Médecin")
        ]
        created = client.post(
            BLOCKS, {"rpps": victor.professional.rpps}, content_type="application/json"
        )
        assert created.status_code == 201
        assert created.json()["rpps"] == "99700000062"
        assert Block.objects.filter(
            patient=alice_dmp, professional=victor.professional
        ).exists()
        assert AuditEvent.objects.filter(code="consent.blocks.read:self").count() == 1

    def test_cons2_unblocks_by_rpps(self, alice: User, dora_blocked: User) -> None:
        client = verified_client(alice)
        answer = client.delete(f"{BLOCKS}99700000054/")
        assert answer.status_code == 204
        assert not Block.objects.exists()
        assert client.delete(f"{BLOCKS}99700000054/").status_code == 404

    def test_cons2_wrong_rpps_and_medecin_traitant_are_a_400_in_french(
        self, alice: User, alice_dmp: Beneficiary, bob: User
    ) -> None:
        client = verified_client(alice)
        unknown = client.post(
            BLOCKS, {"rpps": "99700000088"}, content_type="application/json"
        )
        assert unknown.status_code == 400
        assert "Aucun professionnel de santé" in unknown.content.decode()
        doctor = client.post(
            BLOCKS, {"rpps": bob.professional.rpps}, content_type="application/json"
        )
        assert doctor.status_code == 400
        assert "médecin traitant ne peut pas être bloqué" in doctor.content.decode()
        assert not Block.objects.exists()

    def test_cons7_a_representative_blocks_for_the_child(
        self, alice: User, leo_dmp: Beneficiary, victor: User
    ) -> None:
        answer = verified_client(alice).post(
            BLOCKS,
            {"patient": leo_dmp.pk, "rpps": victor.professional.rpps},
            content_type="application/json",
        )
        assert answer.status_code == 201
        assert Block.objects.get().patient_id == leo_dmp.pk

    def test_refused_another_patients_blocks_are_a_404(
        self,
        alice: User,
        eve: User,
        eve_dmp: Beneficiary,
        dora_blocked: User,
        victor: User,
    ) -> None:
        eve_client = verified_client(eve)
        alice_pk = alice.beneficiary.pk
        assert eve_client.get(BLOCKS, {"patient": alice_pk}).status_code == 404
        posted = eve_client.post(
            BLOCKS,
            {"patient": alice_pk, "rpps": victor.professional.rpps},
            content_type="application/json",
        )
        assert posted.status_code == 404
        deleted = eve_client.delete(f"{BLOCKS}99700000054/?patient={alice_pk}")
        assert deleted.status_code == 404
        assert eve_client.delete(f"{BLOCKS}99700000054/").status_code == 404
        assert Block.objects.count() == 1
        assert verified_client(victor).get(BLOCKS).status_code == 404
