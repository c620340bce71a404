"""The outbox (embedded default): e-mails, SMS and letters written as files.

`var/outbox/email/*.eml`, `var/outbox/sms/*.txt`, `var/outbox/letters/*.pdf`:
one file per message, named so that they sort by time. The demo and the
browser tests read one-time codes from here.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


def outbox_path(kind: str) -> Path:
    folder = Path(settings.OUTBOX_DIR) / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_name(suffix: str) -> str:
    return f"{time.time_ns()}-{uuid.uuid4().hex[:8]}{suffix}"


def write(kind: str, suffix: str, content: bytes) -> Path:
    """Write one outgoing item atomically (temporary name, then rename)."""
    folder = outbox_path(kind)
    path = folder / new_name(suffix)
    temporary = folder / f".{path.name}.tmp"
    temporary.write_bytes(content)
    temporary.replace(path)
    return path


def write_named(kind: str, name: str, content: bytes) -> Path:
    """Write (or replace) one item under a fixed name, atomically: writing
    the same item twice leaves one file (print batches)."""
    folder = outbox_path(kind)
    path = folder / name
    temporary = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    temporary.write_bytes(content)
    temporary.replace(path)
    return path


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            write("email", ".eml", message.message().as_bytes(linesep="\n"))
            sent += 1
        return sent
