"""Small valid files for upload tests (DMP-2), made by the libraries."""

from __future__ import annotations

import functools
import io
from typing import Any


@functools.cache
def pdf_bytes(pages: int = 1) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@functools.cache
def png_bytes(width: int = 16, height: int = 16) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@functools.cache
def jpeg_bytes(width: int = 16, height: int = 16) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 30, 200)).save(out, format="JPEG")
    return out.getvalue()


def png_flood_bytes(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header announcing billions of pixels, with a tiny body:
    what a "pixel flood" upload looks like (G-S15)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- G-S15 seeds
# Files an attacker (or a clumsy scanner) would send: hand-assembled PDFs
# (object streams, actions in every place a reader looks), pypdf-made ones
# (encryption, attachments, scripts), image headers announcing floods, ZIP
# bombs, and a lazily generated stream for sizes that must not sit in memory.


def pdf_assemble(
    objects: dict[int, bytes],
    *,
    root: int = 1,
    packed: frozenset[int] | set[int] = frozenset(),
    trailer: bytes = b"",
    version: bytes = b"1.7",
    object_stream_filter: bytes = b"/FlateDecode",
) -> bytes:
    """A PDF written by hand: `objects` maps numbers to their body (a
    dictionary, or a dictionary followed by `stream … endstream`). The
    numbers in `packed` go into one compressed object stream (PDF 1.5),
    listed by a cross-reference stream; otherwise a classic xref table."""
    import zlib

    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        if number in packed:
            continue
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    if not packed:
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % size
        for number in range(1, size):
            if number in offsets:
                out += b"%010d 00000 n \n" % offsets[number]
            else:
                out += b"0000000000 65535 f \n"
        out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\n" % (size, root, trailer)
        out += b"startxref\n%d\n%%%%EOF\n" % xref
        return bytes(out)
    stream_number, xref_number = size, size + 1
    header, body = [], b""
    for number in sorted(packed):
        header.append(b"%d %d" % (number, len(body)))
        body += objects[number] + b"\n"
    first = b" ".join(header) + b"\n"
    content = first + body
    encoded = (
        zlib.compress(content)
        if object_stream_filter == b"/FlateDecode"
        else content.hex().encode() + b">"
        if object_stream_filter == b"/ASCIIHexDecode"
        else content
    )
    offsets[stream_number] = len(out)
    filter_entry = (
        b"/Filter %s " % object_stream_filter if object_stream_filter else b""
    )
    out += (
        b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d %s/Length %d >>\nstream\n"
        % (stream_number, len(packed), len(first), filter_entry, len(encoded))
        + encoded
        + b"\nendstream\nendobj\n"
    )
    offsets[xref_number] = len(out)
    rows = bytearray(b"\x00\x00\x00\x00\x00\xff\xff")
    index = {number: i for i, number in enumerate(sorted(packed))}
    for number in range(1, xref_number + 1):
        if number in index:
            rows += b"\x02" + stream_number.to_bytes(4, "big")
            rows += index[number].to_bytes(2, "big")
        elif number in offsets:
            rows += b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00\x00"
        else:
            rows += b"\x00\x00\x00\x00\x00\xff\xff"
    data = zlib.compress(bytes(rows))
    out += (
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root %d 0 R %s"
        b"/Filter /FlateDecode /Length %d >>\nstream\n"
        % (xref_number, xref_number + 1, root, trailer, len(data))
        + data
        + b"\nendstream\nendobj\n"
    )
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)


# The catalog, page tree and one page of a hand-made PDF, with places to add
# entries: `catalog` and `page` are inserted in those dictionaries.
def pdf_objects(
    *, catalog: bytes = b"", page: bytes = b"", extra: dict[int, bytes] | None = None
) -> dict[int, bytes]:
    return {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] " + page + b">>",
        **(extra or {}),
    }


JS_ACTION = b"<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\)) >>"

