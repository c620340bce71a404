"""Writes of the personal agenda (AG-2, AG-3; STYLE R5): one function per
use-case, atomic, deciding through `consent.policy` and writing exactly one
audit entry per decision, allowed or refused (G-S12). Health text (titles,
professionals as typed, places, notes, item labels) is encrypted by its
field and never reaches a log, an audit entry or a task."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from agenda.appointment_models import (
    Appointment,
    CalendarFeed,
    ItemReminder,
    ReminderPreference,
    ReminderSent,
)
from agenda.appointment_selectors import token_hash
from audit.models import AuditEvent
from consent.policy import Decision, Purpose
from espace.models import Beneficiary, Professional, User
from lib.dates import add_years

Action = AuditEvent.Action
TEXT_LIMITS = {"title": 120, "professional_text": 120, "place": 200, "notes": 2000}
EARLIEST = dt.date(1900, 1, 1)
LATEST_YEARS = 10  # appointments at most ten years ahead


@dataclass(frozen=True)
class AppointmentData:
    """What a person enters for an appointment (already parsed)."""

    starts_at: dt.datetime
    duration_minutes: int = 30
    title: str = ""
    professional: Professional | None = None
    professional_text: str = ""
    place: str = ""
    notes: str = ""


def _check(data: AppointmentData) -> None:
    errors: dict[str, list[str]] = {}
    if timezone.is_naive(data.starts_at):
        errors["starts_at"] = [_("La date et l'heure du rendez-vous sont invalides.")]
    else:
        day = timezone.localtime(data.starts_at).date()
        latest = add_years(timezone.localdate(), LATEST_YEARS)  # 29 February too
        if day < EARLIEST or day > latest:
            errors["starts_at"] = [
                _(
                    "La date du rendez-vous doit être comprise entre 1900 et dans 10 ans."
                )
            ]
    if not 5 <= data.duration_minutes <= 1440:
        errors["duration_minutes"] = [
            _("La durée doit être comprise entre 5 minutes et 24 heures.")
        ]
    for name, limit in TEXT_LIMITS.items():
        value = getattr(data, name)
        if len(value) > limit:
            errors[name] = [
                _("Ce texte est trop long (%(limit)s caractères au plus).")
                % {"limit": limit}
            ]
        if "\x00" in value:
            errors[name] = [_("Ce texte contient un caractère invalide.")]
    if errors:
        raise ValidationError(errors)


def _apply(appointment: Appointment, data: AppointmentData) -> None:
    appointment.starts_at = data.starts_at
    appointment.duration_minutes = data.duration_minutes
    appointment.title = data.title.strip() or None
    appointment.professional = data.professional
    appointment.professional_text = (
        None
        if data.professional is not None
        else (data.professional_text.strip() or None)
    )
    appointment.place = data.place.strip() or None
    appointment.notes = data.notes.strip() or None


# The patient side's writes (MANAGE); a refusal is audited and raises
# PermissionDenied (the views' 404).
_decision = partial(Decision, purpose=Purpose.MANAGE)


def appointment_create(
    *,
    actor: User,
    patient: Beneficiary,
    data: AppointmentData | None,
    request: HttpRequest | None = None,
) -> Appointment | None:
    """AG-2: the holder (or a child's representative) adds an appointment.
    `data` None: the form was invalid; the attempt is on record, nothing is
    written."""
    target = ("agenda.appointment", "")
    decision = _decision(
        actor=actor,
        patient=patient,
        action=Action.CREATE,
        code="ag2.appointment.create",
        target=target,
        request=request,
    )
    if data is None:
        decision.invalid(target=target)
        return None
    try:
        _check(data)
    except ValidationError:
        decision.invalid(target=target)
        raise
    appointment = Appointment(beneficiary=patient, created_by=actor)
    _apply(appointment, data)
    with transaction.atomic():
        appointment.full_clean()
        appointment.save()
        decision.done(target=appointment)
    return appointment


def appointment_update(
    *,
    actor: User,
    appointment: Appointment,
    data: AppointmentData | None,
    request: HttpRequest | None = None,
) -> Appointment:
    """AG-2: change an appointment (not a cancelled one). A new start time
    gets its own reminders (the markers of the former one are dropped)."""
    decision = _decision(
        actor=actor,
        patient=appointment.beneficiary,
        action=Action.UPDATE,
        code="ag2.appointment.update",
        target=appointment,
        request=request,
    )
    if data is None:
        decision.invalid(target=appointment)
        return appointment
    try:
        if appointment.is_cancelled:
            raise ValidationError(
                {"__all__": [_("Un rendez-vous annulé ne peut plus être modifié.")]}
            )
        _check(data)
    except ValidationError:
        decision.invalid(target=appointment)
        raise
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.is_cancelled:  # cancelled meanwhile: the cancellation wins
            decision.invalid(target=appointment)
            return locked
        moved = locked.starts_at != data.starts_at
        _apply(locked, data)
        locked.full_clean()
        locked.save()
        if moved:
            # The reminders of the new date are due again (AG-2).
            ReminderSent.objects.filter(
                source=ReminderSent.Source.APPOINTMENT, object_id=locked.pk
            ).delete()
        decision.done(target=locked)
    return locked


def appointment_cancel(
    *, actor: User, appointment: Appointment, request: HttpRequest | None = None
) -> Appointment:
    """AG-2: cancel; the appointment stays, shown as cancelled, and gets no
    more reminders. Cancelling twice changes nothing more."""
    decision = _decision(
        actor=actor,
        patient=appointment.beneficiary,
        action=Action.UPDATE,
        code="ag2.appointment.cancel",
        target=appointment,
        request=request,
    )
    with transaction.atomic():
        Appointment.objects.filter(
            pk=appointment.pk, status=Appointment.Status.SCHEDULED
        ).update(status=Appointment.Status.CANCELLED, cancelled_at=timezone.now())
        decision.done(target=appointment)
    appointment.refresh_from_db(fields=["status", "cancelled_at", "updated_at"])
    return appointment


# ------------------------------------------------------------ item reminders

ITEM_LABEL_LIMIT = 120


def item_reminder_create(
    *,
    actor: User,
    patient: Beneficiary,
    item_code: str,
    label: str,
    due_on: dt.date | None,
    request: HttpRequest | None = None,
) -> ItemReminder | None:
    """AG-2: remind the profile of a recommended item (AG-1) on its due
    date; asking twice for the same item and date keeps one reminder.
    Invalid input: ValidationError, the attempt on record."""
    target = ("agenda.itemreminder", "")
    decision = _decision(
        actor=actor,
        patient=patient,
        action=Action.CREATE,
        code="ag2.item_reminder.create",
        target=target,
        request=request,
    )
    reminder = ItemReminder(
        beneficiary=patient,
        item_code=(item_code or "").strip(),
        label=" ".join((label or "").split()),
        due_on=due_on,  # type: ignore[misc]  # None: full_clean says it
        created_by=actor,
    )
    errors: dict[str, list[str]] = {}
    try:
        reminder.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors = exc.message_dict
    if len(str(reminder.label)) > ITEM_LABEL_LIMIT:
        errors["label"] = [_("L'intitulé est trop long (120 caractères au plus).")]
    if due_on is not None and due_on < timezone.localdate():
        errors.setdefault("due_on", []).append(
            _("Cette date est passée : choisissez aujourd'hui ou un jour à venir.")
        )
    if errors:
        decision.invalid(target=target)
        raise ValidationError(errors)
    assert due_on is not None  # full_clean refused a missing date
    existing = ItemReminder.objects.filter(
        beneficiary=patient, item_code=reminder.item_code, due_on=due_on
    ).first()
    if existing is None:
        try:
            with transaction.atomic():
                reminder.save()
                decision.done(target=reminder)
            return reminder
        except IntegrityError:  # the same request, twice at once
            existing = ItemReminder.objects.get(
                beneficiary=patient, item_code=reminder.item_code, due_on=due_on
            )
    decision.done(target=existing)
    return existing


def item_reminder_delete(
    *, actor: User, reminder: ItemReminder, request: HttpRequest | None = None
) -> None:
    """AG-2: no more reminder for this item."""
    decision = _decision(
        actor=actor,
        patient=reminder.beneficiary,
        action=Action.DELETE,
        code="ag2.item_reminder.delete",
        target=reminder,
        request=request,
    )
    with transaction.atomic():
        decision.done(target=reminder)
        ItemReminder.objects.filter(pk=reminder.pk).delete()


# ------------------------------------------------------------ preferences


@transaction.atomic
def reminder_preference_update(
    *,
    actor: User,
    email: bool,
    inapp: bool,
    day_before: bool,
    same_day: bool,
) -> ReminderPreference:
    """AG-2: the account's reminder settings (no health data)."""
    preference, _created = ReminderPreference.objects.select_for_update().get_or_create(
        user=actor
    )
    preference.email, preference.inapp = email, inapp
    preference.day_before, preference.same_day = day_before, same_day
    preference.full_clean()
    preference.save()
    return preference


# ------------------------------------------------------------ feeds (AG-3)


def _new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def calendar_feed_rotate(
    *,
    actor: User,
    patient: Beneficiary,
    include_titles: bool | None = None,
    request: HttpRequest | None = None,
) -> tuple[CalendarFeed, str]:
    """AG-3: create the profile's private feed address, or replace it (the
    old address then answers 404). Returns the feed and the token, which is
    never stored (only its hash): the caller shows it once."""
    target = ("agenda.calendarfeed", "")
    decision = _decision(
        actor=actor,
        patient=patient,
        action=Action.UPDATE,
        code="ag3.feed.rotate",
        target=target,
        request=request,
    )
    token = _new_token()
    with transaction.atomic():
        # get_or_create: two first addresses at once make one row, not an error
        feed, created = CalendarFeed.objects.select_for_update().get_or_create(
            user=actor,
            beneficiary=patient,
            defaults={"token_hash": token_hash(token)},
        )
        if not created:
            feed.rotated_at = timezone.now()
        feed.token_hash = token_hash(token)
        if include_titles is not None:
            feed.include_titles = include_titles
        feed.full_clean(validate_unique=False, validate_constraints=False)
        feed.save()
        decision.done(target=feed)
    return feed, token


def calendar_feed_settings(
    *,
    actor: User,
    patient: Beneficiary,
    include_titles: bool,
    request: HttpRequest | None = None,
) -> CalendarFeed | None:
    """AG-3: show appointment titles in the feed, or not (never notes)."""
    target = ("agenda.calendarfeed", "")
    decision = _decision(
        actor=actor,
        patient=patient,
        action=Action.UPDATE,
        code="ag3.feed.settings",
        target=target,
        request=request,
    )
    feed = CalendarFeed.objects.filter(user=actor, beneficiary=patient).first()
    if feed is None:
        decision.invalid(target=target)
        return None
    with transaction.atomic():
        CalendarFeed.objects.filter(pk=feed.pk).update(include_titles=include_titles)
        feed.include_titles = include_titles
        decision.done(target=feed)
    return feed
