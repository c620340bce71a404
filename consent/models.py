"""Who may see a patient's DMP, and why (SPEC §4, CONS-1 to CONS-7).

The decisions themselves are computed in `consent.policy`; these tables hold
what they are computed from: care relationships declared by professionals,
blocks and emergency settings chosen by the patient, the access matrix kept
by agents, and the emergency accesses that happened.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from espace.models import Beneficiary, Professional, User
from lib.fields import EncryptedTextField

# JDV_J57_ClassCode_DMP (reference-data §2.1): the document classes the
# access matrix is written in.
CLASS_CODES: dict[str, str] = {
    "10": "Compte rendu",
    "11": "Synthèse",
    "31": "Imagerie médicale",
    "42": "Prescription",
    "43": "Dispensation",
    "44": "Plan de soins, protocole de soins",
    "45": "Traitement administré",
    "52": "Certificat, déclaration",
    "60": "Données de remboursement",
    "90": "Autres documents déposés par le patient",
    "95": "Document de gestion",
}


class CareRelationship(models.Model):
    """CONS-1: a professional in charge of the patient, declared by the
    professional (the patient's consent collected at a consultation, or
    membership of the care team). Lasts until revoked by the patient (CONS-5)
    or by the professional."""

    class Kind(models.TextChoices):
        CONSENT = "consent", _("Consentement du patient recueilli")
        CARE_TEAM = "care_team", _("Membre de l'équipe de soins")

    patient = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="care_relationships"
    )
    professional = models.ForeignKey(
        Professional, on_delete=models.PROTECT, related_name="care_relationships"
    )
    kind = models.CharField(max_length=9, choices=Kind.choices)
    declared_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("relation de soins")
        verbose_name_plural = _("relations de soins")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "professional"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_care_relationship",
            ),
        ]

    def __str__(self) -> str:
        return f"Relation de soins #{self.pk}"


class Block(models.Model):
    """CONS-2: a professional the patient blocked (sees nothing, deposits
    nothing). Never the médecin traitant: the services refuse it."""

    patient = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="blocks"
    )
    professional = models.ForeignKey(
        Professional, on_delete=models.PROTECT, related_name="blocked_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("professionnel bloqué")
        verbose_name_plural = _("professionnels bloqués")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "professional"], name="one_block_per_professional"
            ),
        ]

    def __str__(self) -> str:
        return f"Blocage #{self.pk}"


class PrivacySettings(models.Model):
    """CONS-6: the two emergency accesses, each on by default and opposable
    separately; CONS-9: the refusal of personalised prevention messages (off
    by default). A patient with no row has the defaults."""

    patient = models.OneToOneField(
        Beneficiary, on_delete=models.CASCADE, related_name="privacy"
    )
    bris_de_glace = models.BooleanField(
        _("accès en urgence (bris de glace)"), default=True
    )
    samu = models.BooleanField(_("accès du médecin régulateur du SAMU"), default=True)
    # CONS-9 (A8.4): no personalised prevention message at all while set; read
    # by each batch of a campaign, so that it takes effect at once.
    prevention_refused = models.BooleanField(
        _("refus des messages de prévention personnalisés"), default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("réglages de confidentialité")
        verbose_name_plural = _("réglages de confidentialité")

    def __str__(self) -> str:
        return f"Réglages #{self.pk}"


class AccessRule(models.Model):
    """CONS-1: one cell of the access matrix (matrice d'habilitations):
    may this profession see documents of this class. Agents edit it in the
    back office; the next request uses the new value (no cache)."""

    profession = models.CharField(
        _("profession"), max_length=2, choices=Professional.Profession.choices
    )
    class_code = models.CharField(
        _("classe de document"), max_length=2, choices=list(CLASS_CODES.items())
    )
    allowed = models.BooleanField(_("accès autorisé"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("règle de la matrice d'habilitations")
        verbose_name_plural = _("matrice d'habilitations")
        constraints = [
            models.UniqueConstraint(
                fields=["profession", "class_code"], name="one_rule_per_cell"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_profession_display()} × {self.get_class_code_display()}"


class EmergencyAccess(models.Model):
    """CONS-6: one emergency access to a patient's DMP, with its written
    reason (encrypted: it may describe the patient's state). It opens the DMP
    to that professional for `EMERGENCY_DURATION`; the patient and the
    médecin traitant are told afterwards."""

    class Mode(models.TextChoices):
        BRIS_DE_GLACE = "bris_de_glace", _("Bris de glace")
        SAMU = "samu", _("Régulation SAMU-Centre 15")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="emergency_accesses"
    )
    professional = models.ForeignKey(
        Professional, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    mode = models.CharField(max_length=13, choices=Mode.choices)
    reason = EncryptedTextField(_("motif"))
    started_at = models.DateTimeField(auto_now_add=True)
    ends_at = models.DateTimeField()

    class Meta:
        verbose_name = _("accès en urgence")
        verbose_name_plural = _("accès en urgence")
        indexes = [
            models.Index(
                fields=["professional", "patient", "ends_at"],
                name="emergency_current",
            ),
        ]

    def __str__(self) -> str:
        return f"Accès en urgence {self.pk}"


class ProfessionalNotice(models.Model):
    """A notice to a professional, by e-mail and in their portal (CONS-6: the
    médecin traitant is told of an emergency access to their patient's DMP).
    Never any health content: a kind, a patient, a link. `key` makes each
    notice unique, so that a retried job sends nothing twice."""

    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="notices"
    )
    patient = models.ForeignKey(Beneficiary, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=48)
    key = models.CharField(max_length=96, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification professionnelle")
        indexes = [
            models.Index(
                fields=["professional", "created_at"], name="pro_notice_inbox"
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(sent_at__isnull=True),
                name="pro_notice_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
