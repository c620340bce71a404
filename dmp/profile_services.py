"""Writes of the medical profile (DMP-6) (STYLE R5).

Only the patient side writes: the holder (SELF) or a legal representative
of a child (REPRESENTATIVE), through `consent.policy` with Purpose.MANAGE
(professionals are refused there). Each service writes one audit entry for
its decision, allowed, refused or invalid (G-S12): ids and codes only; so
the audit of a refusal or of bad input is written outside the transaction of
the write (which then never starts), and the write and its entry commit
together.
Nothing is overwritten (DMP-11): an edit adds a new version that replaces
the previous one, a deletion keeps the row as DELETED.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from audit.models import AuditEvent
from consent.policy import Decision, Purpose
from dmp import codes
from dmp.models import Document, Measure, ProfileEntry
from espace.models import Beneficiary, User

Action = AuditEvent.Action
Section = ProfileEntry.Section

MAX_LABEL = 200
MAX_DETAILS = 2000
MAX_ENTRIES_PER_SECTION = 200
# L1111-6: one personne de confiance; one organ-donation choice.
SINGLE_ENTRY_SECTIONS = {Section.TRUSTED_PERSON, Section.ORGAN_DONATION}


@dataclass(frozen=True)
class MeasureSpec:
    """What a measure accepts: its unit, decimals and plausible range."""

    unit: str
    places: int
    low: Decimal
    high: Decimal
    error: StrOrPromise  # the French message for a value out of range
    # blood pressure: the diastolic value
    low2: Decimal | None = None
    high2: Decimal | None = None


MEASURES: dict[str, MeasureSpec] = {
    Measure.Kind.WEIGHT: MeasureSpec(
        "kg",
        1,
        Decimal("0.3"),
        Decimal("500"),
        gettext_lazy("Le poids doit être compris entre 0,3 et 500 kg."),
    ),
    Measure.Kind.HEIGHT: MeasureSpec(
        "cm",
        0,
        Decimal("20"),
        Decimal("260"),
        gettext_lazy("La taille doit être comprise entre 20 et 260 cm."),
    ),
    Measure.Kind.BLOOD_PRESSURE: MeasureSpec(
        "mmHg",
        0,
        Decimal("50"),
        Decimal("300"),
        gettext_lazy("La pression systolique doit être comprise entre 50 et 300 mmHg."),
        Decimal("20"),
        Decimal("200"),
    ),
    Measure.Kind.GLYCAEMIA: MeasureSpec(
        "g/L",
        2,
        Decimal("0.1"),
        Decimal("10"),
        gettext_lazy("La glycémie doit être comprise entre 0,10 et 10 g/L."),
    ),
}


# The patient side's writes: one decision, audited once (consent.policy).
_Decision = functools.partial(Decision, purpose=Purpose.MANAGE)


# ---------------------------------------------------------------- checks


def _text(value: str, *, limit: int, required: bool, what: str) -> str:
    lines = [" ".join(line.split()) for line in value.strip().splitlines()]
    text = "\n".join(lines).strip()
    if required and not text:
        raise ValidationError(_("Renseignez %(what)s.") % {"what": what}, code="empty")
    if len(text) > limit:
        raise ValidationError(
            _("%(what)s : %(limit)s caractères au plus.")
            % {"what": what.capitalize(), "limit": limit},
            code="too_long",
        )
    return text


def _date(value: dt.date | None, patient: Beneficiary) -> dt.date | None:
    if value is None:
        return None
    if value > timezone.localdate():
        raise ValidationError(_("La date est dans le futur."), code="date")
    if value < patient.birth_date:
        raise ValidationError(_("La date est antérieure à la naissance."), code="date")
    return value


def _checked_entry(
    patient: Beneficiary,
    section: str,
    label: str,
    details: str,
    entry_date: dt.date | None,
) -> tuple[str, str, dt.date | None]:
    if section == Section.ORGAN_DONATION:
        if label not in ProfileEntry.OrganDonation.values:
            raise ValidationError(_("Choisissez une réponse."), code="choice")
    else:
        label = _text(label, limit=MAX_LABEL, required=True, what=_("l'intitulé"))
    details = _text(details, limit=MAX_DETAILS, required=False, what=_("précisions"))
    return label, details, _date(entry_date, patient)


# ---------------------------------------------------------------- entries


def profile_entry_add(
    *,
    actor: User,
    patient: Beneficiary,
    section: str,
    label: str,
    details: str = "",
    entry_date: dt.date | None = None,
    masked: bool = False,
    request: HttpRequest | None = None,
) -> ProfileEntry:
    """DMP-6: add an entry to a section of the profile (the patient side)."""
    target = "dmp.profileentry"
    decision = _Decision(
        actor=actor,
        patient=patient,
        action=Action.CREATE,
        code="dmp.profile.entry.add",
        target=target,
        request=request,
    )
    current = ProfileEntry.objects.filter(
        patient=patient, section=section, status=ProfileEntry.Status.CURRENT
    )
    try:
        if section not in Section.values:
            raise ValidationError(_("Rubrique inconnue."), code="section")
        if section in SINGLE_ENTRY_SECTIONS and current.exists():
            raise ValidationError(
                _("Cette rubrique a déjà une réponse : modifiez-la."), code="single"
            )
        if current.count() >= MAX_ENTRIES_PER_SECTION:
            raise ValidationError(
                _("Cette rubrique compte déjà %(max)s informations.")
                % {"max": MAX_ENTRIES_PER_SECTION},
                code="too_many",
            )
        label, details, entry_date = _checked_entry(
            patient, section, label, details, entry_date
        )
    except ValidationError:
        decision.invalid(target=target)
        raise
    entry = ProfileEntry(
        patient=patient,
        section=section,
        label=label,
        details=details,
        entry_date=entry_date,
        masked=masked,
        created_by=actor,
    )
    entry.lineage = entry.pk
    with transaction.atomic():
        entry.full_clean()
        entry.save()
        decision.done(target=("dmp.profileentry", entry.pk))
    return entry


def profile_entry_update(
    *,
    actor: User,
    entry: ProfileEntry,
    label: str,
    details: str = "",
    entry_date: dt.date | None = None,
    masked: bool = False,
    request: HttpRequest | None = None,
) -> ProfileEntry:
    """DMP-6, DMP-11: a change is a new version; the previous one stays,
    REPLACED, in the entry's history. An entry already changed or deleted
    (by the other parent, say) is refused with a message."""
    target = ("dmp.profileentry", entry.pk)
    decision = _Decision(
        actor=actor,
        patient=entry.patient,
        action=Action.UPDATE,
        code="dmp.profile.entry.update",
        target=target,
        request=request,
    )
    try:
        with transaction.atomic():
            previous = ProfileEntry.objects.select_for_update().get(pk=entry.pk)
            if previous.status != ProfileEntry.Status.CURRENT:
                raise ValidationError(
                    _("Cette information a déjà été modifiée ou supprimée."),
                    code="stale",
                )
            label, details, entry_date = _checked_entry(
                entry.patient, previous.section, label, details, entry_date
            )
            if (label, details, entry_date, masked) == (
                previous.label,
                previous.details,
                previous.entry_date,
                previous.masked,
            ):
                decision.done(target=target)
                return previous  # nothing changed: no new version
            ProfileEntry.objects.filter(pk=previous.pk).update(
                status=ProfileEntry.Status.REPLACED
            )
            new = ProfileEntry(
                patient_id=previous.patient_id,
                section=previous.section,
                label=label,
                details=details,
                entry_date=entry_date,
                masked=masked,
                lineage=previous.lineage,
                version=previous.version + 1,
                replaces=previous,
                created_by=actor,
            )
            new.full_clean()
            new.save()
            decision.done(target=("dmp.profileentry", new.pk))
            return new
    except ValidationError:
        decision.invalid(target=target)
        raise


def profile_entry_delete(
    *, actor: User, entry: ProfileEntry, request: HttpRequest | None = None
) -> ProfileEntry:
    """DMP-6, DMP-11: the entry leaves the profile and stays in its history."""
    target = ("dmp.profileentry", entry.pk)
    decision = _Decision(
        actor=actor,
        patient=entry.patient,
        action=Action.DELETE,
        code="dmp.profile.entry.delete",
        target=target,
        request=request,
    )
    if ProfileEntry.objects.filter(
        pk=entry.pk, status=ProfileEntry.Status.REPLACED
    ).exists():
        decision.invalid(target=target)
        raise ValidationError(
            _("Cette information a déjà été modifiée : supprimez sa version actuelle."),
            code="stale",
        )
    with transaction.atomic():
        ProfileEntry.objects.filter(
            pk=entry.pk, status=ProfileEntry.Status.CURRENT
        ).update(
            status=ProfileEntry.Status.DELETED,
            deleted_at=timezone.now(),
            deleted_by=actor,
        )
        decision.done(target=target)
    entry.refresh_from_db()
    return entry


def organ_donation_set(
    *,
    actor: User,
    patient: Beneficiary,
    choice: str,
    request: HttpRequest | None = None,
) -> ProfileEntry:
    """DMP-6 (L1111-15): the organ-donation choice, accepte / refuse / non
    renseigné. Each change is a new version of the one entry."""
    current = ProfileEntry.objects.filter(
        patient=patient,
        section=Section.ORGAN_DONATION,
        status=ProfileEntry.Status.CURRENT,
    ).first()
    if current is None:
        return profile_entry_add(
            actor=actor,
            patient=patient,
            section=Section.ORGAN_DONATION,
            label=choice,
            request=request,
        )
    return profile_entry_update(
        actor=actor, entry=current, label=choice, request=request
    )


# ---------------------------------------------------------------- measures


def _decimal(raw: str | Decimal, places: int) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_("Saisissez un nombre."), code="number") from None
    if not value.is_finite():
        raise ValidationError(_("Saisissez un nombre."), code="number")
    return value.quantize(Decimal(1).scaleb(-places))


def measure_values(
    kind: str, value: str | Decimal, value2: str | Decimal | None = None
) -> tuple[Decimal, Decimal | None]:
    """The checked values of a measure, or a ValidationError in French."""
    spec = MEASURES.get(kind)
    if spec is None:
        raise ValidationError(_("Mesure inconnue."), code="kind")
    number = _decimal(value, spec.places)
    if not spec.low <= number <= spec.high:
        raise ValidationError(str(spec.error), code="range")
    if spec.low2 is None or spec.high2 is None:
        return number, None
    if value2 is None or str(value2).strip() == "":
        raise ValidationError(
            _("Renseignez aussi la pression diastolique."), code="value2"
        )
    second = _decimal(value2, spec.places)
    if not spec.low2 <= second <= spec.high2:
        raise ValidationError(
            _("La pression diastolique doit être comprise entre 20 et 200 mmHg."),
            code="value2",
        )
    if second >= number:
        raise ValidationError(
            _("La pression diastolique doit être inférieure à la systolique."),
            code="value2",
        )
    return number, second


def measure_add(
    *,
    actor: User,
    patient: Beneficiary,
    kind: str,
    measured_on: dt.date,
    value: str | Decimal,
    value2: str | Decimal | None = None,
    masked: bool = False,
    request: HttpRequest | None = None,
) -> Measure:
    """DMP-6: a measure on a date, within a plausible range (French message
    otherwise: nothing is written)."""
    target = "dmp.measure"
    decision = _Decision(
        actor=actor,
        patient=patient,
        action=Action.CREATE,
        code="dmp.profile.measure.add",
        target=target,
        request=request,
    )
    try:
        number, second = measure_values(kind, value, value2)
        if _date(measured_on, patient) is None:
            raise ValidationError(_("Renseignez la date de la mesure."), code="date")
    except ValidationError:
        decision.invalid(target=target)
        raise
    measure = Measure(
        patient=patient,
        kind=kind,
        measured_on=measured_on,
        value=str(number),
        value2="" if second is None else str(second),
        masked=masked,
        created_by=actor,
    )
    with transaction.atomic():
        measure.full_clean()
        measure.save()
        decision.done(target=("dmp.measure", measure.pk))
    return measure


def measure_delete(
    *, actor: User, measure: Measure, request: HttpRequest | None = None
) -> Measure:
    """DMP-6, DMP-11: the measure leaves the charts and stays on record."""
    target = ("dmp.measure", measure.pk)
    decision = _Decision(
        actor=actor,
        patient=measure.patient,
        action=Action.DELETE,
        code="dmp.profile.measure.delete",
        target=target,
        request=request,
    )
    with transaction.atomic():
        Measure.objects.filter(pk=measure.pk, status=Measure.Status.CURRENT).update(
            status=Measure.Status.DELETED, deleted_at=timezone.now(), deleted_by=actor
        )
        decision.done(target=target)
    measure.refresh_from_db()
    return measure


# ---------------------------------------------------------------- PDF copy


def profile_copy_deposit(
    *, actor: User, patient: Beneficiary, request: HttpRequest | None = None
) -> Document:
    """DMP-6: "Enregistrer une copie en PDF dans mes documents": the profile
    rendered with WeasyPrint, deposited as DOCPAT08 "Profil médical Mon
    espace santé". Two audit entries: the read of the profile
    (`dmp.profile.copy`) and the deposit of the document."""
    from dmp.profile_selectors import profile_get_for
    from dmp.services import document_deposit
    from lib.pdf import render_pdf

    try:
        profile = profile_get_for(
            actor=actor,
            patient=patient,
            request=request,
            code="dmp.profile.copy",
            purpose=Purpose.MANAGE,
        )
    except Http404:  # refused, and audited, by the selector
        raise PermissionDenied from None
    today = timezone.localdate()
    html = render_to_string(
        "dmp/profile_print.html",
        {
            "profile": profile,
            "patient": patient,
            "today": today,
            "latest": [(m, MEASURES[m.kind].unit) for m in profile.latest],
        },
    )
    pdf = render_pdf(html)
    return document_deposit(
        actor=actor,
        patient=patient,
        stream=io.BytesIO(pdf),
        file_name=f"profil-medical-{today.isoformat()}.pdf",
        title=_("Profil médical Mon espace santé du %(date)s")
        % {"date": today.strftime("%d/%m/%Y")},
        type_code=codes.MEDICAL_PROFILE_COPY,
        request=request,
    )
