from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consent.history import KINDS, Tab
from consent.selectors import HistoryFilters, professional_by_rpps
from espace.forms import french_date_field
from espace.models import Professional


class BlockForm(forms.Form):
    """CONS-2: block a professional by their RPPS number (11 digits, Luhn)."""

    rpps = forms.CharField(
        label=_("Numéro RPPS du professionnel"),
        help_text=_("11 chiffres, sur l'ordonnance ou la carte CPS du professionnel"),
        max_length=20,
        error_messages={"required": _("Saisissez le numéro RPPS.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def clean_rpps(self) -> Professional:
        """The professional named (a wrong or unknown number: an error)."""
        return professional_by_rpps(str(self.cleaned_data["rpps"]))


class PrivacyForm(forms.Form):
    """CONS-6: the two emergency accesses, each on by default."""

    bris_de_glace = forms.BooleanField(
        label=_("Accès en urgence par un professionnel de santé (bris de glace)"),
        required=False,
    )
    samu = forms.BooleanField(
        label=_("Accès du médecin régulateur du SAMU-Centre 15"), required=False
    )


class HistoryFilterForm(forms.Form):
    """CONS-4: the tab, the period and the kind of the access history."""

    tab = forms.ChoiceField(
        choices=[(Tab.MINE, Tab.MINE), (Tab.OTHERS, Tab.OTHERS)], required=False
    )
    since = french_date_field(_("Du"))
    until = french_date_field(_("Au"))
    kind = forms.ChoiceField(
        label=_("Type d'action"),
        choices=[("", _("Toutes les actions")), *KINDS.items()],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["since"].required = False
        self.fields["until"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error(
                "until", _("La date de fin doit être après la date de début.")
            )
        return data

    def chosen_tab(self) -> str:
        """The tab asked for; "Les actions des autres" by default (where the
        access notices lead, CONS-3, CONS-6)."""
        value = self.data.get("tab")
        return value if value in (Tab.MINE, Tab.OTHERS) else Tab.OTHERS

    def filters(self) -> HistoryFilters:
        """The valid filters (none when the form is not valid)."""
        if not self.is_valid():
            return HistoryFilters()
        data = self.cleaned_data
        return HistoryFilters(
            since=data.get("since"), until=data.get("until"), kind=data.get("kind", "")
        )
