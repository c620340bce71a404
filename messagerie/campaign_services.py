"""Writes of the prevention campaigns (MSG-4, MSG-5, CONS-9), STYLE R5.

Agents (the Django admin is their back office) write campaigns: create and
edit a draft, schedule it, take it back to draft, cancel it. Patients read
their messages (marked read). Each is one transaction with one audit entry
(ids and codes: never a title or a body). The sending itself is the
set-based job of `campaign_jobs`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from espace.models import User
from messagerie.campaign_models import Campaign, CampaignCriterion, CampaignDelivery

Action = AuditEvent.Action
State = Campaign.State


def _agent(actor: User) -> None:
    """Campaigns are the agents' (MSG-4): nobody else writes them."""
    if actor.role != User.Role.AGENT or not actor.is_staff:
        raise PermissionDenied


@transaction.atomic
def campaign_save(
    *, actor: User, campaign: Campaign, request: HttpRequest | None = None
) -> Campaign:
    """MSG-4: create a draft campaign or change one (only a draft changes)."""
    _agent(actor)
    creating = campaign._state.adding
    if not creating:
        current = Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        if current is None or current.state != State.DRAFT:
            raise ValidationError(
                _("Seule une campagne au brouillon peut être modifiée.")
            )
        # The job's fields are never taken from a form.
        for name in (
            "state",
            "created_by_id",
            "upto",
            "write_cursor",
            "notify_cursor",
            "targeted_count",
            "delivered_count",
            "read_count",
            "withheld_count",
        ):
            setattr(campaign, name, getattr(current, name))
    else:
        campaign.state = State.DRAFT
        campaign.created_by = actor
    campaign.full_clean()
    campaign.save()
    audit_record(
        actor=actor,
        action=Action.CREATE if creating else Action.UPDATE,
        target=campaign,
        code="msg4.campaign.created" if creating else "msg4.campaign.changed",
        request=request,
    )
    return campaign


@dataclass(frozen=True)
class CriterionInput:
    kind: str
    min_age: int | None = None
    max_age: int | None = None
    recommendation: str = ""


@transaction.atomic
def campaign_criteria_replace(
    *,
    actor: User,
    campaign: Campaign,
    criteria: Sequence[CriterionInput],
    request: HttpRequest | None = None,
) -> list[CampaignCriterion]:
    """MSG-4: the profile criteria of a draft (all must hold)."""
    _agent(actor)
    locked = Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
    if locked is None or locked.state != State.DRAFT:
        raise ValidationError(_("Seule une campagne au brouillon peut être modifiée."))
    rows = [
        CampaignCriterion(
            campaign=campaign,
            kind=c.kind,
            min_age=c.min_age,
            max_age=c.max_age,
            recommendation=c.recommendation,
        )
        for c in criteria
    ]
    for row in rows:
        row.full_clean(exclude=["campaign"])
    CampaignCriterion.objects.filter(campaign=campaign).delete()
    CampaignCriterion.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        target=campaign,
        code="msg4.campaign.criteria",
        request=request,
    )
    return rows


def _move(
    *,
    actor: User,
    campaign: Campaign,
    from_states: Sequence[str],
    to_state: str,
    code: str,
    request: HttpRequest | None,
    **updates: object,
) -> Campaign:
    _agent(actor)
    with transaction.atomic():
        moved = Campaign.objects.filter(
            pk=campaign.pk, state__in=list(from_states)
        ).update(state=to_state, updated_at=timezone.now(), **updates)
        if not moved:
            raise ValidationError(
                _("Cette action n'est plus possible dans l'état actuel de la campagne.")
            )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            target=campaign,
            code=code,
            request=request,
        )
    campaign.refresh_from_db()
    return campaign


SCHEDULE_GRACE = dt.timedelta(hours=1)  # "now", prepared a moment ago


def campaign_schedule(
    *, actor: User, campaign: Campaign, request: HttpRequest | None = None
) -> Campaign:
    """MSG-4: a draft is scheduled; the job sends it once its date has come
    (only a scheduled campaign is ever sent)."""
    campaign.full_clean()  # a draft saved before a rule changed
    if campaign.send_at < timezone.now() - SCHEDULE_GRACE:
        # ages are computed on the send date: a date gone by would target
        # people by the age they had then
        raise ValidationError(
            _("La date d'envoi est passée : choisissez une date à venir.")
        )
    return _move(
        actor=actor,
        campaign=campaign,
        from_states=[State.DRAFT],
        to_state=State.SCHEDULED,
        code="msg4.campaign.scheduled",
        request=request,
        scheduled_at=timezone.now(),
    )


def campaign_unschedule(
    *, actor: User, campaign: Campaign, request: HttpRequest | None = None
) -> Campaign:
    """MSG-4: back to draft, before the sending started."""
    return _move(
        actor=actor,
        campaign=campaign,
        from_states=[State.SCHEDULED],
        to_state=State.DRAFT,
        code="msg4.campaign.unscheduled",
        request=request,
        scheduled_at=None,
    )


def campaign_cancel(
    *, actor: User, campaign: Campaign, request: HttpRequest | None = None
) -> Campaign:
    """MSG-4: a draft or scheduled campaign is cancelled (never one sending)."""
    return _move(
        actor=actor,
        campaign=campaign,
        from_states=[State.DRAFT, State.SCHEDULED],
        to_state=State.CANCELLED,
        code="msg4.campaign.cancelled",
        request=request,
        cancelled_at=timezone.now(),
    )


@transaction.atomic
def prevention_message_mark_read(*, delivery: CampaignDelivery) -> bool:
    """MSG-4, MSG-5: the first reading of a message counts once in the
    campaign's "read" figure. The caller audited the read (selectors)."""
    read = CampaignDelivery.objects.filter(
        campaign_id=delivery.campaign_id,
        beneficiary_id=delivery.beneficiary_id,
        read_at__isnull=True,
    ).update(read_at=timezone.now())
    if read:
        Campaign.objects.filter(pk=delivery.campaign_id).update(
            read_count=F("read_count") + 1
        )
    return bool(read)
