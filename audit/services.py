"""The one way to write the audit log (SEC-4, STYLE R13)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.models import AuditEvent
from lib.http import client_address, request_id

if TYPE_CHECKING:
    from espace.models import User

GENESIS = "0" * 64
# Any constant: the key of the PostgreSQL advisory lock serialising appends.
_CHAIN_LOCK = 0x4D45_5341_5544  # "MESAUD"


@dataclass(frozen=True)
class Entry:
    action: str
    target_type: str
    target_id: str = ""
    actor_id: int | None = None
    actor_role: str = "system"
    patient_id: int | None = None
    outcome: str = AuditEvent.Outcome.SUCCESS
    code: str = ""
    remote_addr: str | None = None
    request_id: str = ""


def _target(target: models.Model | tuple[str, Any] | str) -> tuple[str, str]:
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    if isinstance(target, tuple):
        return target[0], str(target[1])
    return target, ""


def _role(actor: User | None) -> str:
    if actor is None:
        return "system"
    return str(getattr(actor, "role", "") or "system")


def _lock_chain() -> tuple[int, str]:
    """Serialise appends and return the chain's (last seq, last hash).

    PostgreSQL: a transaction-level advisory lock, held until the caller's
    transaction ends, so that concurrent writers never fork the chain.
    SQLite: transactions are IMMEDIATE (settings), so the write lock is held.
    """
    if connection.vendor == "postgresql":
        # Lock and read in one round trip: two statements of one simple query,
        # each with its own snapshot, so the read sees the head as of *after*
        # the lock was granted (READ COMMITTED).
        with connection.cursor() as cursor:
            raw = cursor.cursor
            raw.execute(
                f"SELECT pg_advisory_xact_lock({_CHAIN_LOCK}); "  # noqa: S608 - a constant
                "SELECT seq, hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1"
            )
            raw.nextset()
            row = raw.fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return last if last else (0, GENESIS)


def _build(entry: Entry, seq: int, prev_hash: str, now: Any) -> AuditEvent:
    values = {
        "seq": seq,
        "recorded_at": now,
        "action": entry.action,
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "patient_id": entry.patient_id,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "outcome": str(entry.outcome),
        "code": entry.code,
        "remote_addr": entry.remote_addr or None,
        "request_id": entry.request_id,
        "prev_hash": prev_hash,
    }
    return AuditEvent(**values, hash=AuditEvent.compute_hash(values))


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | tuple[str, Any] | str,
    patient: models.Model | int | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    code: str = "",
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one entry inside the caller's transaction.

    `target` is a model instance, a `(type, id)` pair or a bare type code;
    `patient` the Beneficiary concerned (or its id). Codes only, no text.
    """
    target_type, target_id = _target(target)
    patient_id = patient.pk if isinstance(patient, models.Model) else patient
    entry = Entry(
        action=action,
        target_type=target_type,
        target_id=target_id,
        actor_id=actor.pk if actor is not None else None,
        actor_role=_role(actor),
        patient_id=patient_id,
        outcome=outcome,
        code=code,
        remote_addr=client_address(request) or None,
        request_id=request_id(request),
    )
    return audit_record_many([entry])[0]


def audit_record_many(entries: Sequence[Entry]) -> list[AuditEvent]:
    """Append many entries under one lock (batch jobs: one INSERT per batch)."""
    with transaction.atomic():
        last_seq, prev_hash = _lock_chain()
        now = timezone.now()
        events = []
        for offset, entry in enumerate(entries, start=1):
            event = _build(entry, last_seq + offset, prev_hash, now)
            prev_hash = event.hash
            events.append(event)
        if len(events) == 1 and connection.vendor == "postgresql":
            _insert_one(events[0])  # every read of health data: G-P4, G-P7
        else:
            AuditEvent.objects.bulk_create(events, batch_size=5000)
    return events


def _insert_one(event: AuditEvent) -> None:
    """One entry in one plain INSERT (the ORM's bulk path costs more than the
    statement itself for a single row)."""
    values = [getattr(event, name) for name in _COPY_COLUMNS]
    placeholders = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO audit_auditevent ({', '.join(_COPY_COLUMNS)}) "  # noqa: S608 - constant columns
            f"VALUES ({placeholders}) RETURNING id",
            values,
        )
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias


_COPY_COLUMNS = (*AuditEvent.CANONICAL_FIELDS, "hash")


def audit_append_bulk(entries: Sequence[Entry]) -> int:
    """Append many entries for a batch job; returns how many.

    Same chain, same lock as `audit_record_many`, without building model
    instances: on PostgreSQL the rows go in with one COPY (SPEC §10: a job over
    a million spaces writes a million entries).
    """
    if connection.vendor != "postgresql":
        return len(audit_record_many(entries))
    from audit.models import canonical_hash, canonical_time

    with transaction.atomic():
        last_seq, prev_hash = _lock_chain()
        now = canonical_time(timezone.now())  # one instant, formatted once
        rows: list[tuple[Any, ...]] = []
        for seq, entry in enumerate(entries, start=last_seq + 1):
            row: tuple[Any, ...] = (
                seq,
                now,
                entry.action,
                entry.actor_id,
                entry.actor_role,
                entry.patient_id,
                entry.target_type,
                entry.target_id,
                str(entry.outcome),
                entry.code,
                entry.remote_addr or None,
                entry.request_id,
                prev_hash,
            )
            prev_hash = canonical_hash(row)
            rows.append((*row, prev_hash))
        columns = ", ".join(_COPY_COLUMNS)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    return len(rows)
