"""Envelope encryption (lib.crypto, lib.storage) against raw AES-GCM (G-P3).

The baseline is one `AESGCM.encrypt` of the same bytes under a fixed key with a
fresh nonce: what any at-rest encryption costs at least. The envelope adds a
fresh data key per object, its wrap under the master key, a header and, for
files, chunking and Django's storage path.
"""

from __future__ import annotations

import collections
import io
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.files.base import ContentFile

from bench.common import Context, Row, compare
from lib import crypto
from lib.storage import EncryptedFileSystemStorage

KIB = 1024
MIB = 1024 * KIB
# (label, size, repetitions, warm-up): about 0.3 s per size and side.
SIZES = [
    ("1 KiB", KIB, 4000, 400),
    ("64 KiB", 64 * KIB, 1000, 100),
    ("1 MiB", MIB, 120, 10),
    ("10 MiB", 10 * MIB, 12, 2),
]
STORE_SIZES = [("1 MiB", MIB, 80, 8), ("10 MiB", 10 * MIB, 12, 2)]
OBJECT_ID = "dmp/2026/11/0f8c2f6e-5a3b-4c1d-9e7f-3b2a1c0d9e8f.pdf"
G_P3 = "G-P3"


def _drain(iterator: object) -> None:
    collections.deque(iterator, maxlen=0)  # type: ignore[call-overload]


def run(ctx: Context) -> list[Row]:
    rows: list[Row] = []
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    aad = OBJECT_ID.encode()
    overhead: dict[str, float] = {}

    # (a) one object in memory
    for label, size, reps, warmup in SIZES:
        data = os.urandom(size)
        raw, sealed = compare(
            lambda _i: aead.encrypt(os.urandom(12), data, aad),  # noqa: B023
            lambda _i: crypto.seal(data, OBJECT_ID),  # noqa: B023
            reps=reps,
            warmup=warmup,
        )
        rows.append(Row(f"seal {label}", sealed, "us", raw))
        raw, chunked = compare(
            lambda _i: aead.encrypt(os.urandom(12), data, aad),  # noqa: B023
            lambda _i: _drain(crypto.encrypt_chunks([data], OBJECT_ID)),  # noqa: B023
            reps=reps,
            warmup=warmup,
        )
        rows.append(Row(f"encrypt_chunks {label}", chunked, "us", raw))
        if size == KIB:
            overhead = {"seal": sealed - raw, "encrypt_chunks": chunked - raw}

    for name, extra in overhead.items():
        rows.append(
            Row(
                f"envelope overhead/object ({name}, 1 KiB)",
                max(extra, 0.0),
                "us",
                max_value=5.0,
                goal_id=G_P3,
            )
        )

    # (c) decryption in memory
    for label, size, reps, warmup in SIZES:
        data = os.urandom(size)
        nonce = os.urandom(12)
        raw_ct = aead.encrypt(nonce, data, aad)
        if size == KIB:
            sealed_ct = crypto.seal(data, OBJECT_ID)
            raw, ours = compare(
                lambda _i: aead.decrypt(nonce, raw_ct, aad),  # noqa: B023
                lambda _i: crypto.unseal(sealed_ct, OBJECT_ID),  # noqa: B023
                reps=reps,
                warmup=warmup,
            )
            rows.append(Row(f"unseal {label}", ours, "us", raw))
        stream = b"".join(crypto.encrypt_chunks([data], OBJECT_ID))
        raw, ours = compare(
            lambda _i: aead.decrypt(nonce, raw_ct, aad),  # noqa: B023
            lambda _i: _drain(
                crypto.decrypt_chunks(io.BytesIO(stream).read, OBJECT_ID)  # noqa: B023
            ),
            reps=reps,
            warmup=warmup,
        )
        rows.append(Row(f"decrypt_chunks {label}", ours, "us", raw))

    rows += _storage(ctx, aead)
    return rows


def _storage(ctx: Context, aead: AESGCM) -> list[Row]:
    """(b) and (c) through EncryptedFileSystemStorage on a scratch directory."""
    rows: list[Row] = []
    root = ctx.scratch("storage")
    try:
        storage = EncryptedFileSystemStorage(location=str(root / "enc"))
        plain_dir = root / "plain"
        plain_dir.mkdir()

        for label, size, reps, warmup in STORE_SIZES:
            data = os.urandom(size)

            def raw_encrypt_write(i: int, data: bytes = data) -> None:
                nonce = os.urandom(12)
                with open(plain_dir / f"{i}.bin", "wb") as out:
                    out.write(nonce)
                    out.write(aead.encrypt(nonce, data, OBJECT_ID.encode()))

            def plain_write(i: int, data: bytes = data) -> None:
                with open(plain_dir / f"{i}.bin", "wb") as out:
                    out.write(data)

            def store(i: int, data: bytes = data) -> None:
                storage.save(f"doc/{i}.bin", ContentFile(data))

            def clean(i: int) -> None:
                _unlink(plain_dir / f"{i}.bin")
                _unlink(Path(storage.path(f"doc/{i}.bin")))

            raw, ours = compare(
                raw_encrypt_write, store, reps=reps, warmup=warmup, between=clean
            )
            goal = {"max_ratio": 1.5, "goal_id": G_P3} if size == MIB else {}
            rows.append(
                Row(
                    f"storage.save {label} vs encrypt+write",
                    ours,
                    "us",
                    raw,
                    **goal,  # type: ignore[arg-type]
                )
            )
            if size == 10 * MIB:
                # G-P8 also counts validation and the magic check; this is
                # only its encryption + storage share.
                raw, ours = compare(
                    plain_write, store, reps=reps, warmup=warmup, between=clean
                )
                rows.append(
                    Row(
                        f"storage.save {label} vs plain write",
                        ours,
                        "us",
                        raw,
                        max_ratio=2.0,
                        goal_id="G-P8 part",
                    )
                )

        # (c) reading back: the stream path views use, and a whole `read()`.
        for label, size, reps, warmup in STORE_SIZES:
            data = os.urandom(size)
            name = storage.save(f"read/{size}.bin", ContentFile(data))
            nonce = os.urandom(12)
            raw_path = plain_dir / f"read-{size}.bin"
            raw_path.write_bytes(nonce + aead.encrypt(nonce, data, OBJECT_ID.encode()))

            def raw_read(_i: int, raw_path: Path = raw_path) -> bytes:
                blob = raw_path.read_bytes()
                return aead.decrypt(blob[:12], blob[12:], OBJECT_ID.encode())

            def read_chunks(_i: int, name: str = name) -> None:
                with storage.open(name) as file:
                    _drain(file.chunks())

            def read_all(_i: int, name: str = name) -> bytes:
                with storage.open(name) as file:
                    return file.read()

            assert read_all(0) == data
            raw, ours = compare(raw_read, read_chunks, reps=reps, warmup=warmup)
            rows.append(
                Row(f"storage.open+chunks() {label} vs read+decrypt", ours, "us", raw)
            )
            raw, ours = compare(raw_read, read_all, reps=reps, warmup=warmup)
            rows.append(
                Row(f"storage.open+read() {label} vs read+decrypt", ours, "us", raw)
            )
    finally:
        ctx.drop_scratch(root)
    return rows


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)
