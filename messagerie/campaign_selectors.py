"""Reads of the prevention campaigns (MSG-4, MSG-5, CONS-9).

Two sides:

- the targeting, as SQL built from the campaign's data (age range on the
  send date, sex, profile criteria from `CRITERIA`), used by the agents'
  preview (one COUNT) and by the send job (INSERT … SELECT by id range);
- the patient's messages, for the active profile (the holder, or the
  representative acting for a child, CONS-7): every read asks
  `consent.policy` (purpose MANAGE: the patient side only, never a
  professional nor an agent) and leaves exactly one audit entry, allowed or
  refused; a refusal is the same 404 as a missing message.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from audit.models import AuditEvent
from consent.models import PrivacySettings
from consent.policy import Access, Purpose, access_audit, access_for
from espace.models import Beneficiary, LegalRepresentation, Space, User
from lib.dates import add_years
from messagerie.campaign_models import Campaign, CampaignCriterion, CampaignDelivery

Action = AuditEvent.Action

# ---------------------------------------------------------------- targeting


def send_date(campaign: Campaign) -> dt.date:
    """The day ages are computed on: the send date, in Paris time."""
    return timezone.localtime(campaign.send_at).date()


def born_between(
    day: dt.date, age_min: int | None, age_max: int | None
) -> tuple[dt.date | None, dt.date | None]:
    """(born on or before, born after): the birth dates of people aged
    `age_min` to `age_max` (both included) on `day`. Someone born on 29
    February has their birthday on 1 March in other years."""
    born_by = add_years(day, -age_min) if age_min is not None else None
    born_after = add_years(day, -(age_max + 1)) if age_max is not None else None
    return born_by, born_after


@dataclass(frozen=True)
class Sql:
    """A condition on the beneficiary `b` (its space is `s`), with its
    parameters (named, unique to the criterion)."""

    where: str
    params: dict[str, Any]


def _child_aged(criterion: CampaignCriterion, day: dt.date, n: int) -> Sql:
    """ "Has a child aged X to Y": an active legal representation of a minor
    of that age on the send date (LC-10)."""
    born_by, born_after = born_between(day, criterion.min_age, criterion.max_age)
    return Sql(
        f"""EXISTS (
            SELECT 1 FROM {LegalRepresentation._meta.db_table} r
            JOIN {Beneficiary._meta.db_table} c ON c.id = r.minor_id
            WHERE r.representative_id = b.id AND r.status = 'active'
              AND c.birth_date <= %(c{n}_by)s AND c.birth_date > %(c{n}_after)s
        )""",  # noqa: S608 - table names from the models, values bound
        {f"c{n}_by": born_by, f"c{n}_after": born_after},
    )


def _activated(criterion: CampaignCriterion, day: dt.date, n: int) -> Sql:
    """The holder activated their profile themselves (an account to log in
    with), rather than a profile opened automatically (LC-5, LC-6)."""
    return Sql("s.state = 'activated'", {})


def _latest_birth(day: dt.date, age: Any) -> dt.date:
    """The latest birth date of someone who has reached `age` on `day`
    (agenda.calendar.add_age: calendar months, month ends clamped)."""
    from agenda.calendar import add_age

    birth = day - dt.timedelta(days=int(_days(age)))
    while add_age(birth, age) > day:
        birth -= dt.timedelta(days=1)
    while add_age(birth + dt.timedelta(days=1), age) <= day:
        birth += dt.timedelta(days=1)
    return birth


def _days(age: Any) -> float:
    from agenda.calendar import Unit

    value, unit = age
    per_unit = {Unit.DAY: 1, Unit.WEEK: 7, Unit.MONTH: 30.44, Unit.YEAR: 365.25}
    return float(per_unit[unit] * value)


def _agenda_due(criterion: CampaignCriterion, day: dt.date, n: int) -> Sql:
    """AG-1 × MSG-4: inside the age window, on the send date, of the version
    in force that day of a one-time recommendation of the preventive
    calendar (its sex and birth cohort too), and not marked done (AG-2).
    Nobody is owed a version no longer or not yet in force: no one is
    targeted then."""
    from agenda.calendar import parse_age
    from agenda.models import DoneMark, Recommendation

    rule = (
        Recommendation.objects.filter(
            code=criterion.recommendation,
            frequency=Recommendation.Frequency.ONCE,
            valid_from__lte=day,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .first()
    )
    if rule is None:
        return Sql("false", {})
    p = f"a{n}_"
    where = [f"b.birth_date <= %({p}by)s"]
    params: dict[str, Any] = {f"{p}by": _latest_birth(day, parse_age(rule.age_start))}
    if rule.age_end:
        where.append(f"b.birth_date > %({p}after)s")
        params[f"{p}after"] = _latest_birth(day, parse_age(rule.age_end))
    if rule.sex:
        where.append(f"b.sex = %({p}sex)s")
        params[f"{p}sex"] = rule.sex
    if rule.born_from:
        where.append(f"b.birth_date >= %({p}from)s")
        params[f"{p}from"] = rule.born_from
    if rule.born_until:
        where.append(f"b.birth_date <= %({p}until)s")
        params[f"{p}until"] = rule.born_until
    if rule.condition:
        return Sql("false", {})  # conditions are not recorded per person yet
    where.append(
        f"""NOT EXISTS (
            SELECT 1 FROM {DoneMark._meta.db_table} m
            WHERE m.patient_id = b.id AND m.item_key = %({p}code)s
        )"""  # noqa: S608 - table name from the model, values bound
    )
    params[f"{p}code"] = rule.code
    return Sql(" AND ".join(where), params)


# MSG-4: every kind of CampaignCriterion.Kind, as SQL on (b, s). A new
# criterion is one more choice in the model and one more function here.
CRITERIA: dict[str, Callable[[CampaignCriterion, dt.date, int], Sql]] = {
    CampaignCriterion.Kind.CHILD_AGED: _child_aged,
    CampaignCriterion.Kind.ACTIVATED: _activated,
    CampaignCriterion.Kind.AGENDA_DUE: _agenda_due,
}


def _one_of(column: str, name: str, values: list[str]) -> Sql:
    """`column` is one of `values`: one array parameter on PostgreSQL, a
    list of parameters elsewhere (SQLite has no arrays)."""
    if connection.vendor == "postgresql":
        return Sql(f"{column} = ANY(%({name})s)", {name: values})
    named = {f"{name}_{i}": value for i, value in enumerate(values)}
    return Sql(f"{column} IN ({', '.join(f'%({n})s' for n in named)})", named)


def targeting_sql(
    campaign: Campaign, criteria: list[CampaignCriterion] | None = None
) -> Sql:
    """MSG-4: who the campaign targets, as a condition on `b` (beneficiary)
    joined to `s` (their space): an open space only (never an opposed,
    suspended or closed one), the age range on the send date, the sex, and
    every profile criterion. CONS-9 refusals are not excluded here: the job
    records them (WITHHELD) so that agents see how many refused."""
    day = send_date(campaign)
    open_states = _one_of("s.state", "open_states", [str(s) for s in Space.OPEN_STATES])
    where = [open_states.where]
    params: dict[str, Any] = dict(open_states.params)
    born_by, born_after = born_between(day, campaign.age_min, campaign.age_max)
    if born_by is not None:
        where.append("b.birth_date <= %(born_by)s")
        params["born_by"] = born_by
    if born_after is not None:
        where.append("b.birth_date > %(born_after)s")
        params["born_after"] = born_after
    if campaign.sex:
        where.append("b.sex = %(sex)s")
        params["sex"] = campaign.sex
    if criteria is None:
        criteria = list(campaign.criteria.order_by("pk"))
    for n, criterion in enumerate(criteria):
        sql = CRITERIA[criterion.kind](criterion, day, n)
        where.append(sql.where)
        params |= sql.params
    return Sql(" AND ".join(where), params)


TARGETS_FROM = (
    f"{Beneficiary._meta.db_table} b "
    f"JOIN {Space._meta.db_table} s ON s.beneficiary_id = b.id "
    f"LEFT JOIN {PrivacySettings._meta.db_table} p ON p.patient_id = b.id"
)
# The same, for the beneficiary ids in (%(lo)s, %(hi)s] (the send job's
# ranges): each joined table is read over the range only, through its index,
# not scanned whole once per range.
RANGE_FROM = (
    f"{Beneficiary._meta.db_table} b "
    f"JOIN {Space._meta.db_table} s ON s.beneficiary_id = b.id "
    "AND s.beneficiary_id > %(lo)s AND s.beneficiary_id <= %(hi)s "
    f"LEFT JOIN {PrivacySettings._meta.db_table} p ON p.patient_id = b.id "
    "AND p.patient_id > %(lo)s AND p.patient_id <= %(hi)s"
)


@dataclass(frozen=True)
class Preview:
    targeted: int
    refusing: int

    @property
    def recipients(self) -> int:
        return self.targeted - self.refusing


def campaign_preview(*, campaign: Campaign) -> Preview:
    """MSG-4: how many people the campaign reaches if sent now (one SQL
    COUNT), and how many of them refused prevention messages (CONS-9)."""
    sql = targeting_sql(campaign)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE p.prevention_refused) "  # noqa: S608
            f"FROM {TARGETS_FROM} WHERE {sql.where}",
            sql.params,
        )
        targeted, refusing = cursor.fetchone()
    return Preview(int(targeted), int(refusing))


# ---------------------------------------------------------------- patient side


@dataclass(frozen=True)
class PreventionMessage:
    """What the patient sees of one message: the campaign's text and reason."""

    campaign_id: uuid.UUID
    title: str
    reason: str
    delivered_at: dt.datetime
    read_at: dt.datetime | None
    body: str = ""

    @property
    def unread(self) -> bool:
        return self.read_at is None


