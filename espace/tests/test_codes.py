"""Provisional codes (LC-3, G-S5): entropy, hashing, expiry, single use, locks,
throttling, and one answer for every mismatch."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from espace import codes
from espace.models import Beneficiary, ProvisionalCode, Space, User

NIR = "279035121518989"  # alice's
BIRTH = dt.date(1979, 3, 14)
SERIAL = "8025 0000 0123 4567"
ADDRESS = "203.0.113.7"
GENERIC = "Les informations saisies ne permettent pas de vous identifier."


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()  # throttling counters live in the (locmem) cache
    yield
    cache.clear()


@pytest.fixture
def space(alice: User) -> Space:
    Beneficiary.objects.filter(pk=alice.beneficiary.pk).update(vitale_serial=SERIAL)
    return Space.objects.create(beneficiary=alice.beneficiary)


def check(code: str, **overrides: object) -> ProvisionalCode:
    values: dict[str, object] = {
        "nir": NIR,
        "vitale_serial": SERIAL,
        "birth_date": BIRTH,
        "code": code,
        "client_address": ADDRESS,
    }
    values.update(overrides)
    return codes.code_check(**values)  # type: ignore[arg-type]


def refused(code: str, **overrides: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check(code, **overrides)
    return caught.value


def wrong_code(right: str) -> str:
    """A well-formed code that is not `right`."""
    other = "".join(codes.ALPHABET[(codes.ALPHABET.index(c) + 1) % 31] for c in right)
    return other


@pytest.mark.django_db
class CodeFormatTestCase:
    def test_lc3_code_has_50_bits_or_more_without_look_alike_characters(self) -> None:
        assert not set("0O1IL") & set(codes.ALPHABET)
        assert len(set(codes.ALPHABET)) == len(codes.ALPHABET) == 31
        assert codes.LENGTH * math.log2(len(codes.ALPHABET)) >= 50  # G-S5
        drawn = [codes.code_generate() for _ in range(500)]
        assert all(
            len(c) == codes.LENGTH and set(c) <= set(codes.ALPHABET) for c in drawn
        )
        assert len(set(drawn)) == len(drawn)
        # every symbol turns up: the draw covers the whole alphabet
        assert set("".join(drawn)) == set(codes.ALPHABET)

    def test_lc3_code_is_shown_grouped_and_typed_in_any_form(
        self, space: Space
    ) -> None:
        code = codes.code_issue(space=space, channel="letter")
        shown = codes.code_display(code)
        assert shown == f"{code[:4]}-{code[4:8]}-{code[8:]}"
        assert codes.code_normalize(f" {shown.lower()} ") == code
        assert check(shown.lower().replace("-", " ")).space.pk == space.pk


@pytest.mark.django_db
class CodeStorageTestCase:
    def test_lc3_only_a_keyed_hash_is_stored(self, space: Space, settings) -> None:
        code = codes.code_issue(space=space, channel="email")
        row = ProvisionalCode.objects.get(space=space)
        key = settings.CODE_HASH_KEY.encode()
        assert row.code_hash == hmac.new(key, code.encode(), hashlib.sha256).hexdigest()
        assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()  # keyed
        stored = " ".join(
            str(v) for v in ProvisionalCode.objects.values().get().values()
        )
        audit = " ".join(
            str(v) for event in AuditEvent.objects.values() for v in event.values()
        )
        for form in (code, codes.code_display(code), code.lower()):
            assert form not in stored
            assert form not in audit

    def test_lc3_issuing_a_code_revokes_the_older_ones(self, space: Space) -> None:
        first = codes.code_issue(space=space, channel="letter")
        second = codes.code_issue(space=space, channel="email")
        assert refused(first).messages == [GENERIC]
        assert check(second).space.pk == space.pk
        assert ProvisionalCode.objects.filter(revoked_at__isnull=True).count() == 1


@pytest.mark.django_db
class CodeValidityTestCase:
    def test_lc3_code_is_valid_six_weeks_from_sending(self, space: Space) -> None:
        sent = timezone.now()
        with time_machine.travel(sent, tick=False):
            code = codes.code_issue(space=space, channel="letter")
        with time_machine.travel(sent + timedelta(weeks=6) - timedelta(minutes=1)):
            assert check(code).space.pk == space.pk
        with time_machine.travel(sent + timedelta(weeks=6) + timedelta(minutes=1)):
            assert refused(code).messages == [GENERIC]

    def test_lc3_code_is_single_use(self, space: Space) -> None:
        code = codes.code_issue(space=space, channel="letter")
        row = check(code)
        codes.code_consume(code_row=row)
        assert refused(code).messages == [GENERIC]
        with pytest.raises(ValidationError):
            codes.code_consume(code_row=row)  # a racing second use loses
        assert AuditEvent.objects.filter(code="lc3.code_used").count() == 1

    def test_lc3_five_wrong_codes_lock_the_code(self, space: Space) -> None:
        code = codes.code_issue(space=space, channel="letter")
        for _ in range(codes.MAX_FAILURES):
            assert refused(wrong_code(code)).messages == [GENERIC]
        row = ProvisionalCode.objects.get(space=space)
        assert row.failed_attempts == 5
        assert row.locked_at is not None
        # Now even the right code fails, with the same answer.
        assert refused(code).messages == [GENERIC]
        assert AuditEvent.objects.filter(code="lc3.code_locked").count() == 1

    def test_lc3_four_wrong_codes_do_not_lock(self, space: Space) -> None:
        code = codes.code_issue(space=space, channel="letter")
        for _ in range(codes.MAX_FAILURES - 1):
            refused(wrong_code(code))
        assert check(code).space.pk == space.pk

    def test_lc3_a_new_code_works_after_a_lock(self, space: Space) -> None:
        code = codes.code_issue(space=space, channel="letter")
        for _ in range(codes.MAX_FAILURES):
            refused(wrong_code(code))
        fresh = codes.code_issue(space=space, channel="sms")
        assert check(fresh).space.pk == space.pk
        assert refused(code).messages == [GENERIC]

    def test_lc3_wrong_identity_does_not_count_against_the_code(
        self, space: Space
    ) -> None:
        """A stranger who knows only the NIR cannot lock the holder's code."""
        code = codes.code_issue(space=space, channel="letter")
        for _ in range(codes.MAX_FAILURES + 2):
            refused(wrong_code(code), vitale_serial="0000")
        assert ProvisionalCode.objects.get(space=space).failed_attempts == 0
        assert check(code).space.pk == space.pk


