"""The patient side of the consent API (STYLE R19): the access history
(CONS-4) and the blocked professionals (CONS-2), through the same
selectors and services as the pages. `patient` is the holder's own profile
by default, or a child they represent; anything else is a 404, like a
refusal."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent import selectors, services
from consent.history import HOW_LABELS, KINDS, Tab
from espace.models import Beneficiary, User
from espace.selectors import profile_get_for, profile_list_for

PATIENT_PARAMETER = OpenApiParameter(
    "patient",
    OpenApiTypes.INT,
    description="Le profil : le vôtre par défaut, ou celui d'un enfant que vous "
    "représentez.",
)


def _actor(request: Request) -> User:
    """The logged-in user (IsVerified, the default permission, let them in)."""
    assert isinstance(request.user, User)
    return request.user


def _profile(request: Request, value: Any) -> Beneficiary:
    """The holder's own profile by default, a child they represent by id;
    anything else (another patient, a professional, junk) is a 404."""
    if value in (None, ""):
        profiles = profile_list_for(actor=_actor(request))
        if not profiles:
            raise Http404
        return profiles[0]
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    return profile_get_for(actor=_actor(request), pk=pk)


class BlockOutputSerializer(serializers.Serializer[Any]):
    rpps = serializers.CharField(source="professional.rpps")
    name = serializers.CharField(source="professional.user.get_full_name")
    profession = serializers.CharField(source="professional.get_profession_display")
    blocked_at = serializers.DateTimeField(source="created_at")

    class Meta:
        ref_name = "ConsentBlock"


class HistoryEntryOutputSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    who = serializers.CharField()
    what = serializers.CharField()
    detail = serializers.CharField()
    how = serializers.ChoiceField(choices=list(HOW_LABELS))
    refused = serializers.BooleanField()
    reason = serializers.CharField(
        help_text="Motif écrit d'un accès en urgence (vide sinon)."
    )
    kind = serializers.ChoiceField(choices=list(KINDS))

    class Meta:
        ref_name = "ConsentHistoryEntry"


class HistoryListApi(APIView):
    """CONS-4: the access history of a profile, one tab, 50 entries a page."""

    class FilterSerializer(serializers.Serializer[Any]):
        tab = serializers.ChoiceField(
            choices=[Tab.MINE, Tab.OTHERS], default=Tab.OTHERS
        )
        since = serializers.DateField(required=False)
        until = serializers.DateField(required=False)
        kind = serializers.ChoiceField(choices=list(KINDS), required=False)
        page = serializers.IntegerField(min_value=1, default=1)

        class Meta:
            ref_name = "ConsentHistoryFilter"

    class OutputSerializer(serializers.Serializer[Any]):
        count = serializers.IntegerField()
        page = serializers.IntegerField()
        pages = serializers.IntegerField()
        results = HistoryEntryOutputSerializer(many=True)

        class Meta:
            ref_name = "ConsentHistoryPage"

    @extend_schema(
        operation_id="consent_history_list",
        parameters=[PATIENT_PARAMETER, FilterSerializer],
        responses=OutputSerializer,
    )
    def get(self, request: Request) -> Response:
        patient = _profile(request, request.query_params.get("patient"))
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        result = selectors.access_history_for(
            actor=_actor(request),
            patient=patient,
            tab=data["tab"],
            filters=selectors.HistoryFilters(
                since=data.get("since"),
                until=data.get("until"),
                kind=data.get("kind", ""),
            ),
            page=data["page"],
            request=request._request,
        )
        page = result.page
        assert page is not None
        return Response(
            {
                "count": page.paginator.count,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "results": HistoryEntryOutputSerializer(result.entries, many=True).data,
            }
        )


class BlockListCreateApi(APIView):
    """CONS-2: the blocked professionals of a profile (GET), and blocking one
    by RPPS number (POST). One route for both is the API's contract
    (`/blocks/`); each method is one operation with its own serializers."""

    class InputSerializer(serializers.Serializer[Any]):
        patient = serializers.IntegerField(required=False)
        rpps = serializers.CharField(max_length=20)

        class Meta:
            ref_name = "ConsentBlockCreate"

    @extend_schema(
        operation_id="consent_blocks_list",
        parameters=[PATIENT_PARAMETER],
        responses=BlockOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        patient = _profile(request, request.query_params.get("patient"))
        blocks = selectors.blocks_for(
            actor=_actor(request),
            patient=patient,
            request=request._request,
        )
        return Response(BlockOutputSerializer(blocks, many=True).data)

    @extend_schema(
        operation_id="consent_blocks_create",
        request=InputSerializer,
        responses={201: BlockOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        patient = _profile(request, data.validated_data.get("patient"))
        professional = selectors.professional_by_rpps(data.validated_data["rpps"])
        try:
            block = services.professional_block(
                actor=_actor(request),
                patient=patient,
                professional=professional,
                request=request._request,
            )
        except PermissionDenied:
            raise Http404 from None
        return Response(
            BlockOutputSerializer(block).data, status=status.HTTP_201_CREATED
        )


class BlockDeleteApi(APIView):
    """CONS-2: unblock a professional (by RPPS number)."""

    @extend_schema(
        operation_id="consent_blocks_delete",
        parameters=[PATIENT_PARAMETER],
        responses={204: None},
    )
    def delete(self, request: Request, rpps: str) -> Response:
        patient = _profile(request, request.query_params.get("patient"))
        block = selectors.block_get_for(patient=patient, rpps=rpps)
        try:
            services.professional_unblock(
                actor=_actor(request),
                patient=patient,
                professional=block.professional,
                request=request._request,
            )
        except PermissionDenied:
            raise Http404 from None
        return Response(status=status.HTTP_204_NO_CONTENT)
