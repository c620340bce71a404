"""REST API of the medical profile (DMP-6) (STYLE R19): the same policy as
the pages, through `dmp.profile_selectors` (one audit entry per read)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dmp.models import Measure
from dmp.profile_selectors import profile_get_for
from dmp.profile_services import MEASURES


class ProfileEntryOutputSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    details = serializers.CharField()
    date = serializers.DateField(source="entry_date", allow_null=True)
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField(source="created_at")


class ProfileSectionOutputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    entries = ProfileEntryOutputSerializer(many=True)


class MeasureOutputSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    value = serializers.DecimalField(max_digits=6, decimal_places=2, source="number")
    value2 = serializers.DecimalField(
        max_digits=6, decimal_places=2, source="number2", allow_null=True
    )
    unit = serializers.SerializerMethodField()
    date = serializers.DateField(source="measured_on")

    def get_unit(self, measure: Measure) -> str:
        return MEASURES[measure.kind].unit


class ProfileDetailApi(APIView):
    """GET /api/v1/profile/?patient=<id>: the sections and the latest
    measures the caller may see (a professional: only when the access matrix
    opens class 11 to their profession, and never a masked entry)."""

    class InputSerializer(serializers.Serializer[Any]):
        patient = serializers.IntegerField(
            min_value=1,
            max_value=2**63 - 1,
            error_messages={
                "required": "Le paramètre « patient » est obligatoire.",
                "invalid": "Le paramètre « patient » doit être un identifiant.",
                "min_value": "Le paramètre « patient » doit être un identifiant.",
                "max_value": "Le paramètre « patient » doit être un identifiant.",
                "max_string_length": "Le paramètre « patient » est trop long.",
            },
        )

    @extend_schema_serializer(component_name="ProfileDetail")
    class OutputSerializer(serializers.Serializer[Any]):
        patient = serializers.IntegerField()
        sections = ProfileSectionOutputSerializer(many=True)
        organ_donation = serializers.CharField()
        measures = MeasureOutputSerializer(many=True)

    @extend_schema(
        parameters=[InputSerializer],
        responses=OutputSerializer,
        operation_id="profile_detail",
    )
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        profile = profile_get_for(
            actor=request.user,  # type: ignore[arg-type]
            patient=params.validated_data["patient"],
            request=request._request,
        )
        output = {
            "patient": profile.access.patient.pk,
            "sections": profile.sections,
            "organ_donation": profile.organ_donation_choice,
            "measures": profile.latest,
        }
        return Response(self.OutputSerializer(output).data)
