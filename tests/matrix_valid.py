"""The access matrix with VALID data (G-S1, SEC-1): a write that answers 400
to an empty form could still succeed for someone it should refuse once the
form is right. Each route below is posted a complete, valid form by every
persona; the expected statuses and audit entries are written by hand, like
tests/matrix_data.py (whose helpers and audit rules they reuse).

`build(world, persona)` returns the form: valid for the persona's target
(alice's, leo's, zoe's objects — tests/matrix_world.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from dmp import codes
from tests.files import pdf_bytes
from tests.matrix_data import NO_POST, Route, patient_object, patient_page, pro, row

Form = Callable[[Any, str], dict[str, Any]]
REASON = "Patient inconscient aux urgences, aucun proche joignable pour l'instant."


def _pdf(name: str = "compte-rendu.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def _victor(world: Any, _persona: str) -> dict[str, Any]:
    return {"rpps": world.users["not_in_care"].professional.rpps}


def _name(world: Any, _persona: str) -> dict[str, Any]:
    return {"name": "Imagerie"}


def _entry(world: Any, _persona: str) -> dict[str, Any]:
    return {"label": "Arachide", "details": "", "entry_date": ""}


def _measure(world: Any, _persona: str) -> dict[str, Any]:
    return {"kind": "weight", "measured_on": "2025-02-01", "value": "62.4"}


def _patient_document(world: Any, _persona: str) -> dict[str, Any]:
    return {"file": _pdf(), "title": "Mon ordonnance", "type_code": "DOCPAT05"}


def _pro_document(world: Any, _persona: str) -> dict[str, Any]:
    return {
        "file": _pdf(),
        "title": "Compte rendu",
        "type_code": "11502-2",
        "document_date": "01/10/2026",
    }


def _summary(world: Any, persona: str) -> dict[str, Any]:
    return {**_pro_document(world, persona), "type_code": codes.YEARLY_SUMMARY}


def _alice(world: Any, _persona: str) -> int:
    return int(world.objects["alice"].patient.pk)


def _search(world: Any, _persona: str) -> dict[str, Any]:
    alice = world.objects["alice"].patient
    return {
        "mode": "nir",
        "nir-nir": alice.nir,
        "nir-birth_date": alice.birth_date.strftime("%d/%m/%Y"),
    }


def _appointment(world: Any, _persona: str) -> dict[str, Any]:
    return {
        "day": "2027-01-15",
        "time": "14:30",
        "duration_minutes": "30",
        "title": "Contrôle",
        "professional": "",
        "place": "Cabinet",
        "notes": "",
    }


def _item_reminder(world: Any, _persona: str) -> dict[str, Any]:
    return {"item_code": "ror-1", "label": "Vaccin ROR", "due_on": "2027-01-15"}


@dataclass(frozen=True)
class Valid:
    build: Form
    route: Route  # `post` and `post_kind`: what a valid form gets
    multipart: bool = True  # a form (with files); False: a JSON body
    personas: tuple[str, ...] = ()  # only these (all when empty)


def _post(statuses: dict[str, int], **options: Any) -> Route:
    return Route(NO_POST, statuses, **options)


PATIENT_SIDE = {"post_kind": "health", "gate": "patient"}
PRO_PERSONAS = ("mt", "care", "nurse", "pharmacist", "blocked", "not_in_care", "samu")

VALID: dict[str, Valid] = {
    # CONS-2: each patient persona blocks victor on the profile they act for
    "consent:professional-block": Valid(
        _victor, _post(patient_page(302), on="profile", **PATIENT_SIDE)
    ),
    "dmp:folder-create": Valid(
        _name, _post(patient_page(302), on="profile", **PATIENT_SIDE)
    ),
    # another family's folder: a 404 and a refusal entry
    "dmp:folder-rename": Valid(
        _name, _post(patient_object(302, parent=302), **PATIENT_SIDE)
    ),
    # DMP-5: the patient side adds a document to the profile it acts for
    "dmp:document-add": Valid(
        _patient_document,
        _post(patient_page(302), on="profile", **PATIENT_SIDE),
    ),
    # DMP-6: a new entry, an edited one, a measure
    "profil:entry-add": Valid(
        _entry, _post(patient_page(302), on="profile", **PATIENT_SIDE)
    ),
    "profil:entry-edit": Valid(
        _entry, _post(patient_object(302, parent=302), **PATIENT_SIDE)
    ),
    "profil:organ-donation": Valid(
        lambda w, p: {"choice": "accepte"},
        _post(patient_page(302), on="profile", **PATIENT_SIDE),
    ),
    "profil:measure-add": Valid(
        _measure, _post(patient_page(302), on="profile", **PATIENT_SIDE)
    ),
    # CONS-1: any professional who found alice may declare her consent, but
    # the one she blocked (a refusal entry)
    "pro:care-declare": Valid(
        lambda w, p: {"kind": "consent", "attestation": "on"},
        _post(
            pro(302, 302, 302, 302, not_in_care=302, samu=302),
            post_kind="health",
            gate="pro",
            tagged=False,  # consent.care.declare:<the kind declared>
        ),
    ),
    # CONS-6: bris de glace by any professional who found alice, but the
    # one she blocked (a refusal entry); she did not oppose it
    "pro:emergency": Valid(
        lambda w, p: {"mode": "bris_de_glace", "reason": REASON},
        _post(
            pro(302, 302, 302, 302, not_in_care=302, samu=302),
            post_kind="health",
            gate="pro",
            tagged=False,  # consent.emergency.<mode>
        ),
    ),
    # DMP-4: a deposit by those in care, within the matrix
    "pro:document-deposit": Valid(
        _pro_document,
        _post(pro(302, 302, 302, 302), post_kind="health", gate="pro"),
    ),
    # DMP-4: the médecin traitant's yearly summary; the others are refused
    "pro:yearly-summary": Valid(
        _summary,
        _post(pro(302, 404, 404, 404), post_kind="health", gate="pro"),
    ),
    # DMP-11: charlie's document, a new version by charlie alone
    "pro:document-replace": Valid(
        _pro_document,
        _post(pro(404, 302, 404, 404), post_kind="health", gate="pro"),
    ),
    # SEC-3: a search that finds alice opens her card; for the professional
    # she blocked, the same neutral "nothing found" as for a wrong NIR
    "pro:patient-search": Valid(
        _search,
        _post(
            pro(302, 302, 302, 302, blocked=200, not_in_care=302, samu=302),
            post_kind="health",
            gate="pro",
            tagged=False,  # pro.patient.search.nir:found
            audits={("post", "blocked"): (1, True)},
        ),
    ),
    # AG-2: an appointment and a reminder for the profile acted for
    "rendezvous:create": Valid(
        _appointment, _post(patient_page(302), on="profile", **PATIENT_SIDE)
    ),
    "rendezvous:edit": Valid(
        _appointment, _post(patient_object(302, parent=302), **PATIENT_SIDE)
    ),
    "rendezvous:item-reminder": Valid(
        _item_reminder, _post(patient_page(302), on="profile", **PATIENT_SIDE)
    ),
    "rendezvous-api:appointment-list": Valid(
        lambda w, p: {"starts_at": "2027-01-15T14:30:00", "title": "Contrôle"},
        _post(
            row(anon=401, patients=201, pros=404, agent=404),
            post_kind="health",
            gate="patient",
            on="own",
        ),
        multipart=False,
    ),
    "rendezvous-api:item-reminder-list": Valid(
        _item_reminder,
        _post(
            row(anon=401, patients=201, pros=404, agent=404),
            post_kind="health",
            gate="patient",
            on="own",
        ),
        multipart=False,
    ),
    # MSG-1: alice writes first to bob, her médecin traitant, who accepts
    # it; for the others he is not theirs to write to (not in the list)
    "messagerie:conversation-new": Valid(
        lambda w, p: {
            "professional": str(w.users["mt"].professional.pk),
            "subject": "Question",
            "body": "Bonjour docteur",
        },
        _post(
            patient_page(400, patient=302, former_parent=302),
            on="profile",
            **PATIENT_SIDE,
        ),
    ),
    # MSG-1: a reply to the conversation (alice's with charlie, leo's with
    # bob); everyone else: a 404 and a refusal entry
    "messagerie:conversation-detail": Valid(
        lambda w, p: {"body": "Merci docteur"},
        _post(patient_object(302, parent=302), **PATIENT_SIDE),
    ),
    # MSG-2: the attachment filed into the DMP of the profile acted for (two
    # entries: the attachment read, then the document deposited)
    "messagerie:attachment-file": Valid(
        lambda w, p: {"type_code": "DOCPAT05", "title": ""},
        _post(patient_object(302, parent=302), entries=2, **PATIENT_SIDE),
    ),
    # MSG-1: a professional writes to a patient in their care (alice is in
    # the list of those in care only)
    "pro-messagerie:conversation-new": Valid(
        lambda w, p: {
            "patient": str(_alice(w, p)),
            "subject": "Résultats",
            "body": "Bonjour, voici vos résultats.",
        },
        _post(
            pro(302, 302, 302, 302, blocked=400, not_in_care=400, samu=400),
            post_kind="health",
            gate="pro",
        ),
    ),
    "pro-messagerie:conversation-detail": Valid(
        lambda w, p: {"body": "Bien reçu."},
        _post(pro(404, 302, 404, 404), post_kind="health", gate="pro"),
    ),
    "messagerie-api:message-create": Valid(
        lambda w, p: {"body": "Merci"},
        _post(
            row(
                anon=401,
                patients=404,
                pros=404,
                agent=404,
                patient=201,
                parent=201,
                care=201,
            ),
            post_kind="health",
            gate="patient pro agent",
        ),
    ),
    # AG-2: an item of the calendar marked done, for the profile acted for
    # (two entries: the calendar read to check the item, then the mark)
    "agenda:item-done": Valid(
        lambda w, p: {"done_on": "2026-11-01", "performer": "", "document": ""},
        _post(patient_page(302), on="profile", entries=2, **PATIENT_SIDE),
    ),
    "agenda-api:item-done": Valid(
        lambda w, p: {"done_on": "2026-11-01"},
        _post(
            row(anon=401, patients=200, pros=404, agent=404),
            post_kind="health",
            gate="patient",
            on="profile",
        ),
        multipart=False,
    ),
    # the API: the holder's own record
    "consent-api:block-list": Valid(
        _victor,
        _post(
            row(anon=401, patients=201, pros=404, agent=404),
            post_kind="health",
            gate="patient",
            on="own",
        ),
        multipart=False,
    ),
    "dmp-api:document-list": Valid(
        _patient_document,
        _post(
            row(anon=401, patients=201, pros=400, agent=404),
            post_kind="health",
            gate="patient",
            on="own",
        ),
    ),
    # professionals name the patient: those in care deposit, the others get
    # a 404 and a refusal entry against alice
    "dmp-api:document-list@pro": Valid(
        lambda w, p: {
            **_pro_document(w, p),
            "document_date": "2026-10-01",
            "patient": _alice(w, p),
        },
        _post(pro(201, 201, 201, 201), post_kind="health", gate="pro"),
        personas=PRO_PERSONAS,
    ),
    # DMP-8: the holder masks all her documents; a professional may not
    "dmp-api:document-mask-all": Valid(
        lambda w, p: {"masked": True},
        _post(
            row(anon=401, patients=200, pros=400, agent=404),
            post_kind="health",
            gate="patient",
            on="own",
        ),
        multipart=False,
    ),
    "dmp-api:document-mask-all@pro": Valid(
        lambda w, p: {"masked": True, "patient": _alice(w, p)},
        _post(pro(404, 404, 404, 404), post_kind="health", gate="pro"),
        multipart=False,
        personas=PRO_PERSONAS,
    ),
}
