from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MeApi(APIView):
    """Who am I: the logged-in user's identifier and role."""

    class OutputSerializer(serializers.Serializer[object]):
        username = serializers.CharField()
        role = serializers.CharField()

    @extend_schema(responses=OutputSerializer, operation_id="me_detail")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(request.user).data)
