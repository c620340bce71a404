from __future__ import annotations

from django.urls import path

from dmp import profile_apis

app_name = "profil-api"

urlpatterns = [
    path("", profile_apis.ProfileDetailApi.as_view(), name="profile-detail"),
]
