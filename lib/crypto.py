"""Envelope encryption at rest (SEC-5, DMP-3, MSG-3).

Every object gets a fresh 256-bit data key (DEK). The object is encrypted with
AES-256-GCM under its DEK, with the object id as associated data, so that a
ciphertext moved to another object does not decrypt. The DEK is wrapped (AES-GCM
again) by a versioned master key (KEK) read from the environment; the wrap's
associated data binds the object id and the KEK version.

Rotation only re-wraps DEKs: the bulk of the ciphertext never changes.

Two containers:
- `seal`/`unseal`: one-shot, for short values (encrypted text fields);
- `encrypt_chunks`/`decrypt_chunks`: streaming, for files (fixed header, then
  chunks of at most CHUNK_SIZE bytes, each with its own tag). A chunk's nonce is
  its index plus a "last chunk" flag: safe because each DEK encrypts one object
  only, and the flag stops truncation at a chunk boundary.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"MES\x01"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES  # 60
CHUNK_SIZE = 1024 * 1024
MAX_CHUNK_SIZE = 16 * CHUNK_SIZE
# magic, KEK version, wrapped DEK, chunk size
_HEADER = struct.Struct(f">4sI{WRAPPED_BYTES}sI")
HEADER_BYTES = _HEADER.size  # 72
TEXT_PREFIX = "mes1:"


class DecryptionError(Exception):
    """The ciphertext is damaged, was moved, or its master key is gone."""


@dataclass(frozen=True)
class Keyring:
    """Versioned master keys; the highest version wraps new data keys."""

    keys: dict[int, bytes]
    _aeads: dict[int, AESGCM] = field(default_factory=dict, compare=False, repr=False)

    @property
    def primary(self) -> int:
        return max(self.keys)

    def _aead(self, version: int) -> AESGCM:
        aead = self._aeads.get(version)
        if aead is None:
            key = self.keys.get(version)
            if key is None:
                raise DecryptionError(f"master key version {version} is not configured")
            aead = self._aeads[version] = AESGCM(key)
        return aead

    @classmethod
    def parse(cls, value: str) -> Keyring:
        """Parse `"2:<base64>,1:<base64>"` (each key 32 random bytes)."""
        keys: dict[int, bytes] = {}
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            version_text, _, b64 = item.partition(":")
            try:
                version = int(version_text)
                key = base64.b64decode(b64, validate=True)
            except (ValueError, binascii.Error) as exc:
                raise ValueError("ENCRYPTION_KEYS: expected 'version:base64'") from exc
            if len(key) != KEY_BYTES or not 0 < version < 2**32:
                raise ValueError("ENCRYPTION_KEYS: each key must be 32 bytes")
            keys[version] = key
        if not keys:
            raise ValueError("ENCRYPTION_KEYS is empty")
        return cls(keys)

    @staticmethod
    def generate_key() -> str:
        return base64.b64encode(os.urandom(KEY_BYTES)).decode()

    def _aad(self, object_id: str, version: int) -> bytes:
        return f"{object_id}|kek-{version}".encode()

    def wrap(self, dek: bytes, object_id: str) -> tuple[int, bytes]:
        version = self.primary
        nonce = os.urandom(NONCE_BYTES)
        wrapped = self._aead(version).encrypt(nonce, dek, self._aad(object_id, version))
        return version, nonce + wrapped

    def unwrap(self, version: int, wrapped: bytes, object_id: str) -> bytes:
        aead = self._aead(version)
        try:
            return aead.decrypt(
                wrapped[:NONCE_BYTES],
                wrapped[NONCE_BYTES:],
                self._aad(object_id, version),
            )
        except InvalidTag as exc:
            raise DecryptionError("data key does not unwrap") from exc

    def rewrap(self, version: int, wrapped: bytes, object_id: str) -> tuple[int, bytes]:
        if version == self.primary:
            return version, wrapped
        return self.wrap(self.unwrap(version, wrapped, object_id), object_id)


@lru_cache(maxsize=4)
def _keyring_for(value: str) -> Keyring:
    return Keyring.parse(value)


def keyring() -> Keyring:
    from django.conf import settings

    return _keyring_for(settings.ENCRYPTION_KEYS)


# ---------------------------------------------------------------- one-shot


def seal(plaintext: bytes, object_id: str, ring: Keyring | None = None) -> bytearray:
    ring = ring or keyring()
    dek = AESGCM.generate_key(bit_length=256)
    version, wrapped = ring.wrap(dek, object_id)
    nonce = os.urandom(NONCE_BYTES)
    # One buffer, encrypted in place: no copy of the (possibly large) body.
    start = HEADER_BYTES + NONCE_BYTES
    out = bytearray(start + len(plaintext) + TAG_BYTES)
    _HEADER.pack_into(out, 0, MAGIC, version, wrapped, 0)
    out[HEADER_BYTES:start] = nonce
    AESGCM(dek).encrypt_into(
        nonce, plaintext, object_id.encode(), memoryview(out)[start:]
    )
    return out


def unseal(sealed: bytes, object_id: str, ring: Keyring | None = None) -> bytes:
    ring = ring or keyring()
    version, wrapped, _ = parse_header(sealed[:HEADER_BYTES])
    dek = ring.unwrap(version, wrapped, object_id)
    view = memoryview(sealed)
    nonce = bytes(view[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES])
    try:
        return AESGCM(dek).decrypt(
            nonce, view[HEADER_BYTES + NONCE_BYTES :], object_id.encode()
        )
    except InvalidTag as exc:
        raise DecryptionError("ciphertext does not authenticate") from exc


def parse_header(header: bytes) -> tuple[int, bytes, int]:
    """Return (KEK version, wrapped DEK, chunk size) of a sealed object."""
    if len(header) < HEADER_BYTES:
        raise DecryptionError("truncated header")
    magic, version, wrapped, chunk_size = _HEADER.unpack(header[:HEADER_BYTES])
    if magic != MAGIC:
        raise DecryptionError("not an encrypted object")
    return version, wrapped, chunk_size


def rewrap_header(header: bytes, object_id: str, ring: Keyring | None = None) -> bytes:
    """The same header with its DEK wrapped under the primary master key."""
    ring = ring or keyring()
    version, wrapped, chunk_size = parse_header(header)
    version, wrapped = ring.rewrap(version, wrapped, object_id)
    return _HEADER.pack(MAGIC, version, wrapped, chunk_size)


def seal_text(text: str, object_id: str) -> str:
    sealed = seal(text.encode(), object_id)
    return TEXT_PREFIX + base64.b64encode(sealed).decode("ascii")


def _text_bytes(value: str) -> bytes:
    if not value.startswith(TEXT_PREFIX):
        raise DecryptionError("not an encrypted text value")
    try:
        return base64.b64decode(value[len(TEXT_PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise DecryptionError("damaged encrypted text value") from exc


def unseal_text(value: str, object_id: str) -> str:
    return unseal(_text_bytes(value), object_id).decode()


def text_key_version(value: str) -> int:
    return parse_header(_text_bytes(value)[:HEADER_BYTES])[0]


def rewrap_text(value: str, object_id: str) -> str:
    raw = _text_bytes(value)
    header = rewrap_header(raw[:HEADER_BYTES], object_id)
    return TEXT_PREFIX + base64.b64encode(header + raw[HEADER_BYTES:]).decode("ascii")


# ---------------------------------------------------------------- streaming


def _chunk_nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(NONCE_BYTES - 1, "big") + (b"\x01" if last else b"\x00")


def _rechunk(pieces: Iterable[bytes], size: int) -> Iterator[bytes | memoryview]:
    """Full chunks of `size` bytes, then the (maybe empty) remainder.

    Pieces that already have the right size (Django's `File.chunks(size)`) pass
    through untouched; others are joined once and sliced without copying.
    """
    pending: list[bytes] = []
    pending_size = 0
    for piece in pieces:
        if not pending and len(piece) == size:
            yield piece
            continue
        pending.append(piece)
        pending_size += len(piece)
        if pending_size >= size:
            joined = b"".join(pending)
            view = memoryview(joined)
            offset = 0
            while pending_size - offset >= size:
                yield view[offset : offset + size]
                offset += size
            pending = [joined[offset:]] if offset < pending_size else []
            pending_size -= offset
    yield b"".join(pending)


def encrypt_chunks(
    pieces: Iterable[bytes], object_id: str, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """Yield the header, then one ciphertext per plaintext chunk."""
    ring = keyring()
    dek = AESGCM.generate_key(bit_length=256)
    aead = AESGCM(dek)
    version, wrapped = ring.wrap(dek, object_id)
    yield _HEADER.pack(MAGIC, version, wrapped, chunk_size)
    aad = object_id.encode()
    chunks = _rechunk(pieces, chunk_size)
    current = next(chunks)
    index = 0
    for following in chunks:
        if not following and len(current) == chunk_size:
            break  # `current` is the last full chunk
        yield aead.encrypt(_chunk_nonce(index, False), current, aad)
        current, index = following, index + 1
    yield aead.encrypt(_chunk_nonce(index, True), current, aad)


def decrypt_chunks(read: Callable[[int], bytes], object_id: str) -> Iterator[bytes]:
    """Decrypt a stream given its `read(n)` function; raises DecryptionError."""
    version, wrapped, chunk_size = parse_header(read(HEADER_BYTES))
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:  # never trust a size before the tag
        raise DecryptionError("bad chunk size")
    aead = AESGCM(keyring().unwrap(version, wrapped, object_id))
    aad = object_id.encode()
    size = chunk_size + TAG_BYTES
    current = read(size)
    index = 0
    while True:
        following = read(size)
        last = not following
        try:
            yield aead.decrypt(_chunk_nonce(index, last), current, aad)
        except InvalidTag as exc:
            raise DecryptionError("file chunk does not authenticate") from exc
        if last:
            return
        current, index = following, index + 1


def plaintext_size(ciphertext_size: int, chunk_size: int) -> int:
    body = ciphertext_size - HEADER_BYTES
    chunks = max(1, -(-body // (chunk_size + TAG_BYTES)))
    return body - chunks * TAG_BYTES
