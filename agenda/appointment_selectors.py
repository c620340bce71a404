"""Actor-scoped reads of appointments, item reminders, reminder preferences
and calendar feeds (AG-2, AG-3; STYLE R8).

Appointments are the patient side's own agenda: the holder's, or a child's
for an active legal representative — nobody else, not even the médecin
traitant. The decision is `consent.policy.access_for` with the MANAGE purpose
(which professionals never have), audited once per read, allowed or refused;
a refusal answers the same 404 as a missing object.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from agenda.appointment_models import (
    Appointment,
    CalendarFeed,
    ItemReminder,
    ReminderPreference,
)
from audit.models import AuditEvent
from consent.policy import Access, Purpose, access_audit, access_for
from espace.models import Beneficiary, Professional, User

READ = AuditEvent.Action.READ


def agenda_access(
    *,
    actor: User,
    patient: Beneficiary,
    code: str,
    target: object,
    request: HttpRequest | None = None,
    action: str = READ,
) -> Access:
    """AG-2: the decision on `patient`'s agenda, audited once; Http404 when
    refused (the patient side only: MANAGE is never a professional's)."""
    access = access_for(actor=actor, patient=patient, purpose=Purpose.MANAGE)
    access_audit(access, action=action, target=target, code=code, request=request)
    if not access.allowed:
        raise Http404
    return access


# ------------------------------------------------------------ appointments


def appointment_lookup(*, pk: uuid.UUID) -> Appointment:
    """The row a write names, undecided (the service decides and audits);
    Http404 when missing. Reads nothing of its content."""
    appointment = (
        Appointment.objects.select_related("beneficiary").filter(pk=pk).first()
    )
    if appointment is None:
        raise Http404
    return appointment


def appointment_get_for(
    *,
    actor: User,
    pk: uuid.UUID,
    request: HttpRequest | None = None,
    code: str = "ag2.appointment.read",
) -> Appointment:
    """AG-2: one appointment, for its holder or their representative."""
    appointment = (
        Appointment.objects.select_related(
            "beneficiary", "professional__user", "created_by"
        )
        .filter(pk=pk)
        .first()
    )
    if appointment is None:
        raise Http404
    agenda_access(
        actor=actor,
        patient=appointment.beneficiary,
        code=code,
        target=appointment,
        request=request,
    )
    return appointment


def _appointments(patient: Beneficiary) -> QuerySet[Appointment]:
    return Appointment.objects.filter(beneficiary=patient).select_related(
        "professional__user"
    )


@dataclass(frozen=True)
class AppointmentListing:
    access: Access
    appointments: list[Appointment]


def appointment_list_for(
    *,
    actor: User,
    patient: Beneficiary,
    request: HttpRequest | None = None,
    past: bool | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int | None = None,
    code: str = "ag2.appointment.list",
) -> AppointmentListing:
    """AG-2: a profile's appointments, upcoming (soonest first) or past
    (latest first), or those starting in [start, end); one audit entry."""
    access = agenda_access(
        actor=actor,
        patient=patient,
        code=code,
        target=("agenda.appointment", ""),
        request=request,
    )
    rows = _appointments(patient)
    now = timezone.now()
    if past is True:
        rows = rows.filter(starts_at__lt=now).order_by("-starts_at", "pk")
    elif past is False:
        rows = rows.filter(starts_at__gte=now).order_by("starts_at", "pk")
    else:
        rows = rows.order_by("starts_at", "pk")
    if start is not None:
        rows = rows.filter(starts_at__gte=start)
    if end is not None:
        rows = rows.filter(starts_at__lt=end)
    if limit is not None:
        rows = rows[:limit]
    return AppointmentListing(access, list(rows))


# ------------------------------------------------------------ item reminders


def item_reminder_lookup(*, pk: uuid.UUID) -> ItemReminder:
    reminder = ItemReminder.objects.select_related("beneficiary").filter(pk=pk).first()
    if reminder is None:
        raise Http404
    return reminder


def item_reminder_list_for(
    *,
    actor: User,
    patient: Beneficiary,
    request: HttpRequest | None = None,
    code: str = "ag2.item_reminder.list",
) -> list[ItemReminder]:
    """AG-2: the recommended items a profile is to be reminded of."""
    agenda_access(
        actor=actor,
        patient=patient,
        code=code,
        target=("agenda.itemreminder", ""),
        request=request,
    )
    return list(
        ItemReminder.objects.filter(beneficiary=patient).order_by("due_on", "pk")
    )


# ------------------------------------------------------------ preferences


def reminder_preference_for(*, actor: User) -> ReminderPreference:
    """AG-2: the account's reminder settings (the defaults, all on, when it
    never changed them). No health data."""
    preference = ReminderPreference.objects.filter(user=actor).first()
    return preference or ReminderPreference(user=actor)


# ------------------------------------------------------------ feeds (AG-3)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_for(*, actor: User, patient: Beneficiary) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=actor, beneficiary=patient).first()


@dataclass(frozen=True)
class FeedContent:
    feed: CalendarFeed
    appointments: list[Appointment]
    items: list[ItemReminder]


FEED_PAST = dt.timedelta(days=366)  # a year of history in the subscriber's agenda


def calendar_feed_read(
    *, token: str, request: HttpRequest | None = None
) -> FeedContent:
    """AG-3: what a feed address shows, decided as its owner (the account
    that created it): a parent whose child turned 18 gets a 404, and so does
    an unknown or replaced token. One audit entry per fetch of a known
    token, allowed or refused."""
    if not token or len(token) > 128:
        raise Http404
    feed = (
        CalendarFeed.objects.select_related("user", "beneficiary")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if feed is None or not feed.user.is_active:
        raise Http404
    agenda_access(
        actor=feed.user,
        patient=feed.beneficiary,
        code="ag3.feed.read",
        target=feed,
        request=request,
    )
    since = timezone.now() - FEED_PAST
    appointments = list(
        Appointment.objects.filter(
            beneficiary=feed.beneficiary, starts_at__gte=since
        ).order_by("starts_at", "pk")
    )
    items = list(
        ItemReminder.objects.filter(
            beneficiary=feed.beneficiary, due_on__gte=since.date()
        ).order_by("due_on", "pk")
    )
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=timezone.now())
    return FeedContent(feed, appointments, items)


# ------------------------------------------------------------ directory


SEARCH_LIMIT = 10


def professional_search(*, query: str) -> list[Professional]:
    """AG-2: known professionals by name or RPPS (the public directory, no
    health data), for the appointment form."""
    query = " ".join(query.split())[:80]
    if len(query) < 2:
        return []
    rows = Professional.objects.select_related("user")
    if query.isdigit():
        rows = rows.filter(rpps__startswith=query)
    else:
        for word in query.split()[:3]:
            rows = rows.filter(
                Q(user__last_name__icontains=word) | Q(user__first_name__icontains=word)
            )
    return list(
        rows.order_by("user__last_name", "user__first_name", "pk")[:SEARCH_LIMIT]
    )


def professional_by_rpps(rpps: str) -> Professional | None:
    if not (rpps.isdigit() and len(rpps) == 11):
        return None
    return Professional.objects.select_related("user").filter(rpps=rpps).first()


def item_reminder_list_for_page(*, patient: Beneficiary) -> list[ItemReminder]:
    """The item reminders shown beside appointments already decided and
    audited on the same page (one entry per page, G-S12): call only after
    `appointment_list_for` for the same actor and patient."""
    return list(
        ItemReminder.objects.filter(beneficiary=patient).order_by("due_on", "pk")
    )
