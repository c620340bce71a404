"""Error pages in the state design (403/404/500); never a debug page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader


def _render(request: HttpRequest, template: str, status: int) -> HttpResponse:
    try:
        body: str = loader.render_to_string(template, request=request)
    except Exception:
        body = "<h1>Erreur</h1>"
    return HttpResponse(body, status=status)


def permission_denied(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    return _render(request, "errors/403.html", 403)


def page_not_found(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    return _render(request, "errors/404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _render(request, "errors/500.html", 500)


def method_not_allowed(request: HttpRequest) -> HttpResponse:
    return _render(request, "errors/405.html", 405)
