"""The professional portal, under /pro/ (espace's "espace:pro-home" is /pro/
itself)."""

from __future__ import annotations

from django.urls import path

from dmp import pro_views as views

app_name = "pro"

patient_urls = [
    path("patients/recherche/", views.patient_search, name="patient-search"),
    path("patients/<int:pk>/", views.patient, name="patient"),
    path("patients/<int:pk>/acces/", views.care_declare, name="care-declare"),
    path("patients/<int:pk>/urgence/", views.emergency, name="emergency"),
]

document_urls = [
    path("patients/<int:pk>/deposer/", views.document_deposit, name="document-deposit"),
    path(
        "patients/<int:pk>/synthese-annuelle/",
        views.yearly_summary,
        name="yearly-summary",
    ),
    path(
        "patients/<int:pk>/documents/<uuid:doc>/",
        views.document_detail,
        name="document-detail",
    ),
    path(
        "patients/<int:pk>/documents/<uuid:doc>/nouvelle-version/",
        views.document_replace,
        name="document-replace",
    ),
    path(
        "patients/<int:pk>/documents/<uuid:doc>/annonce/",
        views.document_announce,
        name="document-announce",
    ),
    path(
        "patients/<int:pk>/documents/<uuid:doc>/supprimer/",
        views.document_delete,
        name="document-delete",
    ),
]

alert_urls = [
    path("alertes/", views.alerts, name="alerts"),
]

urlpatterns = patient_urls + document_urls + alert_urls
