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


def french_date_field(label: Any, autocomplete: str = "off") -> forms.DateField:
    """A date typed as JJ/MM/AAAA (ISO accepted too), with a French error."""
    return forms.DateField(
        label=label,
        help_text=_("Format : JJ/MM/AAAA"),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        error_messages={"invalid": _("Saisissez une date au format JJ/MM/AAAA.")},
        widget=forms.DateInput(attrs={"autocomplete": autocomplete}),
    )


class IdentityForm(forms.Form):
    """The identity proof of LC-3/LC-4/LC-6: NIR, carte Vitale serial, birth date."""

    nir = forms.CharField(
        label=_("Numéro de sécurité sociale (NIR)"),
        help_text=_("15 caractères, sur votre carte Vitale"),
        max_length=21,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    vitale_serial = forms.CharField(
        label=_("Numéro de série de la carte Vitale"),
        help_text=_("Au dos de votre carte Vitale"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    birth_date = french_date_field(_("Date de naissance"), autocomplete="bday")


class IdentityCodeForm(IdentityForm):
    code = forms.CharField(
        label=_("Code provisoire"),
        help_text=_("12 caractères, reçu par courrier, e-mail ou SMS"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class NewCodeForm(IdentityForm):
    channel = forms.ChoiceField(
        label=_("Recevoir le code par"),
        choices=[("email", _("E-mail")), ("sms", _("SMS"))],
        widget=forms.RadioSelect,
        initial="email",
    )


class AccountForm(forms.Form):
    """LC-6: the holder chooses an identifier and a password."""

    username = forms.RegexField(
        label=_("Identifiant"),
        help_text=_("De 4 à 40 caractères : lettres, chiffres, point, tiret."),
        regex=r"^[A-Za-z0-9.\-_]{4,40}$",
        max_length=40,
        error_messages={
            "invalid": _("De 4 à 40 caractères : lettres, chiffres, point, tiret.")
        },
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    email = forms.EmailField(
        label=_("Adresse électronique"),
        help_text=_("Vos codes de connexion y seront envoyés."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=_("Mot de passe"),
        help_text=_("Au moins 12 caractères ; évitez les mots de passe courants."),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        from espace.models import User

        username = str(self.cleaned_data["username"])
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(
                _("Cet identifiant est déjà pris : choisissez-en un autre.")
            )
        return username

    def clean(self) -> dict[str, Any]:
        from django.contrib.auth.password_validation import validate_password

        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error(
                "password2", _("Les deux mots de passe ne sont pas identiques.")
            )
        elif first:
            try:
                validate_password(first)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class ReauthForm(forms.Form):
    """The password again, before a sensitive action (STYLE R11)."""

    password = forms.CharField(
        label=_("Votre mot de passe"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = str(self.cleaned_data.get("password") or "")
        if not self.user.check_password(password):
            raise forms.ValidationError(_("Mot de passe incorrect."))
        return password


class CloseForm(ReauthForm):
    """LC-8: closing needs the password again (STYLE R11, sensitive action)."""

    early_deletion = forms.BooleanField(
        label=_(
            "Je demande aussi la suppression anticipée de mes données "
            "(au plus tard sous 3 mois), sans archivage de 10 ans."
        ),
        required=False,
    )
    confirm = forms.BooleanField(
        label=_("Je comprends que mon espace et mon DMP seront fermés."),
        error_messages={
            "required": _("Cochez cette case pour confirmer la fermeture.")
        },
    )


class InviteForm(forms.Form):
    """LC-10: the other parent, identified by NIR and birth date."""

    nir = forms.CharField(
        label=_("Numéro de sécurité sociale (NIR) de l'autre parent"),
        max_length=21,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    birth_date = french_date_field(_("Sa date de naissance"))
