"""Master-key rotation (SEC-5, G-P3): 10,000 files and 10,000 field values.

"A rotation of 10,000 objects finishes with none left on the old key": every
object is written under v1, the keyring becomes "2:<new>,1:<old>", rotation
runs, then the old key is removed altogether and every object must still
decrypt. The 1 M projection is linear (10,000 → 1,000,000).
"""

from __future__ import annotations

import os
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps.registry import Apps
from django.core.files.base import ContentFile
from django.db import connection, models
from django.test import override_settings

from bench.common import Context, Row, compare, wall
from lib import crypto
from lib.fields import EncryptedTextField
from lib.rotation import rotate_model, rotate_storage
from lib.storage import EncryptedFileSystemStorage

OBJECTS = 10_000
MILLION = 1_000_000
G_P3 = "G-P3"

# A private registry: the throwaway model is invisible to migrations, to
# `apps.get_models()` (so to rotate_keys) and to system checks.
_bench_apps = Apps(installed_apps=[])


class BenchNote(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    body = EncryptedTextField()

    class Meta:
        app_label = "bench_tmp"
        db_table = "bench_tmp_note"
        apps = _bench_apps

    def __str__(self) -> str:
        return str(self.pk)


def run(ctx: Context) -> list[Row]:
    old, new = crypto.Keyring.generate_key(), crypto.Keyring.generate_key()
    v1, both, v2 = f"1:{old}", f"2:{new},1:{old}", f"2:{new}"
    rows = _rewrap_one(both)
    rows += _files(ctx, v1, both, v2)
    rows += _fields(ctx, v1, both, v2)
    return rows


def _rewrap_one(both: str) -> list[Row]:
    """One re-wrap in memory, against the two bare AES-GCM calls it makes."""
    ring = crypto.Keyring.parse(both)
    old_aead, new_aead = AESGCM(ring.keys[1]), AESGCM(ring.keys[2])
    _, wrapped = crypto.Keyring({1: ring.keys[1]}).wrap(os.urandom(32), "x")
    aad = b"x|kek-1"

    def bare(_i: int) -> bytes:
        dek = old_aead.decrypt(wrapped[:12], wrapped[12:], aad)
        return new_aead.encrypt(os.urandom(12), dek, aad)

    raw, rewrap = compare(
        bare, lambda _i: ring.rewrap(1, wrapped, "x"), reps=20_000, warmup=1000
    )
    return [Row("Keyring.rewrap 1 data key vs 2 AESGCM calls", rewrap, "us", raw)]


def _files(ctx: Context, v1: str, both: str, v2: str) -> list[Row]:
    root = ctx.scratch("rotation")
    try:
        storage = EncryptedFileSystemStorage(location=str(root))
        payload = os.urandom(1024)
        with override_settings(ENCRYPTION_KEYS=v1):
            # 100 folders of 100 files, like dated upload folders.
            created, _ = wall(
                lambda: [
                    storage.save(f"{i % 100:02d}/{i}.bin", ContentFile(payload))
                    for i in range(OBJECTS)
                ]
            )
        # Rotation meets files written long ago, not dirty pages still
        # waiting for their first write-back (block allocation, journal).
        os.sync()
        with override_settings(ENCRYPTION_KEYS=both):
            seconds, report = wall(lambda: rotate_storage(storage))
            left = sum(storage.key_version(n) != 2 for n in storage.walk())
        assert report.rewrapped == OBJECTS, report  # type: ignore[attr-defined]
        os.sync()
        baseline = _raw_header_rewrite(storage)
        with override_settings(ENCRYPTION_KEYS=v2):  # the old key is gone
            broken = sum(_unreadable(storage, n, payload) for n in storage.walk())
    finally:
        ctx.drop_scratch(root)
    rate = OBJECTS / seconds
    return [
        Row(f"create {OBJECTS:,} files of 1 KiB (v1)", OBJECTS / created, "/s"),
        Row(f"rotate_storage {OBJECTS:,} files vs bare pwrite", seconds, "s", baseline),
        Row("files rotated per second", rate, "/s"),
        Row(
            "files: projection for 1 M", MILLION / rate, "s", max_value=60, goal_id=G_P3
        ),
        Row("files left on v1 after rotation", left, "", max_value=0),
        Row("files not decrypting with v2 only", broken, "", max_value=0),
    ]


def _raw_header_rewrite(storage: EncryptedFileSystemStorage) -> float:
    """The same walk and 72-byte pread/pwrite/fsync per file, without crypto."""

    def rewrite() -> None:
        for name in storage.walk():
            fd = os.open(storage.path(name), os.O_RDWR)
            try:
                os.pwrite(fd, os.pread(fd, crypto.HEADER_BYTES, 0), 0)
                os.fsync(fd)
            finally:
                os.close(fd)

    return wall(rewrite)[0]


def _unreadable(storage: EncryptedFileSystemStorage, name: str, payload: bytes) -> bool:
    try:
        with storage.open(name) as file:
            return bool(file.read() != payload)
    except crypto.DecryptionError:
        return True


def _fields(ctx: Context, v1: str, both: str, v2: str) -> list[Row]:
    vendor = ctx.database()
    field = BenchNote._meta.get_field("body")
    assert isinstance(field, EncryptedTextField)
    with connection.schema_editor() as editor:
        editor.create_model(BenchNote)
    try:
        text = "Compte rendu de consultation, tension 12/8, suivi dans 3 mois. " * 3
        with override_settings(ENCRYPTION_KEYS=v1):
            created, _ = wall(
                lambda: BenchNote.objects.bulk_create(
                    [BenchNote(body=text) for _ in range(OBJECTS)], batch_size=1000
                )
            )
        with override_settings(ENCRYPTION_KEYS=both):
            seconds, report = wall(lambda: rotate_model(BenchNote, [field]))
            left = sum(
                crypto.text_key_version(value) != 2
                for value in BenchNote.objects.values_list("body", flat=True)
            )
        assert report.rewrapped == OBJECTS, report  # type: ignore[attr-defined]
        # Baseline: one raw UPDATE rewriting the same column of every row.
        table = connection.ops.quote_name(BenchNote._meta.db_table)
        with connection.cursor() as cursor:
            baseline, _ = wall(
                lambda: cursor.execute(f"UPDATE {table} SET body = body || ''")
            )
        with override_settings(ENCRYPTION_KEYS=v2):
            broken = sum(_wrong(note, text) for note in BenchNote.objects.iterator())
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(BenchNote)
    rate = OBJECTS / seconds
    return [
        Row(f"create {OBJECTS:,} encrypted values ({vendor})", OBJECTS / created, "/s"),
        Row(f"rotate_model {OBJECTS:,} values vs 1 UPDATE", seconds, "s", baseline),
        Row("values rotated per second", rate, "/s"),
        Row(
            "values: projection for 1 M",
            MILLION / rate,
            "s",
            max_value=60,
            goal_id=G_P3,
        ),
        Row("values left on v1 after rotation", left, "", max_value=0),
        Row("values not decrypting with v2 only", broken, "", max_value=0),
    ]


def _wrong(note: BenchNote, text: str) -> bool:
    try:
        return bool(note.body != text)
    except crypto.DecryptionError:
        return True
