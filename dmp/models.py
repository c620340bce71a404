"""The shared medical record: documents and folders (SPEC §3, DMP-1 to DMP-11).

A document's file lives in the encrypted default storage under a name that
says nothing (`dmp/<patient id>/<uuid>`); its title and original file name
are encrypted in the database (SEC-5). A new version is a new row that
`replaces` the previous one, which turns REPLACED: nothing is overwritten
(DMP-11). Reads go through `dmp.selectors`, which apply `consent.policy`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consent.models import CLASS_CODES
from espace.models import Beneficiary, Establishment, Professional, User
from lib.fields import EncryptedTextField

# DMP-9 (R1111-53): a result withheld for an announcement consultation.
ANNOUNCEMENT_NOTICE = timedelta(weeks=2)  # then the patient is told
ANNOUNCEMENT_RELEASE = timedelta(days=30)  # then it becomes visible (1 month)


class Folder(models.Model):
    """DMP-5: the patient's own folders for the documents they added."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="folders"
    )
    name = EncryptedTextField(_("nom"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("dossier")
        indexes = [
            models.Index(fields=["patient", "created_at"], name="folder_patient")
        ]

    def __str__(self) -> str:
        return f"Dossier {self.pk}"


class Document(models.Model):
    """DMP-1: one version of one document of a patient's DMP."""

    class Status(models.TextChoices):
        CURRENT = "current", _("En vigueur")
        REPLACED = "replaced", _("Remplacé par une nouvelle version")
        DELETED = "deleted", _("Supprimé par son auteur")

    class Confidentiality(models.TextChoices):
        # TRE_A08-HL7Confidentiality (JDV_J58)
        NORMAL = "N", _("Normal")
        RESTRICTED = "R", _("Restreint")
        VERY_RESTRICTED = "V", _("Très restreint")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        Beneficiary, on_delete=models.PROTECT, related_name="documents"
    )
    title = EncryptedTextField(_("titre"))
    type_code = models.CharField(_("type (typeCode)"), max_length=16)
    class_code = models.CharField(
        _("classe (classCode)"), max_length=2, choices=list(CLASS_CODES.items())
    )
    format_code = models.CharField(_("format (formatCode)"), max_length=64, blank=True)
    mime_type = models.CharField(max_length=32)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.CharField(max_length=255)  # a storage name, never shown
    file_name = EncryptedTextField(_("nom du fichier"))
    # Author (DMP-1): a professional (maybe for an establishment) or the
    # patient; `deposited_by` is the login that did it (a representative
    # for a child, say).
    author_professional = models.ForeignKey(
        Professional,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="authored_documents",
    )
    author_establishment = models.ForeignKey(
        Establishment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    deposited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    document_date = models.DateField(_("date du document"))
    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True)
    confidentiality = models.CharField(
        max_length=1, choices=Confidentiality.choices, default=Confidentiality.NORMAL
    )
    # TRE_A07 visibility flags (JDV_J58).
    masked = models.BooleanField(
        _("masqué aux professionnels (MASQUE_PS)"), default=False
    )
    invisible_patient = models.BooleanField(
        _("non visible par le patient (INVISIBLE_PATIENT)"), default=False
    )
    invisible_representatives = models.BooleanField(
        _("non visible par les représentants légaux"), default=False
    )
    # DMP-9: announced (or released after a month), and the 2-week notice.
    announced_at = models.DateTimeField(null=True, blank=True)
    patient_told_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.CURRENT
    )
    version = models.PositiveIntegerField(default=1)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
    )
    folder = models.ForeignKey(
        Folder,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents",
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("document")
        indexes = [
            models.Index(
                fields=["patient", "status", "created_at"], name="document_patient"
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(invisible_patient=True, announced_at__isnull=True),
                name="document_withheld",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(author_professional__isnull=False)
                | Q(class_code="90")
                | Q(class_code="60"),
                name="document_author_or_patient_class",
            ),
        ]

    def __str__(self) -> str:
        return f"Document {self.pk}"

    @property
    def by_patient(self) -> bool:
        return self.author_professional_id is None and self.class_code == "90"
