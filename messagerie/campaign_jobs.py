"""The prevention campaigns' send job (MSG-4, CONS-9, SEC-6), set-based.

A scheduled campaign whose date has come starts SENDING; its targets are
then taken by beneficiary id range (`batch` ids at a time), each range in
two short transactions:

1. write: one `INSERT … SELECT … ON CONFLICT DO NOTHING` of the range's
   targeted beneficiaries (open spaces only), PENDING, or WITHHELD for those
   who refused prevention messages (CONS-9), and the campaign's cursor and
   counters moved in the same transaction;
2. notify: the range's PENDING messages become DELIVERED, with one in-app
   notice and one e-mail (no content) each queued in the outbox
   (`espace_notification`, unique keys), or WITHHELD if the person refused
   since step 1 (not notified, never shown).

A worker killed anywhere rolls back its current transaction only; the next
run starts again from the cursors, and the unique keys (the delivery's
primary key, the notification's key) make a replayed range write nothing
twice: exactly one message per targeted, non-refusing person. Two workers
never work on the same campaign at once (its row is locked, SKIP LOCKED).
Run by Celery beat (`config/celery.py`) and `manage.py lifecycle_tick`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from consent.models import PrivacySettings
from espace.models import Beneficiary, Notification
from espace.notifications import PREVENTION
from messagerie.campaign_models import Campaign, CampaignDelivery
from messagerie.campaign_selectors import RANGE_FROM, Sql, targeting_sql

BATCH = 100_000  # beneficiary ids per range
IN_CHUNK = 10_000  # ids per `IN (…)` of the portable path (SQLite's limit)
State = Campaign.State
DELIVERY = CampaignDelivery._meta.db_table
CAMPAIGN = Campaign._meta.db_table
NOTIFICATION = Notification._meta.db_table
PRIVACY = PrivacySettings._meta.db_table
BENEFICIARY = Beneficiary._meta.db_table


def campaigns_start() -> list[uuid.UUID]:
    """MSG-4: scheduled campaigns whose date has come start sending (only a
    scheduled campaign is ever sent). The targets are the beneficiaries
    known at that moment (`upto`)."""
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor != "postgresql":
            started = _start_portable(now)
        else:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""UPDATE {CAMPAIGN} SET state = %(sending)s, started_at = %(now)s,
                        updated_at = %(now)s,
                        upto = (SELECT coalesce(max(id), 0) FROM {BENEFICIARY})
                    WHERE state = %(scheduled)s AND send_at <= %(now)s
                    RETURNING id""",  # noqa: S608 - table names from the models
                    {
                        "sending": State.SENDING,
                        "scheduled": State.SCHEDULED,
                        "now": now,
                    },
                )
                started = [row[0] for row in cursor.fetchall()]
        for campaign_id in started:
            audit_record(
                actor=None,
                action=AuditEvent.Action.EXECUTE,
                target=("messagerie.campaign", campaign_id),
                code="msg4.campaign.sending",
            )
    return started


def _start_portable(now: dt.datetime) -> list[uuid.UUID]:
    """`campaigns_start` on any other database (SQLite: no UPDATE …
    RETURNING before 3.35): the campaigns due, then the same update, in the
    caller's transaction (writers are serialised)."""
    due = Campaign.objects.filter(state=State.SCHEDULED, send_at__lte=now)
    started = list(due.values_list("pk", flat=True))
    upto = Beneficiary.objects.aggregate(upto=Coalesce(Max("id"), 0))["upto"]
    Campaign.objects.filter(pk__in=started, state=State.SCHEDULED).update(
        state=State.SENDING, started_at=now, updated_at=now, upto=upto
    )
    return started


def _lock(campaign_id: uuid.UUID) -> Campaign | None:
    """The campaign, locked for this batch, if SENDING and free (another
    worker on it: None, this run leaves it to that one)."""
    return (
        Campaign.objects.select_for_update(skip_locked=True)
        .filter(pk=campaign_id, state=State.SENDING)
        .first()
    )


