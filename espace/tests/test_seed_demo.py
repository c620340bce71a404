"""`manage.py seed_demo` (make run): the demo cast, idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from espace.management.commands.seed_demo import DEMO_PASSWORD
from espace.models import Beneficiary, LegalRepresentation, Professional, User


@pytest.mark.django_db
def test_it_creates_the_demo_cast_once() -> None:
    call_command("seed_demo", verbosity=0)
    counts = (
        User.objects.count(),
        Beneficiary.objects.count(),
        Professional.objects.count(),
    )
    call_command("seed_demo", verbosity=0)
    assert (
        User.objects.count(),
        Beneficiary.objects.count(),
        Professional.objects.count(),
    ) == counts
    alice = User.objects.get(username="alice")
    assert alice.check_password(DEMO_PASSWORD)
    assert alice.beneficiary.medecin_traitant.user.username == "dr.martin"
    assert (
        LegalRepresentation.objects.filter(representative=alice.beneficiary).count()
        == 1
    )
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {"patient", "professional", "agent"}
    professions = set(Professional.objects.values_list("profession", flat=True))
    assert professions == {"10", "60", "21"}  # doctors, a nurse, a pharmacist
    agent = User.objects.get(role="agent")
    assert agent.is_staff
    # A living DMP to look at: documents from three professionals and Alice.
    from dmp.models import Document

    documents = Document.objects.filter(patient=alice.beneficiary)
    assert documents.count() == 5
    assert documents.filter(author_professional__isnull=True).count() == 1


@pytest.mark.django_db
def test_it_refuses_what_looks_like_production(settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.management.base import CommandError

    settings.HTTPS = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", verbosity=0)
    assert not User.objects.exists()
