from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from espace.admin import AgentAdminSite
from lib.health import healthz

# Agents only, behind the second factor (SEC-2).
admin.site.__class__ = AgentAdminSite

api_v1: list[URLPattern | URLResolver] = [
    path("", include("espace.api_urls")),
    path("consent/", include("consent.api_urls")),
    path("profile/", include("dmp.profile_api_urls")),
    path("dmp/", include("dmp.api_urls")),
    path("agenda/", include("agenda.appointment_api_urls")),
    path("messagerie/", include("messagerie.api_urls")),
    path("agenda/", include("agenda.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # The schema of the current version, at a stable address (SPEC §8).
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema-current"),
    path("", include("dmp.urls")),
    path("", include("consent.urls")),
    path("pro/", include("dmp.pro_urls")),
    path("pro/messagerie/", include("messagerie.pro_urls")),
    path("mon-espace/messagerie/", include("messagerie.urls")),
    path("mon-espace/", include("dmp.profile_urls")),
    path("mon-espace/prevention/", include("messagerie.campaign_urls")),
    path("mon-espace/agenda/rendez-vous/", include("agenda.appointment_urls")),
    path("mon-espace/agenda/", include("agenda.urls")),
    path("", include("espace.urls")),
]

handler403 = "lib.errors.permission_denied"
handler404 = "lib.errors.page_not_found"
handler500 = "lib.errors.server_error"
