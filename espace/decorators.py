from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect

View = Callable[..., HttpResponseBase]


def role_required(*roles: str, any_state: bool = False) -> Callable[[View], View]:
    """Logged in, past the second factor, and of one of these roles (SEC-1, SEC-2).

    Another role gets the same 404 as a missing page: portals do not reveal
    each other. A patient whose space is closed or suspended only reaches the
    pages that say so (unless `any_state`).
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated or not user.is_verified():
                return redirect_to_login(request.get_full_path())
            if user.role not in roles:
                raise Http404
            if user.role == "patient" and not any_state:
                from espace.models import Space

                state = (
                    Space.objects.filter(beneficiary__user=user)
                    .values_list("state", flat=True)
                    .first()
                )
                if state is not None and state not in Space.OPEN_STATES:
                    return redirect("espace:space-reopen")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


patient_required = role_required("patient")
professional_required = role_required("professional")
