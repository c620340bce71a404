"""HTML views of the DMP (STYLE R18). Files: one preview and one download
route shared by the patient's and the professionals' pages; the selector
decides and audits (missing and forbidden: the same 404)."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from django.http import Http404, StreamingHttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dmp.codes import PREVIEWABLE
from dmp.selectors import document_open_for
from espace.decorators import role_required
from lib.http import AuthenticatedHttpRequest


def content_disposition(kind: str, file_name: str) -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name (filename*)."""
    fallback = (
        file_name.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "")
        or "document"
    )
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"


def _file_response(
    request: AuthenticatedHttpRequest, pk: uuid.UUID, *, inline: bool
) -> StreamingHttpResponse:
    document, chunks = document_open_for(actor=request.user, pk=pk, request=request)
    if inline and document.mime_type not in PREVIEWABLE:
        chunks.close()  # type: ignore[attr-defined]
        raise Http404
    content_type = document.mime_type
    if content_type == "text/plain":
        content_type = "text/plain; charset=utf-8"
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Length"] = str(document.size)
    response["Content-Disposition"] = content_disposition(
        "inline" if inline else "attachment", str(document.file_name)
    )
    response["X-Content-Type-Options"] = "nosniff"
    # A file is never a page: no script, no plugin, even when shown inline.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    if inline:  # the preview is framed by our own document page
        response["X-Frame-Options"] = "SAMEORIGIN"
    return response


@never_cache
@require_GET
@role_required("patient", "professional")
def document_preview(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> StreamingHttpResponse:
    """DMP-3: PDF, images and text shown inline (A5.5); others are downloaded."""
    return _file_response(request, pk, inline=True)


@never_cache
@require_GET
@role_required("patient", "professional")
def document_download(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> StreamingHttpResponse:
    """DMP-3: the decrypted file, streamed, to authorised users only."""
    return _file_response(request, pk, inline=False)
