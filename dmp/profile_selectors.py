"""Actor-scoped reads of the medical profile (DMP-6) and of the
administrative data (DMP-7) (STYLE R8).

Every read asks `consent.policy` and writes exactly one audit entry, allowed
or refused (G-S12); missing and forbidden both raise Http404.

- The patient side (the holder, a legal representative of a child) sees the
  whole profile and the administrative data.
- A professional with a READ access sees the profile as a synthesis
  document: only when the access matrix opens class "11" (Synthèse) to
  their profession (CONS-1), and never an entry or a measure the patient
  masked (DMP-8), but for the médecin traitant, who sees what the patient
  masked, as for documents (L1111-16, A5.7). Never the administrative data
  nor the reimbursements.

`*_to_change` helpers find an object for a write without auditing: the
service that follows decides and audits, once.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from stdnum.fr import nir as stdnum_nir

from audit.models import AuditEvent
from consent.policy import Access, Basis, Purpose, access_audit, access_for
from consent.services import access_notice
from dmp.models import Measure, ProfileEntry, Reimbursement
from espace.models import Beneficiary, LegalRepresentation, Professional, User
from espace.selectors import adult_cutoff

Action = AuditEvent.Action
Section = ProfileEntry.Section

# The profile is shown to professionals as a synthesis (JDV_J57 class 11).
PROFILE_CLASS = "11"
REIMBURSEMENTS_PER_PAGE = 50
DELETED_SHOWN = 50


@dataclass
class SectionEntries:
    code: str
    label: str
    entries: list[ProfileEntry] = field(default_factory=list)


@dataclass
class Profile:
    access: Access
    sections: list[SectionEntries]
    organ_donation: ProfileEntry | None
    latest: list[Measure]  # the latest measure of each kind that has one
    # DMP-11: the patient side's deleted entries, newest first (their
    # history stays reachable).
    deleted: list[ProfileEntry] = field(default_factory=list)

    @property
    def organ_donation_choice(self) -> str:
        if self.organ_donation is None:
            return ProfileEntry.OrganDonation.UNKNOWN
        return str(self.organ_donation.label)

    @property
    def organ_donation_label(self) -> str:
        return str(ProfileEntry.OrganDonation(self.organ_donation_choice).label)

    @property
    def is_empty(self) -> bool:
        return (
            not any(s.entries for s in self.sections)
            and self.organ_donation is None
            and not self.latest
        )


@dataclass
class MeasureList:
    access: Access
    by_kind: dict[str, list[Measure]]  # oldest first, every kind present


@dataclass
class AdministrativeData:
    access: Access
    patient: Beneficiary
    representatives: list[Beneficiary]
    children: list[Beneficiary]
    medecin_traitant: Professional | None
    reimbursements: Page[Reimbursement]

    @property
    def nir(self) -> str:
        return str(stdnum_nir.format(self.patient.nir))


def _patient(patient: Beneficiary | int | str) -> Beneficiary:
    if isinstance(patient, Beneficiary):
        return patient
    try:
        return Beneficiary.objects.get(pk=int(patient))
    except (Beneficiary.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _decide(
    *,
    actor: User,
    patient: Beneficiary,
    code: str,
    target: object,
    request: HttpRequest | None,
    purpose: Purpose = Purpose.READ,
    patient_side_only: bool = False,
) -> Access:
    """The decision for a read; a refusal is audited here and is a 404."""
    access = access_for(actor=actor, patient=patient, purpose=purpose)
    refused = ""
    if access.allowed and not access.patient_side:
        if patient_side_only:
            refused = "patient_side_only"
        elif PROFILE_CLASS not in access.classes:
            refused = "matrix"
    if not access.allowed or refused:
        access_audit(
            access,
            action=Action.READ,
            target=target,
            code=code,
            request=request,
            refused=refused,
        )
        raise Http404
    return access


def _audit_read(
    access: Access, *, target: object, code: str, request: HttpRequest | None
) -> None:
    access_audit(access, action=Action.READ, target=target, code=code, request=request)
    access_notice(access)  # CONS-3: the patient is told of a professional's read


def _sees_masked(access: Access) -> bool:
    return access.patient_side or access.basis == Basis.MEDECIN_TRAITANT


def _entries(access: Access) -> QuerySet[ProfileEntry]:
    rows = ProfileEntry.objects.filter(
        patient=access.patient, status=ProfileEntry.Status.CURRENT
    )
    return rows if _sees_masked(access) else rows.filter(masked=False)


def _measures(access: Access) -> QuerySet[Measure]:
    rows = Measure.objects.filter(patient=access.patient, status=Measure.Status.CURRENT)
    return rows if _sees_masked(access) else rows.filter(masked=False)


def profile_get_for(
    *,
    actor: User,
    patient: Beneficiary | int | str,
    request: HttpRequest | None = None,
    code: str = "dmp.profile.read",
    purpose: Purpose = Purpose.READ,
) -> Profile:
    """DMP-6: the current profile `actor` may see, by section, with the
    organ-donation choice and the latest measure of each kind."""
    patient = _patient(patient)
    target = "dmp.profile"
    access = _decide(
        actor=actor,
        patient=patient,
        code=code,
        target=target,
        request=request,
        purpose=purpose,
    )
    by_section: dict[str, list[ProfileEntry]] = {}
    for entry in _entries(access).order_by("section", "-entry_date", "created_at"):
        by_section.setdefault(entry.section, []).append(entry)
    donation = by_section.pop(Section.ORGAN_DONATION, [None])[0]
    sections = [
        SectionEntries(
            code=str(value), label=str(label), entries=by_section.get(value, [])
        )
        for value, label in Section.choices
        if value != Section.ORGAN_DONATION
    ]
    latest = [
        measure
        for kind in Measure.Kind.values
        if (
            measure := _measures(access)
            .filter(kind=kind)
            .order_by("-measured_on", "-created_at")
            .first()
        )
        is not None
    ]
    deleted = (
        list(
            ProfileEntry.objects.filter(
                patient=patient, status=ProfileEntry.Status.DELETED
            ).order_by("-deleted_at")[:DELETED_SHOWN]
        )
        if access.patient_side
        else []
    )
    _audit_read(access, target=target, code=code, request=request)
    return Profile(
        access=access,
        sections=sections,
        organ_donation=donation,
        latest=latest,
        deleted=deleted,
    )


def measures_list_for(
    *,
    actor: User,
    patient: Beneficiary | int | str,
    request: HttpRequest | None = None,
) -> MeasureList:
    """DMP-6: every current measure `actor` may see, by kind, oldest first
    (for the tables and the charts)."""
    patient = _patient(patient)
    code = "dmp.profile.measures.read"
    access = _decide(
        actor=actor, patient=patient, code=code, target="dmp.measure", request=request
    )
    by_kind: dict[str, list[Measure]] = {kind: [] for kind in Measure.Kind.values}
    for measure in _measures(access).order_by("measured_on", "created_at"):
        by_kind[measure.kind].append(measure)
    _audit_read(access, target="dmp.measure", code=code, request=request)
    return MeasureList(access=access, by_kind=by_kind)


def _entry(pk: uuid.UUID | str) -> ProfileEntry:
    try:
        return ProfileEntry.objects.select_related("patient").get(pk=pk)
    except (ProfileEntry.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404 from None


def profile_entry_get_for(
    *,
    actor: User,
    pk: uuid.UUID | str,
    request: HttpRequest | None = None,
    code: str = "dmp.profile.entry.read",
    sections: Collection[str] | None = None,
) -> tuple[ProfileEntry, Access]:
    """One current entry, for the patient side (the edit and delete pages),
    of one of `sections` when given."""
    entry = _entry(pk)
    target = ("dmp.profileentry", entry.pk)
    access = _decide(
        actor=actor,
        patient=entry.patient,
        code=code,
        target=target,
        request=request,
        purpose=Purpose.MANAGE,
    )
    refused = ""
    if entry.status != ProfileEntry.Status.CURRENT:
        refused = "not_current"
    elif sections is not None and entry.section not in sections:
        refused = "section"
    if refused:
        access_audit(
            access,
            action=Action.READ,
            target=target,
            code=code,
            request=request,
            refused=refused,
        )
        raise Http404
    _audit_read(access, target=target, code=code, request=request)
    return entry, access


def profile_entry_history_for(
    *, actor: User, pk: uuid.UUID | str, request: HttpRequest | None = None
) -> tuple[list[ProfileEntry], Access]:
    """DMP-11: every version of an entry (given any of them), newest first,
    deleted and replaced ones included; the patient side only."""
    entry = _entry(pk)
    code = "dmp.profile.entry.history"
    target = ("dmp.profileentry", entry.lineage)
    access = _decide(
        actor=actor,
        patient=entry.patient,
        code=code,
        target=target,
        request=request,
        purpose=Purpose.MANAGE,
    )
    versions = list(
        ProfileEntry.objects.filter(lineage=entry.lineage, patient=entry.patient)
        .select_related("created_by", "deleted_by")
        .order_by("-version")
    )
    _audit_read(access, target=target, code=code, request=request)
    return versions, access


def profile_manage_access(*, actor: User, patient: Beneficiary) -> Access:
    """The patient side's right to write `patient`'s profile, for pages that
    only show an empty form: nothing is read, so nothing is audited (the
    service audits the write). Http404 when refused."""
    access = access_for(actor=actor, patient=patient, purpose=Purpose.MANAGE)
    if not access.allowed:
        raise Http404
    return access


def profile_entry_to_change(*, pk: uuid.UUID | str) -> ProfileEntry:
    """The entry a write names; the service decides and audits."""
    return _entry(pk)


def measure_to_change(*, pk: uuid.UUID | str) -> Measure:
    """The measure a write names; the service decides and audits."""
    try:
        return Measure.objects.select_related("patient").get(pk=pk)
    except (Measure.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404 from None


def administrative_data_for(
    *,
    actor: User,
    patient: Beneficiary,
    page: int | str = 1,
    request: HttpRequest | None = None,
) -> AdministrativeData:
    """DMP-7: identity traits (INS), contact details, legal representatives
    (of a child) or represented children, médecin traitant, and one page of
    the reimbursement history, newest first; the patient side only."""
    code = "dmp.administrative.read"
    access = _decide(
        actor=actor,
        patient=patient,
        code=code,
        target="dmp.reimbursement",
        request=request,
        patient_side_only=True,
    )
    cutoff = adult_cutoff()
    representatives: list[Beneficiary] = []
    children: list[Beneficiary] = []
    active = LegalRepresentation.Status.ACTIVE
    if patient.birth_date > cutoff:
        representatives = list(
            Beneficiary.objects.filter(
                represented__minor=patient, represented__status=active
            ).order_by("birth_name", "pk")
        )
    else:
        children = list(
            Beneficiary.objects.filter(
                Q(representatives__representative=patient)
                & Q(representatives__status=active),
                birth_date__gt=cutoff,
            ).order_by("birth_date", "pk")
        )
    medecin = (
        Professional.objects.select_related("user", "establishment")
        .filter(pk=patient.medecin_traitant_id)
        .first()
        if patient.medecin_traitant_id
        else None
    )
    paginator = Paginator(
        Reimbursement.objects.filter(patient=patient).order_by(
            "-care_date", "-imported_at", "pk"
        ),
        REIMBURSEMENTS_PER_PAGE,
    )
    reimbursements = paginator.get_page(page)
    _audit_read(access, target="dmp.reimbursement", code=code, request=request)
    return AdministrativeData(
        access=access,
        patient=patient,
        representatives=representatives,
        children=children,
        medecin_traitant=medecin,
        reimbursements=reimbursements,
    )
