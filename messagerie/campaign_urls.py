from __future__ import annotations

from django.urls import path

from messagerie import campaign_views as views

app_name = "prevention"

urlpatterns = [
    path("", views.message_list, name="list"),
    path("preferences/", views.preferences, name="preferences"),
    path("<uuid:pk>/", views.message_detail, name="detail"),
]
