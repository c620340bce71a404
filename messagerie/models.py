"""Secure conversations between professionals and patients (MSG-1…MSG-3).

A conversation links one patient (their MSSanté address,
`<matricule INS>@patient.mssante.fr`, reference-data §5.2) and one
professional (acting, maybe, for their establishment). Subjects, bodies and
attachments are health data: encrypted at rest (SEC-5), never in logs,
e-mails, task arguments or the admin. Every read goes through
`consent.policy` (see `messagerie.selectors`).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dmp.models import Document
from espace.models import Beneficiary, Establishment, Professional, User
from lib.fields import EncryptedTextField

PATIENT_DOMAIN = "patient.mssante.fr"


def patient_address(patient: Beneficiary) -> str:
    """The patient's MSSanté address: their matricule INS (their own NIR,
    never a parent's Vitale number) at patient.mssante.fr (§5.2)."""
    return f"{patient.nir}@{PATIENT_DOMAIN}"


class ProfessionalInbox(models.Model):
    """MSG-1 "going further": a professional's choice to receive first
    messages from their own patients, with the automatic reply they get."""

    professional = models.OneToOneField(
        Professional, on_delete=models.CASCADE, related_name="message_inbox"
    )
    open_to_patients = models.BooleanField(
        _("recevoir les premiers messages de mes patients"), default=False
    )
    # The professional's own text (opening hours, "en cas d'urgence, 15"…):
    # no patient's health data.
    auto_reply = models.TextField(_("réponse automatique"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("messagerie d'un professionnel")
        constraints = [
            models.CheckConstraint(
                condition=Q(open_to_patients=False) | ~Q(auto_reply=""),
                name="inbox_open_has_auto_reply",
            ),
        ]

    def __str__(self) -> str:
        return f"Messagerie #{self.pk}"


class NoticePreference(models.Model):
    """MSG-3, LC-12: how the patient wants to hear of a new message: always
    in the space and by e-mail, plus an SMS when they chose it."""

    patient = models.OneToOneField(
        Beneficiary, on_delete=models.CASCADE, related_name="message_notice"
    )
    sms = models.BooleanField(_("être aussi prévenu(e) par SMS"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("préférence de notification (messagerie)")

    def __str__(self) -> str:
        return f"Préférence #{self.pk}"


class Conversation(models.Model):
    """MSG-1: one thread between a patient and a professional."""

    class StartedBy(models.TextChoices):
        PROFESSIONAL = "professional", _("Professionnel")
        PATIENT = "patient", _("Patient")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="conversations"
    )
    # The conversation key of the MSSanté model (§5.2), kept as written when
    # the conversation started.
    patient_address = models.CharField(_("adresse MSSanté du patient"), max_length=64)
    professional = models.ForeignKey(
        Professional, on_delete=models.PROTECT, related_name="conversations"
    )
    establishment = models.ForeignKey(
        Establishment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    subject = EncryptedTextField(_("objet"))
    started_by = models.CharField(max_length=12, choices=StartedBy.choices)
    # CONS-7, DMP-10: the minor's secret, for the whole conversation.
    hidden_from_representatives = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField()
    # The last message legal representatives may see: their lists sort and
    # date by it, so a hidden message does not even move the conversation.
    last_shared_at = models.DateTimeField(null=True, blank=True)
    # X-MSS-MES: FIN: the professional closed it to replies.
    closed_at = models.DateTimeField(null=True, blank=True)
    archived_by_patient_at = models.DateTimeField(null=True, blank=True)
    archived_by_professional_at = models.DateTimeField(null=True, blank=True)
    # MSG-3: the last new-message notice (at most one an hour, claimed with a
    # conditional UPDATE).
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        indexes = [
            models.Index(
                fields=["patient", "-last_message_at"], name="conversation_patient"
            ),
            models.Index(
                fields=["professional", "-last_message_at"],
                name="conversation_professional",
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Message(models.Model):
    """MSG-1, MSG-2, MSG-3: one message, its body and maybe one attachment,
    both encrypted (the file through the encrypted storage)."""

    class Side(models.TextChoices):
        PROFESSIONAL = "professional", _("Professionnel")
        PATIENT = "patient", _("Patient")
        AUTO = "auto", _("Réponse automatique")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    side = models.CharField(max_length=12, choices=Side.choices)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField(_("message"))
    sent_at = models.DateTimeField(auto_now_add=True)
    # Read receipt: when the other side first read it ("lu le …").
    read_at = models.DateTimeField(null=True, blank=True)
    hidden_from_representatives = models.BooleanField(default=False)
    # The attachment (MSG-2), checked like a DMP upload (DMP-2).
    file = models.CharField(max_length=255, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    mime_type = models.CharField(max_length=64, blank=True)
    format_code = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    filed_document = models.ForeignKey(
        Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("message")
        indexes = [
            models.Index(fields=["conversation", "sent_at"], name="message_thread"),
            # The unread counts: messages not yet read, by conversation.
            models.Index(
                fields=["conversation", "side"],
                condition=Q(read_at__isnull=True),
                name="message_unread",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(file="") | Q(size__gt=0), name="message_file_has_size"
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk}"

    @property
    def has_attachment(self) -> bool:
        return bool(self.file)


# MSG-4: the prevention campaigns (their own module, same app)
from messagerie.campaign_models import *  # noqa: E402, F403