def _decide(
    *,
    actor: User,
    patient: Beneficiary,
    code: str,
    target: object,
    request: HttpRequest | None,
) -> Access:
    """The patient side only (the holder, a representative of a child whose
    space is open); a refusal is audited and answers 404."""
    access = access_for(actor=actor, patient=patient, purpose=Purpose.MANAGE)
    if not access.allowed:
        access_audit(
            access, action=Action.READ, target=target, code=code, request=request
        )
        raise Http404
    return access


def _shown(patient: Beneficiary) -> QuerySet[CampaignDelivery]:
    return CampaignDelivery.objects.filter(
        beneficiary=patient, status=CampaignDelivery.Status.DELIVERED
    )


LIST_SIZE = 100


def prevention_message_list_for(
    *, actor: User, patient: Beneficiary, request: HttpRequest | None = None
) -> list[PreventionMessage]:
    """MSG-4: the profile's prevention messages, unread first, then newest
    first (titles and reasons; bodies on the message page). One audit entry."""
    code = "msg4.prevention.list"
    target = "messagerie.campaigndelivery"
    access = _decide(
        actor=actor, patient=patient, code=code, target=target, request=request
    )
    rows = (
        _shown(patient)
        .select_related("campaign")
        .order_by(F("read_at").desc(nulls_first=True), "-notified_at")
        .defer("campaign__body")[:LIST_SIZE]
    )
    messages = [
        PreventionMessage(
            campaign_id=row.campaign_id,
            title=row.campaign.title,
            reason=row.campaign.reason,
            delivered_at=row.notified_at or row.created_at,
            read_at=row.read_at,
        )
        for row in rows
    ]
    access_audit(access, action=Action.READ, target=target, code=code, request=request)
    return messages


