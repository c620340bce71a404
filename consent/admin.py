"""The access matrix in the agents' back office (CONS-1, G-S2).

The only consent table agents see: it holds no patient data, only which
profession may see which class of documents. Agents change cells; the next
decision uses them (no cache). Each change is audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent
from audit.services import audit_record
from consent.models import AccessRule


@admin.register(AccessRule)
class AccessRuleAdmin(admin.ModelAdmin[AccessRule]):
    list_display = ("profession", "class_code", "allowed", "updated_at")
    list_editable = ("allowed",)
    list_filter = ("profession", "class_code", "allowed")
    ordering = ("profession", "class_code")
    readonly_fields = ("profession", "class_code", "updated_at")
    fields = ("profession", "class_code", "allowed", "updated_at")
    list_per_page = 250

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # every cell exists (the fixture): only its value changes

    def has_delete_permission(
        self, request: HttpRequest, obj: AccessRule | None = None
    ) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: AccessRule, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=AuditEvent.Action.UPDATE,
            target=obj,
            code=f"consent.matrix.{'allow' if obj.allowed else 'deny'}",
            request=request,
        )
