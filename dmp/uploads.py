"""Checks of an uploaded file before anything is stored (DMP-2, G-S15).

The real type is sniffed from the bytes, never taken from the name or the
browser. One streaming pass (64 KiB at a time, memory stays flat) measures
the size, computes the SHA-256 and scans the content the type allows to be
active; images are then opened by their header only (no decoding) to refuse
pixel floods, and PDFs are read object by object. Every refusal is an
`UploadRefused` with a French reason.

What is refused, beyond the size and the type:

- PDF: a name that runs code, starts a program, sends or imports data,
  plays media, carries files or encrypts the content (`DANGEROUS_PDF_NAMES`),
  wherever it is written: in the file's own syntax (stream data excepted:
  compressed images are random bytes where "/JS" turns up by chance), inside
  object streams (inflated here), and in every object the PDF library reads;
  an unreadable PDF; more than 2,000 pages;
- JPEG, PNG, TIFF: a header the image library cannot read, more than
  60 megapixels (pixel floods);
- RTF: embedded OLE objects (`\\object`, `\\objdata`…) and NUL bytes;
- TXT: anything but UTF-8 text without control characters (tab, line
  breaks and form feed allowed);
- any type: a ZIP archive riding at the end of the file (a "PDF that is also
  a ZIP", a JPEG carrying an archive): archives are never accepted.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from django.utils.translation import gettext as _

from dmp.codes import FORMATS

CHUNK = 64 * 1024
MAX_PIXELS = 60_000_000  # a 60-megapixel scan is plenty; floods are far above
MAX_NAME = 120
MAX_PDF_PAGES = 2000
MAX_PDF_OBJECTS = 200_000
# Object streams hold dictionaries, not pixels: a few MiB at most in real
# files. Inflating more is a decompression bomb.
MAX_OBJECT_STREAMS = 32 * 1024 * 1024

# ISO 32000 names (without their slash) refused in a PDF.
DANGEROUS_PDF_NAMES = frozenset(
    {
        "JavaScript",  # JavaScript actions and the document's scripts
        "JS",
        "Launch",  # starts a program
        "SubmitForm",  # sends data away
        "ImportData",
        "Rendition",  # plays media (and may run scripts)
        "RichMedia",
        "EmbeddedFile",  # files carried inside the PDF
        "EmbeddedFiles",
        "EF",
        "XFA",  # XML forms, scripted
        "Encrypt",  # encrypted content cannot be checked
    }
)
# A PDF name: a slash and regular characters (ISO 32000 §7.3.5); `#xx`
# escapes are decoded before comparing (/J#61vaScript is /JavaScript).
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
# The `stream` keyword opening stream data, right after its dictionary.
_STREAM_START = re.compile(rb">>[\x00\t\n\x0c\r ]*stream\r?\n")
_STREAM_END = b"endstream"
_OVERLAP = 64  # bytes kept between chunks so that a token cut in two is seen

# RTF control words of embedded objects (\object, \objdata, \objemb…).
_RTF_OBJECT = re.compile(rb"\\obj[a-z]")
# A ZIP archive is found from its end: the end-of-central-directory record
# sits in the last 22 bytes plus at most 65,535 bytes of comment.
_ZIP_END = b"PK\x05\x06"
_ZIP_TAIL = 22 + 65_535

_PDF_REFUSED = (
    "Ce PDF contient du code (JavaScript), une action automatique, des "
    "fichiers joints ou un chiffrement : il est refusé. Enregistrez-le à "
    "nouveau en PDF simple."
)


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
    scanner = _scanner_for(mime)
    tail = b""  # the last bytes, where a ZIP archive announces itself
    for chunk in _chunks(stream):
        size += len(chunk)
        if size > max_bytes:
            raise UploadRefused(
                _("Le fichier dépasse la taille maximale de %(size)s.")
                % {"size": _human(max_bytes)}
            )
        digest.update(chunk)
        scanner.feed(chunk)
        tail = (tail + chunk)[-_ZIP_TAIL:]
    scanner.close()
    if _ZIP_END in tail:
        raise UploadRefused(
            _("Ce fichier contient une archive (ZIP) : les archives sont refusées.")
        )
    stream.seek(0)
    if mime.startswith("image/"):
        _check_image(stream)
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


# Control characters (Unicode category Cc: U+0000-001F, U+007F-009F) but
# tab, line feed, form feed and carriage return.
_BINARY_CHARACTER = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


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
    return _BINARY_CHARACTER.search(decoded) is None


# ---------------------------------------------------------------- scanners


class _Scanner(Protocol):
    def feed(self, chunk: bytes) -> None: ...

    def close(self) -> None: ...


class _NoScan:
    """Images: their header is read afterwards, their pixels never."""

    def feed(self, chunk: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def _scanner_for(mime: str) -> _Scanner:
    if mime == "application/pdf":
        return _PdfScan()
    if mime == "text/plain":
        return _Utf8Check()
    if mime == "application/rtf":
        return _RtfScan()
    return _NoScan()


class _Utf8Check:
    """The whole text file must be UTF-8 without control characters."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def feed(self, chunk: bytes) -> None:
        try:
            text = self._decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise UploadRefused(
                _("Ce fichier texte n'est pas encodé en UTF-8.")
            ) from exc
        if _BINARY_CHARACTER.search(text):
            raise UploadRefused(_("Ce fichier texte contient des caractères binaires."))

    def close(self) -> None:
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise UploadRefused(
                _("Ce fichier texte n'est pas encodé en UTF-8.")
            ) from exc


