"""The calendar page's small helpers: the reminder set on an item, and the
day a new one is proposed for (AG-2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

from agenda.calendar import Item, Status

register = template.Library()

SOON = dt.timedelta(days=7)


@register.simple_tag
def reminder_of(reminders: dict[str, Any], item: Item) -> Any:
    """The reminder the profile asked for on this item, if any."""
    return reminders.get(item.key)


@register.simple_tag
def remind_on(item: Item) -> str:
    """An upcoming item: the opening of its window; one to do now: in a
    week (the person chooses another day if they wish). Items whose window
    has closed are not offered a reminder."""
    today = timezone.localdate()
    if item.status == Status.UPCOMING:
        return max(item.start, today + dt.timedelta(days=1)).isoformat()
    return (today + SOON).isoformat()


@register.filter
def public_source(text: str) -> str:
    """A rule's source as shown to people: its official reference, without
    the project's own notes (" — reference-data.md …", "(SPEC …)") that
    agents see in the back office."""
    text = str(text).split(" — reference-data.md", 1)[0]
    return text.split(" (SPEC ", 1)[0].strip()
