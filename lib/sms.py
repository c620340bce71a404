"""Pluggable SMS sending, shaped like Django's e-mail backends (LC-3).

`settings.SMS_BACKEND` names the class (default: the outbox, which writes one
`var/outbox/sms/*.txt` file per message). A production backend subclasses
`BaseSmsBackend` and raises `SmsError` when the provider refuses a message.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from lib import outbox

DEFAULT_BACKEND = "lib.sms.OutboxSmsBackend"


class SmsError(Exception):
    """The message could not be handed over to the provider."""


class BaseSmsBackend:
    def send(self, to: str, text: str) -> None:
        raise NotImplementedError


class OutboxSmsBackend(BaseSmsBackend):
    """The embedded default: `To:` header, blank line, text (UTF-8)."""

    def send(self, to: str, text: str) -> None:
        outbox.write("sms", ".txt", f"To: {to}\n\n{text}\n".encode())


class LocmemSmsBackend(BaseSmsBackend):
    """For tests: messages pile up in `LocmemSmsBackend.outbox`."""

    outbox: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> None:
        LocmemSmsBackend.outbox.append((to, text))


class FailingSmsBackend(BaseSmsBackend):
    """For tests: every message fails, as with a provider outage."""

    def send(self, to: str, text: str) -> None:
        raise SmsError("SMS provider unavailable")


def get_backend(path: str | None = None) -> BaseSmsBackend:
    name = str(path or getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))
    backend_class: type[BaseSmsBackend] = import_string(name)
    return backend_class()


def send_sms(to: str, text: str) -> None:
    """Send one SMS through the configured backend; raises SmsError on failure."""
    if not to.strip():
        raise SmsError("no phone number")
    get_backend().send(to.strip(), text)
