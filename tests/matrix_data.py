"""The expected answers of the access matrix (G-S1, SEC-1), written by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# name -> URL arguments, each naming a value of `World.args` (matrix_world)
ARGS: dict[str, dict[str, str]] = {
    "espace:password-reset-confirm": {"uidb64": "uid", "token": "token"},
    "espace:profile-switch": {"pk": "child"},
    "espace:profile-share": {"pk": "child"},
    "espace:invitation-accept": {"pk": "missing_id"},
    "espace:invitation-refuse": {"pk": "missing_id"},
    "consent:professional-unblock": {"pk": "block"},
    "consent:care-revoke": {"pk": "care"},
    "consent-api:block-delete": {"rpps": "rpps"},
    "dmp:document-preview": {"pk": "doc"},
    "dmp:document-download": {"pk": "doc"},
    "dmp-api:document-detail": {"pk": "doc"},
    "dmp-api:document-download": {"pk": "doc"},
    "dmp-api:document-mask": {"pk": "doc"},
    "pro:patient": {"pk": "patient"},
    "pro:care-declare": {"pk": "patient"},
    "pro:emergency": {"pk": "patient"},
    "pro:document-deposit": {"pk": "patient"},
    "pro:yearly-summary": {"pk": "patient"},
    "pro:document-detail": {"pk": "patient", "doc": "doc"},
    "pro:document-replace": {"pk": "patient", "doc": "doc"},
    "pro:document-announce": {"pk": "patient", "doc": "doc"},
    "pro:document-delete": {"pk": "patient", "doc": "doc"},
    "profil:entry-add": {"section": "section"},
    "profil:entry-edit": {"pk": "entry"},
    "profil:entry-delete": {"pk": "entry"},
    "profil:entry-history": {"pk": "entry"},
    "profil:measure-delete": {"pk": "measure"},
    "dmp:document-detail": {"pk": "doc"},
    "dmp:document-mask": {"pk": "doc"},
    "dmp:document-unmask": {"pk": "doc"},
    "dmp:document-delete": {"pk": "own_doc"},
    "dmp:document-move": {"pk": "own_doc"},
    "dmp:folder-rename": {"pk": "folder"},
    "dmp:folder-delete": {"pk": "folder"},
    "prevention:detail": {"pk": "campaign"},
    # AG-2, AG-3: alice's appointment (leo's for his parent, zoe's for alice
    # asking for zoe), item reminder; alice's feed token
    "rendezvous:detail": {"pk": "appointment"},
    "rendezvous:edit": {"pk": "appointment"},
    "rendezvous:cancel": {"pk": "appointment"},
    "rendezvous:item-reminder-delete": {"pk": "item_reminder"},
    "rendezvous:feed-ics": {"token": "feed_token"},
    "rendezvous-api:appointment-detail": {"pk": "appointment"},
    "rendezvous-api:appointment-cancel": {"pk": "appointment"},
    "rendezvous-api:item-reminder-delete": {"pk": "item_reminder"},
    "messagerie:conversation-detail": {"pk": "conversation"},
    "messagerie:conversation-archive": {"pk": "conversation"},
    "messagerie:conversation-unarchive": {"pk": "conversation"},
    "messagerie:attachment-download": {"pk": "attachment"},
    "messagerie:attachment-file": {"pk": "attachment"},
    "pro-messagerie:conversation-detail": {"pk": "conversation"},
    "pro-messagerie:conversation-close": {"pk": "conversation"},
    "pro-messagerie:conversation-archive": {"pk": "conversation"},
    "pro-messagerie:conversation-unarchive": {"pk": "conversation"},
    "pro-messagerie:attachment-download": {"pk": "attachment"},
    "messagerie-api:conversation-detail": {"pk": "conversation"},
    "messagerie-api:message-create": {"pk": "conversation"},
    "messagerie-api:conversation-read": {"pk": "conversation"},
    "messagerie-api:conversation-archive": {"pk": "conversation"},
    "messagerie-api:attachment-download": {"pk": "attachment"},
    "agenda:item-done": {"key": "agenda_item"},
    "agenda:item-undo": {"key": "agenda_item"},
    "agenda-api:item-done": {"key": "agenda_item"},
    "agenda-api:item-undo": {"key": "agenda_item"},
}

# ------------------------------------------------------------------ helpers
PATIENTS = ("patient", "other_patient", "parent", "other_parent", "former_parent")
PROS = ("mt", "care", "nurse", "pharmacist", "blocked", "not_in_care", "samu")
GATE_OF = (
    {"anonymous": "none", "pending": "none", "agent": "agent"}
    | dict.fromkeys(PATIENTS, "patient")
    | dict.fromkeys(PROS, "pro")
)
# the basis a success is audited with (consent.policy.Basis); on the pages of
# the active profile, eve acts for herself whatever she asks for, and so does
# alice asking for zoe (18 today: no longer hers to act for)
BASIS = {
    "patient": "self",
    "other_patient": "self",
    "parent": "representative",
    "other_parent": "self",
    "former_parent": "self",
    "mt": "medecin_traitant",
    "care": "care_consent",
    "nurse": "care_team",
    "pharmacist": "care_consent",
}


def row(
    *,
    anon: int,
    patients: int,
    pros: int,
    agent: int,
    pending: int | None = None,
    **each: int,
) -> dict[str, int]:
    """One status per persona: by group, then persona by persona."""
    cells = {"anonymous": anon, "pending": anon if pending is None else pending}
    cells |= dict.fromkeys(PATIENTS, patients) | dict.fromkeys(PROS, pros)
    cells |= {"agent": agent} | each
    unknown = set(each) - set(cells)
    assert not unknown, unknown
    return cells


def everyone(status: int) -> dict[str, int]:
    return row(anon=status, patients=status, pros=status, agent=status)


def patient_page(own: int = 200, anon: int = 302, **each: int) -> dict[str, int]:
    """A page of the active profile: every patient persona has one (eve's
    own, alice's own for zoe); professionals and agents get the 404 of the
    patient-only gate."""
    return row(anon=anon, patients=own, pros=404, agent=404, **each)


def patient_object(own: int = 200, parent: int = 200, anon: int = 302, **each: int):  # type: ignore[no-untyped-def]
    """A patient-side page on one object: alice's own, leo's for his parent;
    eve (on alice's, then leo's) and alice on zoe's (18 today) get a 404."""
    return row(
        anon=anon,
        patients=404,
        pros=404,
        agent=404,
        patient=own,
        parent=parent,
        **each,
    )


def pro(
    mt: int = 200,
    care: int = 200,
    nurse: int = 200,
    pharmacist: int = 200,
    blocked: int = 404,
    not_in_care: int = 404,
    samu: int = 404,
    anon: int = 302,
    agent: int = 404,
) -> dict[str, int]:
    """A professional page on alice (found by a search in the session)."""
    return row(
        anon=anon,
        patients=404,
        pros=404,
        agent=agent,
        mt=mt,
        care=care,
        nurse=nurse,
        pharmacist=pharmacist,
        blocked=blocked,
        not_in_care=not_in_care,
        samu=samu,
    )


@dataclass(frozen=True)
class Route:
    """`kind`: what a GET (`post_kind`: a POST) touches: "none", "health"
    (one audit entry per decision, G-S12) or "auth" (login events, no
    patient). `gate`: who gets past the role check ("patient", "pro", "any")
    — the others are refused before any health data is looked at, with no
    entry. `on`: "object" when the URL names alice's (leo's, zoe's) object,
    "profile" when the page is the active profile's, "own" for the API (the
    holder's own record, as "self"), "alice" for objects that are alice's
    for every persona (her block, her consent)."""

    get: dict[str, int]
    post: dict[str, int] | None = None
    kind: str = "none"
    post_kind: str = "none"
    gate: str = "patient pro agent"
    on: str = "object"
    tagged: bool = True  # the code ends with the basis
    entries: int = 1  # on a successful POST
    on_400: int | None = None  # entries a 400 leaves (an invalid form)
    # (method, persona) -> (entries, refused) or None, where the rule differs
    audits: dict[tuple[str, str], tuple[int, bool] | None] = field(default_factory=dict)

    def expected(self, method: str) -> dict[str, int]:
        if method == "get":
            return self.get
        assert self.post is not None
        return self.post

    def kind_of(self, method: str) -> str:
        return self.kind if method == "get" else self.post_kind

    def audit(self, method: str, persona: str, status: int) -> tuple[int, bool] | None:
        """(entries, refused) the cell must leave, or None for none."""
        if (method, persona) in self.audits:
            return self.audits[(method, persona)]
        kind = self.kind_of(method)
        if kind == "auth":
            return None if GATE_OF[persona] == "none" else (1, False)
        if kind == "none" or GATE_OF[persona] not in self.gate.split():
            return None
        if 200 <= status < 300 or (method == "post" and status in (302, 303)):
            return (self.entries if method == "post" else 1, False)
        if status == 404 and self.on == "object":
            return (1, True)
        if status == 400 and self.on_400 is not None:
            return (self.on_400, False)
        return None

    def data(self, world: Any, persona: str) -> dict[str, str]:
        return {}


# ------------------------------------------------------------------ the table
NO_POST = everyone(405)
PAGE = everyone(200)
API_ANON = {"anonymous": 401, "pending": 401}  # DRF: both factors or 401


def api(**cells: int) -> dict[str, int]:
    return {**API_ANON, **cells}


def _patient_api(status: int) -> dict[str, int]:
    return row(anon=401, patients=status, pros=404, agent=404)


# AG-2: an invalid write to the agenda is a decision on record as such
# (`refused.invalid`, Decision.invalid), like another family's refusal.
INVALID_ON_RECORD: dict[tuple[str, str], tuple[int, bool] | None] = {
    ("post", persona): (1, True) for persona in PATIENTS
}


def _messaging_api(status: int) -> dict[str, int]:
    """A conversation through the API: alice, leo's parent, charlie (its
    professional, in care) read it; everyone else gets the refusal's 404."""
    return row(
        anon=401,
        patients=404,
        pros=404,
        agent=404,
        patient=status,
        parent=status,
        care=status,
    )


# MSG-1: the professional's conversation list, one entry per patient listed
IN_CARE_LIST = (1, False)

ROUTES: dict[str, Route] = {
    # --- no health data: public pages, login steps, the schema
    "healthz": Route(PAGE, NO_POST),
    "api-schema": Route(PAGE, NO_POST),
    "api-schema-current": Route(PAGE, NO_POST),
    "espace:home": Route(row(anon=200, patients=302, pros=302, agent=302), NO_POST),
    "espace:login": Route(PAGE, PAGE),  # POST without fields: the form again
    "espace:login-code": Route(
        row(anon=302, pending=200, patients=302, pros=302, agent=302),
        row(anon=302, pending=200, patients=302, pros=302, agent=302),
    ),
    "espace:login-code-email": Route(everyone(405), everyone(302)),
    "espace:login-code-email-entry": Route(everyone(302), everyone(302)),
    # pending is a patient: she uses her e-mailed code, never enrolment
    "espace:totp-enrol": Route(
        row(anon=302, patients=200, pros=200, agent=200),
        row(anon=302, patients=200, pros=200, agent=200),
    ),
    # logging out records the logout (no patient)
    "espace:logout": Route(
        everyone(405),
        everyone(302),
        post_kind="auth",
    ),
    "espace:password-reset": Route(PAGE, PAGE),
    "espace:password-reset-done": Route(PAGE, NO_POST),
    "espace:password-reset-confirm": Route(PAGE, PAGE),  # "lien invalide"
    "espace:password-reset-complete": Route(PAGE, NO_POST),
    "espace-api:me-detail": Route(
        row(anon=401, patients=200, pros=200, agent=200),
        row(anon=401, patients=405, pros=405, agent=405),
    ),
    # journeys (LC-3, LC-4, LC-6, LC-8): public forms, session-bound steps
    "espace:activation": Route(PAGE, PAGE),
    "espace:activation-account": Route(everyone(302), everyone(302)),
    "espace:opposition": Route(PAGE, PAGE),
    "espace:opposition-confirm": Route(everyone(302), everyone(302)),
    "espace:opposition-done": Route(everyone(302), NO_POST),
    "espace:opposition-receipt": Route(everyone(404), NO_POST),
    "espace:new-code": Route(PAGE, PAGE),
    "espace:space-closed-info": Route(PAGE, NO_POST),
    # the holder's own pages (LC-8, LC-10, LC-12): no health data
    "espace:patient-home": Route(patient_page(), NO_POST),
    "espace:inbox": Route(patient_page(), NO_POST),
    "espace:space-close": Route(patient_page(), patient_page()),
    "espace:space-reopen": Route(patient_page(302), patient_page(302)),
    # LC-10: leo is alice's to switch to and share; nobody else's
    "espace:profile-switch": Route(
        NO_POST, patient_object(302, parent=302, former_parent=302)
    ),
    "espace:profile-share": Route(
        patient_object(200, parent=200, former_parent=200),
        patient_object(200, parent=200, former_parent=200),
    ),
    "espace:invitation-accept": Route(NO_POST, patient_page(404)),
    "espace:invitation-refuse": Route(NO_POST, patient_page(404)),
    "espace:pro-home": Route(pro(blocked=200, not_in_care=200, samu=200), NO_POST),
    # --- privacy pages (CONS-2, CONS-4, CONS-5, CONS-6), the active profile
    "consent:professionals": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    "consent:history": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    "consent:history-csv": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    "consent:history-pdf": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    "consent:privacy": Route(
        patient_page(),
        patient_page(302),
        kind="health",
        post_kind="health",
        gate="patient",
        on="profile",
    ),
    "consent:professional-block": Route(
        NO_POST,
        patient_page(400),
        post_kind="health",
        gate="patient",
        on="profile",
        on_400=1,
    ),
    # alice's block of dora and her consent to charlie: hers whoever she asks
    # to act for; another's attempt is a 404 and a refusal entry against
    # alice.
    "consent:professional-unblock": Route(
        NO_POST,
        patient_object(302, parent=404, former_parent=302),
        post_kind="health",
        gate="patient",
        on="alice",
        audits={
            ("post", p): (1, True) for p in ("other_patient", "parent", "other_parent")
        },
    ),
    "consent:care-revoke": Route(
        NO_POST,
        patient_object(302, parent=404, former_parent=302),
        post_kind="health",
        gate="patient",
        on="alice",
        audits={
            ("post", p): (1, True) for p in ("other_patient", "parent", "other_parent")
        },
    ),
    "consent-api:history-list": Route(
        _patient_api(200),
        row(anon=401, patients=405, pros=405, agent=405),
        kind="health",
        gate="patient",
        on="own",
    ),
    "consent-api:block-list": Route(
        _patient_api(200),
        row(anon=401, patients=400, pros=400, agent=400),
        kind="health",
        gate="patient",
        on="own",
    ),
    # DELETE is the method; GET and POST are not allowed
    "consent-api:block-delete": Route(
        row(anon=401, patients=405, pros=405, agent=405),
        row(anon=401, patients=405, pros=405, agent=405),
    ),
    # --- prevention messages (MSG-4, CONS-9), the active profile's: a
    # message is named by its campaign, each profile reading its own copy
    # (alice's, leo's for his parent). eve has none: a 404 and no entry
    # (nothing was read); alice asking for zoe (18 today) reads her own.
    "prevention:list": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    "prevention:detail": Route(
        patient_page(other_patient=404, other_parent=404),
        NO_POST,
        kind="health",
        gate="patient",
        on="profile",
    ),
    # the switch (privacy page) and the message's button: one settings write
    "prevention:preferences": Route(
        NO_POST,
        patient_page(302),
        post_kind="health",
        gate="patient",
        on="profile",
        tagged=False,
    ),
    # --- documents API (SPEC §8)
    "dmp-api:document-list": Route(
        row(anon=401, patients=200, pros=400, agent=404),
        row(anon=401, patients=400, pros=400, agent=400),
        kind="health",
        gate="patient",
        on="own",
    ),
    "dmp-api:document-detail": Route(
        row(
            anon=401,
            patients=404,
            pros=404,
            agent=404,
            patient=200,
            parent=200,
            mt=200,
            care=200,
            nurse=200,
            pharmacist=200,
        ),
        row(anon=401, patients=405, pros=405, agent=405),
        kind="health",
    ),
    "dmp-api:document-download": Route(
        row(
            anon=401,
            patients=404,
            pros=404,
            agent=404,
            patient=200,
            parent=200,
            mt=200,
            care=200,
            nurse=200,
            pharmacist=200,
        ),
        row(anon=401, patients=405, pros=405, agent=405),
        kind="health",
    ),
    # DMP-8: only the patient side masks; professionals are refused
    "dmp-api:document-mask": Route(
        row(anon=401, patients=405, pros=405, agent=405),
        row(anon=401, patients=404, pros=404, agent=404, patient=200, parent=200),
        post_kind="health",
    ),
    "dmp-api:document-mask-all": Route(
        row(anon=401, patients=405, pros=405, agent=405),
        row(anon=401, patients=200, pros=400, agent=404),
        post_kind="health",
        gate="patient",
        on="own",
    ),
    # --- the patient's documents pages (DMP-1, DMP-5, DMP-8)
    "dmp:documents": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    "dmp:document-add": Route(
        patient_page(),
        patient_page(400),
        kind="health",
        post_kind="health",
        gate="patient",
        on="profile",
        on_400=1,
    ),
    "dmp:document-detail": Route(
        patient_object(), NO_POST, kind="health", gate="patient"
    ),
    "dmp:document-preview": Route(
        patient_object() | pro(blocked=404) | {"patient": 200, "parent": 200},
        NO_POST,
        kind="health",
        gate="patient pro",
    ),
    "dmp:document-download": Route(
        patient_object() | pro(blocked=404) | {"patient": 200, "parent": 200},
        NO_POST,
        kind="health",
        gate="patient pro",
    ),
    "dmp:document-mask": Route(
        NO_POST, patient_object(302, parent=302), post_kind="health", gate="patient"
    ),
    "dmp:document-unmask": Route(
        NO_POST, patient_object(302, parent=302), post_kind="health", gate="patient"
    ),
    "dmp:document-delete": Route(
        NO_POST, patient_object(302, parent=302), post_kind="health", gate="patient"
    ),
    "dmp:document-move": Route(
        NO_POST, patient_object(302, parent=302), post_kind="health", gate="patient"
    ),
    "dmp:documents-mask-all": Route(
        NO_POST, patient_page(302), post_kind="health", gate="patient", on="profile"
    ),
    "dmp:documents-unmask-all": Route(
        NO_POST, patient_page(302), post_kind="health", gate="patient", on="profile"
    ),
    "dmp:folder-create": Route(
        NO_POST,
        patient_page(400),
        post_kind="health",
        gate="patient",
        on="profile",
        on_400=1,
    ),
    # another family's folder: a 404 and a refusal entry (dmp.folder.change)
    "dmp:folder-rename": Route(
        NO_POST,
        patient_object(400, parent=400),
        post_kind="health",
        gate="patient",
        on_400=1,
    ),
    "dmp:folder-delete": Route(
        NO_POST,
        patient_object(302, parent=302),
        post_kind="health",
        gate="patient",
    ),
    # --- the medical profile (DMP-6, DMP-7)
    "profil:overview": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    "profil:measures": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    "profil:admin-data": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    # the form itself reads nothing; an invalid form is shown again (400)
    "profil:entry-add": Route(patient_page(), patient_page(400)),
    "profil:entry-edit": Route(
        patient_object(),
        patient_object(400, parent=400),
        kind="health",
        post_kind="health",
        gate="patient",
        on_400=1,
    ),
    "profil:entry-delete": Route(
        patient_object(),
        patient_object(302, parent=302),
        kind="health",
        post_kind="health",
        gate="patient",
    ),
    "profil:entry-history": Route(
        patient_object(), NO_POST, kind="health", gate="patient"
    ),
    "profil:organ-donation": Route(
        NO_POST,
        patient_page(400),
        post_kind="health",
        gate="patient",
        on="profile",
        on_400=1,
    ),
    # two entries: the profile is read, then its copy deposited as a document
    "profil:copy-pdf": Route(
        NO_POST,
        patient_page(302),
        post_kind="health",
        gate="patient",
        on="profile",
        entries=2,
    ),
    # a measure of no known kind: a 400 and the measures page again (read)
    "profil:measure-add": Route(
        NO_POST,
        patient_page(400),
        post_kind="health",
        gate="patient",
        on="profile",
        on_400=1,
    ),
    "profil:measure-delete": Route(
        NO_POST, patient_object(302, parent=302), post_kind="health", gate="patient"
    ),
    # without ?patient=: a 400 once past both factors
    "profil-api:profile-detail": Route(
        row(anon=401, patients=400, pros=400, agent=400),
        row(anon=401, patients=405, pros=405, agent=405),
    ),
    # --- the preventive calendar (AG-1, AG-2), the active profile's: a parent
    # sees their child's, nobody else does; professionals and agents: 404
    "agenda:calendar": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    "agenda:vaccinations": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    # the form reads the calendar (one entry); an empty form is shown again
    "agenda:item-done": Route(
        patient_page(),
        patient_page(400),
        kind="health",
        post_kind="health",
        gate="patient",
        on="profile",
        on_400=1,
    ),
    # undoing an item not marked done is a no-op, audited as a decision
    "agenda:item-undo": Route(
        NO_POST, patient_page(302), post_kind="health", gate="patient", on="profile"
    ),
    "agenda-api:item-list": Route(
        _patient_api(200),
        row(anon=401, patients=405, pros=405, agent=405),
        kind="health",
        gate="patient",
        on="profile",
    ),
    # an empty body: a 400 before anything is read
    "agenda-api:item-done": Route(
        row(anon=401, patients=405, pros=405, agent=405), _patient_api(400)
    ),
    "agenda-api:item-undo": Route(
        row(anon=401, patients=405, pros=405, agent=405),
        _patient_api(204),
        post_kind="health",
        gate="patient",
        on="profile",
    ),
    # --- the professional portal (CONS-1, CONS-6, DMP-4)
    "pro:patient-search": Route(
        pro(blocked=200, not_in_care=200, samu=200),
        pro(400, 400, 400, 400, blocked=400, not_in_care=400, samu=400),
    ),
    "pro:alerts": Route(pro(blocked=200, not_in_care=200, samu=200), NO_POST),
    # found by a search, a patient not in care shows the locked page (with
    # its "declare care" and emergency buttons): 200 and a refusal entry
    # two entries where the matrix opens the synthesis class (11): the
    # documents, then the medical profile shown below them (DMP-6)
    "pro:patient": Route(
        pro(not_in_care=200, samu=200),
        NO_POST,
        kind="health",
        gate="pro",
        audits={
            ("get", "not_in_care"): (1, True),
            ("get", "samu"): (1, True),
            ("get", "mt"): (2, False),
            ("get", "care"): (2, False),
            ("get", "nurse"): (2, False),
            ("get", "pharmacist"): (2, False),
        },
    ),
    "pro:care-declare": Route(
        NO_POST, pro(400, 400, 400, 400, blocked=400, not_in_care=400, samu=400)
    ),
    "pro:emergency": Route(
        pro(blocked=200, not_in_care=200, samu=200),
        pro(400, 400, 400, 400, blocked=400, not_in_care=400, samu=400),
    ),
    # the form reads nothing; who may not deposit: a 404 and a refusal entry
    "pro:document-deposit": Route(
        pro(),
        pro(400, 400, 400, 400),
        kind="health",
        post_kind="health",
        gate="pro",
        audits={(m, p): None for m in ("get", "post") for p in PROS[:4]},
    ),
    # DMP-4: the médecin traitant's only; the others' attempts are refusals
    "pro:yearly-summary": Route(
        pro(200, 404, 404, 404),
        pro(400, 404, 404, 404),
        kind="health",
        post_kind="health",
        gate="pro",
        on_400=1,
    ),
    "pro:document-detail": Route(pro(), NO_POST, kind="health", gate="pro"),
    # charlie's document: he alone replaces or deletes it; a reader who is
    # not its author gets a 404 and a refusal entry (not_author); an invalid
    # form reads nothing
    "pro:document-replace": Route(
        pro(404, 200, 404, 404),
        pro(404, 400, 404, 404),
        kind="health",
        post_kind="health",
        gate="pro",
    ),
    "pro:document-announce": Route(
        NO_POST, pro(302, 302, 404, 404), post_kind="health", gate="pro"
    ),
    "pro:document-delete": Route(
        NO_POST, pro(404, 302, 404, 404), post_kind="health", gate="pro"
    ),
    # --- personal agenda (AG-2, AG-3): the patient side only; a parent has
    # their child's, nobody else; professionals and agents get the 404 of
    # the patient-only gate, before any health data
    "rendezvous:list": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    "rendezvous:month": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    # the form, then an empty POST: a 400 and the attempt on record
    "rendezvous:create": Route(
        patient_page(),
        patient_page(400),
        post_kind="health",
        gate="patient",
        on="profile",
        audits=INVALID_ON_RECORD,
    ),
    "rendezvous:detail": Route(
        patient_object(), NO_POST, kind="health", gate="patient"
    ),
    "rendezvous:edit": Route(
        patient_object(),
        patient_object(400, parent=400),
        kind="health",
        post_kind="health",
        gate="patient",
        audits=INVALID_ON_RECORD,
    ),
    "rendezvous:cancel": Route(
        NO_POST, patient_object(302, parent=302), post_kind="health", gate="patient"
    ),
    # the public directory of professionals: no patient data
    "rendezvous:professional-search": Route(patient_page(), NO_POST),
    # the account's settings: no health data
    "rendezvous:preferences": Route(patient_page(), patient_page(302)),
    "rendezvous:item-reminder": Route(
        NO_POST,
        patient_page(400),
        post_kind="health",
        gate="patient",
        on="profile",
        audits=INVALID_ON_RECORD,
    ),
    "rendezvous:item-reminder-delete": Route(
        NO_POST, patient_object(302, parent=302), post_kind="health", gate="patient"
    ),
    "rendezvous:ics-download": Route(
        patient_page(), NO_POST, kind="health", gate="patient", on="profile"
    ),
    # the feed page: a POST on a profile without a feed creates its address
    # and shows it once (200, kept nowhere); on alice's (she has one), it
    # saves the titles setting (302)
    "rendezvous:feed": Route(
        patient_page(),
        patient_page(200, patient=302, former_parent=302),
        post_kind="health",
        gate="patient",
        on="profile",
    ),
    # alice's private feed: the token is the only key, whoever fetches it;
    # each fetch is one entry against alice, as alice (the feed's owner)
    "rendezvous:feed-ics": Route(
        everyone(200),
        NO_POST,
        kind="health",
        gate="none patient pro agent",
        on="alice",
        tagged=False,
    ),
    "rendezvous-api:appointment-list": Route(
        _patient_api(200),
        _patient_api(400),
        kind="health",
        post_kind="health",
        gate="patient",
        on="own",
        audits=INVALID_ON_RECORD,
    ),
    "rendezvous-api:appointment-detail": Route(
        row(anon=401, patients=404, pros=404, agent=404, patient=200, parent=200),
        row(anon=401, patients=405, pros=405, agent=405),
        kind="health",
        gate="patient pro agent",
    ),
    "rendezvous-api:appointment-cancel": Route(
        row(anon=401, patients=405, pros=405, agent=405),
        row(anon=401, patients=404, pros=404, agent=404, patient=200, parent=200),
        post_kind="health",
    ),
    "rendezvous-api:reminder-preferences": Route(
        row(anon=401, patients=200, pros=200, agent=200),
        row(anon=401, patients=405, pros=405, agent=405),
    ),
    "rendezvous-api:item-reminder-list": Route(
        _patient_api(200),
        _patient_api(400),
        kind="health",
        post_kind="health",
        gate="patient",
        on="own",
        audits=INVALID_ON_RECORD,
    ),
    "rendezvous-api:item-reminder-delete": Route(
        row(anon=401, patients=405, pros=405, agent=405),
        row(anon=401, patients=405, pros=405, agent=405),
    ),
    # --- secure messaging (MSG-1…MSG-3): charlie's conversation with alice,
    # bob's with leo (and one hidden from his parents, CONS-7), bob's with
    # zoe (18 today). Only the conversation's own professional reads it, and
    # only while the patient is in their care: not bob (médecin traitant, not
    # its author), not a blocked professional, not one outside the care, not
    # the SAMU regulator, never an agent.
    # a search is posted (the words never in a URL); an empty one: the list
    "messagerie:conversations": Route(
        patient_page(),
        patient_page(),
        kind="health",
        post_kind="health",
        gate="patient",
        on="profile",
    ),
    # the form lists the professionals open to first messages (identities);
    # an empty form is refused before any decision
    "messagerie:conversation-new": Route(patient_page(), patient_page(400)),
    "messagerie:preferences": Route(
        patient_page(),
        patient_page(302),
        post_kind="health",
        gate="patient",
        on="profile",
    ),
    # an empty reply: the conversation shown again (its read audited), 400
    "messagerie:conversation-detail": Route(
        patient_object(),
        patient_object(400, parent=400),
        kind="health",
        post_kind="health",
        gate="patient",
        on_400=1,
    ),
    "messagerie:conversation-archive": Route(
        NO_POST, patient_object(302, parent=302), post_kind="health", gate="patient"
    ),
    "messagerie:conversation-unarchive": Route(
        NO_POST, patient_object(302, parent=302), post_kind="health", gate="patient"
    ),
    "messagerie:attachment-download": Route(
        patient_object(), NO_POST, kind="health", gate="patient"
    ),
    # no type chosen: the conversation shown again with the error (its read)
    "messagerie:attachment-file": Route(
        NO_POST,
        patient_object(400, parent=400),
        post_kind="health",
        gate="patient",
        on_400=1,
    ),
    # identities, dates and counts only: no DMP content read, no entry
    "pro-messagerie:conversations": Route(
        pro(blocked=200, not_in_care=200, samu=200),
        pro(blocked=200, not_in_care=200, samu=200),
        tagged=False,
        audits={("get", "care"): IN_CARE_LIST, ("post", "care"): IN_CARE_LIST},
    ),
    "pro-messagerie:conversation-new": Route(
        pro(blocked=200, not_in_care=200, samu=200),
        pro(400, 400, 400, 400, blocked=400, not_in_care=400, samu=400),
    ),
    # the professional's own settings: an entry without patient
    "pro-messagerie:settings": Route(
        pro(blocked=200, not_in_care=200, samu=200),
        pro(302, 302, 302, 302, blocked=302, not_in_care=302, samu=302),
        post_kind="auth",
        audits={("post", p): None for p in ("anonymous", "pending", *PATIENTS)}
        | {("post", "agent"): None},
    ),
    "pro-messagerie:conversation-detail": Route(
        pro(404, 200, 404, 404),
        pro(404, 400, 404, 404),
        kind="health",
        post_kind="health",
        gate="pro",
        on_400=1,
    ),
    "pro-messagerie:conversation-close": Route(
        NO_POST, pro(404, 302, 404, 404), post_kind="health", gate="pro"
    ),
    "pro-messagerie:conversation-archive": Route(
        NO_POST, pro(404, 302, 404, 404), post_kind="health", gate="pro"
    ),
    "pro-messagerie:conversation-unarchive": Route(
        NO_POST, pro(404, 302, 404, 404), post_kind="health", gate="pro"
    ),
    "pro-messagerie:attachment-download": Route(
        pro(404, 200, 404, 404), NO_POST, kind="health", gate="pro"
    ),
    # --- messaging API: the holder's own list (a professional's: no entry)
    # a professional's list shows subjects: one entry per patient listed
    # (charlie's conversation with alice), "in_care" as the SQL filter says
    "messagerie-api:conversation-list": Route(
        row(anon=401, patients=200, pros=200, agent=404),
        row(anon=401, patients=405, pros=405, agent=405),
        kind="health",
        gate="patient",
        on="own",
        audits={("get", "care"): IN_CARE_LIST},
    ),
    "messagerie-api:conversation-detail": Route(
        _messaging_api(200),
        row(anon=401, patients=405, pros=405, agent=405),
        kind="health",
    ),
    # an empty body is refused before the conversation is looked up
    "messagerie-api:message-create": Route(
        row(anon=401, patients=405, pros=405, agent=405),
        row(anon=401, patients=400, pros=400, agent=400),
    ),
    "messagerie-api:conversation-read": Route(
        row(anon=401, patients=405, pros=405, agent=405),
        _messaging_api(200),
        post_kind="health",
    ),
    # a form without "archived" reads as false (DRF's HTML checkbox rule):
    # the conversation is brought back from the archives
    "messagerie-api:conversation-archive": Route(
        row(anon=401, patients=405, pros=405, agent=405),
        _messaging_api(200),
        post_kind="health",
    ),
    "messagerie-api:attachment-download": Route(
        _messaging_api(200),
        row(anon=401, patients=405, pros=405, agent=405),
        kind="health",
    ),
}
