"""The patient's prevention messages (MSG-4, CONS-9), for the active
profile (their own, or a child's they represent, CONS-7), STYLE R18: reads
through `campaign_selectors` (policy + one audit entry each), writes through
the services."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consent.services import prevention_refusal_set
from espace.decorators import patient_required
from espace.views import active_profile
from lib.http import AuthenticatedHttpRequest
from messagerie import campaign_selectors as selectors
from messagerie.campaign_forms import PreventionPreferenceForm
from messagerie.campaign_services import prevention_message_mark_read


def _context(request: AuthenticatedHttpRequest, patient: object) -> dict[str, object]:
    return {
        "patient": patient,
        "for_child": getattr(patient, "user_id", None) != request.user.pk,
    }


@never_cache
@require_GET
@patient_required
def message_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """MSG-4: the profile's prevention messages, unread first."""
    patient = active_profile(request)
    items = selectors.prevention_message_list_for(
        actor=request.user, patient=patient, request=request
    )
    context = {
        **_context(request, patient),
        "items": items,
        "unread": sum(1 for item in items if item.unread),
    }
    return render(request, "messagerie/prevention/list.html", context)


@never_cache
@require_GET
@patient_required
def message_detail(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """MSG-4 (A8.4): the message, why it was sent, and the button to refuse
    further ones (CONS-9). Shown means read."""
    patient = active_profile(request)
    message, delivery = selectors.prevention_message_get_for(
        actor=request.user, patient=patient, campaign_id=pk, request=request
    )
    prevention_message_mark_read(delivery=delivery)
    context = {**_context(request, patient), "message": message}
    return render(request, "messagerie/prevention/detail.html", context)


@require_POST
@patient_required
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    """CONS-9: accept or refuse personalised prevention messages, at once,
    without a reason (the privacy page's switch, the message's button)."""
    patient = active_profile(request)
    form = PreventionPreferenceForm(request.POST)
    form.is_valid()  # a checkbox and a known return page: never invalid
    accepted = bool(form.cleaned_data.get("accepted"))
    try:
        prevention_refusal_set(
            actor=request.user, patient=patient, refused=not accepted, request=request
        )
    except PermissionDenied:
        raise Http404 from None
    if accepted:
        messages.success(request, _("Vous recevrez les messages de prévention."))
    else:
        messages.success(
            request,
            _(
                "C'est noté : vous ne recevrez plus de messages de prévention. "
                "Vous pouvez changer d'avis à tout moment dans vos paramètres."
            ),
        )
    if form.cleaned_data.get("back") == "privacy":
        return redirect("consent:privacy")
    return redirect("prevention:list")
