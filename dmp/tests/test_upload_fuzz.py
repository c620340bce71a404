"""Upload fuzzing through `document_deposit` (G-S15, DMP-2, SEC-8).

Every input goes through the service the pages and the API call, and every
outcome is checked the same way (`_check`):

- only two outcomes: the document is stored, or a `ValidationError` with a
  French message; never another exception (no HTTP 500);
- refused: no Document row added and no file left in the storage folder;
- accepted: the sniffed type is one of `dmp.codes.FORMATS` and the one the
  oracle reads from the bytes, the stored file decrypts to exactly the
  input, size and SHA-256 are right, the display name is clean (no path
  separator, no control, format or bidirectional character, at most 120
  characters, the extension of the real type), the storage name is ours and
  nothing was written outside the storage root;
- the decision is the oracle's (`expected_type`): written here, from the
  policy, without the code under test.

The oracle's policy (dmp/uploads.py's docstring says the same in prose):

1. 1 byte to the size limit (5 MB for the patient side, DMP-2);
2. the type is the one the first bytes prove: %PDF-, JPEG, PNG, TIFF,
   {\\rtf; otherwise UTF-8 text (a BOM allowed, not only a BOM) without
   control characters other than tab, line feed, form feed, carriage return;
3. no ZIP archive at the end of the file (its end record in the last
   64 KiB + 22 bytes), whatever the type: polyglots carrying archives;
4. PDF: no dangerous name (JavaScript, JS, Launch, SubmitForm, ImportData,
   Rendition, RichMedia, EmbeddedFile(s), EF, XFA, Encrypt; #xx escapes
   decoded) in the syntax outside stream data nor in object streams (inflated
   when deflated, decoded when hex; over 32 MiB inflated is a bomb), nor in
   the objects the PDF library (pypdf) reads; pypdf reads every object, no
   encryption, at most 2,000 pages: "readable" is what our PDF library can
   read, the one ambiguity left to it;
5. JPEG, PNG, TIFF: the image library (Pillow) opens the header, and the
   pixels the header announces (read here byte by byte: IHDR, SOFn, the IFD
   chain) are at most 60 million (pixel floods);
6. RTF: no NUL byte, no embedded object (\\obj… control words).

Decided on purpose: HTML or SVG sources are plain text (stored and served as
text/plain, never rendered); a JPEG followed by HTML and a PNG with a PDF
inside are accepted (served as images, with nosniff and a sandbox CSP; the
stored bytes must be the patient's bytes); a page whose content stream is a
deflate bomb is accepted (the server never inflates page content, and
inflating every stream would break G-P8); a UTF-16 text is refused (files
are served as UTF-8).
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import unicodedata
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dmp import services
from dmp.codes import FORMATS
from dmp.models import Document
from dmp.selectors import document_open_for
from espace.models import Beneficiary, User
from tests import files

PATIENT_LIMIT = 5 * 1024 * 1024


def fuzz(examples: int) -> hypothesis_settings:
    return hypothesis_settings(
        derandomize=True,
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# ---------------------------------------------------------------- the oracle

PDF, JPEG, PNG, TIFF, RTF, TXT = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "application/rtf",
    "text/plain",
)
DANGEROUS = {
    "JavaScript",
    "JS",
    "Launch",
    "SubmitForm",
    "ImportData",
    "Rendition",
    "RichMedia",
    "EmbeddedFile",
    "EmbeddedFiles",
    "EF",
    "XFA",
    "Encrypt",
}
PDF_WHITE = b"\x00\t\n\x0c\r "
PDF_DELIMITERS = b"()<>[]{}/%"
MAX_PIXELS = 60_000_000


def expected_type(data: bytes, limit: int) -> str | None:
    """The MIME type an upload of `data` must be stored as, None if refused."""
    if not data or len(data) > limit:
        return None
    if b"PK\x05\x06" in data[-(22 + 65_535) :]:
        return None
    if data.startswith(b"%PDF-"):
        return PDF if _pdf_acceptable(data) else None
    for magic, mime in (
        (b"\xff\xd8\xff", JPEG),
        (b"\x89PNG\r\n\x1a\n", PNG),
        (b"II*\x00", TIFF),
        (b"MM\x00*", TIFF),
    ):
        if data.startswith(magic):
            return mime if _image_acceptable(data, mime) else None
    if data.startswith(b"{\\rtf"):
        ok = b"\x00" not in data and re.search(rb"\\obj[a-z]", data) is None
        return RTF if ok else None
    return TXT if _text_acceptable(data) else None


def _text_acceptable(data: bytes) -> bool:
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(body) and not any(
        (ord(c) < 0x20 and c not in "\t\n\x0c\r") or 0x7F <= ord(c) <= 0x9F
        for c in text
    )


def _names(syntax: bytes) -> set[str]:
    """Every PDF name written in `syntax`, #xx escapes decoded."""
    found = set()
    i = syntax.find(b"/")
    while i >= 0:
        j = i + 1
        while (
            j < len(syntax)
            and syntax[j] not in PDF_WHITE
            and syntax[j] not in PDF_DELIMITERS
        ):
            j += 1
        raw = syntax[i + 1 : j]
        decoded = bytearray()
        k = 0
        while k < len(raw):
            if raw[k] == ord("#") and re.fullmatch(
                rb"[0-9A-Fa-f]{2}", raw[k + 1 : k + 3]
            ):
                decoded.append(int(raw[k + 1 : k + 3], 16))
                k += 3
            else:
                decoded.append(raw[k])
                k += 1
        found.add(decoded.decode("latin-1"))
        i = syntax.find(b"/", j)
    return found


