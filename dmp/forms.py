"""Forms of the patient's documents pages (DMP-2, DMP-5, DMP-8): they parse
input only; the rules (types, sizes, folders, rights) live in the services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import CLASS_CODES
from dmp.codes import PATIENT_TYPES
from dmp.selectors import DocumentFilters
from espace.forms import french_date_field


def _optional_date(label: Any) -> forms.DateField:
    field = french_date_field(label)
    field.required = False
    return field


class DocumentFilterForm(forms.Form):
    """The list's filters and title search (a GET form)."""

    q = forms.CharField(
        label=_("Rechercher dans les titres"), max_length=100, required=False
    )
    category = forms.ChoiceField(
        label=_("Catégorie"),
        choices=[("", _("Toutes les catégories")), *CLASS_CODES.items()],
        required=False,
    )
    author = forms.ChoiceField(
        label=_("Auteur"),
        choices=[
            ("", _("Tous les auteurs")),
            ("patient", _("Documents ajoutés dans l'espace")),
            ("professional", _("Professionnels de santé")),
        ],
        required=False,
    )
    since = _optional_date(_("Du"))
    until = _optional_date(_("Au"))
    # The folder's id; choices come from the patient's folders (an unknown id
    # only matches nothing).
    folder = forms.UUIDField(
        label=_("Dossier"),
        required=False,
        error_messages={"invalid": _("Dossier inconnu.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("La date de fin précède la date de début."))
        return data

    def filters(self) -> DocumentFilters:
        """The valid filters (an invalid field is left out, with its error)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return DocumentFilters(
            class_code=data.get("category") or "",
            author=data.get("author") or "",
            folder=data.get("folder"),
            since=data.get("since"),
            until=data.get("until"),
            search=data.get("q") or "",
        )

    @property
    def narrowed(self) -> bool:
        """Some filter or search is on (the empty state says so)."""
        f = self.filters()
        return bool(
            f.class_code
            or f.author
            or f.folder
            or f.since
            or f.until
            or f.search.strip()
        )


class DocumentAddForm(forms.Form):
    """DMP-2, DMP-5: a document the patient adds (checked by the service)."""

    file = forms.FileField(
        label=_("Fichier"),
        help_text=_("PDF, JPEG, PNG, TIFF, RTF ou TXT ; 5 Mo au maximum."),
        error_messages={
            "required": _("Choisissez un fichier."),
            "empty": _("Le fichier est vide."),
        },
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,.tif,.tiff,.rtf,.txt"}
        ),
    )
    title = forms.CharField(
        label=_("Titre du document"),
        max_length=200,
        error_messages={
            "required": _("Donnez un titre au document."),
            "max_length": _("Le titre dépasse 200 caractères."),
        },
    )
    type_code = forms.ChoiceField(
        label=_("Type de document"),
        choices=[("", _("Choisir un type"))]
        + [(code, label) for code, (label, _class) in PATIENT_TYPES.items()],
        error_messages={
            "required": _("Choisissez un type de document de la liste."),
            "invalid_choice": _("Choisissez un type de document de la liste."),
        },
    )
    document_date = _optional_date(_("Date du document"))
    folder = forms.ChoiceField(label=_("Dossier"), required=False)

    def __init__(self, *args: Any, folders: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["document_date"].help_text = _(
            "Format : JJ/MM/AAAA. Laissez vide pour la date du jour."
        )
        folder_field = cast(forms.ChoiceField, self.fields["folder"])
        folder_field.choices = [("", _("Aucun dossier"))] + [
            (str(f.pk), str(f.name)) for f in folders
        ]
        self.folders = {str(f.pk): f for f in folders}


class FolderForm(forms.Form):
    name = forms.CharField(
        label=_("Nom du dossier"),
        max_length=80,
        error_messages={
            "required": _("Nom de dossier : de 1 à 80 caractères."),
            "max_length": _("Nom de dossier : de 1 à 80 caractères."),
        },
    )


class MoveForm(forms.Form):
    folder = forms.UUIDField(
        label=_("Dossier"),
        required=False,
        error_messages={"invalid": _("Dossier inconnu.")},
    )
