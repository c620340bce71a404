"""Forms of the messaging pages: they parse input only; the rules (who may
write, sizes, file checks, the minor's secret) live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dmp.codes import PATIENT_TYPES

BODY_WIDGET = forms.Textarea(attrs={"rows": 6})
ATTACHMENT_HELP = _(
    "Facultatif. PDF, JPEG, PNG, TIFF, RTF ou texte ; le fichier est vérifié "
    "avant l'envoi."
)


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher dans mes messages"), max_length=100, required=False
    )


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Votre message"), widget=BODY_WIDGET, max_length=20_000
    )
    attachment = forms.FileField(
        label=_("Pièce jointe"), required=False, help_text=ATTACHMENT_HELP
    )


class ProMessageForm(MessageForm):
    hidden = forms.BooleanField(
        label=_(
            "Secret du mineur : ne pas montrer ce message aux représentants légaux"
        ),
        required=False,
    )


class PatientStartForm(MessageForm):
    """MSG-1 (going further): to a professional who accepts first messages."""

    professional = forms.TypedChoiceField(label=_("Destinataire"), coerce=int)
    subject = forms.CharField(label=_("Objet"), max_length=200)
    field_order = ["professional", "subject", "body", "attachment"]

    def __init__(self, *args: Any, professionals: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["professional"].choices = [  # type: ignore[attr-defined]
            ("", _("Choisissez un professionnel")),
            *((p.pk, _label(p)) for p in professionals),
        ]


class ProStartForm(ProMessageForm):
    """MSG-1: a professional writes to one of their patients."""

    patient = forms.TypedChoiceField(label=_("Patient"), coerce=int)
    subject = forms.CharField(label=_("Objet"), max_length=200)
    field_order = ["patient", "subject", "body", "attachment", "hidden"]

    def __init__(self, *args: Any, patients: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hidden"].label = _(
            "Secret du mineur : ne pas montrer cette conversation aux "
            "représentants légaux (patient mineur uniquement)"
        )
        self.fields["patient"].choices = [  # type: ignore[attr-defined]
            ("", _("Choisissez un patient")),
            *((p.pk, f"{p.display_name} — {p.birth_date:%d/%m/%Y}") for p in patients),
        ]


def _label(professional: Any) -> str:
    name = professional.user.get_full_name()
    profession = professional.get_profession_display()
    where = professional.establishment.name if professional.establishment else ""
    return " — ".join(x for x in (str(name), str(profession), where) if x)


class FileForm(forms.Form):
    """MSG-2: file an attachment into the DMP, with its type (DOCPAT)."""

    type_code = forms.ChoiceField(
        label=_("Type de document"),
        choices=[("", _("Choisissez un type"))]
        + [(code, label) for code, (label, _class) in PATIENT_TYPES.items()],
    )
    title = forms.CharField(label=_("Titre"), max_length=200, required=False)


class InboxSettingsForm(forms.Form):
    open_to_patients = forms.BooleanField(
        label=_("Recevoir les premiers messages de mes patients"),
        help_text=_(
            "Seuls les patients dont vous êtes le médecin traitant ou que vous "
            "suivez pourront vous écrire en premier."
        ),
        required=False,
    )
    auto_reply = forms.CharField(
        label=_("Réponse automatique"),
        help_text=_(
            "Envoyée à chaque patient qui vous écrit en premier (délai de "
            "réponse, en cas d'urgence appeler le 15…). 1 000 caractères au plus."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=1000,
        required=False,
    )


class PreferenceForm(forms.Form):
    sms = forms.BooleanField(
        label=_("Être aussi prévenu(e) par SMS d'un nouveau message"),
        required=False,
    )