STREAM_START = re.compile(rb">>[\x00\t\n\x0c\r ]*stream(?:\r\n|\n)")


def _stream_start(data: bytes, position: int) -> tuple[int, int] | None:
    """The next `stream` keyword right after a dictionary and followed by an
    end of line: (where the syntax before it ends, where its data starts)."""
    found = STREAM_START.search(data, position)
    return (found.start(), found.end()) if found else None


class Bomb(Exception):
    pass


def _object_stream(body: bytes, dictionary: set[str]) -> bytes | None:
    """The syntax inside an object stream, None when another filter hides it
    (pypdf then decides alone)."""
    if "FlateDecode" in dictionary:
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(body, 32 * 1024 * 1024 + 1)
        except zlib.error:
            return None
        if len(out) > 32 * 1024 * 1024:
            raise Bomb
        return out
    if "ASCIIHexDecode" in dictionary:
        digits = re.sub(rb"\s", b"", body.split(b">")[0])
        return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())
    if "Filter" not in dictionary:
        return body
    return None


def _pdf_names(data: bytes) -> set[str]:
    names: set[str] = set()
    position = 0
    while True:
        found = _stream_start(data, position)
        syntax = data[position : found[0] if found else len(data)]
        names |= _names(syntax)
        if found is None:
            return names
        end = data.find(b"endstream", found[1])
        body = data[found[1] : end if end >= 0 else len(data)]
        dictionary = _names(syntax[syntax.rfind(b"obj") + 3 :])
        if "ObjStm" in dictionary:
            inner = _object_stream(body, dictionary)
            if inner is not None:
                names |= _names(inner)
        if end < 0:
            return names
        position = end + len(b"endstream")


def _pypdf_accepts(data: bytes) -> bool:
    """Our PDF library reads every object and the pages, finds no
    encryption and no dangerous name in what it reads (a tolerant reader
    finds object streams through the cross-reference, whatever their
    dictionary says)."""
    import logging

    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    def names(value: object) -> set[str]:
        if isinstance(value, DictionaryObject):
            return set().union(*({str(k)[1:]} | names(v) for k, v in value.items()))
        if isinstance(value, ArrayObject):
            return set().union(*(names(v) for v in value))
        return {value[1:]} if isinstance(value, NameObject) else set()

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted or len(reader.pages) > 2000:
            return False
        found = names(reader.trailer)
        references = [
            IndirectObject(number, generation, reader)
            for generation, numbers in reader.xref.items()
            for number in numbers
        ] + [IndirectObject(number, 0, reader) for number in reader.xref_objStm]
        for reference in references:
            found |= names(reader.get_object(reference))
    except Exception:
        return False
    return not found & DANGEROUS


def _pdf_acceptable(data: bytes) -> bool:
    try:
        if _pdf_names(data) & DANGEROUS:
            return False
    except Bomb:
        return False
    return _pypdf_accepts(data)


