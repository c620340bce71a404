"""The patient's prevention pages and the agents' admin (MSG-4, MSG-5,
CONS-9): reads audited once, refusals are 404s, agents see counts only."""

from __future__ import annotations

import datetime as dt
from html import unescape
from typing import Any

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from consent.models import PrivacySettings
from espace.models import Beneficiary, User
from espace.views import PROFILE
from messagerie.campaign_models import Campaign, CampaignDelivery
from messagerie.tests.campaign_factories import campaign, person

pytestmark = pytest.mark.django_db


def _deliver(c: Campaign, *patients: Beneficiary) -> None:
    now = timezone.now()
    for patient in patients:
        CampaignDelivery.objects.create(
            campaign=c,
            beneficiary=patient,
            status=CampaignDelivery.Status.DELIVERED,
            created_at=now,
            notified_at=now,
        )


@pytest.fixture
def sent(agnes: User, alice_dmp: Beneficiary, leo_dmp: Beneficiary) -> Campaign:
    c = campaign(agnes, state=Campaign.State.SENT, reason="vous avez plus de 40 ans")
    _deliver(c, alice_dmp, leo_dmp)
    return c


def _last(n: int = 1) -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("-seq")[:n])


def test_msg4_the_message_shows_its_reason_and_reading_marks_it_read(
    alice: User, sent: Campaign, client_for: Any
) -> None:
    client = client_for(alice)
    listing = client.get(reverse("prevention:list")).content.decode()
    assert sent.title in listing and "Nouveau" in listing
    page = client.get(reverse("prevention:detail", args=[sent.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Vous recevez ce message car" in html and sent.reason in html
    assert sent.body in html
    assert "Ne plus recevoir de messages de prévention" in html
    event = _last()[0]
    assert event.code == "msg4.prevention.read:self"
    assert event.patient_id == alice.beneficiary.pk
    sent.refresh_from_db()
    assert sent.read_count == 1
    client.get(reverse("prevention:detail", args=[sent.pk]))
    sent.refresh_from_db()
    assert sent.read_count == 1  # counted once


def test_cons7_the_parent_reads_the_childs_message_as_representative(
    alice: User, leo_dmp: Beneficiary, sent: Campaign, client_for: Any
) -> None:
    client = client_for(alice)
    session = client.session
    session[PROFILE] = leo_dmp.pk
    session.save()
    assert client.get(reverse("prevention:detail", args=[sent.pk])).status_code == 200
    event = _last()[0]
    assert event.code == "msg4.prevention.read:representative"
    assert event.patient_id == leo_dmp.pk
    assert CampaignDelivery.objects.get(beneficiary=leo_dmp).read_at is not None
    assert CampaignDelivery.objects.get(beneficiary=alice.beneficiary).read_at is None


def test_msg4_refusal_another_patient_has_no_such_message(
    eve: User, eve_dmp: Beneficiary, sent: Campaign, client_for: Any
) -> None:
    """R12: eve asks for alice's message: a 404, nothing read of alice's."""
    before = AuditEvent.objects.count()
    response = client_for(eve).get(reverse("prevention:detail", args=[sent.pk]))
    assert response.status_code == 404
    assert AuditEvent.objects.count() == before


def test_cons9_the_button_on_the_message_refuses_further_messages(
    alice: User, sent: Campaign, client_for: Any
) -> None:
    client = client_for(alice)
    response = client.post(reverse("prevention:preferences"), {"back": "list"})
    assert response.status_code == 302
    assert PrivacySettings.objects.get(patient=alice.beneficiary).prevention_refused
    privacy = client.get(reverse("consent:privacy")).content.decode()
    assert 'data-testid="prevention-switch"' in privacy
    assert 'data-testid="prevention-switch" >' in privacy or (
        'data-testid="prevention-switch" checked' not in privacy
    )
    client.post(
        reverse("prevention:preferences"), {"accepted": "on", "back": "privacy"}
    )
    assert not PrivacySettings.objects.get(patient=alice.beneficiary).prevention_refused


def test_cons9_professionals_and_agents_get_the_patient_gate(
    bob: User, agnes: User, sent: Campaign, client_for: Any
) -> None:
    for user in (bob, agnes):
        client = client_for(user)
        assert client.get(reverse("prevention:list")).status_code == 404
        assert client.post(reverse("prevention:preferences")).status_code == 404


# ---------------------------------------------------------------- admin (MSG-5)


def test_msg5_agents_see_counts_never_who_got_what(
    agnes: User, alice_dmp: Beneficiary, client_for: Any
) -> None:
    c = campaign(agnes, state=Campaign.State.SENT)
    Campaign.objects.filter(pk=c.pk).update(
        targeted_count=12, delivered_count=9, read_count=4, withheld_count=3
    )
    client = client_for(agnes)
    listing = client.get(reverse("admin:messagerie_campaign_changelist"))
    html = listing.content.decode()
    assert listing.status_code == 200
    for figure in ("12", "9", "4", "3"):
        assert f">{figure}<" in html
    page = client.get(reverse("admin:messagerie_campaign_preview", args=[c.pk]))
    assert page.status_code == 200
    assert alice_dmp.nir not in page.content.decode()


def test_msg5_no_delivery_nor_conversation_model_in_the_admin() -> None:
    """Agents never see who received what, nor any conversation or message
    body of the secure messaging (MSG-5): of messagerie, only the campaign
    (the agents' own text) is registered."""
    from django.apps import apps

    registered = {m for m in admin.site._registry if m._meta.app_label == "messagerie"}
    assert registered == {Campaign}
    for model in apps.get_app_config("messagerie").get_models():
        if model is not Campaign:
            assert model not in admin.site._registry
    urls = [u for u in admin.site.get_urls() if "messagerie" in str(u.pattern)]
    assert urls  # the campaigns' pages only
    for name in ("conversation", "message", "campaigndelivery"):
        with pytest.raises(Exception):  # noqa: B017 - NoReverseMatch
            reverse(f"admin:messagerie_{name}_changelist")


def test_msg4_agents_preview_schedule_and_cancel(agnes: User, client_for: Any) -> None:
    person(dt.date(1980, 1, 1))
    person(dt.date(1980, 1, 1), sex="M")
    c = campaign(agnes, state=Campaign.State.DRAFT, sex="F")
    client = client_for(agnes)
    url = reverse("admin:messagerie_campaign_preview", args=[c.pk])
    html = client.get(url).content.decode()
    assert 'data-testid="preview-targeted">1<' in html
    client.post(url, {"action": "schedule"})
    c.refresh_from_db()
    assert c.state == Campaign.State.SCHEDULED
    # a scheduled campaign is no longer editable
    change = client.post(
        reverse("admin:messagerie_campaign_change", args=[c.pk]), {"title": "x"}
    )
    assert change.status_code == 403
    client.post(url, {"action": "cancel"})
    c.refresh_from_db()
    assert c.state == Campaign.State.CANCELLED
    response = client.post(url, {"action": "schedule"}, follow=True)
    assert "plus possible" in response.content.decode()


def test_msg4_agents_create_a_draft_with_a_child_criterion(
    agnes: User, client_for: Any
) -> None:
    client = client_for(agnes)
    data = {
        "title": "Examens de l'enfant",
        "body": "Pensez aux examens obligatoires.",
        "reason": "vous avez un enfant de 2 à 5 ans",
        "age_min": "",
        "age_max": "",
        "sex": "",
        "send_at_0": "10/03/2026",
        "send_at_1": "09:00:00",
        "criteria-TOTAL_FORMS": "1",
        "criteria-INITIAL_FORMS": "0",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
        "criteria-0-kind": "child_aged",
        "criteria-0-min_age": "2",
        "criteria-0-max_age": "5",
    }
    response = client.post(reverse("admin:messagerie_campaign_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    c = Campaign.objects.get(title="Examens de l'enfant")
    assert c.state == Campaign.State.DRAFT and c.created_by == agnes
    assert [(k.kind, k.min_age, k.max_age) for k in c.criteria.all()] == [
        ("child_aged", 2, 5)
    ]
    # a wrong criterion is a form error, not a 500
    data["title"] = "Autre"
    data["criteria-0-max_age"] = "30"
    response = client.post(reverse("admin:messagerie_campaign_add"), data)
    assert response.status_code == 200
    assert "17 ans au plus" in response.content.decode()
    assert not Campaign.objects.filter(title="Autre").exists()


def test_msg4_agents_target_a_recommendation_of_the_agenda(
    agnes: User, client_for: Any
) -> None:
    """AG-1 × MSG-4 through the admin: a one-time recommendation's code is
    kept; an unknown or repeated one is a form error, not a 500."""
    client = client_for(agnes)
    data = {
        "title": "Mon bilan prévention",
        "body": "Faites le point sur votre santé.",
        "reason": "vous avez entre 45 et 50 ans",
        "age_min": "",
        "age_max": "",
        "sex": "",
        "send_at_0": "10/03/2026",
        "send_at_1": "09:00:00",
        "criteria-TOTAL_FORMS": "1",
        "criteria-INITIAL_FORMS": "0",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
        "criteria-0-kind": "agenda_due",
        "criteria-0-min_age": "",
        "criteria-0-max_age": "",
        "criteria-0-recommendation": "BILAN-45-50",
    }
    response = client.post(reverse("admin:messagerie_campaign_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    c = Campaign.objects.get(title="Mon bilan prévention")
    assert [(k.kind, k.recommendation) for k in c.criteria.all()] == [
        ("agenda_due", "BILAN-45-50")
    ]
    for code in ("NOPE", "MTD"):
        data |= {"title": f"Autre {code}", "criteria-0-recommendation": code}
        response = client.post(reverse("admin:messagerie_campaign_add"), data)
        assert response.status_code == 200
        assert "recommandation de l'agenda" in unescape(response.content.decode())
        assert not Campaign.objects.filter(title=f"Autre {code}").exists()


def test_msg4_a_campaign_dated_in_the_past_is_not_scheduled(
    agnes: User, client_for: Any
) -> None:
    c = campaign(
        agnes,
        state=Campaign.State.DRAFT,
        send_at=timezone.now() - dt.timedelta(days=3),
    )
    url = reverse("admin:messagerie_campaign_preview", args=[c.pk])
    response = client_for(agnes).post(url, {"action": "schedule"}, follow=True)
    assert "La date d'envoi est passée" in unescape(response.content.decode())
    c.refresh_from_db()
    assert c.state == Campaign.State.DRAFT
