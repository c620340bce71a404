"""The patient's privacy pages: who has access and blocks (CONS-5, CONS-2),
emergency settings (CONS-6), access history and its exports (CONS-4)."""

from __future__ import annotations

import csv
import io
import subprocess
from typing import Any

import pytest
from django.http import Http404
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from consent.models import Block, CareRelationship, PrivacySettings
from consent.services import emergency_access_start, professional_block
from dmp.selectors import documents_list_for
from espace.models import Beneficiary, User
from tests.personas import verified_client

REASON = "Patiente inconsciente aux urgences, recherche d'allergies"


def _audit_count(code_prefix: str) -> int:
    return AuditEvent.objects.filter(code__startswith=code_prefix).count()


def _as_child(client: Client, child: Beneficiary) -> Client:
    client.post(reverse("espace:profile-switch", args=[child.pk]))
    return client


@pytest.mark.django_db
class ProfessionalsPageTestCase:
    def test_cons5_lists_every_access_with_its_basis_and_buttons(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        bob: User,
        charlie_in_care: User,
        nina_in_care: User,
        dora_blocked: User,
        victor: User,
    ) -> None:
        emergency_access_start(
            actor=victor, patient=alice_dmp, mode="bris_de_glace", reason=REASON
        )
        page = verified_client(alice).get(reverse("consent:professionals"))
        assert page.status_code == 200
        html = page.content.decode()
        assert "Bob Test" in html and "ne peut pas être bloqué" in html
        care = html.split('data-testid="care-table"')[1].split("</table>")[0]
        assert (
            "Charlie Test" in care and "consentement recueilli en consultation" in care
        )
        assert "Nina Test" in care and "équipe de soins" in care
        assert care.count("Retirer l'accès") == 2
        assert "Dora" not in care  # blocked: listed with "Débloquer" instead
        blocked = html.split('data-testid="blocked-table"')[1].split("</table>")[0]
        assert "Dora Test" in blocked and "Débloquer" in blocked
        recent = html.split('data-testid="recent-table"')[1].split("</table>")[0]
        assert "Victor Test" in recent and 'data-testid="block-99700000062"' in recent
        emergencies = html.split('data-testid="emergency-table"')[1]
        assert (
            REASON.replace("'", "&#x27;") in emergencies and "en cours" in emergencies
        )
        assert 'name="rpps"' in html  # the block-by-RPPS form

    def test_cons5_reading_the_page_leaves_one_audit_entry(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        verified_client(alice).get(reverse("consent:professionals"))
        assert list(
            AuditEvent.objects.filter(code__startswith="consent.").values_list(
                "code", flat=True
            )
        ) == ["consent.authorisations.read:self"]

    def test_cons5_a_parent_manages_the_childs_registry(
        self, alice: User, leo_dmp: Beneficiary, victor: User
    ) -> None:
        client = _as_child(verified_client(alice), leo_dmp)
        page = client.get(reverse("consent:professionals"))
        assert page.status_code == 200
        assert "Espace de Leo" in page.content.decode()
        assert "Alice MOREAU (vous)" in page.content.decode()  # a representative
        client.post(
            reverse("consent:professional-block"), {"rpps": victor.professional.rpps}
        )
        assert Block.objects.filter(
            patient=leo_dmp, professional=victor.professional
        ).exists()
        assert not Block.objects.filter(patient=alice.beneficiary).exists()
        assert _audit_count("consent.authorisations.read:representative") == 1

    def test_refused_to_others_and_to_professionals(
        self, alice_dmp: Beneficiary, eve: User, bob: User, agnes: User
    ) -> None:
        url = reverse("consent:professionals")
        assert verified_client(eve).get(url).status_code == 404  # no DMP of her own
        assert verified_client(bob).get(url).status_code == 404
        assert verified_client(agnes).get(url).status_code == 404
        assert Client().get(url).status_code == 302
        assert _audit_count("consent.authorisations.read:refused.no_dmp") == 1


@pytest.mark.django_db
class BlockTestCase:
    def test_cons2_blocks_a_professional_by_rpps(
        self, alice: User, alice_dmp: Beneficiary, victor: User
    ) -> None:
        client = verified_client(alice)
        answer = client.post(
            reverse("consent:professional-block"), {"rpps": "997 000 000 62"}
        )
        assert answer.status_code == 302
        assert Block.objects.filter(
            patient=alice_dmp, professional=victor.professional
        ).exists()
        page = client.get(answer["Location"])
        assert "Victor Test est bloqué" in page.content.decode()
        assert _audit_count("consent.block:self") == 1

    @pytest.mark.parametrize(
        ("rpps", "message"),
        [
            ("99700000088", "Aucun professionnel de santé n&#x27;est enregistré"),
            ("99700000063", "La clé du numéro RPPS est incorrecte."),
            ("1234", "Le numéro RPPS comporte 11 chiffres."),
            ("", "Saisissez le numéro RPPS."),
        ],
    )
    def test_cons2_a_wrong_rpps_gets_a_french_message_and_nothing_is_written(
        self, alice: User, alice_dmp: Beneficiary, victor: User, rpps: str, message: str
    ) -> None:
        answer = verified_client(alice).post(
            reverse("consent:professional-block"), {"rpps": rpps}
        )
        assert answer.status_code == 400
        assert message in answer.content.decode()
        assert not Block.objects.exists()

    def test_cons2_the_medecin_traitant_cannot_be_blocked(
        self, alice: User, alice_dmp: Beneficiary, bob: User
    ) -> None:
        answer = verified_client(alice).post(
            reverse("consent:professional-block"), {"rpps": bob.professional.rpps}
        )
        assert answer.status_code == 400
        assert (
            "Votre médecin traitant ne peut pas être bloqué" in answer.content.decode()
        )
        assert not Block.objects.exists()

    def test_cons2_unblocks(self, alice: User, dora_blocked: User) -> None:
        block = Block.objects.get()
        answer = verified_client(alice).post(
            reverse("consent:professional-unblock", args=[block.pk])
        )
        assert answer.status_code == 302
        assert not Block.objects.exists()
        assert _audit_count("consent.unblock:self") == 1

    def test_refused_another_patients_block_is_a_404(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        eve: User,
        eve_dmp: Beneficiary,
        victor: User,
    ) -> None:
        block = professional_block(
            actor=eve, patient=eve_dmp, professional=victor.professional
        )
        answer = verified_client(alice).post(
            reverse("consent:professional-unblock", args=[block.pk])
        )
        assert answer.status_code == 404
        assert Block.objects.filter(pk=block.pk).exists()
        assert (
            verified_client(victor)
            .post(
                reverse("consent:professional-block"),
                {"rpps": victor.professional.rpps},
            )
            .status_code
            == 404
        )


@pytest.mark.django_db
class CareRevokeTestCase:
    def test_cons5_withdraws_a_professionals_access(
        self, alice: User, charlie_in_care: User
    ) -> None:
        relationship = CareRelationship.objects.get(
            professional=charlie_in_care.professional
        )
        answer = verified_client(alice).post(
            reverse("consent:care-revoke", args=[relationship.pk])
        )
        assert answer.status_code == 302
        relationship.refresh_from_db()
        assert relationship.revoked_at is not None and relationship.revoked_by == alice
        again = verified_client(alice).post(
            reverse("consent:care-revoke", args=[relationship.pk])
        )
        assert again.status_code == 404  # already revoked

    def test_refused_another_patients_relationship_is_a_404(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        eve: User,
        eve_dmp: Beneficiary,
        charlie: User,
    ) -> None:
        relationship = CareRelationship.objects.create(
            patient=eve_dmp, professional=charlie.professional, kind="consent"
        )
        answer = verified_client(alice).post(
            reverse("consent:care-revoke", args=[relationship.pk])
        )
        assert answer.status_code == 404
        relationship.refresh_from_db()
        assert relationship.revoked_at is None


@pytest.mark.django_db
class PrivacyTestCase:
    def test_cons6_both_emergency_accesses_are_on_by_default_and_explained(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        page = verified_client(alice).get(reverse("consent:privacy"))
        html = page.content.decode()
        assert page.status_code == 200
        # the two emergency accesses, and the prevention messages (CONS-9)
        assert html.count('class="fr-toggle__input"') == 3
        assert html.count(" checked>") == 3
        assert "bris de glace" in html and "SAMU" in html
        assert "autorisés par défaut" in html
        assert _audit_count("consent.privacy.read:self") == 1

    def test_cons6_each_access_is_opposable_on_its_own(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        client = verified_client(alice)
        answer = client.post(reverse("consent:privacy"), {"samu": "on"})
        assert answer.status_code == 302
        privacy = PrivacySettings.objects.get(patient=alice_dmp)
        assert (privacy.bris_de_glace, privacy.samu) == (False, True)
        html = client.get(reverse("consent:privacy")).content.decode()
        assert html.count(" checked>") == 2  # samu, and prevention (CONS-9)
        assert 'aria-describedby="bdg-hint" >' in html
        assert _audit_count("consent.emergency_settings.bdg_off.samu_on:self") == 1

    def test_refused_without_a_dmp_and_for_professionals(
        self, eve: User, bob: User
    ) -> None:
        assert (
            verified_client(eve).post(reverse("consent:privacy"), {}).status_code == 404
        )
        assert not PrivacySettings.objects.exists()
        assert verified_client(bob).get(reverse("consent:privacy")).status_code == 404


@pytest.mark.django_db
class HistoryPageTestCase:
    def test_cons4_two_tabs_mine_and_the_others(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        documents_list_for(actor=alice, patient=alice_dmp)
        documents_list_for(actor=charlie_in_care, patient=alice_dmp)
        client = verified_client(alice)
        others = client.get(reverse("consent:history"))  # the default tab
        assert others.status_code == 200
        html = others.content.decode()
        assert 'data-testid="tab-others" aria-current="page"' in html
        assert "Charlie Test (Médecin)" in html
        assert "Consultation de la liste des documents" in html
        assert ">Vous<" not in html
        mine = client.get(reverse("consent:history"), {"tab": "mine"}).content.decode()
        assert "Vous" in mine and "Charlie" not in mine

    def test_cons6_an_emergency_access_shows_with_its_written_reason(
        self, alice: User, alice_dmp: Beneficiary, victor: User
    ) -> None:
        emergency_access_start(
            actor=victor, patient=alice_dmp, mode="bris_de_glace", reason=REASON
        )
        html = verified_client(alice).get(reverse("consent:history")).content.decode()
        assert "Accès en urgence (bris de glace)" in html
        assert 'data-testid="emergency-reason"' in html
        assert REASON.replace("'", "&#x27;") in html
        # …and the reason is nowhere in the audit log (codes only).
        assert not AuditEvent.objects.filter(code__icontains="allergie").exists()

    def test_cons4_refused_attempts_and_filters(
        self, alice: User, alice_dmp: Beneficiary, dora_blocked: User
    ) -> None:
        with pytest.raises(Http404):
            documents_list_for(actor=dora_blocked, patient=alice_dmp)
        client = verified_client(alice)
        html = client.get(
            reverse("consent:history"), {"kind": "refus"}
        ).content.decode()
        assert "tentative refusée" in html and "professionnel bloqué" in html
        empty = client.get(
            reverse("consent:history"), {"kind": "ajout"}
        ).content.decode()
        assert 'data-testid="history-empty"' in empty
        bad = client.get(
            reverse("consent:history"), {"since": "31/12/2025", "until": "01/01/2025"}
        )
        assert bad.status_code == 400
        assert (
            "La date de fin doit être après la date de début." in bad.content.decode()
        )
        assert (
            client.get(reverse("consent:history"), {"since": "hier"}).status_code == 400
        )

    def test_cons4_one_audit_entry_per_view_and_per_export(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        client = verified_client(alice)
        client.get(reverse("consent:history"))
        client.get(reverse("consent:history-csv"))
        client.get(reverse("consent:history-pdf"))
        codes = list(
            AuditEvent.objects.filter(code__startswith="consent.history").values_list(
                "code", flat=True
            )
        )
        assert codes == [
            "consent.history.read:self",
            "consent.history.export_csv:self",
            "consent.history.export_pdf:self",
        ]

    def test_cons4_exports_the_current_filter_as_csv(
        self, alice: User, alice_dmp: Beneficiary, victor: User, charlie_in_care: User
    ) -> None:
        emergency_access_start(
            actor=victor,
            patient=alice_dmp,
            mode="bris_de_glace",
            reason="=HYPERLINK(1) " + REASON,
        )
        documents_list_for(actor=charlie_in_care, patient=alice_dmp)
        answer = verified_client(alice).get(
            reverse("consent:history-csv"), {"kind": "urgence"}
        )
        assert answer.status_code == 200
        assert answer["Content-Type"] == "text/csv; charset=utf-8"
        assert answer["Content-Disposition"].startswith(
            'attachment; filename="historique-'
        )
        assert answer.content.startswith(b"\xef\xbb\xbf")
        rows = list(
            csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";")
        )
        assert rows[0][:3] == ["Date et heure", "Qui", "Action"]
        assert len(rows) == 2  # the emergency only: the filter holds
        assert rows[1][1] == "Victor Test (Médecin)"
        assert rows[1][2] == "Accès en urgence (bris de glace)"
        assert rows[1][4] == "Accès en urgence"
        assert rows[1][6] == "'=HYPERLINK(1) " + REASON  # never a formula

    def test_cons4_exports_as_pdf(
        self, alice: User, alice_dmp: Beneficiary, victor: User, tmp_path: Any
    ) -> None:
        emergency_access_start(
            actor=victor, patient=alice_dmp, mode="bris_de_glace", reason=REASON
        )
        answer = verified_client(alice).get(reverse("consent:history-pdf"))
        assert answer.status_code == 200
        assert answer["Content-Type"] == "application/pdf"
        path = tmp_path / "h.pdf"
        path.write_bytes(answer.content)
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True
        ).stdout.decode()
        assert "Historique d'activité" in text
        assert "Victor Test" in text
        assert "Motif écrit" in text and "inconsciente" in text
        assert "Alice MOREAU" in text

    def test_refused_history_and_exports_to_others(
        self, alice_dmp: Beneficiary, eve: User, victor: User, agnes: User, bob: User
    ) -> None:
        for name in ("consent:history", "consent:history-csv", "consent:history-pdf"):
            url = reverse(name)
            for user in (eve, victor, agnes, bob):
                assert verified_client(user).get(url).status_code == 404, (name, user)
            assert Client().get(url).status_code == 302
