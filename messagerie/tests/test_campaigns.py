"""Prevention campaigns: targeting, sending, refusals, counters (MSG-4,
MSG-5, CONS-9, A8.4)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.utils import timezone

from consent.models import PrivacySettings
from consent.services import prevention_refusal_set
from espace.models import Beneficiary, Notification, Space, User
from espace.notifications import PREVENTION
from messagerie import campaign_jobs
from messagerie.campaign_jobs import campaigns_send, prevention_emails_send
from messagerie.campaign_models import Campaign, CampaignCriterion, CampaignDelivery
from messagerie.campaign_selectors import born_between, campaign_preview
from messagerie.tests.campaign_factories import campaign, child_of, person

pytestmark = pytest.mark.django_db
PARIS = dt.timezone(dt.timedelta(hours=1))
SEND_AT = dt.datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)  # send date: 10 March 2026
Status = CampaignDelivery.Status


def _targets(c: Campaign) -> set[int]:
    return set(
        CampaignDelivery.objects.filter(campaign=c).values_list(
            "beneficiary_id", flat=True
        )
    )


def _send(c: Campaign, **options: object) -> Campaign:
    with time_machine.travel(c.send_at + dt.timedelta(minutes=5), tick=False):
        campaigns_send(**options)  # type: ignore[arg-type]
    c.refresh_from_db()
    return c


# ---------------------------------------------------------------- targeting


def test_msg4_age_range_is_computed_on_the_send_date_both_ends_included(
    agnes: User,
) -> None:
    """50 to 74 on 10 March 2026: 50 on that very day is in, 50 tomorrow is
    out; 74 until the eve of the 75th birthday, 75 that day is out."""
    fifty_today = person(dt.date(1976, 3, 10))
    fifty_tomorrow = person(dt.date(1976, 3, 11))
    seventy_four_last_day = person(dt.date(1951, 3, 11))
    seventy_five_today = person(dt.date(1951, 3, 10))
    c = campaign(agnes, send_at=SEND_AT, age_min=50, age_max=74)
    assert campaign_preview(campaign=c).targeted == 2
    c = _send(c)
    assert _targets(c) == {fifty_today.pk, seventy_four_last_day.pk}
    assert fifty_tomorrow.pk not in _targets(c)
    assert seventy_five_today.pk not in _targets(c)


def test_msg4_born_on_29_february_has_a_birthday_on_1_march() -> None:
    born_by, _after = born_between(dt.date(2026, 2, 28), 18, None)
    assert dt.date(2008, 2, 29) > born_by  # not yet 18 on 28 February
    born_by, _after = born_between(dt.date(2026, 3, 1), 18, None)
    assert dt.date(2008, 2, 29) <= born_by


def test_msg4_sex_targets_one_sex(agnes: User) -> None:
    woman = person(dt.date(1980, 1, 1), sex="F")
    man = person(dt.date(1980, 1, 1), sex="M")
    c = _send(campaign(agnes, send_at=SEND_AT, sex="F"))
    assert _targets(c) == {woman.pk}
    assert man.pk not in _targets(c)


def test_msg4_child_criterion_targets_parents_of_a_child_of_that_age(
    agnes: User,
) -> None:
    """ "Has a child aged 2 to 5" on the send date, through an active legal
    representation (LC-10)."""
    parent_of_two = person(dt.date(1990, 1, 1))
    child_of(parent_of_two, dt.date(2024, 3, 10))  # 2 on the send date
    parent_of_one = person(dt.date(1990, 1, 1))
    child_of(parent_of_one, dt.date(2024, 3, 11))  # 1 on the send date
    parent_of_six = person(dt.date(1990, 1, 1))
    child_of(parent_of_six, dt.date(2020, 3, 10))  # 6
    ended = person(dt.date(1990, 1, 1))
    child = child_of(ended, dt.date(2023, 1, 1))
    ended.represented.filter(minor=child).update(status="ended")
    c = campaign(
        agnes,
        send_at=SEND_AT,
        criteria=[{"kind": "child_aged", "min_age": 2, "max_age": 5}],
    )
    c = _send(c)
    assert _targets(c) == {parent_of_two.pk}


def test_msg4_activated_criterion_and_only_open_spaces(agnes: User) -> None:
    activated = person(dt.date(1980, 1, 1), state=Space.State.ACTIVATED)
    auto = person(dt.date(1980, 1, 1), state=Space.State.AUTO_OPENED)
    closed = {
        person(dt.date(1980, 1, 1), state=state).pk
        for state in ("opposed", "closed", "pending")
    }
    everyone = _send(campaign(agnes, send_at=SEND_AT))
    assert _targets(everyone) == {activated.pk, auto.pk}
    assert not closed & _targets(everyone)
    only_activated = _send(
        campaign(agnes, send_at=SEND_AT, criteria=[{"kind": "activated"}])
    )
    assert _targets(only_activated) == {activated.pk}


def test_msg4_children_are_targeted_as_beneficiaries(agnes: User) -> None:
    """A campaign for 2-year-olds reaches the child's own profile (read by
    the parent acting for them)."""
    parent = person(dt.date(1990, 1, 1))
    child = child_of(parent, dt.date(2024, 1, 1))
    c = _send(campaign(agnes, send_at=SEND_AT, age_min=2, age_max=2))
    assert _targets(c) == {child.pk}


def test_msg4_criteria_are_validated_with_french_messages() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="âge minimum et l'âge maximum"):
        CampaignCriterion(kind="child_aged", min_age=2).clean()
    with pytest.raises(ValidationError, match="17 ans au plus"):
        CampaignCriterion(kind="child_aged", min_age=2, max_age=30).clean()
    with pytest.raises(ValidationError, match="supérieur ou égal"):
        Campaign(title="t", body="b", reason="r", age_min=60, age_max=50).clean()


# ---------------------------------------------------------------- sending


def test_msg4_only_a_scheduled_campaign_whose_date_has_come_is_sent(
    agnes: User,
) -> None:
    person(dt.date(1980, 1, 1))
    draft = campaign(agnes, state=Campaign.State.DRAFT)
    later = campaign(agnes, send_at=timezone.now() + dt.timedelta(days=1))
    cancelled = campaign(agnes, state=Campaign.State.CANCELLED)
    campaigns_send()
    for c in (draft, later, cancelled):
        c.refresh_from_db()
        assert not c.deliveries.exists()
    assert later.state == Campaign.State.SCHEDULED


def test_msg4_one_message_and_its_notices_then_a_rerun_adds_nothing(
    agnes: User,
) -> None:
    with_email = person(dt.date(1980, 1, 1))
    without_email = person(dt.date(1980, 1, 1), email="")
    c = _send(campaign(agnes))
    assert c.state == Campaign.State.SENT
    assert set(c.deliveries.values_list("status", flat=True)) == {Status.DELIVERED}
    notes = Notification.objects.filter(kind=PREVENTION)
    assert sorted(notes.values_list("beneficiary_id", "channel")) == sorted(
        [
            (with_email.pk, "email"),
            (with_email.pk, "inapp"),
            (without_email.pk, "inapp"),
        ]
    )
    # the body is stored once, on the campaign: nothing of it in the outbox
    Campaign.objects.filter(pk=c.pk).update(
        state=Campaign.State.SENDING, notify_cursor=0, write_cursor=0
    )
    campaigns_send()
    assert c.deliveries.count() == 2
    assert notes.count() == 3
    c.refresh_from_db()
    assert (c.targeted_count, c.delivered_count) == (2, 2)


def test_msg4_prevention_emails_carry_no_content(agnes: User, mailoutbox: list) -> None:  # type: ignore[type-arg]
    person(dt.date(1980, 1, 1))
    c = _send(campaign(agnes))
    assert prevention_emails_send() == 1
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert "message de prévention" in mail.subject
    for text in (c.body, c.title, c.reason):
        assert text not in mail.body
        assert text not in mail.alternatives[0][0]


# ---------------------------------------------------------------- CONS-9


def test_cons9_refusers_get_no_message_and_count_as_refused(agnes: User) -> None:
    accepting = person(dt.date(1980, 1, 1))
    refusing = person(dt.date(1980, 1, 1))
    PrivacySettings.objects.create(patient=refusing, prevention_refused=True)
    c = campaign(agnes)
    preview = campaign_preview(campaign=c)
    assert (preview.targeted, preview.refusing, preview.recipients) == (2, 1, 1)
    c = _send(c)
    assert c.deliveries.get(beneficiary=refusing).status == Status.WITHHELD
    assert c.deliveries.get(beneficiary=accepting).status == Status.DELIVERED
    assert not Notification.objects.filter(beneficiary=refusing).exists()
    assert (c.targeted_count, c.delivered_count, c.withheld_count) == (2, 1, 1)


def test_cons9_a_refusal_takes_effect_at_once_in_a_campaign_already_sending(
    alice: User, agnes: User
) -> None:
    """The next batch leaves the refuser out; a message written but not yet
    notified is withheld, never notified; a queued e-mail is dropped."""
    alice_b = alice.beneficiary
    Space.objects.create(beneficiary=alice_b, state=Space.State.ACTIVATED)
    other = person(dt.date(1980, 1, 1))
    late = person(dt.date(1980, 1, 1))
    c = campaign(agnes)
    campaign_jobs.campaigns_start()
    start = alice_b.pk - 1
    Campaign.objects.filter(pk=c.pk).update(write_cursor=start, notify_cursor=start)
    campaign_jobs.campaign_write_step(c.pk, batch=1)  # alice written, not notified
    assert c.deliveries.get(beneficiary=alice_b).status == Status.PENDING
    prevention_refusal_set(actor=alice, patient=alice_b, refused=True)
    PrivacySettings.objects.create(patient=late, prevention_refused=True)
    campaigns_send(batch=1)
    assert c.deliveries.get(beneficiary=other).status == Status.DELIVERED
    c.refresh_from_db()
    assert c.state == Campaign.State.SENT
    assert c.deliveries.get(beneficiary=alice_b).status == Status.WITHHELD
    assert c.deliveries.get(beneficiary=late).status == Status.WITHHELD
    assert not Notification.objects.filter(
        kind=PREVENTION, beneficiary__in=[alice_b, late]
    ).exists()
    assert (c.targeted_count, c.delivered_count, c.withheld_count) == (3, 1, 2)


def test_cons9_queued_emails_of_a_refuser_are_never_sent(
    alice: User,
    agnes: User,
    mailoutbox: list,  # type: ignore[type-arg]
) -> None:
    Space.objects.create(beneficiary=alice.beneficiary, state=Space.State.ACTIVATED)
    _send(campaign(agnes))
    assert Notification.objects.filter(kind=PREVENTION, channel="email").count() == 1
    # refused behind the services' back (a race with the batch): still not sent
    PrivacySettings.objects.create(patient=alice.beneficiary, prevention_refused=True)
    assert prevention_emails_send() == 0
    assert mailoutbox == []
    assert not Notification.objects.filter(kind=PREVENTION, channel="email").exists()


def test_cons9_refusal_is_audited_and_reversible(alice: User) -> None:
    from audit.models import AuditEvent

    b = alice.beneficiary
    Space.objects.create(beneficiary=b, state=Space.State.ACTIVATED)
    prevention_refusal_set(actor=alice, patient=b, refused=True)
    assert PrivacySettings.objects.get(patient=b).prevention_refused
    prevention_refusal_set(actor=alice, patient=b, refused=False)
    assert not PrivacySettings.objects.get(patient=b).prevention_refused
    codes = list(
        AuditEvent.objects.filter(patient_id=b.pk).values_list("code", flat=True)
    )
    assert codes[-2:] == ["cons9.prevention.refused", "cons9.prevention.accepted"]


def test_cons9_nobody_else_refuses_for_a_patient(alice: User, eve: User) -> None:
    from django.core.exceptions import PermissionDenied

    Space.objects.create(beneficiary=alice.beneficiary, state=Space.State.ACTIVATED)
    with pytest.raises(PermissionDenied):
        prevention_refusal_set(actor=eve, patient=alice.beneficiary, refused=True)
    assert not PrivacySettings.objects.filter(patient=alice.beneficiary).exists()


# ---------------------------------------------------------------- SEC-6


def test_sec6_a_job_killed_mid_batch_is_rolled_back_and_resumed(agnes: User) -> None:
    people = [person(dt.date(1980, 1, 1)) for _ in range(6)]
    c = campaign(agnes)
    width = 2
    real = campaign_jobs._notify
    calls = {"n": 0}

    def dying(*args: object) -> tuple[int, int]:
        calls["n"] += 1
        result = real(*args)  # type: ignore[arg-type]
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return result

    start = people[0].pk - 1
    Campaign.objects.filter(pk=c.pk).update(write_cursor=start, notify_cursor=start)
    with (
        time_machine.travel(c.send_at + dt.timedelta(minutes=1), tick=False),
        mock.patch.object(campaign_jobs, "_notify", dying),
        pytest.raises(RuntimeError),
    ):
        campaigns_send(batch=width)
    c.refresh_from_db()
    assert c.state == Campaign.State.SENDING
    assert c.delivered_count == 2  # the second notify batch rolled back
    campaigns_send(batch=width)
    c.refresh_from_db()
    assert c.state == Campaign.State.SENT
    assert c.deliveries.filter(status=Status.DELIVERED).count() == 6
    assert Notification.objects.filter(kind=PREVENTION).count() == 12
    assert (c.targeted_count, c.delivered_count, c.withheld_count) == (6, 6, 0)


def test_msg4_the_job_runs_from_lifecycle_tick(agnes: User) -> None:
    from django.core.management import call_command

    person(dt.date(1980, 1, 1))
    c = campaign(agnes)
    call_command("lifecycle_tick", only=["prevention_campaigns"])
    c.refresh_from_db()
    assert c.state == Campaign.State.SENT and c.delivered_count == 1


def test_msg4_the_job_is_in_the_beat_schedule() -> None:
    from config.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "messagerie.campaign_tasks.campaigns_send" in tasks
    assert "messagerie.campaign_tasks.prevention_emails_dispatch" in tasks
    from messagerie import campaign_tasks

    assert campaign_tasks.campaigns_send.name in tasks


def test_msg4_a_beneficiary_unknown_at_start_is_not_targeted(agnes: User) -> None:
    first = person(dt.date(1980, 1, 1))
    c = campaign(agnes)
    campaigns_send(max_steps=1)  # started, first range written
    later: Beneficiary = person(dt.date(1980, 1, 1))
    campaigns_send()
    assert _targets(c) == {first.pk}
    assert later.pk not in _targets(c)


def test_msg4_ag1_agenda_criterion_targets_those_due_and_not_done(
    agnes: User,
) -> None:
    """ "In the age of Mon bilan prévention 45–50, not marked done" on the
    send date (10 March 2026): the window of the version in force that day
    (45 years to the eve of 51), and no done mark (AG-2)."""
    from agenda.models import DoneMark

    turned_45 = person(dt.date(1981, 3, 10))  # 45 on the send date
    not_yet = person(dt.date(1981, 3, 11))  # 45 the day after
    last_day = person(dt.date(1975, 3, 11))  # 51 the day after
    turned_51 = person(dt.date(1975, 3, 10))  # 51 on the send date
    done = person(dt.date(1978, 6, 1))
    DoneMark.objects.create(
        patient=done,
        item_key="BILAN-45-50",
        done_on=dt.date(2025, 5, 2),
        marked_by=agnes,
    )
    c = _send(
        campaign(
            agnes,
            send_at=SEND_AT,
            criteria=[{"kind": "agenda_due", "recommendation": "BILAN-45-50"}],
        )
    )
    assert _targets(c) == {turned_45.pk, last_day.pk}
    assert not {not_yet.pk, turned_51.pk, done.pk} & _targets(c)


def test_msg4_agenda_criterion_needs_a_one_time_recommendation() -> None:
    from django.core.exceptions import ValidationError

    from messagerie.campaign_models import CampaignCriterion

    for code in ("", "NOPE", "MTD"):  # MTD: M'T dents, repeated
        criterion = CampaignCriterion(kind="agenda_due", recommendation=code)
        with pytest.raises(ValidationError, match="recommandation de l'agenda"):
            criterion.clean()
    CampaignCriterion(kind="agenda_due", recommendation="BILAN-45-50").clean()
