"""Holder journeys in the browser's shoes: activation (LC-6), opposition with
its PDF receipt (LC-4), new code (LC-3), closure and re-opening (LC-8)."""

from __future__ import annotations

import datetime as dt
import re
from datetime import timedelta

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from espace import services
from espace.codes import code_issue
from espace.models import Beneficiary, Notification, Space, User
from tests.personas import PASSWORD

SERIAL = "8025 0000 1234 5678"
NIR = "180017500012345"[:13]
NIR = NIR + f"{97 - int(NIR) % 97:02d}"


@pytest.fixture
def bernard(db: None) -> Beneficiary:
    """A beneficiary informed by letter, with no account yet."""
    return Beneficiary.objects.create(
        nir=NIR,
        birth_name="DURAND",
        first_names="BERNARD LOUIS",
        sex="M",
        birth_date=dt.date(1980, 1, 15),
        birth_place_code="75056",
        vitale_serial=SERIAL,
        email="bernard@example.test",
    )


@pytest.fixture
def informed(bernard: Beneficiary) -> tuple[Space, str]:
    space = services.space_inform(
        actor=None, space=Space.objects.create(beneficiary=bernard)
    )
    return space, code_issue(space=space, channel="letter")


def _identity(code: str, **changes: str) -> dict[str, str]:
    data = {
        "code": code,
        "nir": NIR,
        "vitale_serial": SERIAL,
        "birth_date": "15/01/1980",
    }
    data.update(changes)
    return data


def _account() -> dict[str, str]:
    return {
        "username": "bernard.durand",
        "email": "bernard.d@example.test",
        "password1": "Un-secret-tres-long-42",
        "password2": "Un-secret-tres-long-42",
    }