def _pixels(data: bytes, mime: str) -> int | None:
    """Width × height (× pages for TIFF) as the header announces them."""
    try:
        if mime == PNG:
            length, kind = struct.unpack(">I4s", data[8:16])
            if kind != b"IHDR" or length != 13:
                return None
            width, height = struct.unpack(">II", data[16:24])
            return width * height
        if mime == JPEG:
            i = 2
            while i + 4 <= len(data):
                marker = data[i + 1]
                if data[i] != 0xFF or marker in (0x00, 0xFF):
                    i += 1  # junk or fill bytes between segments: skipped
                    continue
                if 0xD0 <= marker <= 0xD7 or marker == 0x01:
                    i += 2
                    continue
                (length,) = struct.unpack(">H", data[i + 2 : i + 4])
                if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9):
                    height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                    return width * height
                if marker in (0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                    height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                    return width * height
                i += 2 + length
            return None
        order = "<" if data.startswith(b"II") else ">"
        (offset,) = struct.unpack(order + "I", data[4:8])
        total, seen = 0, set()
        while offset and offset not in seen:
            seen.add(offset)
            (count,) = struct.unpack(order + "H", data[offset : offset + 2])
            tags: dict[int, int] = {}
            for n in range(count):
                entry = data[offset + 2 + 12 * n : offset + 14 + 12 * n]
                tag, kind = struct.unpack(order + "HH", entry[:4])
                if kind == 3:
                    (tags[tag],) = struct.unpack(order + "H", entry[8:10])
                elif kind == 4:
                    (tags[tag],) = struct.unpack(order + "I", entry[8:12])
            total += tags[256] * tags[257]
            (offset,) = struct.unpack(
                order + "I", data[offset + 2 + 12 * count : offset + 6 + 12 * count]
            )
        return total
    except (struct.error, KeyError, IndexError):
        return None


def _image_acceptable(data: bytes, mime: str) -> bool:
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                image.size  # noqa: B018 - the header is read
    except Image.DecompressionBombError:
        return False
    except Exception:
        return False
    pixels = _pixels(data, mime)
    return pixels is not None and 0 < pixels <= MAX_PIXELS


# ---------------------------------------------------------------- the checks

FRENCH = re.compile(
    r"\b(le|la|les|de|du|des|est|ce|cette|un|une|en|ou|au)\b", re.IGNORECASE
)
DROPPED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _storage_root() -> Path:
    return Path(settings.STORAGES["default"]["OPTIONS"]["location"])


def _files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


@dataclass
class Ledger:
    """What the test's sandbox (its storage root and its siblings) and the
    Document table hold, carried from one generated input to the next."""

    sandbox: Path
    rows: int
    files: set[Path]

    @classmethod
    def now(cls) -> Ledger:
        sandbox = _storage_root().parent
        return cls(sandbox, Document.objects.count(), _files_under(sandbox))


@pytest.fixture
def ledger(alice_dmp: Beneficiary) -> Ledger:
    return Ledger.now()


@dataclass
class Outcome:
    document: Document | None
    reason: str = ""


def _check(
    ledger: Ledger,
    *,
    actor: User,
    patient: Beneficiary,
    data: bytes | None,
    name: str,
    stream: IO[bytes] | None = None,
    limit: int = PATIENT_LIMIT,
    expected: Any = ...,
) -> Outcome:
    """Deposit, then assert everything G-S15 asks about the outcome."""
    if expected is ...:
        assert data is not None
        expected = expected_type(data, limit)
    try:
        document = services.document_deposit(
            actor=actor,
            patient=patient,
            stream=stream if stream is not None else io.BytesIO(data or b""),
            file_name=name,
            title="Résultat",
            type_code="DOCPAT05" if actor.role == User.Role.PATIENT else "11502-2",
        )
    except ValidationError as refused:
        messages = refused.messages
        assert messages and all(FRENCH.search(m) for m in messages), messages
        assert expected is None, f"refused ({messages}) but expected {expected}"
        # SEC-8, DMP-2: no row, no file, anywhere in the sandbox.
        assert Document.objects.count() == ledger.rows
        assert _files_under(ledger.sandbox) == ledger.files
        return Outcome(None, " ".join(messages))
    assert expected is not None, f"accepted as {document.mime_type}, must be refused"
    assert document.mime_type == expected
    assert document.mime_type in FORMATS
    assert document.format_code == FORMATS[document.mime_type][1]
    if data is not None:
        assert document.size == len(data)
        assert document.sha256 == hashlib.sha256(data).hexdigest()
        _same, chunks = document_open_for(actor=actor, pk=document.pk)
        assert b"".join(chunks) == data
    _assert_clean_name(str(document.file_name), document.mime_type)
    # The storage name is ours, the one new file is inside the root.
    assert re.fullmatch(rf"dmp/{patient.pk}/[0-9a-f]{{32}}", document.file)
    assert Document.objects.count() == ledger.rows + 1
    files = _files_under(ledger.sandbox)
    (new,) = files - ledger.files
    assert ledger.files <= files
    assert new.resolve() == (_storage_root() / document.file).resolve()
    assert new.resolve().is_relative_to(_storage_root().resolve())
    ledger.rows += 1
    ledger.files = files
    return Outcome(document)


def _assert_clean_name(file_name: str, mime: str) -> None:
    assert "/" not in file_name and "\\" not in file_name, file_name
    assert not any(unicodedata.category(c) in DROPPED for c in file_name), file_name
    assert 0 < len(file_name) <= 120, file_name
    assert file_name.endswith(FORMATS[mime][0]), file_name
    assert len(file_name) > len(FORMATS[mime][0]), file_name
    assert not file_name.startswith((".", " ")), file_name


# ---------------------------------------------------------------- the seeds

SEEDS: dict[str, bytes] = {
    "pdf": files.pdf_bytes(),
    "pdf_3_pages": files.pdf_bytes(3),
    "pdf_packed": files.pdf_assemble(files.pdf_objects(), packed={1, 2, 3}),
    "pdf_js": files.pdf_with("open_action_js"),
    "pdf_js_packed": files.pdf_with("names_js", packed=True),
    "pdf_encrypted": files.pdf_encrypted(),
    "png": files.png_bytes(),
    "jpeg": files.jpeg_bytes(),
    "tiff": files.tiff_bytes(),
    "png_flood": files.png_flood_bytes(),
    "rtf": b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Arial;}}\\f0 Tension : 12/8\\par}",
    "txt": "Tension le matin : 12/8 — à jeun ✓\n".encode(),
    "txt_bom": b"\xef\xbb\xbfGlyc\xc3\xa9mie 0,95 g/L\r\n",
}