@pytest.mark.django_db
class CodeIdentityTestCase:
    def test_lc3_every_mismatch_gives_the_same_answer(self, space: Space) -> None:
        code = codes.code_issue(space=space, channel="letter")
        errors = [
            refused(code, nir="180017512345678"),  # NIR unknown
            refused(code, vitale_serial="8025 0000 0123 4568"),
            refused(code, birth_date=dt.date(1979, 3, 15)),
            refused(wrong_code(code)),
            refused("not-a-code"),
        ]
        with time_machine.travel(timezone.now() + timedelta(weeks=7)):
            errors.append(refused(code))  # expired
        assert {(tuple(e.messages), e.code) for e in errors} == {
            ((GENERIC,), "invalid")
        }

    def test_lc3_serial_matches_exactly_spaces_aside(self, space: Space) -> None:
        code = codes.code_issue(space=space, channel="letter")
        assert check(code, vitale_serial="8025000001234567").space.pk == space.pk
        assert check(code, birth_date=None).space.pk == space.pk  # optional here
        refused(code, vitale_serial="8025000001234567 0")

    def test_lc3_a_beneficiary_without_serial_never_matches(self, space: Space) -> None:
        Beneficiary.objects.filter(pk=space.beneficiary_id).update(vitale_serial="")
        code = codes.code_issue(space=space, channel="letter")
        assert refused(code, vitale_serial="").messages == [GENERIC]

    def test_lc3_another_persons_code_does_not_match(
        self, space: Space, eve: User
    ) -> None:
        Beneficiary.objects.filter(pk=eve.beneficiary.pk).update(vitale_serial="EVE1")
        eve_space = Space.objects.create(beneficiary=eve.beneficiary)
        codes.code_issue(space=space, channel="letter")
        eve_code = codes.code_issue(space=eve_space, channel="letter")
        assert refused(eve_code).messages == [GENERIC]


@pytest.mark.django_db
class CodeThrottleTestCase:
    def test_lc3_guessing_is_throttled_per_client_address(
        self, space: Space, settings
    ) -> None:
        settings.CODE_THROTTLE_FAILURES = 3
        code = codes.code_issue(space=space, channel="letter")
        for nir in ("180017512345678", "180017512345679", "180017512345670"):
            assert refused(code, nir=nir).code == "invalid"
        error = refused(code)  # the right code, but this address is spent
        assert error.code == "throttled"
        assert "Trop de tentatives" in error.messages[0]
        # Another address is unaffected, and the code itself was not counted.
        assert check(code, client_address="198.51.100.4").space.pk == space.pk
        assert ProvisionalCode.objects.get(space=space).failed_attempts == 0

    def test_lc3_throttle_window_ends(self, space: Space, settings) -> None:
        settings.CODE_THROTTLE_FAILURES = 1
        code = codes.code_issue(space=space, channel="letter")
        refused(wrong_code(code))
        assert refused(code).code == "throttled"
        with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
            assert check(code).space.pk == space.pk
