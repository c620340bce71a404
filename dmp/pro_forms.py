"""Forms of the professional portal: patient search, care declaration,
document list filters, deposits and emergency access (CONS-1, CONS-6,
DMP-4, DMP-9, DMP-10)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.models import CLASS_CODES, CareRelationship, EmergencyAccess
from consent.services import REASON_MAX, REASON_MIN
from dmp import codes
from dmp.pro_selectors import Traits
from dmp.selectors import DocumentFilters
from espace.forms import french_date_field
from espace.models import Beneficiary
from lib.identifiers import compact_nir, validate_nir

_TEXT = {"autocomplete": "off", "spellcheck": "false"}


class _ChoicesForm(forms.Form):
    def _field(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field


class NirSearchForm(forms.Form):
    nir = forms.CharField(
        label=_("NIR du patient (matricule INS)"),
        help_text=_("15 caractères, espaces acceptés"),
        max_length=21,
        widget=forms.TextInput(attrs=_TEXT),
        error_messages={"required": _("Saisissez le NIR du patient.")},
    )
    birth_date = french_date_field(_("Date de naissance"))

    def clean_nir(self) -> str:
        nir = compact_nir(str(self.cleaned_data["nir"])).upper()
        validate_nir(nir)
        return nir


class TraitsSearchForm(forms.Form):
    """The INS traits (reference §1.2): birth name, first birth first name,
    birth date, sex."""

    birth_name = forms.CharField(
        label=_("Nom de naissance"),
        max_length=100,
        widget=forms.TextInput(attrs=_TEXT),
        error_messages={"required": _("Saisissez le nom de naissance.")},
    )
    first_name = forms.CharField(
        label=_("Premier prénom de naissance"),
        max_length=100,
        widget=forms.TextInput(attrs=_TEXT),
        error_messages={"required": _("Saisissez le premier prénom.")},
    )
    birth_date = french_date_field(_("Date de naissance"))
    sex = forms.ChoiceField(
        label=_("Sexe"),
        choices=Beneficiary.Sex.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Indiquez le sexe du patient.")},
    )

    def traits(self) -> Traits:
        data = self.cleaned_data
        return Traits(
            birth_name=data["birth_name"],
            first_name=data["first_name"],
            birth_date=data["birth_date"],
            sex=data["sex"],
        )


class CareDeclareForm(forms.Form):
    """CONS-1: the consent collected at the consultation, or membership of the
    care team, each one attested."""

    kind = forms.ChoiceField(choices=CareRelationship.Kind.choices)
    attestation = forms.BooleanField(required=False)

    ATTESTATIONS = {
        CareRelationship.Kind.CONSENT: _(
            "J'atteste que le patient, informé, a consenti à ce que j'accède à "
            "son dossier."
        ),
        CareRelationship.Kind.CARE_TEAM: _(
            "J'atteste faire partie de l'équipe de soins qui prend en charge ce "
            "patient."
        ),
    }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") and not data.get("attestation"):
            self.add_error(
                "attestation", _("Cochez l'attestation pour accéder au dossier.")
            )
        return data


class DocumentFilterForm(_ChoicesForm):
    """The professional's list: a category (among the classes the matrix
    opens to them) and a period."""

    category = forms.ChoiceField(label=_("Catégorie"), required=False)
    since = french_date_field(_("Du"))
    until = french_date_field(_("Au"))

    def __init__(self, *args: Any, classes: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._field("category").choices = [
            ("", _("Toutes")),
            *((c, CLASS_CODES[c]) for c in sorted(classes)),
        ]
        self.fields["since"].required = False
        self.fields["until"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("La date de fin précède la date de début."))
        return data

    def filters(self) -> DocumentFilters:
        """What the list is narrowed to (nothing when the form is invalid)."""
        if not self.is_bound or not self.is_valid():
            return DocumentFilters()
        data = self.cleaned_data
        return DocumentFilters(
            class_code=data["category"], since=data["since"], until=data["until"]
        )


def grouped_types(only: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """PROFESSIONAL_TYPES grouped by class (J57), French labels (DMP-4)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, (label, class_code) in codes.PROFESSIONAL_TYPES.items():
        if not only or code == only:
            groups.setdefault(class_code, []).append((code, label))
    return [(CLASS_CODES[c], groups[c]) for c in sorted(groups)]


