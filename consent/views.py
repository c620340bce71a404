"""The patient's privacy pages (STYLE R18), for the active profile (their
own, or a child's they represent): who has access and blocks (CONS-5,
CONS-2), the emergency settings (CONS-6), the access history and its
exports (CONS-4). Reads go through `consent.selectors`, writes through
`consent.services`; a refusal is the same 404 as a missing object."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import AuditEvent
from consent import history, selectors, services
from consent.forms import BlockForm, HistoryFilterForm, PrivacyForm
from consent.history import TAB_LABELS
from consent.models import Block, CareRelationship
from consent.policy import Purpose, access_audit, access_for
from espace.decorators import patient_required
from espace.models import Beneficiary
from espace.views import active_profile
from lib.http import AuthenticatedHttpRequest


def _refused_is_404(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A service's refusal answers like a missing object (SEC-1)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(*args, **kwargs)
        except PermissionDenied:
            raise Http404 from None

    return wrapper


def _profile_context(
    request: AuthenticatedHttpRequest, patient: Beneficiary
) -> dict[str, object]:
    """Whose settings these are (a parent acting for a child sees it)."""
    return {"patient": patient, "for_child": patient.user_id != request.user.pk}


# ---------------------------------------------------------------- CONS-5, CONS-2


def _professionals_page(
    request: AuthenticatedHttpRequest,
    patient: Beneficiary,
    form: BlockForm,
    status: int = 200,
) -> HttpResponse:
    registry = selectors.authorisations_for(
        actor=request.user, patient=patient, request=request
    )
    context = {
        **_profile_context(request, patient),
        "registry": registry,
        "form": form,
    }
    return render(request, "consent/professionals.html", context, status=status)


@never_cache
@require_GET
@patient_required
def professionals(request: AuthenticatedHttpRequest) -> HttpResponse:
    """CONS-5: the authorisations registry."""
    return _professionals_page(request, active_profile(request), BlockForm())


@require_POST
@patient_required
@_refused_is_404
def professional_block(request: AuthenticatedHttpRequest) -> HttpResponse:
    """CONS-2: block a professional (from the registry, or by RPPS)."""
    patient = active_profile(request)
    form = BlockForm(request.POST)
    if form.is_valid():
        professional = form.cleaned_data["rpps"]
        try:
            services.professional_block(
                actor=request.user,
                patient=patient,
                professional=professional,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "%(name)s est bloqué : il ne peut plus consulter ni alimenter "
                    "le dossier."
                )
                % {"name": professional.user.get_full_name()},
            )
            return redirect("consent:professionals")
    return _professionals_page(request, patient, form, status=400)


@require_POST
@patient_required
@_refused_is_404
def professional_unblock(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    patient = active_profile(request)
    try:
        block = selectors.block_get_for(patient=patient, pk=pk)
    except Http404:
        _refusal_on_another(request, Block.objects.filter(pk=pk), "consent.unblock")
        raise
    services.professional_unblock(
        actor=request.user,
        patient=patient,
        professional=block.professional,
        request=request,
    )
    messages.success(request, _("Le professionnel est débloqué."))
    return redirect("consent:professionals")


def _refusal_on_another(
    request: AuthenticatedHttpRequest, rows: Any, code: str
) -> None:
    """G-S12: an attempt on another profile's block or care relationship is
    a 404 like a missing one, and one refusal entry against its patient."""
    other = rows.select_related("patient").first()
    if other is None:
        return
    theirs = access_for(
        actor=request.user, patient=other.patient, purpose=Purpose.MANAGE
    )
    access_audit(
        theirs,
        action=AuditEvent.Action.UPDATE,
        target=other,
        code=code,
        request=request,
        refused="" if not theirs.allowed else "not_visible",
    )


@require_POST
@patient_required
@_refused_is_404
def care_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """CONS-5: withdraw a professional's access (consent or care team)."""
    try:
        relationship = selectors.care_relationship_get_for(
            patient=active_profile(request), pk=pk
        )
    except Http404:
        _refusal_on_another(
            request, CareRelationship.objects.filter(pk=pk), "consent.care.revoke"
        )
        raise
    services.care_revoke(actor=request.user, relationship=relationship, request=request)
    messages.success(
        request,
        _("L'accès de %(name)s au dossier est retiré.")
        % {"name": relationship.professional.user.get_full_name()},
    )
    return redirect("consent:professionals")