def _write(campaign: Campaign, lo: int, hi: int) -> tuple[int, int]:
    """Step 1 for ids in (lo, hi]: (rows written, of which withheld)."""
    sql = targeting_sql(campaign)
    params: dict[str, Any] = {
        **sql.params,
        "campaign": campaign.pk,
        "lo": lo,
        "hi": hi,
        "now": timezone.now(),
    }
    if connection.vendor != "postgresql":
        return _write_portable(campaign, sql, params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH ins AS (
                INSERT INTO {DELIVERY} (campaign_id, beneficiary_id, status, created_at)
                SELECT %(campaign)s, b.id,
                       CASE WHEN p.prevention_refused THEN 'withheld' ELSE 'pending' END,
                       %(now)s
                FROM {RANGE_FROM}
                WHERE b.id > %(lo)s AND b.id <= %(hi)s AND {sql.where}
                ON CONFLICT DO NOTHING
                RETURNING status
            )
            SELECT count(*), count(*) FILTER (WHERE status = 'withheld') FROM ins""",  # noqa: S608
            params,
        )
        written, withheld = cursor.fetchone()
    return int(written), int(withheld)


def _write_portable(
    campaign: Campaign, sql: Sql, params: dict[str, Any]
) -> tuple[int, int]:
    """`_write` on any other database: the range's targets without a
    message yet (selected in the caller's transaction: writers are
    serialised, so each is new), bulk-inserted ignoring conflicts on the
    (beneficiary, campaign) primary key."""
    params = {**params, "campaign": _db_id(campaign)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT b.id, coalesce(p.prevention_refused, false)
            FROM {RANGE_FROM}
            WHERE b.id > %(lo)s AND b.id <= %(hi)s AND {sql.where}
              AND NOT EXISTS (SELECT 1 FROM {DELIVERY} d
                WHERE d.campaign_id = %(campaign)s AND d.beneficiary_id = b.id)""",  # noqa: S608
            params,
        )
        rows = cursor.fetchall()
    Status = CampaignDelivery.Status
    CampaignDelivery.objects.bulk_create(
        [
            CampaignDelivery(
                campaign_id=campaign.pk,
                beneficiary_id=beneficiary_id,
                status=Status.WITHHELD if refused else Status.PENDING,
                created_at=params["now"],
            )
            for beneficiary_id, refused in rows
        ],
        ignore_conflicts=True,
    )
    return len(rows), sum(1 for _id, refused in rows if refused)


def _db_id(campaign: Campaign) -> Any:
    """The campaign's id as the database stores it (SQLite: 32 hex digits),
    for raw SQL."""
    return Campaign._meta.pk.get_db_prep_value(campaign.pk, connection)


# The PENDING messages of the range, with what step 2 needs of each.
_NOTIFY_DUE = f"""SELECT d.beneficiary_id, coalesce(p.prevention_refused, false) AS refused,
                       b.email <> '' AS has_email
                FROM {DELIVERY} d
                JOIN {BENEFICIARY} b ON b.id = d.beneficiary_id
                  AND b.id > %(lo)s AND b.id <= %(hi)s
                LEFT JOIN {PRIVACY} p ON p.patient_id = d.beneficiary_id
                  AND p.patient_id > %(lo)s AND p.patient_id <= %(hi)s
                WHERE d.campaign_id = %(campaign)s AND d.beneficiary_id > %(lo)s
                  AND d.beneficiary_id <= %(hi)s AND d.status = 'pending'"""  # noqa: S608


