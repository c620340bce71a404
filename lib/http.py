from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from espace.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """Type of `request` in views behind @login_required."""

    user: User


def client_address(request: HttpRequest | None) -> str:
    """The client address as seen by the trusted reverse proxy (REMOTE_ADDR)."""
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def request_id(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(getattr(request, "request_id", ""))
