"""The computed calendar against the reference tables (AG-1): the pure
computation (agenda.calendar) over the rules files as loaded (agenda/
fixtures/), for a newborn, a child born in 2019, a 16-year-old, and women
and men of 24, 45, 50, 65 and 75, as of 2026-11-22. Each test names the
table it checks (../shared/reference/reference-data.md §3, §4.1–§4.4)."""

from __future__ import annotations

import datetime as dt

import pytest

from agenda.calendar import Done, Item, Rulebook, Status, compute_calendar
from agenda.models import Recommendation
from agenda.rules import rule_rows

D = dt.date
TODAY = D(2026, 11, 22)
BOOK = Rulebook.of(Recommendation(**row).as_rule() for row in rule_rows())
OVERDUE, DUE, UPCOMING, DONE = (
    Status.OVERDUE,
    Status.DUE,
    Status.UPCOMING,
    Status.DONE,
)


def calendar(
    born: dt.date, sex: str, today: dt.date = TODAY, done: list[Done] | None = None
) -> dict[str, Item]:
    items = compute_calendar(
        rulebook=BOOK,
        birth_date=born,
        sex=sex,
        today=today,
        done={d.key: d for d in done or []},
    )
    keys = [i.key for i in items]
    assert len(keys) == len(set(keys)), "one item per key"
    return {i.key: i for i in items}


def window(item: Item) -> tuple[dt.date, dt.date | None]:
    return item.start, item.last_day


def of(items: dict[str, Item], category: str) -> dict[str, Item]:
    return {k: i for k, i in items.items() if i.category == category}


def test_every_rules_file_row_loads_and_quotes_its_source() -> None:
    """AG-1: rules are data, each with a source and effective dates."""
    rules = BOOK.rules
    assert len(rules) > 70
    for rule in rules:
        assert rule.source_text and rule.valid_from, rule.code
        assert rule.label and rule.category, rule.code


