"""Pages of the medical profile (DMP-6) and of the administrative data
(DMP-7), for the profile the holder is acting for (their own or a child's,
`espace.views.active_profile`) (STYLE R18).

Reads go through `dmp.profile_selectors` (one audit entry each), writes
through `dmp.profile_services` (one audit entry each); a refusal is the same
404 as a missing object; bad input is a French message and a 400.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dmp import profile_selectors as selectors
from dmp import profile_services as services
from dmp.models import Measure, ProfileEntry
from dmp.profile_forms import (
    SECTION_BY_SLUG,
    SECTIONS,
    MeasureForm,
    OrganDonationForm,
    ProfileEntryForm,
)
from espace.decorators import patient_required
from espace.views import active_profile
from lib.http import AuthenticatedHttpRequest


def _overview(
    request: AuthenticatedHttpRequest,
    *,
    donation_form: OrganDonationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    patient = active_profile(request)
    profile = selectors.profile_get_for(
        actor=request.user, patient=patient, request=request
    )
    if donation_form is None:
        donation_form = OrganDonationForm(
            initial={"choice": profile.organ_donation_choice}
        )
    context = {
        "patient": patient,
        "profile": profile,
        "sections": [(s, SECTIONS[s.code]) for s in profile.sections],
        "latest": [(m, services.MEASURES[m.kind].unit) for m in profile.latest],
        "donation_form": donation_form,
        "copy": _uuid(request.GET.get("copie", "")),
    }
    return render(request, "dmp/profile_overview.html", context, status=status)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@never_cache
@require_GET
@patient_required
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """DMP-6: one card per section, the organ-donation choice, the latest
    measures, and the PDF copy button."""
    return _overview(request)


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
def entry_add(request: AuthenticatedHttpRequest, section: str) -> HttpResponse:
    code = SECTION_BY_SLUG.get(section)
    if code is None:
        raise Http404
    patient = active_profile(request)
    selectors.profile_manage_access(actor=request.user, patient=patient)
    form = ProfileEntryForm(
        request.POST if request.method == "POST" else None, section=code
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_entry_add(
                actor=request.user, patient=patient, section=code, **form.cleaned_data
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("L'information a été ajoutée à votre profil."))
            return redirect(f"{reverse('profil:overview')}#{code}")
    return _entry_form(request, form, code)


def _entry_form(
    request: AuthenticatedHttpRequest,
    form: ProfileEntryForm,
    section: str,
    entry: ProfileEntry | None = None,
) -> HttpResponse:
    context = {
        "form": form,
        "section": section,
        "section_label": ProfileEntry.Section(section).label,
        "text": SECTIONS[section],
        "entry": entry,
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "dmp/profile_entry_form.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
def entry_edit(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """DMP-6, DMP-11: a change adds a version; the old one stays in the
    history."""
    if request.method == "GET":
        entry, _access = selectors.profile_entry_get_for(
            actor=request.user, pk=pk, request=request, sections=SECTIONS
        )
        form = _entry_initial(entry)
        return _entry_form(request, form, entry.section, entry)
    entry = _entry_to_change(pk)
    form = ProfileEntryForm(request.POST, section=entry.section)
    if not form.is_valid():
        # Nothing written; the policy still decides what this page shows.
        entry, _access = selectors.profile_entry_get_for(
            actor=request.user, pk=pk, request=request, sections=SECTIONS
        )
        return _entry_form(request, form, entry.section, entry)
    try:
        services.profile_entry_update(
            actor=request.user, entry=entry, request=request, **form.cleaned_data
        )
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        form.add_error(None, error)
        return _entry_form(request, form, entry.section, entry)
    messages.success(request, _("L'information a été modifiée."))
    return redirect(f"{reverse('profil:overview')}#{entry.section}")


def _entry_to_change(pk: uuid.UUID) -> ProfileEntry:
    """The entry a POST names; the organ-donation choice has its own form."""
    entry = selectors.profile_entry_to_change(pk=pk)
    if entry.section not in SECTIONS:
        raise Http404
    return entry


def _entry_initial(entry: ProfileEntry) -> ProfileEntryForm:
    return ProfileEntryForm(
        section=entry.section,
        initial={
            "label": entry.label,
            "details": entry.details,
            "entry_date": entry.entry_date,
            "masked": entry.masked,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
def entry_delete(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """DMP-6, DMP-11: deleted entries leave the profile, not the history."""
    if request.method == "GET":
        entry, _access = selectors.profile_entry_get_for(
            actor=request.user, pk=pk, request=request, sections=SECTIONS
        )
        context = {"entry": entry, "text": SECTIONS[entry.section]}
        return render(request, "dmp/profile_entry_delete.html", context)
    entry = _entry_to_change(pk)
    try:
        services.profile_entry_delete(actor=request.user, entry=entry, request=request)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("profil:overview")
    messages.success(request, _("L'information a été supprimée de votre profil."))
    return redirect(f"{reverse('profil:overview')}#{entry.section}")


@never_cache
@require_GET
@patient_required
def entry_history(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """DMP-11: every version of an entry, who wrote it and when."""
    versions, _access = selectors.profile_entry_history_for(
        actor=request.user, pk=pk, request=request
    )
    context = {
        "versions": versions,
        "section": versions[0].section,
        "section_label": ProfileEntry.Section(versions[0].section).label,
    }
    return render(request, "dmp/profile_entry_history.html", context)


@require_POST
@patient_required
def organ_donation(request: AuthenticatedHttpRequest) -> HttpResponse:
    """DMP-6 (L1111-15): the organ-donation choice."""
    patient = active_profile(request)
    form = OrganDonationForm(request.POST)
    if form.is_valid():
        try:
            services.organ_donation_set(
                actor=request.user,
                patient=patient,
                choice=form.cleaned_data["choice"],
                request=request,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:  # changed meanwhile by the other parent
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Votre choix sur le don d'organes est enregistré.")
            )
            return redirect(f"{reverse('profil:overview')}#organ_donation")
    return _overview(request, donation_form=form, status=400)


@require_POST
@patient_required
def copy_pdf(request: AuthenticatedHttpRequest) -> HttpResponse:
    """DMP-6: "Enregistrer une copie en PDF dans mes documents" (DOCPAT08)."""
    patient = active_profile(request)
    try:
        document = services.profile_copy_deposit(
            actor=request.user, patient=patient, request=request
        )
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:  # e.g. a copy over the 5 MB limit (DMP-2)
        messages.error(request, " ".join(error.messages))
        return _overview(request, status=400)
    return redirect(f"{reverse('profil:overview')}?copie={document.pk}")


# ---------------------------------------------------------------- measures


@dataclass
class _Series:
    label: str
    color: str
    legend_x: int
    points: str = ""
    dots: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Chart:
    """A line chart drawn server-side as SVG (no script: CSP), with
    presentation attributes only (no style attribute). Coordinates are
    plain numbers (the template turns localisation off); labels are
    already formatted in French."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    series: list[_Series]
    ticks: list[dict[str, Any]]
    dates: list[dict[str, Any]]


