"""Personal appointments, reminders and calendar feeds (AG-2, AG-3).

Kept apart from the preventive calendar's models (AG-1, `agenda/models.py`)
and imported at the end of it. What a person writes about an appointment
(its title, the professional as typed, the place, the notes) is health data:
encrypted at rest, each value bound to its row (lib.fields), hence UUID keys.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from espace.models import Beneficiary, Professional, User
from lib.fields import EncryptedTextField

__all__ = [
    "Appointment",
    "CalendarFeed",
    "ItemReminder",
    "ReminderPreference",
    "ReminderSent",
]

DURATIONS = (15, 30, 45, 60, 90, 120, 180, 240)


class Appointment(models.Model):
    """AG-2: an appointment of a beneficiary (the holder or a child), kept
    when cancelled (shown as such). Times are aware (stored in UTC, entered
    and shown in Europe/Paris)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Prévu")
        CANCELLED = "cancelled", _("Annulé")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="appointments"
    )
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    title = EncryptedTextField(null=True, blank=True)
    professional = models.ForeignKey(
        Professional,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    professional_text = EncryptedTextField(null=True, blank=True)
    place = EncryptedTextField(null=True, blank=True)
    notes = EncryptedTextField(null=True, blank=True)
    status = models.CharField(
        max_length=9, choices=Status.choices, default=Status.SCHEDULED
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rendez-vous")
        verbose_name_plural = _("rendez-vous")
        indexes = [
            models.Index(
                fields=["beneficiary", "starts_at"], name="appointment_by_profile"
            ),
            # The reminder job's range scan (AG-2): scheduled ones by start.
            models.Index(
                fields=["starts_at"],
                name="appointment_due",
                condition=Q(status="scheduled"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=1440),
                name="appointment_duration_range",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="cancelled", cancelled_at__isnull=False)
                    | Q(status="scheduled", cancelled_at__isnull=True)
                ),
                name="appointment_cancelled_at_iff_cancelled",
            ),
        ]

    def __str__(self) -> str:
        return f"Rendez-vous {self.pk}"  # never its title (health data)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def is_cancellable(self) -> bool:
        return not self.is_cancelled

    @property
    def is_past(self) -> bool:
        return self.starts_at < timezone.now()


class ItemReminder(models.Model):
    """AG-2: a recommended item of the preventive calendar (AG-1) the user
    chose to be reminded of, on its due date. The label names a vaccine or
    an exam: health data, encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="item_reminders"
    )
    item_code = models.SlugField(max_length=64)
    label = EncryptedTextField()
    due_on = models.DateField()
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rappel d'examen recommandé")
        indexes = [models.Index(fields=["due_on"], name="item_reminder_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["beneficiary", "item_code", "due_on"],
                name="item_reminder_unique",
            )
        ]

    def __str__(self) -> str:
        return f"Rappel {self.pk}"


class ReminderPreference(models.Model):
    """AG-2: how an account wants its reminders (no row: the defaults, all
    on). They apply to the reminders of every profile the account manages."""

    user = models.OneToOneField(
        User,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="reminder_preference",
    )
    email = models.BooleanField(default=True)
    inapp = models.BooleanField(default=True)
    day_before = models.BooleanField(default=True)
    same_day = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("préférence de rappel")

    def __str__(self) -> str:
        return f"Rappels du compte {self.user_id}"


class ReminderSent(models.Model):
    """AG-2: the marker of one reminder handled, per (object, kind): the
    unique constraint is what makes the job send each reminder once, after
    a crash or a second run (INSERT … ON CONFLICT DO NOTHING)."""

    class Source(models.TextChoices):
        APPOINTMENT = "appointment", _("Rendez-vous")
        ITEM = "item", _("Examen recommandé")

    class Kind(models.TextChoices):
        DAY_BEFORE = "day_before", _("La veille")
        SAME_DAY = "same_day", _("Le jour même")

    id = models.BigAutoField(primary_key=True)
    source = models.CharField(max_length=11, choices=Source.choices)
    object_id = models.UUIDField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("rappel envoyé")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "object_id", "kind"], name="reminder_sent_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.object_id} {self.kind}"


class CalendarFeed(models.Model):
    """AG-3: the private iCalendar feed of one profile for one account. The
    address carries a random token; only its SHA-256 is stored, so the
    address is shown once, when created or regenerated (a new one replaces
    it: the old address then answers 404)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    include_titles = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("flux d'agenda")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "beneficiary"], name="calendar_feed_one_per_profile"
            )
        ]

    def __str__(self) -> str:
        return f"Flux {self.pk}"
