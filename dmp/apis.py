"""The documents API (SPEC §8, STYLE R19): one APIView per operation.

Every object goes through `dmp.selectors` and `dmp.services`, so the policy,
the audit entries and the answers are those of the browser: refused and
missing both answer the same 404 (SEC-1), bad input a 400 with French
messages (SEC-8). Lists are paged in SQL: a count and one page, whatever the
size of the record (G-P4).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.http import Http404, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from consent.models import CLASS_CODES
from dmp import codes, selectors, services
from dmp.models import Document
from dmp.views import _file_response
from espace.models import Beneficiary, Professional, User
from lib.http import AuthenticatedHttpRequest

TAGS = ["dmp"]
NOT_FOUND = OpenApiResponse(description="Introuvable, ou accès refusé (même réponse).")
BAD_INPUT = OpenApiResponse(description="Saisie invalide (messages en français).")
PROFESSIONS = dict(Professional.Profession.choices)


def _user(request: Request) -> User:
    return cast(User, request.user)


def _http(request: Request) -> AuthenticatedHttpRequest:
    """The Django request, for the audit entry (address, request id)."""
    return cast(AuthenticatedHttpRequest, request._request)


def _patient(request: Request, patient_id: int | None) -> Beneficiary:
    """The patient a request names, or the holder's own profile. Whether the
    actor may act on it is the policy's answer, later: a missing patient and
    a forbidden one end in the same 404."""
    user = _user(request)
    if patient_id is not None:
        patient = Beneficiary.objects.filter(pk=patient_id).first()
    elif user.role == User.Role.PROFESSIONAL:
        raise serializers.ValidationError(
            {"patient": [_("Indiquez le patient (son identifiant).")]}
        )
    else:
        patient = getattr(user, "beneficiary", None)
    if patient is None:
        raise Http404
    return patient


# ------------------------------------------------------------ representation


@extend_schema_serializer(component_name="DocumentAuthor")
class AuthorSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.CharField(help_text="patient, professional ou other")
    name = serializers.CharField()
    profession = serializers.CharField(allow_null=True, help_text="TRE_G15")
    profession_label = serializers.CharField()
    establishment = serializers.CharField()


@extend_schema_field(AuthorSerializer)
class AuthorField(serializers.Field):  # type: ignore[type-arg]
    """DMP-1: the author, a professional (maybe for an establishment) or
    the patient."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: Document) -> dict[str, Any]:
        professional = value.author_professional
        if professional is not None:
            establishment = value.author_establishment
            return {
                "kind": "professional",
                "name": professional.user.get_full_name(),
                "profession": professional.profession,
                "profession_label": str(PROFESSIONS.get(professional.profession, "")),
                "establishment": establishment.name if establishment else "",
            }
        kind = "patient" if value.by_patient else "other"
        return {
            "kind": kind,
            "name": "",
            "profession": None,
            "profession_label": "",
            "establishment": "",
        }


@extend_schema_serializer(component_name="DocumentLinks")
class LinksSerializer(serializers.Serializer[dict[str, str]]):
    detail = serializers.URLField()
    download = serializers.URLField()


@extend_schema_field(LinksSerializer)
class LinksField(serializers.Field):  # type: ignore[type-arg]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="pk", read_only=True, **kwargs)

    def to_representation(self, value: uuid.UUID) -> dict[str, str]:
        # The detail and file routes sit under the list's (dmp.api_urls):
        # one reverse() per answer, not two per row.
        base = self.context["documents_url"]
        return {"detail": f"{base}{value}/", "download": f"{base}{value}/file"}


class LabelField(serializers.CharField):
    """A code's label from a fixed table (Django's get_FOO_display() scans the
    choices at each call)."""

    def __init__(self, labels: Callable[[str], object], **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)
        self.labels = labels

    def to_representation(self, value: str) -> str:
        return str(self.labels(value))


