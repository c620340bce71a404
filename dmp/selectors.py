"""Actor-scoped reads of the DMP (STYLE R8): every one asks `consent.policy`
and writes exactly one audit entry, allowed or refused (G-S12). Missing and
forbidden both raise Http404.

Lists are set-based: one query for the decision's inputs, one for the rows,
whatever their number; masked, withheld and representative-hidden documents
are filtered in SQL, so they never reach a list, a count, a search, an
export or a notification (G-S3).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from audit.models import AuditEvent
from consent.policy import Access, Purpose, access_audit, access_for
from consent.services import access_notice
from dmp.models import Document, Folder
from espace.models import Beneficiary, User

Action = AuditEvent.Action


@dataclass(frozen=True)
class DocumentFilters:
    """What the list can be narrowed to (the patient's and the
    professional's list pages, the API)."""

    class_code: str = ""
    type_code: str = ""
    author: str = ""  # "patient", "professional", or a Professional id
    folder: uuid.UUID | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    search: str = ""  # in titles (decrypted: after the SQL filter)
    masked: bool | None = None


@dataclass
class DocumentList:
    access: Access
    documents: list[Document] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.documents)


def _decide(
    *,
    actor: User,
    patient: Beneficiary,
    code: str,
    target: object,
    request: HttpRequest | None,
    purpose: Purpose = Purpose.READ,
) -> Access:
    access = access_for(actor=actor, patient=patient, purpose=purpose)
    if not access.allowed:
        access_audit(
            access, action=Action.READ, target=target, code=code, request=request
        )
        raise Http404
    return access


def visible_documents(access: Access) -> QuerySet[Document]:
    """The current documents this access shows (no audit: callers audit)."""
    return Document.objects.filter(
        access.documents(), patient=access.patient, status=Document.Status.CURRENT
    )


def documents_list_for(
    *,
    actor: User,
    patient: Beneficiary,
    filters: DocumentFilters | None = None,
    request: HttpRequest | None = None,
    code: str = "dmp.documents.list",
) -> DocumentList:
    """The documents `actor` may see in `patient`'s DMP, newest first."""
    rows, access = documents_query_for(
        actor=actor, patient=patient, filters=filters, request=request, code=code
    )
    return DocumentList(access=access, documents=list(rows))


def documents_query_for(
    *,
    actor: User,
    patient: Beneficiary,
    filters: DocumentFilters | None = None,
    request: HttpRequest | None = None,
    code: str = "dmp.documents.list",
) -> tuple[QuerySet[Document], Access]:
    """The same list as a lazy queryset, for callers that page it (the API,
    G-P4): the decision and its audit entry are done, and only a count and one
    page are read, whatever the record's size. Titles are encrypted, so a
    search reads the (id, title) pairs of the filtered rows once and keeps
    the ids whose title has every word."""
    access = _decide(
        actor=actor,
        patient=patient,
        code=code,
        target="dmp.document",
        request=request,
    )
    filters = filters or DocumentFilters()
    rows = visible_documents(access).filter(_filter_q(filters))
    if filters.search.strip():
        words = filters.search.casefold().split()
        found = [
            d.pk
            for d in rows.only("id", "title")
            if all(w in str(d.title).casefold() for w in words)
        ]
        rows = rows.filter(pk__in=found)
    access_audit(
        access, action=Action.READ, target="dmp.document", code=code, request=request
    )
    access_notice(access)
    ordered = rows.select_related(
        "author_professional__user", "author_establishment", "folder"
    ).order_by("-document_date", "-created_at", "-id")
    return ordered, access


def _filter_q(filters: DocumentFilters) -> Q:
    q = Q()
    if filters.class_code:
        q &= Q(class_code=filters.class_code)
    if filters.type_code:
        q &= Q(type_code=filters.type_code)
    if filters.author == "patient":
        q &= Q(author_professional__isnull=True)
    elif filters.author == "professional":
        q &= Q(author_professional__isnull=False)
    elif filters.author.isdigit():
        q &= Q(author_professional_id=int(filters.author))
    if filters.folder is not None:
        q &= Q(folder_id=filters.folder)
    if filters.since is not None:
        q &= Q(document_date__gte=filters.since)
    if filters.until is not None:
        q &= Q(document_date__lte=filters.until)
    if filters.masked is not None:
        q &= Q(masked=filters.masked)
    return q


