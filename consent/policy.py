"""The one access policy to health data (SPEC §4, STYLE R9–R11).

`access_for(actor=…, patient=…, purpose=…)` answers "may this actor do this
to this patient's data, and why" for every read, download, deposit, export,
count and search; `Access.documents()` turns the answer into one queryset
filter (set-based: the same number of queries for 1 or 1,000 documents).
Nothing here writes: callers audit each decision once, allowed or refused,
with `access_audit` (G-S12), and answer a refusal with the same 404 as a
missing object.

Who may see what:

- the patient (SELF) and, until the child's 18th birthday, an active legal
  representative (REPRESENTATIVE): every current document but those withheld
  for an announcement consultation (DMP-9, until announced or a month has
  passed) and, for representatives, those marked INVISIBLE_REPRESENTANTS_
  LEGAUX (CONS-7);
- a professional, never when blocked (CONS-2), as médecin traitant (sees
  masked documents too, cannot be blocked), in care (a declared consent or
  the care team, CONS-1), or during an emergency access the patient did not
  oppose (CONS-6): documents of the classes the access matrix opens to their
  profession, never masked ones (MASQUE_PS) unless they wrote them (DMP-8);
- nobody else (deny by default): agents never see health data.

A DMP exists only while the space is open (activated or opened
automatically): an opposed, suspended or closed space has none to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import NoReturn

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from consent.models import AccessRule, Block, CareRelationship, EmergencyAccess
from espace.models import Beneficiary, LegalRepresentation, Professional, Space, User
from espace.selectors import adult_cutoff


class Purpose(StrEnum):
    READ = "read"  # list, count, search, detail, download, export
    DEPOSIT = "deposit"  # add a document
    MANAGE = "manage"  # the patient's settings: masks, blocks, emergency, history


class Basis(StrEnum):
    SELF = "self"
    REPRESENTATIVE = "representative"
    MEDECIN_TRAITANT = "medecin_traitant"
    CARE_CONSENT = "care_consent"
    CARE_TEAM = "care_team"
    EMERGENCY_BRIS_DE_GLACE = "emergency_bris_de_glace"
    EMERGENCY_SAMU = "emergency_samu"


class Refusal(StrEnum):
    NO_DMP = "no_dmp"
    NOT_RELATED = "not_related"
    BLOCKED = "blocked"
    NOT_IN_CARE = "not_in_care"
    ROLE = "role"
    PURPOSE = "purpose"


PATIENT_SIDE = (Basis.SELF, Basis.REPRESENTATIVE)
EMERGENCY = (Basis.EMERGENCY_BRIS_DE_GLACE, Basis.EMERGENCY_SAMU)
_CARE = {
    CareRelationship.Kind.CONSENT: Basis.CARE_CONSENT,
    CareRelationship.Kind.CARE_TEAM: Basis.CARE_TEAM,
}


@dataclass(frozen=True)
class Access:
    """One decision: `basis` when allowed, `refusal` when not."""

    actor: User
    patient: Beneficiary
    purpose: Purpose
    basis: Basis | None = None
    refusal: Refusal | None = None
    professional: Professional | None = None
    classes: frozenset[str] = frozenset()  # professionals: what the matrix opens
    emergency: EmergencyAccess | None = None

    @property
    def allowed(self) -> bool:
        return self.basis is not None

    @property
    def patient_side(self) -> bool:
        return self.basis in PATIENT_SIDE

    @property
    def code(self) -> str:
        """The audit code suffix: the basis, or why it was refused."""
        return str(self.basis) if self.basis else f"refused.{self.refusal}"

    def documents(self) -> Q:
        """The documents this access shows, as a filter on `dmp.Document`
        (current ones only: the caller adds the status it wants)."""
        if self.basis is None:
            return Q(pk__in=[])
        if self.patient_side:
            released = timezone.now() - _release_delay()
            shown = (
                Q(invisible_patient=False)
                | Q(announced_at__isnull=False)
                | Q(created_at__lte=released)
            )
            if self.basis == Basis.REPRESENTATIVE:
                shown &= Q(invisible_representatives=False)
            return shown
        assert self.professional is not None
        by_matrix = Q(class_code__in=sorted(self.classes))
        if self.basis != Basis.MEDECIN_TRAITANT:
            by_matrix &= Q(masked=False)  # DMP-8, emergencies included (A5.9)
        return by_matrix | Q(author_professional=self.professional)


def _release_delay() -> timedelta:
    from dmp.models import ANNOUNCEMENT_RELEASE

    return ANNOUNCEMENT_RELEASE


def dmp_exists(patient: Beneficiary) -> bool:
    return Space.objects.filter(
        beneficiary=patient, state__in=Space.OPEN_STATES
    ).exists()


def is_representative(*, actor: User, patient: Beneficiary) -> bool:
    """CONS-7: an active legal representative of a child not yet 18."""
    return (
        patient.birth_date > adult_cutoff()
        and LegalRepresentation.objects.filter(
            representative__user=actor,
            minor=patient,
            status=LegalRepresentation.Status.ACTIVE,
        ).exists()
    )


def matrix_classes(profession: str) -> frozenset[str]:
    """CONS-1: the classes the access matrix opens to a profession, read at
    each decision (an agent's edit counts from the next request)."""
    return frozenset(
        AccessRule.objects.filter(profession=profession, allowed=True).values_list(
            "class_code", flat=True
        )
    )


def current_emergency(
    *, professional: Professional, patient: Beneficiary
) -> EmergencyAccess | None:
    return (
        EmergencyAccess.objects.filter(
            professional=professional, patient=patient, ends_at__gt=timezone.now()
        )
        .order_by("-started_at")
        .first()
    )


def emergency_allowed(*, patient: Beneficiary, mode: str) -> bool:
    """CONS-6: each emergency access is on unless the patient opposed it."""
    from consent.models import PrivacySettings

    settings = PrivacySettings.objects.filter(patient=patient).first()
    if settings is None:
        return True
    if mode == EmergencyAccess.Mode.SAMU:
        return settings.samu
    return settings.bris_de_glace


def access_for(*, actor: User, patient: Beneficiary, purpose: Purpose) -> Access:
    """The decision for `actor` on `patient`'s DMP, for `purpose`."""

    def refuse(why: Refusal, professional: Professional | None = None) -> Access:
        return Access(actor, patient, purpose, refusal=why, professional=professional)

    if actor.role == User.Role.PATIENT:
        if patient.user_id == actor.pk:
            basis = Basis.SELF
        elif is_representative(actor=actor, patient=patient):
            basis = Basis.REPRESENTATIVE
        else:
            return refuse(Refusal.NOT_RELATED)
        if not dmp_exists(patient):
            return refuse(Refusal.NO_DMP)
        return Access(actor, patient, purpose, basis=basis)

    professional = getattr(actor, "professional", None)
    if actor.role != User.Role.PROFESSIONAL or professional is None:
        return refuse(Refusal.ROLE)
    if purpose == Purpose.MANAGE:
        return refuse(Refusal.PURPOSE, professional)
    if not dmp_exists(patient):
        return refuse(Refusal.NO_DMP, professional)
    pro_basis: Basis | None = None
    emergency = None
    if patient.medecin_traitant_id == professional.pk:
        pro_basis = Basis.MEDECIN_TRAITANT  # never blocked (CONS-2, A2.6)
    elif Block.objects.filter(patient=patient, professional=professional).exists():
        return refuse(Refusal.BLOCKED, professional)
    else:
        kind = (
            CareRelationship.objects.filter(
                patient=patient, professional=professional, revoked_at__isnull=True
            )
            .values_list("kind", flat=True)
            .first()
        )
        if kind is not None:
            pro_basis = _CARE[CareRelationship.Kind(kind)]
        elif purpose == Purpose.READ:
            emergency = current_emergency(professional=professional, patient=patient)
            if emergency is not None and emergency_allowed(
                patient=patient, mode=emergency.mode
            ):
                pro_basis = (
                    Basis.EMERGENCY_SAMU
                    if emergency.mode == EmergencyAccess.Mode.SAMU
                    else Basis.EMERGENCY_BRIS_DE_GLACE
                )
    if pro_basis is None:
        return refuse(Refusal.NOT_IN_CARE, professional)
    return Access(
        actor,
        patient,
        purpose,
        basis=pro_basis,
        professional=professional,
        classes=matrix_classes(professional.profession),
        emergency=emergency if pro_basis in EMERGENCY else None,
    )


def access_audit(
    access: Access,
    *,
    action: str,
    target: object,
    code: str,
    request: HttpRequest | None = None,
    refused: str = "",
) -> AuditEvent:
    """The one audit entry of a decision touching health data (G-S12):
    `<code>:<basis>` when allowed, `<code>:refused.<why>` (a minor failure)
    when not, `refused` naming a later reason (not the author, say). Ids and
    codes only."""
    ok = access.allowed and not refused
    suffix = access.code if not refused else f"refused.{refused}"
    return audit_record(
        actor=access.actor,
        action=action,
        target=target,  # type: ignore[arg-type]
        patient=access.patient,
        outcome=AuditEvent.Outcome.SUCCESS if ok else AuditEvent.Outcome.MINOR_FAILURE,
        code=f"{code}:{suffix}",
        request=request,
    )


class Decision:
    """One decision of a write, audited exactly once (G-S12): build it (a
    refusal is audited and raises PermissionDenied at once), then call
    `refuse()` for a later reason (not the author…), `invalid()` for bad
    input (nothing written, the attempt on record) or `done()` once written,
    in the write's transaction."""

    def __init__(
        self,
        *,
        actor: User,
        patient: Beneficiary,
        purpose: Purpose,
        action: str,
        code: str,
        request: HttpRequest | None,
        target: object,
    ) -> None:
        self.access = access_for(actor=actor, patient=patient, purpose=purpose)
        self.action = action
        self.code = code
        self.request = request
        if not self.access.allowed:
            self.refuse(target=target)

    def refuse(self, *, target: object, why: str = "") -> NoReturn:
        self._audit(target, refused=why)
        raise PermissionDenied

    def invalid(self, *, target: object) -> None:
        self._audit(target, refused="invalid")

    def done(self, *, target: object) -> None:
        self._audit(target)

    def _audit(self, target: object, refused: str = "") -> None:
        access_audit(
            self.access,
            action=self.action,
            target=target,
            code=self.code,
            request=self.request,
            refused=refused,
        )
