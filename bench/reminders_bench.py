"""The agenda reminder job (AG-2) against a raw SELECT of the same due rows.

N appointments (default 1,000,000; `BENCH_REMINDERS_ROWS=20000` for a quick
run) of 2,000 holders with an account, spread over the next 365 days, are
inserted with one INSERT … SELECT. The clock is set to 18:30 (Paris): the
day-before reminders of tomorrow and the same-day ones of this evening are
due. The baseline fetches the due rows (the same two windows, the same
index) into Python; ours is `agenda.reminders.reminders_send`, which also
inserts a marker per reminder and an e-mail and an in-app notification per
recipient, in batches. A second run (nothing left to send) is printed too.
PostgreSQL only.
"""

from __future__ import annotations

import datetime as dt
import os

from django.db import connection

from bench.common import Context, Row, wall

ROWS = int(os.environ.get("BENCH_REMINDERS_ROWS", "1000000"))
HOLDERS = 2000
TABLES = (
    "agenda_remindersent",
    "agenda_appointment",
    "espace_notification",
    "espace_beneficiary",
)


def run(ctx: Context) -> list[Row]:
    if ctx.database() != "postgresql":
        return [Row("skipped: set DATABASE_URL to a PostgreSQL database", 0, "")]
    from agenda.reminders import PARIS, due_windows, reminders_send

    today = dt.datetime.now(tz=PARIS).date()
    now = dt.datetime.combine(today, dt.time(18, 30), tzinfo=PARIS)
    _truncate()
    try:
        _load(ROWS, now)
        windows = [w for w in due_windows(now) if w.source == "appointment"]
        raw_seconds, due = wall(lambda: _raw_select(windows))
        ours_seconds, handled = wall(lambda: reminders_send(now=now))
        again_seconds, again = wall(lambda: reminders_send(now=now))
        assert handled == due, (handled, due)
        assert again == 0
        notifications = _count("espace_notification")
        _empty_outputs()
        floor_seconds, written = wall(lambda: _raw_writes(windows, now))
        assert written == handled + notifications, (written, handled, notifications)
    finally:
        _truncate()
    return [
        Row(f"raw SELECT of the {due:,} due rows among {ROWS:,}", raw_seconds, "s"),
        Row(
            f"reminders_send: {handled:,} reminders, {notifications:,} notifications",
            ours_seconds,
            "s",
            raw_seconds,
            max_ratio=3.0,
            goal_id="AG-2",
        ),
        Row("second run (nothing due any more)", again_seconds, "s", raw_seconds),
        Row(
            "  floor: raw INSERT … SELECT of the same markers and notifications",
            floor_seconds,
            "s",
            raw_seconds,
        ),
        Row("  reminders_send against that floor", ours_seconds, "s", floor_seconds),
    ]


def _empty_outputs() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE agenda_remindersent, espace_notification")


def _raw_writes(windows: list, now: dt.datetime) -> int:  # type: ignore[type-arg]
    """What no reminder job can avoid writing: one marker per due reminder
    and its two notifications (e-mail, in-app), straight into the real
    tables (their unique keys and indexes), with no preference, recipient
    or duplicate logic."""
    written = 0
    with connection.cursor() as cursor:
        for window in windows:
            params = {
                "start": window.start,
                "end": window.end,
                "kind": window.kind,
                "nkind": window.notification_kind,
                "now": now,
            }
            where = (
                "WHERE a.status = 'scheduled' "
                "AND a.starts_at >= %(start)s AND a.starts_at < %(end)s"
            )
            cursor.execute(
                "INSERT INTO agenda_remindersent (source, object_id, kind, "
                "beneficiary_id, sent_at) SELECT 'appointment', a.id, %(kind)s, "
                f"a.beneficiary_id, %(now)s FROM agenda_appointment a {where}",
                params,
            )
            written += cursor.rowcount
            cursor.execute(
                "INSERT INTO espace_notification (beneficiary_id, kind, key, "
                "channel, status, created_at, attempts) SELECT a.beneficiary_id, "
                "%(nkind)s, %(nkind)s || ':' || a.id::text || ':' || v.channel, "
                "v.channel, 'pending', %(now)s, 0 FROM agenda_appointment a "
                "CROSS JOIN (VALUES ('email'), ('inapp')) AS v(channel) "
                f"{where}",
                params,
            )
            written += cursor.rowcount
    return written


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        cursor.execute("DELETE FROM espace_user WHERE username LIKE 'bench-rdv-%%'")


def _load(rows: int, now: dt.datetime) -> None:
    from espace.models import Beneficiary, User

    users = User.objects.bulk_create(
        [
            User(username=f"bench-rdv-{i}", role=User.Role.PATIENT, password="!")  # noqa: S106 - unusable
            for i in range(HOLDERS)
        ]
    )
    Beneficiary.objects.bulk_create(
        [
            Beneficiary(
                user=user,
                nir=f"1800175{i:06d}{97 - int(f'1800175{i:06d}') % 97:02d}",
                birth_name="TEST",
                first_names="PERSONNE",
                sex="M",
                birth_date=dt.date(1980, 1, 15),
                birth_place_code="75056",
                email=f"rdv{i}@example.org",
            )
            for i, user in enumerate(users)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO agenda_appointment (id, beneficiary_id, starts_at, "
            "duration_minutes, status, created_at, updated_at) "
            "SELECT gen_random_uuid(), b.ids[1 + (g %% %(holders)s)], "
            "%(now)s + (g::float / %(rows)s) * interval '365 days', 30, "
            "'scheduled', %(now)s, %(now)s "
            "FROM generate_series(1, %(rows)s) g, "
            "(SELECT array_agg(id ORDER BY id) AS ids FROM espace_beneficiary) b",
            {"rows": rows, "holders": HOLDERS, "now": now},
        )
        cursor.execute("ANALYZE agenda_appointment")
        cursor.execute("ANALYZE espace_beneficiary")


def _raw_select(windows: list) -> int:  # type: ignore[type-arg]
    total = 0
    with connection.cursor() as cursor:
        for window in windows:
            cursor.execute(
                "SELECT id, beneficiary_id FROM agenda_appointment "
                "WHERE status = 'scheduled' AND starts_at >= %s AND starts_at < %s",
                [window.start, window.end],
            )
            total += len(cursor.fetchall())
    return total


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return int(cursor.fetchone()[0])
