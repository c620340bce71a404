"""Actor-scoped reads of the consent app (STYLE R8) for the patient side:
the authorisations registry (CONS-5), the blocked professionals (CONS-2),
the emergency settings (CONS-6) and the access history (CONS-4).

Each read asks `consent.policy` (purpose MANAGE: the holder, or a legal
representative of a child) and writes exactly one audit entry, allowed or
refused; a refusal is the same 404 as a missing page. Reads are set-based:
a constant number of queries whatever the size of the record.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Max, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from consent import history
from consent.history import HistoryEntry, Tab
from consent.models import Block, CareRelationship, EmergencyAccess, PrivacySettings
from consent.policy import Access, Purpose, access_audit, access_for
from espace.models import Beneficiary, LegalRepresentation, Professional, User
from espace.selectors import adult_cutoff
from lib.identifiers import validate_rpps

Action = AuditEvent.Action
RECENT_WINDOW = dt.timedelta(days=365)  # CONS-5: who accessed in 12 months
RECENT_MAX = 100
EMERGENCY_MAX = 50
HISTORY_PAGE = 50


def _decide(
    *,
    actor: User,
    patient: Beneficiary,
    code: str,
    target: object,
    request: HttpRequest | None,
) -> Access:
    access = access_for(actor=actor, patient=patient, purpose=Purpose.MANAGE)
    if not access.allowed:
        access_audit(
            access, action=Action.READ, target=target, code=code, request=request
        )
        raise Http404
    return access


def _done(
    access: Access, *, code: str, target: object, request: HttpRequest | None
) -> None:
    access_audit(access, action=Action.READ, target=target, code=code, request=request)


# ---------------------------------------------------------------- CONS-5


@dataclass(frozen=True)
class RecentAccess:
    professional: Professional
    last_at: dt.datetime


@dataclass
class Authorisations:
    """Everyone with access to the patient's DMP, by basis (CONS-5)."""

    access: Access
    medecin_traitant: Professional | None
    care: list[CareRelationship]
    recent: list[RecentAccess]
    emergencies: list[EmergencyAccess]
    blocks: list[Block]
    representatives: list[Beneficiary] = field(default_factory=list)

    @property
    def current_emergencies(self) -> list[EmergencyAccess]:
        now = timezone.now()
        return [e for e in self.emergencies if e.ends_at > now]

    @property
    def past_emergencies(self) -> list[EmergencyAccess]:
        now = timezone.now()
        return [e for e in self.emergencies if e.ends_at <= now]


def authorisations_for(
    *, actor: User, patient: Beneficiary, request: HttpRequest | None = None
) -> Authorisations:
    """CONS-5 (A6.9): the médecin traitant (never blocked), the professionals
    in care (a consent collected at a consultation, or the care team), the
    others who reached the DMP in the last 12 months (from the audit log),
    the emergency accesses, the blocked professionals and, for a child, the
    legal representatives."""
    code = "consent.authorisations.read"
    target = "consent.carerelationship"
    access = _decide(
        actor=actor, patient=patient, code=code, target=target, request=request
    )
    doctor_id = patient.medecin_traitant_id
    blocks = list(
        Block.objects.filter(patient=patient)
        .select_related("professional__user")
        .order_by("-created_at")
    )
    blocked = {b.professional_id for b in blocks}
    care = list(
        CareRelationship.objects.filter(patient=patient, revoked_at__isnull=True)
        .exclude(professional_id__in=[*blocked, doctor_id or 0])
        .select_related("professional__user")
        .order_by("-declared_at")
    )
    in_care = {c.professional_id for c in care}
    since = timezone.now() - RECENT_WINDOW
    last_by_user = dict(
        AuditEvent.objects.filter(
            patient_id=patient.pk,
            recorded_at__gte=since,
            actor_role=User.Role.PROFESSIONAL,
            outcome=AuditEvent.Outcome.SUCCESS,
        )
        .values_list("actor")
        .annotate(last=Max("recorded_at"))
        .order_by("-last")[:RECENT_MAX]
    )
    others = (
        Professional.objects.filter(user_id__in=list(last_by_user))
        .exclude(pk__in=[*blocked, *in_care, doctor_id or 0])
        .select_related("user")
    )
    recent = sorted(
        (RecentAccess(p, last_by_user[p.user_id]) for p in others),
        key=lambda r: r.last_at,
        reverse=True,
    )
    representatives: list[Beneficiary] = []
    if patient.birth_date > adult_cutoff():
        representatives = list(
            Beneficiary.objects.filter(
                represented__minor=patient,
                represented__status=LegalRepresentation.Status.ACTIVE,
            ).order_by("pk")
        )
    registry = Authorisations(
        access=access,
        medecin_traitant=(
            Professional.objects.select_related("user").filter(pk=doctor_id).first()
            if doctor_id
            else None
        ),
        care=care,
        recent=recent,
        emergencies=list(
            EmergencyAccess.objects.filter(patient=patient)
            .select_related("professional__user")
            .order_by("-started_at")[:EMERGENCY_MAX]
        ),
        blocks=blocks,
        representatives=representatives,
    )
    _done(access, code=code, target=target, request=request)
    return registry


