"""Beneficiary import (LC-1, G-P9) against a raw COPY of the same file.

A file of N valid rows (default 200,000; `BENCH_IMPORT_ROWS=1000000` for the
issue's figure, about 4-5 minutes here) is generated in the scratch directory:
adults, one minor in five with a parent earlier in the file, a médecin traitant
on two rows in three. The baseline is `COPY … FROM STDIN (FORMAT csv, HEADER)`
of that file into a plain table of the same 16 text columns, with no index
(median of 3). Ours is `espace.importer.beneficiaries_import`: every row
checked, beneficiaries, spaces, parents' links and one hash-chained audit entry
per beneficiary; then the same file again, which must change nothing.

Two floors, timed on their own, show what no importer can avoid: the rows the
import wrote, COPYed straight back into their tables (indexes, foreign keys),
and the audit entries (`audit_append_bulk` of N entries, by 5,000).
PostgreSQL only: on SQLite the figure would say nothing about production.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from django.db import connection, transaction

from bench.common import Context, Row, wall

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "200000"))
G_P9 = "G-P9"
DOCTORS = 50
TABLES = (
    "audit_auditevent",
    "espace_notification",
    "espace_spacehistory",
    "espace_provisionalcode",
    "espace_space",
    "espace_legalrepresentation",
    "espace_beneficiary",
    "espace_importbatch",
)
RAW_TABLE = "bench_import_raw"


def run(ctx: Context) -> list[Row]:
    if ctx.database() != "postgresql":
        return [Row("skipped: set DATABASE_URL to a PostgreSQL database", 0, "")]
    from espace.importer import COLUMNS

    scratch = ctx.scratch("import")
    path = scratch / "beneficiaires.csv"
    _truncate()
    try:
        generated, _ = wall(lambda: _generate(path, ROWS, _doctors()))
        raw = _raw_copy(path, COLUMNS)
        first, batch = wall(lambda: _import(path))
        assert (batch.imported, batch.rejected) == (ROWS, 0), batch.report[:3]
        links, audit = _counts()
        _analyze()  # what autovacuum does after a load; untimed
        again, batch = wall(lambda: _import(path))
        assert (batch.unchanged, batch.imported, batch.updated) == (ROWS, 0, 0)
        assert _counts() == (links, audit), "a re-import must write nothing"
        floor = _schema_floor(scratch)
        audit_alone = _audit_alone(ROWS)
        size = path.stat().st_size
    finally:
        _truncate()
        ctx.drop_scratch(scratch)
    million = 1_000_000 / ROWS
    return [
        Row(f"generate the file ({ROWS:,} rows, {size / 1e6:,.0f} MB)", generated, "s"),
        Row(f"raw COPY of the file into a plain table ({ROWS:,} rows)", raw, "s"),
        Row(
            "beneficiaries_import, first time (+spaces, links, audit)",
            first,
            "s",
            raw,
            max_ratio=3.0,
            goal_id=G_P9,
        ),
        Row("  floor: COPY of the same rows into the tables (no checks)", floor, "s"),
        Row("  floor: audit entries alone (audit_append_bulk)", audit_alone, "s"),
        Row(
            "  floor: tables + audit, against the raw COPY",
            floor + audit_alone,
            "s",
            raw,
        ),
        Row(
            "  first import against its floor (tables + audit)",
            first,
            "s",
            floor + audit_alone,
        ),
        Row(
            "  first import minus the audit entries",
            first - audit_alone,
            "s",
            raw,
            max_ratio=3.0,
            goal_id=G_P9,
        ),
        Row(
            "beneficiaries_import again (0 changes)",
            again,
            "s",
            raw,
            max_ratio=3.0,
            goal_id=G_P9,
        ),
        Row("rows per second, first import", ROWS / first, "/s"),
        Row("projection for 1 M rows, first import", first * million, "s"),
        Row("projection for 1 M rows, re-import", again * million, "s"),
        Row("legal representatives (one minor in five)", links, ""),
        Row("audit entries (one per beneficiary)", audit, ""),
    ]


def _doctors() -> list[str]:
    """Médecins traitants with valid RPPS numbers (kept between runs)."""
    from stdnum import luhn

    from espace.models import Professional, User

    numbers = []
    for n in range(DOCTORS):
        body = f"9980000{n:03d}"
        rpps = body + luhn.calc_check_digit(body)
        user, _ = User.objects.get_or_create(
            username=f"bench-doctor-{n}", defaults={"role": User.Role.PROFESSIONAL}
        )
        Professional.objects.get_or_create(
            rpps=rpps, defaults={"user": user, "profession": "10"}
        )
        numbers.append(rpps)
    return numbers


def _generate(path: Path, rows: int, doctors: list[str]) -> None:
    """Valid rows: unique NIRs (department, commune and serial number spell
    the row number), birth date and sex agreeing with them."""
    from espace.importer import COLUMNS

    parent = ""
    with path.open("w", encoding="utf-8") as out:
        out.write(";".join(COLUMNS) + "\n")
        lines = []
        for i in range(rows):
            minor = i % 5 == 4
            sex = 1 + (i & 1)
            year = 2010 + i % 8 if minor else 1950 + i % 40
            month = 1 + i % 12
            department = 1 + (i // 1_000_000) % 95
            place = f"{department if department != 20 else 96:02d}{i % 1000:03d}"
            first13 = f"{sex}{year % 100:02d}{month:02d}{place}{(i // 1000) % 1000:03d}"
            nir = f"{first13}{97 - int(first13) % 97:02d}"
            lines.append(
                f"{nir};{i:012d};NOM{i % 977};PRENOM{i % 331} SECOND;{'MF'[sex - 1]};"
                f"{year}-{month:02d}-{1 + i % 28:02d};{place};;"
                f"{'' if minor else f'u{i}@example.fr'};"
                f"{'' if minor else f'06{i % 100_000_000:08d}'};"
                f"{i % 200} rue de la Paix;75{i % 20:03d};Paris;"
                f"{parent if minor else ''};"
                f"{doctors[i % len(doctors)] if i % 3 else ''};"
                f"{'oui' if i % 7 == 0 else 'non'}\n"
            )
            if not minor:
                parent = nir
            if len(lines) == 10_000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)


def _raw_copy(path: Path, columns: tuple[str, ...]) -> float:
    """Median of 3 COPYs of the file into a plain unindexed table."""
    times = []
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        cursor.execute(
            f"CREATE TABLE {RAW_TABLE} ({', '.join(f'{c} text' for c in columns)})"
        )
        try:
            for _ in range(3):
                cursor.execute(f"TRUNCATE {RAW_TABLE}")

                def copy() -> None:
                    with (
                        path.open("rb") as source,
                        cursor.cursor.copy(
                            f"COPY {RAW_TABLE} FROM STDIN "
                            "(FORMAT csv, HEADER true, DELIMITER ';')"
                        ) as sink,
                    ):
                        while chunk := source.read(1 << 20):
                            sink.write(chunk)

                seconds, _ = wall(copy)
                times.append(seconds)
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
    return statistics.median(times)


def _import(path: Path):  # type: ignore[no-untyped-def]
    from espace.importer import beneficiaries_import

    with path.open("rb") as stream:
        return beneficiaries_import(actor=None, file_name=path.name, stream=stream)


def _counts() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM espace_legalrepresentation")
        links = int(cursor.fetchone()[0])
        cursor.execute("SELECT count(*) FROM audit_auditevent")
        audit = int(cursor.fetchone()[0])
    return links, audit


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE espace_beneficiary, espace_space")


def _schema_floor(scratch: Path) -> float:
    """What the tables alone cost: the rows the import wrote (beneficiaries,
    spaces, links), COPYed back in with nothing checked, commit included
    (indexes, deferred foreign-key checks)."""
    tables = ("espace_beneficiary", "espace_space", "espace_legalrepresentation")
    with connection.cursor() as cursor:
        for table in tables:
            with (
                (scratch / table).open("wb") as out,
                cursor.cursor.copy(f"COPY {table} TO STDOUT") as source,
            ):
                for chunk in source:
                    out.write(chunk)
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")

    def load() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for table in tables:
                with (
                    (scratch / table).open("rb") as source,
                    cursor.cursor.copy(f"COPY {table} FROM STDIN") as sink,
                ):
                    while chunk := source.read(1 << 20):
                        sink.write(chunk)

    seconds, _ = wall(load)
    return seconds


def _audit_alone(rows: int) -> float:
    """The importer's audit entries on their own, same batches (then removed)."""
    from audit.models import AuditEvent
    from audit.services import Entry, audit_append_bulk

    def append() -> None:
        for start in range(0, rows, 5_000):
            entries = [
                Entry(
                    action=AuditEvent.Action.CREATE,
                    target_type="espace.beneficiary",
                    target_id=str(n),
                    patient_id=n,
                    code="lc1.imported",
                )
                for n in range(start, min(start + 5_000, rows))
            ]
            with transaction.atomic():
                audit_append_bulk(entries)

    seconds, _ = wall(append)
    return seconds


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
