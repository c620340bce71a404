"""The agents' back office: agents only, second factor, no health data (SEC-2, SPEC §1)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from espace.models import User
from lib.fields import EncryptedTextField

HEALTH_APPS = {"dmp", "messagerie", "agenda", "consent", "audit"}


@pytest.mark.django_db
class AdminAccessTestCase:
    def test_a_verified_agent_gets_in(self, agnes: User, client_for) -> None:  # type: ignore[no-untyped-def]
        response = client_for(agnes).get(reverse("admin:index"))
        assert response.status_code == 200
        assert "Assurance maladie" in response.content.decode()

    def test_an_agent_with_only_a_password_is_sent_to_the_two_factor_login(
        self, agnes: User
    ) -> None:
        client = Client()
        client.force_login(agnes)  # no second factor
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302
        follow = client.get(response["Location"])
        assert follow.status_code == 302
        assert follow["Location"].startswith(reverse("espace:login"))

    @pytest.mark.parametrize("persona", ["alice", "bob"])
    def test_patients_and_professionals_never_get_in(
        self, persona: str, request, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        user = request.getfixturevalue(persona)
        response = client_for(user).get(reverse("admin:espace_beneficiary_changelist"))
        assert response.status_code == 302

    def test_agents_find_a_beneficiary_by_nir(
        self, agnes: User, alice: User, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        url = reverse("admin:espace_beneficiary_changelist")
        response = client_for(agnes).get(url, {"q": "279035121518989"})
        assert response.status_code == 200
        assert "279035121518989" in response.content.decode()

    def test_staff_must_be_an_agent(self, db: None) -> None:
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(
                username="x", role=User.Role.PROFESSIONAL, is_staff=True
            )


def test_no_health_data_model_is_registered_in_the_admin() -> None:
    """Agents never see health data (seed 003): no DMP, message, agenda, consent
    or audit model, no model with encrypted content, no second-factor secrets."""
    from agenda.models import Recommendation
    from consent.models import AccessRule
    from messagerie.campaign_models import Campaign

    # The access matrix (profession × class) and the preventive calendar's
    # rules (AG-1) hold no patient data: agents keep them (CONS-1).
    # Prevention campaigns are the agents' own writing, sent to many, with no
    # patient in them (MSG-4; their body is encrypted at rest all the same).
    # Nothing else of the health apps.
    allowed = {AccessRule, Campaign, Recommendation}
    registered = set(admin.site._registry)
    for model in registered - allowed:
        assert model._meta.app_label not in HEALTH_APPS, model
        assert not any(
            isinstance(f, EncryptedTextField) for f in model._meta.get_fields()
        ), model
        assert model._meta.app_label not in {"otp_totp", "otp_email"}, model
    for app_label in HEALTH_APPS:
        for model in apps.get_app_config(app_label).get_models():
            assert model not in registered - allowed
    for model in allowed:
        assert not any(
            getattr(f, "related_model", None) is not None
            and f.related_model._meta.model_name == "beneficiary"
            for f in model._meta.get_fields()
        )


@pytest.mark.django_db
def test_createsuperuser_makes_an_agent() -> None:
    user = User.objects.create_superuser(
        "chef", "chef@example.test", "Un-mot-de-passe-solide"
    )
    assert user.role == User.Role.AGENT and user.is_staff


@pytest.mark.django_db
def test_agents_cannot_edit_a_patient_login_or_identity(
    agnes: User, alice: User, client_for
) -> None:  # type: ignore[no-untyped-def]
    """No account takeover from the back office: a patient's password, e-mail
    and identity are read-only there (agents never reach health data)."""
    client = client_for(agnes)
    password_url = f"/admin/espace/user/{alice.pk}/password/"
    response = client.post(
        password_url,
        {"password1": "Pirate-password-123", "password2": "Pirate-password-123"},
    )
    assert response.status_code == 403
    alice.refresh_from_db()
    assert not alice.check_password("Pirate-password-123")
    change = client.post(
        f"/admin/espace/user/{alice.pk}/change/",
        {"username": "alice", "email": "agent@evil.test", "role": "patient"},
    )
    assert change.status_code == 403
    beneficiary = client.post(
        f"/admin/espace/beneficiary/{alice.beneficiary.pk}/change/",
        {"email": "agent@evil.test"},
    )
    assert beneficiary.status_code == 403
    alice.refresh_from_db()
    assert alice.email == "alice@example.test"


@pytest.mark.django_db
def test_agents_create_agents_only_and_never_professionals(
    agnes: User, client_for
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(agnes)
    client.post(
        "/admin/espace/user/add/",
        {
            "username": "faux.docteur",
            "password1": "Un-mot-de-passe-solide-7",
            "password2": "Un-mot-de-passe-solide-7",
            "role": "professional",
        },
    )
    created = User.objects.get(username="faux.docteur")
    assert created.role == User.Role.AGENT
    assert client.get("/admin/espace/professional/add/").status_code == 403
