"""Writes of the secure messaging (STYLE R5, MSG-1…MSG-3, LC-12).

Each service asks `consent.policy` (a `Decision`, audited exactly once,
allowed or refused) and writes in one transaction. Writing to a patient is
adding to their space: the decision's purpose is DEPOSIT — the patient
side (the holder, a representative), or a professional with the patient in
their care (médecin traitant or care relationship, never blocked, never on
an emergency access alone). A refusal raises `PermissionDenied` (the same
404 as a missing object for the callers); bad input a `ValidationError`
with a French message, and nothing written: an attachment is checked
exactly like a DMP upload (DMP-2, `dmp.uploads.check_upload`) before any
byte is stored, and stored before the row, removed if the row fails.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
import uuid
from dataclasses import dataclass
from functools import partial
from typing import IO

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from audit.models import AuditEvent
from audit.services import audit_record
from consent.models import Block, CareRelationship
from consent.policy import Access, Basis, Decision, Purpose
from dmp import services as dmp_services
from dmp.models import Document
from dmp.uploads import Checked, UploadRefused, check_upload
from espace.models import Beneficiary, Notification, Professional, User
from espace.selectors import adult_cutoff
from messagerie.models import (
    Conversation,
    Message,
    NoticePreference,
    ProfessionalInbox,
    patient_address,
)
from messagerie.selectors import conversation_refusal, professional_of

Action = AuditEvent.Action
MAX_SUBJECT = 200
MAX_BODY = 20_000
MAX_AUTO_REPLY = 1_000
# MSG-3: at most one notice per conversation in this period.
NOTICE_PERIOD = dt.timedelta(hours=1)
NEW_MESSAGE = "msg.new_message"
_CLOSED = _lazy("Cette conversation est close : il n'est plus possible d'y répondre.")


@dataclass(frozen=True)
class Attachment:
    stream: IO[bytes]
    name: str


# A message is a deposit (MSG-1): the same policy as a DMP document.
_decision = partial(Decision, purpose=Purpose.DEPOSIT, action=Action.CREATE)


def _subject(subject: str) -> str:
    subject = " ".join(subject.split())
    if not subject:
        raise ValidationError(_("Indiquez l'objet du message."), code="subject")
    if len(subject) > MAX_SUBJECT:
        raise ValidationError(
            _("L'objet dépasse %(n)s caractères.") % {"n": MAX_SUBJECT},
            code="subject",
        )
    return subject


def _body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError(_("Écrivez votre message."), code="body")
    if len(body) > MAX_BODY:
        raise ValidationError(
            _("Le message dépasse %(n)s caractères.") % {"n": MAX_BODY}, code="body"
        )
    if "\x00" in body:
        raise ValidationError(
            _("Le message contient un caractère interdit."), code="body"
        )
    return body


def _is_minor(patient: Beneficiary) -> bool:
    return patient.birth_date > adult_cutoff()


def _check(access: Access, attachment: Attachment | None) -> Checked | None:
    """DMP-2 checks and limits, reused as they are (5 MB on the patient side,
    the professionals' limit for professionals)."""
    if attachment is None:
        return None
    try:
        return check_upload(
            attachment.stream,
            name=attachment.name,
            max_bytes=dmp_services.max_upload_bytes(access),
        )
    except UploadRefused as refused:
        raise ValidationError(refused.reason, code="upload") from refused


def _store(patient: Beneficiary, attachment: Attachment | None) -> str:
    if attachment is None:
        return ""
    attachment.stream.seek(0)
    return str(
        default_storage.save(
            f"messagerie/{patient.pk}/{uuid.uuid4().hex}",
            File(attachment.stream, name="upload"),
        )
    )


def _message(
    *,
    conversation: Conversation,
    side: str,
    author: User,
    body: str,
    checked: Checked | None,
    file: str,
    hidden: bool = False,
) -> Message:
    message = Message(
        conversation=conversation,
        side=side,
        author=author,
        body=body,
        hidden_from_representatives=hidden,
    )
    if checked is not None:
        message.file = file
        message.file_name = checked.file_name
        message.mime_type = checked.mime_type
        message.format_code = checked.format_code
        message.size = checked.size
        message.sha256 = checked.sha256
    message.full_clean(exclude=["conversation", "author", "filed_document"])
    message.save()
    return message


def _touch(conversation: Conversation, message: Message) -> None:
    """The conversation's dates (and the representatives' one, unless the
    minor's secret hides this message)."""
    values = {"last_message_at": message.sent_at}
    if not (
        message.hidden_from_representatives or conversation.hidden_from_representatives
    ):
        values["last_shared_at"] = message.sent_at
    Conversation.objects.filter(pk=conversation.pk).update(**values)
    for name, value in values.items():
        setattr(conversation, name, value)


# ---------------------------------------------------------------- start


def conversation_start(
    *,
    actor: User,
    patient: Beneficiary,
    subject: str,
    body: str,
    attachment: Attachment | None = None,
    hidden_from_representatives: bool = False,
    request: HttpRequest | None = None,
) -> Conversation:
    """MSG-1: a professional with the patient in their care writes first.
    CONS-7: to a minor, they may hide the whole conversation from the legal
    representatives."""
    decision = _decision(
        actor=actor,
        patient=patient,
        code="messagerie.conversation.start",
        request=request,
        target="messagerie.conversation",
    )
    access = decision.access
    if access.patient_side:
        decision.refuse(target="messagerie.conversation", why="patient_first")
    try:
        subject = _subject(subject)
        body = _body(body)
        if hidden_from_representatives and not _is_minor(patient):
            raise ValidationError(
                _("Ce réglage ne concerne que le secret d'un patient mineur."),
                code="flags",
            )
        checked = _check(access, attachment)
    except ValidationError:
        decision.invalid(target="messagerie.conversation")
        raise
    professional = access.professional
    assert professional is not None
    file = _store(patient, attachment)
    try:
        with transaction.atomic():
            now = timezone.now()
            conversation = Conversation(
                patient=patient,
                patient_address=patient_address(patient),
                professional=professional,
                establishment=professional.establishment,
                subject=subject,
                started_by=Conversation.StartedBy.PROFESSIONAL,
                hidden_from_representatives=hidden_from_representatives,
                last_message_at=now,
            )
            conversation.full_clean(
                exclude=["patient", "professional", "establishment"]
            )
            conversation.save()
            message = _message(
                conversation=conversation,
                side=Message.Side.PROFESSIONAL,
                author=actor,
                body=body,
                checked=checked,
                file=file,
            )
            _touch(conversation, message)
            decision.done(target=("messagerie.conversation", conversation.pk))
            _new_message_notice(conversation, message)
    except BaseException:
        if file:
            default_storage.delete(file)
        raise
    return conversation


def _accepts_first_messages(professional: Professional, patient: Beneficiary) -> bool:
    """MSG-1 (going further): opted in, and the patient in their care."""
    if not ProfessionalInbox.objects.filter(
        professional=professional, open_to_patients=True
    ).exists():
        return False
    if patient.medecin_traitant_id == professional.pk:
        return True
    in_care = CareRelationship.objects.filter(
        patient=patient, professional=professional, revoked_at__isnull=True
    ).exists()
    blocked = Block.objects.filter(patient=patient, professional=professional).exists()
    return in_care and not blocked


def conversation_start_by_patient(
    *,
    actor: User,
    patient: Beneficiary,
    professional: Professional,
    subject: str,
    body: str,
    attachment: Attachment | None = None,
    request: HttpRequest | None = None,
) -> Conversation:
    """MSG-1 (going further, rules A7.1 and "question to my care team"): the
    patient side writes first only to a professional who opted in and has
    them in their care; the professional's automatic reply follows at once.
    Anyone else: refused (the same 404)."""
    decision = _decision(
        actor=actor,
        patient=patient,
        code="messagerie.conversation.start_by_patient",
        request=request,
        target="messagerie.conversation",
    )
    access = decision.access
    if not access.patient_side or not _accepts_first_messages(professional, patient):
        decision.refuse(target="messagerie.conversation", why="not_open")
    try:
        subject = _subject(subject)
        body = _body(body)
        checked = _check(access, attachment)
    except ValidationError:
        decision.invalid(target="messagerie.conversation")
        raise
    inbox = ProfessionalInbox.objects.get(professional=professional)
    file = _store(patient, attachment)
    try:
        with transaction.atomic():
            conversation = Conversation(
                patient=patient,
                patient_address=patient_address(patient),
                professional=professional,
                establishment=professional.establishment,
                subject=subject,
                started_by=Conversation.StartedBy.PATIENT,
                last_message_at=timezone.now(),
            )
            conversation.save()
            _message(
                conversation=conversation,
                side=Message.Side.PATIENT,
                author=actor,
                body=body,
                checked=checked,
                file=file,
            )
            reply = _message(
                conversation=conversation,
                side=Message.Side.AUTO,
                author=professional.user,
                body=inbox.auto_reply,
                checked=None,
                file="",
            )
            _touch(conversation, reply)
            decision.done(target=("messagerie.conversation", conversation.pk))
    except BaseException:
        if file:
            default_storage.delete(file)
        raise
    return conversation


# ---------------------------------------------------------------- messages


def message_send(
    *,
    actor: User,
    conversation: Conversation,
    body: str,
    attachment: Attachment | None = None,
    hidden_from_representatives: bool = False,
    request: HttpRequest | None = None,
) -> Message:
    """MSG-1, MSG-2: a reply (with maybe one attachment). The patient side
    cannot answer a closed conversation; a representative cannot write in
    one the minor's secret hides; a professional writes only in their own."""
    target = ("messagerie.conversation", conversation.pk)
    decision = _decision(
        actor=actor,
        patient=conversation.patient,
        code="messagerie.message.send",
        request=request,
        target=target,
    )
    access = decision.access
    why = conversation_refusal(access, conversation)
    if why:
        decision.refuse(target=target, why=why)
    try:
        if conversation.is_closed:
            raise ValidationError(_CLOSED, code="closed")
        body = _body(body)
        if hidden_from_representatives and (
            access.patient_side or not _is_minor(conversation.patient)
        ):
            raise ValidationError(
                _("Ce réglage ne concerne que le secret d'un patient mineur."),
                code="flags",
            )
        checked = _check(access, attachment)
    except ValidationError:
        decision.invalid(target=target)
        raise
    side = Message.Side.PATIENT if access.patient_side else Message.Side.PROFESSIONAL
    file = _store(conversation.patient, attachment)
    try:
        with transaction.atomic():
            # A close racing this reply: the row lock orders them.
            locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
            if locked.closed_at is not None:
                raise _ClosedMeanwhile
            message = _message(
                conversation=conversation,
                side=side,
                author=actor,
                body=body,
                checked=checked,
                file=file,
                hidden=hidden_from_representatives,
            )
            _touch(conversation, message)
            decision.done(target=("messagerie.message", message.pk))
            if side == Message.Side.PROFESSIONAL:
                _new_message_notice(conversation, message)
            if side == Message.Side.PATIENT:
                # Answering is reading what came before.
                messages_mark_read(access=access, conversation=conversation)
    except _ClosedMeanwhile:
        if file:
            default_storage.delete(file)
        decision.invalid(target=target)
        raise ValidationError(_CLOSED, code="closed") from None
    except BaseException:
        if file:
            default_storage.delete(file)
        raise
    return message


class _ClosedMeanwhile(Exception):
    pass


def messages_mark_read(*, access: Access, conversation: Conversation) -> int:
    """The read receipts of what the other side wrote, now (only what this
    access shows: a representative never marks a hidden message read). Part
    of an audited read or write: no entry of its own."""
    if access.patient_side:
        rows = Message.objects.filter(
            conversation=conversation,
            side__in=(Message.Side.PROFESSIONAL, Message.Side.AUTO),
        )
        if access.basis == Basis.REPRESENTATIVE:
            rows = rows.filter(hidden_from_representatives=False)
    else:
        rows = Message.objects.filter(
            conversation=conversation, side=Message.Side.PATIENT
        )
    return rows.filter(read_at__isnull=True).update(read_at=timezone.now())


def conversation_mark_read(
    *, actor: User, conversation: Conversation, request: HttpRequest | None = None
) -> int:
    """Mark the other side's messages read (API), one audited decision."""
    target = ("messagerie.conversation", conversation.pk)
    decision = Decision(
        actor=actor,
        patient=conversation.patient,
        purpose=Purpose.READ,
        action=Action.UPDATE,
        code="messagerie.conversation.mark_read",
        request=request,
        target=target,
    )
    why = conversation_refusal(decision.access, conversation)
    if why:
        decision.refuse(target=target, why=why)
    with transaction.atomic():
        changed = messages_mark_read(access=decision.access, conversation=conversation)
        decision.done(target=target)
    return changed


def conversation_close(
    *, actor: User, conversation: Conversation, request: HttpRequest | None = None
) -> Conversation:
    """MSG-1 (X-MSS-MES: FIN): the professional closes the conversation to
    replies; the patient sees it closed."""
    target = ("messagerie.conversation", conversation.pk)
    decision = _decision(
        actor=actor,
        patient=conversation.patient,
        code="messagerie.conversation.close",
        request=request,
        target=target,
        action=Action.UPDATE,
    )
    why = conversation_refusal(decision.access, conversation)
    if decision.access.patient_side:
        why = "not_participant"
    if why:
        decision.refuse(target=target, why=why)
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk, closed_at__isnull=True).update(
            closed_at=timezone.now()
        )
        decision.done(target=target)
    conversation.refresh_from_db()
    return conversation


