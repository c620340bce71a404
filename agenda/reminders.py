"""The reminder job (AG-2): each reminder once, the day before and on the day.

Every run (Celery beat every 15 minutes, and `manage.py lifecycle_tick`)
looks at the local time in Europe/Paris:

- from 18:00, the *day-before* reminders of tomorrow's appointments and of
  the recommended items due tomorrow (until midnight: after that, "demain"
  would be wrong, and the same-day reminder takes over);
- from 07:00, the *same-day* reminders of today's appointments not started
  yet, and of the items due today. An appointment before 07:00 was told the
  day before; one already started is never reminded of.

Set-based and exactly once: in each batch one SQL statement selects the due
rows (a range scan of the `appointment_due` index), inserts one marker per
(object, kind) into `agenda_remindersent` with ON CONFLICT DO NOTHING, and
from the markers it did insert, the notifications (unique keys, ON CONFLICT
DO NOTHING too) — one transaction per batch. A worker killed between two
batches leaves whole batches behind it; a second run, or two runs at once,
find the markers and send nothing twice. On any other database (SQLite,
the embedded default) the same selection is read in the batch's
transaction, then the markers and notifications are bulk-inserted (ignoring
conflicts on the same unique keys): the database serialises writers, so the
rows selected under NOT EXISTS are the ones inserted.

Who is told: the holder, and for a child the legal representatives who
manage the child's space (CONS-7), each by e-mail as their settings say
(`ReminderPreference`, all on by default), and an in-app notice in the
profile's inbox (which the representatives read). The e-mail says the time,
never the title, professional, place or notes (LC-12): espace/notifications
renders it, with `notice_context` below.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format

from espace.selectors import adult_cutoff

PARIS = ZoneInfo("Europe/Paris")
DAY_BEFORE_FROM = dt.time(18, 0)
SAME_DAY_FROM = dt.time(7, 0)
BATCH = 5000

DAY_BEFORE, SAME_DAY = "day_before", "same_day"
APPOINTMENT, ITEM = "appointment", "item"
# Notification kinds (espace.notifications NOTICES / INAPP_TEXTS).
KINDS = {
    (APPOINTMENT, DAY_BEFORE): "ag2.appointment.day_before",
    (APPOINTMENT, SAME_DAY): "ag2.appointment.same_day",
    (ITEM, DAY_BEFORE): "ag2.item.day_before",
    (ITEM, SAME_DAY): "ag2.item.same_day",
}


@dataclass(frozen=True)
class Window:
    """What is due now for one (source, kind): appointments starting in
    [start, end), or items due on `day`."""

    source: str
    kind: str
    day: dt.date
    start: dt.datetime
    end: dt.datetime

    @property
    def notification_kind(self) -> str:
        return KINDS[(self.source, self.kind)]


def local_midnight(day: dt.date) -> dt.datetime:
    """00:00 in Paris on `day`, aware (midnight always exists there: the
    clocks change at 02:00 and 03:00)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=PARIS)


def due_windows(now: dt.datetime) -> list[Window]:
    local = now.astimezone(PARIS)
    today = local.date()
    tomorrow = today + dt.timedelta(days=1)
    windows = []
    if local.time() >= DAY_BEFORE_FROM:
        start, end = (
            local_midnight(tomorrow),
            local_midnight(tomorrow + dt.timedelta(days=1)),
        )
        windows += [
            Window(APPOINTMENT, DAY_BEFORE, tomorrow, start, end),
            Window(ITEM, DAY_BEFORE, tomorrow, start, end),
        ]
    if local.time() >= SAME_DAY_FROM:
        # not for appointments already started
        windows += [
            Window(APPOINTMENT, SAME_DAY, today, now, local_midnight(tomorrow)),
            Window(ITEM, SAME_DAY, today, now, local_midnight(tomorrow)),
        ]
    return windows


