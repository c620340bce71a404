"""The preventive calendar (AG-1): computing it for many people at once.

`AGENDA_BENCH_PEOPLE` people (100,000 by default) of every age from 0 to
100, both sexes, as (birth date, sex) rows of a temporary PostgreSQL table
(or SQLite). The rules are read once from the `Recommendation` table
(`agenda.selectors.rulebook`); then one pass reads every row through a
cursor and computes that person's calendar (`agenda.calendar.
compute_calendar`, statuses included, as of 2026-11-22), against a baseline
pass that only reads the same rows through the same cursor. Both passes run
twice, alternating; the best of each is kept. Printed: seconds for each
pass, the ratio, people per second, items per person.

Quick run: `AGENDA_BENCH_PEOPLE=5000 python bench/run.py agenda`.
"""

from __future__ import annotations

import datetime as dt
import os
import time

from django.db import connection

from bench.common import Context, Row, no_gc

TODAY = dt.date(2026, 11, 22)
BATCH = 5_000


def _people() -> int:
    return max(100, int(os.environ.get("AGENDA_BENCH_PEOPLE", "100000")))


def _fill(count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_agenda_people")
        cursor.execute(
            "CREATE TABLE bench_agenda_people (id integer PRIMARY KEY, "
            "birth_date date NOT NULL, sex char(1) NOT NULL)"
        )
        rows = [
            (
                i,
                TODAY - dt.timedelta(days=(i * 7919) % 36_525),  # 0 to 100 years
                "F" if i % 2 else "M",
            )
            for i in range(count)
        ]
        for start in range(0, count, BATCH):
            cursor.executemany(
                "INSERT INTO bench_agenda_people VALUES (%s, %s, %s)",
                rows[start : start + BATCH],
            )


def _scan(compute: bool) -> tuple[float, int, int]:
    """Seconds for one pass; people and items seen."""
    from agenda.calendar import compute_calendar
    from agenda.selectors import rulebook

    book = rulebook()  # loaded once (and cached): not what is measured
    people = items = 0
    with no_gc(), connection.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute("SELECT birth_date, sex FROM bench_agenda_people ORDER BY id")
        while True:
            rows = cursor.fetchmany(BATCH)
            if not rows:
                break
            for birth_date, sex in rows:
                people += 1
                if compute:
                    items += len(
                        compute_calendar(
                            rulebook=book,
                            birth_date=birth_date,
                            sex=sex,
                            today=TODAY,
                        )
                    )
        elapsed = time.perf_counter() - start
    return elapsed, people, items


def run(ctx: Context) -> list[Row]:
    ctx.database()
    from agenda.selectors import rulebook

    count = _people()
    _fill(count)
    rules = len(rulebook().rules)
    try:
        base, ours = [], []
        seen = items = 0
        for _round in range(2):
            base.append(_scan(compute=False)[0])
            elapsed, seen, items = _scan(compute=True)
            ours.append(elapsed)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_agenda_people")
    baseline, value = min(base), min(ours)
    assert seen == count
    return [
        Row(
            f"calendars of {count:,} people ({rules} rule versions)",
            value,
            "s",
            baseline,
        ),
        Row("people per second", count / value, "/s"),
        Row("µs per person (calendar only)", (value - baseline) / count * 1e6, "us"),
        Row("items per person (mean)", items / count, ""),
    ]
