"""DMPs created before 2022 (LC-11, seeds 000 and 004)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from espace import jobs, services
from espace.models import Notification, Space, User

State = Space.State


@pytest.fixture(autouse=True)
def campaign(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LEGACY_CONFIRMATION_OPPOSED_BEFORE = timezone.now() + timedelta(minutes=5)


@pytest.fixture
def legacy(alice: User) -> Space:
    space = Space.objects.create(beneficiary=alice.beneficiary, legacy_dmp=True)
    return services.space_inform(actor=None, space=space)


@pytest.mark.django_db
class LegacyDmpTestCase:
    def test_lc11_the_old_dmp_joins_the_space_when_it_opens(
        self, legacy: Space
    ) -> None:
        assert jobs.legacy_dmp_integrate() == 0  # not open yet
        with time_machine.travel(legacy.opposition_until + timedelta(minutes=1)):
            jobs.spaces_auto_open()
            assert jobs.legacy_dmp_integrate() == 1
            assert jobs.legacy_dmp_integrate() == 0
        legacy.refresh_from_db()
        assert legacy.legacy_dmp_integrated_at is not None
        assert Notification.objects.filter(kind="lc11.integrated").count() == 1

    def test_lc11_former_opposers_confirm_and_a_new_opposition_closes_the_dmp(
        self, legacy: Space
    ) -> None:
        services.space_oppose(actor=None, space=legacy, channel="web")
        assert jobs.legacy_dmp_confirm() == 1
        assert jobs.legacy_dmp_confirm() == 0  # asked once only
        legacy.refresh_from_db()
        assert (
            legacy.state == State.PENDING and legacy.legacy_confirmation_at is not None
        )
        # the confirmation goes out like an information (code, new window)
        assert jobs.notifications_send() == 1
        assert mail.outbox[-1].to == [legacy.beneficiary.email]
        legacy.refresh_from_db()
        assert legacy.state == State.INFORMED
        space = services.space_oppose(actor=None, space=legacy, channel="phone")
        assert space.state == State.OPPOSED
        assert space.legacy_dmp_closed_at is not None
        assert space.history.last().reason == "lc11.opposed_again"
        with time_machine.travel(timezone.now() + timedelta(weeks=7)):
            assert jobs.legacy_dmp_confirm() == 0
            assert jobs.legacy_dmp_integrate() == 0

    def test_lc11_no_new_opposition_opens_the_space_with_the_dmp(
        self, legacy: Space
    ) -> None:
        services.space_oppose(actor=None, space=legacy, channel="web")
        jobs.legacy_dmp_confirm()
        jobs.notifications_send()
        legacy.refresh_from_db()
        with time_machine.travel(legacy.opposition_until + timedelta(minutes=1)):
            jobs.spaces_auto_open()
            jobs.legacy_dmp_integrate()
        legacy.refresh_from_db()
        assert legacy.state == State.AUTO_OPENED
        assert (
            legacy.legacy_dmp_integrated_at is not None
            and legacy.legacy_dmp_closed_at is None
        )


@pytest.mark.django_db
def test_lc11_the_campaign_only_asks_oppositions_made_before_its_date(
    legacy: Space, settings
) -> None:  # type: ignore[no-untyped-def]
    services.space_oppose(actor=None, space=legacy, channel="web")
    settings.LEGACY_CONFIRMATION_OPPOSED_BEFORE = timezone.now() - timedelta(days=1)
    assert jobs.legacy_dmp_confirm() == 0
    settings.LEGACY_CONFIRMATION_OPPOSED_BEFORE = None
    assert jobs.legacy_dmp_confirm() == 0
    legacy.refresh_from_db()
    assert legacy.state == State.OPPOSED
