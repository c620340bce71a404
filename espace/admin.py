"""The agents' back office (phone line 3422). Agents never see health data:
no DMP, message, profile or reimbursement model is registered here (a test
asserts it), and the admin sits behind the same second factor (SEC-2)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from espace.models import (
    Beneficiary,
    Establishment,
    LegalRepresentation,
    Professional,
    User,
)


class AgentAdminSite(admin.AdminSite):
    site_header = "Mon espace santé — Assurance maladie"
    site_title = "Back-office Assurance maladie"
    index_title = "Gestion des espaces"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and getattr(user, "role", "") == User.Role.AGENT
            and user.is_verified()
        )

    def login(self, request: HttpRequest, extra_context: object = None) -> HttpResponse:
        # One login for everyone: password + TOTP through the espace views.
        target = request.GET.get("next", reverse("admin:index"))
        return redirect(f"{reverse('espace:login')}?{urlencode({'next': target})}")


# Second-factor secrets are not for agents' eyes.
for _device in (TOTPDevice, EmailDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)


@admin.register(User)
class AgentUserAdmin(UserAdmin[User]):
    list_display = ("username", "role", "is_active", "is_staff", "last_login")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = (
        *UserAdmin.fieldsets,  # type: ignore[misc]
        ("Rôle", {"fields": ("role",)}),
    )

    def has_change_permission(
        self, request: HttpRequest, obj: User | None = None
    ) -> bool:
        # Agents manage agent accounts. A patient's or professional's login
        # (password, e-mail, role) is never edited here: that would let an
        # agent take over a space (seed 003). They only see it.
        if obj is not None and obj.role != User.Role.AGENT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: User | None = None
    ) -> bool:
        return False

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "role", "password1", "password2"),
            },
        ),
    )


@admin.register(Establishment)
class EstablishmentAdmin(admin.ModelAdmin[Establishment]):
    list_display = ("name", "finess", "kind", "city")
    search_fields = ("finess", "name")
    list_filter = ("kind",)


@admin.register(Professional)
class ProfessionalAdmin(admin.ModelAdmin[Professional]):
    list_display = ("rpps", "user", "profession", "establishment", "is_samu_regulator")
    list_select_related = ("user", "establishment")
    raw_id_fields = ("user", "establishment")
    search_fields = ("rpps", "user__last_name")
    list_filter = ("profession", "is_samu_regulator")


@admin.register(Beneficiary)
class BeneficiaryAdmin(admin.ModelAdmin[Beneficiary]):
    """Identity and contact data only (what the 3422 line needs)."""

    list_display = ("nir", "birth_name", "first_names", "birth_date", "identity_status")
    search_fields = ("=nir",)
    raw_id_fields = ("user", "medecin_traitant")
    list_select_related = ("user",)

    # Read-only: identity changes and the médecin traitant go through audited
    # services (the 3422 actions), never through a raw admin form (R7, R22).
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Beneficiary | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Beneficiary | None = None
    ) -> bool:
        return False


@admin.register(LegalRepresentation)
class LegalRepresentationAdmin(admin.ModelAdmin[LegalRepresentation]):
    list_display = ("representative", "minor", "status", "created_at")
    raw_id_fields = ("representative", "minor")
    list_select_related = ("representative", "minor")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: LegalRepresentation | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: LegalRepresentation | None = None
    ) -> bool:
        return False
