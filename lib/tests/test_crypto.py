"""Envelope encryption primitives (SEC-5)."""

from __future__ import annotations

import io
import os

import pytest

from lib import crypto

KEY_1 = "1:" + crypto.Keyring.generate_key()
KEY_2 = "2:" + crypto.Keyring.generate_key()


@pytest.fixture
def two_keys(settings: object) -> None:
    settings.ENCRYPTION_KEYS = f"{KEY_2},{KEY_1}"  # type: ignore[attr-defined]


def test_seal_round_trips_and_binds_the_object_id() -> None:
    sealed = crypto.seal(b"compte rendu", "dmp.document:1")
    assert b"compte rendu" not in sealed
    assert crypto.unseal(sealed, "dmp.document:1") == b"compte rendu"
    with pytest.raises(crypto.DecryptionError):
        crypto.unseal(sealed, "dmp.document:2")


def test_each_object_gets_a_fresh_data_key() -> None:
    a = crypto.seal(b"same", "x")
    b = crypto.seal(b"same", "x")
    assert a[8 : 8 + crypto.WRAPPED_BYTES] != b[8 : 8 + crypto.WRAPPED_BYTES]
    assert a != b


def test_tampered_ciphertext_is_refused() -> None:
    sealed = bytearray(crypto.seal(b"resultat", "x"))
    sealed[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.unseal(bytes(sealed), "x")


@pytest.mark.parametrize(
    "size",
    [0, 1, 1000, crypto.CHUNK_SIZE - 1, crypto.CHUNK_SIZE, 2 * crypto.CHUNK_SIZE + 3],
)
def test_streams_round_trip_at_chunk_boundaries(size: int) -> None:
    data = os.urandom(size)
    blob = b"".join(crypto.encrypt_chunks([data[:10], data[10:]], "f"))
    assert crypto.plaintext_size(len(blob), crypto.CHUNK_SIZE) == size
    assert b"".join(crypto.decrypt_chunks(io.BytesIO(blob).read, "f")) == data


def test_truncated_stream_is_refused_even_at_a_chunk_boundary() -> None:
    data = os.urandom(2 * crypto.CHUNK_SIZE)
    blob = b"".join(crypto.encrypt_chunks([data], "f"))
    cut = crypto.HEADER_BYTES + crypto.CHUNK_SIZE + crypto.TAG_BYTES
    with pytest.raises(crypto.DecryptionError):
        b"".join(crypto.decrypt_chunks(io.BytesIO(blob[:cut]).read, "f"))


def test_old_key_still_reads_and_rewrap_moves_to_the_new_key(settings: object) -> None:
    settings.ENCRYPTION_KEYS = KEY_1  # type: ignore[attr-defined]
    text = crypto.seal_text("allergie", "o")
    assert crypto.text_key_version(text) == 1
    settings.ENCRYPTION_KEYS = f"{KEY_2},{KEY_1}"  # type: ignore[attr-defined]
    assert crypto.unseal_text(text, "o") == "allergie"
    rewrapped = crypto.rewrap_text(text, "o")
    assert crypto.text_key_version(rewrapped) == 2
    settings.ENCRYPTION_KEYS = KEY_2  # type: ignore[attr-defined]
    assert crypto.unseal_text(rewrapped, "o") == "allergie"
    with pytest.raises(crypto.DecryptionError):
        crypto.unseal_text(text, "o")  # its key is gone


@pytest.mark.parametrize("value", ["", "1:short", "x:AAAA", "1:" + "A" * 10])
def test_bad_key_settings_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        crypto.Keyring.parse(value)
