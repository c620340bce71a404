from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _


class SessionTimeoutMiddleware:
    """Inactivity timeout by role (15 min professionals/agents, 30 min patients)
    and an absolute limit; the expiry slides with each request (ASVS 7.3)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = time.time()
            last_seen = request.session.get("last_seen", now)
            auth_at = request.session.setdefault("auth_at", now)
            idle = user.idle_timeout
            if (
                now - last_seen > idle
                or now - auth_at > settings.SESSION_ABSOLUTE_SECONDS
            ):
                from espace.services import logout_user

                logout_user(request=request, code="logout.timeout")
                messages.info(request, _("Votre session a expiré. Reconnectez-vous."))
                return redirect("espace:login")
            request.session["last_seen"] = now
            # The stored session outlives the idle limit a little, so that the
            # timeout is seen here (and audited) rather than as a vanished session.
            request.session.set_expiry(idle + 300)
        return self.get_response(request)
