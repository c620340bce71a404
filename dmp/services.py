"""Writes of the DMP (STYLE R5): deposits, versions, deletions, masks, folders.

Each service asks `consent.policy` first and writes one audit entry for its
decision, allowed or refused (G-S12). A refused write raises
`PermissionDenied` for the caller to answer with the same 404 as a missing
object; bad input raises `ValidationError` with a French message. A deposit
stores the file first, then the row in one transaction; if the row cannot be
written the file is removed: never a file without a row, nor the reverse.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from consent.policy import Access, Basis, Decision, Purpose
from dmp import codes
from dmp.models import Document, Folder
from dmp.uploads import UploadRefused, check_upload
from espace.models import Beneficiary, Notification, User

Action = AuditEvent.Action


# Every write of this module: one decision, audited once (consent.policy).
_Decision = functools.partial(Decision, target="dmp.document")


def max_upload_bytes(access: Access) -> int:
    """DMP-2: 5 MB for the patient side, configurable for professionals."""
    if access.patient_side:
        return int(settings.DMP_PATIENT_MAX_BYTES)
    return int(settings.DMP_PROFESSIONAL_MAX_BYTES)


def document_deposit(
    *,
    actor: User,
    patient: Beneficiary,
    stream: IO[bytes],
    file_name: str,
    title: str,
    type_code: str,
    document_date: dt.date | None = None,
    masked: bool = False,
    invisible_patient: bool = False,
    invisible_representatives: bool = False,
    folder: Folder | None = None,
    replaces: Document | None = None,
    request: HttpRequest | None = None,
) -> Document:
    """DMP-2, DMP-4, DMP-5: add a document (or a new version of one).

    The patient (or a representative) adds DOCPAT documents; a professional
    in care adds documents of the reference list, with the J58 flags.
    """
    decision = _Decision(
        actor=actor,
        patient=patient,
        purpose=Purpose.DEPOSIT,
        action=Action.CREATE if replaces is None else Action.UPDATE,
        code="dmp.document.deposit" if replaces is None else "dmp.document.new_version",
        request=request,
    )
    access = decision.access
    if replaces is not None and (
        replaces.patient_id != patient.pk or not _is_author(access, replaces)
    ):
        decision.refuse(target=("dmp.document", replaces.pk), why="not_author")
    try:
        allowed_types = (
            codes.PATIENT_TYPES if access.patient_side else codes.PROFESSIONAL_TYPES
        )
        if type_code not in allowed_types:
            raise ValidationError(
                _("Choisissez un type de document de la liste."), code="type"
            )
        title = " ".join(title.split())
        if not title:
            raise ValidationError(_("Donnez un titre au document."), code="title")
        if len(title) > 200:
            raise ValidationError(_("Le titre dépasse 200 caractères."), code="title")
        today = timezone.localdate()
        if document_date is not None and document_date > today:
            raise ValidationError(
                _("La date du document est dans le futur."), code="date"
            )
        if access.patient_side and (invisible_patient or invisible_representatives):
            raise ValidationError(
                _("Réglage réservé aux professionnels."), code="flags"
            )
        if invisible_representatives and not _is_minor(patient):
            raise ValidationError(
                _("Ce réglage ne concerne que le secret d'un patient mineur."),
                code="flags",
            )
        if folder is not None and (
            folder.patient_id != patient.pk or not access.patient_side
        ):
            raise ValidationError(_("Dossier inconnu."), code="folder")
        try:
            checked = check_upload(
                stream, name=file_name, max_bytes=max_upload_bytes(access)
            )
        except UploadRefused as refused:
            raise ValidationError(refused.reason, code="upload") from refused
    except ValidationError:
        decision.invalid(target="dmp.document")
        raise

    name = default_storage.save(
        f"dmp/{patient.pk}/{uuid.uuid4().hex}", File(stream, name="upload")
    )
    try:
        with transaction.atomic():
            document = Document(
                patient=patient,
                title=title,
                type_code=type_code,
                class_code=codes.class_of(type_code),
                format_code=checked.format_code,
                mime_type=checked.mime_type,
                size=checked.size,
                sha256=checked.sha256,
                file=name,
                file_name=checked.file_name,
                author_professional=access.professional,
                author_establishment=(
                    access.professional.establishment if access.professional else None
                ),
                deposited_by=actor,
                document_date=document_date or today,
                masked=masked,
                invisible_patient=invisible_patient,
                invisible_representatives=invisible_representatives,
                folder=folder,
            )
            if replaces is not None:
                replaced = Document.objects.select_for_update().get(pk=replaces.pk)
                if replaced.status != Document.Status.CURRENT:
                    raise ValidationError(
                        _("Ce document a déjà été remplacé ou supprimé."),
                        code="stale",
                    )
                document.replaces = replaced
                document.version = replaced.version + 1
                document.folder = replaced.folder
                document.masked = masked or replaced.masked  # DMP-8: mask kept
                Document.objects.filter(pk=replaced.pk).update(
                    status=Document.Status.REPLACED
                )
            document.save()
            decision.done(target=("dmp.document", document.pk))
            if not access.patient_side and not invisible_patient:
                _new_document_notice(document)
    except BaseException:
        default_storage.delete(name)
        raise
    return document


def _is_minor(patient: Beneficiary) -> bool:
    from espace.selectors import adult_cutoff

    return patient.birth_date > adult_cutoff()


def _is_author(access: Access, document: Document) -> bool:
    """DMP-5, DMP-11: the patient side owns what the patient added; a
    professional owns what they wrote."""
    if access.patient_side:
        return document.by_patient
    return (
        access.professional is not None
        and document.author_professional_id == access.professional.pk
    )


def _new_document_notice(document: Document) -> None:
    """LC-12: "you have a new document", in the space and by e-mail, with no
    content (neither title nor type). One of each per document."""
    from espace.tasks import notification_send

    if document.invisible_representatives:
        return  # CONS-7: the notice would reach the representatives' inbox

    for channel in (Notification.Channel.INAPP, Notification.Channel.EMAIL):
        notification, created = Notification.objects.get_or_create(
            key=f"dmp.new_document:{document.pk}:{channel}",
            defaults={
                "beneficiary_id": document.patient_id,
                "kind": "dmp.new_document",
                "channel": channel,
            },
        )
        if created and channel == Notification.Channel.EMAIL:
            transaction.on_commit(
                functools.partial(notification_send.delay, notification.pk)
            )


def document_delete(
    *, actor: User, document: Document, request: HttpRequest | None = None
) -> Document:
    """DMP-5, DMP-11: the patient deletes what they added, an author what
    they wrote. The row stays (DELETED, in the history); the file goes once
    the transaction is committed."""
    decision = _Decision(
        actor=actor,
        patient=document.patient,
        purpose=Purpose.DEPOSIT,
        action=Action.DELETE,
        code="dmp.document.delete",
        request=request,
    )
    target = ("dmp.document", document.pk)
    if not _is_author(decision.access, document):
        decision.refuse(target=target, why="not_author")
    with transaction.atomic():
        changed = Document.objects.filter(
            pk=document.pk, status=Document.Status.CURRENT
        ).update(
            status=Document.Status.DELETED, deleted_at=timezone.now(), deleted_by=actor
        )
        decision.done(target=target)
        if changed:
            name = document.file
            transaction.on_commit(lambda: default_storage.delete(name))
    document.refresh_from_db()
    return document


def documents_mask(
    *,
    actor: User,
    patient: Beneficiary,
    documents: Iterable[Document] | None,
    masked: bool,
    request: HttpRequest | None = None,
) -> int:
    """DMP-8: the patient hides documents from professionals (some, or all
    with `documents=None`) and shows them again. The author and the médecin
    traitant still see them. Returns how many changed."""
    decision = _Decision(
        actor=actor,
        patient=patient,
        purpose=Purpose.MANAGE,
        action=Action.UPDATE,
        code="dmp.document.mask" if masked else "dmp.document.unmask",
        request=request,
    )
    # Only what the actor sees: neither a result withheld from the patient
    # (DMP-9) nor a minor's secret (DMP-10) is changed or counted.
    rows = Document.objects.filter(
        decision.access.documents(), patient=patient, status=Document.Status.CURRENT
    )
    chosen = None if documents is None else [d.pk for d in documents]
    if chosen is not None:
        rows = rows.filter(pk__in=chosen)
    with transaction.atomic():
        changed = rows.exclude(masked=masked).update(masked=masked)
        decision.done(
            target=("dmp.document", chosen[0])
            if chosen is not None and len(chosen) == 1
            else "dmp.document"
        )
    return changed


def document_announce(
    *, actor: User, document: Document, request: HttpRequest | None = None
) -> Document:
    """DMP-9: after the announcement consultation, the author (or the
    médecin traitant) makes a withheld result visible to the patient."""
    decision = _Decision(
        actor=actor,
        patient=document.patient,
        purpose=Purpose.DEPOSIT,
        action=Action.UPDATE,
        code="dmp.document.announce",
        request=request,
    )
    access = decision.access
    target = ("dmp.document", document.pk)
    if access.patient_side or not (
        _is_author(access, document) or access.basis == Basis.MEDECIN_TRAITANT
    ):
        decision.refuse(target=target, why="not_author")
    with transaction.atomic():
        changed = Document.objects.filter(
            pk=document.pk, invisible_patient=True, announced_at__isnull=True
        ).update(announced_at=timezone.now())
        decision.done(target=target)
        if changed:
            _new_document_notice(document)
    document.refresh_from_db()
    return document


# ---------------------------------------------------------------- folders


def _folder_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise ValidationError(_("Nom de dossier : de 1 à 80 caractères."), code="name")
    return name


def folder_create(
    *, actor: User, patient: Beneficiary, name: str, request: HttpRequest | None = None
) -> Folder:
    """DMP-5: a folder for the documents the patient adds."""
    decision = _Decision(
        actor=actor,
        patient=patient,
        purpose=Purpose.MANAGE,
        action=Action.CREATE,
        code="dmp.folder.create",
        request=request,
    )
    name = _folder_name(name)
    if Folder.objects.filter(patient=patient).count() >= MAX_FOLDERS:
        raise ValidationError(
            _("Vous avez atteint le nombre maximal de dossiers (100)."),
            code="too_many",
        )
    with transaction.atomic():
        folder = Folder.objects.create(patient=patient, name=name)
        decision.done(target=("dmp.folder", folder.pk))
    return folder


MAX_FOLDERS = 100


def folder_rename(
    *, actor: User, folder: Folder, name: str, request: HttpRequest | None = None
) -> Folder:
    decision = _Decision(
        actor=actor,
        patient=folder.patient,
        purpose=Purpose.MANAGE,
        action=Action.UPDATE,
        code="dmp.folder.rename",
        request=request,
    )
    folder.name = _folder_name(name)
    with transaction.atomic():
        folder.save(update_fields=["name"])
        decision.done(target=("dmp.folder", folder.pk))
    return folder


def folder_delete(
    *, actor: User, folder: Folder, request: HttpRequest | None = None
) -> None:
    """The documents of a deleted folder stay, outside any folder."""
    decision = _Decision(
        actor=actor,
        patient=folder.patient,
        purpose=Purpose.MANAGE,
        action=Action.DELETE,
        code="dmp.folder.delete",
        request=request,
    )
    with transaction.atomic():
        target = ("dmp.folder", folder.pk)
        folder.delete()
        decision.done(target=target)


def document_move(
    *,
    actor: User,
    document: Document,
    folder: Folder | None,
    request: HttpRequest | None = None,
) -> Document:
    """DMP-5: file a document the patient added into one of their folders."""
    decision = _Decision(
        actor=actor,
        patient=document.patient,
        purpose=Purpose.MANAGE,
        action=Action.UPDATE,
        code="dmp.document.move",
        request=request,
    )
    target = ("dmp.document", document.pk)
    if not _is_author(decision.access, document):
        decision.refuse(target=target, why="not_author")
    if folder is not None and folder.patient_id != document.patient_id:
        raise ValidationError(_("Dossier inconnu."), code="folder")
    with transaction.atomic():
        Document.objects.filter(pk=document.pk).update(folder=folder)
        decision.done(target=target)
    document.refresh_from_db()
    return document