def _notify(campaign: Campaign, lo: int, hi: int) -> tuple[int, int]:
    """Step 2 for ids in (lo, hi]: (delivered, withheld since step 1)."""
    params: dict[str, Any] = {
        "campaign": campaign.pk,
        "key": f"{PREVENTION}:{campaign.pk.hex}:",
        "kind": PREVENTION,
        "lo": lo,
        "hi": hi,
        "now": timezone.now(),
    }
    if connection.vendor != "postgresql":
        return _notify_portable(campaign, params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH due AS (
                {_NOTIFY_DUE}
            ), moved AS (
                UPDATE {DELIVERY} d
                SET status = CASE WHEN due.refused THEN 'withheld' ELSE 'delivered' END,
                    notified_at = CASE WHEN due.refused THEN NULL ELSE %(now)s END
                FROM due
                WHERE d.campaign_id = %(campaign)s
                  AND d.beneficiary_id = due.beneficiary_id AND d.status = 'pending'
                RETURNING d.beneficiary_id, d.status, due.has_email
            ), notes AS (
                INSERT INTO {NOTIFICATION}
                    (beneficiary_id, kind, key, channel, status, created_at, attempts)
                SELECT moved.beneficiary_id, %(kind)s,
                       %(key)s || moved.beneficiary_id || ':' || v.channel,
                       v.channel, 'pending', %(now)s, 0
                FROM moved CROSS JOIN (VALUES ('inapp'), ('email')) AS v(channel)
                WHERE moved.status = 'delivered' AND (v.channel = 'inapp' OR moved.has_email)
                ON CONFLICT (key) DO NOTHING
            )
            SELECT count(*) FILTER (WHERE status = 'delivered'),
                   count(*) FILTER (WHERE status = 'withheld') FROM moved""",  # noqa: S608
            params,
        )
        delivered, withheld = cursor.fetchone()
    return int(delivered), int(withheld)


def _notify_portable(campaign: Campaign, params: dict[str, Any]) -> tuple[int, int]:
    """`_notify` on any other database: the range's PENDING messages read in
    the caller's transaction (writers are serialised), moved to DELIVERED or
    WITHHELD, and the same notices (keys, channels, statuses) bulk-inserted
    ignoring conflicts on the key."""
    with connection.cursor() as cursor:
        cursor.execute(_NOTIFY_DUE, {**params, "campaign": _db_id(campaign)})
        rows = cursor.fetchall()
    Status = CampaignDelivery.Status
    now = params["now"]
    delivered = [(bid, has_email) for bid, refused, has_email in rows if not refused]
    withheld = [bid for bid, refused, _email in rows if refused]
    pending = CampaignDelivery.objects.filter(
        campaign_id=campaign.pk, status=Status.PENDING
    )
    for ids, status, at in (
        ([bid for bid, _email in delivered], Status.DELIVERED, now),
        (withheld, Status.WITHHELD, None),
    ):
        for lo in range(0, len(ids), IN_CHUNK):
            pending.filter(beneficiary_id__in=ids[lo : lo + IN_CHUNK]).update(
                status=status, notified_at=at
            )
    Notification.objects.bulk_create(
        [
            Notification(
                beneficiary_id=bid,
                kind=params["kind"],
                key=f"{params['key']}{bid}:{channel}",
                channel=channel,
                status=Notification.Status.PENDING,
                created_at=now,
                attempts=0,
            )
            for bid, has_email in delivered
            for channel in ("inapp", "email")
            if channel == "inapp" or has_email
        ],
        ignore_conflicts=True,
    )
    return len(delivered), len(withheld)


def campaign_write_step(campaign_id: uuid.UUID, *, batch: int = BATCH) -> bool:
    """Write the next range of a SENDING campaign; False when none is left
    (or another worker holds the campaign)."""
    with transaction.atomic():
        campaign = _lock(campaign_id)
        if campaign is None or campaign.write_cursor >= campaign.upto:
            return False
        lo = campaign.write_cursor
        hi = min(lo + batch, campaign.upto)
        written, withheld = _write(campaign, lo, hi)
        Campaign.objects.filter(pk=campaign.pk).update(
            write_cursor=hi,
            targeted_count=campaign.targeted_count + written,
            withheld_count=campaign.withheld_count + withheld,
        )
    return True


def campaign_notify_step(campaign_id: uuid.UUID, *, batch: int = BATCH) -> bool:
    """Notify the next written range of a SENDING campaign; False when all
    written ranges are notified."""
    with transaction.atomic():
        campaign = _lock(campaign_id)
        if campaign is None or campaign.notify_cursor >= campaign.write_cursor:
            return False
        lo = campaign.notify_cursor
        hi = min(lo + batch, campaign.write_cursor)
        delivered, withheld = _notify(campaign, lo, hi)
        Campaign.objects.filter(pk=campaign.pk).update(
            notify_cursor=hi,
            delivered_count=campaign.delivered_count + delivered,
            withheld_count=campaign.withheld_count + withheld,
        )
    return True


def campaign_finish(campaign_id: uuid.UUID) -> bool:
    """SENDING → SENT once every range is written and notified."""
    with transaction.atomic():
        campaign = _lock(campaign_id)
        if campaign is None or campaign.notify_cursor < campaign.upto:
            return False
        Campaign.objects.filter(pk=campaign.pk, state=State.SENDING).update(
            state=State.SENT, finished_at=timezone.now(), updated_at=timezone.now()
        )
        audit_record(
            actor=None,
            action=AuditEvent.Action.EXECUTE,
            target=campaign,
            code="msg4.campaign.sent",
        )
    return True


def campaign_run(
    campaign_id: uuid.UUID, *, batch: int = BATCH, max_steps: int | None = None
) -> int:
    """Write and notify a SENDING campaign range after range (notices go out
    while later ranges are computed), then mark it SENT. Returns the steps
    done; `max_steps` stops early (the rest is for the next run)."""
    steps = 0
    while max_steps is None or steps < max_steps:
        if campaign_notify_step(campaign_id, batch=batch) or campaign_write_step(
            campaign_id, batch=batch
        ):
            steps += 1
            continue
        campaign_finish(campaign_id)
        break
    return steps


def campaigns_send(*, batch: int = BATCH, max_steps: int | None = None) -> int:
    """MSG-4, the periodic job: start the due campaigns, then carry every
    SENDING one forward (a campaign left midway by a dead worker included).
    Returns the number of steps (ranges written or notified)."""
    campaigns_start()
    steps = 0
    for campaign_id in (
        Campaign.objects.filter(state=State.SENDING)
        .order_by("send_at")
        .values_list("pk", flat=True)
    ):
        left = None if max_steps is None else max_steps - steps
        if left is not None and left <= 0:
            break
        steps += campaign_run(campaign_id, batch=batch, max_steps=left)
    return steps


# ---------------------------------------------------------------- e-mails


def prevention_emails_pending(*, limit: int) -> list[int]:
    """MSG-4, CONS-9: prevention e-mails waiting in the outbox, except those
    to people who refused prevention messages since they were queued (those
    are dropped: never sent)."""
    with transaction.atomic():
        Notification.objects.filter(
            kind=PREVENTION,
            channel=Notification.Channel.EMAIL,
            status=Notification.Status.PENDING,
            beneficiary__privacy__prevention_refused=True,
        ).delete()
        return list(
            Notification.objects.filter(
                kind=PREVENTION,
                channel=Notification.Channel.EMAIL,
                status=Notification.Status.PENDING,
            )
            .exclude(beneficiary__privacy__prevention_refused=True)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )


def prevention_emails_send(*, batch: int = 5_000) -> int:
    """Send waiting prevention e-mails here and now (`lifecycle_tick`; Celery
    fans the same ids out to `notification_send` tasks). Each send claims
    its notification first: a double run sends once."""
    from espace.notifications import notification_send

    return sum(
        notification_send(notification_id=pk)
        for pk in prevention_emails_pending(limit=batch)
    )


JOBS: dict[str, Callable[..., int]] = {
    "prevention_campaigns": campaigns_send,
    "prevention_emails": prevention_emails_send,
}
