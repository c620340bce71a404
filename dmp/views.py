"""HTML views of the DMP (STYLE R18). Files: one preview and one download
route shared by the patient's and the professionals' pages; the selector
decides and audits (missing and forbidden: the same 404). Then the patient's
documents pages: list, add, detail, masks, deletion and folders."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import AuditEvent
from consent.models import CLASS_CODES
from consent.policy import Access, Purpose, access_audit, access_for, dmp_exists
from dmp import codes, services
from dmp.codes import PREVIEWABLE
from dmp.forms import DocumentAddForm, DocumentFilterForm, FolderForm, MoveForm
from dmp.models import Document, Folder
from dmp.selectors import (
    document_for_change,
    document_get_for,
    document_history_for,
    document_open_for,
    documents_list_for,
    folders_for,
)
from espace.decorators import patient_required, role_required
from espace.models import Beneficiary, User
from espace.views import active_profile
from lib.http import AuthenticatedHttpRequest
from lib.upload_handlers import upload_too_large

Action = AuditEvent.Action
View = Callable[..., HttpResponseBase]


def content_disposition(kind: str, file_name: str) -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name (filename*)."""
    fallback = (
        file_name.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "")
        or "document"
    )
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"


def _file_response(
    request: AuthenticatedHttpRequest, pk: uuid.UUID, *, inline: bool
) -> StreamingHttpResponse:
    document, chunks = document_open_for(actor=request.user, pk=pk, request=request)
    if inline and document.mime_type not in PREVIEWABLE:
        chunks.close()  # type: ignore[attr-defined]
        raise Http404
    content_type = document.mime_type
    if content_type == "text/plain":
        content_type = "text/plain; charset=utf-8"
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Length"] = str(document.size)
    response["Content-Disposition"] = content_disposition(
        "inline" if inline else "attachment", str(document.file_name)
    )
    response["X-Content-Type-Options"] = "nosniff"
    # A file is never a page: no script, no plugin, even when shown inline.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    if inline:  # the preview is framed by our own document page
        response["X-Frame-Options"] = "SAMEORIGIN"
    return response


