"""Writes of the preventive calendar (AG-2, STYLE R5): mark an item done,
undo.

Only the patient side writes: the holder or a legal representative of a
child (CONS-7), through `consent.policy` with Purpose.MANAGE (professionals
and agents are refused there). Each call writes exactly one audit entry for
its decision, allowed, refused or invalid (G-S12), ids and codes only: the
free text (who did it) is encrypted at rest (SEC-5) and never logged.
A linked document must be one of the person's DMP documents the actor may
read (the same decision's filter, `consent.policy.Access.documents`).
The entry of a refusal or of bad input is written outside the write's
transaction (which then never starts); a write and its entry commit
together.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from agenda.models import DoneMark
from agenda.selectors import calendar_compute
from audit.models import AuditEvent
from consent.policy import Decision, Purpose
from dmp.models import Document
from dmp.selectors import visible_documents
from espace.models import Beneficiary, User

Action = AuditEvent.Action
MAX_PERFORMER = 200


# The patient side's writes (MANAGE: the policy refuses professionals).
_decision = partial(Decision, purpose=Purpose.MANAGE)


def _performer(value: str) -> str:
    text = " ".join(value.split())
    if len(text) > MAX_PERFORMER:
        raise ValidationError(
            {"performer": _("%(max)s caractères au plus.") % {"max": MAX_PERFORMER}},
            code="too_long",
        )
    return text


def _done_on(value: dt.date | None, patient: Beneficiary) -> dt.date:
    if value is None:
        raise ValidationError({"done_on": _("Indiquez la date.")}, code="required")
    if value > timezone.localdate():
        raise ValidationError({"done_on": _("La date est dans le futur.")}, code="date")
    if value < patient.birth_date:
        raise ValidationError(
            {"done_on": _("La date est antérieure à la naissance.")}, code="date"
        )
    return value


def calendar_item_mark_done(
    *,
    actor: User,
    patient: Beneficiary,
    key: str,
    done_on: dt.date | None,
    performer: str = "",
    document: uuid.UUID | None = None,
    request: HttpRequest | None = None,
) -> DoneMark:
    """AG-2: mark an item of `patient`'s calendar done (or change the date,
    who did it, the document, if it already was)."""
    target = "agenda.donemark"
    decision = _decision(
        actor=actor,
        patient=patient,
        action=Action.UPDATE,
        code="agenda.item.done",
        target=target,
        request=request,
    )
    try:
        if not any(i.key == key for i in calendar_compute(patient)):
            raise ValidationError(
                _("Cette recommandation ne figure pas dans le calendrier."),
                code="unknown_item",
            )
        done_on = _done_on(done_on, patient)
        performer = _performer(performer)
        linked: Document | None = None
        if document is not None:
            linked = visible_documents(decision.access).filter(pk=document).first()
            if linked is None:
                raise ValidationError(
                    {"document": _("Document introuvable dans ce dossier.")},
                    code="document",
                )
    except ValidationError:
        decision.invalid(target=target)
        raise
    with transaction.atomic():
        # get_or_create: two first marks at once make one row, not an error
        mark, _created = DoneMark.objects.select_for_update().get_or_create(
            patient=patient,
            item_key=key,
            defaults={"done_on": done_on, "marked_by": actor},
        )
        mark.done_on = done_on
        mark.performer = performer
        mark.document = linked
        mark.marked_by = actor
        mark.full_clean()
        mark.save()
        decision.done(target=("agenda.donemark", mark.pk))
    return mark


def calendar_item_undo(
    *,
    actor: User,
    patient: Beneficiary,
    key: str,
    request: HttpRequest | None = None,
) -> bool:
    """AG-2: the item is no longer marked done; False when it was not."""
    target = "agenda.donemark"
    decision = _decision(
        actor=actor,
        patient=patient,
        action=Action.DELETE,
        code="agenda.item.undo",
        target=target,
        request=request,
    )
    with transaction.atomic():
        mark = (
            DoneMark.objects.select_for_update()
            .filter(patient=patient, item_key=key)
            .first()
        )
        if mark is None:
            decision.done(target=target)
            return False
        pk = mark.pk
        mark.delete()
        decision.done(target=("agenda.donemark", pk))
    return True