# Where a PDF can carry an active part, each as (catalog, page, extra objects).
PDF_ACTIVE_PARTS: dict[str, tuple[bytes, bytes, dict[int, bytes]]] = {
    "open_action_js": (b"/OpenAction 4 0 R", b"", {4: JS_ACTION}),
    "names_js": (
        b"/Names << /JavaScript 4 0 R >>",
        b"",
        {4: b"<< /Names [(a) 5 0 R] >>", 5: JS_ACTION},
    ),
    "annotation_js": (
        b"",
        b"/Annots [4 0 R]",
        {
            4: b"<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A 5 0 R >>",
            5: JS_ACTION,
        },
    ),
    "page_aa_js": (b"", b"/AA << /O 4 0 R >>", {4: JS_ACTION}),
    "outline_launch": (
        b"/Outlines 4 0 R",
        b"",
        {
            4: b"<< /Type /Outlines /First 5 0 R /Last 5 0 R /Count 1 >>",
            5: b"<< /Title (Lire) /Parent 4 0 R /A << /S /Launch /F (cmd.exe) >> >>",
        },
    ),
    "field_aa_js": (
        b"/AcroForm << /Fields [4 0 R] >>",
        b"",
        {4: b"<< /FT /Tx /T (nom) /AA << /K 5 0 R >> >>", 5: JS_ACTION},
    ),
    "next_array_js": (
        b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next [4 0 R] >>",
        b"",
        {4: JS_ACTION},
    ),
    "escaped_js": (
        b"/OpenAction << /S /J#61va#53cript /J#53 (app.alert\\(1\\)) >>",
        b"",
        {},
    ),
    "xfa": (b"/AcroForm << /Fields [] /XFA 4 0 R >>", b"", {4: b"[(config) 5 0 R]"}),
    "submit_form": (
        b"",
        b"/AA << /C << /S /SubmitForm /F (https://example.invalid/) >> >>",
        {},
    ),
    "attachment_annotation": (
        b"",
        b"/Annots [4 0 R]",
        {
            4: b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] "
            b"/FS << /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >> >>",
            5: b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",
        },
    ),
    "rich_media": (
        b"",
        b"/Annots [4 0 R]",
        {4: b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>"},
    ),
}

# The same places with harmless content: a reader goes to page 1, a link
# opens a web page. They must be accepted.
PDF_HARMLESS_PARTS: dict[str, tuple[bytes, bytes, dict[int, bytes]]] = {
    "open_action_goto": (b"/OpenAction [3 0 R /Fit]", b"", {}),
    "link_uri": (
        b"",
        b"/Annots [4 0 R]",
        {
            4: b"<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] "
            b"/A << /S /URI /URI (https://www.ameli.fr/) >> >>"
        },
    ),
    "outline_goto": (
        b"/Outlines 4 0 R",
        b"",
        {
            4: b"<< /Type /Outlines /First 5 0 R /Last 5 0 R /Count 1 >>",
            5: b"<< /Title (JS et JavaScript) /Parent 4 0 R /Dest [3 0 R /Fit] >>",
        },
    ),
    "names_lookalike": (b"/JSON (a) /JS2 (b) /JavaScripts (c)", b"", {}),
}


def pdf_with(part: str, *, packed: bool = False, harmless: bool = False) -> bytes:
    """A one-page PDF with one active (or harmless) part, its objects in a
    compressed object stream when `packed`."""
    catalog, page, extra = (PDF_HARMLESS_PARTS if harmless else PDF_ACTIVE_PARTS)[part]
    objects = pdf_objects(catalog=catalog, page=page, extra=extra)
    chosen = {n for n, body in objects.items() if b"stream" not in body}
    return pdf_assemble(objects, packed=chosen if packed else frozenset())


