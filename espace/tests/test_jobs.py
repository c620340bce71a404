"""Periodic lifecycle jobs: set-based, exact at their boundaries, safe to
repeat, and safe to kill (LC-5, LC-8, LC-9, LC-10, SEC-6)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import ChainProblem, audit_chain_verify
from espace import jobs, services
from espace.models import (
    Beneficiary,
    LegalRepresentation,
    Notification,
    Space,
    SpaceHistory,
    User,
)

State = Space.State
ROOT = Path(__file__).resolve().parents[2]


def _beneficiaries(
    count: int, start: int = 0, birth: dt.date = dt.date(1980, 1, 15)
) -> list[Beneficiary]:
    """Valid, distinct NIRs: sex, year, month, then a running number, and the key."""
    people = []
    for i in range(count):
        body = f"1{birth.year % 100:02d}{birth.month:02d}{start + i:08d}"
        people.append(
            Beneficiary(
                nir=body + f"{97 - int(body) % 97:02d}",
                birth_name="TEST",
                first_names="PERSONNE",
                sex="M",
                birth_date=birth,
                birth_place_code="75056",
            )
        )
    return Beneficiary.objects.bulk_create(people, batch_size=5000)


def _informed_spaces(count: int, informed_at: dt.datetime) -> list[Space]:
    people = _beneficiaries(count)
    return Space.objects.bulk_create(
        [
            Space(
                beneficiary=p,
                state=State.INFORMED,
                informed_at=informed_at,
                opposition_until=informed_at + timedelta(weeks=6),
            )
            for p in people
        ],
        batch_size=5000,
    )


@pytest.mark.django_db
class AutomaticOpeningJobTestCase:
    def test_lc5_opens_exactly_the_due_spaces_at_six_weeks(self) -> None:
        sent = timezone.now() - timedelta(weeks=6)
        due = _informed_spaces(3, sent - timedelta(minutes=1))
        Space.objects.filter(pk=due[2].pk).update(
            informed_at=sent + timedelta(minutes=1),
            opposition_until=sent + timedelta(weeks=6, minutes=1),
        )
        assert jobs.spaces_auto_open() == 2
        states = dict(Space.objects.values_list("pk", "state"))
        assert [states[s.pk] for s in due] == [
            State.AUTO_OPENED,
            State.AUTO_OPENED,
            State.INFORMED,
        ]
        with time_machine.travel(timezone.now() + timedelta(minutes=2)):
            assert jobs.spaces_auto_open() == 1

    def test_lc5_writes_one_history_row_audit_entry_and_notification_each(self) -> None:
        spaces = _informed_spaces(25, timezone.now() - timedelta(weeks=7))
        assert jobs.spaces_auto_open(batch=10) == 25
        assert jobs.spaces_auto_open(batch=10) == 0  # safe to repeat
        assert SpaceHistory.objects.filter(reason="lc5.auto_opened").count() == 25
        assert AuditEvent.objects.filter(code="lc5.auto_opened").count() == 25
        assert Notification.objects.filter(kind="lc5.opened").count() == 25
        opened = Space.objects.get(pk=spaces[0].pk)
        assert opened.dmp_created_at is not None and opened.opened_at is not None

    def test_opposed_and_activated_spaces_are_left_alone(self, alice: User) -> None:
        space = services.space_inform(
            actor=None, space=Space.objects.create(beneficiary=alice.beneficiary)
        )
        services.space_oppose(actor=None, space=space, channel="web")
        with time_machine.travel(timezone.now() + timedelta(weeks=7)):
            assert jobs.spaces_auto_open() == 0
        space.refresh_from_db()
        assert space.state == State.OPPOSED


@pytest.mark.django_db
class OtherJobsTestCase:
    def test_lc9_suspension_closes_after_six_weeks(
        self, alice: User, agnes: User
    ) -> None:
        space = services.space_inform(
            actor=None, space=Space.objects.create(beneficiary=alice.beneficiary)
        )
        services.space_activate(actor=None, space=space)
        space = services.space_suspend(actor=agnes, space=space)
        with time_machine.travel(space.suspension_ends_at - timedelta(minutes=1)):
            assert jobs.spaces_close_suspended() == 0
        with time_machine.travel(space.suspension_ends_at + timedelta(minutes=1)):
            assert jobs.spaces_close_suspended() == 1
        space.refresh_from_db()
        assert space.state == State.CLOSED and space.purge_after is not None

    def test_lc8_purge_after_ten_years(self, alice: User) -> None:
        space = services.space_inform(
            actor=None, space=Space.objects.create(beneficiary=alice.beneficiary)
        )
        services.space_activate(actor=None, space=space)
        space = services.space_close(actor=None, space=space, channel="web")
        with time_machine.travel(
            space.closed_at + timedelta(days=3652) - timedelta(days=2)
        ):
            assert jobs.spaces_purge() == 0
        with time_machine.travel(space.purge_after + timedelta(minutes=1)):
            assert jobs.spaces_purge() == 1
        space.refresh_from_db()
        assert space.state == State.PURGED

    def test_lc10_parents_lose_access_on_the_18th_birthday(self, alice: User) -> None:
        today = timezone.localdate()
        child = _beneficiaries(
            1, start=900, birth=today.replace(year=today.year - 18) + timedelta(days=1)
        )[0]
        link = LegalRepresentation.objects.create(
            representative=alice.beneficiary, minor=child
        )
        space = Space.objects.create(
            beneficiary=child, state=State.AUTO_OPENED, opened_at=timezone.now()
        )
        Beneficiary.objects.filter(pk=child.pk).update(email="leo.adulte@example.test")
        assert jobs.minors_turning_18() == 0  # the day before
        with time_machine.travel(timezone.now() + timedelta(days=1)):
            assert jobs.minors_turning_18() == 1
        link.refresh_from_db()
        assert link.status == LegalRepresentation.Status.ENDED
        assert (
            Notification.objects.filter(
                kind="lc10.adult_open", key=f"lc10.adult_open:{space.pk}"
            ).count()
            == 1
        )
        space.refresh_from_db()
        assert space.state == State.AUTO_OPENED  # stays open unless they object
        # the young adult's own code goes by post: the e-mail on file is a parent's
        assert (
            Notification.objects.get(key=f"lc10.adult_open:{space.pk}").channel
            == "letter"
        )

    def test_lc10_a_space_never_opened_gets_a_new_window_at_18(
        self, alice: User
    ) -> None:
        today = timezone.localdate()
        child = _beneficiaries(1, start=901, birth=today.replace(year=today.year - 18))[
            0
        ]
        LegalRepresentation.objects.create(
            representative=alice.beneficiary, minor=child
        )
        old = timezone.now() - timedelta(weeks=2)
        space = Space.objects.create(
            beneficiary=child,
            state=State.INFORMED,
            informed_at=old,
            opposition_until=old + timedelta(weeks=6),
        )
        Beneficiary.objects.filter(pk=child.pk).update(email="leo.adulte@example.test")
        assert jobs.minors_turning_18() == 1
        assert jobs.adults_informed_again() == 1
        assert jobs.adults_informed_again() == 0  # once
        space.refresh_from_db()
        assert space.state == State.PENDING  # informed again, to the young adult
        assert jobs.notifications_send() == 1
        space.refresh_from_db()
        assert space.state == State.INFORMED
        # the new 6-week window counts from this sending
        assert space.opposition_until - timezone.now() > timedelta(weeks=6) - timedelta(
            minutes=1
        )
        assert (
            Notification.objects.get(key=f"lc10.adult_informed:{space.pk}").status
            == "sent"
        )

    def test_lifecycle_tick_runs_every_job_and_is_safe_to_repeat(self) -> None:
        _informed_spaces(3, timezone.now() - timedelta(weeks=7))
        out = StringIO()
        call_command("lifecycle_tick", stdout=out)
        assert "auto_open : 3" in out.getvalue()
        out = StringIO()
        call_command("lifecycle_tick", stdout=out)
        assert "auto_open : 0" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_does_nothing_twice(
    postgres: None,
) -> None:
    """SEC-6 on PostgreSQL: SIGKILL during an automatic opening of 10,000
    spaces, restart, and check one history row, one audit entry and one
    notification per space, and a clean audit chain."""
    total = 10_000
    _informed_spaces(total, timezone.now() - timedelta(weeks=7))
    env = dict(os.environ)
    settings_dict = connection.settings_dict
    env["DATABASE_URL"] = (
        f"postgres://{settings_dict['USER'] or 'postgres'}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    env["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    command = [
        sys.executable,
        "manage.py",
        "lifecycle_tick",
        "--only",
        "auto_open",
        "--batch",
        "250",
    ]
    worker = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        opened = Space.objects.filter(state=State.AUTO_OPENED).count()
        if opened >= 1000:
            break
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    opened = Space.objects.filter(state=State.AUTO_OPENED).count()
    assert 0 < opened < total, "the kill should land mid-run"

    def invariants(expected: int) -> None:
        assert Space.objects.filter(state=State.AUTO_OPENED).count() == expected
        assert SpaceHistory.objects.filter(reason="lc5.auto_opened").count() == expected
        assert AuditEvent.objects.filter(code="lc5.auto_opened").count() == expected
        assert Notification.objects.filter(kind="lc5.opened").count() == expected

    invariants(opened)  # the killed batch left no trace
    finished = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr
    invariants(total)
    result = list(audit_chain_verify())
    assert not any(isinstance(r, ChainProblem) for r in result), result


@pytest.mark.django_db
def test_lc2_the_tick_informs_by_email_and_by_letter(  # type: ignore[no-untyped-def]
    alice: User, settings, django_capture_on_commit_callbacks
) -> None:
    from django.core import mail

    by_mail = Space.objects.create(beneficiary=alice.beneficiary)
    other = _beneficiaries(1, start=950)[0]
    Beneficiary.objects.filter(pk=other.pk).update(
        address="3 rue de la Paix", postal_code="75002", city="PARIS"
    )
    by_letter = Space.objects.create(beneficiary=other)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "lifecycle_tick",
            "--only",
            "information",
            "--only",
            "send",
            "--only",
            "letters",
            stdout=out,
        )
    assert "information : 2" in out.getvalue()
    by_mail.refresh_from_db()
    by_letter.refresh_from_db()
    assert by_mail.state == by_letter.state == State.INFORMED
    assert mail.outbox[-1].to == [alice.email]
    letters = list((Path(settings.OUTBOX_DIR) / "letters").glob("*.pdf"))
    assert len(letters) == 1 and letters[0].read_bytes().startswith(b"%PDF")
    out = StringIO()
    call_command(
        "lifecycle_tick", "--only", "information", "--only", "send", stdout=out
    )
    assert "information : 0" in out.getvalue() and "send : 0" in out.getvalue()


@pytest.mark.django_db
def test_lc10_a_minor_without_a_representative_on_file_is_informed_at_18() -> None:
    today = timezone.localdate()
    child = _beneficiaries(
        1, start=960, birth=today.replace(year=today.year - 18) - timedelta(days=3)
    )[0]
    old = timezone.now() - timedelta(days=400)
    space = Space.objects.create(
        beneficiary=child,
        state=State.OPPOSED,
        informed_at=old,
        opposition_until=old + timedelta(weeks=6),
    )
    SpaceHistory.objects.create(
        space=space, from_state="informed", to_state="opposed", channel="web", at=old
    )
    assert jobs.adults_informed_again() == 1
    space.refresh_from_db()
    assert space.state == State.PENDING
    assert (
        Notification.objects.get(key=f"lc10.adult_informed:{space.pk}").channel
        == "letter"
    )


@pytest.mark.django_db
def test_lc10_an_adult_opposition_is_left_alone() -> None:
    today = timezone.localdate()
    child = _beneficiaries(
        1, start=970, birth=today.replace(year=today.year - 18) - timedelta(days=10)
    )[0]
    space = Space.objects.create(beneficiary=child, state=State.OPPOSED)
    SpaceHistory.objects.create(
        space=space,
        from_state="informed",
        to_state="opposed",
        channel="web",
        at=timezone.now(),
    )
    assert jobs.adults_informed_again() == 0