def document_get_for(
    *,
    actor: User,
    pk: uuid.UUID | str,
    request: HttpRequest | None = None,
    code: str = "dmp.document.read",
    purpose: Purpose = Purpose.READ,
) -> tuple[Document, Access]:
    """One document `actor` may see; missing and forbidden: Http404 (after
    auditing the refusal when the document exists)."""
    try:
        document = Document.objects.select_related(
            "patient", "author_professional__user", "folder"
        ).get(pk=pk)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    target = ("dmp.document", document.pk)
    access = _decide(
        actor=actor,
        patient=document.patient,
        code=code,
        target=target,
        request=request,
        purpose=purpose,
    )
    if (
        document.status != Document.Status.CURRENT
        or not visible_documents(access).filter(pk=document.pk).exists()
    ):
        access_audit(
            access,
            action=Action.READ,
            target=target,
            code=code,
            request=request,
            refused="not_visible",
        )
        raise Http404
    access_audit(access, action=Action.READ, target=target, code=code, request=request)
    access_notice(access)
    return document, access


def document_for_change(
    *, actor: User, pk: uuid.UUID | str, request: HttpRequest | None = None
) -> tuple[Document, Access]:
    """The document a write is about (mask, delete, move, announce, replace):
    it must be one `actor` sees. Not audited when found: the service that
    follows decides and audits once (G-S12); a refusal is audited here, as
    `dmp.document.change:refused.<why>`, then Http404."""
    try:
        document = Document.objects.select_related("patient").get(pk=pk)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    target = ("dmp.document", document.pk)
    access = access_for(actor=actor, patient=document.patient, purpose=Purpose.READ)
    visible = (
        access.allowed
        and document.status == Document.Status.CURRENT
        and visible_documents(access).filter(pk=document.pk).exists()
    )
    if not visible:
        access_audit(
            access,
            action=Action.UPDATE,
            target=target,
            code="dmp.document.change",
            request=request,
            refused="" if not access.allowed else "not_visible",
        )
        raise Http404
    return document, access


def document_open_for(
    *, actor: User, pk: uuid.UUID | str, request: HttpRequest | None = None
) -> tuple[Document, Iterator[bytes]]:
    """DMP-3: the decrypted file as a stream of chunks (memory stays flat)."""
    document, _access = document_get_for(
        actor=actor, pk=pk, request=request, code="dmp.document.download"
    )
    file = default_storage.open(document.file)

    def chunks() -> Iterator[bytes]:
        try:
            yield from file.chunks()
        finally:
            file.close()

    return document, chunks()


def document_history_for(*, actor: User, document: Document) -> list[Document]:
    """DMP-11: the earlier versions of a document (the chain of `replaces`),
    newest first, that the actor may see: each version keeps its own flags,
    so a withheld or representative-hidden first version stays hidden (G-S3).
    No audit of its own (the detail page's entry covers it)."""
    chain: list[uuid.UUID] = []
    current = document.replaces_id
    seen = {document.pk}
    while current is not None and current not in seen and len(chain) < 50:
        seen.add(current)
        chain.append(current)
        current = (
            Document.objects.filter(pk=current)
            .values_list("replaces_id", flat=True)
            .first()
        )
    if not chain:
        return []
    access = access_for(actor=actor, patient=document.patient, purpose=Purpose.READ)
    if not access.allowed:
        return []
    shown = {
        d.pk: d
        for d in Document.objects.filter(
            access.documents(), pk__in=chain, patient=document.patient
        )
    }
    return [shown[pk] for pk in chain if pk in shown]


def folders_for(*, access: Access) -> list[Folder]:
    """The patient's folders (patient side only), by name."""
    if not access.patient_side:
        return []
    return sorted(
        Folder.objects.filter(patient=access.patient),
        key=lambda f: str(f.name).casefold(),
    )
