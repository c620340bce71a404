"""Actor-scoped reads of conversations (STYLE R8, MSG-1…MSG-3, CONS-7).

Every read of a conversation's content (subject, messages, attachment) asks
`consent.policy.access_for` and leaves exactly one audit entry per decision,
allowed or refused; a refusal answers the same 404 as a missing object.

Who reads a conversation:

- the patient (SELF) and, until the child's 18th birthday, a legal
  representative (REPRESENTATIVE) — minus what the minor's secret hides: a
  conversation or a message marked hidden from representatives is absent for
  them (lists, counts, search, notices, API);
- its professional while the patient is in their care (médecin traitant or
  an active care relationship, not blocked): an emergency access opens the
  DMP for reading, not the correspondence;
- nobody else: not another professional, never an agent.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest

from audit.models import AuditEvent
from audit.services import Entry, audit_record_many
from consent.models import Block, CareRelationship
from consent.policy import EMERGENCY, Access, Basis, Purpose, access_audit, access_for
from espace.models import Beneficiary, LegalRepresentation, Professional, Space, User
from espace.selectors import adult_cutoff
from lib.http import client_address, request_id
from messagerie.models import Conversation, Message, ProfessionalInbox

Action = AuditEvent.Action
PAGE_SIZE = 50
# Search decrypts the actor's most recent messages in Python (see
# `message_search_for`): this many at most per search.
SEARCH_WINDOW = 500
SEARCH_RESULTS = 50
TO_PATIENT = (Message.Side.PROFESSIONAL, Message.Side.AUTO)


def professional_of(actor: User) -> Professional:
    professional = getattr(actor, "professional", None)
    if actor.role != User.Role.PROFESSIONAL or professional is None:
        raise Http404
    return professional  # type: ignore[no-any-return]


def _in_care(professional: Professional, patient: str = "patient") -> Q:
    """CONS-1, CONS-2 as one filter on a patient path: médecin traitant, or
    an active care relationship not blocked; an open space (a DMP)."""
    care = CareRelationship.objects.filter(
        patient=OuterRef(patient), professional=professional, revoked_at__isnull=True
    )
    blocked = Block.objects.filter(patient=OuterRef(patient), professional=professional)
    return (
        Q(**{f"{patient}__medecin_traitant": professional})
        | (Q(Exists(care)) & ~Q(Exists(blocked)))
    ) & Q(**{f"{patient}__space__state__in": Space.OPEN_STATES})


# ---------------------------------------------------------------- decisions


def conversation_refusal(access: Access, conversation: Conversation) -> str:
    """Why this allowed DMP access still does not open this conversation
    ("" when it does)."""
    if not access.allowed:
        return ""
    if access.patient_side:
        if (
            access.basis == Basis.REPRESENTATIVE
            and conversation.hidden_from_representatives
        ):
            return "minor_secret"
        return ""
    assert access.professional is not None
    if conversation.professional_id != access.professional.pk:
        return "not_participant"
    if access.basis in EMERGENCY:
        return "not_in_care"
    return ""


def conversation_decide(
    *,
    actor: User,
    conversation: Conversation,
    code: str,
    request: HttpRequest | None,
    purpose: Purpose = Purpose.READ,
    action: str = Action.READ,
) -> Access:
    """One audited decision on one conversation; Http404 when refused."""
    access = access_for(actor=actor, patient=conversation.patient, purpose=purpose)
    why = conversation_refusal(access, conversation)
    access_audit(
        access,
        action=action,
        target=("messagerie.conversation", conversation.pk),
        code=code,
        request=request,
        refused=why,
    )
    if not access.allowed or why:
        raise Http404
    return access


def _conversation(pk: uuid.UUID | str) -> Conversation:
    try:
        return Conversation.objects.select_related(
            "patient", "professional__user", "establishment"
        ).get(pk=pk)
    except (Conversation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def visible_messages(access: Access, conversation: Conversation) -> QuerySet[Message]:
    """The messages of a conversation this (allowed) access shows."""
    messages = Message.objects.filter(conversation=conversation)
    if access.basis == Basis.REPRESENTATIVE:
        messages = messages.filter(hidden_from_representatives=False)
    return messages.select_related("author").order_by("sent_at", "pk")


@dataclass
class Thread:
    conversation: Conversation
    access: Access
    messages: list[Message]


def conversation_get_for(
    *,
    actor: User,
    pk: uuid.UUID | str,
    request: HttpRequest | None = None,
    code: str = "messagerie.conversation.read",
) -> Thread:
    """MSG-1: one conversation and the messages the actor may read (one
    audit entry, allowed or refused; missing and refused: Http404)."""
    conversation = _conversation(pk)
    access = conversation_decide(
        actor=actor, conversation=conversation, code=code, request=request
    )
    return Thread(conversation, access, list(visible_messages(access, conversation)))


def conversation_for_change(*, actor: User, pk: uuid.UUID | str) -> Conversation:
    """The conversation a write names; the service decides and audits."""
    return _conversation(pk)


def message_for_change(*, pk: uuid.UUID | str) -> Message:
    """The message a write names (filing an attachment); the service decides
    and audits."""
    try:
        return Message.objects.select_related("conversation__patient").get(pk=pk)
    except (Message.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def attachment_open_for(
    *, actor: User, pk: uuid.UUID | str, request: HttpRequest | None = None
) -> tuple[Message, Access, Iterator[bytes]]:
    """MSG-2: an attachment, decrypted as a stream (one audit entry)."""
    try:
        message = Message.objects.select_related(
            "conversation__patient", "conversation__professional"
        ).get(pk=pk)
    except (Message.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    conversation = message.conversation
    access = access_for(actor=actor, patient=conversation.patient, purpose=Purpose.READ)
    why = conversation_refusal(access, conversation)
    if not why and (
        not message.file
        or (
            access.basis == Basis.REPRESENTATIVE and message.hidden_from_representatives
        )
    ):
        why = "not_visible"
    access_audit(
        access,
        action=Action.READ,
        target=("messagerie.message", message.pk),
        code="messagerie.attachment.download",
        request=request,
        refused=why,
    )
    if not access.allowed or why:
        raise Http404
    file = default_storage.open(message.file)

    def chunks() -> Iterator[bytes]:
        try:
            yield from file.chunks()
        finally:
            file.close()

    return message, access, chunks()


# ---------------------------------------------------------------- lists


def _unread_to(side_values: tuple[str, ...], *, shared_only: bool) -> Count:
    condition = Q(messages__read_at__isnull=True, messages__side__in=side_values)
    if shared_only:
        condition &= Q(messages__hidden_from_representatives=False)
    return Count("messages", filter=condition)


def patient_conversations(
    access: Access, *, archived: bool = False
) -> QuerySet[Conversation]:
    """The active profile's conversations (an allowed patient-side access),
    without what the minor's secret hides from a representative; each with
    its unread count. A constant number of queries whatever their size."""
    representative = access.basis == Basis.REPRESENTATIVE
    rows = Conversation.objects.filter(
        patient=access.patient, archived_by_patient_at__isnull=not archived
    )
    order = "-last_message_at"
    if representative:
        rows = rows.filter(
            hidden_from_representatives=False, last_shared_at__isnull=False
        )
        order = "-last_shared_at"
    return (
        rows.select_related("professional__user", "establishment")
        .annotate(unread=_unread_to(TO_PATIENT, shared_only=representative))
        .order_by(order, "pk")
    )


def conversation_list_for(
    *,
    actor: User,
    patient: Beneficiary,
    archived: bool = False,
    request: HttpRequest | None = None,
) -> tuple[list[Conversation], Access]:
    """MSG-1: the patient side's inbox (one audit entry); Http404 when the
    actor may not act for `patient`."""
    access = access_for(actor=actor, patient=patient, purpose=Purpose.READ)
    access_audit(
        access,
        action=Action.READ,
        target="messagerie.conversation",
        code="messagerie.conversation.list",
        request=request,
        refused=_patient_side_only(access),
    )
    if not access.allowed or not access.patient_side:
        raise Http404
    return list(patient_conversations(access, archived=archived)[:PAGE_SIZE]), access


def pro_conversation_list_for(
    *, actor: User, archived: bool = False, request: HttpRequest | None = None
) -> list[Conversation]:
    """MSG-1: the professional's conversations with the patients in their
    care (the policy, as one SQL filter), newest first, with their subjects:
    one audit entry per patient listed, written together (G-S12; at most
    PAGE_SIZE, one round trip). The messages open one conversation at a
    time."""
    professional = professional_of(actor)
    rows: list[Conversation] = list(
        Conversation.objects.filter(
            _in_care(professional),
            professional=professional,
            archived_by_professional_at__isnull=not archived,
        )
        .select_related("patient")
        .only(
            "pk",
            "subject",
            "patient_address",
            "started_by",
            "last_message_at",
            "closed_at",
            "hidden_from_representatives",
            "archived_by_professional_at",
            "patient__id",
            "patient__birth_name",
            "patient__first_names",
            "patient__usual_name",
            "patient__birth_date",
        )
        .annotate(unread=_unread_to((Message.Side.PATIENT,), shared_only=False))
        .order_by("-last_message_at", "pk")[:PAGE_SIZE]
    )
    _audit_in_care(
        actor,
        [c.patient_id for c in rows],
        target="messagerie.conversation",
        code="messagerie.conversation.list",
        request=request,
    )
    return rows


def _audit_in_care(
    actor: User,
    patient_ids: Iterable[int],
    *,
    target: str,
    code: str,
    request: HttpRequest | None,
) -> None:
    """One READ entry per patient whose conversations a professional's list
    or search showed or decrypted (G-S12), all written under one lock: the
    rows were chosen by `_in_care`, the policy as one SQL filter, hence the
    basis `in_care`."""
    entries = [
        Entry(
            action=Action.READ,
            target_type=target,
            actor_id=actor.pk,
            actor_role=str(actor.role),
            patient_id=patient,
            code=f"{code}:in_care",
            remote_addr=client_address(request) or None,
            request_id=request_id(request),
        )
        for patient in dict.fromkeys(patient_ids)  # once each, in order
    ]
    if entries:
        audit_record_many(entries)


def unread_count_for_patient(*, actor: User) -> int:
    """The header badge of a patient: unread messages to their own profile
    and to the children they represent (minus the minor's secret). One
    query; a count of unread items, like the notifications badge, is not a
    read of their content (no audit entry)."""
    represented = LegalRepresentation.objects.filter(
        minor=OuterRef("conversation__patient"),
        representative__user=actor,
        status=LegalRepresentation.Status.ACTIVE,
    )
    return (
        Message.objects.filter(
            read_at__isnull=True,
            side__in=TO_PATIENT,
            conversation__archived_by_patient_at__isnull=True,
            conversation__patient__space__state__in=Space.OPEN_STATES,
        )
        .filter(
            Q(conversation__patient__user=actor)
            | Q(
                Exists(represented),
                conversation__patient__birth_date__gt=adult_cutoff(),
                hidden_from_representatives=False,
                conversation__hidden_from_representatives=False,
            )
        )
        .count()
    )


def unread_count_for_professional(*, actor: User) -> int:
    """The professional's badge: unread patient messages in the
    conversations of their patients in care. One query."""
    professional = getattr(actor, "professional", None)
    if professional is None:
        return 0
    return Message.objects.filter(
        _in_care(professional, "conversation__patient"),
        read_at__isnull=True,
        side=Message.Side.PATIENT,
        conversation__professional=professional,
        conversation__archived_by_professional_at__isnull=True,
    ).count()


# ---------------------------------------------------------------- search


def _fold(text: str) -> str:
    """Case and accents folded: "Résultat" matches "resultat"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Hit:
    conversation: Conversation
    message: Message


def _search(
    messages: QuerySet[Message], query: str, seen: set[int] | None = None
) -> list[Hit]:
    """Bodies and subjects are encrypted with a key per value: the database
    cannot search them (no index on ciphertext, and a deterministic or
    blind-index scheme would leak which messages share words). So a search
    decrypts, in this process, only the actor's own most recent messages
    (SEARCH_WINDOW of them, one query) and matches there: bounded work,
    nothing decrypted that the actor may not read, no plaintext stored."""
    needle = _fold(query.strip())
    if not needle:
        return []
    hits: list[Hit] = []
    rows = messages.select_related(
        "conversation__patient", "conversation__professional__user"
    ).order_by("-sent_at", "-pk")[:SEARCH_WINDOW]
    for message in rows:
        if seen is not None:  # whose messages were decrypted (their audit)
            seen.add(message.conversation.patient_id)
        text = f"{message.conversation.subject}\n{message.body}"
        if needle in _fold(text):
            hits.append(Hit(message.conversation, message))
            if len(hits) >= SEARCH_RESULTS:
                break
    return hits


def _patient_side_only(access: Access) -> str:
    """A professional allowed on the DMP still has no patient-side inbox."""
    return "patient_side_only" if access.allowed and not access.patient_side else ""


def message_search_for(
    *, actor: User, patient: Beneficiary, query: str, request: HttpRequest | None
) -> list[Hit]:
    """The patient side searches its own messages (one audit entry)."""
    access = access_for(actor=actor, patient=patient, purpose=Purpose.READ)
    access_audit(
        access,
        action=Action.READ,
        target="messagerie.message",
        code="messagerie.message.search",
        request=request,
        refused=_patient_side_only(access),
    )
    if not access.allowed or not access.patient_side:
        raise Http404
    messages = Message.objects.filter(conversation__patient=patient)
    if access.basis == Basis.REPRESENTATIVE:
        messages = messages.filter(
            hidden_from_representatives=False,
            conversation__hidden_from_representatives=False,
        )
    return _search(messages, query)


def pro_message_search_for(
    *, actor: User, query: str, request: HttpRequest | None
) -> list[Hit]:
    """The professional searches their conversations with patients in their
    care; each patient whose messages were decrypted, found or not, gets one
    audit entry (written together)."""
    professional = professional_of(actor)
    messages = Message.objects.filter(
        _in_care(professional, "conversation__patient"),
        conversation__professional=professional,
    )
    patients: set[int] = set()
    hits = _search(messages, query, seen=patients)
    _audit_in_care(
        actor,
        patients,
        target="messagerie.message",
        code="messagerie.message.search",
        request=request,
    )
    return hits


# ---------------------------------------------------------------- pickers


def open_professionals_for(*, patient: Beneficiary) -> list[Professional]:
    """MSG-1 (going further): the professionals who accept first messages
    from this patient: opted in, and the patient in their care."""
    inboxes = ProfessionalInbox.objects.filter(open_to_patients=True)
    care = CareRelationship.objects.filter(
        patient=patient, professional=OuterRef("pk"), revoked_at__isnull=True
    )
    blocked = Block.objects.filter(patient=patient, professional=OuterRef("pk"))
    return list(
        Professional.objects.filter(pk__in=inboxes.values("professional_id"))
        .filter(
            Q(pk=patient.medecin_traitant_id or 0)
            | (Q(Exists(care)) & ~Q(Exists(blocked)))
        )
        .select_related("user", "establishment")
        .order_by("user__last_name", "pk")
    )


def pro_patients_for(*, actor: User) -> QuerySet[Beneficiary]:
    """The patients a professional may write to (their patients in care)."""
    from dmp.pro_selectors import patients_in_care_for

    return patients_in_care_for(actor=actor)
