"""Checks of an uploaded file before anything is stored (DMP-2, G-S15).

The real type is sniffed from the bytes, never taken from the name or the
browser. One streaming pass (64 KiB at a time, memory stays flat) measures
the size, computes the SHA-256 and scans PDFs for JavaScript, launch actions
and encryption; images are opened by their header only (no decoding) to
refuse pixel floods. Every refusal is an `UploadRefused` with a French reason.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.utils.translation import gettext as _

from dmp.codes import FORMATS

CHUNK = 64 * 1024
MAX_PIXELS = 60_000_000  # a 60-megapixel scan is plenty; floods are far above
MAX_NAME = 120

# PDF names that run code or hide the content (ISO 32000: /JavaScript and
# /JS actions, /Launch, embedded files, /Encrypt dictionaries). A name may be
# written with #xx escapes (/J#61vaScript): those are decoded before the scan.
_PDF_DANGER = re.compile(
    rb"/(?:JavaScript|JS|Launch|Encrypt|EmbeddedFile|RichMedia|XFA|OpenAction\s*<<\s*/S\s*/JavaScript)(?![A-Za-z])"
)
_PDF_NAME_ESCAPE = re.compile(rb"/[A-Za-z0-9#]*#[0-9A-Fa-f]{2}[A-Za-z0-9#]*")
_OVERLAP = 64  # bytes kept between chunks so a token split in two is seen


class UploadRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Checked:
    mime_type: str
    format_code: str
    size: int
    sha256: str
    file_name: str


def check_upload(stream: IO[bytes], *, name: str, max_bytes: int) -> Checked:
    """Sniff, measure, hash and scan `stream` (left at its start again)."""
    stream.seek(0)
    head = stream.read(8192)
    if not head:
        raise UploadRefused(_("Le fichier est vide."))
    mime = sniff(head)
    if mime is None:
        raise UploadRefused(
            _(
                "Ce type de fichier n'est pas accepté : PDF, JPEG, PNG, TIFF, RTF "
                "ou texte (TXT) uniquement."
            )
        )
    stream.seek(0)
    digest = hashlib.sha256()
    size = 0
    tail = b""
    text = mime == "text/plain"
    decoder = _Utf8Check() if text else None
    for chunk in _chunks(stream):
        size += len(chunk)
        if size > max_bytes:
            raise UploadRefused(
                _("Le fichier dépasse la taille maximale de %(size)s.")
                % {"size": _human(max_bytes)}
            )
        digest.update(chunk)
        if mime == "application/pdf":
            window = tail + chunk
            if _pdf_dangerous(window):
                raise UploadRefused(
                    _(
                        "Ce PDF contient du code (JavaScript), une action "
                        "automatique, des fichiers joints ou un chiffrement : il "
                        "est refusé. Enregistrez-le à nouveau en PDF simple."
                    )
                )
            tail = window[-_OVERLAP:]
        elif decoder is not None:
            decoder.feed(chunk)
    if decoder is not None:
        decoder.close()
    stream.seek(0)
    if mime.startswith("image/"):
        _check_image(stream)
        stream.seek(0)
    elif mime == "application/pdf":
        _check_pdf_structure(stream)
        stream.seek(0)
    return Checked(
        mime_type=mime,
        format_code=FORMATS[mime][1],
        size=size,
        sha256=digest.hexdigest(),
        file_name=clean_name(name, FORMATS[mime][0]),
    )


def sniff(head: bytes) -> str | None:
    """The MIME type the first bytes prove, among the accepted ones."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    if _looks_like_text(head):
        return "text/plain"
    return None


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 text (a BOM allowed), no NUL and no other control characters
    than tab and line breaks: not a binary with a text extension."""
    sample = head.removeprefix(b"\xef\xbb\xbf")
    if not sample:
        return False
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the end
            return False
        decoded = sample[: exc.start].decode("utf-8")
    return not any(
        unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in decoded
    )


class _Utf8Check:
    """The whole text file must be UTF-8 without control characters."""

    def __init__(self) -> None:
        import codecs

        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def feed(self, chunk: bytes) -> None:
        try:
            text = self._decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise UploadRefused(
                _("Ce fichier texte n'est pas encodé en UTF-8.")
            ) from exc
        if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text):
            raise UploadRefused(_("Ce fichier texte contient des caractères binaires."))

    def close(self) -> None:
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise UploadRefused(
                _("Ce fichier texte n'est pas encodé en UTF-8.")
            ) from exc


def _pdf_dangerous(window: bytes) -> bool:
    if _PDF_DANGER.search(window):
        return True
    for escaped in _PDF_NAME_ESCAPE.findall(window):
        decoded = re.sub(
            rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), escaped
        )
        if _PDF_DANGER.search(decoded):
            return True
    return False


_PDF_REFUSED_TEXT = (
    "Ce PDF contient du code (JavaScript), une action automatique, des "
    "fichiers joints ou un chiffrement : il est refusé. Enregistrez-le à "
    "nouveau en PDF simple."
)
_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/Rendition"}


def _check_pdf_structure(stream: IO[bytes]) -> None:
    """What a byte scan cannot see (names inside compressed object streams):
    the document's structure, read with pypdf without rendering anything."""
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted:
            raise UploadRefused(_(_PDF_REFUSED_TEXT))
        root: Any = reader.trailer["/Root"].get_object()
        names = root.get("/Names")
        names = names.get_object() if names is not None else {}
        if any(key in names for key in ("/JavaScript", "/EmbeddedFiles")):
            raise UploadRefused(_(_PDF_REFUSED_TEXT))
        if "/AcroForm" in root and "/XFA" in root["/AcroForm"].get_object():
            raise UploadRefused(_(_PDF_REFUSED_TEXT))
        if _has_action(root.get("/OpenAction")) or _has_action(root.get("/AA")):
            raise UploadRefused(_(_PDF_REFUSED_TEXT))
        if len(reader.pages) > 2000:
            raise UploadRefused(_("Ce PDF compte trop de pages."))
        for page in reader.pages:
            if _has_action(page.get("/AA")):
                raise UploadRefused(_(_PDF_REFUSED_TEXT))
            for annotation in page.get("/Annots") or []:
                annotation = annotation.get_object()
                if _has_action(annotation.get("/A")) or _has_action(
                    annotation.get("/AA")
                ):
                    raise UploadRefused(_(_PDF_REFUSED_TEXT))
    except UploadRefused:
        raise
    except (
        PyPdfError,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        OSError,
        RecursionError,
        AssertionError,
        IndexError,
    ) as exc:
        raise UploadRefused(_("Ce PDF est illisible ou abîmé.")) from exc