@extend_schema_serializer(component_name="Document")
class DocumentSerializer(serializers.Serializer[Document]):
    """One document as the actor may see it; `masked` only for the patient
    side (DMP-8). Never the storage name, never another patient's data."""

    id = serializers.UUIDField()
    title = serializers.CharField()
    type_code = serializers.CharField(help_text="typeCode (JDV_J07)")
    type_label = LabelField(codes.type_label, source="type_code")
    class_code = serializers.CharField(help_text="classCode (JDV_J57)")
    class_label = LabelField(
        lambda code: CLASS_CODES.get(code, code), source="class_code"
    )
    author = AuthorField()
    document_date = serializers.DateField()
    created_at = serializers.DateTimeField()
    size = serializers.IntegerField(help_text="octets")
    mime_type = serializers.CharField()
    masked = serializers.BooleanField(
        required=False, help_text="MASQUE_PS ; pour le patient seulement"
    )
    version = serializers.IntegerField()
    links = LinksField()

    def to_representation(self, instance: Document) -> dict[str, Any]:
        """The fields above, written out (G-P4: a page of 20 is built without
        DRF's per-field machinery; the declared fields stay the schema)."""
        fields = self.fields
        data = {
            "id": str(instance.pk),
            "title": str(instance.title),
            "type_code": instance.type_code,
            "type_label": str(codes.type_label(instance.type_code)),
            "class_code": instance.class_code,
            "class_label": str(
                CLASS_CODES.get(instance.class_code, instance.class_code)
            ),
            "author": fields["author"].to_representation(instance),
            "document_date": fields["document_date"].to_representation(
                instance.document_date
            ),
            "created_at": fields["created_at"].to_representation(instance.created_at),
            "size": instance.size,
            "mime_type": instance.mime_type,
            "masked": instance.masked,
            "version": instance.version,
            "links": fields["links"].to_representation(instance.pk),
        }
        if not self.context.get("patient_side"):
            del data["masked"]
        return data


@extend_schema_serializer(component_name="DocumentDetail")
class DocumentDetailSerializer(DocumentSerializer):
    file_name = serializers.CharField()
    format_code = serializers.CharField(help_text="formatCode (JDV_J60)")
    sha256 = serializers.CharField()
    replaces = serializers.UUIDField(
        source="replaces_id", allow_null=True, help_text="version précédente"
    )

    def to_representation(self, instance: Document) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["file_name"] = str(instance.file_name)
        data["format_code"] = instance.format_code
        data["sha256"] = instance.sha256
        data["replaces"] = str(instance.replaces_id) if instance.replaces_id else None
        return data


def _context(request: Request, *, patient_side: bool) -> dict[str, Any]:
    return {
        "request": request,
        "patient_side": patient_side,
        "documents_url": reverse("dmp-api:document-list", request=request),
    }


# ------------------------------------------------------------------- reads


PAGE_SIZE = 20


def _page(
    request: Request, rows: QuerySet[Document], *, number: int, size: int
) -> dict[str, Any]:
    """One page of `rows` with the links to its neighbours (G-P4): a COUNT,
    then one query whose subquery sorts and cuts the page's ids, so that the
    authors are joined to 20 rows, not to the whole record before the sort."""
    paginator = Paginator(rows.values("pk"), size)
    try:
        page = paginator.page(number)
    except EmptyPage as empty:
        raise NotFound(_("Cette page n'existe pas.")) from empty
    url = request.build_absolute_uri()
    previous = None
    if page.has_previous():
        previous = (
            remove_query_param(url, "page")
            if number == 2
            else replace_query_param(url, "page", number - 1)
        )
    return {
        "count": paginator.count,
        "next": replace_query_param(url, "page", number + 1)
        if page.has_next()
        else None,
        "previous": previous,
        "results": list(rows.filter(pk__in=page.object_list)),
    }