class DepositForm(_ChoicesForm):
    """DMP-4: a document from the reference list, with the J58 flags a
    professional may set (DMP-9; DMP-10 for a minor only)."""

    type_code = forms.ChoiceField(
        label=_("Type de document"),
        error_messages={
            "required": _("Choisissez le type de document."),
            "invalid_choice": _("Choisissez un type de document de la liste."),
        },
    )
    title = forms.CharField(
        label=_("Titre"),
        max_length=200,
        error_messages={"required": _("Donnez un titre au document.")},
    )
    document_date = french_date_field(_("Date du document"))
    file = forms.FileField(
        label=_("Fichier"),
        help_text=_("PDF, JPEG, PNG, TIFF, RTF ou texte"),
        error_messages={
            "required": _("Choisissez le fichier à déposer."),
            "empty": _("Le fichier est vide."),
            "invalid": _("Le fichier n'a pas pu être lu : déposez-le à nouveau."),
        },
    )
    invisible_patient = forms.BooleanField(
        label=_(
            "Résultat nécessitant une consultation d'annonce (non visible par "
            "le patient)"
        ),
        help_text=_(
            "Sans consultation d'annonce, le patient est prévenu au bout de 2 "
            "semaines et le document lui devient visible au bout d'un mois."
        ),
        required=False,
    )
    invisible_representatives = forms.BooleanField(
        label=_("Secret du mineur : non visible par les représentants légaux"),
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        minor: bool,
        only_type: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._field("type_code").choices = [
            ("", _("Sélectionnez un type")),
            *grouped_types(only_type),
        ]
        date = self.fields["document_date"]
        date.error_messages["required"] = _("Saisissez la date du document.")
        date.initial = timezone.localdate
        date.widget.format = "%d/%m/%Y"
        if only_type:
            self.fields["type_code"].initial = only_type
        if not minor:
            del self.fields["invisible_representatives"]

    def clean_document_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["document_date"]
        if day > timezone.localdate():
            raise ValidationError(_("La date du document est dans le futur."))
        return day


class EmergencyForm(_ChoicesForm):
    """CONS-6: the emergency mode and its written reason."""

    mode = forms.ChoiceField(
        label=_("Situation"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez le type d'accès en urgence.")},
    )
    reason = forms.CharField(
        label=_("Motif de l'accès en urgence"),
        help_text=_("De %(min)s à %(max)s caractères")
        % {"min": REASON_MIN, "max": REASON_MAX},
        min_length=REASON_MIN,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Décrivez la situation d'urgence."),
            "min_length": _(
                "Décrivez la situation d'urgence (%(limit_value)s caractères au moins)."
            ),
            "max_length": _("Le motif dépasse %(limit_value)s caractères."),
        },
    )

    LABELS = {
        EmergencyAccess.Mode.BRIS_DE_GLACE: _(
            "Bris de glace : le patient ne peut pas exprimer sa volonté et sa "
            "santé est exposée à un risque immédiat"
        ),
        EmergencyAccess.Mode.SAMU: _(
            "Régulation SAMU-Centre 15 : je suis le médecin régulateur qui "
            "reçoit l'appel concernant ce patient"
        ),
    }

    def __init__(self, *args: Any, regulator: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        modes = [EmergencyAccess.Mode.BRIS_DE_GLACE]
        if regulator:
            modes.append(EmergencyAccess.Mode.SAMU)
        self._field("mode").choices = [(m.value, self.LABELS[m]) for m in modes]
        if len(modes) == 1:
            self.fields["mode"].initial = modes[0].value
