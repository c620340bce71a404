"""MSG-4, CONS-9 in Chromium: alice opens a prevention message, sees why
she got it, refuses further ones from the message, and finds the switch off
on her privacy page (on a phone's width too)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from consent.models import PrivacySettings
from espace.models import Beneficiary, User
from messagerie.campaign_models import Campaign, CampaignDelivery
from tests.browser.test_children_journey import _log_in_as
from tests.browser.test_login_journeys import (
    BrowserProblems,
    _screenshot,
    problems,  # noqa: F401 - fixture
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cons9_alice_reads_a_prevention_message_and_refuses_further_ones(
    page: Page,
    problems: BrowserProblems,
    alice: User,
    alice_dmp: Beneficiary,
    agnes: User,
    live_server: Any,
) -> None:
    campaign = Campaign.objects.create(
        title="Dépistage du cancer du sein",
        body="Tous les deux ans, une mammographie est prise en charge à 100 %.",
        reason="vous avez entre 50 et 74 ans",
        send_at=timezone.now(),
        state=Campaign.State.SENT,
        created_by=agnes,
    )
    CampaignDelivery.objects.create(
        campaign=campaign,
        beneficiary=alice_dmp,
        status=CampaignDelivery.Status.DELIVERED,
        created_at=timezone.now(),
        notified_at=timezone.now(),
    )
    page.goto("/")
    _log_in_as(page, alice)
    page.goto("/mon-espace/")
    page.get_by_test_id("messages-link").click()
    page.get_by_role("link", name="Prévention de l'Assurance Maladie").click()
    expect(page.get_by_test_id("prevention-unread")).to_contain_text("1 non lu")
    _screenshot(page, "prevention-1-list")
    page.get_by_role("link", name="Dépistage du cancer du sein").click()
    expect(page.get_by_test_id("prevention-reason")).to_contain_text(
        "Vous recevez ce message car vous avez entre 50 et 74 ans"
    )
    expect(page.get_by_test_id("prevention-body")).to_contain_text("mammographie")
    page.set_viewport_size({"width": 375, "height": 740})
    _screenshot(page, "prevention-2-message-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_test_id("prevention-refuse").click()
    expect(page.get_by_role("status")).to_contain_text(
        "vous ne recevrez plus de messages de prévention"
    )
    assert PrivacySettings.objects.get(patient=alice_dmp).prevention_refused
    page.goto("/mon-espace/confidentialite/")
    switch = page.get_by_test_id("prevention-switch")
    expect(switch).not_to_be_checked()
    _screenshot(page, "prevention-3-privacy")
