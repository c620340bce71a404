from __future__ import annotations

from django.urls import path

from dmp import views

app_name = "dmp"

file_urls = [
    path("documents/<uuid:pk>/apercu", views.document_preview, name="document-preview"),
    path(
        "documents/<uuid:pk>/fichier", views.document_download, name="document-download"
    ),
]

urlpatterns = file_urls