@never_cache
@require_GET
@role_required("patient", "professional")
def document_preview(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> StreamingHttpResponse:
    """DMP-3: PDF, images and text shown inline (A5.5); others are downloaded."""
    return _file_response(request, pk, inline=True)


@never_cache
@require_GET
@role_required("patient", "professional")
def document_download(
    request: AuthenticatedHttpRequest, pk: uuid.UUID
) -> StreamingHttpResponse:
    """DMP-3: the decrypted file, streamed, to authorised users only."""
    return _file_response(request, pk, inline=False)


# ------------------------------------------------------- the patient's pages
# DMP-1, DMP-2, DMP-3, DMP-5, DMP-8, DMP-11, for the active profile (the
# holder's own space or a child's, LC-10). Reads go through `dmp.selectors`
# (one audit entry each), writes through `dmp.services`; a refusal and a
# missing object answer the same 404 (SEC-1).


def refused_as_404(view: View) -> View:
    """A service's PermissionDenied is answered like a missing object."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            raise Http404 from None

    return wrapper


def _back(request: HttpRequest, default: str) -> str:
    """The page the form was posted from (`next`), if it is ours."""
    target = str(request.POST.get("next", ""))
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return default


def _done(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect; for the upload script, the address to go to (it cannot
    see a redirect, and following it would eat the success message)."""
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return JsonResponse({"redirect": url})
    return redirect(url)


def _author(document: Document, viewer: User, patient: Beneficiary) -> str:
    """DMP-1: who wrote it, as the patient side reads it."""
    professional = document.author_professional
    if professional is not None:
        return professional.user.get_full_name() or _("Professionnel de santé")
    if document.class_code == codes.REIMBURSEMENT[1]:
        return _("Assurance maladie")
    if document.deposited_by_id == viewer.pk:
        return _("Vous")
    if document.deposited_by_id == patient.user_id:
        return patient.display_name
    return _("Un représentant légal")


def _no_dmp(request: HttpRequest, profile: Beneficiary) -> HttpResponse:
    return render(request, "dmp/no_dmp.html", {"profile": profile})


def _list_page(
    request: AuthenticatedHttpRequest,
    profile: Beneficiary,
    *,
    filter_form: DocumentFilterForm | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    filter_form = filter_form or DocumentFilterForm()
    listing = documents_list_for(
        actor=request.user,
        patient=profile,
        filters=filter_form.filters(),
        request=request,
    )
    rows = [
        {
            "document": d,
            "type": codes.type_label(d.type_code),
            "author": _author(d, request.user, profile),
        }
        for d in listing.documents
    ]
    context = {
        "profile": profile,
        "own": profile.user_id == request.user.pk,
        "rows": rows,
        "count": listing.count,
        "form": filter_form,
        "folders": folders_for(access=listing.access),
        "folder_form": FolderForm(),
        "errors": errors or [],
    }
    return render(request, "dmp/documents.html", context, status=status)


@never_cache
@require_GET
@patient_required
def documents(request: AuthenticatedHttpRequest) -> HttpResponse:
    """DMP-1, DMP-5, DMP-8: the documents, filtered and searched (GET form)."""
    profile = active_profile(request)
    if not dmp_exists(profile):
        return _no_dmp(request, profile)
    form = DocumentFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    return _list_page(request, profile, filter_form=form, status=200 if valid else 400)


UPLOAD_ERROR_FIELDS = {
    "type": "type_code",
    "title": "title",
    "date": "document_date",
    "folder": "folder",
    "upload": "file",
}


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
@refused_as_404
def document_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    """DMP-2, DMP-5: the patient side adds a document (DOCPAT types, 5 Mo);
    every refusal is said in French, with nothing stored."""
    profile = active_profile(request)
    if not dmp_exists(profile):
        return _no_dmp(request, profile)
    access = access_for(actor=request.user, patient=profile, purpose=Purpose.DEPOSIT)
    form = DocumentAddForm(
        *((request.POST, request.FILES) if request.method == "POST" else ()),
        folders=folders_for(access=access),
    )
    status = 200
    if request.method == "POST":
        if upload_too_large(request):
            form.is_valid()
            form.errors["file"] = form.error_class([_too_large()])
            status = 413
        elif _deposit_from(request, profile, form):
            messages.success(request, _("Votre document a été ajouté."))
            return _done(request, reverse("dmp:documents"))
        else:
            status = 400
    # The folder names shown are health data too: their read is on record.
    access_audit(
        access, action=Action.READ, target="dmp.folder", code="dmp.folders.list"
    )
    context = {
        "form": form,
        "profile": profile,
        "max_bytes": _patient_max(),
        "too_large": _too_large(),
    }
    return render(request, "dmp/document_add.html", context, status=status)


def _deposit_from(
    request: AuthenticatedHttpRequest, profile: Beneficiary, form: DocumentAddForm
) -> bool:
    """Store the form's document; False with the reasons on the form."""
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        services.document_deposit(
            actor=request.user,
            patient=profile,
            stream=data["file"],
            file_name=data["file"].name,
            title=data["title"],
            type_code=data["type_code"],
            document_date=data["document_date"],
            folder=form.folders.get(data["folder"]),
            request=request,
        )
    except ValidationError as refused:
        form.add_error(UPLOAD_ERROR_FIELDS.get(str(refused.code)), refused.messages)
        return False
    return True


def _patient_max() -> int:
    return int(settings.DMP_PATIENT_MAX_BYTES)


def _too_large() -> str:
    return _("Le fichier est trop volumineux : %(size)s au maximum.") % {
        "size": human_size(_patient_max())
    }


def human_size(size: int) -> str:
    """A size as French users read it: octets, Ko, Mo (DMP-1)."""
    if size < 1024:
        return ngettext("%(count)d\u00a0octet", "%(count)d\u00a0octets", size) % {
            "count": size
        }
    value, unit = (
        (size / 1024, _("Ko")) if size < 1024 * 1024 else (size / 1048576, _("Mo"))
    )
    rounded = round(value, 1)
    shown = int(rounded) if rounded.is_integer() else rounded
    return f"{number_format(shown)}\u00a0{unit}"


# How each PREVIEWABLE type is shown inline (A5.5); others are downloaded.
PREVIEW_KINDS = {
    "application/pdf": "pdf",
    "image/jpeg": "image",
    "image/png": "image",
    "text/plain": "text",
}


@never_cache
@require_GET
@patient_required
def document_detail(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """DMP-1, DMP-3, DMP-11: a document's metadata, earlier versions, preview
    and actions."""
    document, access = document_get_for(actor=request.user, pk=pk, request=request)
    context = {
        "document": document,
        "type": codes.type_label(document.type_code),
        "class_label": CLASS_CODES.get(document.class_code, document.class_code),
        "author": _author(document, request.user, document.patient),
        "size": human_size(document.size),
        "format": codes.FORMATS.get(document.mime_type, ("",))[0].lstrip(".").upper(),
        "preview": PREVIEW_KINDS.get(document.mime_type, ""),
        "history": document_history_for(actor=request.user, document=document),
        "folders": folders_for(access=access),
        "own": document.patient.user_id == request.user.pk,
    }
    return render(request, "dmp/document_detail.html", context)


def _set_mask(
    request: AuthenticatedHttpRequest, pk: uuid.UUID, *, masked: bool
) -> HttpResponse:
    document, _access = document_for_change(actor=request.user, pk=pk, request=request)
    services.documents_mask(
        actor=request.user,
        patient=document.patient,
        documents=[document],
        masked=masked,
        request=request,
    )
    messages.success(
        request,
        _(
            "Le document est masqué aux professionnels de santé. Son auteur et "
            "votre médecin traitant le voient toujours."
        )
        if masked
        else _("Le document est de nouveau visible par les professionnels autorisés."),
    )
    return redirect(_back(request, reverse("dmp:document-detail", args=[pk])))


@require_POST
@patient_required
@refused_as_404
def document_mask(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """DMP-8: hide one document from professionals."""
    return _set_mask(request, pk, masked=True)


@require_POST
@patient_required
@refused_as_404
def document_unmask(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """DMP-8: show it again."""
    return _set_mask(request, pk, masked=False)


def _set_mask_all(request: AuthenticatedHttpRequest, *, masked: bool) -> HttpResponse:
    changed = services.documents_mask(
        actor=request.user,
        patient=active_profile(request),
        documents=None,
        masked=masked,
        request=request,
    )
    text = (
        ngettext(
            "%(count)d document a été masqué aux professionnels de santé.",
            "%(count)d documents ont été masqués aux professionnels de santé.",
            changed,
        )
        if masked
        else ngettext(
            "%(count)d document est de nouveau visible par les professionnels.",
            "%(count)d documents sont de nouveau visibles par les professionnels.",
            changed,
        )
    )
    messages.success(request, text % {"count": changed})
    return redirect(_back(request, reverse("dmp:documents")))


@require_POST
@patient_required
@refused_as_404
def documents_mask_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    """DMP-8: hide every document from professionals at once."""
    return _set_mask_all(request, masked=True)


@require_POST
@patient_required
@refused_as_404
def documents_unmask_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _set_mask_all(request, masked=False)


@require_POST
@patient_required
@refused_as_404
def document_delete(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """DMP-5, DMP-11: delete a document the patient side added (it stays in
    the history); another's document is a 404."""
    document, _access = document_for_change(actor=request.user, pk=pk, request=request)
    services.document_delete(actor=request.user, document=document, request=request)
    messages.success(request, _("Le document a été supprimé."))
    return redirect("dmp:documents")


@require_POST
@patient_required
@refused_as_404
def document_move(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """DMP-5: file a document the patient side added into a folder (or none)."""
    document, access = document_for_change(actor=request.user, pk=pk, request=request)
    form = MoveForm(request.POST)
    if not form.is_valid():
        raise Http404
    chosen = form.cleaned_data["folder"]
    folder = _folder_in(access, chosen) if chosen else None
    services.document_move(
        actor=request.user, document=document, folder=folder, request=request
    )
    messages.success(
        request,
        _("Le document a été rangé dans le dossier « %(name)s ».")
        % {"name": folder.name}
        if folder
        else _("Le document n'est plus rangé dans un dossier."),
    )
    return redirect(_back(request, reverse("dmp:document-detail", args=[pk])))


def _folder_in(access: Access, pk: uuid.UUID) -> Folder:
    folder = next((f for f in folders_for(access=access) if f.pk == pk), None)
    if folder is None:
        raise Http404
    return folder


def _folder_for(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> Folder:
    """One of the active profile's folders; another's is a 404, whose
    refusal is audited against that folder's patient (G-S12)."""
    access = access_for(
        actor=request.user, patient=active_profile(request), purpose=Purpose.MANAGE
    )
    try:
        return _folder_in(access, pk)
    except Http404:
        other = Folder.objects.select_related("patient").filter(pk=pk).first()
        if other is not None:
            theirs = access_for(
                actor=request.user, patient=other.patient, purpose=Purpose.MANAGE
            )
            access_audit(
                theirs,
                action=AuditEvent.Action.UPDATE,
                target=("dmp.folder", other.pk),
                code="dmp.folder.change",
                request=request,
                refused="" if not theirs.allowed else "not_visible",
            )
        raise


def _folder_error(
    request: AuthenticatedHttpRequest, errors: Iterable[str]
) -> HttpResponse:
    """A refused folder name: the list again, the reason in French (400)."""
    return _list_page(request, active_profile(request), errors=list(errors), status=400)


@require_POST
@patient_required
@refused_as_404
def folder_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """DMP-5: a folder for the documents the patient adds."""
    form = FolderForm(request.POST)
    if not form.is_valid():
        return _folder_error(request, [str(e) for e in form.errors["name"]])
    try:
        folder = services.folder_create(
            actor=request.user,
            patient=active_profile(request),
            name=form.cleaned_data["name"],
            request=request,
        )
    except ValidationError as error:
        return _folder_error(request, error.messages)
    messages.success(
        request, _("Le dossier « %(name)s » a été créé.") % {"name": folder.name}
    )
    return redirect(_back(request, reverse("dmp:documents")))


@require_POST
@patient_required
@refused_as_404
def folder_rename(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    folder = _folder_for(request, pk)
    form = FolderForm(request.POST)
    if not form.is_valid():
        return _folder_error(request, [str(e) for e in form.errors["name"]])
    try:
        services.folder_rename(
            actor=request.user,
            folder=folder,
            name=form.cleaned_data["name"],
            request=request,
        )
    except ValidationError as error:
        return _folder_error(request, error.messages)
    messages.success(request, _("Le dossier a été renommé."))
    return redirect(_back(request, reverse("dmp:documents")))


@require_POST
@patient_required
@refused_as_404
def folder_delete(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """DMP-5: the folder goes, its documents stay (outside any folder)."""
    folder = _folder_for(request, pk)
    services.folder_delete(actor=request.user, folder=folder, request=request)
    messages.success(
        request,
        _("Le dossier a été supprimé ; ses documents sont toujours dans la liste."),
    )
    return redirect("dmp:documents")
