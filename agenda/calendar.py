"""The preventive calendar of one person, computed (AG-1, AG-2): pure code.

No database access here: the rules (`agenda.models.Recommendation` rows,
turned into `Rule`s and grouped in a `Rulebook` once) and the person's done
marks are passed in. Nothing is generated in advance per person: a calendar
is computed on each read, in microseconds (bench/agenda_bench.py).

How a rule becomes items
------------------------
A rule says for whom (sex, an optional condition flag, a range of birth
dates), when (an age window: from `start` to just before `end`, both counted
from the birth date) and how often:

- ONCE: one item, the window itself;
- EVERY: one item per slot of `every` (a year, two years, five years…) from
  `start` while the slot opens before `end` (the slot lasts `duration`,
  `every` when not given, and never runs past `end`); only the slots that
  matter are shown: the done ones, the open one (or, failing it, the last
  missed one) and the next one;
- SERIES: doses at `series` months from the first (HPV: 0 and 6 months);
  dose k opens `series[k] - series[k-1]` months after the previous dose was
  done (or after that dose's own opening when it was not), and closes when
  the window closes, shifted by the same offset.

Which version applies (rules change: the 2025 calendars)
--------------------------------------------------------
A rule's versions share its code and have effective dates (`valid_from`,
`valid_until`, inclusive). Each item is keyed by its code and its place in
the rule (the dose, or the date its slot opens). **An item already past
(its window closed) is owed under the version in force on the day it fell
due (its window opened); an item still open or to come is owed under the
version in force today, or on the day it will fall due if later.** When no
version is in force on that day, the first version entering into force
before the item's window closes applies; otherwise the item is not owed.
Rules in force now govern what remains to be done; history keeps the rules
of its time. So, as the sources say:

- the 20 mandatory child exams (CSP R.2132-1, décret and arrêté published in
  the JO of 16 Nov 2024, in force on 1 Jan 2025; reference-data §4.1): a
  child born in 2023 was owed the exam "avant la fin du 1er mois" under the
  2019 version, and is owed the exam "au cours de la 7e année" of the 2025
  version (a child already in its 7th year on 1 Jan 2025 included);
- M'T dents (reference-data §4.2): every 3 years (3, 6, … 24) until
  31 Mar 2025, every year from 3 to 24 since 1 Apr 2025 ("M'T dents tous les
  ans !"): the yearly slot opened on a birthday before April 2025 is owed
  from April 2025 if the child is still that age;
- vaccinations (reference-data §3, Calendrier des vaccinations 2025 and its
  December 2025 update): MenC gives way to MenACWY and MenB on 1 Jan 2025
  for infants born since 1 Jul 2023; the HPV catch-up extends from 19 to 26
  years on 9 Dec 2025 (a 21-year-old not vaccinated is owed it again, a
  16-year-old's catch-up window now runs to the eve of 27);
- an agent retiring a version on a date, with a new version from the next
  day, changes the items falling due from that day, not the past ones.

Windows are as the sources say; versions decide what is owed, they never
clip a window. Statuses: "fait" (a done mark), else "en retard" (the window
closed), "à faire maintenant" (open) or "à venir".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Unit(StrEnum):
    DAY = "d"
    WEEK = "w"
    MONTH = "m"
    YEAR = "y"


class Frequency(StrEnum):
    ONCE = "once"
    EVERY = "every"
    SERIES = "series"


class Status(StrEnum):
    OVERDUE = "overdue"
    DUE = "due"
    UPCOMING = "upcoming"
    DONE = "done"


STATUS_LABELS = {
    Status.OVERDUE: "En retard",
    Status.DUE: "À faire maintenant",
    Status.UPCOMING: "À venir",
    Status.DONE: "Fait",
}

Age = tuple[int, Unit]  # (value, unit), counted from the birth date
FAR = dt.date(9999, 12, 31)


def parse_age(text: str) -> Age:
    """ "2m" → (2, MONTH); "8d", "2w", "65y". Raises ValueError otherwise."""
    text = text.strip()
    if len(text) < 2 or not text[:-1].isdigit():
        raise ValueError(f"âge invalide : {text!r} (ex. 8d, 2w, 3m, 65y)")
    return int(text[:-1]), Unit(text[-1])


def format_age(age: Age | None) -> str:
    if age is None:
        return ""
    return f"{age[0]}{age[1].value}"


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    if year > 9999:
        return FAR
    try:
        return day.replace(year=year, month=month)
    except ValueError:  # 29–31 of a shorter month: its last day
        for last in (30, 29, 28):
            try:
                return dt.date(year, month, last)
            except ValueError:
                continue
        raise


def add_age(day: dt.date, age: Age, times: int = 1) -> dt.date:
    """`day` plus `times` × `age` (calendar months and years)."""
    value, unit = age
    value *= times
    if unit == Unit.DAY:
        return day + dt.timedelta(days=value)
    if unit == Unit.WEEK:
        return day + dt.timedelta(weeks=value)
    if unit == Unit.MONTH:
        return _add_months(day, value)
    return _add_months(day, 12 * value)


@dataclass(frozen=True, slots=True)
class Rule:
    """One version of one recommendation (a `Recommendation` row, plain)."""

    code: str
    label: str
    category: str
    start: Age
    end: Age | None  # None: no upper age
    frequency: Frequency = Frequency.ONCE
    every: Age | None = None
    duration: Age | None = None
    series: tuple[int, ...] = ()  # months from the first dose
    group: str = ""  # the vaccine, for the vaccination record
    dose: int | None = None
    catch_up_of: str = ""  # a group: not owed once that group was done
    sex: str = ""  # "", "F" or "M"
    condition: str = ""  # owed only to people with this flag
    born_from: dt.date | None = None
    born_until: dt.date | None = None
    mandatory: bool = False
    valid_from: dt.date = dt.date(1900, 1, 1)
    valid_until: dt.date | None = None
    source_text: str = ""
    source_url: str = ""

    def in_force(self, day: dt.date) -> bool:
        return self.valid_from <= day and (
            self.valid_until is None or day <= self.valid_until
        )

    def applies_to(
        self, birth_date: dt.date, sex: str, conditions: frozenset[str]
    ) -> bool:
        return (
            (not self.sex or self.sex == sex)
            and (not self.condition or self.condition in conditions)
            and (self.born_from is None or birth_date >= self.born_from)
            and (self.born_until is None or birth_date <= self.born_until)
        )


@dataclass(frozen=True, slots=True)
class Done:
    """A done mark (agenda.models.DoneMark, decrypted)."""

    key: str
    done_on: dt.date
    performer: str = ""
    document_id: object = None
    mark_id: object = None


@dataclass(slots=True)
class Item:
    key: str  # a slug: "<code>", "<code>_<dose>" or "<code>_<slot opening>"
    rule: Rule
    start: dt.date  # first day of the window
    end: dt.date | None  # first day after the window (None: open-ended)
    status: Status = Status.UPCOMING
    done: Done | None = None

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def label(self) -> str:
        return self.rule.label

    @property
    def category(self) -> str:
        return self.rule.category

    @property
    def mandatory(self) -> bool:
        return self.rule.mandatory

    @property
    def last_day(self) -> dt.date | None:
        """The last day of the window (inclusive), None when open-ended."""
        return None if self.end is None else self.end - dt.timedelta(days=1)

    @property
    def done_on(self) -> dt.date | None:
        return None if self.done is None else self.done.done_on

    @property
    def performer(self) -> str:
        return "" if self.done is None else self.done.performer

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Rulebook:
    """Every version of every rule, grouped by code, in order: built once
    (per process, and again when an agent changes a rule)."""

    by_code: tuple[tuple[str, tuple[Rule, ...]], ...]
    main_groups: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, rules: Iterable[Rule]) -> Rulebook:
        grouped: dict[str, list[Rule]] = {}
        for rule in rules:
            grouped.setdefault(rule.code, []).append(rule)
        by_code = tuple(
            (code, tuple(sorted(versions, key=lambda r: r.valid_from)))
            for code, versions in sorted(grouped.items())
        )
        groups: dict[str, set[str]] = {}
        for code, versions in by_code:
            for rule in versions:
                if rule.group and not rule.catch_up_of:
                    groups.setdefault(rule.group, set()).add(code)
        return cls(by_code, {g: frozenset(c) for g, c in groups.items()})

    @property
    def rules(self) -> list[Rule]:
        return [rule for _code, versions in self.by_code for rule in versions]

    def get(self, code: str) -> tuple[Rule, ...]:
        for candidate, versions in self.by_code:
            if candidate == code:
                return versions
        return ()


def _months(age: Age) -> int:
    """An age in months (0 for days and weeks)."""
    value, unit = age
    return value * 12 if unit == Unit.YEAR else value if unit == Unit.MONTH else 0


def _occurrences(
    rule: Rule,
    at: Callable[[Age], dt.date],
    today: dt.date,
    done: Mapping[str, Done],
) -> Iterable[tuple[str, dt.date, dt.date | None]]:
    """(key, opening, first day after) of each item of one version; `at`
    gives the date of an age (memoised per person)."""
    start = at(rule.start)
    end = None if rule.end is None else at(rule.end)
    if rule.frequency == Frequency.ONCE:
        yield rule.code, start, end
    elif rule.frequency == Frequency.SERIES:
        previous_open = start
        previous_key = ""
        offsets = rule.series or (0,)
        for index, offset in enumerate(offsets):
            key = f"{rule.code}_{index + 1}"
            if index == 0:
                opening = start
            else:
                gap = offset - offsets[index - 1]
                before = done.get(previous_key)
                base = before.done_on if before is not None else previous_open
                opening = _add_months(base, gap)
            closing = None if end is None else _add_months(end, offset)
            yield key, opening, closing
            previous_open, previous_key = opening, key
    else:
        yield from _slots(rule, start, end, today, done)


def _slots(
    rule: Rule,
    start: dt.date,
    end: dt.date | None,
    today: dt.date,
    done: Mapping[str, Done],
) -> Iterable[tuple[str, dt.date, dt.date | None]]:
    """The slots of a repeated rule that may matter: the done ones, and from
    two slots before today's to the first one to come (the older ones are
    neither open nor the last missed: `_relevant_slots`)."""
    every = rule.every or (1, Unit.YEAR)
    duration = rule.duration or every
    step = _months(every)
    first = 0
    if step and today > start:
        elapsed = (today.year - start.year) * 12 + today.month - start.month
        first = max(0, elapsed // step - 1 - -(-_months(duration) // step))
    prefix = f"{rule.code}_"
    if first and done:
        first_opening = add_age(start, every, first)
        for key in done:
            if not key.startswith(prefix):
                continue
            try:
                opening = dt.date.fromisoformat(key[len(prefix) :])
            except ValueError:
                continue
            if start <= opening < first_opening:
                closing = add_age(opening, duration)
                if end is not None and closing > end:
                    closing = end
                yield key, opening, closing
    n = first
    while True:
        opening = add_age(start, every, n)
        if end is not None and opening >= end:
            return
        closing = add_age(opening, duration)
        if end is not None and closing > end:
            closing = end
        key = prefix + opening.isoformat()
        yield key, opening, closing
        if opening > today and key not in done:
            return  # the next slot to come is enough
        n += 1


def _owed_version(
    candidates: Sequence[tuple[Rule, dt.date, dt.date | None]], today: dt.date
) -> tuple[Rule, dt.date, dt.date | None] | None:
    """The version an item is owed under (module docstring): the one in
    force on the day that decides (the day it falls due for a closed item,
    today for one still open or to come), else the first one entering into
    force after that day and before the window closes."""
    entering = None
    for candidate in candidates:
        rule, opening, closing = candidate
        still_open = closing is None or closing > today
        day = max(opening, today) if still_open else opening
        if rule.in_force(day):
            return candidate
        if (
            entering is None
            and rule.valid_from > day
            and (closing is None or rule.valid_from < closing)
        ):
            entering = candidate  # candidates come oldest version first
    return entering


def compute_calendar(
    *,
    rulebook: Rulebook,
    birth_date: dt.date,
    sex: str,
    today: dt.date,
    done: Mapping[str, Done] | None = None,
    conditions: frozenset[str] = frozenset(),
) -> list[Item]:
    """Every item owed to a person born on `birth_date`, of `sex`, as of
    `today`, with their status and done marks, in window order."""
    done = done or {}
    done_codes = {key.split("_", 1)[0] for key in done}
    items: list[Item] = []
    dates: dict[Age, dt.date] = {}

    def at(age: Age) -> dt.date:
        day = dates.get(age)
        if day is None:
            day = dates[age] = add_age(birth_date, age)
        return day

    for _code, versions in rulebook.by_code:
        candidates: dict[str, list[tuple[Rule, dt.date, dt.date | None]]] = {}
        for rule in versions:
            if not rule.applies_to(birth_date, sex, conditions):
                continue
            if rule.catch_up_of and done_codes & rulebook.main_groups.get(
                rule.catch_up_of, frozenset()
            ):
                continue  # the main schedule was done: no catch-up
            for key, opening, closing in _occurrences(rule, at, today, done):
                found = candidates.get(key)
                if found is None:
                    candidates[key] = [(rule, opening, closing)]
                else:
                    found.append((rule, opening, closing))
        if not candidates:
            continue
        owed = []
        for key, found in candidates.items():
            chosen = _owed_version(found, today)
            if chosen is None:
                continue
            rule, opening, closing = chosen
            mark = done.get(key)
            if mark is not None:
                status = Status.DONE
            elif closing is not None and today >= closing:
                status = Status.OVERDUE
            elif today >= opening:
                status = Status.DUE
            else:
                status = Status.UPCOMING
            owed.append(Item(key, rule, opening, closing, status, mark))
        if len(owed) > 1 and owed[0].rule.frequency == Frequency.EVERY:
            owed = _relevant_slots(sorted(owed, key=lambda i: i.start), today)
        items.extend(owed)
    _drop_superseded(items)
    items.sort(key=lambda i: (i.start, i.rule.category, i.rule.code, i.key))
    return items


def _relevant_slots(slots: list[Item], today: dt.date) -> list[Item]:
    """Of a repeated rule: the done slots, the open slot (or else the last
    missed one) and the next one to come."""
    kept = [s for s in slots if s.status == Status.DONE]
    current = [s for s in slots if s.status == Status.DUE]
    missed = [s for s in slots if s.status == Status.OVERDUE]
    coming = [s for s in slots if s.status == Status.UPCOMING]
    if current:
        kept.append(current[-1])
    elif missed:
        kept.append(missed[-1])
    if coming:
        kept.append(coming[0])
    return kept


def _drop_superseded(items: list[Item]) -> None:
    """A missed dose of a main schedule gives way to its catch-up once that
    one is open (the HPV catch-up from 15 years replaces the 11–14 doses)."""
    catching = {
        i.rule.catch_up_of
        for i in items
        if i.rule.catch_up_of and i.status in (Status.DUE, Status.DONE)
    }
    if not catching:
        return
    items[:] = [
        i
        for i in items
        if not (
            i.status == Status.OVERDUE
            and not i.rule.catch_up_of
            and i.rule.group in catching
        )
    ]