# ---------------------------------------------------------------- CONS-6


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
@_refused_is_404
def privacy(request: AuthenticatedHttpRequest) -> HttpResponse:
    """CONS-6: the two emergency accesses, each opposable on its own; and
    the CONS-9 switch of prevention messages."""
    patient = active_profile(request)
    if request.method == "POST":
        form = PrivacyForm(request.POST)
        if form.is_valid():  # two checkboxes: always valid
            services.privacy_settings_update(
                actor=request.user,
                patient=patient,
                request=request,
                **form.cleaned_data,
            )
            messages.success(request, _("Vos choix sont enregistrés."))
            return redirect("consent:privacy")
    current = selectors.privacy_settings_for(
        actor=request.user, patient=patient, request=request
    )
    form = PrivacyForm(
        initial={"bris_de_glace": current.bris_de_glace, "samu": current.samu}
    )
    context = {
        **_profile_context(request, patient),
        "form": form,
        # CONS-9: its own form, posted to prevention:preferences
        "prevention_accepted": not current.prevention_refused,
    }
    return render(request, "consent/privacy.html", context)


# ---------------------------------------------------------------- CONS-4


def _period(filters: selectors.HistoryFilters) -> str:
    if filters.since and filters.until:
        return _("du %(since)s au %(until)s") % {
            "since": filters.since.strftime("%d/%m/%Y"),
            "until": filters.until.strftime("%d/%m/%Y"),
        }
    if filters.since:
        return _("depuis le %(since)s") % {"since": filters.since.strftime("%d/%m/%Y")}
    if filters.until:
        return _("jusqu'au %(until)s") % {"until": filters.until.strftime("%d/%m/%Y")}
    return _("toute la période")


@never_cache
@require_GET
@patient_required
def history_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """CONS-4 (A6.10): the access history, in two tabs, filtered, 50 a page."""
    patient = active_profile(request)
    form = HistoryFilterForm(request.GET)
    tab, filters = form.chosen_tab(), form.filters()
    result = selectors.access_history_for(
        actor=request.user,
        patient=patient,
        tab=tab,
        filters=filters,
        page=request.GET.get("page"),
        request=request,
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        **_profile_context(request, patient),
        "form": form,
        "tab": tab,
        "tabs": TAB_LABELS,
        "tab_label": TAB_LABELS[tab],
        "result": result,
        "query": query.urlencode(),
        "period": _period(filters),
    }
    status = 400 if form.errors else 200
    return render(request, "consent/history.html", context, status=status)


def _export(request: AuthenticatedHttpRequest, export: str) -> HttpResponseBase:
    patient = active_profile(request)
    form = HistoryFilterForm(request.GET)
    if not form.is_valid():
        return history_page(request)  # the page says what is wrong (400)
    tab, filters = form.chosen_tab(), form.filters()
    limit = history.CSV_MAX if export == "csv" else history.PDF_MAX
    result = selectors.access_history_export_for(
        actor=request.user,
        patient=patient,
        tab=tab,
        filters=filters,
        limit=limit,
        export=export,
        request=request,
    )
    name = f"historique-{timezone.localdate().isoformat()}"
    if export == "csv":
        body = history.history_csv(result.entries, truncated=result.truncated)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    else:
        body = history.history_pdf(
            result.entries,
            profile_name=patient.display_name,
            tab=tab,
            period=_period(filters),
            kind=filters.kind,
            truncated=result.truncated,
        )
        response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.{export}"'
    return response


@never_cache
@require_GET
@patient_required
def history_csv(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """CONS-4: the current filter as CSV (UTF-8 with a BOM, `;`)."""
    return _export(request, "csv")


@never_cache
@require_GET
@patient_required
def history_pdf(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """CONS-4: the current filter as PDF."""
    return _export(request, "pdf")
