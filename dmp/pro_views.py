"""The professional portal (STYLE R18): find a patient, open their DMP within
the access matrix, declare their consent, deposit documents, emergency
access, alerts (CONS-1, CONS-6, DMP-4, DMP-9, DMP-10, DMP-11).

Every page is for professionals only (another role: 404). A patient is
reachable when in the professional's care or found by a search in this
session (`pro_selectors.patient_get_for`); what their DMP shows is decided
and audited by `consent.policy` through `dmp.selectors`, once per page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import AuditEvent
from consent import services as consent_services
from consent.models import CLASS_CODES
from consent.policy import (
    EMERGENCY,
    Access,
    Basis,
    Purpose,
    Refusal,
    access_audit,
    access_for,
)
from dmp import codes, pro_selectors, pro_services, profile_services
from dmp import services as dmp_services
from dmp.models import Document
from dmp.pro_forms import (
    CareDeclareForm,
    DepositForm,
    DocumentFilterForm,
    EmergencyForm,
    NirSearchForm,
    TraitsSearchForm,
)
from dmp.profile_selectors import PROFILE_CLASS, Profile, profile_get_for
from dmp.selectors import (
    DocumentFilters,
    DocumentList,
    document_for_change,
    document_get_for,
    document_history_for,
    documents_list_for,
)
from espace.decorators import professional_required
from espace.models import Beneficiary
from espace.selectors import adult_cutoff
from lib.http import AuthenticatedHttpRequest

FOUND = "pro_found_patients"  # session: patients found by a search
MAX_FOUND = 50


def _found(request: AuthenticatedHttpRequest) -> list[int]:
    return [i for i in request.session.get(FOUND, []) if isinstance(i, int)]


def _remember(request: AuthenticatedHttpRequest, patient: Beneficiary) -> None:
    others = [i for i in _found(request) if i != patient.pk]
    request.session[FOUND] = [patient.pk, *others][:MAX_FOUND]


def _patient(request: AuthenticatedHttpRequest, pk: int) -> Beneficiary:
    return pro_selectors.patient_get_for(
        actor=request.user, pk=pk, found=_found(request)
    )


def _document(
    request: AuthenticatedHttpRequest,
    patient: Beneficiary,
    pk: uuid.UUID,
    *,
    for_change: bool = False,
) -> tuple[Document, Access]:
    """A document of this patient the professional sees: a read (audited),
    or the subject of a write (`for_change`: the service audits it)."""
    lookup = document_for_change if for_change else document_get_for
    document, access = lookup(actor=request.user, pk=pk, request=request)
    if document.patient_id != patient.pk:
        raise Http404
    return document, access


def _is_minor(patient: Beneficiary) -> bool:
    return patient.birth_date > adult_cutoff()


# ---------------------------------------------------------------- search


@never_cache
@require_http_methods(["GET", "POST"])
@professional_required
def patient_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """CONS-1, SEC-3: one neutral answer for "nobody", "no DMP" and
    "blocked"; the identity typed is not echoed back."""
    mode = "traits" if request.POST.get("mode") == "traits" else "nir"
    data = request.POST if request.method == "POST" else None
    forms = {
        "nir": NirSearchForm(data if mode == "nir" else None, prefix="nir"),
        "traits": TraitsSearchForm(data if mode == "traits" else None, prefix="traits"),
    }
    form = forms[mode]
    if request.method == "GET":
        return _search_page(request, forms, mode)
    if not form.is_valid():
        return _search_page(request, forms, mode, status=400)
    typed = form.cleaned_data
    try:
        patient = pro_selectors.patient_search_for(
            actor=request.user,
            nir=typed.get("nir", ""),
            birth_date=typed["birth_date"],
            traits=form.traits() if isinstance(form, TraitsSearchForm) else None,
            request=request,
        )
    except ValidationError as error:
        return _search_page(
            request, _blank_search_forms(), mode, notice=error.messages[0], status=429
        )
    if patient is None:
        notice = _(
            "Aucun dossier médical partagé accessible ne correspond à cette "
            "recherche. Vérifiez les informations saisies."
        )
        return _search_page(request, _blank_search_forms(), mode, notice=notice)
    _remember(request, patient)
    return redirect("pro:patient", pk=patient.pk)


def _blank_search_forms() -> dict[str, Any]:
    return {
        "nir": NirSearchForm(prefix="nir"),
        "traits": TraitsSearchForm(prefix="traits"),
    }


def _search_page(
    request: AuthenticatedHttpRequest,
    forms: dict[str, Any],
    mode: str,
    *,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {**forms, "mode": mode, "notice": notice, "throttled": status == 429}
    return render(request, "dmp/pro_search.html", context, status=status)


# ---------------------------------------------------------------- the patient


@never_cache
@require_GET
@professional_required
def patient(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """CONS-1, DMP-6: the DMP within the matrix (documents, then the medical
    profile when the matrix opens it); without access, the ways in."""
    patient = _patient(request, pk)
    access = access_for(actor=request.user, patient=patient, purpose=Purpose.READ)
    if not access.allowed:
        access_audit(
            access,
            action=AuditEvent.Action.READ,
            target="dmp.document",
            code="dmp.documents.list",
            request=request,
        )
        if access.refusal != Refusal.NOT_IN_CARE:
            raise Http404  # blocked, or the DMP closed since
        return _locked_page(request, patient, CareDeclareForm())
    form = DocumentFilterForm(request.GET or None, classes=access.classes)
    listing = documents_list_for(
        actor=request.user, patient=patient, filters=form.filters(), request=request
    )
    return _dmp_page(request, listing, form, _profile(request, access))


def _profile(request: AuthenticatedHttpRequest, access: Access) -> Profile | None:
    """DMP-6: the profile read (and audited) only when the matrix opens the
    synthesis class to the profession; otherwise not asked for at all."""
    if PROFILE_CLASS not in access.classes:
        return None
    return profile_get_for(actor=request.user, patient=access.patient, request=request)


def _dmp_page(
    request: AuthenticatedHttpRequest,
    listing: DocumentList,
    form: DocumentFilterForm,
    profile: Profile | None,
) -> HttpResponse:
    access, patient = listing.access, listing.access.patient
    context = {
        "patient": patient,
        "access": access,
        "basis": str(access.basis),
        "relationship": pro_selectors.care_relationship_of(
            professional=pro_selectors.professional_of(request.user), patient=patient
        ),
        "classes": [CLASS_CODES[c] for c in sorted(access.classes)],
        "rows": [_row(d) for d in listing.documents],
        "form": form,
        "filtered": form.filters() != DocumentFilters(),
        "can_deposit": access.basis not in EMERGENCY,
        "is_medecin_traitant": access.basis == Basis.MEDECIN_TRAITANT,
        "minor": _is_minor(patient),
        "profile": profile,
        "profile_sections": [s for s in profile.sections if s.entries]
        if profile
        else [],
        "latest": [(m, profile_services.MEASURES[m.kind].unit) for m in profile.latest]
        if profile
        else [],
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "dmp/pro_patient.html", context, status=status)


def _row(document: Document) -> dict[str, Any]:
    return {
        "document": document,
        "type": codes.type_label(document.type_code),
        "previewable": document.mime_type in codes.PREVIEWABLE,
        "withheld": document.invisible_patient and document.announced_at is None,
    }


def _locked_page(
    request: AuthenticatedHttpRequest,
    patient: Beneficiary,
    form: CareDeclareForm,
    status: int = 200,
) -> HttpResponse:
    context = {
        "patient": patient,
        "form": form,
        "attestations": CareDeclareForm.ATTESTATIONS,
        "posted_kind": form.data.get("kind", "") if form.is_bound else "",
        "minor": _is_minor(patient),
    }
    return render(request, "dmp/pro_patient_locked.html", context, status=status)


@require_POST
@professional_required
def care_declare(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """CONS-1: the patient's consent collected, or the care team, attested."""
    patient = _patient(request, pk)
    form = CareDeclareForm(request.POST)
    if not form.is_valid():
        return _locked_page(request, patient, form, status=400)
    try:
        consent_services.care_declare(
            actor=request.user,
            patient=patient,
            kind=form.cleaned_data["kind"],
            request=request,
        )
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("Votre accès au dossier de ce patient est déclaré."))
    return redirect("pro:patient", pk=patient.pk)


