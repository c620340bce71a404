"""The messaging badge in the header (MSG-3): one query per page."""

from __future__ import annotations

from django.http import HttpRequest


def unread_messages(request: HttpRequest) -> dict[str, int]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"messages_unread": 0}
    from messagerie.selectors import (
        unread_count_for_patient,
        unread_count_for_professional,
    )

    if user.role == "patient":
        return {"messages_unread": unread_count_for_patient(actor=user)}
    if user.role == "professional":
        return {"messages_unread": unread_count_for_professional(actor=user)}
    return {"messages_unread": 0}
