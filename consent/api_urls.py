from __future__ import annotations

from django.urls import path

from consent import apis

app_name = "consent-api"

urlpatterns = [
    path("history/", apis.HistoryListApi.as_view(), name="history-list"),
    path("blocks/", apis.BlockListCreateApi.as_view(), name="block-list"),
    path("blocks/<str:rpps>/", apis.BlockDeleteApi.as_view(), name="block-delete"),
]
