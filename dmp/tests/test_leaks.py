"""Hidden documents never leak (G-S3, DMP-8, DMP-9, CONS-7, CONS-1, CONS-2,
CONS-6).

One table says, for each persona and each situation of a document, whether
the persona may see it; the tests are generated from it. Each situation is
set up in a patient's DMP next to a plain control document, then every read
path of `dmp.selectors` is tried for every persona: the list, its count, a
search by title, the filters, the detail, the download, the history of
versions, the count "mask all" returns; and the notifications: a document
hidden from the holder (or the representative) creates no "dmp.new_document"
notification they can see, and no notification, e-mail or audit row ever
carries a title.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.http import Http404
from django.utils import timezone

from audit.models import AuditEvent
from consent import services as consent_services
from consent.models import Block, CareRelationship, EmergencyAccess
from dmp import jobs, services
from dmp.models import Document
from dmp.selectors import (
    DocumentFilters,
    document_get_for,
    document_history_for,
    document_open_for,
    documents_list_for,
)
from espace.models import Beneficiary, Notification, Professional, User
from espace.selectors import inbox_for
from tests.files import pdf_bytes
from tests.personas import make_user

# ---------------------------------------------------------------- the table

# Each situation of the document under test: the rule it exercises, whose
# DMP it is in ("alice", or her son "leo", whose representative is alice).
SITUATIONS: dict[str, tuple[str, str]] = {
    "plain": ("DMP-1, CONS-1: no flag (control)", "alice"),
    "masked": ("DMP-8: MASQUE_PS set by the patient", "alice"),
    "withheld": ("DMP-9: INVISIBLE_PATIENT before the announcement", "alice"),
    "announced": ("DMP-9: INVISIBLE_PATIENT, announcement done", "alice"),
    "released": ("DMP-9: INVISIBLE_PATIENT, a month later", "alice"),
    "minor_plain": ("CONS-7: a child's document, no flag (control)", "leo"),
    "minor_secret": ("CONS-7, DMP-10: INVISIBLE_REPRESENTANTS_LEGAUX", "leo"),
    "minor_masked": ("DMP-8, CONS-7: masked by the representative", "leo"),
    "minor_withheld": ("DMP-9, CONS-7: withheld from the child's side", "leo"),
}

# Who sees the document (Y) or not (-), situation by situation (one table in
# two parts, for the line length). "holder" is alice: the patient in her
# DMP, the legal representative in leo's.
VISIBLE_TABLE = """
persona            plain masked withheld announced released minor_plain minor_secret
holder               Y     Y       -         Y        Y          Y            -
author               Y     Y       Y         Y        Y          Y            Y
medecin_traitant     Y     Y       Y         Y        Y          Y            Y
doctor_in_care       Y     -       Y         Y        Y          Y            Y
nurse_in_care        Y     -       Y         Y        Y          Y            Y
pharmacist_in_care   Y     -       Y         Y        Y          Y            Y
samu_regulator       Y     -       Y         Y        Y          Y            Y
bris_de_glace        Y     -       Y         Y        Y          Y            Y
doctor_not_in_care   -     -       -         -        -          -            -
blocked_doctor       -     -       -         -        -          -            -
other_patient        -     -       -         -        -          -            -
agent                -     -       -         -        -          -            -
"""
VISIBLE_TABLE_CONTINUED = """
persona            minor_masked minor_withheld
holder                  Y             -
author                  Y             Y
medecin_traitant        Y             Y
doctor_in_care          -             Y
nurse_in_care           -             Y
pharmacist_in_care      -             Y
samu_regulator          -             Y
bris_de_glace           -             Y
doctor_not_in_care      -             -
blocked_doctor          -             -
other_patient           -             -
agent                   -             -
"""

# Personas who may open the DMP at all (and so see the control document).
READERS = {
    "holder",
    "author",
    "medecin_traitant",
    "doctor_in_care",
    "nurse_in_care",
    "pharmacist_in_care",
    "samu_regulator",
    "bris_de_glace",
}


def _table(*texts: str) -> dict[str, dict[str, bool]]:
    table: dict[str, dict[str, bool]] = {}
    for text in texts:
        header, *rows = [line.split() for line in text.strip().splitlines()]
        for row in rows:
            cells = zip(header[1:], row[1:], strict=True)
            table.setdefault(row[0], {}).update({s: c == "Y" for s, c in cells})
    assert all(list(row) == list(SITUATIONS) for row in table.values())
    return table


VISIBLE = _table(VISIBLE_TABLE, VISIBLE_TABLE_CONTINUED)
PERSONAS = list(VISIBLE)
CANARY = "CANARI-ZX81"  # in every title: grepped for in notifications and logs


# ---------------------------------------------------------------- the world


@dataclass
class World:
    actors: dict[str, User]
    patient: Beneficiary
    author: User
    control: Document
    target: Document | None = None
    title: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _pro(username: str, rpps: str, profession: str = "10", **fields: Any) -> User:
    user = make_user(username, User.Role.PROFESSIONAL, last_name="Test")
    Professional.objects.create(user=user, rpps=rpps, profession=profession, **fields)
    return user


@pytest.fixture
def world_for(
    request: pytest.FixtureRequest,
    alice: User,
    alice_dmp: Beneficiary,
    leo_dmp: Beneficiary,
    bob: User,
    charlie: User,
    nina: User,
    paul: User,
    victor: User,
    sam: User,
    eve: User,
    agnes: User,
) -> Callable[[str], World]:
    """The personas around the situation's patient: a doctor in care who
    writes the documents (hugo), the médecin traitant, a doctor, a nurse
    and a pharmacist in care, a blocked doctor, two emergency readers (SAMU
    regulator, "bris de glace"), a doctor not in care, another patient, an
    agent; and a plain control document."""

    def build(situation: str) -> World:
        patient = alice_dmp if SITUATIONS[situation][1] == "alice" else leo_dmp
        hugo = _pro("hugo", "99700000088")
        iris = _pro("iris", "99700000096")
        dora = _pro("dora", "99700000054")
        if patient != alice_dmp:
            patient.medecin_traitant = bob.professional
            patient.save(update_fields=["medecin_traitant"])
        for user, kind in (
            (hugo, "consent"),
            (charlie, "consent"),
            (nina, "care_team"),
            (paul, "consent"),
            (dora, "consent"),
        ):
            CareRelationship.objects.create(
                patient=patient, professional=user.professional, kind=kind
            )
        Block.objects.create(patient=patient, professional=dora.professional)
        for user, mode in (
            (sam, EmergencyAccess.Mode.SAMU),
            (iris, EmergencyAccess.Mode.BRIS_DE_GLACE),
        ):
            consent_services.emergency_access_start(
                actor=user,
                patient=patient,
                mode=mode,
                reason="Patient inconscient aux urgences, détresse respiratoire",
            )
        actors = {
            "holder": alice,
            "author": hugo,
            "medecin_traitant": bob,
            "doctor_in_care": charlie,
            "nurse_in_care": nina,
            "pharmacist_in_care": paul,
            "samu_regulator": sam,
            "bris_de_glace": iris,
            "doctor_not_in_care": victor,
            "blocked_doctor": dora,
            "other_patient": eve,
            "agent": agnes,
        }
        assert set(actors) == set(PERSONAS)
        control = _deposit(hugo, patient, title=f"Contrôle {CANARY} TEMOIN")
        return World(actors=actors, patient=patient, author=hugo, control=control)

    return build


def _deposit(author: User, patient: Beneficiary, **fields: Any) -> Document:
    return services.document_deposit(
        actor=author,
        patient=patient,
        stream=io.BytesIO(pdf_bytes()),
        file_name="resultat.pdf",
        type_code="11502-2",
        **fields,
    )


def _make_target(world: World, situation: str) -> Document:
    """The document of the situation, by the real flows (the patient masks,
    the author announces, a month passes)."""
    world.title = f"Résultat {CANARY} {situation.upper()}"
    hugo, patient, holder = world.author, world.patient, world.actors["holder"]
    if situation in ("plain", "minor_plain", "masked", "minor_masked"):
        document = _deposit(hugo, patient, title=world.title)
        if situation.endswith("masked"):
            services.documents_mask(
                actor=holder, patient=patient, documents=[document], masked=True
            )
    elif situation in ("withheld", "minor_withheld", "announced"):
        document = _deposit(hugo, patient, title=world.title, invisible_patient=True)
        if situation == "announced":
            services.document_announce(actor=hugo, document=document)
    elif situation == "released":
        with time_machine.travel(timezone.now() - dt.timedelta(days=31)):
            document = _deposit(
                hugo, patient, title=world.title, invisible_patient=True
            )
        jobs.withheld_release()
    else:
        document = _deposit(
            hugo, patient, title=world.title, invisible_representatives=True
        )
    document.refresh_from_db()
    return document


# ---------------------------------------------------------------- read paths


def _listed(actor: User, patient: Beneficiary, filters: DocumentFilters) -> list[Any]:
    try:
        listing = documents_list_for(actor=actor, patient=patient, filters=filters)
    except Http404:
        return []
    assert listing.count == len(listing.documents)
    return [d.pk for d in listing.documents]


def _filters(world: World, document: Document) -> Iterator[tuple[str, DocumentFilters]]:
    """Filters that all match `document`: it must show through each exactly
    when it shows in the plain list."""
    day = document.document_date
    assert world.author.professional is not None
    yield "list", DocumentFilters()
    yield "search", DocumentFilters(search=str(document.title).split()[-1].lower())
    yield "search_canary", DocumentFilters(search=CANARY)
    yield "class", DocumentFilters(class_code=document.class_code)
    yield "type", DocumentFilters(type_code=document.type_code)
    yield "author_professionals", DocumentFilters(author="professional")
    yield "author_hugo", DocumentFilters(author=str(world.author.professional.pk))
    yield "dates", DocumentFilters(since=day, until=day)
    yield "masked_flag", DocumentFilters(masked=document.masked)


def _leaks(
    world: World, document: Document, visible: dict[str, bool], *, count: bool = True
) -> list[str]:
    """Every read path × every persona: the mismatches, described."""
    problems = []
    for persona in PERSONAS:
        actor, should = world.actors[persona], visible[persona]
        reader = persona in READERS
        for name, filters in _filters(world, document):
            seen = _listed(actor, world.patient, filters)
            if (document.pk in seen) != should:
                problems.append(f"{persona}: {name} {'misses' if should else 'leaks'}")
        if count:
            everything = _listed(actor, world.patient, DocumentFilters())
            if len(everything) != int(reader) + int(should):  # the control + it
                problems.append(f"{persona}: count {len(everything)}")
        try:
            document_get_for(actor=actor, pk=document.pk)
            shown = True
        except Http404:
            shown = False
        if shown != should:
            problems.append(f"{persona}: detail {'404' if should else 'leaks'}")
        try:
            _same, chunks = document_open_for(actor=actor, pk=document.pk)
            downloaded = b"".join(chunks) == pdf_bytes()
        except Http404:
            downloaded = False
        if downloaded != should:
            problems.append(f"{persona}: download {'404' if should else 'leaks'}")
    return problems


def _text_of(row: Any) -> str:
    return " ".join(str(getattr(row, f.attname)) for f in row._meta.concrete_fields)


# ---------------------------------------------------------------- the tests


@pytest.mark.django_db
class HiddenDocumentsTestCase:
    @pytest.mark.parametrize("situation", list(SITUATIONS))
    def test_g_s3_lc12_every_read_path_and_notice_follows_the_table(
        self,
        world_for: Callable[[str], World],
        situation: str,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        rule = f"{situation} ({SITUATIONS[situation][0]})"
        world = world_for(situation)
        with django_capture_on_commit_callbacks(execute=True):  # e-mails go out
            world.target = _make_target(world, situation)
        visible = {persona: VISIBLE[persona][situation] for persona in PERSONAS}
        assert _leaks(world, world.target, visible) == [], rule
        # The control document shows to every reader and to no one else.
        control = {persona: persona in READERS for persona in PERSONAS}
        assert _leaks(world, world.control, control, count=False) == []
        # LC-12: "a new document" reaches the holder's inbox only when they
        # may see it; never another patient's; no title anywhere.
        holder, eve = world.actors["holder"], world.actors["other_patient"]
        key = f"dmp.new_document:{world.target.pk}:inapp"
        told = any(n.key == key for n in inbox_for(actor=holder))
        assert told == VISIBLE["holder"][situation], rule
        assert not any(str(world.target.pk) in n.key for n in inbox_for(actor=eve))
        for row in [*Notification.objects.all(), *AuditEvent.objects.all()]:
            assert CANARY not in _text_of(row)
        if situation in ("plain", "masked", "announced"):  # alice has an e-mail
            assert mail.outbox
        # DMP-8, CONS-7: "mask all" acts on what the holder sees (the control,
        # the document if shown and not masked yet); its count tells nothing
        # of the rest.
        was_masked = world.target.masked
        changed = services.documents_mask(
            actor=holder, patient=world.patient, documents=None, masked=True
        )
        assert changed == 1 + int(visible["holder"] and not was_masked), rule
        world.target.refresh_from_db()
        assert world.target.masked == (was_masked or visible["holder"]), rule
        for message in mail.outbox:
            alternatives = getattr(message, "alternatives", [])
            text = " ".join(
                [message.subject, str(message.body)] + [str(c) for c, _ in alternatives]
            )
            assert CANARY not in text

    @pytest.mark.parametrize(
        "situation",
        list(SITUATIONS),
    )
    def test_g_s3_dmp11_history_of_versions_hides_what_the_table_hides(
        self, world_for: Callable[[str], World], situation: str
    ) -> None:
        """The author deposits a plain second version: the first one, with
        its flags, must appear in the history only to those the table lets
        see it; the second one keeps a mask the patient set (DMP-8)."""
        world = world_for(situation)
        first = _make_target(world, situation)
        second = _deposit(
            world.author, world.patient, title=f"V2 {CANARY}", replaces=first
        )
        plain = "plain" if SITUATIONS[situation][1] == "alice" else "minor_plain"
        second_seen_as = situation if situation.endswith("masked") else plain
        problems = []
        for persona in PERSONAS:
            actor = world.actors[persona]
            try:
                current, _access = document_get_for(actor=actor, pk=second.pk)
            except Http404:
                if VISIBLE[persona][second_seen_as]:
                    problems.append(f"{persona}: the new version is hidden")
                continue
            if not VISIBLE[persona][second_seen_as]:
                problems.append(f"{persona}: the new version leaks")
            history = document_history_for(actor=actor, document=current)
            if (first.pk in {v.pk for v in history}) != VISIBLE[persona][situation]:
                problems.append(f"{persona}: history")
        assert problems == [], SITUATIONS[situation][0]


@pytest.mark.django_db
class MonthlyReleaseTestCase:
    def test_cons7_dmp9_a_released_minor_secret_tells_no_representative(
        self, world_for: Callable[[str], World]
    ) -> None:
        world = world_for("minor_secret")
        with time_machine.travel(timezone.now() - dt.timedelta(days=31)):
            document = _deposit(
                world.author,
                world.patient,
                title=f"Secret {CANARY}",
                invisible_patient=True,
                invisible_representatives=True,
            )
        assert jobs.withheld_release() == 1
        assert documents_list_for(
            actor=world.actors["holder"], patient=world.patient
        ).documents == [world.control]
        keys = {n.key for n in inbox_for(actor=world.actors["holder"])}
        assert f"dmp.new_document:{document.pk}:inapp" not in keys

    def test_sec1_hidden_and_missing_documents_get_the_same_404(
        self, world_for: Callable[[str], World]
    ) -> None:
        """The refusal test of this file (SEC-1): hidden and missing look
        alike."""
        import uuid

        world = world_for("masked")
        document = _make_target(world, "masked")
        for persona in ("doctor_in_care", "doctor_not_in_care", "agent"):
            for pk in (document.pk, uuid.uuid4()):
                with pytest.raises(Http404):
                    document_get_for(actor=world.actors[persona], pk=pk)
