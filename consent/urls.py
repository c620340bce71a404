from __future__ import annotations

from django.urls import path

from consent import views

app_name = "consent"

professional_urls = [
    path("mon-espace/professionnels/", views.professionals, name="professionals"),
    path(
        "mon-espace/professionnels/bloquer/",
        views.professional_block,
        name="professional-block",
    ),
    path(
        "mon-espace/professionnels/blocages/<int:pk>/debloquer/",
        views.professional_unblock,
        name="professional-unblock",
    ),
    path(
        "mon-espace/professionnels/acces/<int:pk>/retirer/",
        views.care_revoke,
        name="care-revoke",
    ),
]

privacy_urls = [
    path("mon-espace/confidentialite/", views.privacy, name="privacy"),
]

history_urls = [
    path("mon-espace/historique/", views.history_page, name="history"),
    path("mon-espace/historique/export.csv", views.history_csv, name="history-csv"),
    path("mon-espace/historique/export.pdf", views.history_pdf, name="history-pdf"),
]

urlpatterns = professional_urls + privacy_urls + history_urls