# ------------------------------------------------------- §4.1 child exams
NEWBORN = D(2026, 3, 10)
# reference-data §4.1, version in force since 2025-01-01: the 20 exams, as
# windows counted from 10 March 2026 ("au cours du Ne mois" = from N-1 months
# to the eve of N months; "entre A et B ans" = to the eve of B+1 years).
NEWBORN_EXAMS = {
    "EXS-J8": (D(2026, 3, 10), D(2026, 3, 17), OVERDUE),  # dans les 8 jours
    "EXS-S2": (D(2026, 3, 17), D(2026, 3, 23), OVERDUE),  # 2e semaine
    "EXS-M2": (D(2026, 4, 10), D(2026, 5, 9), OVERDUE),
    "EXS-M3": (D(2026, 5, 10), D(2026, 6, 9), OVERDUE),
    "EXS-M4": (D(2026, 6, 10), D(2026, 7, 9), OVERDUE),
    "EXS-M5": (D(2026, 7, 10), D(2026, 8, 9), OVERDUE),
    "EXS-M6": (D(2026, 8, 10), D(2026, 9, 9), OVERDUE),
    "EXS-M9": (D(2026, 11, 10), D(2026, 12, 9), DUE),  # 2e certificat
    "EXS-M12": (D(2027, 2, 10), D(2027, 3, 9), UPCOMING),
    "EXS-M13": (D(2027, 3, 10), D(2027, 4, 9), UPCOMING),
    "EXS-M16": (D(2027, 7, 10), D(2027, 10, 9), UPCOMING),  # 16 à 18 mois
    "EXS-M24": (D(2028, 2, 10), D(2028, 4, 9), UPCOMING),  # 24e ou 25e mois
    "EXS-A3": (D(2028, 3, 10), D(2029, 3, 9), UPCOMING),
    "EXS-A4": (D(2029, 3, 10), D(2030, 3, 9), UPCOMING),
    "EXS-A5": (D(2030, 3, 10), D(2031, 3, 9), UPCOMING),
    "EXS-A6": (D(2031, 3, 10), D(2032, 3, 9), UPCOMING),
    "EXS-A7": (D(2032, 3, 10), D(2033, 3, 9), UPCOMING),  # new in 2025
    "EXS-A8": (D(2034, 3, 10), D(2036, 3, 9), UPCOMING),  # entre 8 et 9 ans
    "EXS-A11": (D(2037, 3, 10), D(2040, 3, 9), UPCOMING),
    "EXS-A15": (D(2041, 3, 10), D(2043, 3, 9), UPCOMING),
}
# reference-data §3: the mandatory infant doses (born since 2018; MenB and
# MenACWY for infants born since 1 Jul 2023, in force since 1 Jan 2025),
# each from the age given to the eve of the next month; rotavirus recommended.
NEWBORN_VACCINES = {
    "VAC-ROTA-1": (D(2026, 4, 21), D(2026, 6, 9), OVERDUE, False),  # 6 semaines
    "VAC-HEXA-1": (D(2026, 5, 10), D(2026, 6, 9), OVERDUE, True),  # 2 mois
    "VAC-PNEUMO-1": (D(2026, 5, 10), D(2026, 6, 9), OVERDUE, True),
    "VAC-MENB-1": (D(2026, 6, 10), D(2026, 7, 9), OVERDUE, True),  # 3 mois
    "VAC-ROTA-2": (D(2026, 6, 10), D(2026, 7, 9), OVERDUE, False),
    "VAC-HEXA-2": (D(2026, 7, 10), D(2026, 8, 9), OVERDUE, True),  # 4 mois
    "VAC-PNEUMO-2": (D(2026, 7, 10), D(2026, 8, 9), OVERDUE, True),
    "VAC-MENB-2": (D(2026, 8, 10), D(2026, 9, 9), OVERDUE, True),  # 5 mois
    "VAC-MENACWY-1": (D(2026, 9, 10), D(2026, 10, 9), OVERDUE, True),  # 6 mois
    "VAC-HEXA-R": (D(2027, 2, 10), D(2027, 3, 9), UPCOMING, True),  # 11 mois
    "VAC-PNEUMO-R": (D(2027, 2, 10), D(2027, 3, 9), UPCOMING, True),
    "VAC-ROR-1": (D(2027, 3, 10), D(2027, 4, 9), UPCOMING, True),  # 12 mois
    "VAC-MENB-R": (D(2027, 3, 10), D(2027, 4, 9), UPCOMING, True),
    "VAC-MENACWY-R": (D(2027, 3, 10), D(2027, 4, 9), UPCOMING, True),
    "VAC-ROR-2": (D(2027, 7, 10), D(2027, 10, 9), UPCOMING, True),  # 16-18 mois
    "VAC-DTCAP-6": (D(2032, 3, 10), D(2033, 3, 9), UPCOMING, False),  # 6 ans
}
# and from 11 years (11-13, 11-14: HPV 2 doses 6 months apart)
NEWBORN_AT_11 = {
    "VAC-DTCAP-11": (D(2037, 3, 10), D(2040, 3, 9)),
    "VAC-HPV_1": (D(2037, 3, 10), D(2041, 3, 9)),
    "VAC-HPV_2": (D(2037, 9, 10), D(2041, 9, 9)),
    "VAC-MENACWY-ADO": (D(2037, 3, 10), D(2041, 3, 9)),
}


def test_ag1_newborn_2026_has_the_20_exams_of_the_2025_version() -> None:
    """reference-data §4.1 (R.2132-1 since 2025-01-01): 13 exams in the
    first 3 years, 3 in years 4-6, 4 from 7 to 16; no "avant la fin du
    1er mois" exam any more, one "au cours de la 7e année"."""
    exams = of(calendar(NEWBORN, "F"), "child_exam")
    assert {k: (*window(i), i.status) for k, i in exams.items()} == NEWBORN_EXAMS
    assert all(i.mandatory for i in exams.values())
    assert all(i.rule.valid_from == D(2025, 1, 1) for i in exams.values())
    assert sum(1 for i in exams.values() if i.start < D(2029, 3, 10)) == 13


