"""Actor-scoped reads of the preventive calendar (AG-1, AG-2, STYLE R8).

A calendar is health data (what a person was vaccinated against, which
exams they had): every read asks `consent.policy` and writes exactly one
audit entry, allowed or refused (G-S12). Only the patient side reads it
here (the holder, a legal representative of a child, CONS-7):
professionals and agents get the same 404 as a missing page.

The rules are loaded once per process into a `Rulebook` and loaded again
when an agent changes them (a cheap stamp query per read), so a change in
the back office counts from the next request.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

from django.db.models import Count, Max
from django.http import Http404, HttpRequest
from django.utils import timezone

from agenda.calendar import STATUS_LABELS, Item, Rulebook, Status, compute_calendar
from agenda.models import DoneMark, Recommendation
from audit.models import AuditEvent
from consent.policy import Access, Purpose, access_audit, access_for
from espace.models import Beneficiary, User
from lib.dates import add_years

Action = AuditEvent.Action
UPCOMING_YEARS = 2  # "À venir" shows the next two years; the rest on demand

_cache_lock = threading.Lock()
_cache: dict[str, tuple[object, Rulebook]] = {}


def rulebook() -> Rulebook:
    """Every rule version, built once and again after an agent's change."""
    stamp = tuple(
        Recommendation.objects.aggregate(n=Count("id"), last=Max("updated_at")).values()
    )
    cached = _cache.get("rules")
    if cached is not None and cached[0] == stamp:
        return cached[1]
    book = Rulebook.of(r.as_rule() for r in Recommendation.objects.all())
    with _cache_lock:
        _cache["rules"] = (stamp, book)
    return book


@dataclass
class VaccineRow:
    group: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Calendar:
    access: Access
    patient: Beneficiary
    items: list[Item]
    today: dt.date

    def with_status(self, status: Status) -> list[Item]:
        return [i for i in self.items if i.status == status]

    @property
    def groups(self) -> list[tuple[str, str, list[Item]]]:
        """(status, label, items): en retard, à faire, à venir (the next
        two years), fait (newest first)."""
        soon = add_years(self.today, UPCOMING_YEARS)  # 29 February too
        done = sorted(
            self.with_status(Status.DONE),
            key=lambda i: i.done_on or dt.date.min,
            reverse=True,
        )
        return [
            (s.value, STATUS_LABELS[s], items)
            for s, items in (
                (
                    Status.OVERDUE,
                    [i for i in self.with_status(Status.OVERDUE) if not self._gone(i)],
                ),
                (Status.DUE, self.with_status(Status.DUE)),
                (
                    Status.UPCOMING,
                    [i for i in self.with_status(Status.UPCOMING) if i.start < soon],
                ),
                (Status.DONE, done),
            )
        ]

    def _gone(self, item: Item) -> bool:
        """An exam or check-up whose window closed over a year ago: it can no
        longer be done (a vaccine can: its catch-up is shown)."""
        return (
            item.category != Recommendation.Category.VACCINATION
            and item.end is not None
            and item.end <= add_years(self.today, -1)
        )

    @property
    def missed(self) -> list[Item]:
        """Not done, long gone (folded under the groups, like `later`)."""
        return [i for i in self.with_status(Status.OVERDUE) if self._gone(i)]

    @property
    def later(self) -> list[Item]:
        soon = add_years(self.today, UPCOMING_YEARS)  # 29 February too
        return [i for i in self.with_status(Status.UPCOMING) if i.start >= soon]

    @property
    def vaccinations(self) -> list[VaccineRow]:
        """The vaccination record: each vaccine, its doses by age."""
        rows: dict[str, VaccineRow] = {}
        for item in self.items:
            if item.category != Recommendation.Category.VACCINATION:
                continue
            group = item.rule.group or item.label
            rows.setdefault(group, VaccineRow(group)).items.append(item)
        return sorted(rows.values(), key=lambda r: r.items[0].start)

    def get(self, key: str) -> Item | None:
        return next((i for i in self.items if i.key == key), None)


def patient_of(patient: Beneficiary | int | str | None) -> Beneficiary:
    if isinstance(patient, Beneficiary):
        return patient
    try:
        return Beneficiary.objects.get(pk=int(patient))  # type: ignore[arg-type]
    except (Beneficiary.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def calendar_access(
    *,
    actor: User,
    patient: Beneficiary,
    purpose: Purpose,
    code: str,
    target: object,
    request: HttpRequest | None,
) -> Access:
    """The decision on `patient`'s calendar; a refusal (professionals
    included: the calendar is the patient side's) is audited here, once,
    and answers 404."""
    access = access_for(actor=actor, patient=patient, purpose=purpose)
    refused = ""
    if access.allowed and not access.patient_side:
        refused = "patient_side_only"
    if not access.allowed or refused:
        access_audit(
            access,
            action=Action.READ if purpose == Purpose.READ else Action.UPDATE,
            target=target,
            code=code,
            request=request,
            refused=refused,
        )
        raise Http404
    return access


def marks_of(patient: Beneficiary) -> dict[str, DoneMark]:
    return {m.item_key: m for m in DoneMark.objects.filter(patient=patient)}


def calendar_compute(patient: Beneficiary, today: dt.date | None = None) -> list[Item]:
    """The calendar of `patient` (no decision, no audit: callers decide)."""
    done = {key: mark.as_done() for key, mark in marks_of(patient).items()}
    return compute_calendar(
        rulebook=rulebook(),
        birth_date=patient.birth_date,
        sex=patient.sex,
        today=today or timezone.localdate(),
        done=done,
    )


def calendar_get_for(
    *,
    actor: User,
    patient: Beneficiary | int | str | None,
    request: HttpRequest | None = None,
    code: str = "agenda.calendar.read",
) -> Calendar:
    """AG-1: the calendar of a person the actor acts for (their own, a
    child's), with one audit entry; anyone else's is a 404 (audited)."""
    patient = patient_of(patient)
    access = calendar_access(
        actor=actor,
        patient=patient,
        purpose=Purpose.READ,
        code=code,
        target="agenda.calendar",
        request=request,
    )
    today = timezone.localdate()
    items = calendar_compute(patient, today)
    access_audit(
        access, action=Action.READ, target="agenda.calendar", code=code, request=request
    )
    return Calendar(access=access, patient=patient, items=items, today=today)
