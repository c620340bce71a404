from __future__ import annotations

from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    role = (
        getattr(user, "role", None)
        if user is not None and user.is_authenticated
        else None
    )
    verified = bool(role) and user.is_verified()  # type: ignore[union-attr]
    from django.conf import settings

    unread = 0
    if verified and role == "patient":
        from espace.selectors import inbox_unread_count

        unread = inbox_unread_count(actor=user)  # type: ignore[arg-type]
    elif verified and role == "professional":
        from dmp.pro_selectors import notices_unread_count

        unread = notices_unread_count(actor=user)  # type: ignore[arg-type]
    return {
        "inbox_unread": unread,
        "SERVICE_NAME": "Mon espace santé",
        "LOCKOUT_MINUTES": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "portal_role": role if verified else None,
    }
