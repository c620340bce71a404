"""REST API of the personal agenda (AG-2; SPEC §8, STYLE R19): one APIView
per operation, the same selectors, services, policy and audit as the pages.
The profile is `patient` (a query parameter, or a field of the body), the
holder's own by default; another family's answers 404, like a missing one."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agenda import appointment_selectors as selectors
from agenda import appointment_services as services
from agenda.appointment_forms import paris_datetime
from agenda.appointment_models import DURATIONS, Appointment, ItemReminder
from agenda.reminders import PARIS
from espace.models import Beneficiary, User
from lib.http import AuthenticatedHttpRequest

TAGS = ["agenda"]
NOT_FOUND = OpenApiResponse(description="Introuvable, ou accès refusé (même réponse).")
BAD_INPUT = OpenApiResponse(description="Saisie invalide (messages en français).")
PATIENT = OpenApiParameter(
    "patient", int, description="Le profil (enfant représenté) ; par défaut le vôtre."
)
ID_ERRORS: dict[str, Any] = {
    "invalid": "Le paramètre « patient » doit être un identifiant.",
    "min_value": "Le paramètre « patient » doit être un identifiant.",
    "max_value": "Le paramètre « patient » doit être un identifiant.",
    "max_string_length": "Le paramètre « patient » est trop long.",
}


def _user(request: Request) -> User:
    return cast(User, request.user)


def _http(request: Request) -> AuthenticatedHttpRequest:
    return cast(AuthenticatedHttpRequest, request._request)


class PatientSerializer(serializers.Serializer[Any]):
    patient = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, error_messages=ID_ERRORS
    )


def _patient(request: Request, data: Any) -> Beneficiary:
    """The profile named, or the holder's own; whether the actor may act on
    it is the policy's answer (audited), later."""
    params = PatientSerializer(data=data)
    params.is_valid(raise_exception=True)
    patient_id = params.validated_data.get("patient")
    if patient_id is None:
        patient = getattr(_user(request), "beneficiary", None)
    else:
        patient = Beneficiary.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404
    return cast(Beneficiary, patient)


class AppointmentOutputSerializer(serializers.Serializer[Appointment]):
    id = serializers.UUIDField()
    patient = serializers.IntegerField(source="beneficiary_id")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    title = serializers.CharField(allow_null=True)
    professional_rpps = serializers.SerializerMethodField()
    professional = serializers.SerializerMethodField()
    place = serializers.CharField(allow_null=True)
    notes = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    cancelled_at = serializers.DateTimeField(allow_null=True)

    def get_professional_rpps(self, appointment: Appointment) -> str | None:
        return appointment.professional.rpps if appointment.professional else None

    def get_professional(self, appointment: Appointment) -> str | None:
        if appointment.professional is not None:
            return str(appointment.professional.user.get_full_name())
        return (
            str(appointment.professional_text)
            if appointment.professional_text
            else None
        )


class AppointmentInputSerializer(serializers.Serializer[Any]):
    starts_at = serializers.DateTimeField(
        help_text="ISO 8601 ; sans fuseau : heure de Paris",
        error_messages={
            "required": _("La date et l'heure du rendez-vous sont obligatoires."),
            "invalid": _(
                "La date et l'heure du rendez-vous sont invalides (ISO 8601)."
            ),
        },
    )
    duration_minutes = serializers.ChoiceField(choices=DURATIONS, default=30)
    title = serializers.CharField(required=False, allow_blank=True, max_length=120)
    professional_rpps = serializers.RegexField(
        r"^\d{11}$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": _("Le numéro RPPS compte 11 chiffres.")},
    )
    professional = serializers.CharField(
        required=False, allow_blank=True, max_length=120
    )
    place = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        starts_at: dt.datetime = value["starts_at"]
        raw = str(data.get("starts_at", ""))
        if not any(mark in raw[10:] for mark in ("Z", "+", "-")):
            # a wall-clock time in Paris: refused when it does not exist
            try:
                naive = dt.datetime.fromisoformat(raw.replace(" ", "T"))
            except ValueError:
                naive = starts_at.astimezone(PARIS).replace(tzinfo=None)
            local = paris_datetime(naive.date(), naive.time())
            if local is None:
                raise serializers.ValidationError(
                    {
                        "starts_at": [
                            _(
                                "Cette heure n'existe pas ce jour-là (passage à l'heure d'été)."
                            )
                        ]
                    }
                )
            value["starts_at"] = local
        rpps = value.get("professional_rpps") or ""
        value["professional_obj"] = (
            selectors.professional_by_rpps(rpps) if rpps else None
        )
        if rpps and value["professional_obj"] is None:
            raise serializers.ValidationError(
                {
                    "professional_rpps": [
                        _("Aucun professionnel connu avec ce numéro RPPS.")
                    ]
                }
            )
        return value

    def to_data(self) -> services.AppointmentData:
        v = self.validated_data
        return services.AppointmentData(
            starts_at=v["starts_at"],
            duration_minutes=int(v["duration_minutes"]),
            title=v.get("title", ""),
            professional=v["professional_obj"],
            professional_text=""
            if v["professional_obj"]
            else v.get("professional", ""),
            place=v.get("place", ""),
            notes=v.get("notes", ""),
        )


