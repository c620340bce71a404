from __future__ import annotations

from typing import Any

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


class TotpEnrolForm(CodeForm):
    """The first code of a new authenticator; from a session (not a first
    login), the password too: replacing a second factor needs re-authentication
    (ASVS 6.3.6, STYLE R11)."""

    password = forms.CharField(
        label=_("Votre mot de passe actuel"),
        max_length=128,
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: Any, reauth: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.reauth = reauth
        if not reauth:
            del self.fields["password"]

    def clean_password(self) -> str:
        password = str(self.cleaned_data.get("password") or "")
        if self.reauth and not self.user.check_password(password):
            raise forms.ValidationError(_("Mot de passe incorrect."))
        return password