_DUE = {
    APPOINTMENT: """
        SELECT a.id, a.beneficiary_id
        FROM agenda_appointment a
        WHERE a.status = 'scheduled'
          AND a.starts_at >= %(start)s AND a.starts_at < %(end)s
          AND NOT EXISTS (
            SELECT 1 FROM agenda_remindersent r
            WHERE r.source = 'appointment' AND r.object_id = a.id
              AND r.kind = %(kind)s)
        LIMIT %(batch)s""",
    ITEM: """
        SELECT i.id, i.beneficiary_id
        FROM agenda_itemreminder i
        WHERE i.due_on = %(day)s
          AND NOT EXISTS (
            SELECT 1 FROM agenda_remindersent r
            WHERE r.source = 'item' AND r.object_id = i.id
              AND r.kind = %(kind)s)
        LIMIT %(batch)s""",
}

# Who is told of the reminders in `marked` (object_id, beneficiary_id), and
# how (the preferences): shared by both paths below.
_WANTED = """recipients AS (
    SELECT m.object_id, m.beneficiary_id AS profile_id, b.id AS recipient_id,
           b.user_id, b.email
    FROM marked m JOIN espace_beneficiary b ON b.id = m.beneficiary_id
    WHERE b.user_id IS NOT NULL
    UNION ALL
    SELECT m.object_id, m.beneficiary_id, rep.id, rep.user_id, rep.email
    FROM marked m
    JOIN espace_beneficiary child
      ON child.id = m.beneficiary_id AND child.birth_date > %(adult_cutoff)s
    JOIN espace_legalrepresentation lr
      ON lr.minor_id = m.beneficiary_id AND lr.status = 'active'
    JOIN espace_beneficiary rep ON rep.id = lr.representative_id
    WHERE rep.user_id IS NOT NULL
),
wanted AS (
    SELECT r.object_id, r.profile_id, r.recipient_id, r.email,
           COALESCE(p.email, TRUE) AS by_email, COALESCE(p.inapp, TRUE) AS by_inapp
    FROM recipients r
    LEFT JOIN agenda_reminderpreference p ON p.user_id = r.user_id
    WHERE COALESCE(p.{timing}, TRUE)
)"""

# PostgreSQL: one statement per batch. `{due}` and `{wanted}` are constants
# of this module (never user input); every value is a parameter.
_BATCH_SQL = """
WITH due AS ({due}),
marked AS (
    INSERT INTO agenda_remindersent (source, object_id, kind, beneficiary_id, sent_at)
    SELECT %(source)s, id, %(kind)s, beneficiary_id, %(now)s FROM due
    ON CONFLICT DO NOTHING
    RETURNING object_id, beneficiary_id
),
{wanted},
notified AS (
    INSERT INTO espace_notification
        (beneficiary_id, kind, key, channel, status, created_at, attempts)
    SELECT recipient_id, %(nkind)s,
           %(nkind)s || ':' || object_id::text || ':' || %(daykey)s
               || ':email:' || recipient_id::text,
           'email', 'pending', %(now)s, 0
    FROM wanted WHERE by_email AND email <> ''
    UNION
    SELECT profile_id, %(nkind)s,
           %(nkind)s || ':' || object_id::text || ':' || %(daykey)s || ':inapp',
           'inapp', 'pending', %(now)s, 0
    FROM wanted WHERE by_inapp
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM marked), (SELECT count(*) FROM notified)
"""

# Any other database (SQLite, the embedded default): the same selection,
# read only; the rows are written by `_write_portable`. One row per due
# object and recipient (NULLs for an object nobody is told of).
_PORTABLE_SQL = """
WITH due AS ({due}),
marked (object_id, beneficiary_id) AS (SELECT id, beneficiary_id FROM due),
{wanted}
SELECT m.object_id, m.beneficiary_id, w.profile_id, w.recipient_id,
       w.by_email AND w.email <> '', w.by_inapp
FROM marked m LEFT JOIN wanted w ON w.object_id = m.object_id
"""


