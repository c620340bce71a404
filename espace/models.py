from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lib.identifiers import (
    compact_nir,
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
    # Unique through Meta.constraints: unique=True would add, on PostgreSQL, a
    # second (LIKE-pattern) index that exact lookups never use but every
    # insert pays for (imports of millions of rows, SPEC §10).
    nir = models.CharField(_("NIR"), max_length=15, validators=[validate_nir])
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
    # Carte Vitale serial number: an identity proof for activation, opposition
    # and new codes (LC-3, LC-4, LC-6). Its format is not public: kept as given.
    vitale_serial = models.CharField(
        _("numéro de série de la carte Vitale"), max_length=20, blank=True
    )
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
        constraints = [
            models.UniqueConstraint(fields=["nir"], name="beneficiary_nir_unique"),
        ]

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

        self.nir = compact_nir(self.nir).upper()
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
        REFUSED = "refused", _("Invitation refusée")

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


class Space(models.Model):
    """A beneficiary's health space and its lifecycle (SPEC §2, LC-1…LC-12).

    Transitions go through `espace.services.space_*` only: conditional updates
    on `state`, a dated history row and an audit entry each.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("À informer")
        INFORMED = "informed", _("Informé")
        OPPOSED = "opposed", _("Opposé")
        ACTIVATED = "activated", _("Activé")
        AUTO_OPENED = "auto_opened", _("Ouvert automatiquement")
        SUSPENDED = "suspended", _("Suspendu")
        CLOSED = "closed", _("Fermé")
        PURGED = "purged", _("Supprimé")

    OPEN_STATES = (State.ACTIVATED, State.AUTO_OPENED)

    beneficiary = models.OneToOneField(
        Beneficiary, on_delete=models.PROTECT, related_name="space"
    )
    state = models.CharField(
        _("état"), max_length=12, choices=State.choices, default=State.PENDING
    )
    # LC-2: when the information was sent; the 6-week clock starts here (LC-4, LC-5).
    informed_at = models.DateTimeField(
        _("information envoyée le"), null=True, blank=True
    )
    opposition_until = models.DateTimeField(
        _("opposition possible jusqu'au"), null=True, blank=True
    )
    opened_at = models.DateTimeField(_("ouvert le"), null=True, blank=True)
    dmp_created_at = models.DateTimeField(_("DMP créé le"), null=True, blank=True)
    # LC-9: where a suspended space goes back to, and when it closes by itself.
    suspended_from = models.CharField(max_length=12, choices=State.choices, blank=True)
    suspension_ends_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("fermé le"), null=True, blank=True)
    # LC-8: archive 10 years after closure, or within 3 months of an early
    # deletion request.
    purge_after = models.DateTimeField(
        _("suppression prévue après"), null=True, blank=True
    )
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    # LC-11: a DMP created before January 2022 is integrated unless opposed.
    legacy_dmp = models.BooleanField(_("DMP antérieur à 2022"), default=False)
    legacy_dmp_integrated_at = models.DateTimeField(null=True, blank=True)
    # LC-11: former opposers are asked once to confirm; a new opposition then
    # closes the old DMP for good.
    legacy_confirmation_at = models.DateTimeField(null=True, blank=True)
    legacy_dmp_closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("espace santé")
        verbose_name_plural = _("espaces santé")
        indexes = [
            # Hot queries of the periodic jobs (set-based, SPEC §10).
            models.Index(fields=["state", "informed_at"], name="space_state_informed"),
            models.Index(
                fields=["state", "opposition_until"], name="space_state_opposition"
            ),
            models.Index(
                fields=["state", "suspension_ends_at"], name="space_state_suspension"
            ),
            models.Index(fields=["state", "purge_after"], name="space_state_purge"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="informed")
                | Q(informed_at__isnull=False, opposition_until__isnull=False),
                name="space_informed_has_dates",
            ),
            models.CheckConstraint(
                condition=~Q(state="suspended") | Q(suspension_ends_at__isnull=False),
                name="space_suspended_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"Espace #{self.pk} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class SpaceHistory(models.Model):
    """One dated row per transition: who, when, through which channel (SPEC §2)."""

    class Channel(models.TextChoices):
        WEB = "web", _("En ligne")
        PHONE = "phone", _("Téléphone (3422)")
        BATCH = "batch", _("Traitement automatique")

    # Indexed by (space, at) below; no separate index on either column (a
    # batch job writes a million rows: every index costs).
    space = models.ForeignKey(
        Space, on_delete=models.CASCADE, related_name="history", db_index=False
    )
    from_state = models.CharField(max_length=12, choices=Space.State.choices)
    to_state = models.CharField(max_length=12, choices=Space.State.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A code, never free text: "lc5.auto_open", "lc9.fraud", …
    reason = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("historique d'espace")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["space", "at"], name="space_history_space_at")]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class ImportBatch(models.Model):
    """One Assurance maladie beneficiary file and its line-by-line report (LC-1)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Illisible")

    file_name = models.CharField(_("fichier"), max_length=255)
    uploaded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    imported = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # [{"line": 12, "reason": "…"}] — line numbers and reasons, never identities.
    report = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("import de bénéficiaires")
        verbose_name_plural = _("imports de bénéficiaires")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"


class ProvisionalCode(models.Model):
    """A provisional code (LC-3): stored only as a keyed hash, valid 6 weeks
    from sending, single use, locked after 5 wrong tries."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        LETTER = "letter", _("Courrier")

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)  # unique: see Meta
    channel = models.CharField(max_length=6, choices=Channel.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("code provisoire")
        indexes = [
            models.Index(fields=["space", "created_at"], name="code_space_created")
        ]
        constraints = [
            models.UniqueConstraint(fields=["code_hash"], name="code_hash_unique"),
        ]

    def __str__(self) -> str:
        return f"Code #{self.pk}"


class PrintBatch(models.Model):
    """One PDF of many letters for the printer (LC-2, batch mode).

    Exactly-once publication (SEC-6): letters are claimed into a RENDERING
    batch, the PDF is written to storage, then one transaction turns the batch
    READY and its letters SENT. Only READY batches are shown to agents and
    copied to the printer's folder (the outbox). A worker killed while
    rendering leaves a RENDERING batch that the sweep ABANDONS, its letters
    going back to the queue for another batch: no letter is printed twice.
    """

    class Status(models.TextChoices):
        RENDERING = "rendering", _("En préparation")
        READY = "ready", _("Prêt à imprimer")
        ABANDONED = "abandoned", _("Abandonné (relancé dans un autre lot)")

    status = models.CharField(
        max_length=9, choices=Status.choices, default=Status.RENDERING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    # Copied to the printer's folder (idempotent: a fixed name per batch).
    published_at = models.DateTimeField(null=True, blank=True)
    letters = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    # The PDF in the (encrypted) default storage: names, addresses and codes.
    file = models.CharField(max_length=255, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    last_download_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lot de courriers")
        verbose_name_plural = _("lots de courriers")
        indexes = [
            models.Index(fields=["status", "created_at"], name="print_batch_state")
        ]

    def __str__(self) -> str:
        return f"Lot de courriers n° {self.pk}"


class Notification(models.Model):
    """The outbox of messages to a beneficiary (LC-2, LC-12): e-mail, SMS,
    postal letter or in-app. Never any health content: a kind and a link.

    `key` makes each notification unique (one per space and event), so that
    a job run twice, or a worker killed and restarted, sends nothing twice.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        LETTER = "letter", _("Courrier")
        INAPP = "inapp", _("Dans l'espace")

    class Status(models.TextChoices):
        PENDING = "pending", _("À envoyer")
        SENDING = "sending", _("Envoi en cours")
        SENT = "sent", _("Envoyé")
        FAILED = "failed", _("Échec")

    # Indexed by (beneficiary, created_at) below.
    beneficiary = models.ForeignKey(
        Beneficiary,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    kind = models.CharField(max_length=48)
    key = models.CharField(max_length=96)  # unique: see Meta
    channel = models.CharField(max_length=6, choices=Channel.choices)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    read_at = models.DateTimeField(null=True, blank=True)
    # Letters in batch mode: the batch they were claimed into (PrintBatch).
    print_batch = models.ForeignKey(
        PrintBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )

    class Meta:
        verbose_name = _("notification")
        indexes = [
            models.Index(
                fields=["status", "channel", "created_at"], name="notification_queue"
            ),
            models.Index(
                fields=["beneficiary", "created_at"], name="notification_inbox"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="notification_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.channel}, {self.status})"
