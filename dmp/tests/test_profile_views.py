"""The medical profile and administrative pages (DMP-6, DMP-7, DMP-11): every
route, for the holder and for a parent acting in a child's space (LC-10),
one audit entry per page, 404 for everybody else (SEC-1, STYLE R12)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dmp import profile_services as services
from dmp.models import Document, Measure, ProfileEntry, Reimbursement
from dmp.profile_views import build_chart
from espace.models import Beneficiary, User
from tests.personas import verified_client

OVERVIEW = reverse("profil:overview")
MEASURES = reverse("profil:measures")


def _entry(alice: User, patient: Beneficiary, **fields: Any) -> ProfileEntry:
    options: dict[str, Any] = {"section": "allergy", "label": "Pénicilline"}
    options.update(fields)
    return services.profile_entry_add(actor=alice, patient=patient, **options)


def _audits(prefix: str) -> int:
    return AuditEvent.objects.filter(code__startswith=prefix).count()


@pytest.fixture
def alice_client(alice: User, alice_dmp: Beneficiary) -> Client:
    return verified_client(alice)


@pytest.mark.django_db
class ProfileOverviewTestCase:
    def test_dmp6_one_card_per_section_and_one_audit_entry(
        self, alice: User, alice_dmp: Beneficiary, alice_client: Client
    ) -> None:
        _entry(alice, alice_dmp, details="Urticaire géante")
        response = alice_client.get(OVERVIEW)
        assert response.status_code == 200
        page = response.content.decode()
        assert page.count('class="fr-card mes-profile-card"') == 13
        assert "Pénicilline" in page and "Urticaire géante" in page
        assert "Directives anticipées" in page and "Personne de confiance" in page
        assert "Non renseigné" in page
        assert _audits("dmp.profile.read:self") == 1
        assert response["Cache-Control"].startswith("max-age=0")

    def test_lc10_a_parent_sees_the_childs_profile_in_the_childs_space(
        self, alice: User, alice_dmp: Beneficiary, leo_dmp: Beneficiary
    ) -> None:
        _entry(alice, leo_dmp, label="Arachide")
        client = verified_client(alice)
        client.post(reverse("espace:profile-switch", args=[leo_dmp.pk]))
        page = client.get(OVERVIEW).content.decode()
        assert "Arachide" in page and "Profil de Leo" in page
        assert _audits("dmp.profile.read:representative") == 1

    def test_refused_personas_get_404(
        self, alice_dmp: Beneficiary, bob: User, eve: User, agnes: User
    ) -> None:
        for user in (bob, eve, agnes):  # eve: no open DMP
            assert verified_client(user).get(OVERVIEW).status_code == 404
        assert Client().get(OVERVIEW).status_code == 302


@pytest.mark.django_db
class ProfileEntryPagesTestCase:
    def test_dmp6_add_an_entry(
        self, alice_dmp: Beneficiary, alice_client: Client
    ) -> None:
        url = reverse("profil:entry-add", args=["allergies"])
        form = alice_client.get(url)
        assert form.status_code == 200
        assert "Allergie ou intolérance" in form.content.decode()
        response = alice_client.post(
            url,
            {
                "label": "Arachide",
                "details": "Œdème",
                "entry_date": "2010-06-01",
                "masked": "on",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == f"{OVERVIEW}#allergy"
        entry = ProfileEntry.objects.get()
        assert (entry.label, entry.details, entry.entry_date, entry.masked) == (
            "Arachide",
            "Œdème",
            dt.date(2010, 6, 1),
            True,
        )

    def test_bad_input_is_a_400_with_a_french_message(
        self, alice_dmp: Beneficiary, alice_client: Client
    ) -> None:
        url = reverse("profil:entry-add", args=["traitements"])
        empty = alice_client.post(url, {"label": ""})
        assert empty.status_code == 400
        assert "Renseignez ce champ." in empty.content.decode()
        future = alice_client.post(
            url, {"label": "Doliprane", "entry_date": "2999-01-01"}
        )
        assert future.status_code == 400
        assert "La date est dans le futur." in future.content.decode()
        assert ProfileEntry.objects.count() == 0
        assert (
            alice_client.get(reverse("profil:entry-add", args=["x"])).status_code == 404
        )

    def test_sections_without_a_date_have_no_date_field(
        self, alice_dmp: Beneficiary, alice_client: Client
    ) -> None:
        url = reverse("profil:entry-add", args=["personne-de-confiance"])
        page = alice_client.get(url).content.decode()
        assert 'name="entry_date"' not in page and "Nom et prénom" in page

    def test_dmp11_edit_then_history_then_delete(
        self, alice: User, alice_dmp: Beneficiary, alice_client: Client
    ) -> None:
        entry = _entry(alice, alice_dmp, details="Urticaire")
        edit = reverse("profil:entry-edit", args=[entry.pk])
        page = alice_client.get(edit)
        assert (
            page.status_code == 200 and 'value="Pénicilline"' in page.content.decode()
        )
        bad = alice_client.post(edit, {"label": ""})
        assert bad.status_code == 400
        assert alice_client.post(edit, {"label": "Amoxicilline"}).status_code == 302
        new = ProfileEntry.objects.get(status="current")
        assert new.version == 2 and new.details == ""
        # The old version is no longer editable.
        assert alice_client.get(edit).status_code == 404
        history = alice_client.get(reverse("profil:entry-history", args=[entry.pk]))
        text = history.content.decode()
        assert "Amoxicilline" in text and "Pénicilline" in text
        assert "Remplacée par une modification" in text
        delete = reverse("profil:entry-delete", args=[new.pk])
        confirm = alice_client.get(delete)
        assert confirm.status_code == 200 and "Amoxicilline" in confirm.content.decode()
        assert alice_client.post(delete).status_code == 302
        assert not ProfileEntry.objects.filter(status="current").exists()
        history = alice_client.get(reverse("profil:entry-history", args=[new.pk]))
        assert "Supprimée" in history.content.decode()
        overview = alice_client.get(OVERVIEW).content.decode()
        assert "1 information supprimée" in overview
        assert reverse("profil:entry-history", args=[new.pk]) in overview

    def test_organ_donation_choice(
        self, alice_dmp: Beneficiary, alice_client: Client
    ) -> None:
        url = reverse("profil:organ-donation")
        assert alice_client.post(url, {"choice": "refuse"}).status_code == 302
        page = alice_client.get(OVERVIEW).content.decode()
        assert "Je refuse de donner mes organes et tissus" in page
        bad = alice_client.post(url, {"choice": "bof"})
        assert bad.status_code == 400
        assert ProfileEntry.objects.count() == 1

    def test_the_organ_donation_choice_is_not_edited_as_an_entry(
        self, alice: User, alice_dmp: Beneficiary, alice_client: Client
    ) -> None:
        choice = services.organ_donation_set(
            actor=alice, patient=alice_dmp, choice="accepte"
        )
        for name in ("entry-edit", "entry-delete"):
            url = reverse(f"profil:{name}", args=[choice.pk])
            assert alice_client.get(url).status_code == 404
            assert alice_client.post(url, {"label": "x"}).status_code == 404
        history = alice_client.get(reverse("profil:entry-history", args=[choice.pk]))
        assert "J&#x27;accepte de donner mes organes" in history.content.decode()
        choice.refresh_from_db()
        assert choice.status == "current" and choice.label == "accepte"

    def test_someone_elses_entry_is_the_same_404_as_a_missing_one(
        self, alice: User, alice_dmp: Beneficiary, eve: User, eve_dmp: Beneficiary
    ) -> None:
        entry = _entry(alice, alice_dmp)
        eve_client = verified_client(eve)
        missing = uuid.uuid4()
        for name in ("entry-edit", "entry-delete", "entry-history"):
            theirs = eve_client.get(reverse(f"profil:{name}", args=[entry.pk]))
            none = eve_client.get(reverse(f"profil:{name}", args=[missing]))
            assert theirs.status_code == none.status_code == 404
        for name in ("entry-edit", "entry-delete"):
            url = reverse(f"profil:{name}", args=[entry.pk])
            assert eve_client.post(url, {"label": "x"}).status_code == 404
            assert eve_client.post(url, {"label": ""}).status_code == 404
        entry.refresh_from_db()
        assert entry.status == "current" and entry.label == "Pénicilline"


@pytest.mark.django_db
class MeasurePagesTestCase:
    def test_dmp6_add_measures_and_see_the_chart_and_the_table(
        self, alice_dmp: Beneficiary, alice_client: Client
    ) -> None:
        add = reverse("profil:measure-add")
        for day, value in (("2024-01-10", "74,2"), ("2024-03-10", "72")):
            response = alice_client.post(
                add, {"kind": "weight", "measured_on": day, "value": value}
            )
            assert response.status_code == 302
        assert (
            alice_client.post(
                add,
                {
                    "kind": "blood_pressure",
                    "measured_on": "2024-03-10",
                    "value": "125",
                    "value2": "80",
                },
            ).status_code
            == 302
        )
        page = alice_client.get(MEASURES).content.decode()
        assert page.count("<polyline") == 3  # weight, systolic, diastolic
        assert 'data-testid="chart-weight"' in page and "style=" not in page
        assert "74,2" in page and "125/80" in page
        assert _audits("dmp.profile.measures.read:self") == 1

    def test_out_of_range_is_a_400_next_to_the_field(
        self, alice_dmp: Beneficiary, alice_client: Client
    ) -> None:
        response = alice_client.post(
            reverse("profil:measure-add"),
            {"kind": "weight", "measured_on": "2024-01-10", "value": "900"},
        )
        assert response.status_code == 400
        assert "Le poids doit être compris entre 0,3 et 500 kg." in (
            response.content.decode()
        )
        missing = alice_client.post(
            reverse("profil:measure-add"),
            {"kind": "blood_pressure", "measured_on": "2024-01-10", "value": "120"},
        )
        assert missing.status_code == 400
        assert "Renseignez aussi la pression diastolique." in missing.content.decode()
        unknown = alice_client.post(reverse("profil:measure-add"), {"kind": "pouls"})
        assert unknown.status_code == 400
        assert "Choisissez un type de mesure de la liste." in unknown.content.decode()
        assert Measure.objects.count() == 0

    def test_delete_a_measure_and_refusal(
        self, alice: User, alice_dmp: Beneficiary, alice_client: Client, eve: User
    ) -> None:
        measure = services.measure_add(
            actor=alice,
            patient=alice_dmp,
            kind="height",
            measured_on=timezone.localdate(),
            value="168",
        )
        url = reverse("profil:measure-delete", args=[measure.pk])
        assert verified_client(eve).post(url).status_code == 404
        assert alice_client.get(url).status_code == 405
        assert alice_client.post(url).status_code == 302
        measure.refresh_from_db()
        assert measure.status == "deleted"

    def test_the_chart_scales_dates_and_values_into_the_frame(self) -> None:
        rows = [
            Measure(kind="weight", measured_on=dt.date(2024, 1, 1), value="70"),
            Measure(kind="weight", measured_on=dt.date(2024, 1, 11), value="80"),
            Measure(kind="weight", measured_on=dt.date(2024, 1, 21), value="75"),
        ]
        chart = build_chart("weight", rows)
        assert chart is not None
        (serie,) = chart.series
        xs = [dot["x"] for dot in serie.dots]
        ys = [dot["y"] for dot in serie.dots]
        assert xs[0] == chart.left and xs[-1] == chart.right
        assert xs[1] == (chart.left + chart.right) / 2
        assert chart.top < ys[1] < ys[2] < ys[0] < chart.bottom  # 80 highest
        assert chart.ticks[0]["label"] == "69,0"
        assert build_chart("weight", []) is None
        single = build_chart("weight", rows[:1])
        assert single is not None and single.dates[0]["anchor"] == "middle"

    def test_measures_page_refused(self, alice_dmp: Beneficiary, bob: User) -> None:
        assert verified_client(bob).get(MEASURES).status_code == 404


@pytest.mark.django_db
class CopyPdfTestCase:
    def test_dmp6_save_a_pdf_copy_and_open_it(
        self, alice: User, alice_dmp: Beneficiary, alice_client: Client
    ) -> None:
        _entry(alice, alice_dmp)
        assert alice_client.get(reverse("profil:copy-pdf")).status_code == 405
        response = alice_client.post(reverse("profil:copy-pdf"))
        document = Document.objects.get()
        assert response["Location"] == f"{OVERVIEW}?copie={document.pk}"
        page = alice_client.get(response["Location"]).content.decode()
        assert reverse("dmp:document-preview", args=[document.pk]) in page
        preview = alice_client.get(reverse("dmp:document-preview", args=[document.pk]))
        assert preview.status_code == 200
        assert b"".join(preview.streaming_content).startswith(b"%PDF")

    def test_a_copy_over_the_size_limit_is_a_400_with_the_reason(
        self, alice_dmp: Beneficiary, alice_client: Client, settings: Any
    ) -> None:
        settings.DMP_PATIENT_MAX_BYTES = 100
        response = alice_client.post(reverse("profil:copy-pdf"))
        assert response.status_code == 400
        assert "taille maximale" in response.content.decode()
        assert Document.objects.count() == 0

    def test_refused_copy(self, alice_dmp: Beneficiary, eve: User) -> None:
        assert verified_client(eve).post(reverse("profil:copy-pdf")).status_code == 404
        assert Document.objects.count() == 0


@pytest.mark.django_db
class AdminDataTestCase:
    def test_dmp7_identity_contacts_doctor_children_and_reimbursements(
        self,
        alice: User,
        alice_dmp: Beneficiary,
        leo: Beneficiary,
        alice_client: Client,
    ) -> None:
        Reimbursement.objects.create(
            patient=alice_dmp,
            identifier="R-1",
            care_date=dt.date(2024, 2, 3),
            act_code="G",
            label="Consultation de médecine générale",
            amount=Decimal("18.20"),
            professional="Dr Bob Test",
        )
        response = alice_client.get(reverse("profil:admin-data"))
        assert response.status_code == 200
        page = response.content.decode()
        for expected in (
            "MOREAU",
            "ALICE MARIE",
            "14/03/1979",
            "51215",
            "2 79 03 51 215 189 89",
            "Bob Test",
            "99700000013",
            "Leo MOREAU",
            "Consultation de médecine générale",
            "18,20 €",
        ):
            assert expected in page, expected
        assert _audits("dmp.administrative.read:self") == 1

    def test_dmp7_a_childs_page_lists_the_legal_representatives(
        self, alice: User, alice_dmp: Beneficiary, leo_dmp: Beneficiary
    ) -> None:
        client = verified_client(alice)
        client.post(reverse("espace:profile-switch", args=[leo_dmp.pk]))
        page = client.get(reverse("profil:admin-data")).content.decode()
        assert "Représentants légaux" in page and "Alice MOREAU" in page

    def test_reimbursements_are_paginated(
        self, alice_dmp: Beneficiary, alice_client: Client
    ) -> None:
        Reimbursement.objects.bulk_create(
            Reimbursement(
                patient=alice_dmp,
                identifier=f"R-{i}",
                care_date=dt.date(2024, 1, 1) + dt.timedelta(days=i),
                act_code="C",
                label=f"Acte {i}",
                amount=Decimal(1),
            )
            for i in range(60)
        )
        first = alice_client.get(reverse("profil:admin-data")).content.decode()
        assert (
            "Acte 59" in first and "Acte 5 <" not in first and "Page 1 sur 2" in first
        )
        second = alice_client.get(reverse("profil:admin-data") + "?page=2")
        assert "Acte 5 <" in second.content.decode()
        assert (
            alice_client.get(reverse("profil:admin-data") + "?page=x").status_code
            == 200
        )

    def test_refused(self, alice_dmp: Beneficiary, bob: User, agnes: User) -> None:
        for user in (bob, agnes):
            assert (
                verified_client(user).get(reverse("profil:admin-data")).status_code
                == 404
            )
