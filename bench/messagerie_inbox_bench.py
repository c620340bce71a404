"""The patient's messaging inbox (MSG-1, G-P4): the same queries whatever the
record's size.

`GET /mon-espace/messagerie/` (the policy's decision, one audit entry, a page
of up to 50 conversations with their unread counts and decrypted subjects,
the header badges) for a patient with 10 messages, then with 5,000 (spread
over 100 conversations), through the test client (session, second factor,
every middleware). Printed: the number of queries at each size (their ratio
must be 1.0) and the page's median time at each size, the 10-message page
being the baseline of the 5,000-message one. The patient's notifications
page (`espace:inbox`, no health data) is timed too, as the floor of a
logged-in page.

A smaller run: `MESSAGERIE_BENCH_MESSAGES=1000 python bench/run.py messagerie`.
PostgreSQL only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from bench.common import Context, Row, compare
from bench.people import patient_and_doctor, verified_client

SMALL = 10
LARGE = int(os.environ.get("MESSAGERIE_BENCH_MESSAGES", "5000"))
CONVERSATIONS = 100
REPS, WARMUP = 60, 10
TABLES = (
    "audit_auditevent",
    "messagerie_message",
    "messagerie_conversation",
    "espace_notification",
    "consent_carerelationship",
    "espace_space",
    "espace_beneficiary",
    "espace_professional",
    "otp_email_emaildevice",
    "otp_totp_totpdevice",
    "espace_user",
)


def run(ctx: Context) -> list[Row]:
    if ctx.database() != "postgresql":
        return [Row("skipped: set DATABASE_URL to a PostgreSQL database", 0, "")]
    _truncate()
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    try:
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            return _measure()
    finally:
        _truncate()


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


def _grow(patient: Any, doctor: Any, total: int) -> None:
    """Conversations and messages up to `total` messages (bulk, encrypted
    through the field as the services do)."""
    from messagerie.models import Conversation, Message, patient_address

    have = Message.objects.count()
    conversations = list(Conversation.objects.order_by("created_at"))
    wanted = min(CONVERSATIONS, total)
    now = timezone.now()
    new = [
        Conversation(
            patient=patient,
            patient_address=patient_address(patient),
            professional=doctor,
            subject=f"Résultats {i}",
            started_by="professional",
            last_message_at=now,
            last_shared_at=now,
        )
        for i in range(len(conversations), wanted)
    ]
    Conversation.objects.bulk_create(new)
    conversations += new
    Message.objects.bulk_create(
        [
            Message(
                conversation=conversations[i % len(conversations)],
                side="professional",
                author=doctor.user,
                body=f"Bonjour, message {i}.",
            )
            for i in range(have, total)
        ],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messagerie_message")
        cursor.execute("ANALYZE messagerie_conversation")


def _get(client: Client, url: str) -> Callable[[int], object]:
    def call(_i: int) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return call


def _queries(call: Callable[[int], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call(0)
    return len(captured)


def _measure() -> list[Row]:
    user, patient, doctor = patient_and_doctor()
    client = verified_client(user)
    inbox = _get(client, reverse("messagerie:conversations"))
    notices = _get(client, reverse("espace:inbox"))
    _grow(patient, doctor, SMALL)
    inbox(-1)
    small_queries = _queries(inbox)
    floor, small_time = compare(notices, inbox, reps=REPS, warmup=WARMUP)
    _grow(patient, doctor, LARGE)
    inbox(-1)
    large_queries = _queries(inbox)
    small_again, large_time = compare(
        _small_reference(patient, doctor, user), inbox, reps=REPS, warmup=WARMUP
    )
    print(f"queries: {SMALL} messages → {small_queries}, {LARGE:,} → {large_queries}")
    return [
        Row("notifications page (floor, no health data)", floor, "us"),
        Row(f"inbox page, {SMALL} messages", small_time, "us", floor),
        Row(
            f"inbox page, {LARGE:,} messages (baseline: {SMALL} messages)",
            large_time,
            "us",
            small_again,
            max_ratio=1.5,
            goal_id="G-P4",
        ),
        Row(
            f"queries, inbox: {LARGE:,} messages (baseline {SMALL})",
            large_queries,
            "",
            small_queries,
            max_ratio=1.0,
            goal_id="G-P4 constant",
        ),
    ]


def _small_reference(patient: Any, doctor: Any, user: Any) -> Callable[[int], object]:
    """A second patient with 10 messages, timed alternately with the big
    inbox (the same run, the same conditions)."""
    import datetime as dt

    from espace.models import Beneficiary, Space, User

    other = User.objects.create_user(
        username="bench-patient-2", role=User.Role.PATIENT, password=None
    )
    beneficiary = Beneficiary.objects.create(
        user=other,
        nir="295109912611193",
        birth_name="PETIT",
        first_names="EVE",
        sex="F",
        birth_date=dt.date(1995, 10, 1),
        birth_place_code="99126",
        medecin_traitant=doctor,
    )
    now = timezone.now()
    Space.objects.create(
        beneficiary=beneficiary, state="activated", opened_at=now, dmp_created_at=now
    )
    from messagerie.models import Conversation, Message, patient_address

    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                patient=beneficiary,
                patient_address=patient_address(beneficiary),
                professional=doctor,
                subject=f"Résultats {i}",
                started_by="professional",
                last_message_at=now,
                last_shared_at=now,
            )
            for i in range(SMALL)
        ]
    )
    Message.objects.bulk_create(
        [
            Message(
                conversation=c,
                side="professional",
                author=doctor.user,
                body="Bonjour.",
            )
            for c in conversations
        ]
    )
    call = _get(verified_client(other), reverse("messagerie:conversations"))
    call(-1)
    return call
