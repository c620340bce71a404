from __future__ import annotations

from django.urls import path

from dmp import apis

app_name = "dmp-api"

document_urls = [
    path("documents/", apis.DocumentCollectionApi.as_view(), name="document-list"),
    path(
        "documents/mask-all",
        apis.DocumentMaskAllApi.as_view(),
        name="document-mask-all",
    ),
    path(
        "documents/<uuid:pk>/", apis.DocumentDetailApi.as_view(), name="document-detail"
    ),
    path(
        "documents/<uuid:pk>/file",
        apis.DocumentDownloadApi.as_view(),
        name="document-download",
    ),
    path(
        "documents/<uuid:pk>/mask", apis.DocumentMaskApi.as_view(), name="document-mask"
    ),
]

urlpatterns = document_urls