def conversation_archive(
    *,
    actor: User,
    conversation: Conversation,
    archived: bool,
    request: HttpRequest | None = None,
) -> Conversation:
    """Archive (or bring back) a conversation, for one's own side only."""
    target = ("messagerie.conversation", conversation.pk)
    decision = _decision(
        actor=actor,
        patient=conversation.patient,
        code="messagerie.conversation.archive"
        if archived
        else "messagerie.conversation.unarchive",
        request=request,
        target=target,
        action=Action.UPDATE,
    )
    why = conversation_refusal(decision.access, conversation)
    if why:
        decision.refuse(target=target, why=why)
    field = (
        "archived_by_patient_at"
        if decision.access.patient_side
        else "archived_by_professional_at"
    )
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(
            **{field: timezone.now() if archived else None}
        )
        decision.done(target=target)
    conversation.refresh_from_db()
    return conversation


# ---------------------------------------------------------------- filing


def attachment_file(
    *,
    actor: User,
    message: Message,
    type_code: str,
    title: str,
    request: HttpRequest | None = None,
) -> Document:
    """MSG-2: the patient side files an attachment into the DMP in one click,
    as a document of the type they chose (DOCPAT list). Two entries: the
    read of the attachment (`attachment_open_for`) and the deposit
    (`dmp.services.document_deposit`, its checks and limits included)."""
    from messagerie.selectors import attachment_open_for

    if actor.role != User.Role.PATIENT:
        raise PermissionDenied  # the patient side's only: nothing read
    if message.filed_document_id is not None:
        raise ValidationError(_FILED, code="filed")
    _read, access, chunks = attachment_open_for(
        actor=actor, pk=message.pk, request=request
    )
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as copy:
        try:
            for chunk in chunks:
                copy.write(chunk)
        finally:
            chunks.close()  # type: ignore[attr-defined]
        copy.seek(0)
        if not access.patient_side:
            raise PermissionDenied
        document = dmp_services.document_deposit(
            actor=actor,
            patient=message.conversation.patient,
            stream=copy,
            file_name=message.file_name,
            title=title or message.file_name,
            type_code=type_code,
            request=request,
        )
    filed = Message.objects.filter(pk=message.pk, filed_document__isnull=True).update(
        filed_document=document
    )
    if not filed:  # a double click filed it meanwhile: keep one copy
        dmp_services.document_delete(actor=actor, document=document, request=request)
        raise ValidationError(_FILED, code="filed")
    return document


