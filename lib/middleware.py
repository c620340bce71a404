from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Give each request an id (kept from a trusted proxy's X-Request-ID if sane).

    The id goes to audit entries and back in the response, to tie a user's
    report to the server's traces without logging anything personal.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        # Only a trusted proxy may choose the id written to audit entries.
        incoming = (
            request.META.get("HTTP_X_REQUEST_ID", "")
            if settings.TRUSTED_PROXY_COUNT
            else ""
        )
        request.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class TrustedProxyMiddleware:
    """Behind N trusted reverse proxies, the client is the Nth address from the
    right of X-Forwarded-For: put it in REMOTE_ADDR, before throttling and audit
    read it. With N = 0 (default) the header is ignored (it can be forged)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.count = int(settings.TRUSTED_PROXY_COUNT)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.count:
            hops = [
                h.strip()
                for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            ]
            hops = [h for h in hops if h]
            if len(hops) >= self.count:
                try:
                    address = ipaddress.ip_address(hops[-self.count]).compressed
                except ValueError:
                    address = ""  # not an address: never trusted, never stored
                request.META["REMOTE_ADDR"] = address
        return self.get_response(request)


class PrivateCacheMiddleware:
    """Pages and API answers for a logged-in user are never stored by a browser
    or a shared cache (no personal page shown again after logout)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils.cache import add_never_cache_headers, patch_cache_control

        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response


class MethodNotAllowedPageMiddleware:
    """A page, in French, for a 405 of the portals (a link followed to a
    URL that only takes a form, say): Django's own answer has no body. The
    API keeps its JSON answers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code != 405
            or response.content
            or request.path.startswith("/api/")
        ):
            return response
        from lib.errors import method_not_allowed

        page = method_not_allowed(request)
        if "Allow" in response:
            page["Allow"] = response["Allow"]
        return page
