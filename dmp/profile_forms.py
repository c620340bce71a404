"""Forms of the medical profile pages (DMP-6): they parse input; the
services check the rules (ranges, dates, one personne de confiance…)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from dmp.models import Measure, ProfileEntry
from dmp.profile_services import MEASURES, measure_values

Section = ProfileEntry.Section


@dataclass(frozen=True)
class SectionText:
    """The words of one section's form: what the entry is called, what goes
    with it, and the meaning of its date (None: no date)."""

    slug: str  # in URLs
    label: StrOrPromise
    label_hint: StrOrPromise
    details: StrOrPromise
    date: StrOrPromise | None
    add: StrOrPromise  # the "add" link


SECTIONS: dict[str, SectionText] = {
    Section.TREATMENT: SectionText(
        "traitements",
        _("Médicament ou traitement"),
        _("Par exemple : Lévothyrox 75 µg"),
        _("Posologie, prescripteur…"),
        _("Date de début"),
        _("Ajouter un traitement"),
    ),
    Section.PROCEDURE: SectionText(
        "actes",
        _("Acte ou examen"),
        _("Par exemple : coloscopie, IRM du genou"),
        _("Lieu, résultat…"),
        _("Date"),
        _("Ajouter un acte ou un examen"),
    ),
    Section.MEDICAL_HISTORY: SectionText(
        "antecedents-medicaux",
        _("Maladie ou problème de santé"),
        _("Par exemple : asthme, hospitalisation pour pneumonie"),
        _("Précisions"),
        _("Date de début"),
        _("Ajouter un antécédent médical"),
    ),
    Section.SURGICAL_HISTORY: SectionText(
        "antecedents-chirurgicaux",
        _("Intervention chirurgicale"),
        _("Par exemple : appendicectomie"),
        _("Établissement, précisions"),
        _("Date de l'intervention"),
        _("Ajouter un antécédent chirurgical"),
    ),
    Section.FAMILY_HISTORY: SectionText(
        "antecedents-familiaux",
        _("Maladie"),
        _("Par exemple : diabète, cancer du sein"),
        _("Membre de la famille concerné (père, mère, sœur…)"),
        None,
        _("Ajouter un antécédent familial"),
    ),
    Section.ALLERGY: SectionText(
        "allergies",
        _("Allergie ou intolérance"),
        _("Par exemple : pénicilline, arachide"),
        _("Réaction observée"),
        _("Date de découverte"),
        _("Ajouter une allergie"),
    ),
    Section.VACCINATION: SectionText(
        "vaccinations",
        _("Vaccin"),
        _("Par exemple : DTP (rappel), grippe"),
        _("Dose, numéro de lot…"),
        _("Date de la vaccination"),
        _("Ajouter une vaccination"),
    ),
    Section.LIFE_CONTEXT: SectionText(
        "habitudes-de-vie",
        _("Habitude de vie"),
        _("Par exemple : tabac, activité physique, alimentation"),
        _("Précisions"),
        _("Depuis le"),
        _("Ajouter une habitude de vie"),
    ),
    Section.QUESTIONNAIRE: SectionText(
        "questionnaires",
        _("Questionnaire"),
        _("Par exemple : bilan prévention 45-50 ans"),
        _("Vos réponses"),
        _("Date"),
        _("Ajouter un questionnaire"),
    ),
    Section.DIRECTIVES: SectionText(
        "directives-anticipees",
        _("Directives anticipées"),
        _("Vos volontés sur la fin de vie, ou l'endroit où elles sont conservées"),
        _("Précisions"),
        _("Date de rédaction"),
        _("Ajouter des directives anticipées"),
    ),
    Section.TRUSTED_PERSON: SectionText(
        "personne-de-confiance",
        _("Nom et prénom"),
        _("La personne qui vous accompagne et peut être consultée (L1111-6)"),
        _("Lien, téléphone, adresse"),
        None,
        _("Désigner une personne de confiance"),
    ),
    Section.EMERGENCY_CONTACT: SectionText(
        "contacts-urgence",
        _("Nom et prénom"),
        _("La personne à prévenir en cas d'urgence"),
        _("Lien, téléphone"),
        None,
        _("Ajouter un contact"),
    ),
}
SECTION_BY_SLUG = {text.slug: section for section, text in SECTIONS.items()}

_DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_MASKED_LABEL = _("Masquer aux professionnels de santé")


class ProfileEntryForm(forms.Form):
    label = forms.CharField(max_length=200)
    details = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    entry_date = forms.DateField(required=False, widget=_DATE_WIDGET)
    masked = forms.BooleanField(required=False, label=_MASKED_LABEL)

    def __init__(self, *args: Any, section: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        text = SECTIONS[section]
        self.fields["label"].label = text.label
        self.fields["label"].help_text = text.label_hint
        self.fields["label"].error_messages["required"] = _("Renseignez ce champ.")
        self.fields["details"].label = text.details
        if text.date is None:
            del self.fields["entry_date"]
        else:
            self.fields["entry_date"].label = text.date
            self.fields["entry_date"].help_text = _("Facultatif")


class OrganDonationForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Votre choix"),
        choices=ProfileEntry.OrganDonation.choices,
        widget=forms.RadioSelect,
    )


class MeasureForm(forms.Form):
    """One measure; `kind` is fixed by the card the form sits in."""

    kind = forms.ChoiceField(choices=Measure.Kind.choices, widget=forms.HiddenInput)
    measured_on = forms.DateField(
        label=_("Date de la mesure"),
        widget=_DATE_WIDGET,
        error_messages={"required": _("Renseignez la date de la mesure.")},
    )
    value = forms.CharField(
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"required": _("Renseignez la valeur.")},
    )
    value2 = forms.CharField(
        required=False,
        max_length=12,
        label=_("Pression diastolique (mmHg)"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    masked = forms.BooleanField(required=False, label=_MASKED_LABEL)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.measure_kind = kind
        self.fields["kind"].initial = kind
        self.auto_id = f"id_{kind}_%s"
        unit = MEASURES[kind].unit
        if kind == Measure.Kind.BLOOD_PRESSURE:
            self.fields["value"].label = _("Pression systolique (mmHg)")
        else:
            self.fields["value"].label = f"{Measure.Kind(kind).label} ({unit})"
            del self.fields["value2"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "value" in data and data.get("kind") == self.measure_kind:
            try:
                measure_values(self.measure_kind, data["value"], data.get("value2"))
            except ValidationError as error:
                self.add_error("value2" if error.code == "value2" else "value", error)
        elif "kind" in data and data["kind"] != self.measure_kind:
            raise ValidationError(_("Mesure inconnue."))
        return data
