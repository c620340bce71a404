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
    "alice_dmp",
    "bob",
    "charlie",
    "charlie_in_care",
    "client_for",
    "dora_blocked",
    "eve",
    "eve_dmp",
    "leo",
    "leo_dmp",
    "make_user",
    "nina",
    "nina_in_care",
    "open_dmp",
    "paul",
    "paul_in_care",
    "sam",
    "verified_client",
    "victor",
    "zoe",
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


# ---------------------------------------------------------------- DMP personas
# (SPEC §4, G-S1): a patient whose DMP is open, her child's, a doctor in care,
# a blocked doctor, a doctor not in care, a nurse and a pharmacist in care, a
# SAMU regulator, and a young adult turned 18 whose parent's access ended.


def open_dmp(beneficiary: Beneficiary, state: str = "activated") -> Beneficiary:
    """The beneficiary's space, open with its DMP (LC-5, LC-6)."""
    from django.utils import timezone

    from espace.models import Space

    now = timezone.now()
    Space.objects.update_or_create(
        beneficiary=beneficiary,
        defaults={"state": state, "opened_at": now, "dmp_created_at": now},
    )
    return beneficiary


def _care(patient: Beneficiary, user: User, kind: str = "consent") -> User:
    from consent.models import CareRelationship

    CareRelationship.objects.create(
        patient=patient, professional=user.professional, kind=kind
    )
    return user


@pytest.fixture
def alice_dmp(alice: User) -> Beneficiary:
    return open_dmp(alice.beneficiary)


@pytest.fixture
def leo_dmp(leo: Beneficiary) -> Beneficiary:
    return open_dmp(leo, "auto_opened")


@pytest.fixture
def eve_dmp(eve: User) -> Beneficiary:
    return open_dmp(eve.beneficiary)


@pytest.fixture
def charlie_in_care(charlie: User, alice_dmp: Beneficiary) -> User:
    """A doctor alice consented to at a consultation (CONS-1)."""
    return _care(alice_dmp, charlie)


@pytest.fixture
def nina_in_care(nina: User, alice_dmp: Beneficiary) -> User:
    return _care(alice_dmp, nina, "care_team")


@pytest.fixture
def paul_in_care(paul: User, alice_dmp: Beneficiary) -> User:
    return _care(alice_dmp, paul)


@pytest.fixture
def dora_blocked(alice_dmp: Beneficiary) -> User:
    """A doctor in care whom alice blocked (CONS-2)."""
    from consent.models import Block

    dora = _care(alice_dmp, _pro("dora", "99700000054", "10"))
    Block.objects.create(patient=alice_dmp, professional=dora.professional)
    return dora


@pytest.fixture
def victor(db: Any) -> User:
    """A doctor with no link to alice."""
    return _pro("victor", "99700000062", "10")


@pytest.fixture
def sam(db: Any) -> User:
    """The SAMU-Centre 15 regulating doctor (CONS-6)."""
    return _pro("sam", "99700000070", "10", is_samu_regulator=True)


@pytest.fixture
def zoe(alice: User) -> Beneficiary:
    """alice's daughter, 18 today: the representation row is still there,
    the access is not (CONS-7)."""
    from django.utils import timezone

    from lib.dates import add_years

    born = add_years(timezone.localdate(), -18)
    first13 = f"2{born.year % 100:02d}{born.month:02d}51215010"
    child = Beneficiary.objects.create(
        nir=f"{first13}{97 - int(first13) % 97:02d}",
        birth_name="MOREAU",
        first_names="ZOE",
        sex="F",
        birth_date=born,
        birth_place_code="51215",
    )
    LegalRepresentation.objects.create(representative=alice.beneficiary, minor=child)
    return open_dmp(child)
