"""DRF glue: one exception handler (STYLE R19)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map framework-neutral service errors to DRF answers.

    Services raise Django's ValidationError / PermissionDenied / Http404; the
    API answers 400 / 404 / 404 with French messages, never a 500 page. (A
    missing login or second factor stays a 401/403 from DRF itself.)
    """
    if isinstance(exc, DjangoValidationError):
        detail: Any = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Ressource introuvable."))
    elif isinstance(exc, PermissionDenied):
        # A service's refusal: the same answer as a missing object (SEC-1).
        exc = exceptions.NotFound(_("Ressource introuvable."))
    elif isinstance(exc, exceptions.NotAuthenticated):
        exc = exceptions.NotAuthenticated(_("Authentification requise."))
    return drf_exception_handler(exc, context)
