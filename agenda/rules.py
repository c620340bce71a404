"""The calendar rules files (AG-1): read, and loaded into `Recommendation`.

Each file of agenda/fixtures/ quotes its source (`_about`, and a source per
rule or per version); `defaults` apply to every rule of the file, and a file
with `versions` (the child exams) gives each rule once per version, unless
the rule is `only` in the version starting on that date. Ages are written
"8d", "2w", "3m", "65y" (agenda.calendar.parse_age).

Loading creates the missing (code, valid_from) versions and keeps the others
as they are: an agent's change in the back office survives a reload.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from agenda import calendar

FIXTURES = Path(__file__).parent / "fixtures"
FILES = (
    "vaccinations.json",
    "child_exams.json",
    "dental.json",
    "prevention.json",
    "screenings.json",
)
FIELDS = {
    "code",
    "label",
    "category",
    "group",
    "dose",
    "sex",
    "condition",
    "born_from",
    "born_until",
    "start",
    "end",
    "frequency",
    "every",
    "duration",
    "series",
    "catch_up_of",
    "mandatory",
    "source_text",
    "source_url",
    "valid_from",
    "valid_until",
}
DATES = ("born_from", "born_until", "valid_from", "valid_until")


def _row(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - FIELDS
    if unknown:
        raise ValueError(f"{values.get('code')}: unknown keys {sorted(unknown)}")
    row = {
        "code": values["code"],
        "label": values["label"],
        "category": values["category"],
        "group": values.get("group", ""),
        "dose": values.get("dose"),
        "sex": values.get("sex", ""),
        "condition": values.get("condition", ""),
        "age_start": values["start"],
        "age_end": values.get("end") or "",
        "frequency": values.get("frequency", "once"),
        "every": values.get("every", ""),
        "duration": values.get("duration", ""),
        "series": list(values.get("series", [])),
        "catch_up_of": values.get("catch_up_of", ""),
        "mandatory": bool(values.get("mandatory", False)),
        "source_text": values["source_text"],
        "source_url": values.get("source_url", ""),
    }
    for name in DATES:
        text = values.get(name)
        row[name] = dt.date.fromisoformat(text) if text else None
    if not re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)*", row["code"]):
        raise ValueError(f"{row['code']}: a code is capitals, digits and dashes")
    if row["valid_from"] is None:
        raise ValueError(f"{row['code']}: valid_from missing")
    for name in ("age_start", "age_end", "every", "duration"):
        if row[name]:
            calendar.parse_age(row[name])
    calendar.Frequency(row["frequency"])
    return row


def rule_rows(folder: Path = FIXTURES) -> list[dict[str, Any]]:
    """Every version of every rule of the files, as `Recommendation` fields."""
    rows: list[dict[str, Any]] = []
    for name in FILES:
        data = json.loads((folder / name).read_text(encoding="utf-8"))
        defaults = data.get("defaults", {})
        versions = data.get("versions") or [{}]
        for rule in data["rules"]:
            only = rule.get("only")
            for version in versions:
                if only and version.get("valid_from") != only:
                    continue
                values = {**defaults, **version, **rule}
                values.pop("only", None)
                rows.append(_row(values))
    seen: set[tuple[str, dt.date]] = set()
    for row in rows:
        key = (row["code"], row["valid_from"])
        if key in seen:
            raise ValueError(f"{key}: twice in the rules files")
        seen.add(key)
    return rows


def rules_load(model: Any, folder: Path = FIXTURES) -> int:
    """Create the versions missing from the table; return how many."""
    existing = set(model.objects.values_list("code", "valid_from"))
    new = [
        model(**row)
        for row in rule_rows(folder)
        if (row["code"], row["valid_from"]) not in existing
    ]
    model.objects.bulk_create(new)
    return len(new)
