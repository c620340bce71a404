"""GET /api/v1/profile/?patient=<id> (DMP-6): the same policy as the pages
(CONS-1, CONS-2, DMP-8), one audit entry per read, 404 for refused and
missing alike (SEC-1, STYLE R12)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from consent.models import AccessRule
from dmp import profile_services as services
from espace.models import Beneficiary, User
from tests.personas import verified_client

URL = reverse("profil-api:profile-detail")


def _fill(alice: User, patient: Beneficiary) -> None:
    services.profile_entry_add(
        actor=alice,
        patient=patient,
        section="allergy",
        label="Pénicilline",
        details="Urticaire",
        entry_date=dt.date(2001, 5, 1),
    )
    services.profile_entry_add(
        actor=alice, patient=patient, section="allergy", label="Latex", masked=True
    )
    services.organ_donation_set(actor=alice, patient=patient, choice="accepte")
    services.measure_add(
        actor=alice,
        patient=patient,
        kind="blood_pressure",
        measured_on=dt.date(2024, 3, 1),
        value="128",
        value2="82",
    )


@pytest.mark.django_db
class ProfileDetailApiTestCase:
    def test_dmp6_the_patient_gets_sections_and_latest_measures(
        self, alice: User, alice_dmp: Beneficiary
    ) -> None:
        _fill(alice, alice_dmp)
        response = verified_client(alice).get(URL, {"patient": alice_dmp.pk})
        assert response.status_code == 200
        body = response.json()
        assert body["patient"] == alice_dmp.pk
        assert body["organ_donation"] == "accepte"
        sections = {s["code"]: s for s in body["sections"]}
        assert len(sections) == 12 and "organ_donation" not in sections
        allergies = sections["allergy"]
        assert allergies["label"] == "Allergies"
        assert {e["label"] for e in allergies["entries"]} == {"Pénicilline", "Latex"}
        assert body["measures"] == [
            {
                "kind": "blood_pressure",
                "value": "128.00",
                "value2": "82.00",
                "unit": "mmHg",
                "date": "2024-03-01",
            }
        ]
        assert AuditEvent.objects.filter(code="dmp.profile.read:self").count() == 1

    def test_cons1_a_professional_in_care_never_gets_masked_entries(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        _fill(alice, alice_dmp)
        body = verified_client(charlie_in_care).get(URL, {"patient": alice_dmp.pk})
        allergies = next(s for s in body.json()["sections"] if s["code"] == "allergy")
        assert [e["label"] for e in allergies["entries"]] == ["Pénicilline"]
        assert allergies["entries"][0]["date"] == "2001-05-01"

    def test_refused_and_missing_are_the_same_404(
        self,
        alice_dmp: Beneficiary,
        dora_blocked: User,
        victor: User,
        eve: User,
        agnes: User,
        nina_in_care: User,
    ) -> None:
        AccessRule.objects.filter(profession="60", class_code="11").update(
            allowed=False
        )
        for user in (dora_blocked, victor, eve, agnes, nina_in_care):
            client = verified_client(user)
            refused = client.get(URL, {"patient": alice_dmp.pk})
            missing = client.get(URL, {"patient": 999_999})
            assert refused.status_code == missing.status_code == 404
            assert refused.json() == missing.json()
        assert (
            AuditEvent.objects.filter(
                code__startswith="dmp.profile.read:refused"
            ).count()
            == 5
        )

    def test_bad_parameter_is_a_400_in_french(self, alice: User) -> None:
        client = verified_client(alice)
        for params in ({}, {"patient": "abc"}, {"patient": "0"}, {"patient": "9" * 30}):
            response = client.get(URL, params)
            assert response.status_code == 400
            assert "patient" in response.json()
        assert "obligatoire" in client.get(URL).json()["patient"][0]

    def test_anonymous_is_refused(self, alice_dmp: Beneficiary) -> None:
        assert Client().get(URL, {"patient": alice_dmp.pk}).status_code in (401, 403)
