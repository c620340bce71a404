"""The professional's messaging pages, under /pro/messagerie/ (MSG-1…MSG-3).

A professional writes to the patients in their care (médecin traitant or a
care relationship, never when blocked), reads their conversations (one
audit entry each), sees read receipts, closes a conversation to replies,
archives, searches, and chooses whether their patients may write first.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dmp.views import human_size, refused_as_404
from espace.decorators import professional_required
from espace.selectors import adult_cutoff
from lib.http import AuthenticatedHttpRequest
from lib.upload_handlers import upload_too_large
from messagerie import selectors, services
from messagerie.forms import InboxSettingsForm, ProMessageForm, ProStartForm, SearchForm
from messagerie.models import ProfessionalInbox, patient_address
from messagerie.views import attachment_of, file_response, form_error, too_large


def _pro_max() -> int:
    return int(settings.DMP_PROFESSIONAL_MAX_BYTES)


@never_cache
@require_http_methods(["GET", "POST"])
@professional_required
def conversations(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The professional's conversations (or a search: posted, so that the
    words searched never sit in a URL, a log or a history)."""
    search = SearchForm(request.POST if request.method == "POST" else None)
    archived = request.GET.get("archives") == "1"
    hits = None
    rows = []
    if search.is_valid() and search.cleaned_data["q"].strip():
        hits = selectors.pro_message_search_for(
            actor=request.user, query=search.cleaned_data["q"], request=request
        )
    else:
        rows = selectors.pro_conversation_list_for(
            actor=request.user, archived=archived, request=request
        )
    context = {"rows": rows, "hits": hits, "search": search, "archived": archived}
    return render(request, "messagerie/pro_conversations.html", context)


PATIENT_CHOICES = 500  # the patients offered in the form's list


def _patient_id(raw: str) -> int | None:
    """A patient id typed in a URL or a form: ASCII digits only."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 12 else None


@never_cache
@require_http_methods(["GET", "POST"])
@professional_required
@refused_as_404
def conversation_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """MSG-1: write to a patient in one's care (to their MSSanté address)."""
    in_care = selectors.pro_patients_for(actor=request.user)
    patients = list(in_care[:PATIENT_CHOICES])
    initial = {}
    asked = _patient_id(request.GET.get("patient", ""))
    if asked is not None:
        initial["patient"] = asked
    chosen = _patient_id(request.POST.get("patient", "")) or asked
    if chosen is not None and all(p.pk != chosen for p in patients):
        # one of their patients beyond the list's first ones (MSG-1)
        patients += list(in_care.filter(pk=chosen)[:1])
    post = request.method == "POST"
    form = ProStartForm(
        request.POST if post else None,
        request.FILES if post else None,
        patients=patients,
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if upload_too_large(request):
            too_large(form, _pro_max())
            status = 413
        elif form.is_valid():
            patient = {p.pk: p for p in patients}.get(form.cleaned_data["patient"])
            if patient is None:
                raise Http404
            try:
                conversation = services.conversation_start(
                    actor=request.user,
                    patient=patient,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    attachment=attachment_of(form),
                    hidden_from_representatives=form.cleaned_data["hidden"],
                    request=request,
                )
            except ValidationError as refused:
                form_error(form, refused)
            else:
                messages.success(request, _("Votre message a été envoyé."))
                return redirect(
                    "pro-messagerie:conversation-detail", pk=conversation.pk
                )
    addresses = {p.pk: patient_address(p) for p in patients}
    context = {
        "form": form,
        "patients": patients,
        "addresses": addresses,
        "max_size": human_size(_pro_max()),
    }
    return render(
        request, "messagerie/pro_conversation_new.html", context, status=status
    )


def _detail_page(
    request: AuthenticatedHttpRequest,
    pk: uuid.UUID,
    *,
    form: ProMessageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    thread = selectors.conversation_get_for(actor=request.user, pk=pk, request=request)
    if status == 200:
        services.messages_mark_read(
            access=thread.access, conversation=thread.conversation
        )
    patient = thread.conversation.patient
    context = {
        "thread": thread,
        "conversation": thread.conversation,
        "patient": patient,
        "minor": patient.birth_date > adult_cutoff(),
        "form": form or ProMessageForm(),
        "max_size": human_size(_pro_max()),
    }
    return render(request, "messagerie/pro_conversation.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@professional_required
@refused_as_404
def conversation_detail(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> HttpResponse:
    if request.method == "GET":
        return _detail_page(request, pk)
    form = ProMessageForm(request.POST, request.FILES)
    if upload_too_large(request):
        too_large(form, _pro_max())
        return _detail_page(request, pk, form=form, status=413)
    if form.is_valid():
        conversation = selectors.conversation_for_change(actor=request.user, pk=pk)
        try:
            services.message_send(
                actor=request.user,
                conversation=conversation,
                body=form.cleaned_data["body"],
                attachment=attachment_of(form),
                hidden_from_representatives=form.cleaned_data["hidden"],
                request=request,
            )
        except ValidationError as refused:
            form_error(form, refused)
        else:
            messages.success(request, _("Votre message a été envoyé."))
            return redirect("pro-messagerie:conversation-detail", pk=pk)
    return _detail_page(request, pk, form=form, status=400)


@require_POST
@professional_required
@refused_as_404
def conversation_close(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> HttpResponse:
    """MSG-1: no more replies (X-MSS-MES: FIN)."""
    conversation = selectors.conversation_for_change(actor=request.user, pk=pk)
    services.conversation_close(
        actor=request.user, conversation=conversation, request=request
    )
    messages.success(
        request, _("La conversation est close : le patient ne peut plus y répondre.")
    )
    return redirect("pro-messagerie:conversation-detail", pk=pk)


def _archive(
    request: AuthenticatedHttpRequest, pk: uuid.UUID, archived: bool
) -> HttpResponse:
    conversation = selectors.conversation_for_change(actor=request.user, pk=pk)
    services.conversation_archive(
        actor=request.user,
        conversation=conversation,
        archived=archived,
        request=request,
    )
    messages.success(
        request,
        _("La conversation est archivée.")
        if archived
        else _("La conversation est de retour dans vos messages."),
    )
    url = reverse("pro-messagerie:conversations")
    return redirect(url if archived else url + "?archives=1")


@require_POST
@professional_required
@refused_as_404
def conversation_archive(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> HttpResponse:
    return _archive(request, pk, True)


@require_POST
@professional_required
@refused_as_404
def conversation_unarchive(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> HttpResponse:
    return _archive(request, pk, False)


@never_cache
@require_GET
@professional_required
def attachment_download(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> StreamingHttpResponse:
    return file_response(request, pk)


@never_cache
@require_http_methods(["GET", "POST"])
@professional_required
def inbox_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """MSG-1 (going further): accept first messages from one's patients."""
    professional = selectors.professional_of(request.user)
    inbox = ProfessionalInbox.objects.filter(professional=professional).first()
    initial = {
        "open_to_patients": bool(inbox and inbox.open_to_patients),
        "auto_reply": inbox.auto_reply if inbox else "",
    }
    form = InboxSettingsForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.inbox_settings_update(
                    actor=request.user,
                    open_to_patients=form.cleaned_data["open_to_patients"],
                    auto_reply=form.cleaned_data["auto_reply"],
                    request=request,
                )
            except ValidationError as refused:
                form.add_error("auto_reply", refused.messages)
            else:
                messages.success(request, _("Vos réglages sont enregistrés."))
                return redirect("pro-messagerie:conversations")
    return render(
        request, "messagerie/pro_settings.html", {"form": form}, status=status
    )