class AppointmentCollectionApi(APIView):
    """GET: a profile's appointments (?vue=passes for the past ones);
    POST: add one (AG-2)."""

    @extend_schema(
        tags=TAGS,
        parameters=[
            PATIENT,
            OpenApiParameter("vue", str, enum=["a-venir", "passes", "tous"]),
        ],
        responses={200: AppointmentOutputSerializer(many=True), 404: NOT_FOUND},
        operation_id="agenda_appointment_list",
    )
    def get(self, request: Request) -> Response:
        patient = _patient(request, request.query_params)
        view = request.query_params.get("vue", "a-venir")
        past = {"a-venir": False, "passes": True, "tous": None}.get(view, False)
        listing = selectors.appointment_list_for(
            actor=_user(request),
            patient=patient,
            request=_http(request),
            past=past,
            limit=500,
        )
        output = AppointmentOutputSerializer(listing.appointments, many=True)  # type: ignore[arg-type]
        return Response(output.data)

    @extend_schema(
        tags=TAGS,
        parameters=[PATIENT],
        request=AppointmentInputSerializer,
        responses={201: AppointmentOutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
        operation_id="agenda_appointment_create",
    )
    def post(self, request: Request) -> Response:
        patient = _patient(request, request.query_params)
        body = AppointmentInputSerializer(data=request.data)
        valid = body.is_valid()
        appointment = services.appointment_create(
            actor=_user(request),
            patient=patient,
            data=body.to_data() if valid else None,
            request=_http(request),
        )
        if appointment is None:
            return Response(body.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            AppointmentOutputSerializer(appointment).data,
            status=status.HTTP_201_CREATED,
        )


class AppointmentDetailApi(APIView):
    """GET: one appointment; PATCH: change it (AG-2)."""

    @extend_schema(
        tags=TAGS,
        responses={200: AppointmentOutputSerializer, 404: NOT_FOUND},
        operation_id="agenda_appointment_detail",
    )
    def get(self, request: Request, pk: Any) -> Response:
        appointment = selectors.appointment_get_for(
            actor=_user(request), pk=pk, request=_http(request)
        )
        return Response(AppointmentOutputSerializer(appointment).data)

    @extend_schema(
        tags=TAGS,
        request=AppointmentInputSerializer,
        responses={200: AppointmentOutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
        operation_id="agenda_appointment_update",
    )
    def patch(self, request: Request, pk: Any) -> Response:
        appointment = selectors.appointment_lookup(pk=pk)
        current = {
            "starts_at": appointment.starts_at.isoformat(),
            "duration_minutes": appointment.duration_minutes,
        }
        data = {**current, **(request.data if isinstance(request.data, dict) else {})}
        body = AppointmentInputSerializer(data=data)
        valid = body.is_valid()
        if valid:
            # unchanged fields keep their values (a partial update)
            merged = body.to_data()
            kept = {
                name: getattr(appointment, name) or ""
                for name in ("title", "place", "notes")
                if name not in request.data
            }
            if (
                "professional" not in request.data
                and "professional_rpps" not in request.data
            ):
                kept["professional_text"] = appointment.professional_text or ""
                kept["professional"] = appointment.professional
            merged = services.AppointmentData(**{**merged.__dict__, **kept})
        updated = services.appointment_update(
            actor=_user(request),
            appointment=appointment,
            data=merged if valid else None,
            request=_http(request),
        )
        if not valid:
            return Response(body.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(AppointmentOutputSerializer(updated).data)


class AppointmentCancelApi(APIView):
    """POST: cancel an appointment; it stays, cancelled (AG-2)."""

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={200: AppointmentOutputSerializer, 404: NOT_FOUND},
        operation_id="agenda_appointment_cancel",
    )
    def post(self, request: Request, pk: Any) -> Response:
        appointment = selectors.appointment_lookup(pk=pk)
        cancelled = services.appointment_cancel(
            actor=_user(request), appointment=appointment, request=_http(request)
        )
        return Response(AppointmentOutputSerializer(cancelled).data)


class ReminderPreferenceSerializer(serializers.Serializer[Any]):
    email = serializers.BooleanField()
    inapp = serializers.BooleanField()
    day_before = serializers.BooleanField()
    same_day = serializers.BooleanField()


class ReminderPreferenceApi(APIView):
    """GET / PUT: the account's reminder settings (AG-2; no health data)."""

    @extend_schema(
        tags=TAGS,
        responses=ReminderPreferenceSerializer,
        operation_id="agenda_reminder_preferences_detail",
    )
    def get(self, request: Request) -> Response:
        preference = selectors.reminder_preference_for(actor=_user(request))
        return Response(ReminderPreferenceSerializer(preference).data)

    @extend_schema(
        tags=TAGS,
        request=ReminderPreferenceSerializer,
        responses={200: ReminderPreferenceSerializer, 400: BAD_INPUT},
        operation_id="agenda_reminder_preferences_update",
    )
    def put(self, request: Request) -> Response:
        body = ReminderPreferenceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        preference = services.reminder_preference_update(
            actor=_user(request), **body.validated_data
        )
        return Response(ReminderPreferenceSerializer(preference).data)


class ItemReminderOutputSerializer(serializers.Serializer[ItemReminder]):
    id = serializers.UUIDField()
    patient = serializers.IntegerField(source="beneficiary_id")
    item_code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    due_on = serializers.DateField()


class ItemReminderInputSerializer(serializers.Serializer[Any]):
    item_code = serializers.SlugField(max_length=64)
    label = serializers.CharField(max_length=120)  # type: ignore[assignment]
    due_on = serializers.DateField()


class ItemReminderCollectionApi(APIView):
    """GET: the recommended items a profile is reminded of; POST: add one."""

    @extend_schema(
        tags=TAGS,
        parameters=[PATIENT],
        responses={200: ItemReminderOutputSerializer(many=True), 404: NOT_FOUND},
        operation_id="agenda_item_reminder_list",
    )
    def get(self, request: Request) -> Response:
        patient = _patient(request, request.query_params)
        rows = selectors.item_reminder_list_for(
            actor=_user(request), patient=patient, request=_http(request)
        )
        output = ItemReminderOutputSerializer(rows, many=True)  # type: ignore[arg-type]
        return Response(output.data)

    @extend_schema(
        tags=TAGS,
        parameters=[PATIENT],
        request=ItemReminderInputSerializer,
        responses={201: ItemReminderOutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
        operation_id="agenda_item_reminder_create",
    )
    def post(self, request: Request) -> Response:
        patient = _patient(request, request.query_params)
        body = ItemReminderInputSerializer(data=request.data)
        valid = body.is_valid()
        data = body.validated_data if valid else {}
        try:
            reminder = services.item_reminder_create(
                actor=_user(request),
                patient=patient,
                item_code=data.get("item_code", ""),
                label=data.get("label", ""),
                due_on=data.get("due_on"),
                request=_http(request),
            )
        except DjangoValidationError:
            if valid:
                raise
            reminder = None
        if not valid or reminder is None:
            return Response(body.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            ItemReminderOutputSerializer(reminder).data, status=status.HTTP_201_CREATED
        )


class ItemReminderDeleteApi(APIView):
    """DELETE: no more reminder for this item."""

    @extend_schema(
        tags=TAGS,
        responses={204: None, 404: NOT_FOUND},
        operation_id="agenda_item_reminder_delete",
    )
    def delete(self, request: Request, pk: Any) -> Response:
        reminder = selectors.item_reminder_lookup(pk=pk)
        services.item_reminder_delete(
            actor=_user(request), reminder=reminder, request=_http(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