_FILED = _lazy("Cette pièce jointe est déjà classée dans vos documents.")


# ---------------------------------------------------------------- settings


def inbox_settings_update(
    *,
    actor: User,
    open_to_patients: bool,
    auto_reply: str,
    request: HttpRequest | None = None,
) -> ProfessionalInbox:
    """MSG-1 (going further): the professional opens (or closes) their inbox
    to first messages from their patients, with an automatic reply."""
    professional = professional_of(actor)
    auto_reply = auto_reply.strip()
    if open_to_patients and not auto_reply:
        raise ValidationError(
            _("Écrivez la réponse automatique que recevront vos patients."),
            code="auto_reply",
        )
    if len(auto_reply) > MAX_AUTO_REPLY:
        raise ValidationError(
            _("La réponse automatique dépasse %(n)s caractères.")
            % {"n": MAX_AUTO_REPLY},
            code="auto_reply",
        )
    with transaction.atomic():
        inbox, _created = ProfessionalInbox.objects.select_for_update().get_or_create(
            professional=professional
        )
        inbox.open_to_patients = open_to_patients
        inbox.auto_reply = auto_reply
        inbox.full_clean(exclude=["professional"])
        inbox.save()
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            target=inbox,
            code="messagerie.inbox.settings",
            request=request,
        )
    return inbox