def _has_action(value: object, depth: int = 0) -> bool:
    """An action dictionary (or a dictionary of them, /AA) that runs code."""
    if value is None or depth > 4:
        return False
    value = value.get_object() if hasattr(value, "get_object") else value
    if isinstance(value, dict):
        if value.get("/S") in _ACTIONS:
            return True
        return any(
            _has_action(item, depth + 1)
            for key, item in value.items()
            if key not in ("/Parent", "/P", "/D")
        )
    return False


def _check_image(stream: IO[bytes]) -> None:
    """Open the header only: dimensions, never the pixels (no decoding)."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                width, height = image.size
                frames = getattr(image, "n_frames", 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRefused(_("Cette image est beaucoup trop grande.")) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadRefused(_("Cette image est illisible ou abîmée.")) from exc
    if width <= 0 or height <= 0 or width * height * max(frames, 1) > MAX_PIXELS:
        raise UploadRefused(_("Cette image est beaucoup trop grande."))


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def clean_name(name: str, extension: str) -> str:
    """A display name: the last path component, no control, format or
    bidirectional characters (RTL tricks), no reserved characters, at most
    120 characters, ending with the extension of the sniffed type."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(
        c for c in base if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    base = _UNSAFE.sub("_", base).strip(" ._")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem.strip(" ._")[: MAX_NAME - len(extension)] or "document"
    return f"{stem}{extension}"


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} Mo"
    return f"{size / 1024:g} Ko"


def as_stream(data: bytes) -> IO[bytes]:
    return io.BytesIO(data)
