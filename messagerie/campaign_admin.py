"""Prevention campaigns in the agents' back office (MSG-4, MSG-5).

Agents write a campaign (title, body, reason, targeting), preview how many
people it reaches (one SQL COUNT), schedule it, cancel it, and follow its
counters: targeted, sent, read, refused (CONS-9). They never see who got a
message (no delivery model here) nor any conversation of the secure
messaging (MSG-5): nothing of messagerie is registered but the campaign.
Writes go through `campaign_services` (audited).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from espace.models import User
from messagerie import campaign_services as services
from messagerie.campaign_models import Campaign, CampaignCriterion
from messagerie.campaign_selectors import campaign_preview, send_date


class CampaignForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Campaign
        fields = ("title", "body", "reason", "age_min", "age_max", "sex", "send_at")
        widgets = {"body": forms.Textarea(attrs={"rows": 10, "cols": 80})}


class CriterionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CampaignCriterion
    extra = 1
    fields = ("kind", "min_age", "max_age", "recommendation")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_editable

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_editable

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_editable


def _agent(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


class CampaignAdmin(admin.ModelAdmin[Campaign]):
    form = CampaignForm
    inlines = (CriterionInline,)
    list_display = (
        "title",
        "state",
        "send_at",
        "targeted_count",
        "delivered_count",
        "read_count",
        "withheld_count",
    )
    list_filter = ("state",)
    search_fields = ("title",)
    ordering = ("-send_at",)
    list_select_related = ("created_by",)
    readonly_fields = (
        "state",
        "preview_link",
        "targeted_count",
        "delivered_count",
        "read_count",
        "withheld_count",
        "created_by",
        "created_at",
        "scheduled_at",
        "started_at",
        "finished_at",
        "cancelled_at",
    )
    fieldsets = (
        (None, {"fields": ("title", "body", "reason")}),
        ("Ciblage", {"fields": ("age_min", "age_max", "sex", "send_at")}),
        ("État", {"fields": ("state", "preview_link")}),
        (
            "Statistiques (MSG-5)",
            {
                "fields": (
                    "targeted_count",
                    "delivered_count",
                    "read_count",
                    "withheld_count",
                ),
                "description": (
                    "Ciblés : personnes correspondant au ciblage, espace ouvert. "
                    "Envoyés : messages remis et notifiés. Refus : ciblés exclus "
                    "parce qu'ils refusent les messages de prévention (CONS-9)."
                ),
            },
        ),
        (
            "Historique",
            {
                "fields": (
                    "created_by",
                    "created_at",
                    "scheduled_at",
                    "started_at",
                    "finished_at",
                    "cancelled_at",
                )
            },
        ),
    )

    @admin.display(description="Aperçu et envoi")
    def preview_link(self, obj: Campaign) -> str:
        if obj.pk is None or obj._state.adding:
            return "Enregistrez le brouillon pour voir l'aperçu."
        url = reverse("admin:messagerie_campaign_preview", args=[obj.pk])
        return format_html(
            '<a class="button" href="{}">Compter les destinataires, programmer ou '
            "annuler</a>",
            url,
        )

    def has_change_permission(
        self, request: HttpRequest, obj: Campaign | None = None
    ) -> bool:
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: Campaign | None = None
    ) -> bool:
        return False  # a campaign is a record: cancel it instead

    def save_model(
        self, request: HttpRequest, obj: Campaign, form: Any, change: bool
    ) -> None:
        services.campaign_save(actor=_agent(request), campaign=obj, request=request)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: bool
    ) -> None:
        kept = [
            f.cleaned_data
            for f in formset.forms
            if f.cleaned_data
            and not f.cleaned_data.get("DELETE")
            and f.cleaned_data.get("kind")
        ]
        services.campaign_criteria_replace(
            actor=_agent(request),
            campaign=form.instance,
            criteria=[
                services.CriterionInput(
                    kind=c["kind"],
                    min_age=c.get("min_age"),
                    max_age=c.get("max_age"),
                    recommendation=c.get("recommendation") or "",
                )
                for c in kept
            ],
            request=request,
        )
        # what the admin's change message reads (saved by the service)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = (
            [],
            [],
            [],
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<uuid:pk>/apercu/",
                self.admin_site.admin_view(self.preview_view),
                name="messagerie_campaign_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, pk: Any) -> HttpResponse:
        """MSG-4: how many people the campaign reaches (an SQL COUNT, on the
        send date), then schedule, back to draft or cancel (POST)."""
        campaign = Campaign.objects.filter(pk=pk).first()
        if campaign is None:
            raise Http404
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        if request.method == "POST":
            actions = {
                "schedule": (services.campaign_schedule, "La campagne est programmée."),
                "unschedule": (
                    services.campaign_unschedule,
                    "La campagne est revenue au brouillon.",
                ),
                "cancel": (services.campaign_cancel, "La campagne est annulée."),
            }
            chosen = actions.get(str(request.POST.get("action")))
            if chosen is None:
                messages.error(request, "Action inconnue.")
            else:
                service, done = chosen
                try:
                    service(actor=_agent(request), campaign=campaign, request=request)
                except ValidationError as error:
                    messages.error(request, " ".join(error.messages))
                else:
                    messages.success(request, done)
            return redirect("admin:messagerie_campaign_preview", campaign.pk)
        preview = (
            campaign_preview(campaign=campaign)
            if campaign.state in (Campaign.State.DRAFT, Campaign.State.SCHEDULED)
            else None
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Aperçu : {campaign.title}",
            "campaign": campaign,
            "criteria": list(campaign.criteria.order_by("pk")),
            "preview": preview,
            "day": send_date(campaign),
        }
        return TemplateResponse(
            request, "admin/messagerie/campaign_preview.html", context
        )


admin.site.register(Campaign, CampaignAdmin)
