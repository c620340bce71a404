"""Secure conversations (MSG-1, MSG-2, MSG-3, LC-12, CONS-7, SEC-5, SEC-8):
services on PostgreSQL, pages, API, notices, the minor's secret per persona,
attachment checks, encryption at rest and constant queries."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dmp.models import Document
from espace.models import Notification, User
from messagerie import selectors, services
from messagerie.models import Conversation, Message, ProfessionalInbox
from tests.files import (
    PDF_ACTIVE_PARTS,
    pdf_bytes,
    pdf_encrypted,
    pdf_with,
    png_flood_bytes,
)
from tests.personas import verified_client

BODY = "Votre hémoglobine glyquée est à 7,2 %"


def _attachment(data: bytes | None = None, name: str = "cr.pdf") -> services.Attachment:
    return services.Attachment(io.BytesIO(data or pdf_bytes()), name)


def _start(pro: User, patient: Any, **options: Any) -> Conversation:
    return services.conversation_start(
        actor=pro, patient=patient, subject="Résultats", body=BODY, **options
    )


@pytest.fixture
def world(
    postgres: None,
    alice_dmp: Any,
    leo_dmp: Any,
    charlie_in_care: User,
    bob: User,
    dora_blocked: User,
    victor: User,
    sam: User,
    agnes: User,
) -> dict[str, Any]:
    from consent.models import CareRelationship

    CareRelationship.objects.create(
        patient=leo_dmp, professional=bob.professional, kind="consent"
    )
    return {"alice": alice_dmp, "leo": leo_dmp}


# ------------------------------------------------------------------ MSG-1


@pytest.mark.django_db(transaction=False)
def test_msg1_a_professional_in_care_starts_and_the_patient_replies(
    world: dict[str, Any], charlie: User, alice: User
) -> None:
    conversation = _start(charlie, world["alice"])
    assert conversation.patient_address == "279035121518989@patient.mssante.fr"
    reply = services.message_send(
        actor=alice, conversation=conversation, body="Merci docteur"
    )
    assert reply.side == Message.Side.PATIENT
    # answering marks the doctor's message read: his read receipt
    first = conversation.messages.get(side=Message.Side.PROFESSIONAL)
    assert first.read_at is not None
    codes = list(
        AuditEvent.objects.filter(code__startswith="messagerie.").values_list(
            "code", flat=True
        )
    )
    assert "messagerie.conversation.start:care_consent" in codes
    assert "messagerie.message.send:self" in codes


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["dora_blocked", "victor", "sam", "agnes"])
def test_msg1_blocked_not_in_care_samu_and_agents_cannot_write(
    world: dict[str, Any], who: str, request: Any
) -> None:
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        _start(actor, world["alice"])
    assert not Conversation.objects.exists()
    refusal = AuditEvent.objects.get(code__startswith="messagerie.conversation.start")
    assert ":refused." in refusal.code
    assert refusal.outcome == AuditEvent.Outcome.MINOR_FAILURE


@pytest.mark.django_db
def test_msg1_a_closed_conversation_takes_no_reply(
    world: dict[str, Any], charlie: User, alice: User
) -> None:
    conversation = _start(charlie, world["alice"])
    services.conversation_close(actor=charlie, conversation=conversation)
    with pytest.raises(ValidationError) as error:
        services.message_send(actor=alice, conversation=conversation, body="Encore")
    assert "close" in error.value.messages[0]
    assert conversation.messages.count() == 1
    # and the patient cannot close it herself
    with pytest.raises(PermissionDenied):
        services.conversation_close(actor=alice, conversation=conversation)


@pytest.mark.django_db
def test_msg1_a_patient_writes_first_only_to_an_opted_in_professional(
    world: dict[str, Any], charlie: User, alice: User, victor: User
) -> None:
    with pytest.raises(PermissionDenied):
        services.conversation_start_by_patient(
            actor=alice,
            patient=world["alice"],
            professional=charlie.professional,
            subject="Question",
            body="Bonjour",
        )
    services.inbox_settings_update(
        actor=charlie, open_to_patients=True, auto_reply="Réponse sous 48 h."
    )
    services.inbox_settings_update(
        actor=victor, open_to_patients=True, auto_reply="Cabinet fermé."
    )
    assert [p.pk for p in selectors.open_professionals_for(patient=world["alice"])] == [
        charlie.professional.pk
    ]
    conversation = services.conversation_start_by_patient(
        actor=alice,
        patient=world["alice"],
        professional=charlie.professional,
        subject="Question",
        body="Bonjour",
    )
    sides = list(
        conversation.messages.order_by("sent_at").values_list("side", flat=True)
    )
    assert sides == ["patient", "auto"]
    assert conversation.messages.get(side="auto").body == "Réponse sous 48 h."
    # victor opted in but alice is not in his care
    with pytest.raises(PermissionDenied):
        services.conversation_start_by_patient(
            actor=alice,
            patient=world["alice"],
            professional=victor.professional,
            subject="Question",
            body="Bonjour",
        )


@pytest.mark.django_db
def test_msg1_opening_the_inbox_needs_an_auto_reply(charlie: User) -> None:
    with pytest.raises(ValidationError):
        services.inbox_settings_update(
            actor=charlie, open_to_patients=True, auto_reply=" "
        )
    assert not ProfessionalInbox.objects.exists()


# ------------------------------------------------------------------ MSG-2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [b"", b"PK\x03\x04 not a pdf", pdf_encrypted(), png_flood_bytes()],
    ids=["empty", "zip", "encrypted-pdf", "pixel-flood"],
)
def test_msg2_a_refused_attachment_stores_nothing_and_says_why(
    world: dict[str, Any], charlie: User, data: bytes, settings: Any, tmp_path: Any
) -> None:
    with pytest.raises(ValidationError) as error:
        _start(
            charlie,
            world["alice"],
            attachment=services.Attachment(io.BytesIO(data), "x.pdf"),
        )
    assert error.value.code == "upload"
    assert error.value.messages[0]  # a French reason
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not list((tmp_path / "files").rglob("*")) or not any(
        p.is_file() for p in (tmp_path / "files").rglob("*")
    )


@pytest.mark.django_db
def test_msg2_a_pdf_with_javascript_is_refused(
    world: dict[str, Any], charlie: User
) -> None:
    with pytest.raises(ValidationError) as error:
        _start(
            charlie,
            world["alice"],
            attachment=_attachment(pdf_with(next(iter(PDF_ACTIVE_PARTS)))),
        )
    assert "PDF" in error.value.messages[0]
    assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_msg2_the_patient_size_limit_is_the_dmp_one(
    world: dict[str, Any], alice: User, charlie: User, settings: Any
) -> None:
    conversation = _start(charlie, world["alice"])
    settings.DMP_PATIENT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as error:
        services.message_send(
            actor=alice,
            conversation=conversation,
            body="Ci-joint",
            attachment=_attachment(pdf_bytes(pages=3)),
        )
    assert "taille maximale" in error.value.messages[0]
    assert conversation.messages.count() == 1


@pytest.mark.django_db
def test_msg2_the_patient_files_an_attachment_into_the_dmp(
    world: dict[str, Any], alice: User, charlie: User
) -> None:
    conversation = _start(charlie, world["alice"], attachment=_attachment())
    message = conversation.messages.get()
    document = services.attachment_file(
        actor=alice, message=message, type_code="DOCPAT03", title="Compte rendu"
    )
    assert document.type_code == "DOCPAT03"
    assert document.sha256 == message.sha256
    assert document.patient_id == world["alice"].pk
    with pytest.raises(ValidationError):
        services.attachment_file(
            actor=alice,
            message=Message.objects.get(pk=message.pk),
            type_code="DOCPAT03",
            title="",
        )
    assert Document.objects.filter(type_code="DOCPAT03").count() == 1


# ------------------------------------------------------------ MSG-3, SEC-5


@pytest.mark.django_db
def test_msg3_bodies_and_subjects_are_encrypted_at_rest(
    world: dict[str, Any], charlie: User
) -> None:
    conversation = _start(charlie, world["alice"], attachment=_attachment())
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM messagerie_message")
        (raw_body,) = cursor.fetchone()
        cursor.execute("SELECT subject FROM messagerie_conversation")
        (raw_subject,) = cursor.fetchone()
    assert "hémoglobine" not in raw_body and BODY not in raw_body
    assert "Résultats" not in raw_subject
    message = conversation.messages.get()
    from django.core.files.storage import default_storage

    with default_storage.open(message.file) as f:
        assert f.read().startswith(b"%PDF")
    location = default_storage.path(message.file)  # type: ignore[attr-defined]
    with open(location, "rb") as raw:
        assert b"%PDF" not in raw.read()


@pytest.mark.django_db
def test_msg3_one_notice_per_conversation_per_hour_without_content(
    world: dict[str, Any], charlie: User, alice: User
) -> None:
    from espace.notifications import email_render, inapp_text

    alice.beneficiary.phone = "0612345678"
    alice.beneficiary.save()
    services.notice_preference_set(actor=alice, patient=world["alice"], sms=True)
    conversation = _start(charlie, world["alice"])
    for _ in range(3):
        services.message_send(actor=charlie, conversation=conversation, body=BODY)
    notices = Notification.objects.filter(kind="msg.new_message")
    assert sorted(notices.values_list("channel", flat=True)) == [
        "email",
        "inapp",
        "sms",
    ]
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=61)):
        services.message_send(actor=charlie, conversation=conversation, body=BODY)
    assert notices.count() == 6
    text, _url = inapp_text("msg.new_message")
    message = email_render("notice-new-message", {"name": "Alice", "site_url": "x"})
    for rendered in (str(text), message.subject, message.text, message.html):
        assert "hémoglobine" not in rendered and "Charlie" not in rendered
        assert "Résultats" not in rendered


@pytest.mark.django_db(transaction=True)
def test_msg3_notice_throttle_is_safe_under_concurrency(
    postgres: None, alice_dmp: Any, charlie_in_care: User
) -> None:
    """Two messages in two concurrent transactions: one notice set."""
    import threading

    conversation = _start(charlie_in_care, alice_dmp)
    Conversation.objects.update(notified_at=None)
    Notification.objects.all().delete()
    barrier = threading.Barrier(2)

    def send() -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.message_send(
                actor=charlie_in_care, conversation=conversation, body="Bonjour"
            )
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (
        Notification.objects.filter(kind="msg.new_message", channel="inapp").count()
        == 1
    )


# ---------------------------------------------------------------- CONS-7


@pytest.mark.django_db
def test_cons7_the_minors_secret_hides_everything_from_the_parent(
    world: dict[str, Any], bob: User, alice: User
) -> None:
    shared = _start(bob, world["leo"])
    hidden = _start(bob, world["leo"], hidden_from_representatives=True)
    secret_message = services.message_send(
        actor=bob,
        conversation=shared,
        body="Contraception : secret",
        hidden_from_representatives=True,
    )
    client = verified_client(alice)
    session = client.session
    from espace.views import PROFILE

    session[PROFILE] = world["leo"].pk
    session.save()
    # lists and counts
    rows, _access = selectors.conversation_list_for(actor=alice, patient=world["leo"])
    assert [c.pk for c in rows] == [shared.pk]
    assert rows[0].unread == 1  # the shared first message only
    assert selectors.unread_count_for_patient(actor=alice) == 1
    # search
    hits = selectors.message_search_for(
        actor=alice, patient=world["leo"], query="contraception", request=None
    )
    assert hits == []
    # pages and API
    page = client.get(reverse("messagerie:conversations"))
    assert b"secret" not in page.content.lower()
    assert (
        client.get(
            reverse("messagerie:conversation-detail", args=[hidden.pk])
        ).status_code
        == 404
    )
    detail = client.get(reverse("messagerie-api:conversation-detail", args=[shared.pk]))
    assert detail.status_code == 200
    assert [m["id"] for m in detail.json()["messages"]] == [
        str(
            shared.messages.get(
                side="professional", hidden_from_representatives=False
            ).pk
        )
    ]
    assert (
        client.get(
            reverse("messagerie-api:conversation-detail", args=[hidden.pk])
        ).status_code
        == 404
    )
    listing = client.get(
        reverse("messagerie-api:conversation-list") + f"?patient={world['leo'].pk}"
    )
    assert [c["id"] for c in listing.json()] == [str(shared.pk)]
    # notifications: only the shared conversation's first message gave one
    assert (
        Notification.objects.filter(
            beneficiary=world["leo"], kind="msg.new_message"
        ).count()
        == 1
    )
    # the parent's read never marks the secret message read
    assert Message.objects.get(pk=secret_message.pk).read_at is None
    # bob still sees everything
    thread = selectors.conversation_get_for(actor=bob, pk=shared.pk)
    assert len(thread.messages) == 2


# ------------------------------------------------------------- pages, API


@pytest.mark.django_db
def test_msg1_pages_reply_read_receipt_and_badge(
    world: dict[str, Any], charlie: User, alice: User
) -> None:
    conversation = _start(charlie, world["alice"], attachment=_attachment())
    patient = verified_client(alice)
    home = patient.get(reverse("messagerie:conversations"))
    assert home.status_code == 200
    assert "Résultats" in home.content.decode()
    assert home.context["messages_unread"] == 1
    page = patient.get(
        reverse("messagerie:conversation-detail", args=[conversation.pk])
    )
    assert BODY in page.content.decode()
    answer = patient.post(
        reverse("messagerie:conversation-detail", args=[conversation.pk]),
        {"body": "Merci"},
    )
    assert answer.status_code == 302
    doctor = verified_client(charlie)
    listing = doctor.get(reverse("pro-messagerie:conversations"))
    assert listing.context["messages_unread"] == 1
    assert "279035121518989@patient.mssante.fr" in listing.content.decode()
    pro_page = doctor.get(
        reverse("pro-messagerie:conversation-detail", args=[conversation.pk])
    )
    assert "Lu le" in pro_page.content.decode()
    search = doctor.post(reverse("pro-messagerie:conversations"), {"q": "hemoglobine"})
    assert len(search.context["hits"]) == 1


@pytest.mark.django_db
def test_sec8_an_attachment_refused_on_the_page_says_why_in_french(
    world: dict[str, Any], charlie: User, alice: User
) -> None:
    conversation = _start(charlie, world["alice"])
    patient = verified_client(alice)
    upload = io.BytesIO(b"MZ\x90\x00 executable")
    upload.name = "facture.exe"
    response = patient.post(
        reverse("messagerie:conversation-detail", args=[conversation.pk]),
        {"body": "Voici", "attachment": upload},
    )
    assert response.status_code == 400
    assert "type de fichier" in response.content.decode()
    assert conversation.messages.count() == 1


@pytest.mark.django_db
def test_msg2_api_posts_a_message_with_an_attachment_and_downloads_it(
    world: dict[str, Any], charlie: User, alice: User
) -> None:
    conversation = _start(charlie, world["alice"])
    client = verified_client(alice)
    upload = io.BytesIO(pdf_bytes())
    upload.name = "ordonnance.pdf"
    created = client.post(
        reverse("messagerie-api:message-create", args=[conversation.pk]),
        {"body": "Ma réponse", "attachment": upload},
    )
    assert created.status_code == 201, created.content
    download = client.get(created.json()["attachment"]["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    # another professional: the same 404 as a missing conversation
    other = verified_client(User.objects.get(username="victor"))
    assert (
        other.get(
            reverse("messagerie-api:conversation-detail", args=[conversation.pk])
        ).status_code
        == 404
    )
    schema = client.get(reverse("api-schema"))
    assert b"messagerie_messages_create" in schema.content


@pytest.mark.django_db
def test_msg1_the_patient_inbox_has_constant_queries(
    world: dict[str, Any], charlie: User, alice: User
) -> None:
    """G-P4: the inbox with 10 and with 200 messages costs the same queries
    (bench/messagerie_inbox_bench.py measures 10 and 5,000)."""
    client = verified_client(alice)

    def grow(n: int) -> None:
        conversation = _start(charlie, world["alice"])
        Message.objects.bulk_create(
            [
                Message(
                    conversation=conversation,
                    side=Message.Side.PROFESSIONAL,
                    author=charlie,
                    body=f"Message {i}",
                )
                for i in range(n)
            ]
        )

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("messagerie:conversations")).status_code == 200
        return len(queries)

    grow(10)
    small = count()
    for _ in range(3):
        grow(200)
    assert count() == small


@pytest.mark.django_db
def test_cons7_a_parent_reads_and_answers_for_the_child(
    world: dict[str, Any], bob: User, alice: User
) -> None:
    conversation = _start(bob, world["leo"], attachment=_attachment())
    hidden = services.message_send(
        actor=bob,
        conversation=conversation,
        body="Pour Léo seulement",
        attachment=_attachment(),
        hidden_from_representatives=True,
    )
    reply = services.message_send(
        actor=alice, conversation=conversation, body="Merci, Léo va mieux"
    )
    assert reply.side == Message.Side.PATIENT and reply.author_id == alice.pk
    client = verified_client(alice)
    from espace.views import PROFILE

    session = client.session
    session[PROFILE] = world["leo"].pk
    session.save()
    shown = conversation.messages.exclude(pk=hidden.pk).filter(side="professional")
    assert (
        client.get(
            reverse("messagerie:attachment-download", args=[shown.get().pk])
        ).status_code
        == 200
    )
    # the secret message's attachment: the same 404 as a missing one, audited
    refused = client.get(reverse("messagerie:attachment-download", args=[hidden.pk]))
    assert refused.status_code == 404
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None and last.code.endswith(":refused.not_visible")
    # bob reads the parent's answer
    thread = selectors.conversation_get_for(actor=bob, pk=conversation.pk)
    assert thread.messages[-1].body == "Merci, Léo va mieux"


@pytest.mark.django_db
def test_msg1_a_professional_out_of_care_reads_nothing_any_more(
    world: dict[str, Any], charlie: User, alice: User
) -> None:
    from consent import services as consent_services
    from consent.models import CareRelationship

    conversation = _start(charlie, world["alice"])
    assert selectors.pro_conversation_list_for(actor=charlie)
    care = CareRelationship.objects.get(
        patient=world["alice"], professional=charlie.professional
    )
    consent_services.care_revoke(actor=alice, relationship=care)
    assert selectors.pro_conversation_list_for(actor=charlie) == []
    assert selectors.unread_count_for_professional(actor=charlie) == 0
    client = verified_client(charlie)
    page = client.get(
        reverse("pro-messagerie:conversation-detail", args=[conversation.pk])
    )
    assert page.status_code == 404
    with pytest.raises(PermissionDenied):
        services.message_send(actor=charlie, conversation=conversation, body="Encore")
    # alice still reads it
    assert selectors.conversation_get_for(actor=alice, pk=conversation.pk).messages