class DocumentListApi(APIView):
    """The documents of a patient's DMP the actor may see, newest first."""

    @extend_schema_serializer(component_name="DocumentListQuery")
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        patient = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="Par défaut, le titulaire ; obligatoire pour un professionnel.",
        )
        class_code = serializers.CharField(required=False, max_length=2)
        type_code = serializers.CharField(required=False, max_length=16)
        author = serializers.RegexField(
            r"^(patient|professional|[0-9]{1,12})$",
            required=False,
            help_text="patient, professional, ou l'identifiant d'un professionnel",
        )
        since = serializers.DateField(required=False)
        until = serializers.DateField(required=False)
        search = serializers.CharField(required=False, max_length=200)
        folder = serializers.UUIDField(required=False)
        page = serializers.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            since, until = attrs.get("since"), attrs.get("until")
            if since and until and since > until:
                raise serializers.ValidationError(
                    {"until": [_("La date de fin précède la date de début.")]}
                )
            return attrs

    @extend_schema_serializer(component_name="DocumentPage")
    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = DocumentSerializer(many=True)

    @extend_schema(
        operation_id="dmp_documents_list",
        tags=TAGS,
        description=(
            "Les documents du DMP d'un patient que l'utilisateur peut voir, du "
            "plus récent au plus ancien, par pages de 20 (100 au plus)."
        ),
        parameters=[InputSerializer],
        responses={200: OutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def get(self, request: Request) -> Response:
        query = DocumentListApi.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = selectors.DocumentFilters(
            class_code=data.get("class_code", ""),
            type_code=data.get("type_code", ""),
            author=data.get("author", ""),
            folder=data.get("folder"),
            since=data.get("since"),
            until=data.get("until"),
            search=data.get("search", ""),
        )
        rows, access = selectors.documents_query_for(
            actor=_user(request),
            patient=_patient(request, data.get("patient")),
            filters=filters,
            request=_http(request),
        )
        page = _page(
            request,
            rows,
            number=data.get("page", 1),
            size=data.get("page_size", PAGE_SIZE),
        )
        output = DocumentListApi.OutputSerializer(
            page, context=_context(request, patient_side=access.patient_side)
        )
        return Response(output.data)


class DocumentDetailApi(APIView):
    """DMP-1: one document's metadata (the selector audits the read)."""

    OutputSerializer = DocumentDetailSerializer

    @extend_schema(
        operation_id="dmp_documents_detail",
        tags=TAGS,
        responses={200: OutputSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        document, access = selectors.document_get_for(
            actor=_user(request), pk=pk, request=_http(request)
        )
        output = self.OutputSerializer(
            document, context=_context(request, patient_side=access.patient_side)
        )
        return Response(output.data)


class DocumentDownloadApi(APIView):
    """DMP-3: the decrypted file, streamed; the headers of the portal's
    download (`dmp.views`: RFC 6266 name, nosniff, sandbox)."""

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # A file answers whatever the client accepts (errors stay JSON).
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="dmp_documents_download",
        tags=TAGS,
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="Le fichier, avec son type réel."
            ),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, pk: uuid.UUID) -> StreamingHttpResponse:
        return _file_response(_http(request), pk, inline=False)


# ------------------------------------------------------------------ writes


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file sent in a multipart form (documented as binary, not as a URL)."""


# The services' error codes, as the field of the form they concern.
_DEPOSIT_FIELDS = {
    "type": "type_code",
    "title": "title",
    "date": "document_date",
    "upload": "file",
    "stale": "replaces",
}


class DocumentDepositApi(APIView):
    """DMP-2, DMP-4, DMP-5: add a document, or a new version of one
    (`replaces`, DMP-11). J58 flags are for professionals (DMP-9, DMP-10)."""

    parser_classes = [parsers.MultiPartParser]

    @extend_schema_serializer(component_name="DocumentDepositInput")
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        patient = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="Par défaut, le titulaire ; obligatoire pour un professionnel.",
        )
        file = UploadField(help_text="PDF, JPEG, PNG, TIFF, RTF ou TXT")
        title = serializers.CharField(max_length=200)
        type_code = serializers.CharField(max_length=16)
        document_date = serializers.DateField(required=False)
        masked = serializers.BooleanField(required=False, default=False)
        invisible_patient = serializers.BooleanField(required=False, default=False)
        invisible_representatives = serializers.BooleanField(
            required=False, default=False
        )
        replaces = serializers.UUIDField(required=False)

    @extend_schema(
        operation_id="dmp_documents_create",
        tags=TAGS,
        description=(
            "Ajoute un document, ou une nouvelle version d'un document "
            "(`replaces`) : PDF, JPEG, PNG, TIFF, RTF ou TXT, 5 Mo au plus pour "
            "le patient. Les réglages de visibilité sont réservés aux "
            "professionnels."
        ),
        request={"multipart/form-data": InputSerializer},
        responses={201: DocumentDetailSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request: Request) -> Response:
        form = DocumentDepositApi.InputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        actor, http = _user(request), _http(request)
        patient = _patient(request, data.get("patient"))
        replaces = None
        if data.get("replaces") is not None:
            replaces, _access = selectors.document_for_change(
                actor=actor, pk=data["replaces"], request=http
            )
        upload = data["file"]
        try:
            document = services.document_deposit(
                actor=actor,
                patient=patient,
                stream=upload,
                file_name=upload.name or "",
                title=data["title"],
                type_code=data["type_code"],
                document_date=data.get("document_date"),
                masked=data["masked"],
                invisible_patient=data["invisible_patient"],
                invisible_representatives=data["invisible_representatives"],
                replaces=replaces,
                request=http,
            )
        except DjangoValidationError as invalid:
            field = _DEPOSIT_FIELDS.get(str(invalid.code), "non_field_errors")
            raise serializers.ValidationError({field: invalid.messages}) from invalid
        patient_side = document.author_professional_id is None
        output = DocumentDetailSerializer(
            document, context=_context(request, patient_side=patient_side)
        )
        return Response(
            output.data,
            status=status.HTTP_201_CREATED,
            headers={"Location": output.data["links"]["detail"]},
        )


class DocumentCollectionApi(APIView):
    """GET lists and POST deposits on one URL (REST); each operation keeps its
    own class, serializers and schema (they name them by class, not `self`)."""

    parser_classes = DocumentDepositApi.parser_classes
    get = DocumentListApi.get
    post = DocumentDepositApi.post


class DocumentMaskApi(APIView):
    """DMP-8: the patient (or a representative) hides one document from
    professionals, or shows it again. The lookup is audited as a read, the
    change as an update."""

    @extend_schema_serializer(component_name="DocumentMaskInput")
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        masked = serializers.BooleanField()

    @extend_schema_serializer(component_name="DocumentMaskOutput")
    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        id = serializers.UUIDField()
        masked = serializers.BooleanField()

    @extend_schema(
        operation_id="dmp_documents_mask",
        tags=TAGS,
        request=InputSerializer,
        responses={200: OutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        form = self.InputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        masked = form.validated_data["masked"]
        actor, http = _user(request), _http(request)
        document, _access = selectors.document_for_change(
            actor=actor, pk=pk, request=http
        )
        services.documents_mask(
            actor=actor,
            patient=document.patient,
            documents=[document],
            masked=masked,
            request=http,
        )
        return Response(
            self.OutputSerializer({"id": document.pk, "masked": masked}).data
        )


class DocumentMaskAllApi(APIView):
    """DMP-8: hide every document from professionals, or show them all."""

    @extend_schema_serializer(component_name="DocumentMaskAllInput")
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        patient = serializers.IntegerField(required=False, min_value=1)
        masked = serializers.BooleanField()

    @extend_schema_serializer(component_name="DocumentMaskAllOutput")
    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        changed = serializers.IntegerField(help_text="documents changés")

    @extend_schema(
        operation_id="dmp_documents_mask_all",
        tags=TAGS,
        request=InputSerializer,
        responses={200: OutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request: Request) -> Response:
        form = self.InputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        changed = services.documents_mask(
            actor=_user(request),
            patient=_patient(request, data.get("patient")),
            documents=None,
            masked=data["masked"],
            request=_http(request),
        )
        return Response(self.OutputSerializer({"changed": changed}).data)