@functools.cache
def pdf_encrypted(password: str = "") -> bytes:
    """AES-encrypted by pypdf (an empty user password still encrypts)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(password, "proprietaire", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@functools.cache
def pdf_by_pypdf(kind: str) -> bytes:
    """pypdf's own ways of adding a script or a file: the document-level
    JavaScript name tree (`add_open_action`), an attachment."""
    from pypdf import PdfWriter
    from pypdf.actions import JavaScript

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if kind == "javascript":
        writer.add_open_action(JavaScript("app.alert('x');"))
    elif kind == "attachment":
        writer.add_attachment("notes.txt", b"fichier joint")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_stream(data: bytes, *, deflate: bool = False) -> bytes:
    """A one-page PDF whose page content is `data` (raw binary, or deflated
    by zlib): what scans and photos look like inside."""
    import zlib

    body = zlib.compress(data) if deflate else data
    filter_entry = b"/Filter /FlateDecode " if deflate else b""
    return pdf_assemble(
        pdf_objects(
            page=b"/Contents 4 0 R",
            extra={
                4: b"<< %s/Length %d >>\nstream\n" % (filter_entry, len(body))
                + body
                + b"\nendstream"
            },
        )
    )


@functools.cache
def deflate_bomb(size: int) -> bytes:
    """`size` zero bytes, deflated (about 1,000 times smaller)."""
    import zlib

    packer = zlib.compressobj(9)
    block = b"\x00" * (1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + packer.flush()


@functools.cache
def pdf_object_stream_bomb() -> bytes:
    """A PDF whose object stream inflates to 200 MiB."""
    bomb = deflate_bomb(200 * 1024 * 1024)
    objects = pdf_objects()
    out = pdf_assemble(objects, packed={1, 2, 3})
    # Swap the object stream's data for the bomb (same dictionary otherwise).
    start = out.index(b"/Type /ObjStm")
    begin = out.index(b"stream\n", start) + len(b"stream\n")
    end = out.index(b"\nendstream", begin)
    return out[:begin] + bomb + out[end:]


@functools.cache
def zip_bomb_bytes() -> bytes:
    """A ZIP archive of one 100 MiB file of zeros (about 100 KiB)."""
    import zipfile

    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("rapport.pdf", "w") as member,
    ):
        block = b"\x00" * (1024 * 1024)
        for _ in range(100):
            member.write(block)
    return out.getvalue()


@functools.cache
def tiff_bytes(width: int = 16, height: int = 16) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 200, 30)).save(out, format="TIFF")
    return out.getvalue()


def tiff_flood_bytes(width: int = 100_000, height: int = 100_000) -> bytes:
    """A little-endian TIFF whose ImageWidth and ImageLength tags (LONG)
    announce billions of pixels, strips left tiny."""
    import struct

    entries = [
        (256, 4, 1, width),  # ImageWidth
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # no compression
        (262, 3, 1, 1),  # BlackIsZero
        (273, 4, 1, 8),  # StripOffsets: the 8 bytes after the header
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, 8),  # StripByteCounts
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = (
            struct.pack("<H", value) + b"\0\0"
            if kind == 3
            else struct.pack("<I", value)
        )
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    ifd += b"\0\0\0\0"
    return b"II*\x00" + struct.pack("<I", 16) + b"\x00" * 8 + ifd


def jpeg_flood_bytes(width: int = 65_000, height: int = 65_000) -> bytes:
    """A small JPEG whose SOF0 header is rewritten to announce a huge size."""
    import struct

    data = bytearray(jpeg_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


class LazyStream(io.RawIOBase):
    """`size` bytes starting with `head`, then `fill` repeated, made as they
    are read: a 100 MB upload without 100 MB in memory."""

    def __init__(self, head: bytes, size: int, fill: bytes = b"0") -> None:
        self._head = head
        self._size = size
        self._fill = fill * (-(-64 * 1024 // len(fill)))  # whole repeats, 64 KiB+
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}
        self._position = max(0, base[whence] + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), self._size - self._position))
        out = bytearray()
        start = self._position
        if start < len(self._head):
            out += self._head[start : start + count]
        while len(out) < count:
            offset = (start + len(out) - len(self._head)) % len(self._fill)
            out += self._fill[offset : offset + count - len(out)]
        buffer[:count] = out[:count]
        self._position += count
        return count
