"""Pages of the preventive calendar (AG-1, AG-2), for the profile the holder
acts for (their own or a child's, `espace.views.active_profile`) (STYLE R18).

Reads go through `agenda.selectors` (one audit entry each), writes through
`agenda.services` (one audit entry each); another person's calendar is the
same 404 as a missing page; bad input is a French message and a 400.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agenda import selectors, services
from agenda.appointment_selectors import item_reminder_list_for_page
from agenda.forms import MarkDoneForm
from agenda.selectors import Calendar
from dmp.selectors import visible_documents
from espace.decorators import patient_required
from espace.views import active_profile
from lib.http import AuthenticatedHttpRequest

DOCUMENT_CHOICES = 200  # the newest documents offered to link


@never_cache
@require_GET
@patient_required
def calendar(request: AuthenticatedHttpRequest) -> HttpResponse:
    """AG-1: en retard, à faire, à venir, fait."""
    cal = selectors.calendar_get_for(
        actor=request.user, patient=active_profile(request), request=request
    )
    # the reminders asked for (AG-2), read under the same decision and entry
    reminders = {
        r.item_code: r for r in item_reminder_list_for_page(patient=cal.patient)
    }
    context = {"cal": cal, "patient": cal.patient, "reminders": reminders}
    return render(request, "agenda/calendar.html", context)


@never_cache
@require_GET
@patient_required
def vaccinations(request: AuthenticatedHttpRequest) -> HttpResponse:
    """AG-1: the vaccination record, vaccine by vaccine, doses by age."""
    cal = selectors.calendar_get_for(
        actor=request.user,
        patient=active_profile(request),
        request=request,
        code="agenda.vaccinations.read",
    )
    return render(
        request, "agenda/vaccinations.html", {"cal": cal, "patient": cal.patient}
    )


def _documents(cal: Calendar) -> list[tuple[str, str]]:
    rows = visible_documents(cal.access).order_by("-document_date", "-created_at")
    return [
        (str(d.pk), f"{d.title} ({d.document_date:%d/%m/%Y})")
        for d in rows[:DOCUMENT_CHOICES]
    ]


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
def item_done(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """AG-2: mark an item done (a date, who did it, a document)."""
    patient = active_profile(request)
    cal = selectors.calendar_get_for(
        actor=request.user, patient=patient, request=request, code="agenda.item.form"
    )
    item = cal.get(key)
    if item is None:
        raise Http404
    initial = {}
    if item.done is not None:
        initial = {
            "done_on": item.done.done_on,
            "performer": item.done.performer,
            "document": str(item.done.document_id or ""),
        }
    form = MarkDoneForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        documents=_documents(cal),
    )
    if request.method == "POST" and form.is_valid():
        document = form.cleaned_data["document"]
        try:
            services.calendar_item_mark_done(
                actor=request.user,
                patient=patient,
                key=key,
                done_on=form.cleaned_data["done_on"],
                performer=form.cleaned_data["performer"],
                document=uuid.UUID(document) if document else None,
                request=request,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("« %(label)s » est marqué comme fait.") % {"label": item.label},
            )
            return redirect(f"{reverse('agenda:calendar')}#fait")
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "item": item, "patient": patient}
    return render(request, "agenda/item_done.html", context, status=status)


@require_POST
@patient_required
def item_undo(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """AG-2: the item is no longer marked done."""
    try:
        undone = services.calendar_item_undo(
            actor=request.user,
            patient=active_profile(request),
            key=key,
            request=request,
        )
    except PermissionDenied:
        raise Http404 from None
    if undone:
        messages.success(
            request, _("La recommandation n'est plus marquée comme faite.")
        )
    else:
        messages.info(
            request, _("Cette recommandation n'était pas marquée comme faite.")
        )
    return redirect("agenda:calendar")