def _write_portable(
    window: Window, rows: list[tuple[Any, ...]], *, now: dt.datetime
) -> tuple[int, int]:
    """The markers and notifications of the rows selected (under NOT EXISTS,
    in this transaction: the database serialises writers, so each is new),
    with the keys, kinds, channels and statuses of the PostgreSQL path."""
    from agenda.appointment_models import ReminderSent
    from espace.models import Notification

    nkind, daykey = window.notification_kind, window.day.strftime("%Y%m%d")
    markers: dict[uuid.UUID, ReminderSent] = {}
    notices: dict[str, Notification] = {}

    def notice(beneficiary_id: int, key: str, channel: str) -> None:
        notices[key] = Notification(
            beneficiary_id=beneficiary_id,
            kind=nkind,
            key=key,
            channel=channel,
            status=Notification.Status.PENDING,
            created_at=now,
            attempts=0,
        )

    for object_id, beneficiary_id, profile_id, recipient_id, email, inapp in rows:
        object_id = uuid.UUID(str(object_id))
        markers[object_id] = ReminderSent(
            source=window.source,
            object_id=object_id,
            kind=window.kind,
            beneficiary_id=beneficiary_id,
            sent_at=now,
        )
        prefix = f"{nkind}:{object_id}:{daykey}"
        if recipient_id is not None and email:
            notice(recipient_id, f"{prefix}:email:{recipient_id}", "email")
        if profile_id is not None and inapp:
            notice(profile_id, f"{prefix}:inapp", "inapp")
    ReminderSent.objects.bulk_create(markers.values(), ignore_conflicts=True)
    Notification.objects.bulk_create(notices.values(), ignore_conflicts=True)
    return len(markers), len(notices)


def _batch(window: Window, *, now: dt.datetime, batch: int) -> tuple[int, int]:
    """One batch of one window, in its own transaction: (markers inserted,
    notifications queued)."""
    postgres = connection.vendor == "postgresql"
    sql = (_BATCH_SQL if postgres else _PORTABLE_SQL).format(
        due=_DUE[window.source], wanted=_WANTED.format(timing=window.kind)
    )
    adapt = connection.ops.adapt_datetimefield_value  # as stored (SQLite: UTC)
    params: dict[str, Any] = {
        "start": adapt(window.start),
        "end": adapt(window.end),
        "day": window.day,
        "daykey": window.day.strftime("%Y%m%d"),
        "kind": window.kind,
        "source": window.source,
        "nkind": window.notification_kind,
        "now": now,
        "batch": batch,
        "adult_cutoff": adult_cutoff(),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        if not postgres:
            return _write_portable(window, cursor.fetchall(), now=now)
        marked, notified = cursor.fetchone()
    return int(marked), int(notified)


def reminders_send(*, batch: int = BATCH, now: dt.datetime | None = None) -> int:
    """AG-2: queue every reminder due now, once; returns how many reminders
    (markers) this run handled. The e-mails go out with the other notices
    (`espace.jobs.notifications_send`, Celery's `notifications_dispatch`)."""
    now = now or timezone.now()
    done = 0
    for window in due_windows(now):
        while True:
            marked, _notified = _batch(window, now=now, batch=batch)
            done += marked
            if marked < batch:
                break
    return done


# ------------------------------------------------------------ e-mail context


def _time_words(moment: dt.datetime) -> str:
    """« 14 h 30 », « 8 h », the French way."""
    local = moment.astimezone(PARIS)
    return f"{local.hour} h {local.minute:02d}" if local.minute else f"{local.hour} h"


def notice_context(notification: Any) -> dict[str, Any] | None:
    """What a reminder e-mail may say: when, and for whom (the child's first
    name when it goes to a parent); never what. None when the reminder is no
    longer true (cancelled or moved meanwhile): it is not sent."""
    from agenda.appointment_models import Appointment, ItemReminder

    kind = str(notification.kind)
    parts = str(notification.key).split(":")
    if len(parts) < 3:
        return None
    object_id, daykey = parts[1], parts[2]
    source = APPOINTMENT if kind.startswith("ag2.appointment") else ITEM
    model = Appointment if source == APPOINTMENT else ItemReminder
    row = model.objects.select_related("beneficiary").filter(pk=object_id).first()
    if row is None:
        return None
    if isinstance(row, Appointment):
        if row.is_cancelled or row.starts_at <= timezone.now():
            return None
        day = row.starts_at.astimezone(PARIS).date()
        extra = {"time": _time_words(row.starts_at)}
    else:
        day = row.due_on
        extra = {}
    if day.strftime("%Y%m%d") != daykey:
        return None
    profile = row.beneficiary
    own = profile.pk == notification.beneficiary_id
    return {
        **extra,
        "own": own,
        "child_name": "" if own else profile.first_name.title(),
        "day_words": date_format(day, "l j F"),
        "tomorrow": kind.endswith(DAY_BEFORE),
    }
