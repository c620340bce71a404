"""The world the access matrix runs in (G-S1): alice's open DMP with real
objects, her child's, her former child's, and one logged-in client per persona.

Built with the services (and model copies where no service may write: the
objects of zoe, 18 today, whom nobody else may write for any more), once per
test: each cell of the matrix starts from the same fresh database.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consent.models import Block, CareRelationship
from dmp import profile_services, services
from dmp.models import Document, Folder, Measure, ProfileEntry
from dmp.pro_views import FOUND
from espace.models import Beneficiary, User
from espace.views import PROFILE
from messagerie import services as messagerie_services
from tests.files import pdf_bytes
from tests.personas import PASSWORD, verified_client

MISSING_UUID = "6f1c1b9e-0000-4000-8000-000000000001"
MISSING_ID = "999999"

# The personas of G-S1, in the order of the table's columns.
PATIENTS = (
    "patient",  # alice, on her own objects
    "other_patient",  # eve, on alice's objects
    "parent",  # alice acting for leo (her child), on leo's objects
    "other_parent",  # eve asking for leo (not hers), on leo's objects
    "former_parent",  # alice asking for zoe (18 today), on zoe's objects
)
PROS = (
    "mt",  # bob, alice's médecin traitant
    "care",  # charlie, in care by consent (CONS-1)
    "nurse",  # nina, in the care team
    "pharmacist",  # paul, in care
    "blocked",  # dora, in care but blocked (CONS-2)
    "not_in_care",  # victor
    "samu",  # sam, SAMU regulator, no emergency access started (CONS-6)
)
PERSONAS = ("anonymous", "pending", *PATIENTS, *PROS, "agent")

# Whose objects each persona's URLs point at (G-S1: real objects, so that a
# 2xx means real access). Professionals have all found alice by a search in
# their session (dmp.pro_views.FOUND), the usual way to her card.
TARGET = dict.fromkeys(PERSONAS, "alice") | {
    "parent": "leo",
    "other_parent": "leo",
    "former_parent": "zoe",
}
# The profile (espace.views.PROFILE) each patient persona asks for.
ASKS_FOR = {"parent": "leo", "other_parent": "leo", "former_parent": "zoe"}

ACTING_FOR = {
    "patient": lambda w: w.objects["alice"].patient,
    "other_patient": lambda w: w.users["other_patient"].beneficiary,
    "parent": lambda w: w.objects["leo"].patient,
    "other_parent": lambda w: w.users["other_parent"].beneficiary,
    "former_parent": lambda w: w.objects["alice"].patient,
}


@dataclass
class Objects:
    """One patient's objects, named as the table's URL arguments are."""

    patient: Beneficiary
    doc: Document  # a professional's document (the patient's own for leo/zoe)
    own_doc: Document  # a document the patient (or representative) added
    folder: Folder
    entry: ProfileEntry
    measure: Measure
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    users: dict[str, User]
    objects: dict[str, Objects]  # alice, leo, zoe

    def args(self, persona: str) -> dict[str, str]:
        """Every value a route argument may name, for this persona's target."""
        target = self.objects[TARGET[persona]]
        alice = self.objects["alice"]
        return {
            "doc": str(target.doc.pk),
            "own_doc": str(target.own_doc.pk),
            "folder": str(target.folder.pk),
            "entry": str(target.entry.pk),
            "measure": str(target.measure.pk),
            "patient": str(target.patient.pk),
            "child": str(self.objects["leo"].patient.pk),
            "block": str(alice.extra["block"].pk),
            "care": str(alice.extra["care"].pk),
            "rpps": alice.extra["blocked_rpps"],
            "uid": "MQ",
            "section": "allergies",
            # AG-1: an item of every patient persona's calendar (the
            # 45-50 prevention check-up: due for alice, to come for eve, leo)
            "agenda_item": "BILAN-45-50",
            "token": "bad-token",
            "conversation": str(target.extra["conversation"].pk),
            "attachment": str(target.extra["attachment"].pk),
            "missing_uuid": MISSING_UUID,
            "missing_id": MISSING_ID,
            "campaign": str(alice.extra["campaign"].pk),
            "appointment": str(target.extra["appointment"].pk),
            "item_reminder": str(target.extra["item_reminder"].pk),
            "feed_token": alice.extra["feed_token"],
        }

    def patient(self, persona: str) -> Beneficiary:
        """The patient whose objects the persona's URLs name."""
        return self.objects[TARGET[persona]].patient

    def acting_for(self, persona: str) -> Beneficiary:
        """The profile a patient persona's pages show (espace.views.
        active_profile): the one asked for if theirs to act for, else
        their own."""
        return ACTING_FOR[persona](self)


