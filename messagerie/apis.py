"""The messaging API (SPEC §8, STYLE R19, MSG-1…MSG-3): one APIView per
operation, the same selectors and services as the pages, so the same policy,
audit entries and answers: refused and missing both answer 404 (SEC-1), bad
input a 400 with French messages (SEC-8)."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import parsers, serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from espace.models import Beneficiary, User
from espace.selectors import profile_get_for
from lib.http import AuthenticatedHttpRequest
from messagerie import selectors, services
from messagerie.models import Conversation, Message
from messagerie.views import file_response

TAGS = ["messagerie"]
NOT_FOUND = OpenApiResponse(description="Introuvable, ou accès refusé (même réponse).")
BAD_INPUT = OpenApiResponse(description="Saisie invalide (messages en français).")


def _user(request: Request) -> User:
    return cast(User, request.user)


def _http(request: Request) -> AuthenticatedHttpRequest:
    return cast(AuthenticatedHttpRequest, request._request)


def _profile(request: Request) -> Beneficiary:
    """The holder's own profile, or a child's they represent (?patient=)."""
    user = _user(request)
    raw = request.query_params.get("patient")
    if raw is None:
        own = getattr(user, "beneficiary", None)
        if own is None:
            raise Http404
        return cast(Beneficiary, own)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise serializers.ValidationError(
            {"patient": ["Identifiant de patient invalide."]}
        )
    return profile_get_for(actor=user, pk=int(raw))


@extend_schema_serializer(component_name="MessagerieConversationSummary")
class ConversationSummarySerializer(serializers.Serializer[Conversation]):
    id = serializers.UUIDField()
    patient_id = serializers.IntegerField()
    patient_address = serializers.CharField()
    professional = serializers.SerializerMethodField()
    started_by = serializers.CharField()
    last_message_at = serializers.DateTimeField()
    closed = serializers.SerializerMethodField()
    unread = serializers.IntegerField()
    detail = serializers.SerializerMethodField()

    def get_professional(self, obj: Conversation) -> str:
        return (
            str(obj.professional.user.get_full_name())
            if self.context.get("names")
            else ""
        )

    def get_closed(self, obj: Conversation) -> bool:
        return obj.closed_at is not None

    def get_detail(self, obj: Conversation) -> str:
        return str(
            reverse(
                "messagerie-api:conversation-detail",
                kwargs={"pk": obj.pk},
                request=self.context.get("request"),
            )
        )


@extend_schema_serializer(component_name="MessagerieMessage")
class MessageSerializer(serializers.Serializer[Message]):
    id = serializers.UUIDField()
    side = serializers.CharField(help_text="professional, patient ou auto")
    body = serializers.CharField()
    sent_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    attachment = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_attachment(self, obj: Message) -> dict[str, Any] | None:
        if not obj.file:
            return None
        return {
            "file_name": obj.file_name,
            "mime_type": obj.mime_type,
            "size": obj.size,
            "download": str(
                reverse(
                    "messagerie-api:attachment-download",
                    kwargs={"pk": obj.pk},
                    request=self.context.get("request"),
                )
            ),
        }


class ConversationListApi(APIView):
    """MSG-1: the conversations of the holder (or of a child, `?patient=`),
    or, for a professional, those with the patients in their care."""

    @extend_schema(
        operation_id="messagerie_conversations_list",
        tags=TAGS,
        parameters=[
            OpenApiParameter("patient", int, description="Un enfant représenté"),
            OpenApiParameter("archives", bool),
        ],
        responses={200: ConversationSummarySerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        archived = request.query_params.get("archives") in ("1", "true")
        context: dict[str, Any] = {"request": request}
        if user.role == User.Role.PROFESSIONAL:
            rows = selectors.pro_conversation_list_for(
                actor=user, archived=archived, request=_http(request)
            )
        else:
            rows, _access = selectors.conversation_list_for(
                actor=user,
                patient=_profile(request),
                archived=archived,
                request=_http(request),
            )
            context["names"] = True
        return Response(
            ConversationSummarySerializer(rows, many=True, context=context).data  # type: ignore[arg-type]
        )


class ConversationDetailApi(APIView):
    """MSG-1: one conversation and the messages the actor may read."""

    @extend_schema_serializer(component_name="MessagerieConversation")
    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        id = serializers.UUIDField()
        subject = serializers.CharField()
        patient_address = serializers.CharField()
        professional = serializers.CharField()
        closed_at = serializers.DateTimeField(allow_null=True)
        hidden_from_representatives = serializers.BooleanField()
        messages = MessageSerializer(many=True)

    @extend_schema(
        operation_id="messagerie_conversations_retrieve",
        tags=TAGS,
        responses={200: OutputSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        thread = selectors.conversation_get_for(
            actor=_user(request), pk=pk, request=_http(request)
        )
        conversation = thread.conversation
        data = {
            "id": conversation.pk,
            "subject": conversation.subject,
            "patient_address": conversation.patient_address,
            "professional": conversation.professional.user.get_full_name(),
            "closed_at": conversation.closed_at,
            "hidden_from_representatives": conversation.hidden_from_representatives,
            "messages": thread.messages,
        }
        return Response(self.OutputSerializer(data, context={"request": request}).data)


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file sent in a multipart form (documented as binary)."""


