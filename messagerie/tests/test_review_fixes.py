"""Inputs a reviewer found wrong (MSG-1, AG-2, SEC-1): a non-ASCII digit in
a patient id, a patient beyond the form's first choices, a reminder in the
past — each a 4xx or a success, never a 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from agenda.models import ItemReminder
from messagerie import pro_views
from messagerie.models import Conversation
from tests.personas import verified_client

pytestmark = pytest.mark.django_db


def test_sec1_a_patient_id_in_another_script_is_a_400(
    alice: Any, alice_dmp: Any
) -> None:
    client = verified_client(alice)
    answer = client.get(reverse("messagerie-api:conversation-list"), {"patient": "²"})
    assert answer.status_code == 400


def test_msg1_a_patient_beyond_the_first_choices_can_be_written_to(
    charlie_in_care: Any, alice_dmp: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(pro_views, "PATIENT_CHOICES", 0)
    client = verified_client(charlie_in_care)
    answer = client.post(
        reverse("pro-messagerie:conversation-new"),
        {"patient": str(alice_dmp.pk), "subject": "Résultats", "body": "Bonjour"},
    )
    assert answer.status_code == 302
    assert Conversation.objects.filter(patient=alice_dmp).count() == 1
    odd = client.get(reverse("pro-messagerie:conversation-new"), {"patient": "١٢"})
    assert odd.status_code == 200


def test_ag2_a_reminder_in_the_past_is_refused_in_french(
    alice: Any, alice_dmp: Any
) -> None:
    client = verified_client(alice)
    answer = client.post(
        reverse("rendezvous:item-reminder"),
        {
            "item_code": "BILAN-45-50",
            "label": "Mon bilan prévention",
            "due_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
            "next": reverse("agenda:calendar"),
        },
    )
    assert answer.status_code == 400
    assert "Cette date est passée" in answer.content.decode()
    assert f'href="{reverse("agenda:calendar")}"' in answer.content.decode()
    assert not ItemReminder.objects.exists()


def test_msg1_words_searched_never_sit_in_a_url(alice: Any, alice_dmp: Any) -> None:
    """The search is posted: the query string stays empty, the form has a
    CSRF token, and a GET with ?q= searches nothing."""
    client = verified_client(alice)
    page = client.get(reverse("messagerie:conversations")).content.decode()
    assert 'method="post" action="/mon-espace/messagerie/"' in page
    assert 'role="search"><input type="hidden" name="csrfmiddlewaretoken"' in page
    assert (
        client.get(reverse("messagerie:conversations"), {"q": "x"}).context["hits"]
        is None
    )
    posted = client.post(reverse("messagerie:conversations"), {"q": "bonjour"})
    assert posted.status_code == 200 and posted.context["hits"] == []
