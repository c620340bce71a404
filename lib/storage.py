"""Encrypted file storage (SEC-5, DMP-3): local disk by default, S3 in production.

Files are written as `lib.crypto` streams: the storage name is the object id
bound into the ciphertext, so a file copied or renamed elsewhere does not
decrypt. Reads decrypt as a stream, one chunk at a time.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from typing import Any

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage

from lib import crypto


class _IteratorReader(io.RawIOBase):
    """A read-only, non-seekable file over an iterator of byte strings."""

    def __init__(self, iterator: Iterator[bytes]) -> None:
        self._iterator = iterator
        self._pending: memoryview = memoryview(b"")
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._offset >= len(self._pending):
            try:
                self._pending = memoryview(next(self._iterator))
            except StopIteration:
                return 0
            self._offset = 0
        size = min(len(buffer), len(self._pending) - self._offset)
        buffer[:size] = self._pending[self._offset : self._offset + size]
        self._offset += size
        return size


class _StreamFile(File):  # type: ignore[type-arg]
    """A file over a stream of byte strings: `chunks()` hands the stream's own
    pieces out (no re-buffering), `read()` works for code that wants it."""

    def __init__(self, stream: Iterator[bytes], name: str | None = None) -> None:
        self._stream = stream
        super().__init__(
            io.BufferedReader(_IteratorReader(stream), crypto.CHUNK_SIZE), name
        )

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        yield from self._stream

    def multiple_chunks(self, chunk_size: int | None = None) -> bool:
        return True


def _plain_pieces(content: File[bytes]) -> Iterator[bytes]:
    if hasattr(content, "chunks"):
        yield from content.chunks(crypto.CHUNK_SIZE)
    else:  # a bare file object
        while piece := content.read(crypto.CHUNK_SIZE):
            yield piece


class EncryptedStorageMixin(Storage):
    """Encrypts on `_save`, decrypts on `_open`; `rewrap` rotates the data key."""

    # The ciphertext only ever leaves through `open()`; never hand out URLs.
    def url(self, name: str | None) -> str:
        raise NotImplementedError("encrypted files are served by views, never by URL")

    def _encrypted(self, name: str, content: File[bytes]) -> File[bytes]:
        return _StreamFile(crypto.encrypt_chunks(_plain_pieces(content), name))

    def _save(self, name: str, content: File[bytes]) -> str:
        return str(super()._save(name, self._encrypted(name, content)))  # type: ignore[misc]

    def _open(self, name: str, mode: str = "rb") -> File[bytes]:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("encrypted files are opened read-only")
        raw = super()._open(name, "rb")  # type: ignore[misc]
        file = _StreamFile(crypto.decrypt_chunks(raw.read, name), name=name)
        file.close = _closing(file.close, raw.close)  # type: ignore[method-assign]
        return file

    def size(self, name: str) -> int:
        with super()._open(name, "rb") as raw:  # type: ignore[misc]
            _, _, chunk_size = crypto.parse_header(raw.read(crypto.HEADER_BYTES))
        return crypto.plaintext_size(super().size(name), chunk_size)

    def key_version(self, name: str) -> int:
        with super()._open(name, "rb") as raw:  # type: ignore[misc]
            return crypto.parse_header(raw.read(crypto.HEADER_BYTES))[0]

    def rewrap(self, name: str) -> bool:
        """Re-wrap the file's data key under the primary key; True if it changed.

        Generic path (object stores): rewrite the whole object.
        """
        if self.key_version(name) == crypto.keyring().primary:
            return False
        with super()._open(name, "rb") as raw:  # type: ignore[misc]
            header = crypto.rewrap_header(raw.read(crypto.HEADER_BYTES), name)
            with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
                spool.write(header)
                while piece := raw.read(crypto.CHUNK_SIZE):
                    spool.write(piece)
                spool.seek(0)
                # Overwrite in place (object stores replace atomically): never
                # delete first, or a failure in between would lose the file.
                super()._save(name, File(spool))  # type: ignore[misc]
        return True

    def sync(self) -> None:
        """Make re-wrapped headers durable (object stores: nothing to do)."""

    def walk(self, directory: str = "") -> Iterator[str]:
        """Every stored name under `directory`."""
        folders, files = self.listdir(directory)
        for file in files:
            yield f"{directory}/{file}" if directory else file
        for folder in folders:
            yield from self.walk(f"{directory}/{folder}" if directory else folder)


def _closing(*closers: Any) -> Any:
    def close() -> None:
        for closer in closers:
            closer()

    return close


class EncryptedFileSystemStorage(EncryptedStorageMixin, FileSystemStorage):
    def sync(self) -> None:
        os.sync()

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(**kwargs)

    def _save(self, name: str, content: File[bytes]) -> str:
        """Create the file exclusively, then encrypt under its final name.

        Django's own loop picks another name when a file appears meanwhile,
        which would leave ciphertext bound to a name it does not bear: here a
        clash picks the next free name and encrypts again.
        """
        while True:
            path = self.path(name)
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                name = self.get_available_name(name)
                continue
            try:
                with os.fdopen(fd, "wb") as out:
                    for piece in crypto.encrypt_chunks(_plain_pieces(content), name):
                        out.write(piece)
            except BaseException:
                os.unlink(path)
                raise
            return name.replace("\\", "/")

    def rewrap(self, name: str) -> bool:
        # The header has a fixed size: rewrite it in place with one pwrite, so
        # rotation touches 72 bytes per file whatever the file's size. No fsync
        # per file: `sync()` flushes once at the end of a rotation (the old key
        # stays configured until `rotate_keys --check` finds nothing left).
        path = self.path(name)
        fd = os.open(path, os.O_RDWR)
        try:
            header = os.pread(fd, crypto.HEADER_BYTES, 0)
            if crypto.parse_header(header)[0] == crypto.keyring().primary:
                return False
            os.pwrite(fd, crypto.rewrap_header(header, name), 0)
        finally:
            os.close(fd)
        return True


try:
    from storages.backends.s3 import S3Storage
except ImportError:  # pragma: no cover - boto3 is a pinned dependency
    S3Storage = None

if S3Storage is not None:

    class EncryptedS3Storage(EncryptedStorageMixin, S3Storage):  # type: ignore[misc]
        def _encrypted(self, name: str, content: File[bytes]) -> File[bytes]:
            # boto3 wants a seekable body: spool the ciphertext (memory up to
            # 8 MiB, then a temporary file) rather than holding it all in RAM.
            spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed by the storage
            for piece in crypto.encrypt_chunks(_plain_pieces(content), name):
                spool.write(piece)
            spool.seek(0)
            return File(spool, name=name)