class MessageCreateApi(APIView):
    """MSG-1, MSG-2: post a message, with an optional attachment (multipart);
    the attachment passes the DMP-2 checks or nothing is stored."""

    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    @extend_schema_serializer(component_name="MessagerieMessageInput")
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        body = serializers.CharField(max_length=20_000)
        attachment = UploadField(required=False)
        hidden_from_representatives = serializers.BooleanField(default=False)

    @extend_schema(
        operation_id="messagerie_messages_create",
        tags=TAGS,
        request={"multipart/form-data": InputSerializer},
        responses={201: MessageSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        form = self.InputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        upload = data.get("attachment")
        conversation = selectors.conversation_for_change(actor=_user(request), pk=pk)
        message = services.message_send(
            actor=_user(request),
            conversation=conversation,
            body=data["body"],
            attachment=None
            if upload is None
            else services.Attachment(upload, upload.name),
            hidden_from_representatives=data["hidden_from_representatives"],
            request=_http(request),
        )
        return Response(
            MessageSerializer(message, context={"request": request}).data, status=201
        )


class ConversationReadApi(APIView):
    """Read receipts: the other side's messages are marked read."""

    @extend_schema_serializer(component_name="MessagerieReadOutput")
    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        marked = serializers.IntegerField()

    @extend_schema(
        operation_id="messagerie_conversations_read",
        tags=TAGS,
        request=None,
        responses={200: OutputSerializer, 404: NOT_FOUND},
    )
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        conversation = selectors.conversation_for_change(actor=_user(request), pk=pk)
        marked = services.conversation_mark_read(
            actor=_user(request), conversation=conversation, request=_http(request)
        )
        return Response(self.OutputSerializer({"marked": marked}).data)


class ConversationArchiveApi(APIView):
    """Archive a conversation (or bring it back), for one's own side."""

    @extend_schema_serializer(component_name="MessagerieArchiveInput")
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        archived = serializers.BooleanField()

    @extend_schema_serializer(component_name="MessagerieArchiveOutput")
    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        id = serializers.UUIDField()
        archived = serializers.BooleanField()

    @extend_schema(
        operation_id="messagerie_conversations_archive",
        tags=TAGS,
        request=InputSerializer,
        responses={200: OutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        form = self.InputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        archived = form.validated_data["archived"]
        conversation = selectors.conversation_for_change(actor=_user(request), pk=pk)
        services.conversation_archive(
            actor=_user(request),
            conversation=conversation,
            archived=archived,
            request=_http(request),
        )
        return Response(
            self.OutputSerializer({"id": conversation.pk, "archived": archived}).data
        )


class AttachmentDownloadApi(APIView):
    """MSG-2: the decrypted attachment, streamed."""

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="messagerie_attachments_download",
        tags=TAGS,
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="Le fichier, avec son type réel."
            ),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, pk: uuid.UUID) -> StreamingHttpResponse:
        return file_response(_http(request), pk)
