"""A prevention campaign to N patients (MSG-4) against a raw INSERT … SELECT.

N beneficiaries with an open space (default 1,000,000;
`BENCH_CAMPAIGN_ROWS=100000` for a quick run), one in seven refusing
prevention messages (CONS-9), are created set-based (generate_series). The
baseline is one `INSERT … SELECT` of the same rows (same targeting joins)
into a plain table with no index; ours is the job's write phase
(`campaign_write_step`, range after range, each its own transaction with
ON CONFLICT, cursor and counters). The notify phase (a status update per
message, an in-app notice and an e-mail queued each) is timed on its own.
PostgreSQL only.
"""

from __future__ import annotations

import datetime as dt
import os

from django.db import connection

from bench.common import Context, Row, wall

ROWS = int(os.environ.get("BENCH_CAMPAIGN_ROWS", "1000000"))
WIDTH = int(os.environ.get("BENCH_CAMPAIGN_BATCH", "100000"))
TABLES = (
    "messagerie_campaigndelivery",
    "messagerie_campaigncriterion",
    "messagerie_campaign",
    "consent_privacysettings",
    "audit_auditevent",
    "espace_notification",
    "espace_space",
    "espace_legalrepresentation",
    "espace_beneficiary",
)


def run(ctx: Context) -> list[Row]:
    if ctx.database() != "postgresql":
        return [Row("skipped: set DATABASE_URL to a PostgreSQL database", 0, "")]
    from messagerie import campaign_jobs
    from messagerie.campaign_models import Campaign
    from messagerie.campaign_selectors import TARGETS_FROM, targeting_sql

    _truncate()
    try:
        _load(ROWS)
        campaign = Campaign.objects.create(
            title="Bench",
            body="Message de prévention.",
            reason="vous avez plus de 18 ans",
            age_min=18,
            send_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            state=Campaign.State.SCHEDULED,
        )
        sql = targeting_sql(campaign)
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS bench_plain_delivery (campaign_id uuid, "
                "beneficiary_id bigint, status varchar(9), created_at timestamptz)"
            )

        def raw() -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO bench_plain_delivery SELECT %(c)s, b.id, "
                    "CASE WHEN p.prevention_refused THEN 'withheld' ELSE 'pending' END, "
                    f"now() FROM {TARGETS_FROM} WHERE {sql.where}",
                    {**sql.params, "c": campaign.pk},
                )

        raw_seconds, _ = wall(raw)
        campaign_jobs.campaigns_start()

        def write() -> int:
            steps = 0
            while campaign_jobs.campaign_write_step(campaign.pk, batch=WIDTH):
                steps += 1
            return steps

        def notify() -> int:
            steps = 0
            while campaign_jobs.campaign_notify_step(campaign.pk, batch=WIDTH):
                steps += 1
            return steps

        ours_seconds, _steps = wall(write)
        notify_seconds, _steps = wall(notify)
        campaign.refresh_from_db()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM bench_plain_delivery")
            plain = int(cursor.fetchone()[0])
        assert campaign.targeted_count == plain, (campaign.targeted_count, plain)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_plain_delivery")
        _truncate()
    return [
        Row(
            f"raw INSERT … SELECT of {plain:,} messages (plain table)", raw_seconds, "s"
        ),
        Row(
            f"campaign write phase, {plain:,} messages ({WIDTH:,}-id ranges)",
            ours_seconds,
            "s",
            raw_seconds,
            max_ratio=3.0,
            goal_id="MSG-4",
        ),
        Row(
            f"notify phase: {campaign.delivered_count:,} delivered "
            f"(+ in-app + e-mail queued), {campaign.withheld_count:,} refused",
            notify_seconds,
            "s",
        ),
        Row("messages written per second", plain / ours_seconds, "/s"),
    ]


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


def _load(rows: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO espace_beneficiary (nir, birth_name, first_names, sex,
                birth_date, birth_place_code, usual_name, vitale_serial,
                identity_status, email, phone, address, postal_code, city, created_at)
            SELECT '1' || lpad(g::text, 14, '0'), 'TEST', 'PERSONNE',
                   CASE WHEN g %% 2 = 0 THEN 'F' ELSE 'M' END,
                   DATE '1950-01-01' + (g %% 18000), '75056', '', '', 'QUAL',
                   CASE WHEN g %% 3 = 0 THEN '' ELSE 'p' || g || '@example.test' END,
                   '', '', '', '', now()
            FROM generate_series(1, %s) AS g""",
            [rows],
        )
        cursor.execute(
            "INSERT INTO espace_space (beneficiary_id, state, suspended_from, "
            "legacy_dmp, updated_at) SELECT id, 'auto_opened', '', false, now() "
            "FROM espace_beneficiary"
        )
        cursor.execute(
            "INSERT INTO consent_privacysettings (patient_id, bris_de_glace, samu, "
            "prevention_refused, updated_at) SELECT id, true, true, true, now() "
            "FROM espace_beneficiary WHERE id %% 7 = 0",
            [],
        )
        cursor.execute(
            "ANALYZE espace_beneficiary, espace_space, consent_privacysettings"
        )
