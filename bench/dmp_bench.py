"""DMP documents: the list API (G-P4) and a 10 MiB deposit (G-P8).

(a) `GET /api/v1/dmp/documents/` (a page of 20, with the policy, one audit
entry and the titles decrypted) for a patient with 10 and then 1,000
documents, against a plain DRF `ListAPIView` + `ModelSerializer` of the same
rows and page (no policy, no audit, no title), both through the test client
(session, second factor and every middleware) in the same process, in
alternating blocks. The number of queries must not move with the record's
size; the médecin traitant's list and the DRF hello view (`me/`) are printed
too.

(b) `dmp.services.document_deposit` of a 10 MiB PDF read from a file on disk
(as Django spools an upload): sniffing, size, SHA-256, PDF scan and structure,
encryption, storage, the row and its audit entry; against a raw copy of the
same bytes from that file to another file. Peak memory is the resident set
(`VmHWM` of /proc/self/status, reset through /proc/self/clear_refs) above the
resident set just before one deposit, plus tracemalloc's peak of Python
allocations.

PostgreSQL only: on SQLite the figures would say nothing about production.
"""

from __future__ import annotations

import gc
import hashlib
import random
import shutil
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import include, path
from django.utils import timezone
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination

from bench.common import Context, Row, compare
from bench.people import patient_and_doctor, verified_client
from dmp.models import Document

MIB = 1024 * 1024
LIST_SIZES = (10, 1_000)
LIST_REPS, LIST_WARMUP = 200, 20
UPLOAD_BYTES = 10 * MIB
UPLOAD_REPS, UPLOAD_WARMUP = 12, 2
G_P4, G_P8 = "G-P4", "G-P8"
TABLES = (
    "audit_auditevent",
    "dmp_document",
    "dmp_folder",
    "espace_notification",
    "consent_carerelationship",
    "consent_block",
    "espace_space",
    "espace_legalrepresentation",
    "espace_beneficiary",
    "espace_professional",
    "espace_user",
)
OURS = "/api/v1/dmp/documents/"
PLAIN = "/bench/plain-documents/"
HELLO = "/api/v1/me/"


# ------------------------------------------------- the baseline (a plain list)


class PlainDocumentSerializer(serializers.ModelSerializer[Document]):
    class Meta:
        model = Document
        # The title is encrypted: decrypting it is part of what ours adds.
        fields = (
            "id",
            "type_code",
            "class_code",
            "author_professional",
            "document_date",
            "created_at",
            "size",
            "mime_type",
            "masked",
            "version",
        )


class PlainPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class PlainDocumentListApi(generics.ListAPIView[Document]):
    serializer_class = PlainDocumentSerializer
    pagination_class = PlainPagination

    def get_queryset(self) -> Any:
        return Document.objects.filter(
            patient_id=self.request.query_params["patient"],
            status=Document.Status.CURRENT,
        ).order_by("-document_date", "-created_at", "-id")


# This module is the URL conf while the bench runs: the project's routes and
# the baseline's.
urlpatterns = [
    path(PLAIN.strip("/") + "/", PlainDocumentListApi.as_view()),
    path("", include("config.urls")),
]


def run(ctx: Context) -> list[Row]:
    if ctx.database() != "postgresql":
        return [Row("skipped: set DATABASE_URL to a PostgreSQL database", 0, "")]
    _truncate()
    scratch = ctx.scratch("dmp")
    # WhiteNoise warns about a missing static folder at the first request.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    try:
        patient_user, patient, doctor = patient_and_doctor()
        with override_settings(
            ROOT_URLCONF=__name__, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]
        ):
            rows = _list(patient_user, patient, doctor)
        rows += _upload(scratch, patient, doctor)
    finally:
        _truncate()
        ctx.drop_scratch(scratch)
    return rows


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