def blocks_for(
    *, actor: User, patient: Beneficiary, request: HttpRequest | None = None
) -> list[Block]:
    """CONS-2: the professionals the patient blocked, newest first."""
    code = "consent.blocks.read"
    access = _decide(
        actor=actor, patient=patient, code=code, target="consent.block", request=request
    )
    blocks = list(
        Block.objects.filter(patient=patient)
        .select_related("professional__user")
        .order_by("-created_at")
    )
    _done(access, code=code, target="consent.block", request=request)
    return blocks


def block_get_for(
    *, patient: Beneficiary, pk: int | None = None, rpps: str | None = None
) -> Block:
    """One block of `patient` (the actor's active profile), by its id or by
    the professional's RPPS number: another patient's is a 404."""
    rows = Block.objects.filter(patient=patient).select_related("professional__user")
    if pk is not None:
        rows = rows.filter(pk=pk)
    if rpps is not None:
        rows = rows.filter(professional__rpps=rpps)
    block = rows.first() if pk is not None or rpps is not None else None
    if block is None:
        raise Http404
    return block


def professional_by_rpps(rpps: str) -> Professional:
    """CONS-2: the professional a patient names by RPPS number (the public
    directory, no health data). A wrong or unknown number: a French
    ValidationError."""
    rpps = "".join(rpps.split())
    validate_rpps(rpps)
    professional = Professional.objects.select_related("user").filter(rpps=rpps).first()
    if professional is None:
        raise ValidationError(
            _(
                "Aucun professionnel de santé n'est enregistré avec ce numéro "
                "RPPS. Vérifiez-le."
            ),
            code="unknown",
        )
    return professional


def care_relationship_get_for(*, patient: Beneficiary, pk: int) -> CareRelationship:
    """One active care relationship of `patient` (the actor's active
    profile): another patient's, or one already revoked, is a 404."""
    relationship = (
        CareRelationship.objects.filter(patient=patient, pk=pk, revoked_at__isnull=True)
        .select_related("patient", "professional__user")
        .first()
    )
    if relationship is None:
        raise Http404
    return relationship


# ---------------------------------------------------------------- CONS-6


def privacy_settings_for(
    *, actor: User, patient: Beneficiary, request: HttpRequest | None = None
) -> PrivacySettings:
    """CONS-6: the two emergency settings (both on when never changed)."""
    code = "consent.privacy.read"
    target = "consent.privacysettings"
    access = _decide(
        actor=actor, patient=patient, code=code, target=target, request=request
    )
    privacy = PrivacySettings.objects.filter(patient=patient).first()
    _done(access, code=code, target=target, request=request)
    return privacy or PrivacySettings(patient=patient)


# ---------------------------------------------------------------- CONS-4


@dataclass(frozen=True)
class HistoryFilters:
    since: dt.date | None = None
    until: dt.date | None = None
    kind: str = ""


@dataclass
class HistoryPage:
    access: Access
    entries: list[HistoryEntry]
    page: Page[AuditEvent] | None = None
    truncated: bool = False


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight in Europe/Paris (settings.TIME_ZONE), as an aware time."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _history_rows(
    access: Access, *, tab: str, filters: HistoryFilters
) -> QuerySet[AuditEvent]:
    """The audit entries of the patient for a tab and filters, newest first
    (index audit_patient_time). Entries about documents this access does not
    show are left out: a result withheld for an announcement consultation
    (DMP-9) and, for a representative, a document hidden from the parents
    (DMP-10, CONS-7): the history must not reveal what the list hides.
    Documents replaced or deleted stay in (DMP-11)."""
    # The dmp app sits above consent (SPEC §11): imported here, like the
    # policy's release delay, to keep the module graph one-way at import time.
    from dmp.models import Document

    patient = access.patient
    rows = AuditEvent.objects.filter(patient_id=patient.pk)
    if tab == Tab.MINE:
        rows = rows.filter(actor_id=access.actor.pk)
    else:
        rows = rows.exclude(actor_id=access.actor.pk)
    if filters.since is not None:
        rows = rows.filter(recorded_at__gte=_start_of(filters.since))
    if filters.until is not None:
        rows = rows.filter(
            recorded_at__lt=_start_of(filters.until + dt.timedelta(days=1))
        )
    if filters.kind:
        rows = rows.filter(history.kind_q(filters.kind))
    # The audit keeps ids as text (str(uuid)); the hidden documents are few:
    # one query for their ids, the same text form on every database.
    hidden = [
        str(pk)
        for pk in Document.objects.filter(patient=patient)
        .exclude(access.documents())
        .values_list("pk", flat=True)
    ]
    if hidden:
        rows = rows.exclude(Q(target_type="dmp.document", target_id__in=hidden))
    return rows.order_by("-recorded_at", "-seq")


