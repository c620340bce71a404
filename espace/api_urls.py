from __future__ import annotations

from django.urls import path

from espace import apis

app_name = "espace-api"

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="me-detail"),
]
