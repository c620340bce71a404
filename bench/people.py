"""The cast the web benches share: a patient with an open space and her
médecin traitant, and a client logged in past the second factor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone


def patient_and_doctor() -> tuple[Any, Any, Any]:
    """(the patient's user, the patient, her médecin traitant)."""
    from espace.models import Beneficiary, Professional, Space, User

    patient_user = User.objects.create_user(
        username="bench-patient", role=User.Role.PATIENT, password=None
    )
    patient = Beneficiary.objects.create(
        user=patient_user,
        nir="279035121518989",
        birth_name="BENCH",
        first_names="PATIENTE",
        sex="F",
        birth_date=dt.date(1979, 3, 14),
        birth_place_code="51215",
    )
    doctor_user = User.objects.create_user(
        username="bench-doctor",
        role=User.Role.PROFESSIONAL,
        password=None,
        first_name="Médecin",
        last_name="Traitant",
    )
    doctor = Professional.objects.create(
        user=doctor_user, rpps="99700000013", profession="10"
    )
    patient.medecin_traitant = doctor
    patient.save(update_fields=["medecin_traitant"])
    now = timezone.now()
    Space.objects.create(
        beneficiary=patient, state="activated", opened_at=now, dmp_created_at=now
    )
    return patient_user, patient, doctor


def verified_client(user: Any) -> Client:
    """Logged in and past the second factor, as after a real login."""
    from django_otp.plugins.otp_email.models import EmailDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    model = TOTPDevice if user.needs_totp else EmailDevice
    device = model.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client
