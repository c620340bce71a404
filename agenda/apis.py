"""REST API of the preventive calendar (AG-1, AG-2) (STYLE R19): the same
policy and audit as the pages, through `agenda.selectors` and
`agenda.services`. A profile the caller does not act for, missing or not,
is the same 404 (SEC-1); bad input a 400 with French messages (SEC-8)."""

from __future__ import annotations

from typing import Any, cast

from django.http import Http404
from django_stubs_ext import StrPromise
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agenda import selectors, services
from agenda.calendar import Item
from espace.models import Beneficiary, User
from espace.selectors import profile_active_for
from espace.views import PROFILE
from lib.http import AuthenticatedHttpRequest

TAGS = ["agenda"]
NOT_FOUND = OpenApiResponse(description="Introuvable, ou accès refusé (même réponse).")
BAD_INPUT = OpenApiResponse(description="Saisie invalide (messages en français).")
_ID_ERRORS: dict[str, str | StrPromise] = {
    "invalid": "Le paramètre « profile » doit être un identifiant.",
    "min_value": "Le paramètre « profile » doit être un identifiant.",
    "max_value": "Le paramètre « profile » doit être un identifiant.",
    "max_string_length": "Le paramètre « profile » est trop long.",
}


def _user(request: Request) -> User:
    return cast(User, request.user)


def _http(request: Request) -> AuthenticatedHttpRequest:
    return cast(AuthenticatedHttpRequest, request._request)


def _patient_side(request: Request) -> None:
    """The patient side's calendar: professionals and agents are refused
    before anything is read or parsed (the 404 of the patient pages)."""
    if _user(request).role != User.Role.PATIENT:
        raise Http404


def _profile(request: Request, profile_id: int | None) -> Beneficiary | int:
    """The profile named, else the active one (the session's choice, or
    the holder's own). Whether the caller acts for it is the policy's
    answer: a missing profile and another's end in the same 404.
    Professionals and agents are refused before anything is read."""
    user = _user(request)
    if user.role != User.Role.PATIENT:
        raise Http404  # the patient side's calendar: other portals see nothing
    if profile_id is not None:
        return profile_id
    active = profile_active_for(actor=user, profile_id=request.session.get(PROFILE))
    if active is None:
        raise Http404
    return active


class ProfileSerializer(serializers.Serializer[Any]):
    profile = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, error_messages=_ID_ERRORS
    )


class ItemOutputSerializer(serializers.Serializer[Item]):
    key = serializers.CharField()
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    category = serializers.CharField()
    vaccine = serializers.CharField(source="rule.group")
    mandatory = serializers.BooleanField()
    status = serializers.CharField(help_text="overdue, due, upcoming ou done")
    status_label = serializers.CharField()
    window_start = serializers.DateField(source="start")
    window_end = serializers.DateField(
        source="last_day", allow_null=True, help_text="dernier jour (inclus)"
    )
    done_on = serializers.DateField(allow_null=True)
    performer = serializers.CharField()
    document = serializers.UUIDField(
        source="done.document_id", allow_null=True, default=None
    )
    source_text = serializers.CharField(source="rule.source_text")
    source_url = serializers.CharField(source="rule.source_url")


class CalendarItemListApi(APIView):
    """GET /api/v1/agenda/items/?profile=<id>: the calendar of the active
    profile, or of a child the caller represents (AG-1)."""

    @extend_schema_serializer(component_name="AgendaCalendarItems")
    class OutputSerializer(serializers.Serializer[Any]):
        profile = serializers.IntegerField()
        items = ItemOutputSerializer(many=True)

    @extend_schema(
        tags=TAGS,
        parameters=[ProfileSerializer],
        responses={200: OutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
        operation_id="agenda_items_list",
    )
    def get(self, request: Request) -> Response:
        _patient_side(request)
        params = ProfileSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        cal = selectors.calendar_get_for(
            actor=_user(request),
            patient=_profile(request, params.validated_data.get("profile")),
            request=_http(request),
        )
        data = {"profile": cal.patient.pk, "items": cal.items}
        return Response(self.OutputSerializer(data).data)


class CalendarItemDoneApi(APIView):
    """POST /api/v1/agenda/items/<key>/done/: mark an item done (AG-2)."""

    class InputSerializer(ProfileSerializer):
        done_on = serializers.DateField(
            error_messages={
                "required": "Indiquez la date (done_on).",
                "invalid": "La date doit être au format AAAA-MM-JJ.",
            }
        )
        performer = serializers.CharField(
            required=False, allow_blank=True, max_length=200, default=""
        )
        document = serializers.UUIDField(
            required=False,
            allow_null=True,
            default=None,
            error_messages={"invalid": "Le document doit être un identifiant."},
        )

    @extend_schema(
        tags=TAGS,
        request=InputSerializer,
        responses={200: ItemOutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
        operation_id="agenda_item_done",
    )
    def post(self, request: Request, key: str) -> Response:
        _patient_side(request)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        patient = selectors.patient_of(_profile(request, data.get("profile")))
        services.calendar_item_mark_done(
            actor=_user(request),
            patient=patient,
            key=key,
            done_on=data["done_on"],
            performer=data["performer"],
            document=data["document"],
            request=_http(request),
        )
        item = next(i for i in selectors.calendar_compute(patient) if i.key == key)
        return Response(ItemOutputSerializer(item).data)


class CalendarItemUndoApi(APIView):
    """POST /api/v1/agenda/items/<key>/undo/: the item is no longer marked
    done (AG-2); 204 whether it was or not."""

    @extend_schema(
        tags=TAGS,
        request=ProfileSerializer,
        responses={204: None, 400: BAD_INPUT, 404: NOT_FOUND},
        operation_id="agenda_item_undo",
    )
    def post(self, request: Request, key: str) -> Response:
        _patient_side(request)
        body = ProfileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        patient = selectors.patient_of(
            _profile(request, body.validated_data.get("profile"))
        )
        services.calendar_item_undo(
            actor=_user(request), patient=patient, key=key, request=_http(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
