"""Rules as versioned data (AG-1): agents retire a version and add a new one
with an effective date in the back office, without code; the calendars
change from that date (items falling due later), not before; overlapping
versions are refused; every change is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from agenda import selectors
from agenda.calendar import compute_calendar
from agenda.models import Recommendation
from agenda.rules import rule_rows, rules_load
from audit.models import AuditEvent
from espace.models import Beneficiary, User

pytestmark = pytest.mark.django_db


def _form(rule: Recommendation, **changes: Any) -> dict[str, Any]:
    data = {
        name: getattr(rule, name)
        for name in (
            "code",
            "label",
            "category",
            "group",
            "sex",
            "condition",
            "age_start",
            "age_end",
            "frequency",
            "every",
            "duration",
            "catch_up_of",
            "source_text",
            "source_url",
        )
    }
    data |= {
        "dose": rule.dose or "",
        "mandatory": "on" if rule.mandatory else "",
        "series": "[]",
        "born_from": "",
        "born_until": "",
        "valid_from": rule.valid_from.isoformat(),
        "valid_until": rule.valid_until.isoformat() if rule.valid_until else "",
    }
    data |= changes
    return {k: v for k, v in data.items() if v is not None}


def test_ag1_the_migration_loaded_every_rule_and_a_reload_changes_nothing() -> None:
    assert Recommendation.objects.count() == len(rule_rows())
    assert rules_load(Recommendation) == 0


def test_ag1_an_agent_retires_a_version_and_adds_one_from_a_date(
    agnes: User, alice: User, client_for: Any
) -> None:
    """A 47-year-old's open bilan keeps today's version until the new one
    enters into force; a 44-year-old's bilan, due after that date, takes the
    new one at once (agenda.calendar: the version in force on the day that
    decides)."""
    client = client_for(agnes)
    rule = Recommendation.objects.get(code="BILAN-45-50")
    add = reverse("admin:agenda_recommendation_add")
    change = reverse("admin:agenda_recommendation_change", args=[rule.pk])
    new = _form(
        rule, label="Mon bilan prévention 45-50 ans (v2027)", valid_from="2027-01-01"
    )
    # overlapping the version in force: refused, with the reason
    refused = client.post(add, new)
    assert refused.status_code == 200
    assert "recoupe la version du 01/01/2024" in refused.content.decode()
    assert client.post(change, _form(rule, valid_until="2026-12-31")).status_code == 302
    assert client.post(add, new).status_code == 302
    assert Recommendation.objects.filter(code="BILAN-45-50").count() == 2
    codes = AuditEvent.objects.filter(code__startswith="agenda.rule.")
    assert sorted(codes.values_list("code", flat=True)) == [
        "agenda.rule.add",
        "agenda.rule.change",
    ]

    alice_dmp = alice.beneficiary  # born 1979: 47, the bilan open since 2024
    from tests.personas import open_dmp

    open_dmp(alice_dmp)
    younger = Beneficiary.objects.create(
        nir="182066912345638",
        birth_name="JEUNE",
        first_names="PAUL",
        sex="M",
        birth_date=dt.date(1982, 6, 1),
        birth_place_code="69123",
    )

    def label(patient: Beneficiary) -> str:
        item = next(
            i for i in selectors.calendar_compute(patient) if i.code == "BILAN-45-50"
        )
        return item.label

    assert label(alice_dmp) == "Mon bilan prévention (45-50 ans)"
    assert label(younger) == "Mon bilan prévention 45-50 ans (v2027)"
    with time_machine.travel(dt.datetime(2027, 2, 1, 12, tzinfo=dt.UTC)):
        assert label(alice_dmp) == "Mon bilan prévention 45-50 ans (v2027)"


def test_ag1_an_agent_retires_a_rule_for_good(agnes: User, client_for: Any) -> None:
    """Retired on a date, with no new version: items falling due after it
    are no longer owed; done history before it stays."""
    rule = Recommendation.objects.get(code="VAC-ZONA")
    client = client_for(agnes)
    url = reverse("admin:agenda_recommendation_change", args=[rule.pk])
    assert client.post(url, _form(rule, valid_until="2026-12-31")).status_code == 302

    def codes(born: dt.date) -> set[str]:
        items = compute_calendar(
            rulebook=selectors.rulebook(),
            birth_date=born,
            sex="F",
            today=dt.date(2026, 11, 22),
        )
        return {i.code for i in items}

    codes_62 = codes(dt.date(1962, 3, 1))  # 65 in 2027
    codes_60 = codes(dt.date(1960, 3, 1))  # 65 in 2025
    assert "VAC-ZONA" not in codes_62
    assert "VAC-ZONA" in codes_60  # open now, under the version still in force


def test_sec8_bad_ages_are_refused_in_the_admin(agnes: User, client_for: Any) -> None:
    rule = Recommendation.objects.get(code="BILAN-45-50")
    client = client_for(agnes)
    answer = client.post(
        reverse("admin:agenda_recommendation_add"),
        _form(rule, code="NOUVEAU", age_start="45 ans", valid_from="2030-01-01"),
    )
    assert answer.status_code == 200
    assert "Âge ou durée invalide" in answer.content.decode()
    assert not Recommendation.objects.filter(code="NOUVEAU").exists()


def test_sec2_the_rules_admin_is_for_agents_only(
    alice: User, bob: User, client_for: Any
) -> None:
    url = reverse("admin:agenda_recommendation_changelist")
    for user in (alice, bob):
        assert client_for(user).get(url).status_code == 302