# (label, bytes, name, expected type or None): the corpus the task lists, each
# with its decision written out (the oracle must agree).
CORPUS: list[tuple[str, bytes, str, str | None]] = [
    ("empty", b"", "vide.pdf", None),
    ("exe_named_pdf", b"MZ\x90\x00\x03" + bytes(200), "ordonnance.pdf", None),
    ("elf_named_txt", b"\x7fELF\x02\x01\x01" + bytes(100), "notes.txt", None),
    ("gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image.gif", None),
    ("html", b"<html><script>alert(1)</script></html>", "page.html", TXT),
    ("svg", b'<svg onload="alert(1)"/>', "image.svg", TXT),
    ("docx_zip", b"PK\x03\x04" + bytes(40), "lettre.docx", None),
    ("zip_bomb_named_pdf", files.zip_bomb_bytes(), "bilan.pdf", None),
    ("zip_bomb_named_txt", files.zip_bomb_bytes(), "bilan.txt", None),
    ("gzip_named_txt", zlib.compress(b"0" * 100_000), "notes.txt", None),
    ("pdf_truncated_header", b"%PDF-", "court.pdf", None),
    ("pdf_header_only", b"%PDF-1.7\n%%EOF\n", "vide.pdf", None),
    (
        "pdf_cut_in_half",
        files.pdf_bytes()[: len(files.pdf_bytes()) // 2],
        "a.pdf",
        None,
    ),
    ("png_signature_only", b"\x89PNG\r\n\x1a\n", "a.png", None),
    ("png_truncated_ihdr", files.png_bytes()[:20], "a.png", None),
    ("jpeg_soi_only", b"\xff\xd8\xff", "a.jpg", None),
    ("jpeg_truncated", files.jpeg_bytes()[:30], "a.jpg", None),
    ("tiff_header_only", b"II*\x00\x08\x00\x00\x00", "a.tif", None),
    ("pdf", files.pdf_bytes(), "compte-rendu.pdf", PDF),
    ("pdf_packed", SEEDS["pdf_packed"], "cr.pdf", PDF),
    (
        "pdf_hex_object_stream",
        files.pdf_assemble(
            files.pdf_objects(),
            packed={1, 2, 3},
            object_stream_filter=b"/ASCIIHexDecode",
        ),
        "cr.pdf",
        PDF,
    ),
    (
        "pdf_random_stream",
        files.pdf_with_stream(bytes(range(256)) * 4000),
        "s.pdf",
        PDF,
    ),
    (
        "pdf_names_in_image_bytes",  # compressed pixels where /JS turns up by chance
        files.pdf_with_stream(b"\x8f\x03/JS (x)\x00/Launch /EF<\xff" * 500),
        "scan.pdf",
        PDF,
    ),
    (
        "pdf_page_deflate_bomb",
        files.pdf_with_stream(b"\0" * 20_000_000, deflate=True),
        "bombe.pdf",
        PDF,
    ),
    ("pdf_object_stream_bomb", files.pdf_object_stream_bomb(), "bombe.pdf", None),
    ("pdf_encrypted_empty_password", files.pdf_encrypted(), "c.pdf", None),
    ("pdf_encrypted_password", files.pdf_encrypted("secret"), "c.pdf", None),
    ("pdf_pypdf_javascript", files.pdf_by_pypdf("javascript"), "js.pdf", None),
    ("pdf_pypdf_attachment", files.pdf_by_pypdf("attachment"), "pj.pdf", None),
    (
        "pdf_hex_object_stream_js",
        files.pdf_assemble(
            files.pdf_objects(catalog=b"/OpenAction 4 0 R", extra={4: files.JS_ACTION}),
            packed={1, 2, 3, 4},
            object_stream_filter=b"/ASCIIHexDecode",
        ),
        "js.pdf",
        None,
    ),
    (
        "pdf_plain_object_stream_js",
        files.pdf_assemble(
            files.pdf_objects(catalog=b"/OpenAction 4 0 R", extra={4: files.JS_ACTION}),
            packed={1, 2, 3, 4},
            object_stream_filter=b"",
        ),
        "js.pdf",
        None,
    ),
    ("pdf_also_zip", files.pdf_bytes() + files.zip_bomb_bytes(), "a.pdf", None),
    (
        "jpeg_then_html",
        files.jpeg_bytes() + b"<html><script>alert(1)</script>",
        "photo.jpg",
        JPEG,
    ),
    ("jpeg_then_zip", files.jpeg_bytes() + files.zip_bomb_bytes(), "photo.jpg", None),
    (
        "png_with_pdf_inside",
        files.png_bytes() + files.pdf_with("open_action_js"),
        "photo.png",
        PNG,
    ),
    ("png_flood", files.png_flood_bytes(), "a.png", None),
    ("png_9000_square", files.png_flood_bytes(9000, 9000), "a.png", None),
    ("png_60_megapixels", files.png_flood_bytes(7500, 8000), "a.png", PNG),
    ("png_just_over", files.png_flood_bytes(7500, 8001), "a.png", None),
    ("jpeg_flood", files.jpeg_flood_bytes(), "a.jpg", None),
    ("tiff_flood", files.tiff_flood_bytes(), "a.tif", None),
    ("tiff_big_endian_no_directory", b"MM\x00*" + bytes(4), "a.tif", None),
    ("tiff", files.tiff_bytes(), "scan.tif", TIFF),
    ("rtf", SEEDS["rtf"], "lettre.rtf", RTF),
    ("rtf_object", b"{\\rtf1{\\object\\objemb{\\*\\objdata 01050000}}}", "a.rtf", None),
    ("rtf_nul", b"{\\rtf1 texte\x00binaire}", "a.rtf", None),
    ("rtf_then_exe", b"{\\rtf1 a}" + b"MZ\x90\x00" + bytes(60), "a.rtf", None),
    ("txt_utf16_bom", "Bonjour\n".encode("utf-16"), "a.txt", None),
    ("txt_utf16_be", "Bonjour\n".encode("utf-16-be"), "a.txt", None),
    ("txt_latin1", "Fièvre à 39°\n".encode("latin-1"), "a.txt", None),
    ("txt_nul", b"texte\x00binaire", "a.txt", None),
    ("txt_escape_sequence", b"rouge \x1b[31m fin", "a.txt", None),
    ("txt_c1_control", "a\u0085b".encode(), "a.txt", None),
    ("txt_bom_only", b"\xef\xbb\xbf", "a.txt", None),
    ("txt_bom", SEEDS["txt_bom"], "a.txt", TXT),
    ("txt_tabs_and_breaks", b"a\tb\r\nc\x0cd\n", "a.txt", TXT),
    ("txt_bidi_and_emoji", "\u202eevil\u202c 💊 \u200b".encode(), "a.txt", TXT),
    ("txt_cut_utf8", "été".encode()[:-1], "a.txt", None),
    ("txt_overlong_utf8", b"\xc0\xaf", "a.txt", None),
    ("txt_surrogate_utf8", b"\xed\xa0\x80", "a.txt", None),
]


@pytest.mark.django_db
class SeedCorpusTestCase:
    @pytest.mark.parametrize(
        ("label", "data", "name", "decision"), CORPUS, ids=[c[0] for c in CORPUS]
    )
    def test_g_s15_dmp2_seed_corpus(
        self,
        ledger: Ledger,
        alice: User,
        alice_dmp: Beneficiary,
        label: str,
        data: bytes,
        name: str,
        decision: str | None,
    ) -> None:
        assert expected_type(data, PATIENT_LIMIT) == decision, "oracle disagrees"
        _check(ledger, actor=alice, patient=alice_dmp, data=data, name=name)

    @pytest.mark.parametrize(
        ("part", "packed"),
        [(p, packed) for p in files.PDF_ACTIVE_PARTS for packed in (False, True)],
    )
    def test_g_s15_dmp2_active_pdfs_refused_in_every_place(
        self,
        ledger: Ledger,
        alice: User,
        alice_dmp: Beneficiary,
        part: str,
        packed: bool,
    ) -> None:
        """JavaScript in the catalog, the names tree, annotations, page and
        field actions, chained actions, escaped names; launch actions, XFA,
        form submission, embedded files, rich media; plain or hidden in a
        compressed object stream."""
        data = files.pdf_with(part, packed=packed)
        assert expected_type(data, PATIENT_LIMIT) is None
        outcome = _check(
            ledger, actor=alice, patient=alice_dmp, data=data, name="a.pdf"
        )
        assert "JavaScript" in outcome.reason

    @pytest.mark.parametrize(
        ("part", "packed"),
        [(p, packed) for p in files.PDF_HARMLESS_PARTS for packed in (False, True)],
    )
    def test_g_s15_dmp2_harmless_pdfs_accepted(
        self,
        ledger: Ledger,
        alice: User,
        alice_dmp: Beneficiary,
        part: str,
        packed: bool,
    ) -> None:
        """Links, bookmarks and names that only look like /JS are fine."""
        data = files.pdf_with(part, packed=packed, harmless=True)
        assert expected_type(data, PATIENT_LIMIT) == PDF
        _check(ledger, actor=alice, patient=alice_dmp, data=data, name="a.pdf")


@pytest.mark.django_db
class LimitsTestCase:
    def test_g_s15_dmp2_a_100_mb_upload_is_refused_without_being_read_whole(
        self, ledger: Ledger, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        for actor in (alice, charlie_in_care):
            stream = files.LazyStream(b"%PDF-1.7\n", 100 * 1024 * 1024)
            outcome = _check(
                ledger,
                actor=actor,
                patient=alice_dmp,
                data=None,
                name="enorme.pdf",
                stream=io.BufferedReader(stream),
                expected=None,
            )
            assert "taille maximale" in outcome.reason
            assert stream.tell() <= settings.DMP_PROFESSIONAL_MAX_BYTES + 2 * 65536

    def test_g_s15_dmp2_the_patient_limit_is_5_mb_to_the_byte(
        self, ledger: Ledger, alice: User, alice_dmp: Beneficiary
    ) -> None:
        line = b"Tension 12/8\n"
        exact = files.LazyStream(line, PATIENT_LIMIT, line)
        _check(
            ledger,
            actor=alice,
            patient=alice_dmp,
            data=None,
            name="journal.txt",
            stream=io.BufferedReader(exact),
            expected=TXT,
        )
        over = files.LazyStream(line, PATIENT_LIMIT + 1, line)
        outcome = _check(
            ledger,
            actor=alice,
            patient=alice_dmp,
            data=None,
            name="journal.txt",
            stream=io.BufferedReader(over),
            expected=None,
        )
        assert "5 Mo" in outcome.reason

    def test_g_s15_pdfs_too_long_or_too_complex_to_check(
        self,
        ledger: Ledger,
        alice: User,
        alice_dmp: Beneficiary,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from dmp import uploads

        monkeypatch.setattr(uploads, "MAX_PDF_PAGES", 2)
        outcome = _check(
            ledger,
            actor=alice,
            patient=alice_dmp,
            data=files.pdf_bytes(3),
            name="long.pdf",
            expected=None,
        )
        assert "trop de pages" in outcome.reason
        monkeypatch.setattr(uploads, "MAX_PDF_OBJECTS", 2)
        outcome = _check(
            ledger,
            actor=alice,
            patient=alice_dmp,
            data=files.pdf_bytes(1),
            name="complexe.pdf",
            expected=None,
        )
        assert "trop complexe" in outcome.reason


# ---------------------------------------------------------------- generated


def _mutate(data: bytes, operation: str, position: int, payload: bytes) -> bytes:
    at = position % (len(data) + 1)
    if operation == "truncate":
        return data[:at]
    if operation == "flip":
        if not data:
            return data
        at %= len(data)
        return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    if operation == "insert":
        return data[:at] + payload + data[at:]
    if operation == "overwrite":
        return data[:at] + payload + data[at + len(payload) :]
    if operation == "append":
        return data + payload
    return payload + data  # prepend


PAYLOADS = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [
            b"/JavaScript",
            b"/JS (x)",
            b"/J#53",
            b"/Launch",
            b"/EmbeddedFile",
            b"/Encrypt 9 0 R",
            b"stream\n",
            b"endstream",
            b"\x00",
            b"\\objdata",
            b"PK\x05\x06" + bytes(18),
            b"<script>alert(1)</script>",
            b"\xef\xbb\xbf",
            b"%PDF-1.4\n",
        ]
    ),
)


@pytest.mark.django_db
class GeneratedUploadsTestCase:
    @fuzz(300)
    @given(data=st.binary(max_size=2048))
    def test_g_s15_random_bytes(
        self, ledger: Ledger, alice: User, alice_dmp: Beneficiary, data: bytes
    ) -> None:
        _check(ledger, actor=alice, patient=alice_dmp, data=data, name="fichier.pdf")

    @fuzz(450)
    @given(
        seed=st.sampled_from(sorted(SEEDS)),
        operations=st.lists(
            st.tuples(
                st.sampled_from(
                    ["truncate", "flip", "insert", "overwrite", "append", "prepend"]
                ),
                st.integers(min_value=0, max_value=1 << 20),
                PAYLOADS,
            ),
            min_size=1,
            max_size=3,
        ),
    )
    def test_g_s15_mutated_seeds(
        self,
        ledger: Ledger,
        alice: User,
        alice_dmp: Beneficiary,
        seed: str,
        operations: list[tuple[str, int, bytes]],
    ) -> None:
        """Truncated headers, flipped bytes, dangerous names slipped in,
        polyglots made by appending or prepending."""
        data = SEEDS[seed]
        for operation, position, payload in operations:
            data = _mutate(data, operation, position, payload)
        _check(ledger, actor=alice, patient=alice_dmp, data=data, name=f"{seed}.bin")

    @fuzz(250)
    @given(
        part=st.sampled_from(
            [(p, False) for p in files.PDF_ACTIVE_PARTS]
            + [(p, True) for p in files.PDF_HARMLESS_PARTS]
        ),
        packed=st.booleans(),
        noise=st.binary(min_size=0, max_size=20_000),
        deflate=st.booleans(),
    )
    def test_g_s15_pdfs_with_actions_and_binary_streams(
        self,
        ledger: Ledger,
        alice: User,
        alice_dmp: Beneficiary,
        part: tuple[str, bool],
        packed: bool,
        noise: bytes,
        deflate: bool,
    ) -> None:
        """Active or harmless parts, their objects plain or in an object
        stream, next to a page stream of arbitrary bytes (where "/JS" may
        turn up by chance: it must not matter)."""
        name, harmless = part
        catalog, page, extra = (
            files.PDF_HARMLESS_PARTS if harmless else files.PDF_ACTIVE_PARTS
        )[name]
        body = zlib.compress(noise) if deflate else noise
        stream = b"<< %s/Length %d >>\nstream\n" % (
            b"/Filter /FlateDecode " if deflate else b"",
            len(body),
        )
        objects = files.pdf_objects(
            catalog=catalog,
            page=page + b" /Contents 9 0 R",
            extra={**extra, 9: stream + body + b"\nendstream"},
        )
        chosen = (
            {n for n, b in objects.items() if b"stream" not in b} if packed else set()
        )
        data = files.pdf_assemble(objects, packed=chosen)
        outcome = _check(
            ledger, actor=alice, patient=alice_dmp, data=data, name="cr.pdf"
        )
        if b"endstream" not in noise and b"stream" not in noise:
            assert (outcome.document is None) == (not harmless)

    @fuzz(300)
    @given(
        text=st.text(max_size=300),
        encoding=st.sampled_from(
            ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1"]
        ),
        controls=st.lists(
            st.sampled_from("\x00\x01\x07\x08\x0b\x1b\x7f\x85\t\n\r\x0c"), max_size=2
        ),
    )
    def test_g_s15_text_edge_cases(
        self,
        ledger: Ledger,
        alice: User,
        alice_dmp: Beneficiary,
        text: str,
        encoding: str,
        controls: list[str],
    ) -> None:
        """UTF-8 with or without BOM, UTF-16, Latin-1, NUL and control
        characters; what Latin-1 cannot encode goes as UTF-8."""
        text = text + "".join(controls)
        try:
            data = text.encode(encoding)
        except (UnicodeEncodeError, UnicodeDecodeError):
            data = text.encode("utf-8", "surrogatepass")
        _check(ledger, actor=alice, patient=alice_dmp, data=data, name="note.txt")

    @fuzz(250)
    @given(
        kind=st.sampled_from(["png", "jpeg", "tiff"]),
        width=st.integers(min_value=0, max_value=100_000),
        height=st.integers(min_value=0, max_value=100_000),
    )
    def test_g_s15_pixel_floods(
        self,
        ledger: Ledger,
        alice: User,
        alice_dmp: Beneficiary,
        kind: str,
        width: int,
        height: int,
    ) -> None:
        """Headers announcing any size, the body left tiny."""
        if kind == "png":
            data = files.png_flood_bytes(width, height)
        elif kind == "jpeg":
            data = files.jpeg_flood_bytes(min(width, 65_535), min(height, 65_535))
        else:
            data = files.tiff_flood_bytes(width, height)
        outcome = _check(
            ledger, actor=alice, patient=alice_dmp, data=data, name="photo"
        )
        pixels = _pixels(data, {"png": PNG, "jpeg": JPEG, "tiff": TIFF}[kind])
        if outcome.document is not None:
            assert pixels is not None and pixels <= MAX_PIXELS

    @fuzz(150)
    @given(
        body=st.binary(max_size=200),
        words=st.lists(
            st.sampled_from(
                [
                    b"\\object",
                    b"\\objdata",
                    b"\\objemb",
                    b"\\par",
                    b"\\b",
                    b"\\'e9",
                    b"\x00",
                    b"\\bin4 ",
                    b"{\\*\\x}",
                ]
            ),
            max_size=3,
        ),
    )
    def test_g_s15_rtf_edge_cases(
        self,
        ledger: Ledger,
        alice: User,
        alice_dmp: Beneficiary,
        body: bytes,
        words: list[bytes],
    ) -> None:
        data = b"{\\rtf1\\ansi " + b" ".join(words) + body + b"}"
        _check(ledger, actor=alice, patient=alice_dmp, data=data, name="lettre.rtf")


ODD_NAMES = [
    "../../etc/passwd",
    "..\\..\\windows\\system32\\config",
    "/etc/shadow",
    "C:\\Users\\alice\\compte-rendu.pdf",
    "\\\\serveur\\partage\\x.pdf",
    "scan\x00.pdf.exe",
    "facture\u202egpj.exe",
    "\u202ecod.exe",
    "photo.jpg.exe",
    "ordonnance.pdf.html",
    "a" * 10_000 + ".pdf",
    "é" * 500,
    "💊🩺🧬.pdf",
    "👨‍👩‍👧 famille.png",
    "",
    ".",
    "..",
    "...",
    ". . .",
    "   ",
    ".htaccess",
    "con.txt",
    "nom\r\nSet-Cookie: x=1",
    'guillemets"; filename="x.exe',
    "ligne\u2028suivante.txt",
    "\ufeffbom.txt",
    "\ud800\udfff.txt",
    "e\u0301te\u0301.pdf",
    "zero\u200bwidth.pdf",
]


@pytest.mark.django_db
class FileNamesTestCase:
    @pytest.mark.parametrize("name", ODD_NAMES, ids=range(len(ODD_NAMES)))
    def test_g_s15_odd_names_are_cleaned(
        self, ledger: Ledger, alice: User, alice_dmp: Beneficiary, name: str
    ) -> None:
        outcome = _check(
            ledger, actor=alice, patient=alice_dmp, data=files.pdf_bytes(), name=name
        )
        assert outcome.document is not None

    @fuzz(250)
    @given(
        name=st.one_of(
            st.text(max_size=400),
            st.builds(
                lambda parts, ext: "/".join(parts) + ext,
                st.lists(
                    st.sampled_from(["..", ".", "", "etc", "\\", "C:"]), max_size=6
                ),
                st.sampled_from(
                    ["", ".pdf", ".png.exe", ".txt\x00.exe", "\u202egpj.exe"]
                ),
            ),
        ),
        seed=st.sampled_from(["png", "txt", "rtf", "jpeg", "tiff", "pdf"]),
    )
    def test_g_s15_generated_names(
        self, ledger: Ledger, alice: User, alice_dmp: Beneficiary, name: str, seed: str
    ) -> None:
        outcome = _check(
            ledger, actor=alice, patient=alice_dmp, data=SEEDS[seed], name=name
        )
        assert outcome.document is not None


@pytest.mark.django_db
class ProfessionalUploadTestCase:
    @fuzz(100)
    @given(
        seed=st.sampled_from(sorted(SEEDS)),
        cut=st.integers(min_value=0, max_value=4096),
    )
    def test_g_s15_the_professional_side_follows_the_same_policy(
        self,
        ledger: Ledger,
        alice_dmp: Beneficiary,
        charlie_in_care: User,
        seed: str,
        cut: int,
    ) -> None:
        data = SEEDS[seed][: max(cut, 1) if cut % 3 else len(SEEDS[seed])]
        _check(
            ledger,
            actor=charlie_in_care,
            patient=alice_dmp,
            data=data,
            name=f"{seed}-{uuid.uuid4().hex[:4]}",
            limit=settings.DMP_PROFESSIONAL_MAX_BYTES,
        )

    def test_cons1_cons2_refused_depositors_store_nothing(
        self, alice_dmp: Beneficiary, victor: User, eve: User
    ) -> None:
        """The refusal test of this file: not in care, another patient."""
        from django.core.exceptions import PermissionDenied

        for actor in (victor, eve):
            with pytest.raises(PermissionDenied):
                services.document_deposit(
                    actor=actor,
                    patient=alice_dmp,
                    stream=io.BytesIO(files.pdf_bytes()),
                    file_name="a.pdf",
                    title="Résultat",
                    type_code="11502-2",
                )
        assert Document.objects.count() == 0
        assert _files_under(_storage_root()) == set()
