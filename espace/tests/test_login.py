"""Logins with two factors, lockout, sessions, password reset (LC-7, SEC-2, SEC-3)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from espace.models import User
from tests.personas import PASSWORD

LOGIN = reverse("espace:login")
CODE = reverse("espace:login-code")


def _password_step(
    client: Client, username: str, password: str = PASSWORD, **extra: str
):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"identifier": username, "password": password}, **extra)


def _mailed_code() -> str:
    match = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def _totp_now(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.mark.django_db
class PatientLoginTestCase:
    def test_it_logs_in_with_password_then_emailed_code(
        self, client: Client, alice: User
    ) -> None:
        response = _password_step(client, "alice")
        assert response.status_code == 302 and response["Location"] == CODE
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["alice@example.test"]
        assert message.alternatives  # multipart text + HTML
        response = client.post(CODE, {"code": _mailed_code()})
        assert response.status_code == 302
        assert response["Location"] == reverse("espace:patient-home")
        assert client.get(reverse("espace:patient-home")).status_code == 200
        assert AuditEvent.objects.filter(
            action="login", actor=alice, outcome="0"
        ).exists()

    def test_the_session_key_changes_at_each_factor(
        self, client: Client, alice: User
    ) -> None:
        client.get(LOGIN)
        _password_step(client, "alice")
        after_password = client.session.session_key
        client.post(CODE, {"code": _mailed_code()})
        assert client.session.session_key != after_password

    def test_a_code_serves_only_once(self, alice: User) -> None:
        first, second = Client(), Client()
        _password_step(first, "alice")
        code = _mailed_code()
        # A second browser at the code step, before the first one uses the code.
        _password_step(second, "alice", REMOTE_ADDR="198.51.100.8")
        assert len(mail.outbox) == 1  # cooldown: no second code was sent
        assert first.post(CODE, {"code": code})["Location"] == reverse(
            "espace:patient-home"
        )
        replay = second.post(CODE, {"code": code})
        assert replay.status_code == 200
        assert "Code incorrect ou expiré" in replay.content.decode()

    def test_hashing_runs_once_per_attempt_and_never_when_locked(
        self, alice: User
    ) -> None:
        """G-P5: one hash per password attempt, known or unknown identifier;
        a locked pair costs no hash at all (throttling before the hash)."""
        from unittest import mock

        from django.contrib.auth.hashers import MD5PasswordHasher

        client = Client(REMOTE_ADDR="203.0.113.20")
        with mock.patch.object(
            MD5PasswordHasher,
            "encode",
            autospec=True,
            side_effect=MD5PasswordHasher.encode,
        ) as encode:
            _password_step(client, "nobody", "wrong-password-123")
            _password_step(client, "alice", "wrong-password-123")
            assert encode.call_count == 2
            for _ in range(4):  # five failures for alice from this address
                _password_step(client, "alice", "wrong-password-123")
            encode.reset_mock()
            assert _password_step(client, "alice").status_code == 429
            assert encode.call_count == 0

    def test_an_emailed_code_expires_after_ten_minutes(
        self, client: Client, alice: User
    ) -> None:
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            _password_step(client, "alice")
            code = _mailed_code()
            traveller.shift(timedelta(minutes=10, seconds=1))
            response = client.post(CODE, {"code": code})
        assert response.status_code == 200
        assert "Code incorrect ou expiré" in response.content.decode()

    def test_five_wrong_codes_throw_the_login_away(
        self, client: Client, alice: User
    ) -> None:
        _password_step(client, "alice")
        good = _mailed_code()
        wrong = "000000" if good != "000000" else "111111"
        for _ in range(4):
            assert client.post(CODE, {"code": wrong}).status_code == 200
        response = client.post(CODE, {"code": wrong})
        assert response.status_code == 302 and response["Location"] == LOGIN
        assert client.post(CODE, {"code": good})["Location"] == LOGIN
        assert AuditEvent.objects.filter(code="login.code_failed").count() == 5

    def test_a_malformed_code_is_a_form_error(
        self, client: Client, alice: User
    ) -> None:
        _password_step(client, "alice")
        response = client.post(CODE, {"code": "12ab"})
        assert response.status_code == 200
        assert "6 chiffres" in response.content.decode()

    def test_the_code_page_needs_the_password_first(
        self, client: Client, alice: User
    ) -> None:
        response = client.get(CODE)
        assert response.status_code == 302 and response["Location"] == LOGIN

    def test_password_alone_opens_nothing(self, client: Client, alice: User) -> None:
        _password_step(client, "alice")
        response = client.get(reverse("espace:patient-home"))
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)

    def test_a_patient_may_enrol_totp_and_then_use_it(
        self, alice: User, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(alice)
        page = client.get(reverse("espace:totp-enrol"))
        assert page.status_code == 200 and b"data:image/svg+xml;base64," in page.content
        device = TOTPDevice.objects.get(user=alice, confirmed=False)
        refused = client.post(reverse("espace:totp-enrol"), {"code": _totp_now(device)})
        assert refused.status_code == 200  # re-authentication needed (R11)
        assert "Mot de passe incorrect" in refused.content.decode()
        with time_machine.travel(timezone.now() + timedelta(seconds=2)):
            response = client.post(
                reverse("espace:totp-enrol"),
                {"code": _totp_now(device), "password": PASSWORD},
            )
        assert response.status_code == 302
        device.refresh_from_db()
        assert device.confirmed
        fresh = Client()
        _password_step(fresh, "alice")
        assert mail.outbox == []  # TOTP now, no e-mail
        device.refresh_from_db()
        with time_machine.travel(timezone.now() + timedelta(seconds=31)):
            response = fresh.post(CODE, {"code": _totp_now(device)})
            assert response.status_code == 302

    def test_a_patient_with_totp_can_still_ask_for_an_email_code(
        self, client: Client, alice: User
    ) -> None:
        TOTPDevice.objects.create(user=alice, name="t", confirmed=True)
        _password_step(client, "alice")
        response = client.post(reverse("espace:login-code-email"))
        assert response.status_code == 302
        response = client.post(response["Location"], {"code": _mailed_code()})
        assert response.status_code == 302
        assert response["Location"] == reverse("espace:patient-home")


@pytest.mark.django_db
class WrongCredentialsTestCase:
    def test_unknown_and_known_identifiers_get_the_same_answer(
        self, client: Client, alice: User
    ) -> None:
        unknown = _password_step(client, "nobody", "whatever-password")
        known = _password_step(client, "alice", "wrong-password-123")
        assert unknown.status_code == known.status_code == 200
        message = "Identifiant ou mot de passe incorrect."
        assert message in unknown.content.decode() and message in known.content.decode()
        assert mail.outbox == []

    def test_five_failures_lock_the_account_from_that_address_only(
        self, alice: User
    ) -> None:
        attacker = Client(REMOTE_ADDR="203.0.113.9")
        for _ in range(5):
            _password_step(attacker, "alice", "wrong-password-123")
        locked = _password_step(attacker, "alice")  # even the right password
        assert locked.status_code == 429
        assert "temporairement bloquée" in locked.content.decode()
        # The victim, elsewhere, is not locked out by a stranger (ASVS 6.1.1).
        victim = Client(REMOTE_ADDR="198.51.100.7")
        assert _password_step(victim, "alice")["Location"] == CODE

    def test_the_lock_is_lifted_after_the_cool_off(self, alice: User) -> None:
        attacker = Client(REMOTE_ADDR="203.0.113.9")
        for _ in range(5):
            _password_step(attacker, "alice", "wrong-password-123")
        with time_machine.travel(timezone.now() + timedelta(minutes=16)):
            assert _password_step(attacker, "alice")["Location"] == CODE

    def test_an_empty_form_gets_french_errors(self, client: Client, db: None) -> None:
        response = client.post(LOGIN, {})
        assert response.status_code == 200
        assert "Ce champ est obligatoire" in response.content.decode()


@pytest.mark.django_db
class ProfessionalLoginTestCase:
    def test_first_login_requires_totp_enrolment(
        self, client: Client, bob: User
    ) -> None:
        response = _password_step(client, "bob")
        assert response["Location"] == reverse("espace:totp-enrol")
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert "obligatoire" in page.content.decode()
        device = TOTPDevice.objects.get(user=bob, confirmed=False)
        wrong = client.post(reverse("espace:totp-enrol"), {"code": "000000"})
        assert wrong.status_code == 200
        device = TOTPDevice.objects.get(user=bob, confirmed=False)
        with time_machine.travel(timezone.now() + timedelta(seconds=2)):
            # past the one-second throttle that follows a wrong code
            response = client.post(
                reverse("espace:totp-enrol"), {"code": _totp_now(device)}
            )
        assert response["Location"] == reverse("espace:pro-home")
        assert client.get(reverse("espace:pro-home")).status_code == 200
        assert mail.outbox == []

    def test_enrolled_professionals_give_their_totp_code(
        self, client: Client, bob: User
    ) -> None:
        device = TOTPDevice.objects.create(user=bob, name="t", confirmed=True)
        _password_step(client, "bob")
        response = client.post(CODE, {"code": _totp_now(device)})
        assert response["Location"] == reverse("espace:pro-home")

    def test_professionals_cannot_fall_back_to_email(
        self, client: Client, bob: User
    ) -> None:
        TOTPDevice.objects.create(user=bob, name="t", confirmed=True)
        _password_step(client, "bob")
        response = client.post(reverse("espace:login-code-email"))
        assert response["Location"] == LOGIN
        assert mail.outbox == []

    def test_professional_pages_refuse_patients(self, alice: User, client_for) -> None:  # type: ignore[no-untyped-def]
        assert client_for(alice).get(reverse("espace:pro-home")).status_code == 404


@pytest.mark.django_db
class SessionTestCase:
    def test_professionals_are_logged_out_after_15_idle_minutes(
        self, bob: User, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(bob)
        assert client.get(reverse("espace:pro-home")).status_code == 200
        with time_machine.travel(timezone.now() + timedelta(minutes=14)):
            assert client.get(reverse("espace:pro-home")).status_code == 200
        with time_machine.travel(timezone.now() + timedelta(minutes=14 + 16)):
            response = client.get(reverse("espace:pro-home"))
        assert response.status_code == 302 and response["Location"] == LOGIN
        assert AuditEvent.objects.filter(
            action="logout", code="logout.timeout"
        ).exists()

    def test_patients_have_30_idle_minutes(self, alice: User, client_for) -> None:  # type: ignore[no-untyped-def]
        client = client_for(alice)
        client.get(reverse("espace:patient-home"))
        with time_machine.travel(timezone.now() + timedelta(minutes=25)):
            assert client.get(reverse("espace:patient-home")).status_code == 200
        with time_machine.travel(timezone.now() + timedelta(minutes=25 + 31)):
            assert client.get(reverse("espace:patient-home")).status_code == 302

    def test_sessions_end_after_12_hours_however_active(
        self, alice: User, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(alice)
        client.get(reverse("espace:patient-home"))
        session = client.session
        session["auth_at"] = session["auth_at"] - 12 * 3600 - 1
        session.save()
        assert client.get(reverse("espace:patient-home")).status_code == 302

    def test_logout_ends_the_session(self, alice: User, client_for) -> None:  # type: ignore[no-untyped-def]
        client = client_for(alice)
        assert client.get(reverse("espace:logout")).status_code == 405
        assert client.post(reverse("espace:logout")).status_code == 302
        assert client.get(reverse("espace:patient-home")).status_code == 302
        assert AuditEvent.objects.filter(action="logout", actor=alice).exists()

    def test_next_never_leaves_the_site(self, client: Client, alice: User) -> None:
        client.post(
            f"{LOGIN}?next=https://evil.example/",
            {"identifier": "alice", "password": PASSWORD},
        )
        response = client.post(CODE, {"code": _mailed_code()})
        assert response["Location"] == reverse("espace:patient-home")

    def test_next_brings_back_to_the_asked_page(
        self, client: Client, bob: User
    ) -> None:
        device = TOTPDevice.objects.create(user=bob, name="t", confirmed=True)
        client.post(f"{LOGIN}?next=/pro/", {"identifier": "bob", "password": PASSWORD})
        assert client.post(CODE, {"code": _totp_now(device)})["Location"] == "/pro/"


@pytest.mark.django_db
class PasswordResetTestCase:
    def test_it_mails_a_link_that_sets_a_new_password(
        self, client: Client, alice: User
    ) -> None:
        response = client.post(
            reverse("espace:password-reset"), {"email": "alice@example.test"}
        )
        assert response["Location"] == reverse("espace:password-reset-done")
        link = re.search(
            r"https?://[^/]+(/mot-de-passe/nouveau/\S+/)", mail.outbox[0].body
        )
        assert link
        form = client.get(link.group(1), follow=True)
        assert form.status_code == 200
        weak = client.post(
            form.redirect_chain[-1][0],
            {"new_password1": "court", "new_password2": "court"},
        )
        assert "12 caractères" in weak.content.decode()
        done = client.post(
            form.redirect_chain[-1][0],
            {
                "new_password1": "Nouveau-secret-2026",
                "new_password2": "Nouveau-secret-2026",
            },
        )
        assert done["Location"] == reverse("espace:password-reset-complete")
        alice.refresh_from_db()
        assert alice.check_password("Nouveau-secret-2026")
        assert (
            "_auth_user_id" not in client.session
        )  # no login without the second factor

    def test_unknown_addresses_get_the_same_answer(
        self, client: Client, db: None
    ) -> None:
        response = client.post(
            reverse("espace:password-reset"), {"email": "nobody@example.test"}
        )
        assert response["Location"] == reverse("espace:password-reset-done")
        assert mail.outbox == []


def test_production_hashes_passwords_with_argon2id() -> None:
    import argon2
    from django.contrib.auth.hashers import Argon2PasswordHasher

    from config import settings as production

    assert (
        production.PASSWORD_HASHERS[0]
        == "django.contrib.auth.hashers.Argon2PasswordHasher"
    )
    encoded = Argon2PasswordHasher().encode(
        "Un-mot-de-passe-solide", Argon2PasswordHasher().salt()
    )
    assert encoded.startswith("argon2$argon2id$")
    assert (
        argon2.extract_parameters(encoded.removeprefix("argon2")).type == argon2.Type.ID
    )


def test_password_rules_need_12_characters_and_refuse_common_ones() -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="12"):
        validate_password("Abc-12345")
    with pytest.raises(ValidationError):
        validate_password("qwertyuiop123")
    validate_password("Une-phrase-de-passe-longue")


@pytest.mark.django_db
class TotpEnrolmentGuardTestCase:
    """SEC-2: a password alone never enrols (or replaces) a second factor."""

    def test_a_half_logged_in_patient_cannot_enrol_instead_of_the_emailed_code(
        self, client: Client, alice: User
    ) -> None:
        _password_step(client, "alice")
        response = client.get(reverse("espace:totp-enrol"))
        assert response["Location"] == CODE
        assert not TOTPDevice.objects.filter(user=alice).exists()
        assert client.get(reverse("espace:patient-home")).status_code == 302

    def test_a_half_logged_in_professional_cannot_replace_his_authenticator(
        self, client: Client, bob: User
    ) -> None:
        device = TOTPDevice.objects.create(user=bob, name="t", confirmed=True)
        _password_step(client, "bob")
        assert client.get(reverse("espace:totp-enrol"))["Location"] == CODE
        response = client.post(reverse("espace:totp-enrol"), {"code": "123456"})
        assert response["Location"] == CODE
        assert list(
            TOTPDevice.objects.filter(user=bob).values_list("pk", flat=True)
        ) == [device.pk]

    def test_replacing_an_authenticator_is_audited_and_mailed(
        self, bob: User, client_for, django_capture_on_commit_callbacks
    ) -> None:
        client = client_for(bob)  # has a confirmed device "t"
        old = TOTPDevice.objects.get(user=bob, confirmed=True)
        client.get(reverse("espace:totp-enrol"))
        new = TOTPDevice.objects.get(user=bob, confirmed=False)
        with (
            time_machine.travel(timezone.now() + timedelta(seconds=2)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = client.post(
                reverse("espace:totp-enrol"),
                {"code": _totp_now(new), "password": PASSWORD},
            )
        assert response.status_code == 302
        assert not TOTPDevice.objects.filter(pk=old.pk).exists()
        assert AuditEvent.objects.filter(
            code="totp.replaced", target_id=str(old.pk)
        ).exists()
        assert (
            mail.outbox[-1].subject
            == "Votre application d'authentification a été changée"
        )


@pytest.mark.django_db
class RefusedLoginAuditTestCase:
    def test_wrong_passwords_and_lockouts_are_audited_without_the_identifier(
        self, alice: User
    ) -> None:
        client = Client(REMOTE_ADDR="203.0.113.30")
        for _ in range(5):
            _password_step(client, "alice", "wrong-password-123")
        _password_step(client, "alice")
        failed = AuditEvent.objects.filter(code="login.password_failed")
        # the 5th failure locks at once (axes): it and the next try say so
        assert failed.count() == 4
        assert set(failed.values_list("target_id", flat=True)) == {""}
        assert failed.first().remote_addr == "203.0.113.30"
        assert AuditEvent.objects.filter(code="login.locked").count() == 2

    def test_a_patient_without_email_is_told_what_to_do(
        self, client: Client, alice: User
    ) -> None:
        User.objects.filter(pk=alice.pk).update(email="")
        response = _password_step(client, "alice")
        assert response.status_code == 200
        assert "3422" in response.content.decode()
        assert mail.outbox == []
        assert client.get(CODE)["Location"] == LOGIN


@pytest.mark.django_db
def test_logged_in_pages_are_never_cached(alice: User, client_for) -> None:
    response = client_for(alice).get(reverse("espace:patient-home"))
    assert (
        "no-store" in response["Cache-Control"]
        and "private" in response["Cache-Control"]
    )
    api = client_for(alice).get("/api/v1/me/")
    assert "no-store" in api["Cache-Control"]


@pytest.mark.django_db
class PasswordResetAbuseTestCase:
    def test_reset_mails_are_limited_per_address_and_audited(self, alice: User) -> None:
        client = Client(REMOTE_ADDR="203.0.113.40")
        for _ in range(7):
            response = client.post(
                reverse("espace:password-reset"), {"email": "alice@example.test"}
            )
            assert response["Location"] == reverse("espace:password-reset-done")
        assert len(mail.outbox) == 5
        assert AuditEvent.objects.filter(code="password.reset_throttled").count() == 2

    def test_a_password_reset_voids_a_half_done_login(
        self, client: Client, alice: User
    ) -> None:
        _password_step(client, "alice")
        code = _mailed_code()
        alice.set_password("Tout-nouveau-secret-2026")
        alice.save()
        assert client.post(CODE, {"code": code})["Location"] == LOGIN
