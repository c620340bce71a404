"""The calendar rules in the agents' back office (AG-1).

The only agenda table agents see: rules hold no patient data. An agent adds
a version of a rule (same code, a later "en vigueur à partir du") or retires
one (sets "en vigueur jusqu'au"); the calendars follow from the next request
(agenda.selectors.rulebook), each computed item taking the version in force
on the day it falls due. Versions of one code may not overlap. Nothing is
deleted (the history of the calendars stays), and every change is audited.
Done marks (health data) are never shown here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from agenda.models import Recommendation
from audit.models import AuditEvent
from audit.services import audit_record


class RecommendationForm(forms.ModelForm[Recommendation]):
    class Meta:
        model = Recommendation
        fields = (
            "code",
            "label",
            "category",
            "group",
            "dose",
            "mandatory",
            "sex",
            "condition",
            "born_from",
            "born_until",
            "age_start",
            "age_end",
            "frequency",
            "every",
            "duration",
            "series",
            "catch_up_of",
            "source_text",
            "source_url",
            "valid_from",
            "valid_until",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code, start = data.get("code"), data.get("valid_from")
        if code and start:
            end = data.get("valid_until")
            others = Recommendation.objects.filter(code=code)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            for other in others:
                if (other.valid_until is None or start <= other.valid_until) and (
                    end is None or other.valid_from <= end
                ):
                    since = f"{other.valid_from:%d/%m/%Y}"
                    raise ValidationError(
                        f"Cette période recoupe la version du {since} de ce code : "
                        "mettez d'abord fin à celle-ci (« en vigueur jusqu'au »)."
                    )
        return data


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin[Recommendation]):
    form = RecommendationForm
    list_display = (
        "code",
        "label",
        "category",
        "mandatory",
        "age_start",
        "age_end",
        "frequency",
        "valid_from",
        "valid_until",
    )
    list_filter = ("category", "mandatory", "frequency", "sex")
    search_fields = ("code", "label", "group")
    ordering = ("category", "code", "valid_from")
    date_hierarchy = "valid_from"
    readonly_fields = ("updated_at",)
    save_as = True  # "Enregistrer en tant que nouveau" : a new version
    fieldsets = (
        (None, {"fields": ("code", "label", "category", "group", "dose", "mandatory")}),
        (
            "Pour qui",
            {"fields": ("sex", "condition", "born_from", "born_until")},
        ),
        (
            "Quand",
            {
                "fields": (
                    "age_start",
                    "age_end",
                    "frequency",
                    "every",
                    "duration",
                    "series",
                    "catch_up_of",
                )
            },
        ),
        ("Source", {"fields": ("source_text", "source_url")}),
        ("Validité", {"fields": ("valid_from", "valid_until", "updated_at")}),
    )

    def has_delete_permission(
        self, request: HttpRequest, obj: Recommendation | None = None
    ) -> bool:
        return False  # retire a version with an end date instead

    def save_model(
        self, request: HttpRequest, obj: Recommendation, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
            target=obj,
            code=f"agenda.rule.{'change' if change else 'add'}",
            request=request,
        )
