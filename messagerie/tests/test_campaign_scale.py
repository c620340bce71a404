"""MSG-4, SEC-6: a campaign to 100,000 patients on PostgreSQL, killed in the
middle and restarted: exactly one message per targeted, non-refusing
patient, and exact counters (MSG-5)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import connection

from espace.models import Notification, User
from espace.notifications import PREVENTION
from messagerie import campaign_jobs
from messagerie.campaign_models import Campaign, CampaignDelivery
from messagerie.campaign_selectors import campaign_preview
from messagerie.tests.campaign_factories import beneficiaries_bulk, campaign

PATIENTS = 100_000


@pytest.mark.django_db
def test_msg4_sec6_100k_campaign_killed_midway_writes_exactly_one_message_each(
    agnes: User,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    beneficiaries_bulk(PATIENTS, refusing_every=7)
    c = campaign(agnes, send_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    preview = campaign_preview(campaign=c)
    open_spaces = PATIENTS - PATIENTS // 10  # one in ten opposed
    assert preview.targeted == open_spaces
    real = campaign_jobs._write
    calls = {"n": 0}

    def killed(*args: object) -> tuple[int, int]:
        calls["n"] += 1
        result = real(*args)  # type: ignore[arg-type]
        if calls["n"] == 4:  # rows written, then the worker dies
            raise RuntimeError("worker killed")
        return result

    with (
        mock.patch.object(campaign_jobs, "_write", killed),
        pytest.raises(RuntimeError),
    ):
        campaign_jobs.campaigns_send(batch=10_000)
    c.refresh_from_db()
    assert c.state == Campaign.State.SENDING
    assert 0 < c.targeted_count < open_spaces
    # the restart, stopped once more after a few steps, then to the end
    campaign_jobs.campaigns_send(batch=10_000, max_steps=3)
    campaign_jobs.campaigns_send(batch=10_000)
    c.refresh_from_db()
    assert c.state == Campaign.State.SENT
    deliveries = CampaignDelivery.objects.filter(campaign=c)
    delivered = deliveries.filter(status=CampaignDelivery.Status.DELIVERED).count()
    withheld = deliveries.filter(status=CampaignDelivery.Status.WITHHELD).count()
    assert delivered + withheld == deliveries.count() == open_spaces
    assert withheld == preview.refusing
    assert delivered == preview.recipients
    assert (c.targeted_count, c.delivered_count, c.withheld_count) == (
        open_spaces,
        delivered,
        withheld,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM messagerie_campaigndelivery d
            JOIN consent_privacysettings p ON p.patient_id = d.beneficiary_id
            WHERE d.campaign_id = %s AND d.status = 'delivered'
              AND p.prevention_refused""",
            [c.pk],
        )
        assert cursor.fetchone()[0] == 0  # no refuser got one (CONS-9)
    notes = Notification.objects.filter(kind=PREVENTION)
    assert notes.filter(channel="inapp").count() == delivered
    assert notes.filter(channel="email").count() == (
        deliveries.filter(status="delivered").exclude(beneficiary__email="").count()
    )