@pytest.mark.django_db
class ActivationTestCase:
    def test_lc6_activation_then_first_login_with_the_emailed_code(
        self, informed
    ) -> None:  # type: ignore[no-untyped-def]
        space, code = informed
        client = Client()
        step1 = client.post(reverse("espace:activation"), _identity(code.lower()))
        assert step1["Location"] == reverse("espace:activation-account")
        step2 = client.post(step1["Location"], _account())
        assert step2["Location"] == reverse("espace:login-code")
        user = User.objects.get(username="bernard.durand")
        assert user.role == "patient" and user.beneficiary.pk == space.beneficiary_id
        space.refresh_from_db()
        assert space.state == Space.State.ACTIVATED
        assert space.codes.get().used_at is not None
        login_code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
        assert mail.outbox[-1].to == ["bernard.d@example.test"]
        home = client.post(reverse("espace:login-code"), {"code": login_code})
        assert home["Location"] == reverse("espace:patient-home")

    def test_lc6_a_mistyped_email_is_recovered_with_a_new_code(self, informed) -> None:  # type: ignore[no-untyped-def]
        """The code went to a mistyped address: the contact address on file
        is untouched, so a new provisional code reaches the holder, and the
        activation starts again (new identifier, address, password). Once a
        login has succeeded, a code no longer reactivates."""
        space, code = informed
        client = Client()
        client.post(reverse("espace:activation"), _identity(code))
        typo = {**_account(), "email": "bernard.d@exmaple.test"}
        client.post(reverse("espace:activation-account"), typo)
        assert mail.outbox[-1].to == ["bernard.d@exmaple.test"]
        bernard = Beneficiary.objects.get(pk=space.beneficiary_id)
        assert bernard.email == "bernard@example.test"  # not proven yet

        again = code_issue(space=space, channel="email")
        client = Client()
        client.post(reverse("espace:activation"), _identity(again))
        fixed = {
            **_account(),
            "username": "bernard.d",
            "email": "bernard.d@example.test",
        }
        step2 = client.post(reverse("espace:activation-account"), fixed)
        assert step2["Location"] == reverse("espace:login-code")
        user = User.objects.get(beneficiary=bernard)
        assert (user.username, user.email) == ("bernard.d", "bernard.d@example.test")
        assert User.objects.filter(role="patient", beneficiary=bernard).count() == 1
        assert AuditEvent.objects.filter(code="lc6.activation_restarted").count() == 1
        assert mail.outbox[-1].to == ["bernard.d@example.test"]
        login_code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
        home = client.post(reverse("espace:login-code"), {"code": login_code})
        assert home["Location"] == reverse("espace:patient-home")
        bernard.refresh_from_db()
        assert bernard.email == "bernard.d@example.test"  # proven: on file now
        space.refresh_from_db()
        assert space.state == Space.State.ACTIVATED

        late = code_issue(space=space, channel="email")
        client = Client()
        client.post(reverse("espace:activation"), _identity(late))
        refused = client.post(reverse("espace:activation-account"), _account())
        assert "déjà activé" in refused.content.decode()

    def test_lc6_activation_after_the_automatic_opening(self, informed) -> None:  # type: ignore[no-untyped-def]
        space, code = informed
        with time_machine.travel(space.opposition_until + timedelta(minutes=1)):
            services.space_auto_open(space=space)
            # the letter's code lived 6 weeks from sending: a new one is needed
            code = code_issue(space=space, channel="email")
            client = Client()
            client.post(reverse("espace:activation"), _identity(code))
            client.post(reverse("espace:activation-account"), _account())
        space.refresh_from_db()
        assert space.state == Space.State.ACTIVATED

    def test_a_wrong_code_gets_the_same_answer_as_an_unknown_nir(
        self, informed
    ) -> None:  # type: ignore[no-untyped-def]
        _, code = informed
        wrong = Client().post(reverse("espace:activation"), _identity("ABCD-EFGH-JKMN"))
        unknown_body = "2800175000123"
        unknown = Client().post(
            reverse("espace:activation"),
            _identity(code, nir=unknown_body + f"{97 - int(unknown_body) % 97:02d}"),
        )
        message = "Les informations saisies ne permettent pas de vous identifier."
        assert message in wrong.content.decode() and message in unknown.content.decode()

    def test_the_account_step_needs_the_code_step(self, db: None) -> None:
        assert Client().get(reverse("espace:activation-account"))[
            "Location"
        ] == reverse("espace:activation")

    def test_bad_account_input_is_explained(self, informed) -> None:  # type: ignore[no-untyped-def]
        _, code = informed
        client = Client()
        client.post(reverse("espace:activation"), _identity(code))
        response = client.post(
            reverse("espace:activation-account"),
            {**_account(), "password2": "autre-chose-123456", "username": "a b"},
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "ne sont pas identiques" in body and "De 4 à 40 caractères" in body
        assert not User.objects.filter(email="bernard.d@example.test").exists()


@pytest.mark.django_db
class OppositionTestCase:
    def test_lc4_opposition_online_with_its_pdf_receipt(self, informed) -> None:  # type: ignore[no-untyped-def]
        space, code = informed
        client = Client()
        step1 = client.post(reverse("espace:opposition"), _identity(code))
        assert step1["Location"] == reverse("espace:opposition-confirm")
        assert "ne seront pas créés" in client.get(step1["Location"]).content.decode()
        done = client.post(step1["Location"])
        assert done["Location"] == reverse("espace:opposition-done")
        space.refresh_from_db()
        assert space.state == Space.State.OPPOSED
        assert space.history.last().channel == "web"
        receipt = client.get(reverse("espace:opposition-receipt"))
        assert receipt["Content-Type"] == "application/pdf"
        assert receipt.content.startswith(b"%PDF")

    def test_lc4_opposition_after_six_weeks_is_refused_with_a_reason(
        self, informed
    ) -> None:  # type: ignore[no-untyped-def]
        space, _ = informed
        with time_machine.travel(space.opposition_until + timedelta(minutes=1)):
            code = code_issue(space=space, channel="email")  # a fresh code, too late
            client = Client()
            client.post(reverse("espace:opposition"), _identity(code))
            response = client.post(reverse("espace:opposition-confirm"))
        assert "6 semaines est dépassé" in response.content.decode()
        space.refresh_from_db()
        assert space.state == Space.State.INFORMED

    def test_lc4_an_opposed_person_who_changes_their_mind_activates(
        self, informed
    ) -> None:  # type: ignore[no-untyped-def]
        space, _ = informed
        services.space_oppose(actor=None, space=space, channel="web")
        new = code_issue(space=space, channel="email")
        client = Client()
        client.post(reverse("espace:activation"), _identity(new))
        client.post(reverse("espace:activation-account"), _account())
        space.refresh_from_db()
        assert space.state == Space.State.ACTIVATED
        assert [h.to_state for h in space.history.all()] == [
            "informed",
            "opposed",
            "activated",
        ]

    def test_the_receipt_needs_a_fresh_opposition(self, db: None) -> None:
        assert Client().get(reverse("espace:opposition-receipt")).status_code == 404


@pytest.mark.django_db
class NewCodeTestCase:
    def test_lc3_the_answer_never_tells_whether_the_nir_exists(self, informed) -> None:  # type: ignore[no-untyped-def]
        known = Client().post(
            reverse("espace:new-code"),
            {**_identity(""), "channel": "email"},
            follow=True,
        )
        body = "2800175000123"
        unknown = Client(REMOTE_ADDR="198.51.100.3").post(
            reverse("espace:new-code"),
            {
                **_identity("", nir=body + f"{97 - int(body) % 97:02d}"),
                "channel": "email",
            },
            follow=True,
        )
        assert known.status_code == unknown.status_code == 200
        known_alerts = re.findall(
            r"fr-alert--success[^>]*>\s*<p>([^<]*)", known.content.decode()
        )
        unknown_alerts = re.findall(
            r"fr-alert--success[^>]*>\s*<p>([^<]*)", unknown.content.decode()
        )
        assert known_alerts == unknown_alerts and known_alerts
        assert Notification.objects.filter(kind="lc3.new_code").count() == 1

    def test_a_malformed_request_is_explained(self, db: None) -> None:
        response = Client().post(
            reverse("espace:new-code"), {"nir": "x", "birth_date": "31/02/1980"}
        )
        assert response.status_code == 200
        assert "JJ/MM/AAAA" in response.content.decode()


@pytest.mark.django_db
class ClosureTestCase:
    @pytest.fixture
    def holder(self, alice: User) -> User:
        space = services.space_inform(
            actor=None, space=Space.objects.create(beneficiary=alice.beneficiary)
        )
        services.space_activate(actor=alice, space=space)
        return alice

    def test_lc8_closure_needs_the_password_and_logs_out(
        self,
        holder: User,
        client_for,
        django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
    ) -> None:
        client = client_for(holder)
        url = reverse("espace:space-close")
        refused = client.post(url, {"password": "faux", "confirm": "on"})
        assert "Mot de passe incorrect" in refused.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(url, {"password": PASSWORD, "confirm": "on"})
        assert done["Location"] == reverse("espace:space-closed-info")
        space = Space.objects.get(beneficiary__user=holder)
        assert space.state == Space.State.CLOSED
        assert space.purge_after.year == space.closed_at.year + 10
        assert "10 ans" in mail.outbox[-1].body
        assert (
            client.get(reverse("espace:patient-home")).status_code == 302
        )  # logged out

    def test_lc8_early_deletion_is_asked_at_closure(
        self, holder: User, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client_for(holder).post(
            reverse("espace:space-close"),
            {"password": PASSWORD, "confirm": "on", "early_deletion": "on"},
        )
        space = Space.objects.get(beneficiary__user=holder)
        assert (
            space.purge_after
            == space.deletion_requested_at + services.EARLY_DELETION_DELAY
        )
        assert space.purge_after < space.deletion_requested_at + relativedelta(months=3)

    def test_lc8_a_closed_space_is_reopened_with_its_data(
        self, holder: User, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        space = Space.objects.get(beneficiary__user=holder)
        services.space_close(actor=holder, space=space, channel="web")
        client = client_for(holder)
        assert client.get(reverse("espace:patient-home"))["Location"] == reverse(
            "espace:space-reopen"
        )
        assert (
            "Rouvrir mon espace"
            in client.get(reverse("espace:space-reopen")).content.decode()
        )
        refused = client.post(reverse("espace:space-reopen"), {"password": "faux"})
        assert "Mot de passe incorrect" in refused.content.decode()
        assert client.post(reverse("espace:space-reopen"), {"password": PASSWORD})[
            "Location"
        ] == reverse("espace:patient-home")
        space.refresh_from_db()
        assert space.state == Space.State.ACTIVATED
        assert client.get(reverse("espace:patient-home")).status_code == 200


@pytest.mark.django_db
class ReviewGuardsTestCase:
    def test_lc10_a_minor_space_is_not_activated_by_code(self, informed) -> None:  # type: ignore[no-untyped-def]
        space, code = informed
        Beneficiary.objects.filter(pk=space.beneficiary_id).update(
            birth_date=timezone.localdate() - timedelta(days=365 * 10)
        )
        client = Client()
        client.post(
            reverse("espace:activation"),
            _identity(
                code,
                birth_date=(timezone.localdate() - timedelta(days=365 * 10)).strftime(
                    "%d/%m/%Y"
                ),
            ),
        )
        response = client.post(reverse("espace:activation-account"), _account())
        assert "représentant" in response.content.decode()
        assert not User.objects.filter(username="bernard.durand").exists()

    def test_lc9_a_space_closed_after_suspension_reopens_only_by_phone(
        self,
        alice: User,
        agnes: User,
        client_for,  # type: ignore[no-untyped-def]
    ) -> None:
        space = services.space_inform(
            actor=None, space=Space.objects.create(beneficiary=alice.beneficiary)
        )
        services.space_activate(actor=alice, space=space)
        services.space_suspend(actor=agnes, space=space)
        services.space_close(
            actor=None, space=space, channel="batch", reason="lc9.closed"
        )
        client = client_for(alice)
        page = client.post(reverse("espace:space-reopen"), {"password": PASSWORD})
        assert "appelez le 3422" in page.content.decode()
        space.refresh_from_db()
        assert space.state == Space.State.CLOSED

    def test_lc8_a_closed_space_never_activated_comes_back_with_a_new_code(
        self, informed
    ) -> None:  # type: ignore[no-untyped-def]
        space, _ = informed
        with time_machine.travel(space.opposition_until + timedelta(minutes=1)):
            services.space_auto_open(space=space)
            services.space_close(actor=None, space=space, channel="phone")
            code = code_issue(space=space, channel="email")
            client = Client()
            client.post(reverse("espace:activation"), _identity(code))
            client.post(reverse("espace:activation-account"), _account())
        space.refresh_from_db()
        assert space.state == Space.State.ACTIVATED

    def test_lc8_purged_holders_cannot_log_in(self, alice: User) -> None:
        from espace import jobs

        space = services.space_inform(
            actor=None, space=Space.objects.create(beneficiary=alice.beneficiary)
        )
        services.space_activate(actor=alice, space=space)
        closed = services.space_close(actor=alice, space=space, channel="web")
        with time_machine.travel(closed.purge_after + timedelta(minutes=1)):
            assert jobs.spaces_purge() == 1
        alice.refresh_from_db()
        assert alice.is_active is False