def test_ag1_newborn_2026_vaccinations_of_the_2025_calendar() -> None:
    """reference-data §3 (Calendrier des vaccinations 2025): hexavalent and
    pneumococcal at 2, 4, 11 months; MenB at 3, 5, 12 months; MenACWY at 6
    and 12 months (no MenC since 1 Jan 2025); ROR at 12 and 16-18 months;
    conditional doses (HepB at birth, BCG) only for people flagged so."""
    items = of(calendar(NEWBORN, "M"), "vaccination")
    got = {
        k: (*window(i), i.status, i.mandatory)
        for k, i in items.items()
        if i.start < D(2037, 1, 1)
    }
    assert got == NEWBORN_VACCINES
    for key, expected in NEWBORN_AT_11.items():
        assert window(items[key]) == expected, key
    assert not any(k.startswith("VAC-MENC") for k in items)
    flagged = compute_calendar(
        rulebook=BOOK,
        birth_date=NEWBORN,
        sex="M",
        today=TODAY,
        conditions=frozenset({"mere_aghbs_positive"}),
    )
    hepb = next(i for i in flagged if i.code == "VAC-HEPB-NAISSANCE")
    assert window(hepb) == (NEWBORN, D(2026, 4, 9)) and hepb.mandatory


def test_ag1_child_born_2019_followed_the_2019_exams_then_the_2025_ones() -> None:
    """reference-data §4.1: version 2019-03-01 → 2024-12-31, then the 2025
    one. Born 15 June 2019: the exam "avant la fin du 1er mois" (2019) was
    owed, the 6th-year exam (due June 2024) under the 2019 text, the new
    7th-year exam (due June 2025) under the 2025 text; 21 exams in all."""
    exams = of(calendar(D(2019, 6, 15), "F"), "child_exam")
    assert len(exams) == 21
    m1 = exams["EXS-M1"]
    assert window(m1) == (D(2019, 6, 29), D(2019, 7, 14))
    assert m1.rule.valid_until == D(2024, 12, 31)
    assert exams["EXS-A6"].rule.valid_until == D(2024, 12, 31)
    a7 = exams["EXS-A7"]
    assert window(a7) == (D(2025, 6, 15), D(2026, 6, 14))
    assert a7.rule.valid_from == D(2025, 1, 1) and a7.status == OVERDUE
    assert exams["EXS-A8"].rule.valid_from == D(2025, 1, 1)
    assert window(exams["EXS-A8"]) == (D(2027, 6, 15), D(2029, 6, 14))
    # leo, born 2016: his 7th year ended before 2025, no such exam is owed
    assert "EXS-A7" not in calendar(D(2016, 5, 2), "M")


def test_ag1_child_born_2019_vaccines_and_mt_dents_of_their_time() -> None:
    """reference-data §3: born 2019, MenC (5 and 12 months) under the 2018
    obligation, no MenB/MenACWY (born before 1 Jul 2023); §4.2: M'T dents at
    3 years under the 3-yearly rule, every year since 1 Apr 2025."""
    done = [Done("MTD_2022-06-15", D(2022, 7, 1), "Dr Dupont")]
    items = calendar(D(2019, 6, 15), "F", done=done)
    assert window(items["VAC-MENC-1"]) == (D(2019, 11, 15), D(2019, 12, 14))
    assert window(items["VAC-MENC-R"]) == (D(2020, 6, 15), D(2020, 7, 14))
    assert not {"VAC-MENB-1", "VAC-MENB-R", "VAC-MENACWY-1"} & set(items)
    mtd = {k: i for k, i in items.items() if i.code == "MTD"}
    assert sorted(mtd) == ["MTD_2022-06-15", "MTD_2026-06-15", "MTD_2027-06-15"]
    at3 = mtd["MTD_2022-06-15"]
    assert at3.status == DONE and at3.performer == "Dr Dupont"
    assert at3.rule.valid_until == D(2025, 3, 31)  # the 3-yearly version
    now = mtd["MTD_2026-06-15"]
    assert (now.status, window(now)) == (DUE, (D(2026, 6, 15), D(2027, 6, 14)))
    assert now.rule.valid_from == D(2025, 4, 1)


