"""Encrypted file storage and rotation of its data keys (SEC-5, DMP-3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from lib import crypto
from lib.rotation import rotate_storage
from lib.storage import EncryptedFileSystemStorage

PLAIN = b"Compte rendu operatoire : appendicectomie sans complication. " * 50


def test_files_are_encrypted_on_disk_and_read_back() -> None:
    name = default_storage.save("docs/cr.txt", ContentFile(PLAIN))
    path = Path(default_storage.path(name))
    assert PLAIN[:40] not in path.read_bytes()
    assert default_storage.size(name) == len(PLAIN)
    with default_storage.open(name) as handle:
        assert handle.read() == PLAIN


def test_large_files_stream_in_chunks() -> None:
    data = os.urandom(3 * crypto.CHUNK_SIZE + 17)
    name = default_storage.save("big.bin", ContentFile(data))
    with default_storage.open(name) as handle:
        first = handle.read(1000)
        rest = handle.read()
    assert first + rest == data


def test_a_file_renamed_on_disk_does_not_decrypt() -> None:
    name = default_storage.save("a.txt", ContentFile(PLAIN))
    os.replace(default_storage.path(name), default_storage.path("b.txt"))
    with pytest.raises(crypto.DecryptionError), default_storage.open("b.txt") as handle:
        handle.read()


def test_urls_are_never_handed_out() -> None:
    name = default_storage.save("c.txt", ContentFile(b"x"))
    with pytest.raises(NotImplementedError):
        default_storage.url(name)


def test_files_are_opened_read_only() -> None:
    name = default_storage.save("d.txt", ContentFile(b"x"))
    with pytest.raises(ValueError):
        default_storage.open(name, "wb")


def test_rotation_rewraps_every_file_in_place(settings: object, tmp_path: Path) -> None:
    old = "1:" + crypto.Keyring.generate_key()
    new = "2:" + crypto.Keyring.generate_key()
    settings.ENCRYPTION_KEYS = old  # type: ignore[attr-defined]
    storage = EncryptedFileSystemStorage(location=str(tmp_path / "rot"))
    names = [
        storage.save(f"p{i % 7}/f{i}.txt", ContentFile(PLAIN + str(i).encode()))
        for i in range(300)
    ]
    settings.ENCRYPTION_KEYS = f"{new},{old}"  # type: ignore[attr-defined]
    report = rotate_storage(storage)
    assert (report.rewrapped, report.current) == (300, 0)
    assert rotate_storage(storage).rewrapped == 0  # idempotent
    settings.ENCRYPTION_KEYS = new  # type: ignore[attr-defined]  # old key removed
    for i, name in enumerate(names):
        assert storage.key_version(name) == 2
        with storage.open(name) as handle:
            assert handle.read() == PLAIN + str(i).encode()


def test_a_name_taken_meanwhile_gets_a_new_name_and_still_decrypts(
    tmp_path: Path,
) -> None:
    storage = EncryptedFileSystemStorage(location=str(tmp_path / "race"))
    first = storage.save("doc.pdf", ContentFile(b"first"))
    # As if another upload took the name between get_available_name and _save:
    second = storage._save("doc.pdf", ContentFile(b"second"))
    assert second != first
    with storage.open(first) as a, storage.open(second) as b:
        assert (a.read(), b.read()) == (b"first", b"second")


def test_a_tampered_chunk_size_is_refused(tmp_path: Path) -> None:
    storage = EncryptedFileSystemStorage(location=str(tmp_path / "cs"))
    name = storage.save("x.bin", ContentFile(b"abc"))
    path = Path(storage.path(name))
    data = bytearray(path.read_bytes())
    data[crypto.HEADER_BYTES - 4 : crypto.HEADER_BYTES] = (2**31).to_bytes(4, "big")
    path.write_bytes(bytes(data))
    with pytest.raises(crypto.DecryptionError), storage.open(name) as handle:
        handle.read()
