"""The patient's messaging pages, under /mon-espace/messagerie/, and the
professional's, under /pro/messagerie/ (STYLE R20)."""

from __future__ import annotations

from django.urls import path

from messagerie import pro_views, views

app_name = "messagerie"

conversation_urls = [
    path("", views.conversations, name="conversations"),
    path("nouveau/", views.conversation_new, name="conversation-new"),
    path("preferences/", views.preferences, name="preferences"),
    path("<uuid:pk>/", views.conversation_detail, name="conversation-detail"),
    path(
        "<uuid:pk>/archiver/", views.conversation_archive, name="conversation-archive"
    ),
    path(
        "<uuid:pk>/desarchiver/",
        views.conversation_unarchive,
        name="conversation-unarchive",
    ),
]

attachment_urls = [
    path(
        "pieces-jointes/<uuid:pk>/",
        views.attachment_download,
        name="attachment-download",
    ),
    path(
        "pieces-jointes/<uuid:pk>/classer/",
        views.attachment_file,
        name="attachment-file",
    ),
]

urlpatterns = conversation_urls + attachment_urls

pro_urlpatterns = [
    path("", pro_views.conversations, name="conversations"),
    path("nouvelle/", pro_views.conversation_new, name="conversation-new"),
    path("reglages/", pro_views.inbox_settings, name="settings"),
    path("<uuid:pk>/", pro_views.conversation_detail, name="conversation-detail"),
    path("<uuid:pk>/clore/", pro_views.conversation_close, name="conversation-close"),
    path(
        "<uuid:pk>/archiver/",
        pro_views.conversation_archive,
        name="conversation-archive",
    ),
    path(
        "<uuid:pk>/desarchiver/",
        pro_views.conversation_unarchive,
        name="conversation-unarchive",
    ),
    path(
        "pieces-jointes/<uuid:pk>/",
        pro_views.attachment_download,
        name="attachment-download",
    ),
]