def _deposit(actor: User, patient: Beneficiary, **fields: Any) -> Document:
    options: dict[str, Any] = {
        "title": "Compte rendu de biologie",
        "type_code": "11502-2" if actor.role == User.Role.PROFESSIONAL else "DOCPAT05",
        "file_name": "resultats.pdf",
    }
    options.update(fields)
    return services.document_deposit(
        actor=actor, patient=patient, stream=io.BytesIO(pdf_bytes()), **options
    )


def _patient_objects(actor: User, patient: Beneficiary) -> tuple[Any, ...]:
    """What the patient (or a representative) writes: a folder, a document
    filed in it, a profile entry and a measure (DMP-5, DMP-6)."""
    folder = services.folder_create(actor=actor, patient=patient, name="Analyses")
    own_doc = _deposit(actor, patient, folder=folder)
    entry = profile_services.profile_entry_add(
        actor=actor, patient=patient, section="allergy", label="Pénicilline"
    )
    measure = profile_services.measure_add(
        actor=actor,
        patient=patient,
        kind="weight",
        measured_on=dt.date(2024, 3, 1),
        value="61.5",
    )
    return folder, own_doc, entry, measure


def _prevention_campaign(agent: User, patients: list[Beneficiary]) -> Any:
    """A sent campaign and its delivered messages (MSG-4)."""
    from messagerie.campaign_models import Campaign, CampaignDelivery

    campaign = Campaign.objects.create(
        title="Dépistage",
        body="Un message de prévention.",
        reason="vous avez un enfant de moins de 18 ans",
        send_at=timezone.now(),
        state=Campaign.State.SENT,
        created_by=agent,
    )
    now = timezone.now()
    CampaignDelivery.objects.bulk_create(
        [
            CampaignDelivery(
                campaign=campaign,
                beneficiary=patient,
                status=CampaignDelivery.Status.DELIVERED,
                created_at=now,
                notified_at=now,
            )
            for patient in patients
        ]
    )
    return campaign


def _agenda_objects(actor: User, patient: Beneficiary) -> dict[str, Any]:
    """AG-2: an appointment and an item reminder, written by the holder (or
    the representative) through the services."""
    from agenda import appointment_services as agenda

    appointment = agenda.appointment_create(
        actor=actor,
        patient=patient,
        data=agenda.AppointmentData(
            starts_at=timezone.now() + dt.timedelta(days=3),
            title="Contrôle dentaire",
            place="Cabinet du Dr Martin",
            notes="Apporter la radio",
        ),
    )
    reminder = agenda.item_reminder_create(
        actor=actor,
        patient=patient,
        item_code="ror-2",
        label="Vaccin ROR, 2e dose",
        due_on=timezone.localdate() + dt.timedelta(days=30),
    )
    return {"appointment": appointment, "item_reminder": reminder}


def _conversation(pro: User, patient: Beneficiary, **options: Any) -> dict[str, Any]:
    """MSG-1, MSG-2: a professional writes first, with a PDF attached."""
    conversation = messagerie_services.conversation_start(
        actor=pro,
        patient=patient,
        subject="Résultats",
        body="Bonjour, voici vos résultats.",
        attachment=messagerie_services.Attachment(io.BytesIO(pdf_bytes()), "cr.pdf"),
        **options,
    )
    return {
        "conversation": conversation,
        "attachment": conversation.messages.get(),
    }


