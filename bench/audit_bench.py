"""Hash-chained audit log (SEC-4, G-P7) against plain inserts of the same row.

The baseline row has the same columns, values and indexes (it goes into the
same table, with a negative `seq` so that it never meets the chain), but no
advisory lock, no read of the chain's last entry and no HMAC.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import GENESIS, Entry, audit_record, audit_record_many
from bench.common import Context, Row, compare, wall

APPENDS = 2_000
APPEND_WARMUP = 100
BATCH = 1_000
BATCHES = 10
VERIFY = 100_000
FILL_BATCH = 5_000
MILLION = 1_000_000
G_P7 = "G-P7"


def run(ctx: Context) -> list[Row]:
    vendor = ctx.database()
    _clear()
    try:
        rows = _single(vendor)
        _clear()
        rows += _batches()
        _clear()
        rows += _verify()
    finally:
        _clear()
    return rows


def _clear() -> None:
    # The table refuses DELETE on PostgreSQL (append-only trigger, SEC-4);
    # TRUNCATE is not a row operation and fires no row trigger.
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {table} RESTART IDENTITY")
        else:
            cursor.execute(f"DELETE FROM {table}")


def _plain_events(count: int, start: int) -> Iterator[AuditEvent]:
    """Rows shaped like audit_record's, hashed in advance, seq < 0."""
    now = timezone.now()
    for n in range(start, start + count):
        values = {
            "seq": -n,
            "recorded_at": now,
            "action": AuditEvent.Action.READ.value,
            "actor_id": None,
            "actor_role": "system",
            "patient_id": n,
            "target_type": "dmp.document",
            "target_id": str(n),
            "outcome": AuditEvent.Outcome.SUCCESS.value,
            "code": "",
            "remote_addr": None,
            "request_id": "",
            "prev_hash": GENESIS,
        }
        yield AuditEvent(**values, hash=AuditEvent.compute_hash(values))


def _single(vendor: str) -> list[Row]:
    plain = iter(list(_plain_events(APPENDS + APPEND_WARMUP, 1)))

    def insert(_i: int) -> None:
        with transaction.atomic():
            AuditEvent.objects.bulk_create([next(plain)])

    def append(i: int) -> None:
        n = abs(i) + 1
        audit_record(
            actor=None,
            action=AuditEvent.Action.READ,
            target=("dmp.document", n),
            patient=n,
        )

    raw, ours = compare(insert, append, reps=APPENDS, warmup=APPEND_WARMUP)
    return [
        Row(
            f"audit_record, 1 per transaction ({vendor})",
            ours,
            "us",
            raw,
            max_ratio=2.0,
            goal_id=G_P7,
        )
    ]


def _entries(count: int) -> list[Entry]:
    return [
        Entry(
            action=AuditEvent.Action.READ,
            target_type="dmp.document",
            target_id=str(n),
            patient_id=n,
        )
        for n in range(1, count + 1)
    ]


def _batches() -> list[Row]:
    entries = _entries(BATCH)
    plain = iter(
        [list(_plain_events(BATCH, 1 + b * BATCH)) for b in range(BATCHES + 1)]
    )

    def insert(_i: int) -> None:
        with transaction.atomic():
            AuditEvent.objects.bulk_create(next(plain), batch_size=5000)

    raw, ours = compare(
        insert, lambda _i: audit_record_many(entries), reps=BATCHES, warmup=1
    )
    return [
        Row(
            f"audit_record_many, {BATCH:,}/batch (per entry)",
            ours / BATCH,
            "us",
            raw / BATCH,
            max_ratio=2.0,
            goal_id=G_P7,
        )
    ]


def _verify() -> list[Row]:
    entries = _entries(FILL_BATCH)
    filled, _ = wall(
        lambda: [audit_record_many(entries) for _ in range(VERIFY // FILL_BATCH)]
    )
    fields = ["id", *AuditEvent.CANONICAL_FIELDS, "hash"]

    def read() -> None:
        rows = AuditEvent.objects.order_by("seq").values(*fields)
        for _ in rows.iterator(chunk_size=5000):
            pass

    read()  # warm the cache: both passes then read from memory
    baseline, _ = wall(read)
    seconds, results = wall(lambda: list(audit_chain_verify()))
    assert results == [VERIFY], results[:1]
    return [
        Row(f"fill {VERIFY:,} entries ({FILL_BATCH:,}/batch)", VERIFY / filled, "/s"),
        Row(f"audit_chain_verify {VERIFY:,} vs plain read", seconds, "s", baseline),
        Row("verify: entries per second", VERIFY / seconds, "/s"),
        Row(
            "verify: projection for 1 M",
            seconds * MILLION / VERIFY,
            "s",
            max_value=10,
            goal_id=G_P7,
        ),
    ]
