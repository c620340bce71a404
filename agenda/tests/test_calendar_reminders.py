"""The calendar page offers "me le rappeler" on each item not done (AG-2):
the reminder is kept for the item, shown on the page, sent by the reminder
job, and can be removed; one audit entry per page (G-S12)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from agenda.models import ItemReminder
from audit.models import AuditEvent
from espace.models import Beneficiary, User
from tests.personas import verified_client

pytestmark = pytest.mark.django_db
BILAN = "BILAN-45-50"  # alice (born 1979) is 47: due now


def test_ag2_a_recommended_item_is_reminded_from_the_calendar(
    alice: User, alice_dmp: Beneficiary
) -> None:
    client = verified_client(alice)
    page = client.get(reverse("agenda:calendar")).content.decode()
    form = re.search(
        rf'<form[^>]*data-testid="remind-form">(?:(?!</form>).)*value="{BILAN}"'
        r"(?:(?!</form>).)*</form>",
        page,
        re.S,
    )
    assert form is not None, "no reminder form on the item"
    proposed = re.search(r'name="due_on" value="([0-9-]+)"', form.group(0))
    assert proposed is not None
    # due now: proposed in a week
    assert (
        proposed.group(1) == (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    )

    day = timezone.localdate() + dt.timedelta(days=3)
    answer = client.post(
        reverse("rendezvous:item-reminder"),
        {
            "item_code": BILAN,
            "label": "Mon bilan prévention",
            "due_on": day.isoformat(),
            "next": reverse("agenda:calendar"),
        },
    )
    assert answer.status_code == 302
    assert answer["Location"] == reverse("agenda:calendar")
    reminder = ItemReminder.objects.get(beneficiary=alice_dmp)
    assert (reminder.item_code, reminder.due_on) == (BILAN, day)

    before = AuditEvent.objects.count()
    page = client.get(reverse("agenda:calendar")).content.decode()
    assert f"Rappel prévu le {day:%d/%m/%Y}" in page
    assert AuditEvent.objects.count() == before + 1  # the calendar's read only

    client.post(
        reverse("rendezvous:item-reminder-delete", args=[reminder.pk]),
        {"next": reverse("agenda:calendar")},
    )
    assert not ItemReminder.objects.exists()


def test_ag2_every_proposed_reminder_day_is_ahead(
    alice: User, alice_dmp: Beneficiary
) -> None:
    """Upcoming items at the opening of their window, the others in a week:
    never a day already gone."""
    page = verified_client(alice).get(reverse("agenda:calendar")).content.decode()
    proposals = re.findall(r'name="due_on" value="([0-9-]+)"', page)
    assert len(proposals) > 3
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert all(dt.date.fromisoformat(day) >= tomorrow for day in proposals)


def test_ag1_ag2_pages_and_appointments_work_on_29_february(
    alice: User, alice_dmp: Beneficiary
) -> None:
    """A leap day: the calendar's "next two years" and the latest date of an
    appointment are computed without a 29 February in a common year."""
    import time_machine

    with time_machine.travel(dt.datetime(2028, 2, 29, 10, tzinfo=dt.UTC)):
        client = verified_client(alice)
        assert client.get(reverse("agenda:calendar")).status_code == 200
        assert client.get(reverse("agenda:vaccinations")).status_code == 200
        answer = client.post(
            reverse("rendezvous:create"),
            {
                "day": "2028-03-02",
                "time": "09:00",
                "duration_minutes": "30",
                "title": "",
                "professional": "",
                "place": "",
                "notes": "",
            },
        )
        assert answer.status_code == 302
