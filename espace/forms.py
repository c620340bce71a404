from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    identifier = forms.CharField(
        label=_("Identifiant"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code à usage unique"),
        help_text=_("6 chiffres"),
        validators=[RegexValidator(r"^\d{6}$", _("Le code comporte 6 chiffres."))],
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "maxlength": "6",
                "inputmode": "numeric",
                "pattern": r"\d{6}",
            }
        ),
        error_messages={
            "required": _("Saisissez le code reçu."),
        },
    )
