"""The audit log: append-only, hash-chained, verified (SEC-4)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from audit.models import AuditEvent
from audit.services import Entry, audit_record, audit_record_many
from espace.models import User


def _append(n: int, actor: User | None = None) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=AuditEvent.Action.READ,
                target=("dmp.document", i),
                patient=7,
            )


@contextmanager
def _tampering() -> Iterator[None]:
    """Bypass the append-only trigger, as a rogue DBA could."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = origin")
    else:
        yield


def _verify() -> tuple[int, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except SystemExit as exit:
        return int(exit.code or 0), err.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_entries_form_a_chain_and_verify_clean(alice: User) -> None:
    _append(5, alice)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert events[-1].actor_role == "patient"
    assert _verify()[0] == 0


@pytest.mark.django_db
def test_entries_hold_codes_never_free_text() -> None:
    event = audit_record(actor=None, action="R", target=("dmp.document", 1))
    event.code = "Diabète de type 2"
    with pytest.raises(Exception, match="Codes only"):
        event.full_clean()


@pytest.mark.django_db
def test_verify_catches_an_edited_entry() -> None:
    _append(6)
    with _tampering():
        AuditEvent.objects.filter(seq=3).update(target_id="999")
    code, message = _verify()
    assert code == 1
    assert "seq=3" in message and "modifié" in message


@pytest.mark.django_db
def test_verify_catches_a_deleted_entry() -> None:
    _append(6)
    with _tampering():
        AuditEvent.objects.filter(seq=4).delete()
    code, message = _verify()
    assert code == 1
    assert "seq=4" in message and "manquante" in message


@pytest.mark.django_db
def test_verify_catches_swapped_entries() -> None:
    _append(6)
    with _tampering():
        AuditEvent.objects.filter(seq=2).update(seq=-2)
        AuditEvent.objects.filter(seq=5).update(seq=2)
        AuditEvent.objects.filter(seq=-2).update(seq=5)
    code, message = _verify()
    assert code == 1
    assert "seq=2" in message


@pytest.mark.django_db
def test_verify_catches_an_inserted_entry() -> None:
    _append(3)
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None
    forged = AuditEvent(
        seq=4,
        recorded_at=last.recorded_at,
        action="R",
        actor_role="system",
        target_type="x",
        prev_hash=last.hash,
        hash="0" * 64,
    )
    forged.save()
    code, message = _verify()
    assert code == 1 and "seq=4" in message


@pytest.mark.django_db
def test_batches_append_in_one_go_and_keep_the_chain() -> None:
    _append(2)
    audit_record_many(
        [
            Entry(action="E", target_type="espace.space", target_id=str(i))
            for i in range(500)
        ]
    )
    _append(1)
    assert AuditEvent.objects.count() == 503
    assert _verify()[0] == 0


@pytest.mark.django_db
def test_the_database_refuses_updates_and_deletes(postgres: None) -> None:
    _append(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(code="x")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_never_fork_the_chain(postgres: None) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            _append(200)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEvent.objects.count() == 1600
    assert _verify()[0] == 0
