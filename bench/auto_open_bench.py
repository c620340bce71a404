"""Automatic opening (LC-5, G-P1) against a raw single SQL UPDATE.

N due spaces (default 200,000; `BENCH_AUTO_OPEN_ROWS=1000000` for the issue's
figure) are loaded with COPY. The baseline is one `UPDATE … WHERE due` of the
same rows; ours is `espace.jobs.spaces_auto_open`, which also writes one
history row, one hash-chained audit entry and one notification per space.
PostgreSQL only: on SQLite the figure would say nothing about production.
"""

from __future__ import annotations

import os

from django.db import connection

from bench.common import Context, Row, wall

ROWS = int(os.environ.get("BENCH_AUTO_OPEN_ROWS", "200000"))
G_P1 = "G-P1"
TABLES = (
    "audit_auditevent",
    "espace_notification",
    "espace_spacehistory",
    "espace_provisionalcode",
    "espace_space",
    "espace_legalrepresentation",
    "espace_beneficiary",
)


def run(ctx: Context) -> list[Row]:
    if ctx.database() != "postgresql":
        return [Row("skipped: set DATABASE_URL to a PostgreSQL database", 0, "")]
    from espace.jobs import spaces_auto_open

    _truncate()
    try:
        _load(ROWS)
        raw_seconds = _raw_update()
        _reset()
        ours_seconds, opened = wall(lambda: spaces_auto_open(batch=10_000))
        assert opened == ROWS, opened
        history, audit, notes = _counts()
    finally:
        _truncate()
    million = ours_seconds * 1_000_000 / ROWS
    return [
        Row(f"raw UPDATE of {ROWS:,} due spaces", raw_seconds, "s"),
        Row(
            f"spaces_auto_open {ROWS:,} (+history, audit, notification)",
            ours_seconds,
            "s",
            raw_seconds,
            max_ratio=5.0,
            goal_id=G_P1,
        ),
        Row("spaces opened per second", ROWS / ours_seconds, "/s"),
        Row("projection for 1 M spaces", million, "s"),
        Row(
            "history rows / audit entries / notifications per space",
            (history + audit + notes) / ROWS,
            "",
        ),
    ]


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


def _load(rows: int) -> None:
    """COPY the beneficiaries, then one INSERT … SELECT of their due spaces."""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        columns = (
            "nir, birth_name, first_names, sex, birth_date, birth_place_code, usual_name, "
            "vitale_serial, identity_status, email, phone, address, postal_code, city, created_at"
        )
        with raw.copy(f"COPY espace_beneficiary ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for i in range(rows):
                body = f"180017{i:07d}"
                nir = body + f"{97 - int(body) % 97:02d}"
                copy.write_row(
                    (
                        nir,
                        "TEST",
                        "PERSONNE",
                        "M",
                        "1980-01-15",
                        "75056",
                        "",
                        "",
                        "QUAL",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "2026-01-01T00:00:00Z",
                    )
                )
        cursor.execute(
            "INSERT INTO espace_space (beneficiary_id, state, informed_at, opposition_until, "
            "suspended_from, legacy_dmp, updated_at) "
            "SELECT id, 'informed', now() - interval '7 weeks', now() - interval '1 week', "
            "'', false, now() FROM espace_beneficiary"
        )
        cursor.execute(
            "VACUUM ANALYZE espace_space"
        ) if not connection.in_atomic_block else None


def _raw_update() -> float:
    def update() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE espace_space SET state = 'auto_opened', opened_at = now(), "
                "dmp_created_at = now(), updated_at = now() "
                "WHERE state = 'informed' AND opposition_until <= now()"
            )

    seconds, _ = wall(update)
    return seconds


def _reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE espace_space SET state = 'informed', opened_at = NULL, dmp_created_at = NULL"
        )
        cursor.execute("VACUUM ANALYZE espace_space")


def _counts() -> tuple[int, int, int]:
    with connection.cursor() as cursor:
        counts = []
        for query in (
            "SELECT count(*) FROM espace_spacehistory WHERE reason = 'lc5.auto_opened'",
            "SELECT count(*) FROM audit_auditevent WHERE code = 'lc5.auto_opened'",
            "SELECT count(*) FROM espace_notification WHERE kind = 'lc5.opened'",
        ):
            cursor.execute(query)
            counts.append(int(cursor.fetchone()[0]))
    return counts[0], counts[1], counts[2]
