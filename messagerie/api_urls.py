from __future__ import annotations

from django.urls import path

from messagerie import apis

app_name = "messagerie-api"

conversation_urls = [
    path(
        "conversations/",
        apis.ConversationListApi.as_view(),
        name="conversation-list",
    ),
    path(
        "conversations/<uuid:pk>/",
        apis.ConversationDetailApi.as_view(),
        name="conversation-detail",
    ),
    path(
        "conversations/<uuid:pk>/messages",
        apis.MessageCreateApi.as_view(),
        name="message-create",
    ),
    path(
        "conversations/<uuid:pk>/read",
        apis.ConversationReadApi.as_view(),
        name="conversation-read",
    ),
    path(
        "conversations/<uuid:pk>/archive",
        apis.ConversationArchiveApi.as_view(),
        name="conversation-archive",
    ),
]

attachment_urls = [
    path(
        "attachments/<uuid:pk>/file",
        apis.AttachmentDownloadApi.as_view(),
        name="attachment-download",
    ),
]

urlpatterns = conversation_urls + attachment_urls
