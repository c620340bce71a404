"""Writes of the professional portal that no other service covers (STYLE R5).

Deposits, announcements, deletions, care declarations and emergency accesses
are `dmp.services` and `consent.services`; this module only marks the
professional's notices read (CONS-6).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from consent.models import ProfessionalNotice
from espace.models import User


@transaction.atomic
def notices_mark_read(*, actor: User, notices: Sequence[ProfessionalNotice]) -> int:
    """Shown means read (like the patients' inbox, LC-12). Only the actor's
    own notices change; returns how many. No audit entry: a notice carries
    no health content and reading it is not an access to a DMP."""
    return ProfessionalNotice.objects.filter(
        pk__in=[n.pk for n in notices],
        professional__user=actor,
        read_at__isnull=True,
    ).update(read_at=timezone.now())