def _add_documents(patient: Any, doctor: Any, count: int, start: int) -> None:
    import datetime as dt

    today = timezone.localdate()
    Document.objects.bulk_create(
        [
            Document(
                patient=patient,
                title=f"Compte rendu de consultation {i}",
                type_code="11488-4",
                class_code="10",
                mime_type="application/pdf",
                size=100_000 + i,
                sha256="0" * 64,
                file=f"dmp/{patient.pk}/bench-{i}",
                file_name=f"cr-{i}.pdf",
                author_professional=doctor,
                deposited_by=doctor.user,
                document_date=today - dt.timedelta(days=i % 3650),
            )
            for i in range(start, start + count)
        ],
        batch_size=500,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dmp_document")


def _get(client: Client, url: str, query: dict[str, Any]) -> Callable[[int], object]:
    def call(_i: int) -> None:
        response = client.get(url, query)
        assert response.status_code == 200, (url, response.status_code)

    return call


def _with_audit(
    call: Callable[[int], object], actor: Any, patient: Any
) -> Callable[[int], object]:
    from audit.services import audit_record

    def both(i: int) -> None:
        call(i)
        audit_record(
            actor=actor,
            action="R",
            target="dmp.document",
            patient=patient,
            code="bench.floor",
        )

    return both


def _queries(call: Callable[[int], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call(0)
    return len(captured)


def _list(patient_user: Any, patient: Any, doctor: Any) -> list[Row]:
    rows: list[Row] = []
    patient_client, doctor_client = (
        verified_client(patient_user),
        verified_client(doctor.user),
    )
    query = {"patient": patient.pk}
    plain = _get(patient_client, PLAIN, query)
    ours = _get(patient_client, OURS, query)
    doctors = _get(doctor_client, OURS, query)
    counts: dict[int, tuple[int, int, int]] = {}
    have = 0
    for size in LIST_SIZES:
        _add_documents(patient, doctor, size - have, have)
        have = size
        for call in (plain, ours, doctors):
            call(-1)  # the session's first request, the first access's notice
        counts[size] = (_queries(plain), _queries(ours), _queries(doctors))
        base, mine = compare(plain, ours, reps=LIST_REPS, warmup=LIST_WARMUP)
        rows.append(Row(f"plain DRF list, page of 20 of {size:,}", base, "us"))
        rows.append(
            Row(
                f"our list (policy, audit, titles), page of 20 of {size:,}",
                mine,
                "us",
                base,
                max_ratio=1.5,
                goal_id=G_P4,
            )
        )
        if size == LIST_SIZES[-1]:
            # What no list that audits its reads can avoid: the plain list plus
            # one hash-chained audit entry (its own transaction, as ours).
            floor, mine = compare(
                _with_audit(plain, patient_user, patient),
                ours,
                reps=LIST_REPS,
                warmup=LIST_WARMUP,
            )
            rows.append(Row("  floor: plain DRF list + one audit entry", floor, "us"))
            rows.append(Row("  our list against that floor", mine, "us", floor))
            base, mine = compare(plain, doctors, reps=LIST_REPS, warmup=LIST_WARMUP)
            rows.append(
                Row(
                    f"médecin traitant's list, page of 20 of {size:,}",
                    mine,
                    "us",
                    base,
                    max_ratio=1.5,
                    goal_id=G_P4,
                )
            )
            hello = _get(patient_client, HELLO, {})
            base, mine = compare(hello, ours, reps=LIST_REPS, warmup=LIST_WARMUP)
            rows.append(Row("DRF hello view (me/)", base, "us"))
            rows.append(
                Row(
                    f"our list against the hello view ({size:,})",
                    mine,
                    "us",
                    base,
                    max_ratio=10.0,
                    goal_id=G_P4,
                )
            )
    small, large = LIST_SIZES
    for side, label in ((1, "our list"), (2, "médecin traitant's list")):
        rows.append(
            Row(
                f"queries, {label}: {large:,} documents (baseline {small})",
                counts[large][side],
                "",
                counts[small][side],
                max_ratio=1.0,
                goal_id="G-P4 constant",
            )
        )
    rows.append(
        Row(
            f"queries, plain DRF list: {large:,} documents (baseline {small})",
            counts[large][0],
            "",
            counts[small][0],
        )
    )
    return rows


# ------------------------------------------------------------------ upload


def _pdf(path: Path, size: int) -> None:
    """A valid one-page PDF of about `size` bytes: its content stream is
    seeded noise without "/" (noise can spell "/JS" by chance, which the
    scanner refuses)."""
    noise = random.Random(8).randbytes(size).replace(b"/", b"0")
    parts = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
    offsets = []
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>",
        b"<</Length %d>>\nstream\n" % len(noise) + noise + b"\nendstream",
    ]
    for number, body in enumerate(objects, start=1):
        offsets.append(sum(len(p) for p in parts))
        parts.append(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = sum(len(p) for p in parts)
    table = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    parts.append(b"xref\n0 5\n0000000000 65535 f \n" + table)
    parts.append(b"trailer\n<</Size 5/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % xref)
    path.write_bytes(b"".join(parts))


def _status(field: str) -> int:
    """A /proc/self/status figure, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def _peak_above_idle(fn: Callable[[], object]) -> tuple[int, int, int]:
    """(idle RSS, peak RSS above it, tracemalloc peak), in KiB, during one
    call each."""
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    idle = _status("VmRSS")
    fn()
    rss = _status("VmHWM") - idle
    tracemalloc.start()
    try:
        fn()
        python = tracemalloc.get_traced_memory()[1] // 1024
    finally:
        tracemalloc.stop()
    return idle, rss, python


def _upload(scratch: Path, patient: Any, doctor: Any) -> list[Row]:
    from django.core.files.storage import default_storage

    from dmp.services import document_deposit
    from dmp.uploads import check_upload
    from espace.tasks import notification_send

    source = scratch / "scan.pdf"
    _pdf(source, UPLOAD_BYTES)
    size = source.stat().st_size
    stored: list[str] = []

    def raw_copy(i: int) -> None:
        with source.open("rb") as stream, (scratch / f"raw-{i}").open("wb") as out:
            shutil.copyfileobj(stream, out, 64 * 1024)

    def deposit(_i: int) -> None:
        with source.open("rb") as stream:
            document = document_deposit(
                actor=doctor.user,
                patient=patient,
                stream=stream,
                file_name="scan.pdf",
                title="Compte rendu d'imagerie",
                type_code="18748-4",
            )
        stored.append(document.file)

    def clean(i: int) -> None:
        (scratch / f"raw-{i}").unlink(missing_ok=True)
        while stored:
            default_storage.delete(stored.pop())

    def check(_i: int) -> None:
        with source.open("rb") as stream:
            check_upload(stream, name="scan.pdf", max_bytes=2 * size)

    def sha256(_i: int) -> None:
        # DMP-1 stores every document's SHA-256: a floor no deposit avoids
        digest = hashlib.sha256()
        with source.open("rb") as stream:
            while chunk := stream.read(64 * 1024):
                digest.update(chunk)

    # The e-mail telling the patient is a Celery task: enqueued, not sent here.
    with mock.patch.object(notification_send, "delay"):

        def once() -> None:
            deposit(0)
            clean(0)

        once()  # modules loaded, connection open: then memory, before timings
        idle, rss, python = _peak_above_idle(once)
        raw, ours = compare(
            raw_copy, deposit, reps=UPLOAD_REPS, warmup=UPLOAD_WARMUP, between=clean
        )
        _raw, checks = compare(
            raw_copy, check, reps=UPLOAD_REPS, warmup=UPLOAD_WARMUP, between=clean
        )
        _raw, hashing = compare(
            raw_copy, sha256, reps=UPLOAD_REPS, warmup=UPLOAD_WARMUP, between=clean
        )
    label = f"{size / MIB:.0f} MiB PDF"
    return [
        Row(f"raw copy of the {label} to a file", raw, "us"),
        Row(
            f"document_deposit {label} (checks, encryption, storage, row, audit)",
            ours,
            "us",
            raw,
            max_ratio=2.0,
            goal_id=G_P8,
        ),
        Row(f"  of which check_upload alone {label}", checks, "us", raw),
        Row(f"  floor: reading and SHA-256 of the {label} alone", hashing, "us", raw),
        Row("idle RSS before one deposit (VmRSS)", idle, " KiB"),
        Row(
            "peak RSS above idle during one deposit (VmHWM)",
            rss,
            " KiB",
            max_value=64 * 1024,
            goal_id=G_P8,
        ),
        Row("  tracemalloc peak of Python allocations", python, " KiB"),
    ]
