from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PreventionPreferenceForm(forms.Form):
    """CONS-9: one switch; unticked (or the message's button) is a refusal."""

    accepted = forms.BooleanField(
        label=_("Recevoir les messages de prévention personnalisés"),
        required=False,
    )
    back = forms.ChoiceField(
        choices=[("privacy", "privacy"), ("list", "list")], required=False
    )
