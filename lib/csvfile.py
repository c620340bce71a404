"""Reading Assurance maladie CSV extractions (beneficiaries LC-1,
reimbursements DMP-7): what every import checks before it reads a row.
Knows no model."""

from __future__ import annotations

import codecs
import datetime as dt
import re
import shutil
import tempfile
from typing import IO

from django.utils.translation import gettext as _

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FR_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")


class ImportUnreadable(Exception):
    """The file cannot be read at all: nothing was imported (exit code 2)."""

    def __init__(self, reason: str, line: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def seekable(stream: IO[bytes]) -> IO[bytes]:
    """Uploads and files are seekable; a pipe is copied to disk first."""
    if stream.seekable():
        return stream
    spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool


def check_utf8(stream: IO[bytes]) -> None:
    """Refuse a file that is not UTF-8, or empty, before importing anything
    from it (the line of the first bad byte is reported); rewinds it."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, size = 1, 0
    try:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line += chunk[: max(exc.start, 0)].count(b"\n")
                raise
            line += chunk.count(b"\n")
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise ImportUnreadable(
            _(
                "Le fichier n'est pas encodé en UTF-8 : enregistrez-le en UTF-8 "
                "puis recommencez."
            ),
            line,
        ) from exc
    if size == 0:
        raise ImportUnreadable(_("Le fichier est vide."))
    stream.seek(0)


def parse_date(value: str) -> dt.date | None:
    """AAAA-MM-JJ or JJ/MM/AAAA; None otherwise."""
    try:
        if _ISO_DATE.fullmatch(value):
            return dt.date.fromisoformat(value)
        match = _FR_DATE.fullmatch(value)
        if match:
            day, month, year = (int(part) for part in match.groups())
            return dt.date(year, month, day)
    except ValueError:
        return None
    return None
