"""Forms of the personal agenda (AG-2, AG-3): French messages, every input
checked (dates, times that do not exist on a daylight-saving night, sizes)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agenda.appointment_models import DURATIONS
from agenda.appointment_selectors import professional_by_rpps
from agenda.appointment_services import TEXT_LIMITS, AppointmentData
from agenda.reminders import PARIS

RPPS_IN_TEXT = re.compile(r"\b(\d{11})\b")
DURATION_LABELS = {
    15: "15 min",
    30: "30 min",
    45: "45 min",
    60: "1 h",
    90: "1 h 30",
    120: "2 h",
    180: "3 h",
    240: "4 h",
}
DURATION_CHOICES = [(m, DURATION_LABELS[m]) for m in DURATIONS]


def paris_datetime(day: dt.date, time: dt.time) -> dt.datetime | None:
    """The aware instant of a Paris wall-clock time; None when that time
    does not exist (the night clocks go forward, 02:00–03:00). A time that
    happens twice (the night they go back) is the first one, summer time."""
    moment = dt.datetime.combine(day, time, tzinfo=PARIS)
    back = moment.astimezone(dt.UTC).astimezone(PARIS)
    if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
        return None
    return moment


class AppointmentForm(forms.Form):
    day = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Indiquez la date du rendez-vous."),
            "invalid": _("Saisissez une date valide, par exemple 24/11/2026."),
        },
    )
    time = forms.TimeField(
        label=_("Heure"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": _("Indiquez l'heure du rendez-vous."),
            "invalid": _("Saisissez une heure valide, par exemple 14:30."),
        },
    )
    duration_minutes = forms.TypedChoiceField(
        label=_("Durée"),
        choices=DURATION_CHOICES,
        coerce=int,
        initial=30,
        error_messages={"invalid_choice": _("Choisissez une durée de la liste.")},
    )
    title = forms.CharField(
        label=_("Motif (facultatif)"),
        help_text=_(
            "Par exemple « Contrôle dentaire ». Visible seulement dans votre espace."
        ),
        required=False,
        max_length=TEXT_LIMITS["title"],
    )
    professional = forms.CharField(
        label=_("Professionnel de santé (facultatif)"),
        help_text=_(
            "Son nom ou son numéro RPPS : choisissez dans la liste proposée, ou écrivez librement."
        ),
        required=False,
        max_length=TEXT_LIMITS["professional_text"],
        widget=forms.TextInput(attrs={"list": "professionals", "autocomplete": "off"}),
    )
    place = forms.CharField(
        label=_("Lieu (facultatif)"),
        required=False,
        max_length=TEXT_LIMITS["place"],
    )
    notes = forms.CharField(
        label=_("Notes (facultatif)"),
        help_text=_(
            "Chiffrées ; jamais dans les rappels, les e-mails ou le flux d'agenda."
        ),
        required=False,
        max_length=TEXT_LIMITS["notes"],
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("title", "professional", "place", "notes"):
            if "\x00" in str(data.get(name, "")):
                self.add_error(name, _("Ce texte contient un caractère invalide."))
        day, time = data.get("day"), data.get("time")
        if day is not None and time is not None:
            if not dt.date(1900, 1, 1) <= day <= dt.date(2100, 12, 31):
                self.add_error("day", _("Saisissez une date entre 1900 et 2100."))
            elif paris_datetime(day, time) is None:
                self.add_error(
                    "time",
                    _(
                        "Cette heure n'existe pas ce jour-là (passage à l'heure "
                        "d'été) : choisissez-en une autre."
                    ),
                )
        return data

    @classmethod
    def initial_for(cls, appointment: Any) -> dict[str, Any]:
        local = appointment.starts_at.astimezone(PARIS)
        professional = appointment.professional
        return {
            "day": local.date(),
            "time": local.time().replace(second=0, microsecond=0),
            "duration_minutes": appointment.duration_minutes,
            "title": appointment.title or "",
            "professional": (
                f"{professional.user.get_full_name()} — RPPS {professional.rpps}"
                if professional is not None
                else appointment.professional_text or ""
            ),
            "place": appointment.place or "",
            "notes": appointment.notes or "",
        }

    def to_data(self) -> AppointmentData:
        data = self.cleaned_data
        starts_at = paris_datetime(data["day"], data["time"])
        assert starts_at is not None  # clean() refused it
        text = " ".join(str(data.get("professional", "")).split())
        match = RPPS_IN_TEXT.search(text)
        professional = professional_by_rpps(match.group(1)) if match else None
        return AppointmentData(
            starts_at=starts_at,
            duration_minutes=int(data["duration_minutes"]),
            title=data.get("title", ""),
            professional=professional,
            professional_text="" if professional else text,
            place=data.get("place", ""),
            notes=data.get("notes", ""),
        )


class ReminderPreferenceForm(forms.Form):
    email = forms.BooleanField(label=_("Par e-mail"), required=False)
    inapp = forms.BooleanField(
        label=_("Dans mon espace (notifications)"), required=False
    )
    day_before = forms.BooleanField(
        label=_("La veille (à partir de 18 h)"), required=False
    )
    same_day = forms.BooleanField(
        label=_("Le jour même (à partir de 7 h)"), required=False
    )


class ItemReminderForm(forms.Form):
    item_code = forms.SlugField(
        max_length=64,
        error_messages={
            "required": _("Le code de l'examen recommandé manque."),
            "invalid": _("Le code de l'examen recommandé est invalide."),
            "max_length": _("Le code de l'examen recommandé est trop long."),
        },
    )
    label = forms.CharField(
        max_length=120,
        error_messages={
            "required": _("L'intitulé de l'examen recommandé manque."),
            "max_length": _("L'intitulé est trop long (120 caractères au plus)."),
        },
    )
    due_on = forms.DateField(
        error_messages={
            "required": _("La date prévue manque."),
            "invalid": _("La date prévue est invalide."),
        }
    )

    def clean_label(self) -> str:
        label = " ".join(str(self.cleaned_data["label"]).split())
        if "\x00" in label or not label:
            raise forms.ValidationError(_("L'intitulé est invalide."))
        return label

    def clean_due_on(self) -> dt.date:
        due_on: dt.date = self.cleaned_data["due_on"]
        if not dt.date(1900, 1, 1) <= due_on <= dt.date(2100, 12, 31):
            raise forms.ValidationError(_("La date prévue est invalide."))
        return due_on


class FeedSettingsForm(forms.Form):
    include_titles = forms.BooleanField(
        label=_("Afficher le motif de mes rendez-vous dans le flux"),
        help_text=_(
            "Sinon, le flux indique seulement « Rendez-vous santé ». Les notes, "
            "le lieu et le professionnel n'y figurent jamais."
        ),
        required=False,
    )


class MonthForm(forms.Form):
    mois = forms.RegexField(
        regex=r"^\d{4}-\d{2}$",
        required=False,
        error_messages={"invalid": _("Le mois demandé est invalide (format AAAA-MM).")},
    )

    def clean_mois(self) -> dt.date | None:
        value = self.cleaned_data.get("mois")
        if not value:
            return None
        year, month = (int(part) for part in value.split("-"))
        if not (1900 <= year <= 2100 and 1 <= month <= 12):
            raise forms.ValidationError(
                _("Le mois demandé est invalide (format AAAA-MM).")
            )
        return dt.date(year, month, 1)
