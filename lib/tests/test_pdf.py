"""lib.pdf.render_many: one PDF of many letters, each on its own pages (LC-2)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lib import pdf

STYLE_A = "<style>@page { size: A4; margin: 20mm } p { font-size: 11pt }</style>"
STYLE_B = "<style>@page { size: A4; margin: 30mm } p { font-size: 9pt }</style>"


def _letter(style: str, text: str, paragraphs: int = 1) -> str:
    body = "".join(f"<p>{text} ({n})</p>" for n in range(paragraphs))
    return f"<!doctype html><html><head>{style}</head><body>{body}</body></html>"


def _pages_text(tmp_path: Path, document: bytes) -> list[str]:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = tmp_path / "batch.pdf"
    path.write_bytes(document)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [" ".join(page.split()) for page in text.split("\f")][:-1]


def test_lc2_each_letter_starts_on_its_own_page(tmp_path: Path) -> None:
    """Letters sharing a style sheet are laid out together (speed, G-P2), yet
    each starts on a new page, a long one keeps its second page, and letters
    of another shape are laid out on their own, in order."""
    htmls = [
        _letter(STYLE_A, "Lettre un"),
        _letter(STYLE_A, "Lettre deux", paragraphs=80),  # two pages
        _letter(STYLE_A, "Lettre trois"),
        _letter(STYLE_B, "Lettre quatre"),
        "<p>Lettre cinq, sans corps ni tête</p>",
        _letter(STYLE_A, "Lettre six"),
    ]
    pages = _pages_text(tmp_path, pdf.render_many(htmls))
    firsts = [page.split(" (")[0] for page in pages]
    # The same pages as each letter rendered on its own, end to end.
    alone = [
        page.split(" (")[0]
        for html in htmls
        for page in _pages_text(tmp_path, pdf.render_pdf(html))
    ]
    assert firsts == alone
    assert [name for n, name in enumerate(firsts) if firsts[n - 1 : n] != [name]] == [
        "Lettre un",
        "Lettre deux",
        "Lettre trois",
        "Lettre quatre",
        "Lettre cinq, sans corps ni tête",
        "Lettre six",
    ]
    assert firsts.count("Lettre deux") >= 2
    assert pages[0] == "Lettre un (0)"


def test_grouping_merges_runs_with_the_same_head() -> None:
    htmls = [_letter(STYLE_A, "a"), _letter(STYLE_A, "b"), _letter(STYLE_B, "c")]
    merged = pdf._grouped(htmls)
    assert len(merged) == 2
    assert merged[0].count('<div class="mes-sheet">') == 2
    assert pdf._SHEET_CSS in merged[0]
    assert merged[1] == htmls[2]  # alone: untouched


def test_render_many_needs_a_document() -> None:
    with pytest.raises(ValueError):
        pdf.render_many([])
