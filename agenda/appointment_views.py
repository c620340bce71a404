"""HTML pages of the personal agenda (AG-2, AG-3; STYLE R18), for the
active profile (the holder's own space, or a child's for a parent). Reads go
through `agenda.appointment_selectors`, writes through
`agenda.appointment_services`; each leaves one audit entry, and another
family's appointment answers the same 404 as a missing one."""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agenda import appointment_selectors as selectors
from agenda import appointment_services as services
from agenda.appointment_forms import (
    AppointmentForm,
    FeedSettingsForm,
    ItemReminderForm,
    MonthForm,
    ReminderPreferenceForm,
)
from agenda.appointment_models import Appointment
from agenda.ics import calendar_bytes
from agenda.reminders import PARIS, local_midnight
from consent.policy import dmp_exists
from dmp.views import refused_as_404
from espace.decorators import patient_required
from espace.models import Beneficiary
from espace.views import active_profile
from lib.http import AuthenticatedHttpRequest

UPCOMING_SHOWN = 100
PAST_SHOWN = 100
MONTHS = [
    "",
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
FEED_THROTTLE = 60  # fetches of one feed address per hour (calendar apps poll)


def _profile(request: AuthenticatedHttpRequest) -> Beneficiary:
    profile = active_profile(request)
    if not dmp_exists(profile):
        raise Http404
    return profile


def _base(request: AuthenticatedHttpRequest, profile: Beneficiary) -> dict[str, Any]:
    return {"profile": profile, "own": profile.user_id == request.user.pk}


def _closed(request: AuthenticatedHttpRequest) -> HttpResponse | None:
    """The agenda lives in an open space (as the DMP): a page that says so."""
    profile = active_profile(request)
    if dmp_exists(profile):
        return None
    return render(request, "agenda/rendezvous/closed.html", _base(request, profile))


@never_cache
@require_GET
@patient_required
def appointment_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """AG-2: upcoming appointments (soonest first) or past ones (?vue=passes)."""
    if (closed := _closed(request)) is not None:
        return closed
    profile = _profile(request)
    past = request.GET.get("vue") == "passes"
    listing = selectors.appointment_list_for(
        actor=request.user,
        patient=profile,
        request=request,
        past=past,
        limit=PAST_SHOWN if past else UPCOMING_SHOWN,
    )
    context = _base(request, profile) | {
        "appointments": listing.appointments,
        "past": past,
        "items": selectors.item_reminder_list_for_page(patient=profile),
    }
    return render(request, "agenda/rendezvous/list.html", context)


def _month_grid(
    first: dt.date, appointments: list[Appointment]
) -> list[list[dict[str, Any]]]:
    by_day: dict[dt.date, list[Appointment]] = {}
    for appointment in appointments:
        by_day.setdefault(appointment.starts_at.astimezone(PARIS).date(), []).append(
            appointment
        )
    today = timezone.localdate()
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(
        first.year, first.month
    )
    return [
        [
            {
                "day": day,
                "in_month": day.month == first.month,
                "today": day == today,
                "appointments": by_day.get(day, []),
            }
            for day in week
        ]
        for week in weeks
    ]


@never_cache
@require_GET
@patient_required
def appointment_month(request: AuthenticatedHttpRequest) -> HttpResponse:
    """AG-2: the month as a grid (Monday first), previous/next month."""
    if (closed := _closed(request)) is not None:
        return closed
    profile = _profile(request)
    form = MonthForm(request.GET)
    if not form.is_valid():
        context = _base(request, profile) | {"errors": form.errors["mois"]}
        return render(request, "agenda/rendezvous/bad_month.html", context, status=400)
    first = form.cleaned_data["mois"] or timezone.localdate().replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    listing = selectors.appointment_list_for(
        actor=request.user,
        patient=profile,
        request=request,
        start=local_midnight(first),
        end=local_midnight(following),
    )
    context = _base(request, profile) | {
        "weeks": _month_grid(first, listing.appointments),
        "month_label": f"{MONTHS[first.month]} {first.year}",
        "previous": previous.strftime("%Y-%m"),
        "following": following.strftime("%Y-%m"),
        "count": len(listing.appointments),
    }
    return render(request, "agenda/rendezvous/month.html", context)


def _form_page(
    request: AuthenticatedHttpRequest,
    profile: Beneficiary,
    form: AppointmentForm,
    appointment: Appointment | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _base(request, profile) | {"form": form, "appointment": appointment}
    return render(request, "agenda/rendezvous/form.html", context, status=status)


def _form_errors(form: AppointmentForm, error: ValidationError) -> None:
    fields = {"starts_at": "day", "professional_text": "professional"}
    for name, errors in error.message_dict.items():
        field = fields.get(name, name)
        form.add_error(field if field in form.fields else None, errors)


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
@refused_as_404
def appointment_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """AG-2: add an appointment to the active profile's agenda."""
    if (closed := _closed(request)) is not None:
        return closed
    profile = _profile(request)
    if request.method == "GET":
        return _form_page(request, profile, AppointmentForm())
    form = AppointmentForm(request.POST)
    valid = form.is_valid()
    try:
        appointment = services.appointment_create(
            actor=request.user,
            patient=profile,
            data=form.to_data() if valid else None,
            request=request,
        )
    except ValidationError as error:
        _form_errors(form, error)
        appointment = None
    if appointment is None:
        return _form_page(request, profile, form, status=400)
    messages.success(request, _("Le rendez-vous a été ajouté à l'agenda."))
    return redirect("rendezvous:detail", pk=appointment.pk)


@never_cache
@require_GET
@patient_required
def appointment_detail(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> HttpResponse:
    """AG-2: one appointment, with its notes (one audit entry)."""
    appointment = selectors.appointment_get_for(
        actor=request.user, pk=pk, request=request
    )
    context = _base(request, appointment.beneficiary) | {"appointment": appointment}
    return render(request, "agenda/rendezvous/detail.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
@refused_as_404
def appointment_edit(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """AG-2: change an appointment (a cancelled one stays as it was)."""
    if request.method == "GET":
        appointment = selectors.appointment_get_for(
            actor=request.user, pk=pk, request=request
        )
        form = AppointmentForm(initial=AppointmentForm.initial_for(appointment))
        return _form_page(request, appointment.beneficiary, form, appointment)
    appointment = selectors.appointment_lookup(pk=pk)
    form = AppointmentForm(request.POST)
    valid = form.is_valid()
    try:
        services.appointment_update(
            actor=request.user,
            appointment=appointment,
            data=form.to_data() if valid else None,
            request=request,
        )
    except ValidationError as error:
        _form_errors(form, error)
        valid = False
    if not valid:
        return _form_page(
            request, appointment.beneficiary, form, appointment, status=400
        )
    messages.success(request, _("Le rendez-vous a été modifié."))
    return redirect("rendezvous:detail", pk=appointment.pk)


@require_POST
@patient_required
@refused_as_404
def appointment_cancel(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> HttpResponse:
    """AG-2: cancel; it stays in the agenda, shown as cancelled."""
    appointment = selectors.appointment_lookup(pk=pk)
    services.appointment_cancel(
        actor=request.user, appointment=appointment, request=request
    )
    messages.success(
        request, _("Le rendez-vous a été annulé. Il reste visible dans l'agenda.")
    )
    return redirect("rendezvous:detail", pk=appointment.pk)


# ------------------------------------------------------------ reminders


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
def reminder_preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    """AG-2: e-mail and in-app reminders, the day before and on the day
    (the account's settings, for every profile it manages)."""
    preference = selectors.reminder_preference_for(actor=request.user)
    if request.method == "POST":
        form = ReminderPreferenceForm(request.POST)
        if form.is_valid():
            services.reminder_preference_update(actor=request.user, **form.cleaned_data)
            messages.success(request, _("Vos préférences de rappel sont enregistrées."))
            return redirect("rendezvous:preferences")
    else:
        form = ReminderPreferenceForm(
            initial={
                "email": preference.email,
                "inapp": preference.inapp,
                "day_before": preference.day_before,
                "same_day": preference.same_day,
            }
        )
    return render(request, "agenda/rendezvous/preferences.html", {"form": form})


@require_POST
@patient_required
@refused_as_404
def item_reminder_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """AG-2: "me le rappeler" on a recommended item (the preventive
    calendar's page posts here), for the active profile."""
    profile = _profile(request)
    form = ItemReminderForm(request.POST)
    valid = form.is_valid()
    try:
        services.item_reminder_create(
            actor=request.user,
            patient=profile,
            item_code=form.cleaned_data.get("item_code", "") if valid else "",
            label=form.cleaned_data.get("label", "") if valid else "",
            due_on=form.cleaned_data.get("due_on") if valid else None,
            request=request,
        )
    except ValidationError as refused:
        valid = False
        said = [str(e) for e in refused.messages]
    else:
        said = []
    if not valid:
        # the form's own errors first (a date that does not exist), then the
        # service's (a date gone by)
        errors = (
            [str(e) for field in form.errors.values() for e in field]
            or said
            or [_("La demande de rappel est invalide.")]
        )
        context = _base(request, profile) | {
            "errors": errors,
            "back": _next(request, reverse("rendezvous:list")),
        }
        return render(
            request, "agenda/rendezvous/item_refused.html", context, status=400
        )
    messages.success(request, _("Vous recevrez un rappel la veille et le jour prévu."))
    return redirect(_next(request, reverse("rendezvous:list")))


@require_POST
@patient_required
@refused_as_404
def item_reminder_delete(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> HttpResponse:
    reminder = selectors.item_reminder_lookup(pk=pk)
    services.item_reminder_delete(
        actor=request.user, reminder=reminder, request=request
    )
    messages.success(request, _("Le rappel est supprimé."))
    return redirect(_next(request, reverse("rendezvous:list")))


def _next(request: HttpRequest, default: str) -> str:
    from dmp.views import _back

    return _back(request, default)


# ------------------------------------------------------------ iCalendar (AG-3)


def _ics_response(content: bytes, file_name: str, *, attachment: bool) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    kind = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{kind}; filename="{file_name}"'
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_GET
@patient_required
def ics_download(request: AuthenticatedHttpRequest) -> HttpResponse:
    """AG-3: the active profile's appointments and item reminders as an .ics
    file; ?details=1 adds titles, professionals and places (never notes)."""
    profile = _profile(request)
    details = request.GET.get("details") == "1"
    listing = selectors.appointment_list_for(
        actor=request.user, patient=profile, request=request, code="ag3.ics.download"
    )
    items = selectors.item_reminder_list_for_page(patient=profile)
    content = calendar_bytes(
        name=f"Mon espace santé — {profile.first_name.title()}",
        appointments=listing.appointments,
        items=items,
        details=details,
    )
    return _ics_response(content, "agenda-mon-espace-sante.ics", attachment=True)


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
@refused_as_404
def feed_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """AG-3: the private feed address of the active profile: create or
    regenerate it (shown once: only its hash is kept), titles or not."""
    if (closed := _closed(request)) is not None:
        return closed
    profile = _profile(request)
    feed = selectors.calendar_feed_for(actor=request.user, patient=profile)
    form = FeedSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={
            "include_titles": feed.include_titles if feed else False,
        },
    )
    if request.method == "POST" and form.is_valid():
        titles = form.cleaned_data["include_titles"]
        if request.POST.get("action") == "regenerate" or feed is None:
            feed, token = services.calendar_feed_rotate(
                actor=request.user,
                patient=profile,
                include_titles=titles,
                request=request,
            )
            messages.success(
                request,
                _(
                    "Votre nouvelle adresse d'abonnement est prête. Copiez-la "
                    "maintenant : elle ne sera plus affichée."
                ),
            )
            # shown in this answer only: the token is kept nowhere, not even
            # in the session (only its hash, in the database)
            context = _base(request, profile) | {
                "feed": feed,
                "form": FeedSettingsForm(initial={"include_titles": titles}),
                "feed_url": request.build_absolute_uri(
                    reverse("rendezvous:feed-ics", kwargs={"token": token})
                ),
            }
            return render(request, "agenda/rendezvous/feed.html", context)
        else:
            services.calendar_feed_settings(
                actor=request.user,
                patient=profile,
                include_titles=titles,
                request=request,
            )
            messages.success(request, _("Le réglage du flux est enregistré."))
        return redirect("rendezvous:feed")
    context = _base(request, profile) | {
        "feed": feed,
        "form": form,
        "feed_url": "",
    }
    return render(request, "agenda/rendezvous/feed.html", context)


@never_cache
@require_GET
def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """AG-3: the private feed, for a calendar application: the token is the
    only key (no session, no cookie). "Rendez-vous santé" and the time, or
    the titles when chosen; never notes, places or professionals. At most
    FEED_THROTTLE fetches an hour per address (429 beyond, with Retry-After);
    the calendar says how often to poll (REFRESH-INTERVAL)."""
    key = f"ag3-feed:{selectors.token_hash(token)[:32]}"
    cache.add(key, 0, timeout=3600)
    try:
        fetches = cache.incr(key)
    except ValueError:  # the counter expired between the two calls
        cache.set(key, fetches := 1, timeout=3600)
    if fetches > FEED_THROTTLE:
        response = HttpResponse(
            _("Trop de demandes pour ce flux : réessayez dans une heure."),
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "3600"
        return response
    content = selectors.calendar_feed_read(token=token, request=request)
    body = calendar_bytes(
        name="Mon espace santé",
        appointments=content.appointments,
        items=content.items,
        titles=content.feed.include_titles,
    )
    return _ics_response(body, "mon-espace-sante.ics", attachment=False)


@never_cache
@require_GET
@patient_required
def professional_search(request: AuthenticatedHttpRequest) -> JsonResponse:
    """AG-2: known professionals by name or RPPS, for the form's list (the
    public directory: no patient data)."""
    found = selectors.professional_search(query=str(request.GET.get("q", "")))
    return JsonResponse(
        {
            "results": [
                {
                    "rpps": p.rpps,
                    "name": p.user.get_full_name(),
                    "profession": p.get_profession_display(),
                    "label": f"{p.user.get_full_name()} — RPPS {p.rpps}",
                }
                for p in found
            ]
        }
    )
