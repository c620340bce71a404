from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lib.identifiers import (
    nir_identity_problems,
    validate_birth_place,
    validate_finess,
    validate_nir,
    validate_rpps,
)


class AccountManager(UserManager["User"]):
    def create_superuser(
        self,
        username: str,
        email: str | None = None,
        password: str | None = None,
        **extra: Any,
    ) -> User:
        """`createsuperuser` makes an agent: only agents may reach the admin."""
        extra.setdefault("role", User.Role.AGENT)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    """Anyone who logs in: a patient, a professional or an agent (SPEC §1)."""

    class Role(models.TextChoices):
        PATIENT = "patient", _("Titulaire")
        PROFESSIONAL = "professional", _("Professionnel de santé")
        AGENT = "agent", _("Agent Assurance maladie")

    role = models.CharField(_("rôle"), max_length=16, choices=Role.choices)

    objects: ClassVar[AccountManager] = AccountManager()

    class Meta:
        verbose_name = _("utilisateur")
        constraints = [
            # Only agents reach the admin (and never a patient or professional).
            models.CheckConstraint(
                condition=Q(role="agent") | Q(is_staff=False, is_superuser=False),
                name="user_staff_is_agent",
            ),
        ]

    def is_verified(self) -> bool:
        """Past the second factor? django-otp's middleware sets the real answer
        on each request's user; outside a request, nobody is."""
        return False

    @property
    def needs_totp(self) -> bool:
        """Professionals and agents: TOTP is mandatory (SEC-2)."""
        return self.role in (self.Role.PROFESSIONAL, self.Role.AGENT)

    @property
    def idle_timeout(self) -> int:
        from django.conf import settings

        return int(settings.SESSION_IDLE_SECONDS.get(self.role, 15 * 60))