def build_world(f: dict[str, Any]) -> World:
    """`f`: the persona fixtures (tests.personas), already in the database.
    Everything goes through the services (encrypted fields and files are
    bound to their row: no copies)."""
    alice, bob, charlie = f["alice"], f["bob"], f["charlie_in_care"]
    alice_dmp, leo, zoe = f["alice_dmp"], f["leo_dmp"], f["zoe"]
    doc = _deposit(charlie, alice_dmp)
    bob_doc = _deposit(bob, alice_dmp, title="Synthèse")
    masked = _deposit(charlie, alice_dmp, masked=True)
    withheld = _deposit(bob, alice_dmp, invisible_patient=True)
    dora = f["dora_blocked"].professional
    folder, own_doc, entry, measure = _patient_objects(alice, alice_dmp)
    objects = {
        "alice": Objects(
            alice_dmp,
            doc,
            own_doc,
            folder,
            entry,
            measure,
            {
                "bob_doc": bob_doc,
                "masked": masked,
                "withheld": withheld,
                "block": Block.objects.get(patient=alice_dmp, professional=dora),
                "care": CareRelationship.objects.get(
                    patient=alice_dmp, professional=charlie.professional
                ),
                "blocked_rpps": dora.rpps,
                **_agenda_objects(alice, alice_dmp),
                **_conversation(charlie, alice_dmp),
            },
        )
    }
    from agenda.appointment_services import calendar_feed_rotate

    _feed, token = calendar_feed_rotate(actor=alice, patient=alice_dmp)
    objects["alice"].extra["feed_token"] = token
    folder, own_doc, entry, measure = _patient_objects(alice, leo)
    # CONS-7: a document about leo his parents may not see, written by bob
    # while in his care (that care is over)
    care = CareRelationship.objects.create(
        patient=leo, professional=bob.professional, kind="consent"
    )
    secret = _deposit(bob, leo, invisible_representatives=True)
    # MSG-1, CONS-7: bob's conversation with leo, and one the minor's secret
    # hides from his parents
    shared = _conversation(bob, leo)
    hidden = _conversation(bob, leo, hidden_from_representatives=True)
    care.delete()
    objects["leo"] = Objects(
        leo,
        own_doc,
        own_doc,
        folder,
        entry,
        measure,
        {
            "secret": secret,
            **shared,
            "hidden_conversation": hidden["conversation"],
            "hidden_attachment": hidden["attachment"],
            **_agenda_objects(alice, leo),
        },
    )
    # zoe's objects were written by alice the day before zoe turned 18
    with time_machine.travel(timezone.now() - dt.timedelta(days=1)):
        folder, own_doc, entry, measure = _patient_objects(alice, zoe)
        zoe_agenda = _agenda_objects(alice, zoe)
    care = CareRelationship.objects.create(
        patient=zoe, professional=bob.professional, kind="consent"
    )
    zoe_conversation = _conversation(bob, zoe)
    care.delete()
    objects["zoe"] = Objects(
        zoe, own_doc, own_doc, folder, entry, measure, zoe_agenda | zoe_conversation
    )
    # MSG-1: bob (alice's médecin traitant) accepts first messages from his
    # own patients
    messagerie_services.inbox_settings_update(
        actor=bob, open_to_patients=True, auto_reply="Réponse sous 48 h."
    )
    # MSG-4: one prevention campaign delivered to alice and to leo
    objects["alice"].extra["campaign"] = _prevention_campaign(
        f["agnes"], [alice_dmp, leo]
    )
    users = {
        "patient": alice,
        "other_patient": f["eve"],
        "parent": alice,
        "other_parent": f["eve"],
        "former_parent": alice,
        "mt": bob,
        "care": charlie,
        "nurse": f["nina_in_care"],
        "pharmacist": f["paul_in_care"],
        "blocked": f["dora_blocked"],
        "not_in_care": f["victor"],
        "samu": f["sam"],
        "agent": f["agnes"],
    }
    return World(users, objects)


def client_of(world: World, persona: str) -> Client:
    """A client as the persona would have it: logged in past both factors
    (pending: password only), with the profile or the patients its session
    holds."""
    if persona == "anonymous":
        return Client()
    if persona == "pending":
        client = Client()
        client.post(
            reverse("espace:login"), {"identifier": "alice", "password": PASSWORD}
        )
        return client
    client = verified_client(world.users[persona])
    session = client.session
    if persona in ASKS_FOR:
        session[PROFILE] = world.objects[ASKS_FOR[persona]].patient.pk
    if persona in PROS:
        session[FOUND] = [world.objects["alice"].patient.pk]
    session.save()
    return client


def make_personas() -> dict[str, Any]:
    """The persona fixtures of tests.personas, called in dependency order
    (for a world built once per module: see test_access_matrix.world)."""
    from tests import personas as p

    def call(fixture: Any, *args: Any) -> Any:
        return fixture.__wrapped__(*args)

    f: dict[str, Any] = {"bob": call(p.bob, None)}
    f["alice"] = call(p.alice, None, f["bob"])
    f["alice_dmp"] = call(p.alice_dmp, f["alice"])
    f["charlie_in_care"] = call(
        p.charlie_in_care, call(p.charlie, None), f["alice_dmp"]
    )
    f["nina_in_care"] = call(p.nina_in_care, call(p.nina, None), f["alice_dmp"])
    f["paul_in_care"] = call(p.paul_in_care, call(p.paul, None), f["alice_dmp"])
    f["dora_blocked"] = call(p.dora_blocked, f["alice_dmp"])
    for name in ("victor", "sam", "agnes", "eve"):
        f[name] = call(getattr(p, name), None)
    f["eve_dmp"] = call(p.eve_dmp, f["eve"])
    f["leo_dmp"] = call(p.leo_dmp, call(p.leo, f["alice"]))
    f["zoe"] = call(p.zoe, f["alice"])
    return f
