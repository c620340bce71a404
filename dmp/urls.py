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

# The patient's pages, for the active profile (DMP-1, DMP-2, DMP-5, DMP-8).
document_urls = [
    path("mon-espace/documents/", views.documents, name="documents"),
    path("mon-espace/documents/ajouter/", views.document_add, name="document-add"),
    path(
        "mon-espace/documents/tout-masquer/",
        views.documents_mask_all,
        name="documents-mask-all",
    ),
    path(
        "mon-espace/documents/tout-afficher/",
        views.documents_unmask_all,
        name="documents-unmask-all",
    ),
    path(
        "mon-espace/documents/<uuid:pk>/",
        views.document_detail,
        name="document-detail",
    ),
    path(
        "mon-espace/documents/<uuid:pk>/masquer/",
        views.document_mask,
        name="document-mask",
    ),
    path(
        "mon-espace/documents/<uuid:pk>/afficher/",
        views.document_unmask,
        name="document-unmask",
    ),
    path(
        "mon-espace/documents/<uuid:pk>/supprimer/",
        views.document_delete,
        name="document-delete",
    ),
    path(
        "mon-espace/documents/<uuid:pk>/ranger/",
        views.document_move,
        name="document-move",
    ),
]

folder_urls = [
    path("mon-espace/dossiers/creer/", views.folder_create, name="folder-create"),
    path(
        "mon-espace/dossiers/<uuid:pk>/renommer/",
        views.folder_rename,
        name="folder-rename",
    ),
    path(
        "mon-espace/dossiers/<uuid:pk>/supprimer/",
        views.folder_delete,
        name="folder-delete",
    ),
]

urlpatterns = file_urls + document_urls + folder_urls
