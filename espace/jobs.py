"""Periodic lifecycle jobs (SPEC §2), set-based (SPEC §10, STYLE R15).

Each job works in batches. A batch is one transaction that claims its rows
(`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so that two workers share
the work), moves their state with one conditional UPDATE, and writes, in
bulk, one history row, one audit entry and one notification per space. A
worker killed mid-batch rolls the whole batch back: nothing is lost and
nothing is done twice, and the next run simply takes the batch again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Entry, audit_append_bulk
from espace.models import (
    LegalRepresentation,
    Notification,
    ProvisionalCode,
    Space,
    SpaceHistory,
)
from espace.selectors import adult_cutoff
from lib.dates import add_years

State = Space.State
BATCH = 5000


@dataclass(frozen=True)
class Move:
    """One set-based transition: which rows, where to, and what it notifies.

    `due_column` holds the deadline: a row is due when it is `<= now`.
    """

    name: str
    from_state: str
    to_state: str
    due_column: str
    reason: str
    notify: str = ""  # notification kind, "" for none
    notify_channel: str = "inapp"


def _claim(move: Move, now: datetime, batch: int) -> list[tuple[int, int]]:
    rows = (
        Space.objects.filter(
            Q(**{f"{move.due_column}__lte": now}), state=move.from_state
        )
        .order_by("pk")
        .select_for_update(skip_locked=True)
        .values_list("pk", "beneficiary_id")[:batch]
    )
    return list(rows)


def _apply(
    move: Move, claimed: list[tuple[int, int]], now: datetime, updates: dict[str, Any]
) -> None:
    ids = [space_id for space_id, _ in claimed]
    changed = Space.objects.filter(pk__in=ids, state=move.from_state).update(
        state=move.to_state, updated_at=now, **updates
    )
    if changed != len(ids):  # rows are locked by us: this cannot happen
        raise RuntimeError(f"{move.name}: {changed} of {len(ids)} rows moved")
    SpaceHistory.objects.bulk_create(
        [
            SpaceHistory(
                space_id=space_id,
                from_state=move.from_state,
                to_state=move.to_state,
                channel=SpaceHistory.Channel.BATCH,
                reason=move.reason,
                at=now,
            )
            for space_id in ids
        ],
        batch_size=BATCH,
    )
    if move.notify:
        notification_bulk_create(
            kind=move.notify, spaces=claimed, channel=move.notify_channel
        )


def notification_bulk_create(
    *,
    kind: str,
    spaces: Iterable[tuple[int, int]],
    channel: str = Notification.Channel.INAPP,
) -> None:
    """One notification per (kind, space): a second run adds nothing (LC-12)."""
    Notification.objects.bulk_create(
        [
            Notification(
                beneficiary_id=beneficiary_id,
                kind=kind,
                key=f"{kind}:{space_id}",
                channel=channel,
            )
            for space_id, beneficiary_id in spaces
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )


def _audit_updates(
    rows: Iterable[tuple[int, int]], *, target_type: str, code: str
) -> None:
    """One hash-chained audit entry per (object id, beneficiary id) row."""
    audit_append_bulk(
        [
            Entry(
                action=AuditEvent.Action.UPDATE,
                target_type=target_type,
                target_id=str(object_id),
                patient_id=patient_id,
                code=code,
            )
            for object_id, patient_id in rows
        ]
    )


def _run(
    move: Move, *, batch: int, updates: dict[str, Any], limit: int | None = None
) -> int:
    done = 0
    now = timezone.now()
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                claimed = _claim_and_apply_sql(move, now, size, updates)
            else:
                claimed = _claim(move, now, size)
                if claimed:
                    _apply(move, claimed, now, updates)
            if not claimed:
                break
            _audit_updates(claimed, target_type="espace.space", code=move.reason)
        done += len(claimed)
    return done


def _claim_and_apply_sql(
    move: Move, now: datetime, size: int, updates: dict[str, Any]
) -> list[tuple[int, int]]:
    """PostgreSQL: claim, move, and write history and notifications in one
    statement (the same rows as the ORM path, without a model per row).

    No ORDER BY in the claim: sorting every due row for each batch would make
    a million-space run quadratic; the index gives any due rows, which is all
    a batch needs.
    """
    sets = "".join(f", {column} = %(u_{column})s" for column in updates)
    notify = ""
    if move.notify:
        notify = """, notes AS (
            INSERT INTO espace_notification
                (beneficiary_id, kind, key, channel, status, created_at, attempts)
            SELECT beneficiary_id, %(kind)s, %(kind)s || ':' || id, %(channel)s, 'pending',
                   %(now)s, 0
            FROM moved ON CONFLICT (key) DO NOTHING
        )"""
    # Column names come from the Move declarations; every value is bound.
    sql = f"""
        WITH due AS (
            SELECT id FROM espace_space
            WHERE state = %(from)s AND {move.due_column} <= %(now)s
            LIMIT %(size)s FOR UPDATE SKIP LOCKED
        ), moved AS (
            UPDATE espace_space AS s SET state = %(to)s, updated_at = %(now)s{sets}
            FROM due WHERE s.id = due.id
            RETURNING s.id, s.beneficiary_id
        ), history AS (
            INSERT INTO espace_spacehistory (space_id, from_state, to_state, channel, reason, at)
            SELECT id, %(from)s, %(to)s, 'batch', %(reason)s, %(now)s FROM moved
        ){notify}
        SELECT id, beneficiary_id FROM moved ORDER BY id
    """  # noqa: S608
    params = {
        "from": move.from_state,
        "to": move.to_state,
        "now": now,
        "size": size,
        "reason": move.reason,
        "kind": move.notify,
        "channel": move.notify_channel,
        **{f"u_{column}": value for column, value in updates.items()},
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(a), int(b)) for a, b in cursor.fetchall()]


def spaces_auto_open(*, batch: int = BATCH, limit: int | None = None) -> int:
    """LC-5: every informed space whose 6-week window has passed opens, and
    its DMP is created. Opposition and activation race safely: they move the
    state first or find it moved."""
    now = timezone.now()
    move = Move(
        name="auto_open",
        from_state=State.INFORMED,
        to_state=State.AUTO_OPENED,
        due_column="opposition_until",
        reason="lc5.auto_opened",
        notify="lc5.opened",
    )
    return _run(
        move,
        batch=batch,
        limit=limit,
        updates={"opened_at": now, "dmp_created_at": now},
    )


def spaces_close_suspended(*, batch: int = BATCH) -> int:
    """LC-9: a suspension with no objection for 6 weeks ends in closure."""
    now = timezone.now()
    from espace.services import ARCHIVE_PERIOD

    move = Move(
        name="close_suspended",
        from_state=State.SUSPENDED,
        to_state=State.CLOSED,
        due_column="suspension_ends_at",
        reason="lc9.closed",
        notify="lc9.closed",
        notify_channel=Notification.Channel.EMAIL,  # LC-9: the holder is told
    )
    return _run(
        move,
        batch=batch,
        updates={
            "closed_at": now,
            "purge_after": now + ARCHIVE_PERIOD,
            "suspended_from": "",
            "suspension_ends_at": None,
        },
    )


def spaces_purge(*, batch: int = BATCH) -> int:
    """LC-8: archives 10 years after closure, and early-deletion requests
    (3 months at most), are purged; the holder's login goes with them. The
    DMP apps delete their content on their own from the PURGED state."""
    move = Move(
        name="purge",
        from_state=State.CLOSED,
        to_state=State.PURGED,
        due_column="purge_after",
        reason="lc8.purged",
    )
    purged = _run(move, batch=batch, updates={})
    if purged:
        from espace.models import User

        User.objects.filter(
            beneficiary__space__state=State.PURGED, is_active=True
        ).update(is_active=False)
    return purged


def codes_expire(*, batch: int = BATCH, keep_days: int = 30) -> int:
    """LC-3: forget code hashes long after they expired (they can never match)."""
    cutoff = timezone.now() - timedelta(days=keep_days)
    deleted, _ = ProvisionalCode.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


def minors_turning_18(*, batch: int = BATCH) -> int:
    """LC-10, CONS-7: at 18 the parents' access ends.

    A space opened during childhood stays open and the young adult gets their
    own provisional code ("lc10.adult_open", by post). A space never opened
    is informed again by `adults_informed_again`.
    """
    eighteen_years_ago = adult_cutoff()
    done = 0
    while True:
        with transaction.atomic():
            links = list(
                LegalRepresentation.objects.filter(
                    minor__birth_date__lte=eighteen_years_ago,
                    status__in=[
                        LegalRepresentation.Status.ACTIVE,
                        LegalRepresentation.Status.INVITED,
                    ],
                )
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", "minor_id")[:batch]
            )
            if not links:
                return done
            LegalRepresentation.objects.filter(pk__in=[pk for pk, _ in links]).update(
                status=LegalRepresentation.Status.ENDED
            )
            minors = sorted({minor_id for _, minor_id in links})
            spaces = list(
                Space.objects.filter(beneficiary_id__in=minors).values_list(
                    "pk", "beneficiary_id", "state", "beneficiary__email"
                )
            )
            notifications = []
            for space_id, beneficiary_id, state, email in spaces:
                # The child's e-mail on file is often a parent's: the young
                # adult's own code goes by post (LC-10).
                channel = (
                    Notification.Channel.LETTER
                    if state in Space.OPEN_STATES
                    else (
                        Notification.Channel.EMAIL
                        if email
                        else Notification.Channel.LETTER
                    )
                )
                if state in Space.OPEN_STATES:
                    kind, key = "lc10.adult_open", f"lc10.adult_open:{space_id}"
                else:
                    continue  # never informed: the daily information job will
                notifications.append(
                    Notification(
                        beneficiary_id=beneficiary_id,
                        kind=kind,
                        key=key,
                        channel=channel,
                    )
                )
            Notification.objects.bulk_create(notifications, ignore_conflicts=True)
            _audit_updates(
                links, target_type="espace.legalrepresentation", code="lc10.majority"
            )
            done += len(links)


def adults_informed_again(*, batch: int = BATCH, window_days: int = 31) -> int:
    """LC-10 (seed 000, « À savoir »): a space not opened before 18 — informed
    or opposed during childhood, with or without a representative on file —
    is informed again at 18, to the young adult, with a new 6-week opposition
    window counted from that sending (back to PENDING; the information job
    sends it with its code). Runs daily over the last month's birthdays, so
    a missed day catches up; the notification key makes it happen once."""
    cutoff = adult_cutoff()
    already = Notification.objects.filter(
        beneficiary_id=OuterRef("beneficiary_id"),
        key__startswith="lc10.adult_informed:",
    )
    candidates = (
        Space.objects.filter(
            state__in=[State.INFORMED, State.OPPOSED],
            beneficiary__birth_date__gt=cutoff - timedelta(days=window_days),
            beneficiary__birth_date__lte=cutoff,
        )
        .filter(~Exists(already))
        .annotate(decided_at=Max("history__at"))
        .values_list(
            "pk",
            "beneficiary_id",
            "state",
            "beneficiary__birth_date",
            "decided_at",
            "beneficiary__email",
        )[:batch]
    )
    now = timezone.now()
    rows = []
    for space_id, beneficiary_id, state, birth_date, decided_at, email in candidates:
        birthday = add_years(birth_date, 18)
        if decided_at is not None and timezone.localdate(decided_at) >= birthday:
            continue  # informed or opposed as an adult: nothing to redo
        rows.append((space_id, beneficiary_id, state, email))
    if not rows:
        return 0
    with transaction.atomic():
        moved = []
        for space_id, beneficiary_id, state, email in rows:
            if Space.objects.filter(pk=space_id, state=state).update(
                state=State.PENDING,
                informed_at=None,
                opposition_until=None,
                updated_at=now,
            ):
                moved.append((space_id, beneficiary_id, state, email))
        SpaceHistory.objects.bulk_create(
            [
                SpaceHistory(
                    space_id=pk,
                    from_state=state,
                    to_state=State.PENDING,
                    channel=SpaceHistory.Channel.BATCH,
                    reason="lc10.adult_informed",
                    at=now,
                )
                for pk, _b, state, _e in moved
            ]
        )
        Notification.objects.bulk_create(
            [
                Notification(
                    beneficiary_id=beneficiary_id,
                    kind="lc2.information",
                    key=f"lc10.adult_informed:{pk}",
                    channel=Notification.Channel.EMAIL
                    if email
                    else Notification.Channel.LETTER,
                )
                for pk, beneficiary_id, _s, email in moved
            ],
            ignore_conflicts=True,
        )
        _audit_updates(
            [(pk, beneficiary_id) for pk, beneficiary_id, _s, _e in moved],
            target_type="espace.space",
            code="lc10.adult_informed",
        )
    return len(moved)


def agenda_reminders(*, batch: int = BATCH) -> int:
    """AG-2: queue the reminders due now (before "send" below, which mails
    them in the same tick)."""
    from agenda.reminders import reminders_send

    return reminders_send(batch=batch)


JOBS: dict[str, Callable[..., int]] = {
    "agenda_reminders": agenda_reminders,
    "adults_informed": adults_informed_again,
    "auto_open": spaces_auto_open,
    "close_suspended": spaces_close_suspended,
    "purge": spaces_purge,
    "codes_expire": codes_expire,
    "majority": minors_turning_18,
}


# ---------------------------------------------------------------- information (LC-2)

LETTER_BATCH = 200  # letters per print batch (one PDF)
SENDABLE_KINDS = (
    "lc2.information",
    "lc3.new_code",
    "lc10.adult_open",
    "lc9.suspended",
    "lc9.closed",
    # DMP and consent notices (LC-12, CONS-3, CONS-6, DMP-9): e-mails without
    # content, sent like the lifecycle notices.
    "dmp.new_document",
    "dmp9.updated",
    "cons3.access",
    "cons6.emergency",
    # AG-2 reminders (agenda.reminders): the time, never the appointment
    "ag2.appointment.day_before",
    "ag2.appointment.same_day",
    "ag2.item.day_before",
    "ag2.item.same_day",
    # MSG-3: a new message (e-mail, or SMS when chosen), without content.
    "msg.new_message",
)


def information_enqueue_daily(*, batch: int = BATCH) -> int:
    """LC-2: queue today's information messages, up to the daily cap."""
    from django.conf import settings

    from espace.notifications import information_enqueue

    return information_enqueue(limit=int(settings.INFORMATION_DAILY_CAP))


