"""Assurance maladie prevention campaigns (MSG-4, MSG-5, CONS-9, A8.4).

A campaign is written once by an agent (its body stored once, encrypted);
the send job writes one `CampaignDelivery` row per targeted beneficiary, no
content in it, unique per (campaign, beneficiary): a job killed midway and
run again writes nothing twice. Agents see the campaign and its counters,
never a delivery (who got what) nor any conversation.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from espace.models import Beneficiary, User
from lib.fields import EncryptedTextField

__all__ = ["Campaign", "CampaignCriterion", "CampaignDelivery"]

AGE_MAX = 120
MINOR_AGE_MAX = 17


class Campaign(models.Model):
    """MSG-4: a prevention message, its targeting and its sending state.

    draft → scheduled → sending → sent; draft or scheduled → cancelled.
    Only a scheduled campaign whose date has come is sent (campaign_jobs).
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        SCHEDULED = "scheduled", _("Programmée")
        SENDING = "sending", _("Envoi en cours")
        SENT = "sent", _("Envoyée")
        CANCELLED = "cancelled", _("Annulée")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(_("titre"), max_length=160)
    body = EncryptedTextField(_("message"))
    reason = models.CharField(
        _("motif montré au patient"),
        max_length=300,
        help_text=_(
            "Complète « Vous recevez ce message car… », par exemple : « vous avez "
            "entre 45 et 50 ans »."
        ),
    )
    age_min = models.PositiveSmallIntegerField(
        _("âge minimum (inclus)"), null=True, blank=True
    )
    age_max = models.PositiveSmallIntegerField(
        _("âge maximum (inclus)"), null=True, blank=True
    )
    sex = models.CharField(
        _("sexe"),
        max_length=1,
        choices=Beneficiary.Sex.choices,
        blank=True,
        help_text=_("Laisser vide pour tous."),
    )
    send_at = models.DateTimeField(
        _("date d'envoi"),
        help_text=_("Les âges sont calculés à cette date."),
    )
    state = models.CharField(
        _("état"), max_length=9, choices=State.choices, default=State.DRAFT
    )
    created_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("créée par"),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    scheduled_at = models.DateTimeField(_("programmée le"), null=True, blank=True)
    started_at = models.DateTimeField(_("envoi commencé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("envoi terminé le"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True)
    # The send job's progress (SEC-6): beneficiaries are taken by id range;
    # `upto` is the last id at the start of sending, the cursors the last id
    # written and notified. Each moves in the transaction of its batch.
    upto = models.BigIntegerField(default=0)
    write_cursor = models.BigIntegerField(default=0)
    notify_cursor = models.BigIntegerField(default=0)
    # MSG-5: what agents see. Kept in the batches' transactions, so exact.
    targeted_count = models.PositiveIntegerField(_("ciblés"), default=0)
    delivered_count = models.PositiveIntegerField(_("envoyés"), default=0)
    read_count = models.PositiveIntegerField(_("lus"), default=0)
    withheld_count = models.PositiveIntegerField(_("refus (CONS-9)"), default=0)

    class Meta:
        verbose_name = _("campagne de prévention")
        verbose_name_plural = _("campagnes de prévention")
        ordering = ["-send_at"]
        indexes = [models.Index(fields=["state", "send_at"], name="campaign_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(age_min__isnull=True)
                | Q(age_max__isnull=True)
                | Q(age_min__lte=F("age_max")),
                name="campaign_age_range",
            ),
            models.CheckConstraint(
                condition=Q(age_max__isnull=True) | Q(age_max__lte=AGE_MAX),
                name="campaign_age_max",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if (
            self.age_min is not None
            and self.age_max is not None
            and self.age_min > self.age_max
        ):
            raise ValidationError(
                {"age_max": _("L'âge maximum doit être supérieur ou égal au minimum.")}
            )
        for name in ("age_min", "age_max"):
            value = getattr(self, name)
            if value is not None and value > AGE_MAX:
                raise ValidationError({name: _("Un âge va de 0 à 120 ans.")})

    @property
    def is_editable(self) -> bool:
        return self.state == self.State.DRAFT


class CampaignCriterion(models.Model):
    """MSG-4: one profile criterion of a campaign, kept as data. Every
    criterion must hold (AND). Each kind has its SQL in
    `campaign_selectors.CRITERIA`: a new kind (the agenda's "due for a
    check-up", say) is a new choice here and a new entry there."""

    class Kind(models.TextChoices):
        CHILD_AGED = "child_aged", _("A un enfant dont l'âge est compris entre…")
        ACTIVATED = "activated", _("A activé lui-même son profil")
        AGENDA_DUE = (
            "agenda_due",
            _("Est dans l'âge d'une recommandation de l'agenda, non marquée faite"),
        )

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="criteria"
    )
    kind = models.CharField(_("critère"), max_length=16, choices=Kind.choices)
    min_age = models.PositiveSmallIntegerField(
        _("âge minimum (inclus)"), null=True, blank=True
    )
    max_age = models.PositiveSmallIntegerField(
        _("âge maximum (inclus)"), null=True, blank=True
    )
    # AGENDA_DUE: the code of a one-time recommendation of the preventive
    # calendar (agenda.Recommendation, AG-1), e.g. BILAN-45-50
    recommendation = models.CharField(
        _("recommandation de l'agenda (code)"), max_length=40, blank=True
    )

    class Meta:
        verbose_name = _("critère de ciblage")
        verbose_name_plural = _("critères de ciblage")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="child_aged")
                | Q(
                    min_age__isnull=False,
                    max_age__isnull=False,
                    min_age__lte=F("max_age"),
                    max_age__lte=MINOR_AGE_MAX,
                ),
                name="criterion_child_ages",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.CHILD_AGED:
            return f"A un enfant de {self.min_age} à {self.max_age} ans"
        if self.kind == self.Kind.AGENDA_DUE:
            return f"Dans l'âge de {self.recommendation}, non fait"
        return str(self.get_kind_display())

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.kind == self.Kind.CHILD_AGED:
            if self.min_age is None or self.max_age is None:
                raise ValidationError(
                    _("Indiquez l'âge minimum et l'âge maximum de l'enfant.")
                )
            if self.min_age > self.max_age:
                raise ValidationError(
                    _("L'âge maximum doit être supérieur ou égal au minimum.")
                )
            if self.max_age > MINOR_AGE_MAX:
                raise ValidationError(_("Un enfant représenté a 17 ans au plus."))
        elif self.min_age is not None or self.max_age is not None:
            raise ValidationError(_("Ce critère ne prend pas d'âge."))
        if self.kind == self.Kind.AGENDA_DUE:
            from agenda.models import Recommendation

            once = Recommendation.objects.filter(
                code=self.recommendation, frequency=Recommendation.Frequency.ONCE
            )
            if not self.recommendation or not once.exists():
                raise ValidationError(
                    _(
                        "Indiquez le code d'une recommandation de l'agenda à faire "
                        "une fois (ex. BILAN-45-50)."
                    )
                )
        elif self.recommendation:
            raise ValidationError(_("Ce critère ne prend pas de recommandation."))


class CampaignDelivery(models.Model):
    """One prevention message to one beneficiary (MSG-4): no content (the
    body is the campaign's), unique per (campaign, beneficiary).

    PENDING: written, not yet notified (not shown). DELIVERED: notified and
    shown. WITHHELD: the beneficiary refused prevention messages (CONS-9)
    before it was written or notified: never shown, never notified.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("À notifier")
        DELIVERED = "delivered", _("Envoyé")
        WITHHELD = "withheld", _("Non envoyé (refus CONS-9)")

    pk = models.CompositePrimaryKey("beneficiary_id", "campaign_id")
    # No database constraints on these two keys (MSG-4 at scale): checking
    # them would take a row lock on the campaign and on the beneficiary once
    # per message written (millions of times: two thirds of the write
    # phase's time). The job writes only ids it selects from the
    # beneficiaries in the same statement, under the campaign row's lock;
    # campaigns are cancelled, never deleted, and Django still cascades the
    # deletion of either (on_delete).
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        db_constraint=False,
    )
    beneficiary = models.ForeignKey(
        Beneficiary,
        on_delete=models.CASCADE,
        related_name="prevention_messages",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(max_length=9, choices=Status.choices)
    created_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message de prévention")
        verbose_name_plural = _("messages de prévention")
        # One index only (a campaign writes millions of rows): the primary
        # key (beneficiary, campaign) serves the patient's list and the
        # job's beneficiary-id range scans alike.

    def __str__(self) -> str:
        return f"Message de prévention {self.campaign_id}/{self.beneficiary_id}"
