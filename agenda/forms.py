"""The "mark done" form (AG-2): it parses input; the service checks the
rules (the date, the length, that the document is the person's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

_DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MarkDoneForm(forms.Form):
    done_on = forms.DateField(
        label=_("Date"),
        widget=_DATE_WIDGET,
        error_messages={
            "required": _("Indiquez la date."),
            "invalid": _("Indiquez une date valide, par exemple 14/03/2026."),
        },
    )
    performer = forms.CharField(
        label=_("Fait par"),
        help_text=_("Facultatif. Par exemple : Dr Martin, centre de PMI de Reims"),
        required=False,
        max_length=200,
        error_messages={"max_length": _("200 caractères au plus.")},
    )
    document = forms.TypedChoiceField(
        label=_("Document du dossier médical"),
        help_text=_("Facultatif. Par exemple : le certificat de vaccination."),
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("Choisissez un document de la liste.")},
    )

    def __init__(
        self, *args: Any, documents: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["document"]
        field.choices = [("", _("Aucun document")), *documents]  # type: ignore[attr-defined]
        field.coerce = lambda value: value  # type: ignore[attr-defined]
