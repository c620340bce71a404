"""AG-2: the reminder job, at the day-before (18:00) and same-day (07:00)
boundaries in Europe/Paris, around the daylight-saving changes of
2026-03-29 and 2026-10-25; exactly once after a second run or a crash."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core import mail

from agenda import reminders
from agenda.appointment_forms import paris_datetime
from agenda.appointment_models import Appointment, ReminderSent
from agenda.appointment_services import (
    AppointmentData,
    appointment_cancel,
    appointment_create,
    item_reminder_create,
    reminder_preference_update,
)
from espace.jobs import notifications_send
from espace.models import Notification
from espace.notifications import inapp_text

pytestmark = pytest.mark.django_db
PARIS = reminders.PARIS
HEALTH_WORDS = ("dentaire", "Martin", "radio", "Cabinet", "ROR")


def at(day: str, hm: str, fold: int = 0) -> dt.datetime:
    d = dt.date.fromisoformat(day)
    h, m = (int(x) for x in hm.split(":"))
    return dt.datetime(d.year, d.month, d.day, h, m, tzinfo=PARIS, fold=fold)


def book(actor: Any, patient: Any, when: dt.datetime, **fields: Any) -> Appointment:
    with time_machine.travel(when - dt.timedelta(days=5), tick=False):
        appointment = appointment_create(
            actor=actor,
            patient=patient,
            data=AppointmentData(
                starts_at=when,
                title="Contrôle dentaire",
                professional_text="Dr Martin",
                place="Cabinet rue Haute",
                notes="Apporter la radio",
                **fields,
            ),
        )
    assert appointment is not None
    return appointment


def run(moment: dt.datetime, **kwargs: Any) -> int:
    with time_machine.travel(moment, tick=False):
        return reminders.reminders_send(**kwargs)


def sent(kind: str) -> set[str]:
    return {
        str(object_id)
        for object_id in ReminderSent.objects.filter(kind=kind).values_list(
            "object_id", flat=True
        )
    }


def test_ag2_day_before_from_18h_same_day_from_7h(alice_dmp: Any) -> None:
    alice = alice_dmp.user
    morning = book(alice, alice_dmp, at("2026-11-24", "08:00"))
    afternoon = book(alice, alice_dmp, at("2026-11-24", "14:30"))
    assert run(at("2026-11-23", "17:59")) == 0
    assert run(at("2026-11-23", "18:00")) == 2
    assert sent("day_before") == {str(morning.pk), str(afternoon.pk)}
    assert run(at("2026-11-23", "23:45")) == 0  # a second run sends nothing
    assert run(at("2026-11-24", "06:59")) == 0
    assert run(at("2026-11-24", "07:00")) == 2
    assert run(at("2026-11-24", "09:00")) == 0
    assert Notification.objects.filter(channel="email").count() == 4
    assert Notification.objects.filter(channel="inapp").count() == 4


def test_ag2_the_email_says_the_time_and_nothing_else(alice_dmp: Any) -> None:
    alice = alice_dmp.user
    book(alice, alice_dmp, at("2026-11-24", "14:30"))
    run(at("2026-11-23", "18:15"))
    with time_machine.travel(at("2026-11-23", "18:16"), tick=False):
        assert notifications_send() == 1
    (message,) = mail.outbox
    assert message.to == [alice_dmp.email]
    assert "Vous avez un rendez-vous santé demain à 14 h 30." in message.body
    for text in (message.subject, message.body, message.alternatives[0][0]):
        for word in HEALTH_WORDS:
            assert word not in text
    notice = Notification.objects.get(channel="inapp")
    assert notice.beneficiary_id == alice_dmp.pk
    assert "rendez-vous santé demain" in str(inapp_text(notice.kind)[0])


def test_ag2_a_childs_reminder_goes_to_the_parent(
    alice: Any, leo_dmp: Any, alice_dmp: Any
) -> None:
    book(alice, leo_dmp, at("2026-11-24", "08:00"))
    run(at("2026-11-24", "07:00"))
    email = Notification.objects.get(channel="email")
    assert email.beneficiary_id == alice.beneficiary.pk  # the parent's address
    inapp = Notification.objects.get(channel="inapp")
    assert inapp.beneficiary_id == leo_dmp.pk  # leo's inbox, read by alice
    with time_machine.travel(at("2026-11-24", "07:01"), tick=False):
        notifications_send()
    assert "Leo a un rendez-vous santé aujourd'hui à 8 h." in mail.outbox[0].body


def test_ag2_spring_forward_2026_03_29(alice_dmp: Any) -> None:
    """The night 02:00 → 03:00: 02:30 does not exist (refused by the form);
    00:30 is told the day before only, 08:00 both times."""
    alice = alice_dmp.user
    assert paris_datetime(dt.date(2026, 3, 29), dt.time(2, 30)) is None
    early = book(alice, alice_dmp, at("2026-03-29", "00:30"))
    late = book(alice, alice_dmp, at("2026-03-29", "08:00"))
    next_day = book(alice, alice_dmp, at("2026-03-30", "00:30"))
    assert run(at("2026-03-28", "17:59")) == 0
    assert run(at("2026-03-28", "18:00")) == 2
    assert sent("day_before") == {str(early.pk), str(late.pk)}
    # 07:00 is 05:00 UTC once in summer time
    assert run(dt.datetime(2026, 3, 29, 4, 59, tzinfo=dt.UTC)) == 0
    assert run(dt.datetime(2026, 3, 29, 5, 0, tzinfo=dt.UTC)) == 1  # 08:00 only
    assert sent("same_day") == {str(late.pk)}
    assert sent("day_before") == {str(early.pk), str(late.pk)}
    assert run(at("2026-03-29", "18:00")) == 1
    assert sent("day_before") == {str(early.pk), str(late.pk), str(next_day.pk)}


def test_ag2_fall_back_2026_10_25(alice_dmp: Any) -> None:
    """The night 03:00 → 02:00 (a 25-hour day): 00:30, 02:30 (the first
    one, summer time) and 08:00 are all that day; 00:30 the next day is not."""
    alice = alice_dmp.user
    day = [
        book(alice, alice_dmp, at("2026-10-25", hm))
        for hm in ("00:30", "02:30", "08:00")
    ]
    after = book(alice, alice_dmp, at("2026-10-26", "00:30"))
    stored = Appointment.objects.get(pk=day[1].pk).starts_at
    assert stored == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    assert run(dt.datetime(2026, 10, 24, 15, 59, tzinfo=dt.UTC)) == 0  # 17:59 CEST
    assert run(dt.datetime(2026, 10, 24, 16, 0, tzinfo=dt.UTC)) == 3  # 18:00 CEST
    assert sent("day_before") == {str(a.pk) for a in day}
    # 07:00 is 06:00 UTC after the change
    assert run(dt.datetime(2026, 10, 25, 5, 59, tzinfo=dt.UTC)) == 0
    assert run(dt.datetime(2026, 10, 25, 6, 0, tzinfo=dt.UTC)) == 1
    assert sent("same_day") == {str(day[2].pk)}
    assert str(after.pk) not in sent("day_before")
    assert run(at("2026-10-25", "18:00")) == 1
    assert str(after.pk) in sent("day_before")


def test_ag2_a_late_run_sends_once_and_never_for_past_appointments(
    alice_dmp: Any,
) -> None:
    alice = alice_dmp.user
    past = book(alice, alice_dmp, at("2026-11-24", "08:00"))
    coming = book(alice, alice_dmp, at("2026-11-24", "15:00"))
    # the job was down from 17:00 the day before until 09:00
    assert run(at("2026-11-24", "09:00")) == 1
    assert sent("same_day") == {str(coming.pk)}
    assert sent("day_before") == set()
    assert str(past.pk) not in sent("same_day")
    assert run(at("2026-11-24", "09:15")) == 0


def test_ag2_a_crash_between_batches_then_a_rerun_sends_exactly_once(
    alice_dmp: Any,
) -> None:
    alice = alice_dmp.user
    booked = [
        book(alice, alice_dmp, at("2026-11-24", f"{h:02d}:00")) for h in range(9, 14)
    ]
    real = reminders._batch
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    with mock.patch.object(reminders, "_batch", crashing), pytest.raises(RuntimeError):
        run(at("2026-11-23", "18:00"), batch=2)
    assert len(sent("day_before")) == 4  # two whole batches
    assert run(at("2026-11-23", "18:15"), batch=2) == 1
    assert sent("day_before") == {str(a.pk) for a in booked}
    keys = list(Notification.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == 10  # one e-mail + one notice each
    assert run(at("2026-11-23", "18:30"), batch=2) == 0


def test_ag2_preferences_cancelled_and_moved_appointments(alice_dmp: Any) -> None:
    alice = alice_dmp.user
    reminder_preference_update(
        actor=alice, email=False, inapp=True, day_before=False, same_day=True
    )
    kept = book(alice, alice_dmp, at("2026-11-24", "10:00"))
    cancelled = book(alice, alice_dmp, at("2026-11-24", "11:00"))
    appointment_cancel(actor=alice, appointment=cancelled)
    assert run(at("2026-11-23", "18:00")) == 1  # marker kept, nothing queued
    assert Notification.objects.count() == 0
    assert run(at("2026-11-24", "07:00")) == 1
    assert sent("same_day") == {str(kept.pk)}
    assert list(Notification.objects.values_list("channel", flat=True)) == ["inapp"]


def test_ag2_item_reminders_day_before_and_same_day(alice_dmp: Any) -> None:
    alice = alice_dmp.user
    with time_machine.travel(at("2026-11-01", "10:00"), tick=False):
        item = item_reminder_create(
            actor=alice,
            patient=alice_dmp,
            item_code="ror-2",
            label="Vaccin ROR",
            due_on=dt.date(2026, 11, 24),
        )
    assert item is not None
    assert run(at("2026-11-23", "18:00")) == 1
    assert run(at("2026-11-24", "07:00")) == 1
    assert run(at("2026-11-24", "20:00")) == 0
    with time_machine.travel(at("2026-11-24", "07:01"), tick=False):
        assert notifications_send() == 2
    bodies = " ".join(m.body for m in mail.outbox)
    assert "Une étape de prévention recommandée pour vous est prévue demain." in bodies
    assert "ROR" not in bodies


def test_ag2_the_same_keys_kinds_channels_and_statuses_on_every_database(
    alice_dmp: Any,
) -> None:
    """AG-2: the PostgreSQL statement and the portable path (SQLite) queue
    the same rows; the markers keep the holder and the time of the run."""
    alice = alice_dmp.user
    appointment = book(alice, alice_dmp, at("2026-11-24", "10:00"))
    assert run(at("2026-11-23", "18:00")) == 1
    prefix = f"ag2.appointment.day_before:{appointment.pk}:20261124"
    rows = set(
        Notification.objects.values_list(
            "beneficiary_id", "kind", "key", "channel", "status", "attempts"
        )
    )
    kind = "ag2.appointment.day_before"
    assert rows == {
        (alice_dmp.pk, kind, f"{prefix}:email:{alice_dmp.pk}", "email", "pending", 0),
        (alice_dmp.pk, kind, f"{prefix}:inapp", "inapp", "pending", 0),
    }
    marker = ReminderSent.objects.get()
    assert (marker.source, marker.object_id, marker.beneficiary_id) == (
        "appointment",
        appointment.pk,
        alice_dmp.pk,
    )
    assert marker.sent_at == at("2026-11-23", "18:00")
