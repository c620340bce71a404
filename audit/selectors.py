"""Reading and checking the audit chain (SEC-4)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from audit.models import AuditEvent
from audit.services import GENESIS


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        return f"entrée seq={self.seq} (id={self.event_id}) : {self.reason}"


def audit_chain_verify(*, chunk_size: int = 5000) -> Iterator[ChainProblem | int]:
    """Walk the chain in order; yield the first problem found, else the count.

    Edited entries fail their HMAC; deleted ones leave a gap in `seq`; inserted
    or reordered ones break the link to the previous hash.
    """
    fields = ["id", *AuditEvent.CANONICAL_FIELDS, "hash"]
    expected_seq = 1
    prev_hash = GENESIS
    rows = (
        AuditEvent.objects.order_by("seq")
        .values(*fields)
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        if row["seq"] != expected_seq:
            yield ChainProblem(
                expected_seq, None, f"entrée manquante (trouvé seq={row['seq']})"
            )
            return
        if row["prev_hash"] != prev_hash:
            yield ChainProblem(
                row["seq"], row["id"], "lien vers l'entrée précédente rompu"
            )
            return
        if AuditEvent.compute_hash(row) != row["hash"]:
            yield ChainProblem(
                row["seq"], row["id"], "contenu modifié (empreinte invalide)"
            )
            return
        prev_hash = row["hash"]
        expected_seq += 1
    yield expected_seq - 1