def notifications_pending_ids(*, limit: int) -> list[int]:
    """E-mails and SMS waiting to go out (letters go by print batch)."""
    return list(
        Notification.objects.filter(
            status=Notification.Status.PENDING,
            channel__in=[Notification.Channel.EMAIL, Notification.Channel.SMS],
            kind__in=SENDABLE_KINDS,
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def notifications_send(*, batch: int = BATCH) -> int:
    """Send pending e-mails and SMS here and now (`lifecycle_tick`; Celery fans
    the same ids out to `notification_send` tasks instead)."""
    from espace.notifications import notification_send

    return sum(
        notification_send(notification_id=i)
        for i in notifications_pending_ids(limit=batch)
    )


def letters_print(*, batch: int = BATCH) -> int:
    """LC-2: pending letters into print batches (one PDF each, in the outbox)."""
    from espace.notifications import letters_print_batch

    printed = 0
    while printed < batch and letters_print_batch(limit=LETTER_BATCH) is not None:
        printed += 1
    return printed


def notifications_sweep_stale(*, batch: int = BATCH) -> int:
    """SEC-6: notifications claimed by a worker that died go back to the queue,
    and so do the letters of a print batch whose worker died."""
    from espace.notifications import notifications_sweep, print_batches_sweep

    stale = timedelta(minutes=15)
    return notifications_sweep(older_than=stale) + print_batches_sweep(older_than=stale)


JOBS.update(
    {
        "information": information_enqueue_daily,
        "send": notifications_send,
        "letters": letters_print,
        "sweep": notifications_sweep_stale,
    }
)


# ---------------------------------------------------------------- legacy DMP (LC-11)


def legacy_dmp_integrate(*, batch: int = BATCH) -> int:
    """LC-11: a DMP created before 2022 joins its space once the space is open
    (automatic opening or activation), unless it was closed by an opposition."""
    now = timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                Space.objects.filter(
                    legacy_dmp=True,
                    legacy_dmp_integrated_at__isnull=True,
                    legacy_dmp_closed_at__isnull=True,
                    state__in=Space.OPEN_STATES,
                )
                .select_for_update(skip_locked=True)
                .values_list("pk", "beneficiary_id")[:batch]
            )
            if not rows:
                return done
            Space.objects.filter(pk__in=[pk for pk, _ in rows]).update(
                legacy_dmp_integrated_at=now
            )
            _audit_updates(rows, target_type="espace.space", code="lc11.integrated")
            notification_bulk_create(kind="lc11.integrated", spaces=rows)
        done += len(rows)


def legacy_dmp_confirm(*, batch: int = BATCH) -> int:
    """LC-11: people who opposed while holding a pre-2022 DMP get, once, a new
    information (letter or e-mail, with a code) asking them to confirm: their
    space is informed again, with a new 6-week window from sending. A new
    opposition then closes the old DMP (space_oppose); no opposition opens the
    space with the DMP in it."""
    from django.conf import settings

    # A one-off campaign (seed 000: "fin 2022"): only oppositions recorded
    # before the campaign date are asked; none while it is not set.
    campaign = settings.LEGACY_CONFIRMATION_OPPOSED_BEFORE
    if campaign is None:
        return 0
    now = timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                Space.objects.filter(
                    Exists(
                        SpaceHistory.objects.filter(
                            space=OuterRef("pk"),
                            to_state=State.OPPOSED,
                            at__lt=campaign,
                        )
                    ),
                    legacy_dmp=True,
                    legacy_confirmation_at__isnull=True,
                    state=State.OPPOSED,
                )
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", "beneficiary_id", "beneficiary__email")[:batch]
            )
            if not rows:
                return done
            ids = [pk for pk, _, _ in rows]
            Space.objects.filter(pk__in=ids).update(
                state=State.PENDING, legacy_confirmation_at=now, updated_at=now
            )
            SpaceHistory.objects.bulk_create(
                [
                    SpaceHistory(
                        space_id=pk,
                        from_state=State.OPPOSED,
                        to_state=State.PENDING,
                        channel=SpaceHistory.Channel.BATCH,
                        reason="lc11.confirmation",
                        at=now,
                    )
                    for pk in ids
                ]
            )
            # Sent like the first information (code, 6-week window at sending).
            Notification.objects.bulk_create(
                [
                    Notification(
                        beneficiary_id=beneficiary_id,
                        kind="lc2.information",
                        key=f"lc11.confirmation:{pk}",
                        channel=Notification.Channel.EMAIL
                        if email
                        else Notification.Channel.LETTER,
                    )
                    for pk, beneficiary_id, email in rows
                ],
                ignore_conflicts=True,
            )
            _audit_updates(
                [(pk, beneficiary_id) for pk, beneficiary_id, _ in rows],
                target_type="espace.space",
                code="lc11.confirmation",
            )
        done += len(rows)


JOBS.update(
    {"legacy_integrate": legacy_dmp_integrate, "legacy_confirm": legacy_dmp_confirm}
)