class _RtfScan:
    """RTF is text: no NUL bytes, and no embedded (OLE) objects, the way
    RTF documents carry programs."""

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        window = self._tail + chunk
        if b"\x00" in chunk:
            raise UploadRefused(_("Ce fichier RTF contient des caractères binaires."))
        if _RTF_OBJECT.search(window):
            raise UploadRefused(
                _(
                    "Ce fichier RTF contient un objet incorporé (programme ou "
                    "document joint) : il est refusé. Enregistrez-le à nouveau "
                    "en PDF."
                )
            )
        self._tail = window[-_OVERLAP:]

    def close(self) -> None:
        pass


def _dangerous_name(raw: bytes) -> bool:
    if b"#" in raw:
        raw = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
    return raw.decode("latin-1") in DANGEROUS_PDF_NAMES


def _pdf_refused() -> UploadRefused:
    return UploadRefused(_(_PDF_REFUSED))


class _PdfScan:
    """The names of a PDF, read as its bytes go by: in the syntax between
    stream data, and in object streams (inflated, up to a limit), where
    dictionaries can hide from a plain byte scan. With `streams=False` (the
    content of an object stream, which holds no stream) everything is
    syntax."""

    def __init__(self, *, streams: bool = True) -> None:
        self._streams = streams
        self._buffer = b""
        self._in_stream = False
        self._objects: _PdfScan | None = None  # the object stream being read
        self._inflater: Any = None
        self._inflated = 0

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        self._run(final=False)

    def close(self) -> None:
        self._run(final=True)
        if self._objects is not None:
            self._objects.close()

    def _run(self, *, final: bool) -> None:
        while True:
            if self._in_stream:
                if not self._stream_data(final=final):
                    return
                continue
            found = _STREAM_START.search(self._buffer) if self._streams else None
            if found is None:
                self._syntax(self._buffer, final=final)
                # Keep the end: a name or a keyword may go on.
                keep = len(self._buffer) - _OVERLAP
                if keep > 0:
                    self._buffer = self._buffer[keep:]
                return
            syntax = self._buffer[: found.start()]
            self._syntax(syntax, final=True)
            self._open_stream(syntax)
            self._buffer = self._buffer[found.end() :]

    def _syntax(self, data: bytes, *, final: bool) -> None:
        for name in _PDF_NAME.finditer(data):
            if not final and name.end() == len(data):
                continue  # may go on in the next chunk: seen again then
            if _dangerous_name(name.group(1)):
                raise _pdf_refused()

    def _open_stream(self, syntax: bytes) -> None:
        """Object streams (their dictionary names /ObjStm) are read as
        syntax: inflated when /FlateDecode, as they are when unfiltered.
        Other filters are left to the object-by-object reading."""
        self._in_stream = True
        self._objects = None
        self._inflater = None
        dictionary = syntax[syntax.rfind(b"obj") + 3 :]
        names = {m.group(1).decode("latin-1") for m in _PDF_NAME.finditer(dictionary)}
        if "ObjStm" not in names:
            return
        if "FlateDecode" in names or "Fl" in names:
            self._objects = _PdfScan(streams=False)
            self._inflater = zlib.decompressobj()
        elif "Filter" not in names:
            self._objects = _PdfScan(streams=False)

    def _stream_data(self, *, final: bool) -> bool:
        """Skip (or read, for object streams) stream data up to `endstream`;
        False when more bytes are needed."""
        end = self._buffer.find(_STREAM_END)
        if end < 0:
            if final:
                self._in_stream = False
                self._feed_objects(self._buffer)
                self._buffer = b""
                return False
            cut = max(0, len(self._buffer) - len(_STREAM_END))
            self._feed_objects(self._buffer[:cut])
            self._buffer = self._buffer[cut:]
            return False
        self._feed_objects(self._buffer[:end])
        if self._objects is not None:
            self._objects.close()
            self._objects = None
        self._buffer = self._buffer[end + len(_STREAM_END) :]
        self._in_stream = False
        return True

    def _feed_objects(self, data: bytes) -> None:
        if self._objects is None or not data:
            return
        if self._inflater is None:
            self._objects.feed(data)
            return
        try:
            out = self._inflater.decompress(data, CHUNK)
            while out:
                self._inflated += len(out)
                if self._inflated > MAX_OBJECT_STREAMS:
                    raise UploadRefused(_("Ce PDF est illisible ou abîmé."))
                self._objects.feed(out)
                if self._inflater.eof:
                    break
                out = self._inflater.decompress(self._inflater.unconsumed_tail, CHUNK)
        except zlib.error:
            # Not deflated after all: the object-by-object reading decides.
            self._objects.close()
            self._objects = None


