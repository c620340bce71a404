"""The 3422 phone line in the agents' back office (SPEC §1, §2): after checking
the caller's identity proof, an agent records an opposition, a closure or a
re-opening (channel "phone"), sends a new code, suspends a space for fraud;
agents also print letter batches and follow counts by state and by week.
Identity and lifecycle only: never any health data (seed 003)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from espace import services
from espace.models import (
    Beneficiary,
    Notification,
    PrintBatch,
    Space,
    SpaceHistory,
    User,
)

PHONE = SpaceHistory.Channel.PHONE


class PhoneActionForm(forms.Form):
    """What the agent asks the caller, and what the caller wants."""

    class Action:
        OPPOSE = "oppose"
        CLOSE = "close"
        REOPEN = "reopen"
        NEW_CODE = "new_code"
        SUSPEND = "suspend"
        RESTORE = "restore"

    ACTIONS = [
        (
            Action.OPPOSE,
            gettext_lazy("Enregistrer une opposition (code provisoire exigé)"),
        ),
        (Action.CLOSE, gettext_lazy("Fermer l'espace")),
        (Action.REOPEN, gettext_lazy("Rouvrir l'espace")),
        (Action.NEW_CODE, gettext_lazy("Envoyer un nouveau code provisoire")),
        (
            Action.SUSPEND,
            gettext_lazy("Suspendre l'espace (fraude ou dysfonctionnement)"),
        ),
        (
            Action.RESTORE,
            gettext_lazy("Lever la suspension (contestation du titulaire)"),
        ),
    ]
    action = forms.ChoiceField(label=gettext_lazy("Demande"), choices=ACTIONS)
    vitale_serial = forms.CharField(
        label=gettext_lazy("N° de série de la carte Vitale (dicté par l'appelant)"),
        max_length=24,
        required=False,
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Date de naissance (dictée par l'appelant)"),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        help_text=gettext_lazy("JJ/MM/AAAA"),
        required=False,
    )
    code = forms.CharField(
        label=gettext_lazy("Code provisoire (pour une opposition)"),
        max_length=30,
        required=False,
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Envoi du nouveau code par"),
        choices=[
            ("email", "E-mail"),
            ("sms", "SMS"),
            ("letter", gettext_lazy("Courrier")),
        ],
        required=False,
    )


def _proof_ok(beneficiary: Beneficiary, data: dict[str, Any]) -> bool:
    serial = "".join(str(data["vitale_serial"]).split())
    stored = "".join(beneficiary.vitale_serial.split())
    return (
        bool(stored)
        and serial == stored
        and data["birth_date"] == beneficiary.birth_date
    )


def _perform(
    request: HttpRequest, agent: User, beneficiary: Beneficiary, data: dict[str, Any]
) -> str:
    """Run one phone request; returns the French confirmation for the agent."""
    from espace.codes import code_check
    from espace.notifications import new_code_send

    space = Space.objects.get(beneficiary=beneficiary)
    action = data["action"]
    if action == PhoneActionForm.Action.OPPOSE:
        code_row = code_check(
            nir=beneficiary.nir,
            vitale_serial=data["vitale_serial"],
            birth_date=data["birth_date"],
            code=data["code"] or "",
            # Throttled per agent and caller, not per call-centre address.
            client_address=f"3422-{agent.pk}-{beneficiary.pk}",
        )
        services.space_oppose_with_code(
            code_row=code_row, actor=agent, channel=PHONE, request=request
        )
        return _("Opposition enregistrée.")
    if action == PhoneActionForm.Action.CLOSE:
        services.space_close(actor=agent, space=space, channel=PHONE, request=request)
        return _("Espace fermé. Les données sont archivées 10 ans.")
    if action == PhoneActionForm.Action.REOPEN:
        services.space_reopen(actor=agent, space=space, channel=PHONE, request=request)
        return _("Espace rouvert.")
    if action == PhoneActionForm.Action.SUSPEND:
        services.space_suspend(actor=agent, space=space, request=request)
        return _("Espace suspendu : sans contestation sous 6 semaines, il sera fermé.")
    if action == PhoneActionForm.Action.RESTORE:
        services.space_restore(actor=agent, space=space, channel=PHONE, request=request)
        return _("Suspension levée.")
    channel = data.get("channel") or "email"
    if channel == "letter":
        services.new_code_by_letter(actor=agent, space=space)
        return _(
            "Un courrier avec un nouveau code partira au prochain lot d'impression."
        )
    if not new_code_send(space=space, channel=channel):
        raise ValidationError(
            _("Le nouveau code n'a pas pu être envoyé : coordonnées manquantes ?")
        )
    services.phone_action_audit(
        actor=agent, space=space, code=f"lc3.new_code.{channel}"
    )
    return _("Nouveau code envoyé.")


def beneficiary_phone(request: HttpRequest, object_id: str) -> HttpResponse:
    beneficiary = get_object_or_404(Beneficiary, pk=object_id)
    space = Space.objects.filter(beneficiary=beneficiary).first()
    form = PhoneActionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and space is not None:
        # A suspension is the agent's own decision (fraud): no caller to check.
        needs_proof = form.cleaned_data["action"] != PhoneActionForm.Action.SUSPEND
        if needs_proof and not _proof_ok(beneficiary, form.cleaned_data):
            services.phone_action_audit(
                actor=request.user,  # type: ignore[arg-type]
                space=space,
                code="3422.identity_refused",
            )
            form.add_error(
                None,
                _(
                    "Identité non vérifiée : la carte Vitale ou la date de naissance "
                    "ne correspond pas."
                ),
            )
        else:
            try:
                done = _perform(request, request.user, beneficiary, form.cleaned_data)  # type: ignore[arg-type]
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, done)
                return redirect("admin:espace_beneficiary_phone", beneficiary.pk)
    context = {
        **admin.site.each_context(request),
        "title": _("Appel au 3422"),
        "beneficiary": beneficiary,
        "space": space,
        "history": list(space.history.select_related("actor").order_by("-at")[:20])
        if space
        else [],
        "form": form,
        "opts": Beneficiary._meta,
    }
    return TemplateResponse(request, "admin/espace/beneficiary_phone.html", context)


def spaces_dashboard(request: HttpRequest) -> HttpResponse:
    """Counts by state, and transitions by week over the last 12 weeks."""
    by_state = dict(
        Space.objects.values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    since = timezone.now() - timedelta(weeks=12)
    weekly = (
        SpaceHistory.objects.filter(at__gte=since)
        .annotate(week=TruncWeek("at"))
        .values("week", "to_state")
        .annotate(n=Count("pk"))
        .order_by("-week", "to_state")
    )
    weeks: dict[Any, dict[str, int]] = {}
    for row in weekly:
        weeks.setdefault(row["week"], {})[row["to_state"]] = row["n"]
    states = Space.State.choices
    context = {
        **admin.site.each_context(request),
        "title": _("Espaces : tableau de bord"),
        "states": [(label, by_state.get(value, 0)) for value, label in states],
        "weeks": [
            (week, [counts.get(value, 0) for value, _label in states])
            for week, counts in weeks.items()
        ],
        "state_labels": [label for _value, label in states],
        "batches": PrintBatch.objects.exclude(
            status=PrintBatch.Status.ABANDONED
        ).order_by("-created_at")[:20],
        "letters_waiting": Notification.objects.filter(
            channel=Notification.Channel.LETTER, status=Notification.Status.PENDING
        ).count(),
        "opts": Space._meta,
    }
    return TemplateResponse(request, "admin/espace/spaces_dashboard.html", context)


def letters_print_view(request: HttpRequest) -> HttpResponse:
    """Prepare one print batch of pending letters (LC-2), then back to the
    dashboard, where ready batches are listed for download."""
    from espace.notifications import letters_print_batch

    if request.method != "POST":
        return redirect("admin:espace_space_dashboard")
    batch = letters_print_batch(limit=200)
    if batch is None:
        messages.info(request, _("Aucun courrier en attente d'impression."))
    else:
        messages.success(
            request,
            _("Lot n° %(number)s prêt : %(letters)s courrier(s) à télécharger.")
            % {"number": batch.pk, "letters": batch.letters},
        )
    return redirect("admin:espace_space_dashboard")


def print_batch_download_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A ready batch's PDF, for the printer (counted and audited)."""
    from espace.notifications import print_batch_download

    batch = get_object_or_404(PrintBatch, pk=batch_id, status=PrintBatch.Status.READY)
    assert isinstance(request.user, User)
    response = HttpResponse(
        print_batch_download(actor=request.user, batch=batch),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="lot-courriers-{batch.pk:09d}.pdf"'
    )
    return response