# ---------------------------------------------------------------- deposits


def _deposit_rights(request: AuthenticatedHttpRequest, patient: Beneficiary) -> None:
    """The form is only offered to who may deposit (the service decides
    again, and audits, when the file comes)."""
    access = access_for(actor=request.user, patient=patient, purpose=Purpose.DEPOSIT)
    if not access.allowed:
        access_audit(  # G-S12: the refusal is on record, like the service's
            access,
            action=AuditEvent.Action.CREATE,
            target="dmp.document",
            code="dmp.document.deposit",
            request=request,
        )
        raise Http404


@never_cache
@require_http_methods(["GET", "POST"])
@professional_required
def document_deposit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """DMP-4: a document of the reference list, with the DMP-9/DMP-10 flags."""
    patient = _patient(request, pk)
    _deposit_rights(request, patient)
    return _deposit_page(request, patient, template="dmp/pro_deposit.html")


@never_cache
@require_http_methods(["GET", "POST"])
@professional_required
def yearly_summary(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """DMP-4, L1111-15: the médecin traitant's yearly summary (VSM)."""
    patient = _patient(request, pk)
    professional = pro_selectors.professional_of(request.user)
    if patient.medecin_traitant_id != professional.pk:
        # G-S12: the médecin traitant's only (DMP-4); the attempt is on record
        access_audit(
            access_for(actor=request.user, patient=patient, purpose=Purpose.DEPOSIT),
            action=AuditEvent.Action.CREATE,
            target="dmp.document",
            code="dmp.document.deposit",
            request=request,
            refused="not_medecin_traitant",
        )
        raise Http404

    def last_summary() -> dict[str, Any]:
        mine = DocumentFilters(
            type_code=codes.YEARLY_SUMMARY, author=str(professional.pk)
        )
        listing = documents_list_for(
            actor=request.user,
            patient=patient,
            filters=mine,
            request=request,
            code="dmp.documents.yearly_summary",
        )
        return {"last": listing.documents[0] if listing.documents else None}

    return _deposit_page(
        request,
        patient,
        template="dmp/pro_yearly_summary.html",
        only_type=codes.YEARLY_SUMMARY,
        initial={"title": _("Synthèse médicale annuelle")},
        extra=last_summary,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@professional_required
def document_replace(
    request: AuthenticatedHttpRequest, pk: int, doc: uuid.UUID
) -> HttpResponse:
    """DMP-11: a new version of a document the professional wrote; the old
    one stays in the history."""
    patient = _patient(request, pk)
    document, access = _document(request, patient, doc, for_change=True)
    target = ("dmp.document", document.pk)
    if (
        document.author_professional_id
        != pro_selectors.professional_of(request.user).pk
    ):
        # G-S12: one refusal entry, and the same 404 as a missing document
        access_audit(
            access,
            action=AuditEvent.Action.UPDATE,
            target=target,
            code="dmp.document.new_version",
            request=request,
            refused="not_author",
        )
        raise Http404
    if request.method == "GET":  # the form shows the document's title
        access_audit(
            access,
            action=AuditEvent.Action.READ,
            target=target,
            code="dmp.document.read",
            request=request,
        )
    return _deposit_page(
        request,
        patient,
        template="dmp/pro_deposit.html",
        initial={"type_code": document.type_code, "title": str(document.title)},
        replaces=document,
    )


def _deposit_page(
    request: AuthenticatedHttpRequest,
    patient: Beneficiary,
    *,
    template: str,
    only_type: str = "",
    initial: dict[str, Any] | None = None,
    replaces: Document | None = None,
    extra: Callable[[], dict[str, Any]] | None = None,
) -> HttpResponse:
    minor = _is_minor(patient)
    post = request.method == "POST"
    form = DepositForm(
        request.POST if post else None,
        request.FILES if post else None,
        minor=minor,
        only_type=only_type,
        initial=initial,
    )
    if post and form.is_valid():
        data = form.cleaned_data
        try:
            document = dmp_services.document_deposit(
                actor=request.user,
                patient=patient,
                stream=data["file"],
                file_name=data["file"].name,
                title=data["title"],
                type_code=data["type_code"],
                document_date=data["document_date"],
                invisible_patient=data["invisible_patient"],
                invisible_representatives=data.get("invisible_representatives", False),
                replaces=replaces,
                request=request,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Le document a été déposé dans le DMP."))
            return redirect("pro:document-detail", pk=patient.pk, doc=document.pk)
    context = {
        "patient": patient,
        "form": form,
        "replaces": replaces,
        "minor": minor,
        **(extra() if extra else {}),
    }
    return render(request, template, context, status=400 if post else 200)


# ---------------------------------------------------------------- one document


@never_cache
@require_GET
@professional_required
def document_detail(
    request: AuthenticatedHttpRequest, pk: int, doc: uuid.UUID
) -> HttpResponse:
    """DMP-1, DMP-11: metadata, preview, versions; the author's actions."""
    patient = _patient(request, pk)
    document, access = _document(request, patient, doc)
    mine = (
        document.author_professional_id
        == pro_selectors.professional_of(request.user).pk
    )
    row = _row(document)
    context = {
        "patient": patient,
        "access": access,
        "row": row,
        "document": document,
        "class_label": CLASS_CODES.get(document.class_code, ""),
        "versions": document_history_for(actor=request.user, document=document),
        "mine": mine,
        "can_announce": row["withheld"]
        and (mine or access.basis == Basis.MEDECIN_TRAITANT),
        "image": document.mime_type in ("image/png", "image/jpeg"),
        "minor": _is_minor(patient),
    }
    return render(request, "dmp/pro_document.html", context)


@require_POST
@professional_required
def document_announce(
    request: AuthenticatedHttpRequest, pk: int, doc: uuid.UUID
) -> HttpResponse:
    """DMP-9: after the announcement consultation, the result is shown."""
    patient = _patient(request, pk)
    document, _access = _document(request, patient, doc, for_change=True)
    try:
        dmp_services.document_announce(
            actor=request.user, document=document, request=request
        )
    except PermissionDenied:
        raise Http404 from None
    messages.success(
        request, _("Consultation d'annonce confirmée : le patient voit ce document.")
    )
    return redirect("pro:document-detail", pk=patient.pk, doc=document.pk)


@require_POST
@professional_required
def document_delete(
    request: AuthenticatedHttpRequest, pk: int, doc: uuid.UUID
) -> HttpResponse:
    """DMP-11: the author deletes what they wrote; it stays in the history."""
    patient = _patient(request, pk)
    document, _access = _document(request, patient, doc, for_change=True)
    try:
        dmp_services.document_delete(
            actor=request.user, document=document, request=request
        )
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("Le document a été supprimé du DMP."))
    return redirect("pro:patient", pk=patient.pk)


# ---------------------------------------------------------------- emergency


@never_cache
@require_http_methods(["GET", "POST"])
@professional_required
def emergency(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """CONS-6: "bris de glace", or the SAMU-Centre 15 regulator, with a
    written reason; refused (403) when the patient opposed that mode."""
    patient = _patient(request, pk)
    professional = pro_selectors.professional_of(request.user)
    post = request.method == "POST"
    form = EmergencyForm(
        request.POST if post else None, regulator=professional.is_samu_regulator
    )
    status = 400 if post else 200
    if post and form.is_valid():
        try:
            consent_services.emergency_access_start(
                actor=request.user,
                patient=patient,
                mode=form.cleaned_data["mode"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            form.add_error(None, error)
            status = 403 if error.code == "opposed" else 400
        else:
            return redirect("pro:patient", pk=patient.pk)
    context = {"patient": patient, "form": form, "minor": _is_minor(patient)}
    return render(request, "dmp/pro_emergency.html", context, status=status)


# ---------------------------------------------------------------- alerts

NOTICE_TEXTS = {
    "cons6.emergency": gettext_lazy(
        "Un professionnel a ouvert en urgence le dossier médical partagé de "
        "votre patient."
    ),
}


@never_cache
@require_GET
@professional_required
def alerts(request: AuthenticatedHttpRequest) -> HttpResponse:
    """CONS-6: the emergency accesses to the professional's patients, newest
    first; shown means read."""
    notices = pro_selectors.notices_for(actor=request.user)
    items = [
        {
            "notice": n,
            "text": NOTICE_TEXTS.get(n.kind, _("Nouvelle alerte.")),
            "unread": n.read_at is None,
        }
        for n in notices
    ]
    pro_services.notices_mark_read(actor=request.user, notices=notices)
    return render(request, "dmp/pro_alerts.html", {"items": items})
