"""Demo data for `make run` (idempotent): a patient with a child, her médecin
traitant, another doctor, a nurse, a pharmacist and an agent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from espace import services
from espace.codes import code_display, code_issue
from espace.models import (
    Beneficiary,
    Establishment,
    LegalRepresentation,
    Professional,
    Space,
    User,
)

DEMO_PASSWORD = "Demo-Sante-2026!"

PROFESSIONALS = [
    # username, first, last, rpps, profession, specialty, establishment finess
    ("dr.martin", "Bernard", "Martin", "99700000013", "10", "Médecine générale", None),
    ("dr.petit", "Claire", "Petit", "99700000021", "10", "Cardiologie", "750712184"),
    ("inf.durand", "Nadia", "Durand", "99700000039", "60", "", None),
    ("ph.leroy", "Paul", "Leroy", "99700000047", "21", "", "750001232"),
]


class Command(BaseCommand):
    help = "Crée (ou retrouve) les comptes de démonstration."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--allow-https",
            action="store_true",
            help="créer les comptes de démonstration même avec HTTPS=True (jamais en production)",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings
        from django.core.management.base import CommandError

        if settings.HTTPS and not options["allow_https"]:
            # Published demo passwords must never reach a real deployment.
            raise CommandError(
                "Refusé : HTTPS=True ressemble à une production (--allow-https)."
            )
        hospital, _ = Establishment.objects.get_or_create(
            finess="750712184",
            defaults={
                "name": "Hôpital de démonstration",
                "kind": "hospital",
                "city": "Paris",
            },
        )
        Establishment.objects.get_or_create(
            finess="750001232",
            defaults={
                "name": "Pharmacie de la Gare",
                "kind": "pharmacy",
                "city": "Paris",
            },
        )
        professionals = {}
        for username, first, last, rpps, profession, specialty, finess in PROFESSIONALS:
            user = self._user(
                username,
                User.Role.PROFESSIONAL,
                first,
                last,
                f"{username}@demo.example",
            )
            pro, _ = Professional.objects.get_or_create(
                user=user,
                defaults={
                    "rpps": rpps,
                    "profession": profession,
                    "specialty": specialty,
                    "establishment": Establishment.objects.filter(
                        finess=finess
                    ).first(),
                },
            )
            professionals[username] = pro

        alice_user = self._user(
            "alice", User.Role.PATIENT, "Alice", "Moreau", "alice@demo.example"
        )
        alice, _ = Beneficiary.objects.get_or_create(
            nir="279035121518989",
            defaults={
                "user": alice_user,
                "birth_name": "MOREAU",
                "first_names": "ALICE MARIE",
                "sex": "F",
                "birth_date": dt.date(1979, 3, 14),
                "birth_place_code": "51215",
                "email": "alice@demo.example",
                "address": "12 rue des Lilas",
                "postal_code": "51100",
                "city": "Reims",
                "medecin_traitant": professionals["dr.martin"],
            },
        )
        leo, _ = Beneficiary.objects.get_or_create(
            nir="116055121501240",
            defaults={
                "birth_name": "MOREAU",
                "first_names": "LEO",
                "sex": "M",
                "birth_date": dt.date(2016, 5, 2),
                "birth_place_code": "51215",
                "medecin_traitant": professionals["dr.martin"],
            },
        )
        LegalRepresentation.objects.get_or_create(representative=alice, minor=leo)
        Beneficiary.objects.filter(pk=alice.pk, vitale_serial="").update(
            vitale_serial="8025000011112222"
        )
        self._space(alice, Space.State.ACTIVATED)
        self._space(leo, Space.State.AUTO_OPENED)
        bernard, _ = Beneficiary.objects.get_or_create(
            nir="180017505612375",
            defaults={
                "birth_name": "DURAND",
                "first_names": "BERNARD",
                "sex": "M",
                "birth_date": dt.date(1980, 1, 15),
                "birth_place_code": "75056",
                "vitale_serial": "8025000033334444",
                "email": "bernard@demo.example",
                "address": "3 rue de la Paix",
                "postal_code": "75002",
                "city": "Paris",
            },
        )
        space = self._space(bernard, Space.State.PENDING)
        if space.state == Space.State.PENDING:
            space = services.space_inform(actor=None, space=space)
        if space.state in (Space.State.INFORMED, Space.State.OPPOSED):
            code = code_issue(space=space, channel="letter")
            self.stdout.write(
                "Bernard Durand (espace à activer) — code provisoire : "
                f"{code_display(code)}, NIR {bernard.nir}, carte Vitale {bernard.vitale_serial}, "
                "né le 15/01/1980"
            )
        agent = self._user(
            "agent.dupont", User.Role.AGENT, "Jeanne", "Dupont", "agent@demo.example"
        )
        if not agent.is_staff:
            agent.is_staff = True
            agent.is_superuser = True
            agent.save(update_fields=["is_staff", "is_superuser"])
        del hospital
        self._demo_dmp(alice, alice_user, professionals)
        self._demo_messages_and_agenda(alice, alice_user, leo, professionals, agent)
        self.stdout.write(self.style.SUCCESS("Comptes de démonstration prêts."))

    def _demo_messages_and_agenda(
        self,
        alice: Beneficiary,
        alice_user: User,
        leo: Beneficiary,
        pros: dict[str, Professional],
        agent: User,
    ) -> None:
        """Once: a message of Alice's médecin traitant, who also accepts first
        messages from his patients (MSG-1); Léo's next appointment (AG-2); a
        prevention campaign for women of 45 to 50, sent by the next tick
        (MSG-4)."""
        from agenda.appointment_services import AppointmentData, appointment_create
        from agenda.models import Appointment
        from messagerie import services as messagerie
        from messagerie.models import Campaign, Conversation

        martin = pros["dr.martin"].user
        if not Conversation.objects.filter(patient=alice).exists():
            messagerie.inbox_settings_update(
                actor=martin,
                open_to_patients=True,
                auto_reply="Message bien reçu : je vous réponds sous 48 h. "
                "En cas d'urgence, appelez le 15.",
            )
            messagerie.conversation_start(
                actor=martin,
                patient=alice,
                subject="Vos résultats de bilan sanguin",
                body="Bonjour, vos résultats sont dans votre dossier : tout est "
                "normal. Bonne journée.",
            )
        if not Appointment.objects.filter(beneficiary=leo).exists():
            day = timezone.localdate() + dt.timedelta(days=9)
            appointment_create(
                actor=alice_user,
                patient=leo,
                data=AppointmentData(
                    starts_at=timezone.make_aware(
                        dt.datetime.combine(day, dt.time(10))
                    ),
                    title="Visite chez le pédiatre",
                    professional=pros["dr.martin"],
                    place="Cabinet médical, Reims",
                ),
            )
        if not Campaign.objects.exists():
            Campaign.objects.create(
                title="Mon bilan prévention",
                body="Entre 45 et 50 ans, faites le point sur votre santé avec un "
                "professionnel : le bilan est pris en charge à 100 %.",
                reason="vous avez entre 45 et 50 ans",
                age_min=45,
                age_max=50,
                sex="F",
                send_at=timezone.now(),
                state=Campaign.State.SCHEDULED,
                created_by=agent,
            )

    def _demo_dmp(
        self, alice: Beneficiary, alice_user: User, pros: dict[str, Professional]
    ) -> None:
        """A few fictitious documents in Alice's DMP (once): from her médecin
        traitant, a cardiologist and a pharmacist she consented to, and one
        she added herself."""
        import io

        from consent.models import CareRelationship
        from dmp.models import Document
        from dmp.services import document_deposit
        from lib.pdf import render_pdf

        if Document.objects.filter(patient=alice).exists():
            return
        for username in ("dr.petit", "ph.leroy"):
            CareRelationship.objects.get_or_create(
                patient=alice,
                professional=pros[username],
                revoked_at=None,
                defaults={"kind": CareRelationship.Kind.CONSENT},
            )
        samples: list[tuple[str | None, str, str, str]] = [
            ("dr.martin", "11502-2", "Bilan sanguin annuel", "bilan-sanguin.pdf"),
            ("dr.martin", "60591-5", "Synthèse médicale annuelle", "synthese.pdf"),
            ("dr.petit", "11488-4", "Consultation de cardiologie", "cardiologie.pdf"),
            ("ph.leroy", "60593-1", "Dispensation en officine", "dispensation.pdf"),
            (None, "DOCPAT07", "Certificat de sport", "certificat-sport.pdf"),
        ]
        for author_name, type_code, title, file_name in samples:
            author = pros[author_name].user if author_name else alice_user
            html = (
                "<html><body><h1>" + title + "</h1><p>Document de démonstration : "
                "données fictives, Mon espace santé.</p></body></html>"
            )
            document_deposit(
                actor=author,
                patient=alice,
                stream=io.BytesIO(render_pdf(html)),
                file_name=file_name,
                title=title,
                type_code=type_code,
            )

    def _space(self, beneficiary: Beneficiary, state: str) -> Space:
        now = timezone.now()
        opened = now if state in Space.OPEN_STATES else None
        space, _created = Space.objects.get_or_create(
            beneficiary=beneficiary,
            defaults={"state": state, "opened_at": opened, "dmp_created_at": opened},
        )
        return space

    def _user(
        self, username: str, role: str, first: str, last: str, email: str
    ) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                role=role,
                first_name=first,
                last_name=last,
                email=email,
            )
            user.set_password(DEMO_PASSWORD)
            user.full_clean()
            user.save()
        return user
