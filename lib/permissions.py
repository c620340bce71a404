from __future__ import annotations

from typing import Any

from rest_framework import permissions


class IsVerified(permissions.BasePermission):
    """Logged in and past the second factor (SEC-1, SEC-2): the API default."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(
            user is not None
            and user.is_authenticated
            and getattr(user, "is_verified", lambda: False)()
        )
