"""The preventive calendar (AG-1, AG-2).

- `Recommendation`: one version of one rule of the calendars (vaccinations,
  child exams, dental check-ups, prevention check-ups, cancer screenings),
  as data with its source and effective dates. Not health data: agents add
  and retire versions in the back office (agenda/admin.py).
- `DoneMark`: a person marked an item of their calendar done (AG-2). Health
  data: the free text (who did it) is encrypted at rest; reads and writes go
  through `consent.policy` (agenda/selectors.py, agenda/services.py).

Nothing else is stored per person: calendars are computed (agenda/calendar.py).
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from agenda import calendar
from espace.models import Beneficiary, User
from lib.fields import EncryptedTextField

AGE_HELP = _(
    "Nombre suivi de l'unité : 8d (jours), 2w (semaines), 3m (mois), 65y (ans)."
)


class Recommendation(models.Model):
    """AG-1: one version of a calendar rule (see agenda/calendar.py for how
    versions apply). A rule's versions share its code; each has effective
    dates, and they may not overlap."""

    class Category(models.TextChoices):
        VACCINATION = "vaccination", _("Vaccination")
        CHILD_EXAM = "child_exam", _("Examen de santé de l'enfant")
        DENTAL = "dental", _("Examen bucco-dentaire")
        PREVENTION = "prevention", _("Bilan prévention")
        SCREENING = "screening", _("Dépistage organisé du cancer")

    class Frequency(models.TextChoices):
        ONCE = calendar.Frequency.ONCE.value, _("Une fois")
        EVERY = calendar.Frequency.EVERY.value, _("Périodique (tous les…)")
        SERIES = calendar.Frequency.SERIES.value, _("Série de doses")

    class Sex(models.TextChoices):
        ANY = "", _("Tous")
        FEMALE = "F", _("Femmes")
        MALE = "M", _("Hommes")

    code = models.CharField(
        _("code"),
        max_length=40,
        validators=[
            RegexValidator(
                r"^[A-Z0-9]+(-[A-Z0-9]+)*$",
                _("Majuscules, chiffres et tirets (ex. VAC-HEXA-1)."),
            )
        ],
        help_text=_("Stable d'une version à l'autre (ex. VAC-HEXA-1)."),
    )
    label = models.CharField(_("libellé"), max_length=200)
    category = models.CharField(_("catégorie"), max_length=16, choices=Category.choices)
    group = models.CharField(
        _("vaccin (carnet de vaccination)"), max_length=120, blank=True
    )
    dose = models.PositiveSmallIntegerField(_("dose"), null=True, blank=True)
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices, blank=True)
    condition = models.SlugField(
        _("condition"),
        max_length=40,
        blank=True,
        help_text=_("Seulement pour les personnes signalées ainsi (ex. grossesse)."),
    )
    born_from = models.DateField(_("nés à partir du"), null=True, blank=True)
    born_until = models.DateField(_("nés jusqu'au"), null=True, blank=True)
    age_start = models.CharField(
        _("à partir de l'âge"), max_length=8, help_text=AGE_HELP
    )
    age_end = models.CharField(
        _("jusqu'à la veille de l'âge"),
        max_length=8,
        blank=True,
        help_text=AGE_HELP + " " + _("Vide : sans limite."),
    )
    frequency = models.CharField(
        _("fréquence"),
        max_length=8,
        choices=Frequency.choices,
        default=Frequency.ONCE,
    )
    every = models.CharField(
        _("tous les"), max_length=8, blank=True, help_text=AGE_HELP
    )
    duration = models.CharField(
        _("durée de chaque occurrence"),
        max_length=8,
        blank=True,
        help_text=_("Vide : la période (« tous les »)."),
    )
    series = models.JSONField(
        _("doses (mois après la 1re)"),
        default=list,
        blank=True,
        help_text=_("Série : liste de mois, ex. [0, 6]."),
    )
    catch_up_of = models.CharField(
        _("rattrapage du vaccin"),
        max_length=120,
        blank=True,
        help_text=_("Non dû si ce vaccin a été fait (nom du vaccin)."),
    )
    mandatory = models.BooleanField(_("obligatoire"), default=False)
    source_text = models.TextField(_("source"))
    source_url = models.URLField(_("adresse de la source"), max_length=300, blank=True)
    valid_from = models.DateField(_("en vigueur à partir du"))
    valid_until = models.DateField(_("en vigueur jusqu'au"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("recommandation du calendrier de prévention")
        verbose_name_plural = _("recommandations du calendrier de prévention")
        ordering = ("category", "code", "valid_from")
        constraints = [
            models.UniqueConstraint(
                fields=["code", "valid_from"], name="agenda_rec_code_version"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="agenda_rec_valid_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.valid_from:%d/%m/%Y})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for name in ("age_start", "age_end", "every", "duration"):
            value = getattr(self, name)
            if value:
                try:
                    calendar.parse_age(value)
                except ValueError:
                    errors[name] = str(
                        _("Âge ou durée invalide : un nombre puis d, w, m ou y.")
                    )
        if self.frequency == self.Frequency.EVERY and not self.every:
            errors["every"] = str(_("Indiquez la période (ex. 1y)."))
        if self.frequency == self.Frequency.SERIES and not (
            isinstance(self.series, list)
            and self.series
            and all(isinstance(n, int) and n >= 0 for n in self.series)
            and self.series == sorted(self.series)
        ):
            errors["series"] = str(
                _("Indiquez les doses en mois, dans l'ordre, ex. [0, 6].")
            )
        if self.born_from and self.born_until and self.born_until < self.born_from:
            errors["born_until"] = str(_("Cette date précède « nés à partir du »."))
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            errors["valid_until"] = str(
                _("La fin de validité précède le début de validité.")
            )
        if errors:
            raise ValidationError(errors)
        rule = self.as_rule()
        if rule.end is not None and calendar.add_age(
            calendar.FAR.replace(year=2000), rule.end
        ) <= calendar.add_age(calendar.FAR.replace(year=2000), rule.start):
            raise ValidationError(
                {"age_end": _("L'âge de fin doit suivre l'âge de début.")}
            )

    def as_rule(self) -> calendar.Rule:
        """The plain rule the pure computation uses."""
        return calendar.Rule(
            code=self.code,
            label=self.label,
            category=self.category,
            start=calendar.parse_age(self.age_start),
            end=calendar.parse_age(self.age_end) if self.age_end else None,
            frequency=calendar.Frequency(self.frequency),
            every=calendar.parse_age(self.every) if self.every else None,
            duration=calendar.parse_age(self.duration) if self.duration else None,
            series=tuple(self.series or ()),
            group=self.group,
            dose=self.dose,
            catch_up_of=self.catch_up_of,
            sex=self.sex,
            condition=self.condition,
            born_from=self.born_from,
            born_until=self.born_until,
            mandatory=self.mandatory,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            source_text=self.source_text,
            source_url=self.source_url,
        )


class DoneMark(models.Model):
    """AG-2: an item of a person's calendar marked done, on a date, maybe
    with who did it (free text, encrypted) and one of the person's DMP
    documents (a vaccination note, say)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        Beneficiary, on_delete=models.PROTECT, related_name="agenda_marks"
    )
    item_key = models.CharField(max_length=80)  # agenda.calendar.Item.key
    done_on = models.DateField(_("fait le"))
    performer = EncryptedTextField(_("fait par"), blank=True, default="")
    document = models.ForeignKey(
        "dmp.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    marked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "item_key"], name="agenda_mark_one_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_key} ({self.pk})"  # ids only, never the free text

    def as_done(self) -> calendar.Done:
        return calendar.Done(
            key=self.item_key,
            done_on=self.done_on,
            performer=self.performer or "",
            document_id=self.document_id,
            mark_id=self.pk,
        )


# AG-2, AG-3: appointments, reminders and the feed (their own module)
from agenda.appointment_models import *  # noqa: E402, F403
