"""Medical profile (DMP-6) under /mon-espace/profil-medical/ and
administrative data (DMP-7) under /mon-espace/administratif/."""

from __future__ import annotations

from django.urls import path

from dmp import profile_views as views

app_name = "profil"

profile_urls = [
    path("profil-medical/", views.overview, name="overview"),
    path("profil-medical/<slug:section>/ajouter/", views.entry_add, name="entry-add"),
    path(
        "profil-medical/informations/<uuid:pk>/modifier/",
        views.entry_edit,
        name="entry-edit",
    ),
    path(
        "profil-medical/informations/<uuid:pk>/supprimer/",
        views.entry_delete,
        name="entry-delete",
    ),
    path(
        "profil-medical/informations/<uuid:pk>/historique/",
        views.entry_history,
        name="entry-history",
    ),
    path("profil-medical/don-d-organes/", views.organ_donation, name="organ-donation"),
    path("profil-medical/copie-pdf/", views.copy_pdf, name="copy-pdf"),
]

measure_urls = [
    path("profil-medical/mesures/", views.measures, name="measures"),
    path("profil-medical/mesures/ajouter/", views.measure_add, name="measure-add"),
    path(
        "profil-medical/mesures/<uuid:pk>/supprimer/",
        views.measure_delete,
        name="measure-delete",
    ),
]

admin_data_urls = [
    path("administratif/", views.admin_data, name="admin-data"),
]

# Measures first: "mesures/ajouter/" is not a section's "<slug>/ajouter/".
urlpatterns = measure_urls + profile_urls + admin_data_urls
