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
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
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
            # G-P4: a page of the list, in its order, read from the index
            models.Index(
                "patient",
                "status",
                F("document_date").desc(),
                F("created_at").desc(),
                F("id").desc(),
                name="document_patient_list",
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


# ---------------------------------------------------------------- medical profile
# DMP-6: what the patient (or a legal representative) writes about their own
# health. Every text is encrypted (SEC-5); nothing is overwritten (DMP-11):
# an edit is a new row of the same `lineage` that replaces the previous one,
# a deletion keeps the row as DELETED.


class ProfileEntry(models.Model):
    """DMP-6: one version of one entry of the medical profile.

    `label` is the entry itself (a medicine, an allergy, a person's name…),
    `details` what goes with it (dose, reaction, phone number…), both
    encrypted. The organ-donation choice is an entry too, its `label` holding
    the code of `OrganDonation` (encrypted like any other answer).
    """

    class Section(models.TextChoices):
        TREATMENT = "treatment", _("Traitements en cours")
        PROCEDURE = "procedure", _("Actes et examens")
        MEDICAL_HISTORY = "medical_history", _("Antécédents médicaux")
        SURGICAL_HISTORY = "surgical_history", _("Antécédents chirurgicaux")
        FAMILY_HISTORY = "family_history", _("Antécédents familiaux")
        ALLERGY = "allergy", _("Allergies")
        VACCINATION = "vaccination", _("Vaccinations")
        LIFE_CONTEXT = "life_context", _("Habitudes de vie")
        QUESTIONNAIRE = "questionnaire", _("Questionnaires de santé")
        DIRECTIVES = "directives", _("Directives anticipées")
        ORGAN_DONATION = "organ_donation", _("Don d'organes et de tissus")
        TRUSTED_PERSON = "trusted_person", _("Personne de confiance")
        EMERGENCY_CONTACT = "emergency_contact", _("Contacts en cas d'urgence")

    class OrganDonation(models.TextChoices):
        ACCEPTE = "accepte", _("J'accepte de donner mes organes et tissus")
        REFUSE = "refuse", _("Je refuse de donner mes organes et tissus")
        UNKNOWN = "non_renseigne", _("Non renseigné")

    class Status(models.TextChoices):
        CURRENT = "current", _("En vigueur")
        REPLACED = "replaced", _("Remplacée par une modification")
        DELETED = "deleted", _("Supprimée")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="profile_entries"
    )
    section = models.CharField(_("rubrique"), max_length=20, choices=Section.choices)
    label = EncryptedTextField(_("intitulé"))
    details = EncryptedTextField(_("précisions"), blank=True)
    entry_date = models.DateField(_("date"), null=True, blank=True)
    # DMP-8 for the profile: hidden from every professional.
    masked = models.BooleanField(_("masquée aux professionnels"), default=False)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.CURRENT
    )
    # All versions of one entry share its first version's id (DMP-11).
    lineage = models.UUIDField(editable=False)
    version = models.PositiveIntegerField(default=1)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("information du profil médical")
        verbose_name_plural = _("informations du profil médical")
        indexes = [
            models.Index(
                fields=["patient", "status", "section"], name="profile_entry_patient"
            ),
            models.Index(fields=["lineage", "version"], name="profile_entry_lineage"),
        ]
        constraints = [
            # One current organ-donation choice and one personne de confiance
            # (L1111-6) per patient.
            models.UniqueConstraint(
                fields=["patient", "section"],
                condition=Q(
                    status="current", section__in=["organ_donation", "trusted_person"]
                ),
                name="profile_entry_single_current",
            ),
            models.UniqueConstraint(
                fields=["lineage", "version"], name="profile_entry_one_version"
            ),
        ]

    def __str__(self) -> str:
        return f"Information du profil {self.pk}"

    @property
    def shown_label(self) -> str:
        """The entry as the patient reads it (the organ-donation code as
        its sentence)."""
        if self.section == self.Section.ORGAN_DONATION:
            return str(self.OrganDonation(str(self.label)).label)
        return str(self.label)


class Measure(models.Model):
    """DMP-6: one measure (weight, height, blood pressure, glycaemia) on a
    date. Values are encrypted (SEC-5) as decimal strings; a wrong measure
    is deleted (kept as DELETED, DMP-11) and entered again."""

    class Kind(models.TextChoices):
        WEIGHT = "weight", _("Poids")
        HEIGHT = "height", _("Taille")
        BLOOD_PRESSURE = "blood_pressure", _("Tension artérielle")
        GLYCAEMIA = "glycaemia", _("Glycémie")

    class Status(models.TextChoices):
        CURRENT = "current", _("En vigueur")
        DELETED = "deleted", _("Supprimée")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="measures"
    )
    kind = models.CharField(_("mesure"), max_length=14, choices=Kind.choices)
    measured_on = models.DateField(_("date de la mesure"))
    # kg, cm, systolic mmHg, g/L; `value2` is the diastolic pressure.
    value = EncryptedTextField(_("valeur"))
    value2 = EncryptedTextField(_("valeur diastolique"), blank=True)
    masked = models.BooleanField(_("masquée aux professionnels"), default=False)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.CURRENT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("mesure")
        indexes = [
            models.Index(
                fields=["patient", "status", "kind", "measured_on"],
                name="measure_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"Mesure {self.pk}"

    @property
    def number(self) -> Decimal:
        return Decimal(str(self.value))

    @property
    def number2(self) -> Decimal | None:
        return Decimal(str(self.value2)) if self.value2 else None


class Reimbursement(models.Model):
    """DMP-7: one reimbursed act from Assurance maladie's files. The act's
    code, label and professional are health data: encrypted. Acts under the
    minor's secret are never imported (DMP-10, R1111-33). `identifier` is
    the file's own id of the act: importing a file twice changes nothing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="reimbursements"
    )
    identifier = models.CharField(_("identifiant"), max_length=64)
    care_date = models.DateField(_("date des soins"))
    act_code = EncryptedTextField(_("code de l'acte"))
    label = EncryptedTextField(_("libellé"))
    amount = models.DecimalField(_("montant remboursé"), max_digits=9, decimal_places=2)
    professional = EncryptedTextField(_("professionnel"), blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("remboursement")
        indexes = [
            models.Index(fields=["patient", "care_date"], name="reimbursement_patient"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["identifier"], name="reimbursement_identifier_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="reimbursement_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Remboursement {self.pk}"
