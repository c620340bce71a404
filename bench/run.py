"""Run the speed benches: `python bench/run.py [crypto] [rotation] [audit]`.

Prints figures against a baseline measured in the same run (B4 of the
security-performance reference). Exit status 0 whatever the figures; 1 only
when a bench crashed, 2 for an unknown bench name.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
# `python bench/run.py` puts bench/ first on the path; the project root must
# come first instead, or nothing finds `config` and the apps.
sys.path[:1] = [str(ROOT)]

BENCHES = {
    "crypto": ("envelope encryption vs raw AES-GCM (G-P3)", "bench.crypto_bench"),
    "rotation": (
        "master-key rotation of 10,000 objects (G-P3)",
        "bench.rotation_bench",
    ),
    "audit": ("hash-chained audit append and verify (G-P7)", "bench.audit_bench"),
    "letters": (
        "information letter PDFs vs bare WeasyPrint (LC-2, G-P2)",
        "bench.letters_bench",
    ),
    "auto_open": (
        "automatic opening of due spaces vs a raw UPDATE (LC-5, G-P1)",
        "bench.auto_open_bench",
    ),
    "import": (
        "beneficiary import vs a raw COPY of the same file (LC-1, G-P9)",
        "bench.import_bench",
    ),
    "campaign": (
        "prevention campaign write vs a raw INSERT … SELECT (MSG-4)",
        "bench.campaign_bench",
    ),
    "agenda": (
        "preventive calendars of 100,000 people vs reading their birth dates (AG-1)",
        "bench.agenda_bench",
    ),
    "dmp": (
        "documents list API vs plain DRF (G-P4), 10 MiB deposit vs raw write (G-P8)",
        "bench.dmp_bench",
    ),
    "reminders": (
        "agenda reminder job over 1,000,000 appointments vs a raw SELECT of the due rows (AG-2)",
        "bench.reminders_bench",
    ),
    "messagerie": (
        "patient messaging inbox, 10 vs 5,000 messages: constant queries (G-P4)",
        "bench.messagerie_inbox_bench",
    ),
}

# Fixed bench keys, so that `make bench` (config.settings) needs no secrets;
# the benches generate their own master keys for rotation.
BENCH_SECRETS = {
    "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
    "ENCRYPTION_KEYS": "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "AUDIT_CHAIN_KEY": "bench-audit-chain-key",
    "CODE_HASH_KEY": "bench-code-hash-key",
}


def _bench_database(scratch: Path) -> str:
    """Point DATABASE_URL at a dedicated database; return a note on it.

    PostgreSQL: `<name>_bench` (or the given name if it already ends in
    "bench"), created when missing, so a dev database is never touched.
    Anything else: a SQLite file in the scratch directory.
    """
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        path = scratch / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
        return "SQLite (temporary file; set DATABASE_URL for PostgreSQL)"
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "mes"
    bench_name = name if name.endswith("bench") else f"{name}_bench"
    _create_postgres_database(url, bench_name)
    os.environ["DATABASE_URL"] = parts._replace(path=f"/{bench_name}").geturl()
    return (
        f"PostgreSQL database {bench_name!r} on {parts.hostname}:{parts.port or 5432}"
    )


def _create_postgres_database(url: str, name: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    with psycopg.connect(
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup_django(scratch: Path) -> str:
    for key, value in BENCH_SECRETS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    # Caches, outboxes and the like land in the scratch directory, not var/.
    os.environ["VAR_DIR"] = str(scratch / "var")
    note = _bench_database(scratch)

    import django
    from django.conf import settings

    django.setup()
    # DEBUG keeps every query in memory: a cost the benches must not measure.
    settings.DEBUG = False
    return note


def _describe(note: str) -> None:
    import cryptography
    import django
    from django.conf import settings

    print(
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"cryptography {cryptography.__version__}, {os.cpu_count()} CPU(s), "
        f"settings {settings.SETTINGS_MODULE}"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"database: {note}; load average {load} (other processes skew figures)")
    print(
        "value/baseline are medians (µs) unless marked; "
        "figures, not tests: a MISS does not fail the run."
    )


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        print(
            f"unknown bench(es): {', '.join(unknown)}; choose from {', '.join(BENCHES)}"
        )
        return 2

    with tempfile.TemporaryDirectory(prefix="mes-bench-") as tmp:
        scratch = Path(tmp)
        note = _setup_django(scratch)
        _describe(note)

        from bench.common import Context, print_table

        ctx = Context(root=scratch, database_note=note)
        crashed = []
        for name in names:
            title, module_name = BENCHES[name]
            started = time.perf_counter()
            try:
                module = importlib.import_module(module_name)
                rows = module.run(ctx)
            except Exception:
                traceback.print_exc()
                crashed.append(name)
                continue
            elapsed = time.perf_counter() - started
            print_table(f"{name}: {title} [{elapsed:.0f} s]", rows)

        from django.db import connections

        connections.close_all()
    if crashed:
        print(f"\ncrashed: {', '.join(crashed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
