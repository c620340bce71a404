from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator


class LoginForm(forms.Form):
    identifier = forms.CharField(
        label="Identifiant",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label="Mot de passe",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code à usage unique",
        help_text="6 chiffres",
        max_length=6,
        min_length=6,
        validators=[RegexValidator(r"^\d{6}$", "Le code comporte 6 chiffres.")],
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"\d{6}",
            }
        ),
        error_messages={
            "min_length": "Le code comporte 6 chiffres.",
            "max_length": "Le code comporte 6 chiffres.",
            "required": "Saisissez le code reçu.",
        },
    )