def test_ag1_mt_dents_yearly_slot_opened_before_april_2025_is_owed_from_then() -> None:
    """reference-data §4.2: a child turning 10 on 1 Feb 2025 had no exam
    under the 3-yearly rule (3, 6, 9…); the yearly rule of 1 Apr 2025 owes
    him one before his 11th birthday. Seen on 1 Mar 2025: to come."""
    items = calendar(D(2015, 2, 1), "M", today=D(2025, 3, 1))
    slot = items["MTD_2025-02-01"]
    assert slot.rule.valid_from == D(2025, 4, 1)
    assert window(slot) == (D(2025, 2, 1), D(2026, 1, 31))
    before = calendar(D(2015, 2, 1), "M", today=D(2025, 1, 15))
    assert before["MTD_2025-02-01"].rule.valid_from == D(2025, 4, 1)
    # under the 3-yearly rule alone (before April 2025), the 9-year slot
    assert before["MTD_2024-02-01"].rule.valid_until == D(2025, 3, 31)


def test_ag1_16_year_old_boy() -> None:
    """reference-data §3 and §4.1–4.3 for a boy born 20 May 2010: the exam
    between 15 and 16, the HPV catch-up (3 doses, 15-26 since Dec 2025),
    MenACWY catch-up and MenB 15-24, M'T dents this year; the missed 11-14
    HPV and MenACWY doses give way to their catch-up."""
    items = calendar(D(2010, 5, 20), "M")
    now = {
        k: (*window(i), i.status)
        for k, i in items.items()
        if i.status in (DUE, OVERDUE)
    }
    assert now == {
        "EXS-A8": (D(2018, 5, 20), D(2020, 5, 19), OVERDUE),
        "EXS-A11": (D(2021, 5, 20), D(2024, 5, 19), OVERDUE),
        "VAC-DTCAP-11": (D(2021, 5, 20), D(2024, 5, 19), OVERDUE),
        "VAC-HEPB-RATTRAPAGE_1": (D(2021, 5, 20), D(2026, 5, 19), OVERDUE),
        "VAC-HEPB-RATTRAPAGE_2": (D(2021, 11, 20), D(2026, 11, 19), OVERDUE),
        "EXS-A15": (D(2025, 5, 20), D(2027, 5, 19), DUE),
        "VAC-HPV-RATTRAPAGE_1": (D(2025, 5, 20), D(2037, 5, 19), DUE),
        "VAC-HPV-RATTRAPAGE_2": (D(2025, 7, 20), D(2037, 7, 19), DUE),
        "VAC-HPV-RATTRAPAGE_3": (D(2025, 11, 20), D(2037, 11, 19), DUE),
        "VAC-MENACWY-RATTRAPAGE": (D(2025, 5, 20), D(2035, 5, 19), DUE),
        "VAC-MENB-JEUNE": (D(2025, 5, 20), D(2035, 5, 19), DUE),
        "MTD_2026-05-20": (D(2026, 5, 20), D(2027, 5, 19), DUE),
    }
    assert items["VAC-HPV-RATTRAPAGE_1"].rule.valid_from == D(2025, 12, 9)
    assert "VAC-HPV_1" not in items and "VAC-MENACWY-ADO" not in items
    assert window(items["BILAN-18-25"]) == (D(2028, 5, 20), D(2036, 5, 19))
    # before the December 2025 update, the catch-up stopped at 19
    before = calendar(D(2010, 5, 20), "M", today=D(2025, 9, 1))
    assert window(before["VAC-HPV-RATTRAPAGE_1"]) == (D(2025, 5, 20), D(2030, 5, 19))
    # a first dose done moves the next ones: M2 and M6 after it
    dosed = calendar(
        D(2010, 5, 20), "M", done=[Done("VAC-HPV-RATTRAPAGE_1", D(2026, 9, 1))]
    )
    assert dosed["VAC-HPV-RATTRAPAGE_2"].start == D(2026, 11, 1)
    assert dosed["VAC-HPV-RATTRAPAGE_3"].start == D(2027, 3, 1)


