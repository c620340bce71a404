from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from espace.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """Type of `request` in views behind @login_required."""

    user: User


def client_address(request: HttpRequest | None) -> str:
    """The client address (REMOTE_ADDR, set from trusted proxies upstream), in
    canonical form so that what the audit chain signs is what the database
    stores; "" when it is not an IP address."""
    if request is None:
        return ""
    try:
        return ipaddress.ip_address(str(request.META.get("REMOTE_ADDR", ""))).compressed
    except ValueError:
        return ""


def request_id(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(getattr(request, "request_id", ""))
