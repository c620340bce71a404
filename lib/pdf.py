"""PDF rendering with WeasyPrint (LC-2 letters, LC-4 receipts); knows no model.

Every document gets an explicit `base_url` and a URL fetcher that serves local
files from a few allowed folders and nothing else: no network (a template can
never leak a request to the outside), and no `urllib` opener with an HTTPS
handler built per document (≈ 19 ms each, see G-P2 in the performance notes).
Fonts come from fontconfig (DejaVu on the Debian image); with Debian's
`libharfbuzz-subset0` installed, WeasyPrint subsets them in C.

Style sheets are parsed once per process, not once per letter: the
`<style>` elements of a document are taken out and passed to WeasyPrint as
`CSS` objects kept in a small cache (parsing and compiling the selectors of
the letter's CSS costs about as much as laying out half of its page). The
rendering is the same: with no author style sheet left, the cached sheets
(user origin) override the user-agent defaults exactly as the `<style>`
element did. The font configuration is shared too: it only caches font files
and `@font-face` rules, never a document's content.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import DataHandler, Request

# WeasyPrint logs each rendering step at INFO on "weasyprint.progress": seven
# lines per letter, a cost of their own in batches. settings.LOGGING does not
# name this logger, so it is quietened here, before WeasyPrint's import logs.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

from weasyprint import CSS, HTML  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402


class LocalFileFetcher(URLFetcher):  # type: ignore[misc]  # untyped base
    """Serve `file:` URLs under `roots`; refuse every other URL.

    WeasyPrint catches the error, logs a warning and draws the document
    without the resource: a missing logo never stops a letter.
    """

    def __init__(self, roots: Sequence[Path]) -> None:
        # Deliberately skip URLFetcher.__init__: it installs urllib handlers
        # (HTTP, HTTPS, FTP, proxies) that this fetcher never uses.
        self._roots = tuple(root.resolve() for root in roots)
        self._fail_on_errors = False
        self._timeout = 0
        self._http_headers: dict[str, str] = {}
        self._allowed_protocols = ("file", "data")
        self._request = None

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "data":  # inline images: nothing to fetch
            response = DataHandler().data_open(Request(url))  # noqa: S310 - data: only
            return URLFetcherResponse(
                url, response.read(), {"Content-Type": response.headers["Content-Type"]}
            )
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"refused URL scheme: {parts.scheme or '?'}")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self._roots):
            raise ValueError("refused path outside the allowed folders")
        if not path.is_file():
            raise FileNotFoundError(path.name)
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), {"Content-Type": mime_type}
        )


_state = threading.local()


def _default_roots() -> tuple[Path, ...]:
    from django.conf import settings

    base = Path(settings.BASE_DIR)
    return (base / "static", base / "templates" / "letters")


def _fetcher() -> LocalFileFetcher:
    fetcher = getattr(_state, "fetcher", None)
    if fetcher is None:
        fetcher = _state.fetcher = LocalFileFetcher(_default_roots())
    return fetcher


def _font_config() -> FontConfiguration:
    # One per thread: FontConfiguration holds a Pango font map, which is not
    # meant to be shared between threads.
    config = getattr(_state, "font_config", None)
    if config is None:
        config = _state.font_config = FontConfiguration()
    return config


def _base_url() -> str:
    return _default_roots()[0].as_uri() + "/"


_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)
_MAX_SHEETS = 32


def _stylesheet(text: str) -> Any:
    sheets: dict[str, Any] = _state.__dict__.setdefault("sheets", {})
    sheet = sheets.get(text)
    if sheet is None:
        if len(sheets) >= _MAX_SHEETS:
            sheets.clear()
        sheet = sheets[text] = CSS(
            string=text,
            base_url=_base_url(),
            url_fetcher=_fetcher(),
            font_config=_font_config(),
        )
    return sheet


def _document(html: str) -> Any:
    sheets = [_stylesheet(match.group(1)) for match in _STYLE.finditer(html)]
    body = _STYLE.sub("", html) if sheets else html
    return HTML(string=body, base_url=_base_url(), url_fetcher=_fetcher()).render(
        stylesheets=sheets, font_config=_font_config()
    )


def render_pdf(html: str) -> bytes:
    """One HTML document (with its own `@page` CSS) → PDF bytes."""
    return bytes(_document(html).write_pdf())


def render_many(htmls: Sequence[str]) -> bytes:
    """Many HTML documents → one PDF, each starting on a new page.

    Consecutive documents with the same head (same style sheet: letters of
    one template family) are laid out as **one** document whose body holds
    each letter's body in a `div.mes-sheet`, with a page break between them:
    WeasyPrint's per-document costs (cascade set-up, page boxes, margin
    boxes) are paid once per group instead of once per letter, about a third
    of the time of a one-page letter (G-P2, batch mode). Documents that do
    not fit that shape (no `<body>`, or a different head) are laid out on
    their own. Pages are then put end to end and written once: fonts are
    embedded and subset once for the whole batch.
    """
    if not htmls:
        raise ValueError("render_many needs at least one document")
    documents = [_document(html) for html in _grouped(htmls)]
    pages = [page for document in documents for page in document.pages]
    return bytes(documents[0].copy(pages).write_pdf())


_BODY = re.compile(
    r"^(.*?<body[^>]*>)(.*)(</body>\s*</html>\s*)$", re.DOTALL | re.IGNORECASE
)
# Each letter starts on a new page (never a blank page at the end); appended
# to the group's own style sheet, so it is cached with it.
_SHEET_CSS = ".mes-sheet + .mes-sheet { break-before: page; }"


def _grouped(htmls: Sequence[str]) -> list[str]:
    """Runs of documents sharing a head, merged into one document each."""
    merged: list[str] = []
    head = tail = ""
    bodies: list[str] = []

    def close() -> None:
        if len(bodies) == 1:
            merged.append(head + bodies[0] + tail)
        elif bodies:
            sheets = "".join(f'<div class="mes-sheet">{body}</div>' for body in bodies)
            merged.append(_with_sheet_css(head) + sheets + tail)
        bodies.clear()

    for html in htmls:
        match = _BODY.match(html)
        if match is None:
            close()
            merged.append(html)
            head = tail = ""
            continue
        if match.group(1) != head or match.group(3) != tail:
            close()
            head, tail = match.group(1), match.group(3)
        bodies.append(match.group(2))
    close()
    return merged


def _with_sheet_css(head: str) -> str:
    """The head with the page-break rule added to its last style sheet (or a
    style element of its own when it has none)."""
    at = head.lower().rfind("</style>")
    if at < 0:
        at = head.lower().rfind("</head>")
        if at < 0:
            return head.replace("<body", f"<style>{_SHEET_CSS}</style><body", 1)
        return head[:at] + f"<style>{_SHEET_CSS}</style>" + head[at:]
    return head[:at] + _SHEET_CSS + head[at:]