def test_ag1_a_done_main_schedule_means_no_catch_up() -> None:
    """reference-data §3: the catch-up is for those not vaccinated."""
    done = [Done("VAC-HPV_1", D(2022, 1, 10)), Done("VAC-HPV_2", D(2022, 7, 10))]
    items = calendar(D(2010, 5, 20), "M", done=done)
    assert items["VAC-HPV_2"].status == DONE
    assert not any(k.startswith("VAC-HPV-RATTRAPAGE") for k in items)


# ----------------------------------------------------- adults, §3 and §4.2-4.4
# (sex, age on 2026-11-22, born 15 January): what is due now or overdue.
J15 = (1, 15)
ADULTS: dict[tuple[str, int], dict[str, tuple[dt.date, dt.date | None, Status]]] = {
    # §3 catch-ups 15-24/15-26, §4.2 M'T dents at 24, §4.3 bilan 18-25
    ("F", 24): {
        "VAC-HPV-RATTRAPAGE_1": (D(2017, 1, 15), D(2029, 1, 14), DUE),
        "VAC-HPV-RATTRAPAGE_2": (D(2017, 3, 15), D(2029, 3, 14), DUE),
        "VAC-HPV-RATTRAPAGE_3": (D(2017, 7, 15), D(2029, 7, 14), DUE),
        "VAC-MENACWY-RATTRAPAGE": (D(2017, 1, 15), D(2027, 1, 14), DUE),
        "VAC-MENB-JEUNE": (D(2017, 1, 15), D(2027, 1, 14), DUE),
        "BILAN-18-25": (D(2020, 1, 15), D(2028, 1, 14), DUE),
        "MTD_2026-01-15": (D(2026, 1, 15), D(2027, 1, 14), DUE),
    },
    # §3 dTP at 45, §4.3 bilan 45-50, §4.4 cervix HPV test every 5 years
    ("F", 45): {
        "VAC-DTP-45": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "BILAN-45-50": (D(2026, 1, 15), D(2032, 1, 14), DUE),
        "BUCCO-ADULTE_2026-01-15": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "DEP-COL-HPV_2026-01-15": (D(2026, 1, 15), D(2031, 1, 14), DUE),
    },
    # §4.4 breast and colorectal from 50, every 2 years
    ("F", 50): {
        "BILAN-45-50": (D(2021, 1, 15), D(2027, 1, 14), DUE),
        "BUCCO-ADULTE_2026-01-15": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "DEP-COL-HPV_2026-01-15": (D(2026, 1, 15), D(2031, 1, 14), DUE),
        "DEP-COLORECTAL_2026-01-15": (D(2026, 1, 15), D(2028, 1, 14), DUE),
        "DEP-SEIN_2026-01-15": (D(2026, 1, 15), D(2028, 1, 14), DUE),
    },
    # §3 at 65: dTP, influenza and COVID-19 yearly, PCV20/21, zona
    ("F", 65): {
        "BILAN-60-65": (D(2021, 1, 15), D(2027, 1, 14), DUE),
        "DEP-COLORECTAL_2025-01-15": (D(2025, 1, 15), D(2027, 1, 14), DUE),
        "DEP-SEIN_2025-01-15": (D(2025, 1, 15), D(2027, 1, 14), DUE),
        "BUCCO-ADULTE_2026-01-15": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "DEP-COL-HPV_2026-01-15": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "VAC-COVID_2026-01-15": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "VAC-DTP-65": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "VAC-GRIPPE_2026-01-15": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "VAC-PNEUMO-65": (D(2026, 1, 15), None, DUE),
        "VAC-ZONA": (D(2026, 1, 15), None, DUE),
    },
    # §3 ≥ 75: dTP every 10 years, RSV; §4.4 screenings end at 74
    ("F", 75): {
        "VAC-PNEUMO-65": (D(2016, 1, 15), None, DUE),
        "VAC-ZONA": (D(2016, 1, 15), None, DUE),
        "BILAN-70-75": (D(2021, 1, 15), D(2027, 1, 14), DUE),
        "DEP-COLORECTAL_2025-01-15": (D(2025, 1, 15), D(2026, 1, 14), OVERDUE),
        "DEP-SEIN_2025-01-15": (D(2025, 1, 15), D(2026, 1, 14), OVERDUE),
        "BUCCO-ADULTE_2026-01-15": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "VAC-COVID_2026-01-15": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "VAC-DTP-75_2026-01-15": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "VAC-GRIPPE_2026-01-15": (D(2026, 1, 15), D(2027, 1, 14), DUE),
        "VAC-VRS-75": (D(2026, 1, 15), None, DUE),
    },
}
WOMEN_ONLY = ("DEP-SEIN", "DEP-COL-HPV", "DEP-COL-CYTO")
for _age in (24, 45, 50, 65, 75):
    ADULTS[("M", _age)] = {
        k: v for k, v in ADULTS[("F", _age)].items() if not k.startswith(WOMEN_ONLY)
    }


