"""The agents' back office (phone line 3422). Agents never see health data:
no DMP, message, profile or reimbursement model is registered here (a test
asserts it), and the admin sits behind the same second factor (SEC-2)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from espace.importer import beneficiaries_import
from espace.models import (
    Beneficiary,
    Establishment,
    ImportBatch,
    LegalRepresentation,
    Professional,
    Space,
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

    def save_model(
        self, request: HttpRequest, obj: User, form: Any, change: bool
    ) -> None:
        # Agents create agent accounts only: a professional's or patient's
        # login made here would be a door to health data (seed 003).
        obj.role = User.Role.AGENT
        super().save_model(request, obj, form, change)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        return ("role",) if obj is not None else ()

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "password1", "password2"),
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

    # Read-only: a professional's identity and rights (RPPS, SAMU regulator)
    # come from the national directory, never from an agent's form.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Professional | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Professional | None = None
    ) -> bool:
        return False


@admin.register(Beneficiary)
class BeneficiaryAdmin(admin.ModelAdmin[Beneficiary]):
    """Identity and contact data only (what the 3422 line needs)."""

    list_display = ("nir", "birth_name", "first_names", "birth_date", "identity_status")
    search_fields = ("=nir",)
    raw_id_fields = ("user", "medecin_traitant")
    list_select_related = ("user",)

    list_display_links = ("nir",)
    readonly_fields = ("phone_link",)

    @admin.display(description="Appel au 3422")
    def phone_link(self, obj: Beneficiary) -> str:
        from django.utils.html import format_html

        url = reverse("admin:espace_beneficiary_phone", args=[obj.pk])
        return format_html('<a href="{}">Traiter une demande téléphonique</a>', url)

    def get_urls(self) -> list[Any]:
        from django.urls import path

        from espace.admin_views import beneficiary_phone

        return [
            path(
                "<path:object_id>/telephone/",
                self.admin_site.admin_view(beneficiary_phone),
                name="espace_beneficiary_phone",
            ),
            *super().get_urls(),
        ]

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


# ---------------------------------------------------------------- LC-1 imports

IMPORT_UPLOAD_MAX_BYTES = 200 * 1024 * 1024


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Fichier CSV",
        help_text=(
            "Extraction Assurance maladie : CSV séparé par « ; » ou « , », "
            "encodé en UTF-8, 200 Mo au plus."
        ),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if not str(upload.name).lower().endswith(".csv"):
            raise forms.ValidationError("Choisissez un fichier CSV (.csv).")
        if upload.size > IMPORT_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                "Ce fichier dépasse 200 Mo : importez-le avec la commande "
                "import_beneficiaries."
            )
        return upload


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin[ImportBatch]):
    """LC-1 beneficiary imports. "Ajouter" is the upload: the file is imported
    at once, in the request, then its report opens (each import's page is its
    report). Big files go through `manage.py import_beneficiaries`, which runs
    the same service outside any web request. Nothing is edited or deleted
    here: an import is a record."""

    list_display = (
        "file_name",
        "status",
        "started_at",
        "imported",
        "updated",
        "unchanged",
        "rejected",
        "uploaded_by",
    )
    list_filter = ("status",)
    list_select_related = ("uploaded_by",)
    report_page_size = 500

    def has_change_permission(
        self, request: HttpRequest, obj: ImportBatch | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: ImportBatch | None = None
    ) -> bool:
        return False

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, object] | None = None,
    ) -> HttpResponse:
        if not self.has_add_permission(request) or not isinstance(request.user, User):
            raise PermissionDenied
        post = request.method == "POST"
        form = ImportUploadForm(
            request.POST if post else None, request.FILES if post else None
        )
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            batch = beneficiaries_import(
                actor=request.user,
                file_name=upload.name,
                stream=upload,
                request=request,
            )
            return redirect("admin:espace_importbatch_change", batch.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Importer un fichier de bénéficiaires",
            "form": form,
        }
        return TemplateResponse(request, "admin/espace/import_upload.html", context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, object] | None = None,
    ) -> HttpResponse:
        batch = self.get_object(request, object_id)
        if batch is None:
            raise Http404
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        page = Paginator(batch.report, self.report_page_size).get_page(
            request.GET.get("page")
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Rapport d'import : {batch.file_name}",
            "batch": batch,
            "page": page,
        }
        return TemplateResponse(request, "admin/espace/import_report.html", context)


@admin.register(Space)
class SpaceAdmin(admin.ModelAdmin[Space]):
    """Lifecycle states only (no health data); changes go through the 3422
    page of the beneficiary, which calls the audited services."""

    list_display = (
        "pk",
        "beneficiary",
        "state",
        "informed_at",
        "opposition_until",
        "updated_at",
    )
    list_filter = ("state", "legacy_dmp")
    list_select_related = ("beneficiary",)
    raw_id_fields = ("beneficiary",)
    search_fields = ("=beneficiary__nir",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Space | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Space | None = None
    ) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        from django.urls import path

        from espace.admin_views import (
            letters_print_view,
            print_batch_download_view,
            spaces_dashboard,
        )

        return [
            path(
                "tableau-de-bord/",
                self.admin_site.admin_view(spaces_dashboard),
                name="espace_space_dashboard",
            ),
            path(
                "impression/",
                self.admin_site.admin_view(letters_print_view),
                name="espace_space_print",
            ),
            path(
                "impression/<int:batch_id>/",
                self.admin_site.admin_view(print_batch_download_view),
                name="espace_space_print_download",
            ),
            *super().get_urls(),
        ]
