"""Information letters as PDFs (LC-2, G-P2) against bare WeasyPrint.

Single mode: `espace.notifications.notification_send` for one pending letter
(claim, code issued and hashed, audit rows, template, PDF, outbox file, marked
sent, space informed with its history row) against a bare
`weasyprint.HTML(string=same_html).write_pdf()` of that letter's HTML, with
WeasyPrint's defaults (default URL fetcher, new font configuration). Goals:
≥ 10 letters/s per core and ≤ 1.3× the bare render.

Batch mode: `letters_print_batch` of 200 letters into one PDF, against the
same 200 HTML documents rendered bare and written as one PDF. Goal: ≥ 30
pages/s per core. One process, one thread: per process is per core.

Wall-clock figures move with the machine's load; the CPU-time rows (this
thread only) show what the rendering itself costs.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from unittest import mock

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from weasyprint import HTML

from bench.common import Context, Row, compare, no_gc
from espace import notifications
from espace.models import Beneficiary, Notification, PrintBatch, Space

SINGLE = 40
WARMUP = 4
BATCH = 200
G_P2 = "G-P2"
NIR_PREFIX = "2990199"  # born 1999-01 abroad: never a demo or test NIR
CITIES = ["Paris", "Lyon", "Marseille", "Toulouse", "Lille", "Reims", "Nantes"]


def run(ctx: Context) -> list[Row]:
    ctx.database()
    _clear()
    try:
        rows = _single()
        rows += _batch()
    finally:
        _clear()
    return rows


def _clear() -> None:
    beneficiaries = Beneficiary.objects.filter(nir__startswith=NIR_PREFIX)
    with transaction.atomic():
        Notification.objects.filter(beneficiary__in=beneficiaries).delete()
        Space.objects.filter(beneficiary__in=beneficiaries).delete()
        beneficiaries.delete()
        PrintBatch.objects.filter(notifications__isnull=True).delete()


def _letters(count: int, start: int) -> list[int]:
    """`count` beneficiaries known only by post, their spaces, their letters."""
    people = Beneficiary.objects.bulk_create(
        Beneficiary(
            nir=f"{NIR_PREFIX}{n:06d}{n % 97:02d}",
            birth_name=f"BANC{n}",
            first_names="CLAUDE MARIE",
            sex="F" if n % 2 else "M",
            birth_date=timezone.now().date().replace(year=1999, month=1, day=1),
            birth_place_code="99100",
            vitale_serial=f"BENCH{n:08d}",
            address=f"{n} avenue de la République\nBâtiment B, escalier 3",
            postal_code=f"{75001 + n % 20:05d}",
            city=CITIES[n % len(CITIES)],
        )
        for n in range(start, start + count)
    )
    Space.objects.bulk_create(Space(beneficiary=b) for b in people)
    notifications.information_enqueue(limit=count)
    return notifications.notifications_pending(
        channel=Notification.Channel.LETTER, limit=count
    )


def _html_of(notification_id: int) -> str:
    """The letter HTML our path renders for this notification (a fresh code)."""
    notification = Notification.objects.select_related("beneficiary").get(
        pk=notification_id
    )
    context = notifications._context(
        beneficiary=notification.beneficiary,
        code="ABCDEFGHJKMN",
        sent_at=timezone.now(),
        reference=notifications._reference(notification),
    )
    return notifications.letter_html(context)


def _bare(html: str) -> bytes:
    return bytes(HTML(string=html).write_pdf())


def _single() -> list[Row]:
    ids = _letters(SINGLE + WARMUP, start=1)
    htmls = [_html_of(pk) for pk in ids]

    def ours(i: int) -> None:
        assert notifications.notification_send(notification_id=ids[i + WARMUP])

    def bare(i: int) -> None:
        _bare(htmls[i + WARMUP])

    bare_us, ours_us = compare(bare, ours, reps=SINGLE, warmup=WARMUP, rounds=4)

    # CPU time of this thread, same letters again (bare renders only).
    cpu_bare = _cpu_per_call(lambda: [_bare(h) for h in htmls[:SINGLE]], SINGLE)
    return [
        Row(
            "single letter, notification_send",
            ours_us,
            "us",
            bare_us,
            max_ratio=1.3,
            goal_id=G_P2,
        ),
        Row(
            "single letter (≤ 100 ms = ≥ 10 letters/s/core)",
            ours_us,
            "us",
            max_value=100_000,
            goal_id=G_P2,
        ),
        Row("single letters/s, our path", 1e6 / ours_us, "/s"),
        Row("single letters/s, bare WeasyPrint", 1e6 / bare_us, "/s"),
        Row("bare render, CPU time per letter", cpu_bare, "us"),
    ]


def _cpu_per_call(fn: object, count: int) -> float:
    with no_gc():
        start = time.thread_time()
        fn()  # type: ignore[operator]
        return (time.thread_time() - start) / count * 1e6


def _pages(pdf: bytes) -> int | None:
    if not shutil.which("pdfinfo"):
        return None
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        Path(file.name).write_bytes(pdf)
        info = subprocess.run(
            ["pdfinfo", file.name], capture_output=True, text=True, check=True
        ).stdout
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


def _batch() -> list[Row]:
    _letters(BATCH, start=1001)
    captured: list[list[str]] = []
    real = notifications.render_many

    def spy(htmls: list[str]) -> bytes:
        captured.append(list(htmls))
        return real(htmls)

    with mock.patch.object(notifications, "render_many", spy), no_gc():
        wall_start, cpu_start = time.perf_counter(), time.thread_time()
        batch = notifications.letters_print_batch(limit=BATCH)
        ours_s = time.perf_counter() - wall_start
        ours_cpu = time.thread_time() - cpu_start
    assert batch is not None
    with default_storage.open(batch.file) as stored:
        pdf = stored.read()
    pages = _pages(pdf) or BATCH
    htmls = captured[0]

    with no_gc():
        wall_start, cpu_start = time.perf_counter(), time.thread_time()
        documents = [HTML(string=html).render() for html in htmls]
        all_pages = [page for document in documents for page in document.pages]
        documents[0].copy(all_pages).write_pdf()
        bare_s = time.perf_counter() - wall_start
        bare_cpu = time.thread_time() - cpu_start
    return [
        Row(f"batch {BATCH} letters: pages in the PDF", pages, "", BATCH),
        Row(
            "batch, per page (≤ 33.3 ms = ≥ 30 pages/s/core)",
            ours_s / pages * 1e6,
            "us",
            bare_s / len(all_pages) * 1e6,
            max_value=1e6 / 30,
            goal_id=G_P2,
        ),
        Row("batch pages/s, letters_print_batch", pages / ours_s, "/s"),
        Row("batch pages/s, bare WeasyPrint", len(all_pages) / bare_s, "/s"),
        Row("batch, CPU time per page", ours_cpu / pages * 1e6, "us"),
        Row("batch bare, CPU time per page", bare_cpu / len(all_pages) * 1e6, "us"),
    ]