CHART_W, CHART_H = 640, 240
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 56, 20, 28, 36
BLUE, PURPLE = "#000091", "#a558a0"  # DSFR blue-france-sun and purple-glycine


def build_chart(kind: str, measures: list[Measure]) -> Chart | None:
    """The chart of one kind of measure over time (`measures` oldest
    first): x proportional to the date, y to the value."""
    if not measures:
        return None
    places = services.MEASURES[kind].places
    rows: list[tuple[date, Decimal, Decimal | None]] = [
        (m.measured_on, m.number, m.number2) for m in measures
    ]
    values = [v for _d, a, b in rows for v in (a, b) if v is not None]
    low, high = min(values), max(values)
    pad = (high - low) / 10 if high > low else max(abs(high) / 10, Decimal(1))
    y_min, y_max = low - pad, high + pad
    first, last = rows[0][0].toordinal(), rows[-1][0].toordinal()
    plot_w = CHART_W - MARGIN_L - MARGIN_R
    plot_h = CHART_H - MARGIN_T - MARGIN_B

    def x(day: date) -> float:
        if last == first:
            return round(MARGIN_L + plot_w / 2, 1)
        return round(MARGIN_L + plot_w * (day.toordinal() - first) / (last - first), 1)

    def y(value: Decimal) -> float:
        return round(MARGIN_T + plot_h * float((y_max - value) / (y_max - y_min)), 1)

    def label(value: Decimal) -> str:
        return number_format(value, decimal_pos=places)

    names = (
        [_("Systolique"), _("Diastolique")]
        if kind == Measure.Kind.BLOOD_PRESSURE
        else [str(Measure.Kind(kind).label)]
    )
    series = [
        _Series(name, color, MARGIN_L + 110 * i)
        for i, (name, color) in enumerate(zip(names, (BLUE, PURPLE), strict=False))
    ]
    for day, *pair in rows:
        for serie, value in zip(series, pair, strict=False):
            if value is None:
                continue
            serie.dots.append(
                {"x": x(day), "y": y(value), "date": day, "value": label(value)}
            )
            serie.points += f"{x(day)},{y(value)} "
    step = (y_max - y_min) / 4
    ticks = [
        {"y": y(y_min + step * i), "label": label(y_min + step * i)} for i in range(5)
    ]
    days = sorted({rows[0][0], rows[len(rows) // 2][0], rows[-1][0]})
    anchors = ["start", "middle", "end"] if len(days) == 3 else ["start", "end"]
    dates = [
        {"x": x(day), "date": day, "anchor": anchor if len(days) > 1 else "middle"}
        for day, anchor in zip(days, anchors, strict=False)
    ]
    return Chart(
        CHART_W,
        CHART_H,
        MARGIN_L,
        CHART_W - MARGIN_R,
        MARGIN_T,
        CHART_H - MARGIN_B,
        series,
        ticks,
        dates,
    )


def _measures_page(
    request: AuthenticatedHttpRequest,
    bound: MeasureForm | None = None,
    status: int | None = None,
) -> HttpResponse:
    patient = active_profile(request)
    listing = selectors.measures_list_for(
        actor=request.user, patient=patient, request=request
    )
    cards = [
        {
            "kind": kind,
            "label": Measure.Kind(kind).label,
            "unit": services.MEASURES[kind].unit,
            "measures": list(reversed(rows)),  # the table: newest first
            "chart": build_chart(kind, rows),
            "form": bound
            if bound is not None and bound.measure_kind == kind
            else MeasureForm(kind=kind),
        }
        for kind, rows in listing.by_kind.items()
    ]
    if status is None:
        status = 400 if bound is not None else 200
    return render(
        request,
        "dmp/profile_measures.html",
        {"cards": cards, "patient": patient},
        status=status,
    )


@never_cache
@require_GET
@patient_required
def measures(request: AuthenticatedHttpRequest) -> HttpResponse:
    """DMP-6: each measure's table and chart over time, and its form."""
    return _measures_page(request)


@require_POST
@patient_required
def measure_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    if kind not in services.MEASURES:
        messages.error(request, _("Choisissez un type de mesure de la liste."))
        return _measures_page(request, status=400)
    patient = active_profile(request)
    form = MeasureForm(request.POST, kind=kind)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.measure_add(
                actor=request.user,
                patient=patient,
                kind=kind,
                measured_on=data["measured_on"],
                value=data["value"],
                value2=data.get("value2"),
                masked=data["masked"],
                request=request,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("La mesure a été enregistrée."))
            return redirect(f"{reverse('profil:measures')}#{kind}")
    return _measures_page(request, bound=form)


@require_POST
@patient_required
def measure_delete(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    measure = selectors.measure_to_change(pk=pk)
    try:
        services.measure_delete(actor=request.user, measure=measure, request=request)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("La mesure a été supprimée."))
    return redirect(f"{reverse('profil:measures')}#{measure.kind}")


# ---------------------------------------------------------------- DMP-7


@never_cache
@require_GET
@patient_required
def admin_data(request: AuthenticatedHttpRequest) -> HttpResponse:
    """DMP-7: identity traits (INS), contact details, representatives or
    children, médecin traitant and the reimbursement history."""
    data = selectors.administrative_data_for(
        actor=request.user,
        patient=active_profile(request),
        page=request.GET.get("page", "1"),
        request=request,
    )
    return render(request, "dmp/admin_data.html", {"data": data})