def prevention_unread_count(*, patient: Beneficiary) -> int:
    """Unread messages of the profile (a badge; no content)."""
    return _shown(patient).filter(read_at__isnull=True).count()


def prevention_message_get_for(
    *,
    actor: User,
    patient: Beneficiary,
    campaign_id: uuid.UUID,
    request: HttpRequest | None = None,
) -> tuple[PreventionMessage, CampaignDelivery]:
    """MSG-4: one message of the active profile, with its body (decrypted
    here) and its reason. The message is named by its campaign: each profile
    has its own copy, so nobody can ask for another's. A profile with no
    such message gets a 404 (nothing was read: no entry); one the actor may
    not act for gets a 404 and a refusal entry."""
    target = ("messagerie.campaign", campaign_id)
    code = "msg4.prevention.read"
    access = _decide(
        actor=actor, patient=patient, code=code, target=target, request=request
    )
    delivery = (
        _shown(patient)
        .select_related("campaign")
        .filter(campaign_id=campaign_id)
        .first()
    )
    if delivery is None:
        raise Http404
    campaign = delivery.campaign
    message = PreventionMessage(
        campaign_id=campaign.pk,
        title=campaign.title,
        reason=campaign.reason,
        delivered_at=delivery.notified_at or delivery.created_at,
        read_at=delivery.read_at,
        body=campaign.body,
    )
    access_audit(access, action=Action.READ, target=target, code=code, request=request)
    return message, delivery
