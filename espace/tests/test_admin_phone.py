"""The 3422 phone line in the back office (SPEC §1, LC-3, LC-4, LC-8, LC-9)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from espace import services
from espace.codes import code_issue
from espace.models import Beneficiary, Notification, PrintBatch, Space, User

SERIAL = "8025 0000 1234 5678"


@pytest.fixture
def caller(alice: User) -> Space:
    Beneficiary.objects.filter(pk=alice.beneficiary.pk).update(vitale_serial=SERIAL)
    return services.space_inform(
        actor=None, space=Space.objects.create(beneficiary=alice.beneficiary)
    )


def _call(client: Client, space: Space, **data: str):  # type: ignore[no-untyped-def]
    url = reverse("admin:espace_beneficiary_phone", args=[space.beneficiary_id])
    payload = {"vitale_serial": SERIAL, "birth_date": "14/03/1979", **data}
    return client.post(url, payload)


@pytest.mark.django_db
class PhoneLineTestCase:
    def test_lc4_an_agent_records_an_opposition_with_the_code(
        self, agnes: User, caller: Space, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        code = code_issue(space=caller, channel="letter")
        response = _call(client_for(agnes), caller, action="oppose", code=code)
        assert response.status_code == 302
        caller.refresh_from_db()
        assert caller.state == Space.State.OPPOSED
        last = caller.history.last()
        assert (last.channel, last.actor) == ("phone", agnes)

    def test_the_identity_proof_is_checked_first(
        self, agnes: User, caller: Space, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        response = _call(
            client_for(agnes), caller, action="close", vitale_serial="0000"
        )
        assert "Identité non vérifiée" in response.content.decode()
        caller.refresh_from_db()
        assert caller.state == Space.State.INFORMED

    def test_lc8_lc9_close_reopen_suspend_restore_by_phone(
        self, agnes: User, caller: Space, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(agnes)
        services.space_activate(actor=None, space=caller)
        for action, state in [
            ("suspend", Space.State.SUSPENDED),
            ("restore", Space.State.ACTIVATED),
            ("close", Space.State.CLOSED),
            ("reopen", Space.State.ACTIVATED),
        ]:
            assert _call(client, caller, action=action).status_code == 302
            caller.refresh_from_db()
            assert caller.state == state, action
        assert set(
            caller.history.exclude(to_state="informed").values_list(
                "channel", flat=True
            )
        ) == {"phone", "web"}

    def test_an_illegal_request_is_explained(
        self, agnes: User, caller: Space, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        response = _call(client_for(agnes), caller, action="restore")
        assert response.status_code == 200
        assert "actuellement" in response.content.decode()

    def test_lc3_new_codes_by_email_and_by_letter(
        self, agnes: User, caller: Space, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(agnes)
        assert (
            _call(client, caller, action="new_code", channel="email").status_code == 302
        )
        assert mail.outbox[-1].to == [caller.beneficiary.email]
        assert (
            _call(client, caller, action="new_code", channel="letter").status_code
            == 302
        )
        assert (
            Notification.objects.filter(
                kind="lc3.new_code", channel="letter", status="pending"
            ).count()
            == 1
        )

    def test_agents_see_counts_and_print_letter_batches(
        self, agnes: User, caller: Space, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(agnes)
        page = client.get(reverse("admin:espace_space_dashboard"))
        assert page.status_code == 200
        assert "Informé" in page.content.decode()
        nothing = client.post(reverse("admin:espace_space_print"))
        assert nothing.status_code == 302
        Beneficiary.objects.filter(pk=caller.beneficiary_id).update(
            address="12 rue des Lilas", postal_code="51100", city="REIMS"
        )
        services.new_code_by_letter(actor=agnes, space=caller)
        prepared = client.post(reverse("admin:espace_space_print"), follow=True)
        assert "courrier(s) à télécharger" in prepared.content.decode()
        batch = PrintBatch.objects.get(status=PrintBatch.Status.READY)
        url = reverse("admin:espace_space_print_download", args=[batch.pk])
        assert url in prepared.content.decode()
        pdf = client.get(url)
        assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(
            b"%PDF"
        )
        batch.refresh_from_db()
        assert batch.downloads == 1
        assert AuditEvent.objects.filter(
            code="lc2.print_batch_downloaded", actor_id=agnes.pk
        ).exists()
        # Only ready batches can be downloaded; an unknown one is a 404.
        missing = reverse("admin:espace_space_print_download", args=[batch.pk + 99])
        assert client.get(missing).status_code == 404

    def test_patients_and_professionals_never_reach_the_phone_page(
        self, alice: User, bob: User, caller: Space, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        url = reverse("admin:espace_beneficiary_phone", args=[caller.beneficiary_id])
        assert client_for(alice).get(url).status_code == 302
        assert client_for(bob).get(url).status_code == 302


@pytest.mark.django_db
def test_lc9_an_agent_suspends_without_a_caller_and_it_is_audited(
    agnes: User, caller: Space, client_for
) -> None:  # type: ignore[no-untyped-def]
    from audit.models import AuditEvent

    services.space_activate(actor=None, space=caller)
    client = client_for(agnes)
    url = reverse("admin:espace_beneficiary_phone", args=[caller.beneficiary_id])
    assert client.post(url, {"action": "suspend"}).status_code == 302
    caller.refresh_from_db()
    assert caller.state == Space.State.SUSPENDED
    refused = client.post(
        url, {"action": "restore", "vitale_serial": "1", "birth_date": "01/01/2000"}
    )
    assert "Identité non vérifiée" in refused.content.decode()
    assert AuditEvent.objects.filter(code="3422.identity_refused", actor=agnes).exists()


@pytest.mark.django_db
def test_lc9_the_holder_is_told_of_the_suspension_and_of_the_closure(
    agnes: User,
    caller: Space,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    from datetime import timedelta

    import time_machine

    from espace import jobs

    services.space_activate(actor=None, space=caller)
    with django_capture_on_commit_callbacks(execute=True):
        suspended = services.space_suspend(actor=agnes, space=caller)
    assert mail.outbox[-1].subject == "Votre espace Mon espace santé est suspendu"
    assert mail.outbox[-1].to == [caller.beneficiary.email]
    with time_machine.travel(suspended.suspension_ends_at + timedelta(minutes=1)):
        assert jobs.spaces_close_suspended() == 1
        assert jobs.notifications_send() == 1
    assert mail.outbox[-1].subject == "Votre espace Mon espace santé est fermé"