def _check_pdf_structure(stream: IO[bytes]) -> None:
    """What a scan of the bytes cannot see (names in objects compressed with
    other filters, say): every object the PDF library reads, the encryption,
    the number of pages. Nothing is rendered."""
    import logging

    from pypdf import PdfReader
    from pypdf.generic import IndirectObject

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted:
            raise _pdf_refused()
        numbers = [
            (number, generation)
            for generation, objects in reader.xref.items()
            for number in objects
        ] + [(number, 0) for number in reader.xref_objStm]
        if len(numbers) > MAX_PDF_OBJECTS:
            raise UploadRefused(_("Ce PDF est trop complexe pour être vérifié."))
        if len(reader.pages) > MAX_PDF_PAGES:
            raise UploadRefused(_("Ce PDF compte trop de pages."))
        if _has_dangerous_name(reader.trailer):
            raise _pdf_refused()
        for number, generation in numbers:
            value = reader.get_object(IndirectObject(number, generation, reader))
            if _has_dangerous_name(value):
                raise _pdf_refused()
    except UploadRefused:
        raise
    except Exception as exc:  # any failure of the parser: an unreadable file
        raise UploadRefused(_("Ce PDF est illisible ou abîmé.")) from exc


def _has_dangerous_name(value: object) -> bool:
    """A dangerous name in one object (keys and values, nested direct
    objects; references are objects of their own, read by the caller)."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, DictionaryObject):
            for key, inner in item.items():
                pending.append(NameObject(key))
                pending.append(inner)
        elif isinstance(item, ArrayObject):
            pending.extend(item)
        elif isinstance(item, NameObject) and item[1:] in DANGEROUS_PDF_NAMES:
            return True
    return False


def _check_image(stream: IO[bytes]) -> None:
    """Open the header only: dimensions, never the pixels (no decoding)."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # corrupt metadata
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                width, height = image.size
                frames = getattr(image, "n_frames", 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRefused(_("Cette image est beaucoup trop grande.")) from exc
    except Exception as exc:  # any failure of the parser: an unreadable file
        raise UploadRefused(_("Cette image est illisible ou abîmée.")) from exc
    if width <= 0 or height <= 0 or width * height * max(frames, 1) > MAX_PIXELS:
        raise UploadRefused(_("Cette image est beaucoup trop grande."))


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")
# Control, format (bidirectional overrides among them), surrogate, private,
# unassigned, and line or paragraph separators.
_DROPPED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def clean_name(name: str, extension: str) -> str:
    """A display name: the last path component, no control, format or
    bidirectional characters (RTL tricks), no reserved characters, at most
    120 characters, ending with the extension of the sniffed type."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c) not in _DROPPED)
    base = _UNSAFE.sub("_", base).strip(" ._")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem.strip(" ._")[: MAX_NAME - len(extension)].rstrip(" ._")
    stem = stem or "document"
    return f"{stem}{extension}"


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} Mo"
    return f"{size / 1024:g} Ko"


def as_stream(data: bytes) -> IO[bytes]:
    return io.BytesIO(data)
