"""The space state machine (SPEC §2): LC-2, LC-4, LC-5, LC-6, LC-8, LC-9."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from audit.models import AuditEvent
from espace import services
from espace.models import Space, SpaceHistory, User

State = Space.State
PHONE = SpaceHistory.Channel.PHONE
WEB = SpaceHistory.Channel.WEB


@pytest.fixture
def space(alice: User) -> Space:
    return Space.objects.create(beneficiary=alice.beneficiary)


@pytest.fixture
def informed(space: Space) -> Space:
    return services.space_inform(actor=None, space=space)


def _history(space: Space) -> list[tuple[str, str, str]]:
    return list(space.history.values_list("from_state", "to_state", "channel"))


@pytest.mark.django_db
class InformationTestCase:
    def test_lc2_information_opens_a_six_week_window(self, space: Space) -> None:
        space = services.space_inform(actor=None, space=space)
        assert space.state == State.INFORMED
        assert space.opposition_until - space.informed_at == timedelta(weeks=6)
        assert _history(space) == [("pending", "informed", "batch")]
        assert (
            AuditEvent.objects.filter(
                target_type="espace.space", code="lc2.informed"
            ).count()
            == 1
        )

    def test_transitions_are_idempotent(self, informed: Space) -> None:
        again = services.space_inform(actor=None, space=informed)
        assert again.informed_at == informed.informed_at
        assert len(_history(informed)) == 1


@pytest.mark.django_db
class OppositionTestCase:
    def test_lc4_opposition_by_phone_within_six_weeks(
        self, informed: Space, agnes: User
    ) -> None:
        with time_machine.travel(
            informed.informed_at + timedelta(weeks=6) - timedelta(minutes=1)
        ):
            space = services.space_oppose(actor=agnes, space=informed, channel=PHONE)
        assert space.state == State.OPPOSED
        assert _history(space)[-1] == ("informed", "opposed", "phone")
        assert space.history.last().actor == agnes

    def test_lc4_opposition_is_refused_after_six_weeks(self, informed: Space) -> None:
        with (
            time_machine.travel(informed.informed_at + timedelta(weeks=6, minutes=1)),
            pytest.raises(
                ValidationError, match="délai d'opposition de 6 semaines est dépassé"
            ),
        ):
            services.space_oppose(actor=None, space=informed, channel=WEB)
        informed.refresh_from_db()
        assert informed.state == State.INFORMED

    def test_opposing_twice_writes_one_history_row(self, informed: Space) -> None:
        services.space_oppose(actor=None, space=informed, channel=WEB)
        services.space_oppose(actor=None, space=informed, channel=WEB)
        assert [h[1] for h in _history(informed)] == ["informed", "opposed"]

    def test_an_activated_space_cannot_be_opposed(self, informed: Space) -> None:
        services.space_activate(actor=None, space=informed)
        with pytest.raises(ValidationError, match="actuellement « Activé »"):
            services.space_oppose(actor=None, space=informed, channel=WEB)

    def test_lc4_an_opposed_person_can_ask_for_the_space(self, informed: Space) -> None:
        services.space_oppose(actor=None, space=informed, channel=WEB)
        space = services.space_reopen(actor=None, space=informed, channel=WEB)
        assert space.state == State.ACTIVATED  # alice has an account
        assert space.dmp_created_at is not None


@pytest.mark.django_db
class AutomaticOpeningTestCase:
    def test_lc5_not_before_six_weeks(self, informed: Space) -> None:
        with (
            time_machine.travel(
                informed.informed_at + timedelta(weeks=6) - timedelta(minutes=1)
            ),
            pytest.raises(ValidationError),
        ):
            services.space_auto_open(space=informed)

    def test_lc5_opens_with_its_dmp_after_six_weeks(self, informed: Space) -> None:
        with time_machine.travel(informed.informed_at + timedelta(weeks=6, minutes=1)):
            space = services.space_auto_open(space=informed)
        assert space.state == State.AUTO_OPENED
        assert space.dmp_created_at is not None and space.opened_at is not None
        assert _history(space)[-1] == ("informed", "auto_opened", "batch")

    def test_lc6_activation_works_after_the_automatic_opening(
        self, informed: Space
    ) -> None:
        with time_machine.travel(informed.informed_at + timedelta(weeks=7)):
            opened = services.space_auto_open(space=informed)
            space = services.space_activate(actor=None, space=opened)
        assert space.state == State.ACTIVATED
        assert space.opened_at == opened.opened_at  # opened once, activated later


@pytest.mark.django_db
class ClosureTestCase:
    def test_lc8_closure_archives_ten_years_then_purges(self, informed: Space) -> None:
        services.space_activate(actor=None, space=informed)
        closed = services.space_close(actor=None, space=informed, channel=WEB)
        assert closed.state == State.CLOSED
        assert closed.purge_after.year == closed.closed_at.year + 10
        with (
            time_machine.travel(closed.purge_after - timedelta(minutes=1)),
            pytest.raises(ValidationError),
        ):
            services.space_purge(space=closed)
        with time_machine.travel(closed.purge_after + timedelta(minutes=1)):
            assert services.space_purge(space=closed).state == State.PURGED

    def test_lc8_early_deletion_within_three_months(self, informed: Space) -> None:
        services.space_activate(actor=None, space=informed)
        closed = services.space_close(actor=None, space=informed, channel=WEB)
        space = services.space_request_deletion(actor=None, space=closed, channel=WEB)
        assert (
            space.purge_after
            == space.deletion_requested_at + services.EARLY_DELETION_DELAY
        )
        assert space.purge_after < space.deletion_requested_at + relativedelta(months=3)

    def test_lc8_reopening_brings_the_archive_back(self, informed: Space) -> None:
        services.space_activate(actor=None, space=informed)
        services.space_close(actor=None, space=informed, channel=PHONE)
        space = services.space_reopen(actor=None, space=informed, channel=PHONE)
        assert space.state == State.ACTIVATED
        assert space.closed_at is None and space.purge_after is None
        assert space.beneficiary.user is not None  # same account, same data

    def test_a_purged_space_never_comes_back(self, informed: Space) -> None:
        services.space_activate(actor=None, space=informed)
        closed = services.space_close(actor=None, space=informed, channel=WEB)
        with time_machine.travel(closed.purge_after + timedelta(days=1)):
            services.space_purge(space=closed)
        with pytest.raises(ValidationError, match="Supprimé"):
            services.space_reopen(actor=None, space=closed, channel=WEB)


@pytest.mark.django_db
class SuspensionTestCase:
    def test_lc9_suspension_then_restoration(
        self, informed: Space, agnes: User
    ) -> None:
        services.space_activate(actor=None, space=informed)
        suspended = services.space_suspend(actor=agnes, space=informed)
        assert suspended.state == State.SUSPENDED
        assert suspended.suspension_ends_at - timezone.now() > timedelta(
            weeks=6
        ) - timedelta(minutes=1)
        restored = services.space_restore(actor=None, space=suspended, channel=WEB)
        assert restored.state == State.ACTIVATED
        assert restored.suspension_ends_at is None

    def test_lc9_a_suspended_space_can_be_closed(
        self, informed: Space, agnes: User
    ) -> None:
        services.space_activate(actor=None, space=informed)
        services.space_suspend(actor=agnes, space=informed)
        closed = services.space_close(
            actor=None,
            space=informed,
            channel=SpaceHistory.Channel.BATCH,
            reason="lc9.closed",
        )
        assert closed.state == State.CLOSED
        assert closed.suspended_from == ""

    def test_only_open_spaces_can_be_suspended(
        self, informed: Space, agnes: User
    ) -> None:
        with pytest.raises(ValidationError):
            services.space_suspend(actor=agnes, space=informed)


def _race(space_id: int) -> list[str]:
    """Run an opposition and the automatic opening at the same instant."""
    results: list[str] = []
    barrier = threading.Barrier(2)

    def run(action: str) -> None:
        try:
            target = Space.objects.get(pk=space_id)
            barrier.wait()
            if action == "oppose":
                services.space_oppose(actor=None, space=target, channel=WEB)
            else:
                services.space_auto_open(space=target)
            results.append(action)
        except ValidationError:
            results.append(f"{action}:refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(a,)) for a in ("oppose", "auto_open")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_opposition_and_automatic_opening_never_both_win(
    postgres: None, alice: User
) -> None:
    """LC-4 × LC-5 on PostgreSQL: at the very end of the window both actions are
    allowed; the two conditional updates serialise on the row, one wins."""
    from unittest import mock

    beneficiary = alice.beneficiary
    for _round in range(10):
        Space.objects.filter(beneficiary=beneficiary).delete()
        space = services.space_inform(
            actor=None, space=Space.objects.create(beneficiary=beneficiary)
        )
        instant = space.opposition_until
        with mock.patch("django.utils.timezone.now", return_value=instant):
            results = _race(space.pk)
        space.refresh_from_db()
        winners = [r for r in results if ":" not in r]
        assert len(winners) == 1, results
        assert (
            space.state
            == {"oppose": State.OPPOSED, "auto_open": State.AUTO_OPENED}[winners[0]]
        )
        assert space.history.exclude(to_state=State.INFORMED).count() == 1