@pytest.mark.parametrize(("sex", "age"), sorted(ADULTS))
def test_ag1_adults_due_and_overdue_items(sex: str, age: int) -> None:
    """reference-data §3 (adult boosters and vaccines), §4.2, §4.3 (Mon
    bilan prévention), §4.4 (organised screenings: breast and cervix for
    women only): every item due now or overdue, with its window."""
    items = calendar(D(2026 - age, *J15), sex)
    now = {
        k: (*window(i), i.status)
        for k, i in items.items()
        if i.status in (DUE, OVERDUE)
    }
    assert now == ADULTS[(sex, age)]


def test_ag1_woman_of_24_next_screening_and_booster() -> None:
    """reference-data §4.4: cervical cytology from 25 (2 tests a year apart,
    then 3 years later); §3: dTcaP at 25."""
    items = calendar(D(2002, 1, 15), "F")
    cyto = [items[f"DEP-COL-CYTO_{n}"] for n in (1, 2, 3)]
    assert [i.start for i in cyto] == [D(2027, 1, 15), D(2028, 1, 15), D(2031, 1, 15)]
    assert window(items["VAC-DTCAP-25"]) == (D(2027, 1, 15), D(2028, 1, 14))
    assert "DEP-COL-CYTO_1" not in calendar(D(2002, 1, 15), "M")


def test_ag1_statuses_follow_today() -> None:
    """AG-1: à venir before the window, à faire maintenant within, en retard
    after, fait once marked (whatever the window)."""
    born = D(1981, 1, 15)
    assert calendar(born, "M", today=D(2025, 12, 1))["VAC-DTP-45"].status == UPCOMING
    assert calendar(born, "M", today=D(2026, 1, 15))["VAC-DTP-45"].status == DUE
    assert calendar(born, "M", today=D(2027, 1, 15))["VAC-DTP-45"].status == OVERDUE
    marked = calendar(born, "M", done=[Done("VAC-DTP-45", D(2026, 2, 1))])
    assert marked["VAC-DTP-45"].status == DONE
