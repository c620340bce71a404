"""Beneficiaries and campaigns for the campaign tests (MSG-4)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.db import connection
from django.utils import timezone

from espace.models import Beneficiary, LegalRepresentation, Space, User
from messagerie.campaign_models import Campaign, CampaignCriterion

_numbers = itertools.count(1)


def person(
    birth_date: dt.date,
    *,
    sex: str = "F",
    state: str = Space.State.ACTIVATED,
    email: str = "x@example.test",
) -> Beneficiary:
    n = next(_numbers)
    beneficiary = Beneficiary.objects.create(
        nir=f"2{n:012d}{n % 97:02d}",
        birth_name="TEST",
        first_names="PERSONNE",
        sex=sex,
        birth_date=birth_date,
        birth_place_code="75056",
        email=email,
    )
    Space.objects.create(beneficiary=beneficiary, state=state)
    return beneficiary


def child_of(parent: Beneficiary, birth_date: dt.date) -> Beneficiary:
    child = person(birth_date, sex="M", state=Space.State.AUTO_OPENED, email="")
    LegalRepresentation.objects.create(representative=parent, minor=child)
    return child


def campaign(
    agent: User,
    *,
    send_at: dt.datetime | None = None,
    state: str = Campaign.State.SCHEDULED,
    criteria: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Campaign:
    values: dict[str, Any] = {
        "title": "Dépistage du cancer colorectal",
        "body": "Le test de dépistage est gratuit : parlez-en à votre médecin.",
        "reason": "vous avez entre 50 et 74 ans",
        "send_at": send_at or timezone.now() - dt.timedelta(minutes=1),
        "state": state,
        "created_by": agent,
    }
    c = Campaign.objects.create(**(values | fields))
    for criterion in criteria or []:
        CampaignCriterion.objects.create(campaign=c, **criterion)
    return c


def beneficiaries_bulk(count: int, *, refusing_every: int = 0) -> tuple[int, int]:
    """`count` adults with an open space, set-based (generate_series); one in
    `refusing_every` refused prevention messages (CONS-9). Returns the
    (first, last) beneficiary ids."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO espace_beneficiary (nir, birth_name, first_names, sex,
                birth_date, birth_place_code, usual_name, vitale_serial,
                identity_status, email, phone, address, postal_code, city, created_at)
            SELECT '1' || lpad(g::text, 14, '0'), 'TEST', 'PERSONNE',
                   CASE WHEN g %% 2 = 0 THEN 'F' ELSE 'M' END,
                   DATE '1970-01-01' + (g %% 7000), '75056', '', '', 'QUAL',
                   CASE WHEN g %% 3 = 0 THEN '' ELSE 'p' || g || '@example.test' END,
                   '', '', '', '', now()
            FROM generate_series(1, %s) AS g
            RETURNING id""",
            [count],
        )
        ids = [row[0] for row in cursor.fetchall()]
        first, last = min(ids), max(ids)
        cursor.execute(
            """INSERT INTO espace_space (beneficiary_id, state, suspended_from,
                legacy_dmp, updated_at)
            SELECT id, CASE WHEN id %% 10 = 0 THEN 'opposed' ELSE 'auto_opened' END,
                   '', false, now()
            FROM espace_beneficiary WHERE id BETWEEN %s AND %s""",
            [first, last],
        )
        if refusing_every:
            cursor.execute(
                """INSERT INTO consent_privacysettings (patient_id, bris_de_glace,
                    samu, prevention_refused, updated_at)
                SELECT id, true, true, true, now() FROM espace_beneficiary
                WHERE id BETWEEN %s AND %s AND id %% %s = 0""",
                [first, last, refusing_every],
            )
    return first, last