def notice_preference_set(
    *,
    actor: User,
    patient: Beneficiary,
    sms: bool,
    request: HttpRequest | None = None,
) -> NoticePreference:
    """MSG-3: the patient side chooses to be told by SMS too (a phone on file
    is needed)."""
    decision = Decision(
        actor=actor,
        patient=patient,
        purpose=Purpose.MANAGE,
        action=Action.UPDATE,
        code="messagerie.notice_preference",
        request=request,
        target="messagerie.noticepreference",
    )
    if sms and not patient.phone.strip():
        decision.invalid(target="messagerie.noticepreference")
        raise ValidationError(
            _(
                "Aucun numéro de téléphone n'est enregistré : appelez le 3422 pour "
                "l'ajouter."
            ),
            code="phone",
        )
    with transaction.atomic():
        preference, _created = NoticePreference.objects.update_or_create(
            patient=patient, defaults={"sms": sms}
        )
        decision.done(target=preference)
    return preference


# ---------------------------------------------------------------- notices


def _new_message_notice(conversation: Conversation, message: Message) -> None:
    """MSG-3, LC-12: "you have a new message", in the space, by e-mail (and
    by SMS when chosen), without content nor sender. At most one per
    conversation an hour: the conditional UPDATE of `notified_at` lets one
    transaction through (a concurrent one waits for the row lock, then sees
    the new date and changes nothing), and the notices' keys carry that date.
    Never for what the minor's secret hides: a child's notices show in the
    representatives' inbox (CONS-7)."""
    from espace.tasks import notification_send

    hidden = message.hidden_from_representatives or (
        conversation.hidden_from_representatives
    )
    if hidden and _is_minor(conversation.patient):
        return
    now = timezone.now()
    claimed = Conversation.objects.filter(
        Q(notified_at__isnull=True) | Q(notified_at__lte=now - NOTICE_PERIOD),
        pk=conversation.pk,
    ).update(notified_at=now)
    if not claimed:
        return
    patient = conversation.patient
    channels = [Notification.Channel.INAPP]
    if patient.email:
        channels.append(Notification.Channel.EMAIL)
    wants_sms = NoticePreference.objects.filter(patient=patient, sms=True).exists()
    if wants_sms and patient.phone.strip():
        channels.append(Notification.Channel.SMS)
    stamp = int(now.timestamp())
    keys = {
        channel: f"{NEW_MESSAGE}:{conversation.pk}:{stamp}:{channel}"
        for channel in channels
    }
    Notification.objects.bulk_create(
        [
            Notification(beneficiary=patient, kind=NEW_MESSAGE, channel=c, key=k)
            for c, k in keys.items()
        ],
        ignore_conflicts=True,
    )
    # ignore_conflicts returns no ids: read the outgoing ones back by key
    outgoing = list(
        Notification.objects.filter(
            key__in=[k for c, k in keys.items() if c != Notification.Channel.INAPP],
            status=Notification.Status.PENDING,
        ).values_list("pk", flat=True)
    )
    for notification_id in outgoing:
        transaction.on_commit(
            functools.partial(notification_send.delay, notification_id)
        )