class Establishment(models.Model):
    """A health establishment or pharmacy (FINESS)."""

    class Kind(models.TextChoices):
        HOSPITAL = "hospital", _("Établissement de santé")
        PHARMACY = "pharmacy", _("Pharmacie")
        MEDICO_SOCIAL = "medico_social", _("Structure médico-sociale")
        PRACTICE = "practice", _("Cabinet, centre de santé")

    finess = models.CharField(
        _("FINESS"), max_length=9, unique=True, validators=[validate_finess]
    )
    name = models.CharField(_("raison sociale"), max_length=200)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    city = models.CharField(_("commune"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("établissement")

    def __str__(self) -> str:
        return f"{self.name} ({self.finess})"


class Professional(models.Model):
    """A health professional (RPPS), maybe attached to an establishment."""

    class Profession(models.TextChoices):
        # TRE_G15 "Profession de santé" codes (ANS nomenclature)
        MEDECIN = "10", _("Médecin")
        PHARMACIEN = "21", _("Pharmacien")
        AUDIOPROTHESISTE = "26", _("Audioprothésiste")
        OPTICIEN = "28", _("Opticien-lunetier")
        CHIRURGIEN_DENTISTE = "40", _("Chirurgien-dentiste")
        SAGE_FEMME = "50", _("Sage-femme")
        INFIRMIER = "60", _("Infirmier")
        MASSEUR_KINE = "70", _("Masseur-kinésithérapeute")
        PEDICURE_PODOLOGUE = "80", _("Pédicure-podologue")
        ORTHOPROTHESISTE = "81", _("Orthoprothésiste")
        PODO_ORTHESISTE = "82", _("Podo-orthésiste")
        ORTHOPEDISTE_ORTHESISTE = "83", _("Orthopédiste-orthésiste")
        OCULARISTE = "84", _("Oculariste")
        EPITHESISTE = "85", _("Épithésiste")
        TECHNICIEN_LABO = "86", _("Technicien de laboratoire médical")
        ORTHOPHONISTE = "91", _("Orthophoniste")
        ORTHOPTISTE = "92", _("Orthoptiste")
        ERGOTHERAPEUTE = "94", _("Ergothérapeute")
        DIETETICIEN = "95", _("Diététicien")
        PSYCHOMOTRICIEN = "96", _("Psychomotricien")
        MANIPULATEUR_ERM = "98", _("Manipulateur ERM")

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="professional"
    )
    rpps = models.CharField(
        _("RPPS"), max_length=11, unique=True, validators=[validate_rpps]
    )
    profession = models.CharField(
        _("profession"), max_length=2, choices=Profession.choices
    )
    specialty = models.CharField(_("spécialité"), max_length=100, blank=True)
    establishment = models.ForeignKey(
        Establishment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    is_samu_regulator = models.BooleanField(
        _("médecin régulateur SAMU-Centre 15"), default=False
    )

    class Meta:
        verbose_name = _("professionnel de santé")
        verbose_name_plural = _("professionnels de santé")
        constraints = [
            models.CheckConstraint(
                condition=Q(is_samu_regulator=False) | Q(profession="10"),
                name="professional_regulator_is_doctor",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_profession_display()} {self.user.get_full_name()} ({self.rpps})"
        )


class Beneficiary(models.Model):
    """An Assurance maladie beneficiary and their INS identity traits (DMP-7)."""

    class Sex(models.TextChoices):
        MALE = "M", _("Masculin")
        FEMALE = "F", _("Féminin")

    class IdentityStatus(models.TextChoices):
        # fr-core-cs-v2-0445 (RNIV)
        PROV = "PROV", _("Identité provisoire")
        RECUP = "RECUP", _("Identité récupérée")
        VALI = "VALI", _("Identité validée")
        QUAL = "QUAL", _("Identité qualifiée")

    user = models.OneToOneField(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="beneficiary",
    )
    nir = models.CharField(
        _("NIR"), max_length=15, unique=True, validators=[validate_nir]
    )
    birth_name = models.CharField(_("nom de naissance"), max_length=100)
    first_names = models.CharField(_("prénoms de naissance"), max_length=200)
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField("date de naissance")
    birth_place_code = models.CharField(
        _("lieu de naissance (code INSEE)"),
        max_length=5,
        validators=[validate_birth_place],
    )
    usual_name = models.CharField(_("nom utilisé"), max_length=100, blank=True)
    identity_status = models.CharField(
        _("statut de l'identité"),
        max_length=5,
        choices=IdentityStatus.choices,
        default=IdentityStatus.QUAL,
    )
    email = models.EmailField(_("adresse électronique"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    address = models.CharField(_("adresse"), max_length=200, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True)
    city = models.CharField(_("commune"), max_length=100, blank=True)
    medecin_traitant = models.ForeignKey(
        Professional,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="patients_traitants",
        verbose_name=_("médecin traitant"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("bénéficiaire")

    def __str__(self) -> str:
        return f"Bénéficiaire #{self.pk}"

    @property
    def first_name(self) -> str:
        return self.first_names.split(" ")[0] if self.first_names else ""

    @property
    def display_name(self) -> str:
        return (
            f"{self.first_name.title()} {(self.usual_name or self.birth_name).upper()}"
        )

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.nir and self.sex and self.birth_date:
            try:
                validate_nir(self.nir)
            except ValidationError:
                return  # reported by the field validator
            problems = nir_identity_problems(
                self.nir, sex=self.sex, birth_date=self.birth_date
            )
            if problems:
                raise ValidationError({"nir": problems})


class LegalRepresentation(models.Model):
    """A legal representative managing a minor's space (LC-10, CONS-7)."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invitation envoyée")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Terminée")

    representative = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="represented"
    )
    minor = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="representatives"
    )
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("représentation légale")
        constraints = [
            models.UniqueConstraint(
                fields=["representative", "minor"], name="one_representation"
            ),
            models.CheckConstraint(
                condition=~Q(representative=models.F("minor")),
                name="representation_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"Représentation #{self.pk}"
