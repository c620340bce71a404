"""Actor-scoped reads of the espace app (STYLE R8): missing and forbidden
both answer 404."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from espace.models import Beneficiary, LegalRepresentation, Notification, User
from lib.dates import add_years


def adult_cutoff() -> dt.date:
    """Whoever was born on or before this date is 18 or older today."""
    return add_years(timezone.localdate(), -18)


def profile_list_for(*, actor: User) -> list[Beneficiary]:
    """LC-10, CONS-7: the holder's own profile, then each minor they represent
    (an active representation, and the child not yet 18)."""
    own = Beneficiary.objects.filter(user=actor).first()
    if own is None:
        return []
    children = (
        Beneficiary.objects.filter(
            representatives__representative=own,
            representatives__status=LegalRepresentation.Status.ACTIVE,
            birth_date__gt=adult_cutoff(),
        )
        .order_by("birth_date", "pk")
        .distinct()
    )
    return [own, *children]


def profile_get_for(*, actor: User, pk: int) -> Beneficiary:
    """One profile the actor may act for; another family's child is a 404."""
    for profile in profile_list_for(actor=actor):
        if profile.pk == pk:
            return profile
    raise Http404


def profile_active_for(*, actor: User, profile_id: object) -> Beneficiary | None:
    """LC-10: the profile the actor is acting for (the session's choice,
    `espace.views.PROFILE`), or their own; None without any."""
    profiles = profile_list_for(actor=actor)
    chosen = next((p for p in profiles if p.pk == profile_id), None)
    return chosen or (profiles[0] if profiles else None)


def invitation_list_for(*, actor: User) -> QuerySet[LegalRepresentation]:
    """LC-10: invitations to co-manage a child's space, waiting for the actor."""
    return LegalRepresentation.objects.filter(
        representative__user=actor, status=LegalRepresentation.Status.INVITED
    ).select_related("minor")


def invitation_get_for(*, actor: User, pk: int) -> LegalRepresentation:
    invitation = invitation_list_for(actor=actor).filter(pk=pk).first()
    if invitation is None:
        raise Http404
    return invitation


INBOX_SIZE = 50


def inbox_for(*, actor: User) -> list[Notification]:
    """LC-12: the in-app notifications of the actor's profiles (their own and
    the children they represent), newest first, with the profile attached."""
    profiles = {p.pk: p for p in profile_list_for(actor=actor)}
    notifications = list(
        Notification.objects.filter(
            beneficiary_id__in=profiles, channel=Notification.Channel.INAPP
        ).order_by("-created_at", "-pk")[:INBOX_SIZE]
    )
    for notification in notifications:
        notification.beneficiary = profiles[notification.beneficiary_id]
    return notifications


def inbox_unread_count(*, actor: User) -> int:
    """Unread in-app notifications of the same profiles as `inbox_for` (the
    header badge: one query per page)."""
    represented = LegalRepresentation.objects.filter(
        minor=OuterRef("beneficiary"),
        representative__user=actor,
        status=LegalRepresentation.Status.ACTIVE,
    )
    return (
        Notification.objects.filter(
            channel=Notification.Channel.INAPP, read_at__isnull=True
        )
        .filter(
            Q(beneficiary__user=actor)
            | Q(Exists(represented), beneficiary__birth_date__gt=adult_cutoff())
        )
        .count()
    )
