"""Reads of the professional portal (STYLE R8): the patients a professional
may reach, the patient search, and their notices.

Reaching a patient (their identity header) is not reading their DMP: what
the DMP shows is decided and audited by `consent.policy` through
`dmp.selectors`. A patient is reachable when in the professional's care
(médecin traitant, an active care relationship, a current emergency access)
or found by a search in this session; anyone else is a 404, so patient ids
cannot be enumerated (SEC-1).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from consent.models import Block, CareRelationship, EmergencyAccess, ProfessionalNotice
from consent.policy import dmp_exists
from espace.models import Beneficiary, Professional, Space, User
from lib.identifiers import compact_nir

# SEC-3: each search is an identity guess; a professional sees a few dozen
# patients an hour at most.
SEARCHES_PER_HOUR = 30
PATIENTS_PER_PAGE = 50
NOTICES_SHOWN = 100


def professional_of(actor: User) -> Professional:
    professional = getattr(actor, "professional", None)
    if actor.role != User.Role.PROFESSIONAL or professional is None:
        raise Http404
    return professional  # type: ignore[no-any-return]


def _in_care(professional: Professional) -> Q:
    """CONS-1: médecin traitant, or an active care relationship not blocked."""
    care = CareRelationship.objects.filter(
        patient=OuterRef("pk"), professional=professional, revoked_at__isnull=True
    )
    blocked = Block.objects.filter(patient=OuterRef("pk"), professional=professional)
    return Q(medecin_traitant=professional) | (Q(Exists(care)) & ~Q(Exists(blocked)))


def patients_in_care_for(*, actor: User) -> QuerySet[Beneficiary]:
    """The professional's patients with an open DMP (their home page): those
    they are the médecin traitant of, and those in their care (CONS-1), by
    name. Identities only: no DMP content, so no audit entry."""
    professional = professional_of(actor)
    return (
        Beneficiary.objects.filter(
            _in_care(professional), space__state__in=Space.OPEN_STATES
        )
        .order_by("birth_name", "first_names", "pk")
        .only(
            "pk",
            "birth_name",
            "first_names",
            "usual_name",
            "birth_date",
            "sex",
            "medecin_traitant_id",
        )
    )


def patient_get_for(
    *, actor: User, pk: int, found: Collection[int] = ()
) -> Beneficiary:
    """The patient `actor` may reach: in their care, under a current
    emergency access of theirs, or found by a search (`found`, the ids the
    session remembers). Anyone else, or nobody: Http404."""
    professional = professional_of(actor)
    rows = Beneficiary.objects.select_related("medecin_traitant__user")
    if pk not in found:
        emergency = EmergencyAccess.objects.filter(
            patient=OuterRef("pk"),
            professional=professional,
            ends_at__gt=timezone.now(),
        )
        rows = rows.filter(_in_care(professional) | Q(Exists(emergency)))
    patient = rows.filter(pk=pk).first()
    if patient is None:
        raise Http404
    return patient


def care_relationship_of(
    *, professional: Professional, patient: Beneficiary
) -> CareRelationship | None:
    """The active care relationship, for its kind and date (the basis line)."""
    return CareRelationship.objects.filter(
        patient=patient, professional=professional, revoked_at__isnull=True
    ).first()


# ---------------------------------------------------------------- search


@dataclass(frozen=True)
class Traits:
    """INS identity traits typed by the professional (reference §1.2)."""

    birth_name: str
    first_name: str
    birth_date: dt.date
    sex: str


def fold(text: str) -> str:
    """Compare names as INSi writes them: upper case, no accents, single
    spaces, hyphens and apostrophes as spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    for mark in "-'’":
        text = text.replace(mark, " ")
    return " ".join(text.upper().split())


def _throttle(actor: User) -> None:
    key = f"pro-search:{actor.pk}"
    cache.add(key, 0, timeout=3600)
    if cache.incr(key) > SEARCHES_PER_HOUR:
        raise ValidationError(
            _(
                "Vous avez fait %(n)s recherches de patient au cours de la "
                "dernière heure : réessayez plus tard."
            )
            % {"n": SEARCHES_PER_HOUR},
            code="throttled",
        )


def _match_traits(traits: Traits) -> Beneficiary | None:
    """One beneficiary with these traits, or None (none, or several: then
    the NIR is needed). Narrowed in SQL by birth date and sex, names compared
    folded (accents and case as typed vary)."""
    name, first = fold(traits.birth_name), fold(traits.first_name)
    candidates = Beneficiary.objects.filter(
        birth_date=traits.birth_date, sex=traits.sex
    ).only("pk", "birth_name", "first_names")
    matches = [
        b
        for b in candidates
        if fold(b.birth_name) == name
        and fold(b.first_names).split(" ")[:1] == first.split(" ")[:1]
    ]
    return matches[0] if len(matches) == 1 else None


def patient_search_for(
    *,
    actor: User,
    nir: str = "",
    birth_date: dt.date,
    traits: Traits | None = None,
    request: HttpRequest | None = None,
) -> Beneficiary | None:
    """CONS-1: a professional finds a patient by NIR and birth date, or by
    INS traits, to open their DMP. Throttled (SEC-3, ValidationError code
    "throttled"). None when nothing matches, when the patient has no DMP or
    has blocked this professional: the caller shows one neutral answer for
    all three. One audit entry per search, codes only (the patient's id when
    found, none otherwise)."""
    professional = professional_of(actor)
    _throttle(actor)
    if traits is not None:
        patient = _match_traits(traits)
        how = "traits"
    else:
        patient = Beneficiary.objects.filter(
            nir=compact_nir(nir).upper(), birth_date=birth_date
        ).first()
        how = "nir"
    outcome = "found"
    if patient is None or not dmp_exists(patient):
        patient, outcome = None, "not_found"
    elif (
        patient.medecin_traitant_id != professional.pk
        and Block.objects.filter(patient=patient, professional=professional).exists()
    ):
        outcome = "refused.blocked"
    audit_record(
        actor=actor,
        action=AuditEvent.Action.READ,
        target="espace.beneficiary",
        patient=patient,
        outcome=AuditEvent.Outcome.SUCCESS
        if outcome == "found"
        else AuditEvent.Outcome.MINOR_FAILURE,
        code=f"pro.patient.search.{how}:{outcome}",
        request=request,
    )
    return patient if outcome == "found" else None


# ---------------------------------------------------------------- notices


def notices_for(*, actor: User) -> list[ProfessionalNotice]:
    """CONS-6: the professional's notices (emergency accesses to their
    patients), newest first, with the patient for the link."""
    professional = professional_of(actor)
    return list(
        ProfessionalNotice.objects.filter(professional=professional)
        .select_related("patient")
        .order_by("-created_at", "-pk")[:NOTICES_SHOWN]
    )


def notices_unread_count(*, actor: User) -> int:
    """The nav badge: one query per page."""
    return ProfessionalNotice.objects.filter(
        professional__user=actor, read_at__isnull=True
    ).count()
