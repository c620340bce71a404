"""Children's spaces (LC-10, CONS-7): switching profiles, the second parent's
invitation, and no access to another family's child."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from espace.models import Beneficiary, LegalRepresentation, User
from espace.selectors import profile_list_for
from tests.personas import verified_client


@pytest.mark.django_db
class ProfileSwitchTestCase:
    def test_lc10_the_parent_switches_to_the_child_space(
        self, alice: User, leo: Beneficiary, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(alice)
        home = client.get(reverse("espace:patient-home")).content.decode()
        assert "Espace de Leo" in home and "Mon espace" in home
        switched = client.post(reverse("espace:profile-switch", args=[leo.pk]))
        assert switched["Location"] == reverse("espace:patient-home")
        page = client.get(reverse("espace:patient-home")).content.decode()
        assert "<h1>Espace de Leo</h1>" in page

    def test_cons7_another_family_never_reaches_the_child(
        self, eve: User, leo: Beneficiary, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(eve)
        assert (
            client.post(reverse("espace:profile-switch", args=[leo.pk])).status_code
            == 404
        )
        assert (
            client.get(reverse("espace:profile-share", args=[leo.pk])).status_code
            == 404
        )
        assert "Leo" not in client.get(reverse("espace:patient-home")).content.decode()

    def test_lc10_the_parents_access_ends_at_18(
        self, alice: User, leo: Beneficiary
    ) -> None:
        assert leo in profile_list_for(actor=alice)
        Beneficiary.objects.filter(pk=leo.pk).update(birth_date=date(2000, 1, 1))
        assert [p.pk for p in profile_list_for(actor=alice)] == [alice.beneficiary.pk]


@pytest.mark.django_db
class SecondParentTestCase:
    def _invite(self, client: Client, leo: Beneficiary, nir: str, birth: str) -> None:
        response = client.post(
            reverse("espace:profile-share", args=[leo.pk]),
            {"nir": nir, "birth_date": birth},
        )
        assert response["Location"] == reverse("espace:patient-home")

    def test_lc10_the_second_parent_is_invited_and_accepts(
        self, alice: User, eve: User, leo: Beneficiary, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        self._invite(client_for(alice), leo, eve.beneficiary.nir, "01/10/1995")
        invitation = LegalRepresentation.objects.get(
            representative=eve.beneficiary, minor=leo
        )
        assert invitation.status == LegalRepresentation.Status.INVITED
        second = client_for(eve)
        assert (
            "Vous êtes invité à gérer l'espace de Leo"
            in second.get(reverse("espace:patient-home")).content.decode()
        )
        assert (
            second.get(
                reverse("espace:invitation-accept", args=[invitation.pk])
            ).status_code
            == 405
        )
        second.post(reverse("espace:invitation-accept", args=[invitation.pk]))
        invitation.refresh_from_db()
        assert invitation.status == LegalRepresentation.Status.ACTIVE
        assert leo in profile_list_for(actor=eve)
        assert AuditEvent.objects.filter(
            code="lc10.accepted", patient_id=leo.pk
        ).exists()

    def test_sec3_invitations_are_throttled_per_parent(
        self, alice: User, leo: Beneficiary, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        """Each invitation is a (NIR, birth date) guess: ten a day, then a
        clear refusal that still says nothing about who exists."""
        from django.core.cache import cache

        from espace.services import INVITATIONS_PER_DAY

        cache.clear()
        client = client_for(alice)
        url = reverse("espace:profile-share", args=[leo.pk])
        form = {"nir": "2 95 10 75 056 123 45", "birth_date": "01/10/1995"}
        for _ in range(INVITATIONS_PER_DAY):
            assert client.post(url, form).status_code == 302
        refused = client.post(url, form)
        assert refused.status_code == 429
        assert "beaucoup d&#x27;invitations" in refused.content.decode()

    def test_lc10_an_invitation_can_be_refused(
        self, alice: User, eve: User, leo: Beneficiary, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        self._invite(client_for(alice), leo, eve.beneficiary.nir, "01/10/1995")
        invitation = LegalRepresentation.objects.get(
            representative=eve.beneficiary, minor=leo
        )
        client_for(eve).post(reverse("espace:invitation-refuse", args=[invitation.pk]))
        invitation.refresh_from_db()
        assert invitation.status == LegalRepresentation.Status.REFUSED
        assert leo not in profile_list_for(actor=eve)
        # refused once: never sent again
        self._invite(client_for(alice), leo, eve.beneficiary.nir, "01/10/1995")
        invitation.refresh_from_db()
        assert invitation.status == LegalRepresentation.Status.REFUSED

    def test_an_unknown_parent_gets_the_same_answer_and_nothing_is_created(
        self, alice: User, leo: Beneficiary, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        body = "1850775056123"
        self._invite(
            client_for(alice), leo, body + f"{97 - int(body) % 97:02d}", "01/07/1985"
        )
        assert LegalRepresentation.objects.filter(minor=leo).count() == 1  # alice only

    def test_only_the_invited_parent_answers(
        self, alice: User, eve: User, leo: Beneficiary, bob: User, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        self._invite(client_for(alice), leo, eve.beneficiary.nir, "01/10/1995")
        invitation = LegalRepresentation.objects.get(
            representative=eve.beneficiary, minor=leo
        )
        assert (
            client_for(alice)
            .post(reverse("espace:invitation-accept", args=[invitation.pk]))
            .status_code
            == 404
        )
        assert (
            client_for(bob)
            .post(reverse("espace:invitation-accept", args=[invitation.pk]))
            .status_code
            == 404
        )


@pytest.mark.django_db
def test_lc10_a_child_has_two_representatives_at_most(
    alice: User, eve: User, leo: Beneficiary, client_for
) -> None:  # type: ignore[no-untyped-def]
    from tests.personas import make_user

    third = make_user("zoe", User.Role.PATIENT)
    body = "2850775056124"
    Beneficiary.objects.create(
        user=third,
        nir=body + f"{97 - int(body) % 97:02d}",
        birth_name="TIERS",
        first_names="ZOE",
        sex="F",
        birth_date=date(1985, 7, 1),
        birth_place_code="75056",
    )
    client = client_for(alice)
    client.post(
        reverse("espace:profile-share", args=[leo.pk]),
        {"nir": eve.beneficiary.nir, "birth_date": "01/10/1995"},
    )
    client.post(
        reverse("espace:profile-share", args=[leo.pk]),
        {"nir": body + f"{97 - int(body) % 97:02d}", "birth_date": "01/07/1985"},
    )
    assert LegalRepresentation.objects.filter(minor=leo).count() == 2  # alice + eve


@pytest.mark.django_db
class InboxTestCase:
    """LC-12: in-app notifications, read in the holder's space (own and
    represented children's), never with health content, never another
    family's."""

    def test_lc12_inbox_shows_own_and_childrens_notifications_then_marks_them_read(
        self, alice: User, leo: Beneficiary, eve: User
    ) -> None:
        from espace.models import Notification

        own = Notification.objects.create(
            beneficiary=alice.beneficiary,
            kind="lc5.opened",
            key="t:own",
            channel=Notification.Channel.INAPP,
        )
        Notification.objects.create(
            beneficiary=leo, kind="lc5.opened", key="t:leo", channel="inapp"
        )
        Notification.objects.create(
            beneficiary=eve.beneficiary, kind="lc5.opened", key="t:eve", channel="inapp"
        )
        Notification.objects.create(  # e-mails are not in the inbox
            beneficiary=alice.beneficiary,
            kind="lc2.information",
            key="t:mail",
            channel="email",
        )
        client = verified_client(alice)
        home = client.get(reverse("espace:patient-home")).content.decode()
        assert 'data-testid="inbox-link"' in home and ">2<" in home  # badge
        page = client.get(reverse("espace:inbox"))
        text = page.content.decode()
        assert page.status_code == 200
        assert text.count('data-testid="inbox-item"') == 2
        assert "Votre profil Mon espace santé est ouvert" in text
        assert "Espace de Leo" in text
        assert text.count("Nouveau</span>") == 2
        own.refresh_from_db()
        assert own.read_at is not None
        again = client.get(reverse("espace:inbox")).content.decode()
        assert "Nouveau</span>" not in again
        assert 'fr-badge--no-icon">' not in again  # no unread badge left
        # The other family's notification stays unread and unseen.
        assert Notification.objects.get(key="t:eve").read_at is None

    def test_lc12_empty_inbox_and_professionals_kept_out(
        self, alice: User, bob: User
    ) -> None:
        page = verified_client(alice).get(reverse("espace:inbox"))
        assert 'data-testid="inbox-empty"' in page.content.decode()
        assert verified_client(bob).get(reverse("espace:inbox")).status_code == 404