def _who(
    event: AuditEvent,
    *,
    access: Access,
    users: dict[int, User],
    representatives: set[int],
) -> str:
    """Who did it, in the patient's words: never an agent's name (the
    Assurance Maladie acts as an institution), never another patient's."""
    if event.actor_id is not None and event.actor_id == access.actor.pk:
        return _("Vous")
    role = event.actor_role
    if role == User.Role.AGENT:
        return _("Assurance Maladie")
    if role == "service":
        return _("Service référencé")
    user = users.get(event.actor_id) if event.actor_id is not None else None
    if user is None:
        return _("Système (traitement automatique)")
    name = user.get_full_name() or user.username
    if role == User.Role.PROFESSIONAL:
        professional = getattr(user, "professional", None)
        if professional is None:
            return name
        what = professional.get_profession_display()
        if professional.specialty:
            what = f"{what}, {professional.specialty}"
        return f"{name} ({what})"
    if user.pk == access.patient.user_id:
        return _("%(name)s (titulaire)") % {"name": access.patient.display_name}
    if user.pk in representatives:
        return _("%(name)s (représentant légal)") % {"name": name}
    return _("Un autre usager")


def _entries(access: Access, events: Iterable[AuditEvent]) -> list[HistoryEntry]:
    """Audit rows → history entries, with three bulk lookups (the actors,
    the representatives, the emergency accesses and their reasons)."""
    events = list(events)
    users = {
        u.pk: u
        for u in User.objects.filter(
            pk__in={e.actor_id for e in events if e.actor_id is not None}
        ).select_related("professional")
    }
    representatives = set(
        LegalRepresentation.objects.filter(minor=access.patient).values_list(
            "representative__user_id", flat=True
        )
    ) - {None}
    emergency_ids = set()
    for event in events:
        if event.target_type == "consent.emergencyaccess":
            try:
                emergency_ids.add(uuid.UUID(event.target_id))
            except ValueError:
                continue
    reasons = {
        str(e.pk): str(e.reason)
        for e in EmergencyAccess.objects.filter(
            patient=access.patient, pk__in=emergency_ids
        ).only("id", "reason")
    }
    return [
        HistoryEntry(
            at=event.recorded_at,
            who=_who(
                event, access=access, users=users, representatives=representatives
            ),
            what=history.what_label(event.code),
            detail=history.detail_label(event.code),
            how=history.how_of(event.code, event.actor_role),
            refused=event.outcome != AuditEvent.Outcome.SUCCESS,
            reason=reasons.get(event.target_id, "")
            if event.target_type == "consent.emergencyaccess"
            else "",
            kind=history.kind_of(event.code),
            mine=event.actor_id == access.actor.pk,
        )
        for event in events
    ]


def access_history_for(
    *,
    actor: User,
    patient: Beneficiary,
    tab: str,
    filters: HistoryFilters,
    page: int | str | None = 1,
    request: HttpRequest | None = None,
) -> HistoryPage:
    """CONS-4 (A6.10): who did what on the patient's space, when and how,
    in two tabs: the actor's own actions, and everyone else's
    (professionals, services, other representatives, the Assurance
    Maladie). 50 entries a page, newest first; an emergency access comes
    with its written reason (shown to the patient side only)."""
    code = "consent.history.read"
    target = "audit.auditevent"
    access = _decide(
        actor=actor, patient=patient, code=code, target=target, request=request
    )
    paginator = Paginator(_history_rows(access, tab=tab, filters=filters), HISTORY_PAGE)
    current = paginator.get_page(page)
    result = HistoryPage(
        access=access, entries=_entries(access, current.object_list), page=current
    )
    _done(access, code=code, target=target, request=request)
    return result


def access_history_export_for(
    *,
    actor: User,
    patient: Beneficiary,
    tab: str,
    filters: HistoryFilters,
    limit: int,
    export: str,
    request: HttpRequest | None = None,
) -> HistoryPage:
    """CONS-4: every entry of the current filter (the `limit` newest), for
    an export (`export`: "csv" or "pdf", named in the audit entry)."""
    code = f"consent.history.export_{export}"
    target = "audit.auditevent"
    access = _decide(
        actor=actor, patient=patient, code=code, target=target, request=request
    )
    events = list(_history_rows(access, tab=tab, filters=filters)[: limit + 1])
    result = HistoryPage(
        access=access,
        entries=_entries(access, events[:limit]),
        truncated=len(events) > limit,
    )
    _done(access, code=code, target=target, request=request)
    return result
