"""The patient's messaging pages (STYLE R18, MSG-1…MSG-3), for the active
profile: the holder's own, or a child's they represent (LC-10), minus what
the minor's secret hides (CONS-7). Reads go through `messagerie.selectors`
(one audit entry each), writes through `messagerie.services`; a refusal and
a missing object answer the same 404 (SEC-1)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent.policy import Access, Basis
from dmp.views import content_disposition, human_size, refused_as_404
from espace.decorators import patient_required
from espace.views import active_profile
from lib.http import AuthenticatedHttpRequest
from lib.upload_handlers import upload_too_large
from messagerie import selectors, services
from messagerie.forms import (
    FileForm,
    MessageForm,
    PatientStartForm,
    PreferenceForm,
    SearchForm,
)
from messagerie.models import Conversation, NoticePreference, patient_address

# Where a service's ValidationError code lands on a form.
ERROR_FIELDS = {
    "body": "body",
    "subject": "subject",
    "upload": "attachment",
    "flags": "hidden",
    "type": "type_code",
    "title": "title",
}


def form_error(form: Any, refused: ValidationError) -> None:
    field = ERROR_FIELDS.get(str(getattr(refused, "code", "")))
    form.add_error(field if field in form.fields else None, refused.messages)


def too_large(form: Any, max_bytes: int) -> None:
    form.is_valid()
    form.add_error(
        "attachment",
        _("Le fichier est trop volumineux : %(size)s au maximum.")
        % {"size": human_size(max_bytes)},
    )


def attachment_of(form: Any) -> services.Attachment | None:
    upload = form.cleaned_data.get("attachment")
    return None if upload is None else services.Attachment(upload, upload.name)


def file_response(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> StreamingHttpResponse:
    """MSG-2: the decrypted attachment, streamed, always as a download."""
    message, _access, chunks = selectors.attachment_open_for(
        actor=request.user, pk=pk, request=request
    )
    response = StreamingHttpResponse(chunks, content_type=message.mime_type)
    response["Content-Length"] = str(message.size)
    response["Content-Disposition"] = content_disposition(
        "attachment", message.file_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _patient_max() -> int:
    from django.conf import settings

    return int(settings.DMP_PATIENT_MAX_BYTES)


# ---------------------------------------------------------------- pages


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
def conversations(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The inbox of the active profile (or its archives, or a search: posted,
    so that the words searched never sit in a URL, a log or a history)."""
    profile = active_profile(request)
    search = SearchForm(request.POST if request.method == "POST" else None)
    archived = request.GET.get("archives") == "1"
    hits = None
    if search.is_valid() and search.cleaned_data["q"].strip():
        hits = selectors.message_search_for(
            actor=request.user,
            patient=profile,
            query=search.cleaned_data["q"],
            request=request,
        )
        rows: list[Conversation] = []
        access: Access | None = None
    else:
        rows, access = selectors.conversation_list_for(
            actor=request.user, patient=profile, archived=archived, request=request
        )
    context = {
        "profile": profile,
        "own": profile.user_id == request.user.pk,
        "rows": rows,
        "hits": hits,
        "search": search,
        "archived": archived,
        "representative": access is not None and access.basis == Basis.REPRESENTATIVE,
        "address": patient_address(profile),
        "can_start": bool(selectors.open_professionals_for(patient=profile)),
    }
    return render(request, "messagerie/conversations.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
@refused_as_404
def conversation_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """MSG-1 (going further): write first to a professional who accepts it."""
    profile = active_profile(request)
    professionals = selectors.open_professionals_for(patient=profile)
    form = PatientStartForm(
        request.POST or None, request.FILES or None, professionals=professionals
    )
    status = 200
    if request.method == "POST":
        status = 400
        if upload_too_large(request):
            too_large(form, _patient_max())
            status = 413
        elif form.is_valid():
            chosen = {p.pk: p for p in professionals}.get(
                form.cleaned_data["professional"]
            )
            if chosen is None:
                raise Http404
            try:
                conversation = services.conversation_start_by_patient(
                    actor=request.user,
                    patient=profile,
                    professional=chosen,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    attachment=attachment_of(form),
                    request=request,
                )
            except ValidationError as refused:
                form_error(form, refused)
            else:
                messages.success(request, _("Votre message a été envoyé."))
                return redirect("messagerie:conversation-detail", pk=conversation.pk)
    context = {
        "form": form,
        "profile": profile,
        "professionals": professionals,
        "max_size": human_size(_patient_max()),
    }
    return render(request, "messagerie/conversation_new.html", context, status=status)


def _detail_page(
    request: AuthenticatedHttpRequest,
    pk: uuid.UUID,
    *,
    form: MessageForm | None = None,
    file_form: FileForm | None = None,
    filing: uuid.UUID | None = None,
    status: int = 200,
) -> HttpResponse:
    thread = selectors.conversation_get_for(actor=request.user, pk=pk, request=request)
    if status == 200:
        services.messages_mark_read(
            access=thread.access, conversation=thread.conversation
        )
    context = {
        "thread": thread,
        "conversation": thread.conversation,
        "form": form or MessageForm(),
        "file_form": file_form or FileForm(),
        "filing": filing,
        "representative": thread.access.basis == Basis.REPRESENTATIVE,
        "max_size": human_size(_patient_max()),
    }
    return render(request, "messagerie/conversation.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
@refused_as_404
def conversation_detail(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> HttpResponse:
    """MSG-1: read a conversation (read receipts for the professional), and
    answer it unless closed."""
    if request.method == "GET":
        return _detail_page(request, pk)
    form = MessageForm(request.POST, request.FILES)
    if upload_too_large(request):
        too_large(form, _patient_max())
        return _detail_page(request, pk, form=form, status=413)
    if form.is_valid():
        conversation = selectors.conversation_for_change(actor=request.user, pk=pk)
        try:
            services.message_send(
                actor=request.user,
                conversation=conversation,
                body=form.cleaned_data["body"],
                attachment=attachment_of(form),
                request=request,
            )
        except ValidationError as refused:
            form_error(form, refused)
        else:
            messages.success(request, _("Votre réponse a été envoyée."))
            return redirect("messagerie:conversation-detail", pk=pk)
    return _detail_page(request, pk, form=form, status=400)


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
    return redirect(
        reverse("messagerie:conversations") + ("?archives=1" if not archived else "")
    )


@require_POST
@patient_required
@refused_as_404
def conversation_archive(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> HttpResponse:
    return _archive(request, pk, True)


@require_POST
@patient_required
@refused_as_404
def conversation_unarchive(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> HttpResponse:
    return _archive(request, pk, False)


@never_cache
@require_GET
@patient_required
def attachment_download(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> StreamingHttpResponse:
    return file_response(request, pk)


@require_POST
@patient_required
@refused_as_404
def attachment_file(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """MSG-2: file an attachment into the DMP, in one click with its type."""
    form = FileForm(request.POST)
    message = selectors.message_for_change(pk=pk)
    conversation_pk = message.conversation_id
    if form.is_valid():
        try:
            services.attachment_file(
                actor=request.user,
                message=message,
                type_code=form.cleaned_data["type_code"],
                title=form.cleaned_data["title"],
                request=request,
            )
        except ValidationError as refused:
            form_error(form, refused)
        else:
            messages.success(
                request, _("La pièce jointe a été ajoutée à vos documents.")
            )
            return redirect("messagerie:conversation-detail", pk=conversation_pk)
    return _detail_page(
        request, conversation_pk, file_form=form, filing=message.pk, status=400
    )


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
@refused_as_404
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    """MSG-3: how the active profile is told of a new message."""
    profile = active_profile(request)
    current = (
        NoticePreference.objects.filter(patient=profile)
        .values_list("sms", flat=True)
        .first()
    )
    form = PreferenceForm(
        request.POST if request.method == "POST" else None,
        initial={"sms": bool(current)},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.notice_preference_set(
                    actor=request.user,
                    patient=profile,
                    sms=form.cleaned_data["sms"],
                    request=request,
                )
            except ValidationError as refused:
                form.add_error("sms", refused.messages)
            else:
                messages.success(request, _("Vos préférences sont enregistrées."))
                return redirect("messagerie:conversations")
    context = {
        "form": form,
        "profile": profile,
        "has_phone": bool(profile.phone.strip()),
    }
    return render(request, "messagerie/preferences.html", context, status=status)
