"""An upload handler that refuses to read an oversize file (DMP-2, SEC-8).

Registered first in `FILE_UPLOAD_HANDLERS`, it sees each chunk before the
handlers that keep it (in memory, then in a temporary file). Past the largest
limit any account has (`DMP_PROFESSIONAL_MAX_BYTES`, plus one byte so that the
exact limit is still judged by the service), it skips the rest of the file:
the other handlers drop what they kept, the remaining bytes are read and
thrown away (the other fields of the form are still parsed, the CSRF token
among them), and the request is marked so the view can say "trop
volumineux". A 2 GB upload never reaches the disk.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

MARK = "upload_too_large"


def upload_too_large(request: HttpRequest) -> bool:
    """Whether a file of this request was skipped for its size (read
    `request.FILES` or `request.POST` first: parsing is lazy)."""
    request.FILES  # noqa: B018 - parses the body if not done yet
    return bool(getattr(request, MARK, False))


class SizeLimitUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = int(settings.DMP_PROFESSIONAL_MAX_BYTES) + 1

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > self.limit:
            if self.request is not None:
                setattr(self.request, MARK, True)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> Any:
        return None  # the next handlers keep the file
