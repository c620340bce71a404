"""Personas as fixtures (STYLE R23) and a logged-in, OTP-verified client."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from espace.models import (
    Beneficiary,
    Establishment,
    LegalRepresentation,
    Professional,
    User,
)

PASSWORD = "Un-mot-de-passe-solide-42"

__all__ = [
    "agnes",
    "alice",
    "bob",
    "charlie",
    "client_for",
    "eve",
    "leo",
    "make_user",
    "nina",
    "paul",
    "verified_client",
]


def make_user(username: str, role: str, **fields: Any) -> User:
    user = User(
        username=username, role=role, email=f"{username}@example.test", **fields
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def verified_client(user: User) -> Client:
    """A client past both factors, as after a real login."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if user.needs_totp:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="t", defaults={"confirmed": True}
        )
    else:
        device, _ = EmailDevice.objects.get_or_create(
            user=user, name="e-mail", defaults={"confirmed": True}
        )
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def _pro(username: str, rpps: str, profession: str, **fields: Any) -> User:
    user = make_user(
        username, User.Role.PROFESSIONAL, first_name=username.title(), last_name="Test"
    )
    Professional.objects.create(user=user, rpps=rpps, profession=profession, **fields)
    return user


@pytest.fixture
def bob(db: Any) -> User:
    return _pro("bob", "99700000013", "10", specialty="Médecine générale")


@pytest.fixture
def charlie(db: Any) -> User:
    return _pro("charlie", "99700000021", "10")


@pytest.fixture
def nina(db: Any) -> User:
    return _pro("nina", "99700000039", "60")


@pytest.fixture
def paul(db: Any) -> User:
    pharmacy = Establishment.objects.create(
        finess="750001232", name="Pharmacie", kind="pharmacy"
    )
    return _pro("paul", "99700000047", "21", establishment=pharmacy)


@pytest.fixture
def alice(db: Any, bob: User) -> User:
    user = make_user("alice", User.Role.PATIENT, first_name="Alice", last_name="Moreau")
    Beneficiary.objects.create(
        user=user,
        nir="279035121518989",
        birth_name="MOREAU",
        first_names="ALICE MARIE",
        sex="F",
        birth_date=dt.date(1979, 3, 14),
        birth_place_code="51215",
        email=user.email,
        medecin_traitant=bob.professional,
    )
    return user


@pytest.fixture
def leo(alice: User) -> Beneficiary:
    child = Beneficiary.objects.create(
        nir="116055121501240",
        birth_name="MOREAU",
        first_names="LEO",
        sex="M",
        birth_date=dt.date(2016, 5, 2),
        birth_place_code="51215",
    )
    LegalRepresentation.objects.create(representative=alice.beneficiary, minor=child)
    return child


@pytest.fixture
def eve(db: Any) -> User:
    user = make_user("eve", User.Role.PATIENT, first_name="Eve", last_name="Autre")
    Beneficiary.objects.create(
        user=user,
        nir="295109912611193",
        birth_name="AUTRE",
        first_names="EVE",
        sex="F",
        birth_date=dt.date(1995, 10, 1),
        birth_place_code="99126",
        email=user.email,
    )
    return user


@pytest.fixture
def agnes(db: Any) -> User:
    return make_user("agnes", User.Role.AGENT, is_staff=True, is_superuser=True)


@pytest.fixture
def client_for() -> Any:
    return verified_client
