"""iCalendar export of a profile's agenda (AG-3, RFC 5545).

Two audiences. The feed (a private address a calendar application polls)
says "Rendez-vous santé" and the time, nothing else, unless its owner chose
to show the titles; never the professional, the place or the notes (the
feed travels through third-party servers). The downloaded file is fetched
in the space itself: it may carry the title, professional and place when
the person asks for them; never the notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone
from icalendar import Calendar, Event

from agenda.appointment_models import Appointment, ItemReminder

PRODID = "-//Mon espace santé//Agenda//FR"
UID_DOMAIN = "agenda.monespacesante.fr"
GENERIC_TITLE = "Rendez-vous santé"
GENERIC_ITEM = "Rappel santé"
REFRESH = dt.timedelta(hours=1)  # how often a subscriber should poll


def _summary(appointment: Appointment, *, titles: bool) -> str:
    title = (appointment.title or "").strip() if titles else ""
    return title or GENERIC_TITLE


def _professional(appointment: Appointment) -> str:
    if appointment.professional is not None:
        return appointment.professional.user.get_full_name()
    return (appointment.professional_text or "").strip()


def calendar_bytes(
    *,
    name: str,
    appointments: Iterable[Appointment],
    items: Iterable[ItemReminder],
    titles: bool = False,
    details: bool = False,
) -> bytes:
    """The VCALENDAR of these appointments and item reminders. `titles`:
    appointment titles and item labels instead of the generic words;
    `details`: the professional and the place too (downloads only)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Paris")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = timezone.now().astimezone(dt.UTC)
    for appointment in appointments:
        event = Event()
        event.add("uid", f"rdv-{appointment.pk}@{UID_DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("dtstart", appointment.starts_at.astimezone(dt.UTC))
        event.add("dtend", appointment.ends_at.astimezone(dt.UTC))
        event.add("summary", _summary(appointment, titles=titles or details))
        event.add("last-modified", appointment.updated_at.astimezone(dt.UTC))
        if appointment.is_cancelled:
            event.add("status", "CANCELLED")
        else:
            event.add("status", "CONFIRMED")
        event.add("class", "PRIVATE")
        event.add("transp", "OPAQUE")
        if details:
            place = (appointment.place or "").strip()
            if place:
                event.add("location", place)
            professional = _professional(appointment)
            if professional:
                event.add("description", f"Professionnel : {professional}")
        calendar.add_component(event)
    for item in items:
        event = Event()
        event.add("uid", f"rappel-{item.pk}@{UID_DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.due_on)
        event.add("dtend", item.due_on + dt.timedelta(days=1))
        label = str(item.label).strip() if (titles or details) else ""
        event.add("summary", label or GENERIC_ITEM)
        event.add("class", "PRIVATE")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
