"""LC-1: import of Assurance maladie beneficiary files.

The file is a CSV extraction: `;` or `,` separated (sniffed from the header
line), UTF-8 with or without BOM, with the French headers of `COLUMNS` (all
required, in any order; extra columns are ignored). Every row is checked; the
good rows are imported, the bad ones are reported by line number and reason.
Reports never hold a NIR or a name (they are shown in the admin), only line
numbers and reasons.

Set-based (SPEC §10, G-P9): rows go through in batches of `BATCH_SIZE`, one
transaction each; per batch, one query reads the beneficiaries already known,
the new ones are inserted in bulk (`COPY` on PostgreSQL, `bulk_create`
elsewhere, same result), with their spaces, the parents' links and one audit
entry per created or updated beneficiary. A crash half-way leaves whole
batches only, and running the file again finishes the job: importing the same
file twice changes nothing (no write, no history, no audit). The file is read
and checked by a thread one batch ahead of the writes (`_ahead`), so that
Python checks the next rows while PostgreSQL stores the current ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from queue import Full, Queue
from typing import IO, Any, TypeVar

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import Entry, audit_append_bulk
from espace.models import (
    Beneficiary,
    ImportBatch,
    LegalRepresentation,
    Professional,
    Space,
    User,
)
from lib.csvfile import ImportUnreadable, check_utf8, parse_date, seekable
from lib.http import client_address, request_id
from lib.identifiers import (
    compact_nir,
    nir_identity_problems,
    validate_birth_place,
    validate_nir,
)

COLUMNS = (
    "nir",
    "numero_serie_vitale",
    "nom_naissance",
    "prenoms",
    "sexe",
    "date_naissance",
    "lieu_naissance",
    "nom_usage",
    "email",
    "telephone",
    "adresse",
    "code_postal",
    "commune",
    "nir_ouvrant_droit",
    "medecin_traitant_rpps",
    "dmp_anterieur",
)

# The Beneficiary fields a file sets, in the order of `_Row.values`; the file
# is the reference for all of them (an empty cell empties the field).
FIELDS = (
    "vitale_serial",
    "birth_name",
    "first_names",
    "sex",
    "birth_date",
    "birth_place_code",
    "usual_name",
    "email",
    "phone",
    "address",
    "postal_code",
    "city",
    "medecin_traitant_id",
)

BATCH_SIZE = 5_000
ADULT_AGE = relativedelta(years=18)
# Serialises imports against one another on PostgreSQL, so that the rows a
# batch found missing are still missing when it inserts them.
_IMPORT_LOCK = 0x4D45_534C_4331  # "MESLC1"

_NIR_PLAIN = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}")
_PHONE_SEPARATORS = re.compile(r"[ .\-()]")
# Metropolitan (0X…, +33 X…) and overseas (+262, +590 …) numbers.
_PHONE = re.compile(
    r"(?:0|\+33|0033)[1-9][0-9]{8}|\+(?:262|269|508|590|594|596|681|687|689)[0-9]{6,9}"
)
_POSTAL_CODE = re.compile(r"[0-9]{5}")
# The common case of lib.identifiers.validate_birth_place (which has the
# final word: it also accepts other Unicode digits).
_PLACE = re.compile(r"[0-9]{5}|2[AB][0-9]{3}")
_RPPS = re.compile(r"[0-9]{11}")
_SEX = {"M": "M", "F": "F", "1": "M", "2": "F"}
_LEGACY_DMP = {"oui": True, "non": False, "": False}


class _EmailValidator(EmailValidator):
    """Django's own rules, with the domain verdict cached: a file holds
    millions of addresses but a few thousand domains."""

    def __init__(self) -> None:
        super().__init__()
        self._domains: dict[str, bool] = {}
        # Django's patterns are lazy objects: every use goes through a proxy.
        lazy = self.user_regex
        self.user_regex = re.compile(lazy.pattern, lazy.flags)

    def validate_domain_part(self, domain_part: str) -> bool:
        known = self._domains.get(domain_part)
        if known is None:
            known = bool(super().validate_domain_part(domain_part))
            if len(self._domains) < 100_000:
                self._domains[domain_part] = known
        return known


@dataclass(slots=True)
class _Row:
    line: int
    nir: str  # compact, "" when the NIR itself is invalid
    problems: list[str]
    values: tuple[Any, ...] = ()  # FIELDS without medecin_traitant_id
    rpps: str = ""
    parent_nir: str = ""  # the ouvrant droit, for a minor only
    legacy_dmp: bool = False
    medecin_id: int | None = None


@dataclass
class _Known:
    """A beneficiary already in the database."""

    pk: int
    values: tuple[Any, ...]  # FIELDS
    space_id: int | None
    space_state: str | None
    space_legacy_dmp: bool | None


@dataclass
class _Counts:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    report: list[tuple[int, str]] = field(default_factory=list)

    def reject(self, line: int, problems: Iterable[str]) -> None:
        self.rejected += 1
        self.report.append((line, " ".join(problems)))


# ---------------------------------------------------------------- the service


def beneficiaries_import(
    *,
    actor: User | None,
    file_name: str,
    stream: IO[bytes],
    request: HttpRequest | None = None,
) -> ImportBatch:
    """LC-1: import a beneficiary file; return its ImportBatch and report.

    Not one transaction (a million rows would hold locks for minutes): one per
    batch, and a re-run is harmless. A file that cannot be read (not UTF-8,
    empty, required headers missing) imports nothing and ends FAILED; any
    other error also marks the batch FAILED, then propagates.
    """
    batch = ImportBatch.objects.create(file_name=file_name[-255:], uploaded_by=actor)
    run = _Import(batch=batch, actor=actor, request=request)
    try:
        run.read(stream)
    except ImportUnreadable as exc:
        run.counts.report = [(exc.line, exc.reason)]
        run.save(ImportBatch.Status.FAILED)
        return batch
    except BaseException:
        run.counts.report.append(
            (
                run.line,
                _(
                    "Import interrompu par une erreur interne : relancez-le "
                    "(les lignes déjà importées ne seront pas dupliquées)."
                ),
            )
        )
        run.save(ImportBatch.Status.FAILED)
        raise
    run.save(ImportBatch.Status.DONE)
    return batch


# ---------------------------------------------------------------- reading


def _header(text: IO[str]) -> tuple[str, list[str]]:
    """The delimiter (`;` or `,`, whichever the header line uses) and the
    header's column names."""
    line = text.readline()
    if not line.strip():
        raise ImportUnreadable(_("Le fichier est vide ou sa première ligne l'est."))
    delimiter = ";" if line.count(";") >= line.count(",") else ","
    cells = next(csv.reader([line], delimiter=delimiter))
    names = [name.strip().lower() for name in cells]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise ImportUnreadable(
            _("Colonnes obligatoires absentes de l'en-tête : %(columns)s.")
            % {"columns": ", ".join(missing)}
        )
    doubled = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
    if doubled:
        raise ImportUnreadable(
            _("Colonnes en double dans l'en-tête : %(columns)s.")
            % {"columns": ", ".join(doubled)}
        )
    return delimiter, names


def _rows(text: IO[str], delimiter: str) -> Iterator[tuple[int, list[str] | None]]:
    """(line number, cells) per record; cells None for a line csv cannot parse.
    Line numbers are the file's: the header is line 1."""
    reader = csv.reader(text, delimiter=delimiter)
    while True:
        start = reader.line_num + 2  # a quoted cell may span several lines
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start, None
            continue
        if cells:
            yield start, cells


_T = TypeVar("_T")
_DONE = object()


def _ahead(items: Iterator[_T], depth: int = 2) -> Iterator[_T]:
    """`items`, produced by a background thread up to `depth` ahead.

    Reading and checking the next batch (pure Python) overlaps with writing
    this one, during which Python mostly waits for PostgreSQL (COPY, index
    and foreign-key work, commit). An error in the producer is raised here;
    leaving the loop early stops the producer.
    """
    queue: Queue[Any] = Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        with translation.override(language):
            try:
                for item in items:
                    if not put(item):
                        return
                put(_DONE)
            except BaseException as exc:  # handed over to the consumer
                put(exc)

    producer = threading.Thread(target=produce, name="import-reader", daemon=True)
    producer.start()
    try:
        while (item := queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join()


# ---------------------------------------------------------------- checking


class _Checker:
    """Checks one row with no database access (the rest is per batch)."""

    def __init__(self, names: list[str], today: dt.date) -> None:
        self.width = len(names)
        self.pick = itemgetter(*(names.index(column) for column in COLUMNS))
        self.today = today
        self.adult_born_by = today - ADULT_AGE
        self.email = _EmailValidator()

    def check(self, line: int, cells: list[str] | None) -> _Row | None:
        """The row, with its problems; None for a blank line.

        The common case (a clean row) is decided here in one expression;
        anything else goes to `explain`, which has the final word and says
        why. This one only accepts what `explain` would accept, unchanged.
        """
        if cells is None or len(cells) != self.width:
            return self.explain(line, cells)
        values = tuple(map(str.strip, self.pick(cells)))
        (
            nir,
            vitale,
            birth_name,
            first_names,
            sex,
            birth_date,
            place,
            usual_name,
            email,
            phone,
            address,
            postal_code,
            city,
            parent,
            rpps,
            legacy,
        ) = values
        sex_code = _SEX.get(sex)
        legacy_dmp = _LEGACY_DMP.get(legacy)
        born = parse_date(birth_date)
        if (
            sex_code is not None
            and legacy_dmp is not None
            and born is not None
            and born <= self.today
            and _NIR_PLAIN.fullmatch(nir)
            and _nir_key_ok(nir)
            and _nir_matches(nir, sex_code, born)
            and _PLACE.fullmatch(place)
            and 0 < len(birth_name) <= 100
            and 0 < len(first_names) <= 200
            and len(usual_name) <= 100
            and len(vitale) <= 20
            and len(address) <= 200
            and len(city) <= 100
            and (not email or self.email_ok(email))
            and (not phone or _PHONE.fullmatch(phone))
            and (not postal_code or _POSTAL_CODE.fullmatch(postal_code))
            and (not rpps or _RPPS.fullmatch(rpps))
        ):
            if parent:
                if born <= self.adult_born_by:
                    parent = ""  # an adult: see `explain`
                elif (
                    not _NIR_PLAIN.fullmatch(parent)
                    or not _nir_key_ok(parent)
                    or parent == nir
                ):
                    return self.explain(line, cells)
            return _Row(
                line,
                nir,
                [],
                (
                    vitale,
                    birth_name,
                    first_names,
                    sex_code,
                    born,
                    place,
                    usual_name,
                    email,
                    phone,
                    address,
                    postal_code,
                    city,
                ),
                rpps,
                parent,
                legacy_dmp,
            )
        return self.explain(line, cells)

    def email_ok(self, value: str) -> bool:
        if len(value) > 254:  # the model field's limit
            return False
        try:
            self.email(value)
        except ValidationError:
            return False
        return True

    def explain(self, line: int, cells: list[str] | None) -> _Row | None:
        """Check a row the long way: normalise what can be (lower case,
        spaces in a NIR or a phone number), and give every reason to reject."""
        if cells is None:
            return _Row(line, "", [_("Ligne illisible (guillemets mal fermés ?).")])
        width = self.width
        if len(cells) != width and (
            len(cells) < width or any(c.strip() for c in cells[width:])
        ):
            if not any(c.strip() for c in cells):
                return None  # a blank record (";;;;"): nothing to import
            return _Row(
                line,
                "",
                [
                    _("La ligne compte %(found)s colonnes au lieu de %(expected)s.")
                    % {"found": len(cells), "expected": width}
                ],
            )
        (
            nir,
            vitale,
            birth_name,
            first_names,
            sex,
            birth_date,
            place,
            usual_name,
            email,
            phone,
            address,
            postal_code,
            city,
            parent,
            rpps,
            legacy,
        ) = map(str.strip, self.pick(cells))
        if not any(c.strip() for c in cells):
            return None  # a blank record (";;;;"): nothing to import
        problems: list[str] = []

        nir = _nir(nir, problems)
        sex_code = _SEX.get(sex.upper())
        if sex_code is None:
            problems.append(
                _("Le sexe est manquant.")
                if not sex
                else _("Le sexe est invalide : M, F, 1 ou 2 attendu.")
            )
        born = parse_date(birth_date)
        if born is None:
            problems.append(
                _("La date de naissance est manquante.")
                if not birth_date
                else _(
                    "La date de naissance est invalide : AAAA-MM-JJ ou "
                    "JJ/MM/AAAA attendu."
                )
            )
        elif born > self.today:
            problems.append(_("La date de naissance est dans le futur."))
        if nir and sex_code and born:
            problems.extend(nir_identity_problems(nir, sex=sex_code, birth_date=born))

        place = place.upper()
        try:
            validate_birth_place(place)
        except ValidationError as exc:
            problems.extend(exc.messages)
        _text(birth_name, 100, problems, "nom_naissance", required=True)
        _text(first_names, 200, problems, "prenoms", required=True)
        _text(usual_name, 100, problems, "nom_usage")
        _text(vitale, 20, problems, "numero_serie_vitale")
        _text(address, 200, problems, "adresse")
        _text(city, 100, problems, "commune")
        if email and not self.email_ok(email):
            problems.append(_("L'adresse électronique est invalide."))
        if phone:
            phone = _PHONE_SEPARATORS.sub("", phone)
            if not _PHONE.fullmatch(phone):
                problems.append(_("Le numéro de téléphone est invalide."))
        if postal_code and not _POSTAL_CODE.fullmatch(postal_code):
            problems.append(_("Le code postal est invalide : 5 chiffres attendus."))
        if rpps and not _RPPS.fullmatch(rpps):
            problems.append(
                _("Le RPPS du médecin traitant est invalide : 11 chiffres attendus.")
            )
        legacy_dmp = _LEGACY_DMP.get(legacy.lower())
        if legacy_dmp is None:
            problems.append(
                _("dmp_anterieur est invalide : « oui », « non » ou vide attendu.")
            )
        # LC-10: the ouvrant droit manages a minor's space. For an adult (an
        # ayant droit who is a student, say) the column is ignored: they
        # manage their own space.
        if parent and born and born > self.adult_born_by:
            parent = _nir(parent, problems, parent=True)
            if parent and parent == nir:
                problems.append(
                    _("L'ouvrant droit ne peut pas être le bénéficiaire lui-même.")
                )
        else:
            parent = ""
        if problems:
            return _Row(line, nir, problems)
        return _Row(
            line,
            nir,
            problems,
            (
                vitale,
                birth_name,
                first_names,
                sex_code,
                born,
                place,
                usual_name,
                email,
                phone,
                address,
                postal_code,
                city,
            ),
            rpps,
            parent,
            bool(legacy_dmp),
        )


def _nir_key_ok(nir: str) -> bool:
    """The key of a NIR that matched _NIR_PLAIN (2A/2B: 19/18, reference §1.1)."""
    first13 = nir[:13]
    if first13[5] == "2" and first13[6] in "AB":
        first13 = first13[:5] + ("19" if first13[6] == "A" else "18") + first13[7:]
    return 97 - int(first13) % 97 == int(nir[13:])


def _nir(value: str, problems: list[str], *, parent: bool = False) -> str:
    """The compact NIR, or "" after recording why it is not one (the common
    case, 15 plain characters with the right key, skips python-stdnum)."""
    if _NIR_PLAIN.fullmatch(value) and _nir_key_ok(value):
        return value
    if not value:
        problems.append(_("Le NIR est manquant."))
        return ""
    try:
        validate_nir(value)
    except ValidationError as exc:
        if parent:
            problems.append(
                _("Le NIR de l'ouvrant droit (nir_ouvrant_droit) est invalide.")
            )
        else:
            problems.extend(exc.messages)
        return ""
    return compact_nir(value)


def _nir_matches(nir: str, sex: str, born: dt.date) -> bool:
    """nir_identity_problems(...) == [], without its cost on the common case."""
    if nir[0] in "12" and (nir[0] == "1") != (sex == "M"):
        return False
    if int(nir[1:3]) != born.year % 100:
        return False
    month = int(nir[3:5])
    return not 1 <= month <= 12 or month == born.month


def _text(
    value: str, limit: int, problems: list[str], column: str, *, required: bool = False
) -> None:
    if required and not value:
        problems.append(
            _("La colonne %(column)s est obligatoire.") % {"column": column}
        )
    elif len(value) > limit:
        problems.append(
            _("La colonne %(column)s dépasse %(limit)s caractères.")
            % {"column": column, "limit": limit}
        )


# ---------------------------------------------------------------- the run


class _Import:
    def __init__(
        self, *, batch: ImportBatch, actor: User | None, request: HttpRequest | None
    ) -> None:
        self.batch = batch
        self.actor = actor
        self.request = request
        self.counts = _Counts()
        self.line = 1
        # First line of every NIR met so far: positive once that row is in
        # the database, negative while rejected or waiting for its parent.
        self.seen: dict[str, int] = {}
        self.deferred: list[_Row] = []  # minors whose parent comes later
        self.doctors: dict[str, int | str] = {}  # RPPS -> id, or why not
        self.writer = (
            _PostgresWriter() if connection.vendor == "postgresql" else _Writer()
        )

    # -- driving

    def read(self, stream: IO[bytes]) -> None:
        stream = seekable(stream)
        check_utf8(stream)
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        try:
            delimiter, names = _header(text)
            checker = _Checker(names, timezone.localdate())
            for rows, rejected in _ahead(self.checked(text, delimiter, checker)):
                for line, problems in rejected:
                    self.counts.reject(line, problems)
                self.flush(rows)
            self.finish_deferred()
        finally:
            text.detach()

    def checked(
        self, text: IO[str], delimiter: str, checker: _Checker
    ) -> Iterator[tuple[list[_Row], list[tuple[int, list[str]]]]]:
        """Batches of rows that passed every check needing no database, each
        with the rows rejected on the way (line, reasons). Runs ahead of the
        writes in its own thread (`_ahead`): it touches no database and no
        counter, only `seen`, whose single operations are atomic."""
        pending: list[_Row] = []
        rejected: list[tuple[int, list[str]]] = []
        for line, cells in _rows(text, delimiter):
            row = checker.check(line, cells)
            if row is None:
                continue
            if row.nir:
                first = self.seen.setdefault(row.nir, -line)
                if first != -line:
                    row.problems.append(
                        _("Doublon du NIR de la ligne %(line)s.") % {"line": abs(first)}
                    )
            if row.problems:
                rejected.append((line, row.problems))
                continue
            pending.append(row)
            if len(pending) >= BATCH_SIZE:
                yield pending, rejected
                pending, rejected = [], []
        yield pending, rejected

    def finish_deferred(self) -> None:
        """Minors met before their parent: retry once the file is read, in
        rounds (a parent may itself have waited for its own), then reject
        those whose parent is still unknown."""
        while self.deferred:
            waiting, self.deferred = self.deferred, []
            for start in range(0, len(waiting), BATCH_SIZE):
                self.flush(waiting[start : start + BATCH_SIZE])
            if len(self.deferred) == len(waiting):
                for row in self.deferred:
                    self.counts.reject(row.line, [_unknown_parent()])
                self.deferred = []

    def save(self, status: str) -> None:
        counts = self.counts
        counts.report.sort(key=itemgetter(0))
        batch = self.batch
        batch.status = status
        batch.finished_at = timezone.now()
        batch.imported = counts.imported
        batch.updated = counts.updated
        batch.unchanged = counts.unchanged
        batch.rejected = counts.rejected
        batch.report = [
            {"line": line, "reason": reason} for line, reason in counts.report
        ]
        batch.save()

    # -- one batch

    def flush(self, rows: list[_Row]) -> None:
        """One batch, one transaction: the checks that need the database,
        then the writes. Minors whose parent is not known yet wait."""
        if not rows:
            return
        self.line = rows[0].line
        with transaction.atomic():
            self.writer.begin()
            rows = self._with_doctors(rows)
            known = self.writer.known(
                {row.nir for row in rows} | ({row.parent_nir for row in rows} - {""})
            )
            ready, waiting = self._with_parents(rows, known)
            self.deferred.extend(waiting)
            self._write(ready, known)
            ImportBatch.objects.filter(pk=self.batch.pk).update(
                imported=self.counts.imported,
                updated=self.counts.updated,
                unchanged=self.counts.unchanged,
                rejected=self.counts.rejected,
            )

    def _with_doctors(self, rows: list[_Row]) -> list[_Row]:
        """Resolve médecins traitants (RPPS → Professional): an unknown RPPS,
        or one that is not a doctor's, rejects the row."""
        wanted = {row.rpps for row in rows if row.rpps} - set(self.doctors)
        if wanted:
            for pk, rpps, profession in Professional.objects.filter(
                rpps__in=wanted
            ).values_list("pk", "rpps", "profession"):
                self.doctors[rpps] = (
                    pk
                    if profession == Professional.Profession.MEDECIN
                    else _("Le RPPS du médecin traitant n'est pas celui d'un médecin.")
                )
            for rpps in wanted - set(self.doctors):
                self.doctors[rpps] = _(
                    "Médecin traitant inconnu : aucun professionnel n'a ce RPPS."
                )
        kept = []
        for row in rows:
            if row.rpps:
                doctor = self.doctors[row.rpps]
                if isinstance(doctor, str):
                    self.counts.reject(row.line, [doctor])
                    continue
                row.medecin_id = doctor
            kept.append(row)
        return kept

    def _with_parents(
        self, rows: list[_Row], known: dict[str, _Known]
    ) -> tuple[list[_Row], list[_Row]]:
        """Rows that can go in now, and minors whose parent is neither in the
        database nor (yet) accepted from this file."""
        seen = self.seen
        ready = [row for row in rows if not row.parent_nir]
        for row in ready:
            seen[row.nir] = row.line
        waiting = [row for row in rows if row.parent_nir]
        while waiting:
            still = []
            for row in waiting:
                if row.parent_nir in known or seen.get(row.parent_nir, 0) > 0:
                    seen[row.nir] = row.line
                    ready.append(row)
                else:
                    still.append(row)
            if len(still) == len(waiting):
                break
            waiting = still
        return ready, waiting

    def _write(self, rows: list[_Row], known: dict[str, _Known]) -> None:
        writer = self.writer
        new: list[_Row] = []
        changed: list[tuple[int, tuple[Any, ...]]] = []
        changed_pks: set[int] = set()
        legacy: list[tuple[int, bool]] = []
        spaces: list[tuple[int, bool]] = []
        pk_of: dict[str, int] = {nir: k.pk for nir, k in known.items()}
        for row in rows:
            values = (*row.values, row.medecin_id)
            old = known.get(row.nir)
            if old is None:
                new.append(row)
                continue
            if values != old.values:
                changed.append((old.pk, values))
                changed_pks.add(old.pk)
            if old.space_id is None:
                spaces.append((old.pk, row.legacy_dmp))
                changed_pks.add(old.pk)
            elif (
                old.space_state == Space.State.PENDING
                and old.space_legacy_dmp != row.legacy_dmp
            ):
                # LC-11: the information letter is not sent yet; it must say
                # whether a former DMP is being integrated.
                legacy.append((old.space_id, row.legacy_dmp))
                changed_pks.add(old.pk)

        new_pks = writer.insert_beneficiaries(
            [(row.nir, (*row.values, row.medecin_id)) for row in new]
        )
        for row, pk in zip(new, new_pks, strict=True):
            pk_of[row.nir] = pk
            spaces.append((pk, row.legacy_dmp))
        writer.insert_spaces(spaces)
        writer.update_beneficiaries(changed)
        writer.update_legacy(legacy)

        links = [
            (pk_of[row.parent_nir], pk_of[row.nir]) for row in rows if row.parent_nir
        ]
        created = set(new_pks)
        existing_minors = [minor for _parent, minor in links if minor not in created]
        if existing_minors:
            present = writer.links_of(existing_minors)
            links = [link for link in links if link not in present]
            changed_pks.update(minor for _parent, minor in links)
        writer.insert_links(links)

        updated = changed_pks - created
        self.counts.imported += len(new_pks)
        self.counts.updated += len(updated)
        self.counts.unchanged += len(rows) - len(new_pks) - len(updated)
        self._audit(new_pks, updated)

    def _audit(self, created: Sequence[int], updated: Iterable[int]) -> None:
        """One entry per created or updated beneficiary, last in the batch
        transaction, so that the audit chain's lock is held briefly."""
        actor = self.actor
        common: dict[str, Any] = {
            "target_type": Beneficiary._meta.label_lower,
            "actor_id": actor.pk if actor is not None else None,
            "actor_role": str(actor.role) if actor is not None else "system",
            "remote_addr": client_address(self.request) or None,
            "request_id": request_id(self.request),
        }
        entries = [
            Entry(
                action=AuditEvent.Action.CREATE,
                target_id=str(pk),
                patient_id=pk,
                code="lc1.imported",
                **common,
            )
            for pk in created
        ]
        entries += [
            Entry(
                action=AuditEvent.Action.UPDATE,
                target_id=str(pk),
                patient_id=pk,
                code="lc1.updated",
                **common,
            )
            for pk in sorted(updated)
        ]
        if entries:
            audit_append_bulk(entries)


def _unknown_parent() -> str:
    return _(
        "Parent inconnu : l'ouvrant droit n'est ni dans le fichier ni déjà "
        "bénéficiaire."
    )


# ---------------------------------------------------------------- writing


class _Writer:
    """Batch reads and writes through the ORM (SQLite, the embedded default)."""

    def begin(self) -> None:
        """First thing in each batch transaction. SQLite transactions are
        IMMEDIATE (settings): already one writer at a time."""

    def known(self, nirs: set[str]) -> dict[str, _Known]:
        rows = Beneficiary.objects.filter(nir__in=nirs).values_list(
            "nir", "pk", *FIELDS, "space__pk", "space__state", "space__legacy_dmp"
        )
        width = len(FIELDS)
        return {
            row[0]: _Known(row[1], tuple(row[2 : 2 + width]), row[-3], row[-2], row[-1])
            for row in rows
        }

    def insert_beneficiaries(
        self, rows: list[tuple[str, tuple[Any, ...]]]
    ) -> list[int]:
        created = Beneficiary.objects.bulk_create(
            [
                Beneficiary(nir=nir, **dict(zip(FIELDS, values, strict=True)))
                for nir, values in rows
            ],
            batch_size=1000,
        )
        return [b.pk for b in created]

    def insert_spaces(self, rows: list[tuple[int, bool]]) -> None:
        Space.objects.bulk_create(
            [Space(beneficiary_id=pk, legacy_dmp=legacy) for pk, legacy in rows],
            batch_size=1000,
        )

    def update_beneficiaries(self, rows: list[tuple[int, tuple[Any, ...]]]) -> None:
        if rows:
            Beneficiary.objects.bulk_update(
                [
                    Beneficiary(pk=pk, **dict(zip(FIELDS, values, strict=True)))
                    for pk, values in rows
                ],
                FIELDS,
                batch_size=500,
            )

    def update_legacy(self, rows: list[tuple[int, bool]]) -> None:
        for flag in (True, False):
            pks = [pk for pk, legacy in rows if legacy is flag]
            if pks:
                Space.objects.filter(pk__in=pks).update(
                    legacy_dmp=flag, updated_at=timezone.now()
                )

    def links_of(self, minors: list[int]) -> set[tuple[int, int]]:
        return set(
            LegalRepresentation.objects.filter(minor_id__in=minors).values_list(
                "representative_id", "minor_id"
            )
        )

    def insert_links(self, links: list[tuple[int, int]]) -> None:
        LegalRepresentation.objects.bulk_create(
            [
                LegalRepresentation(
                    representative_id=parent,
                    minor_id=minor,
                    status=LegalRepresentation.Status.ACTIVE,
                )
                for parent, minor in links
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )


def _copy_columns(
    model: type[models.Model], given: Sequence[str], now: dt.datetime
) -> tuple[list[str], tuple[Any, ...]]:
    """The columns of a COPY into `model`: the `given` ones first, then every
    other concrete field with its default (auto_now fields: `now`)."""
    columns = [_column(model, name) for name in given]
    rest: list[str] = []
    defaults = []
    for f in model._meta.concrete_fields:
        if f.column in columns or f.primary_key or f.column is None:
            continue
        rest.append(f.column)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults.append(_copy_text(now))
        else:
            defaults.append(_copy_text(f.get_default()))
    return columns + rest, tuple(defaults)


def _column(model: type[models.Model], name: str) -> str:
    f = model._meta.get_field(name)
    assert isinstance(f, models.Field) and f.column
    return str(f.column)


def _copy_text(value: object) -> str | None:
    """COPY's text form: psycopg writes strings much faster than it adapts
    dates, numbers and booleans one by one."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    return str(value)


_BIRTH_DATE = FIELDS.index("birth_date")
_MEDECIN = FIELDS.index("medecin_traitant_id")


def _copy_values(values: tuple[Any, ...]) -> list[Any]:
    out = list(values)
    out[_BIRTH_DATE] = out[_BIRTH_DATE].isoformat()
    if out[_MEDECIN] is not None:
        out[_MEDECIN] = str(out[_MEDECIN])
    return out


def _array(values: Iterable[object]) -> str:
    """A PostgreSQL array literal of NIRs or ids (digits and A/B only: nothing
    to quote). One text parameter instead of thousands to adapt."""
    return "{" + ",".join(map(str, values)) + "}"


class _PostgresWriter(_Writer):
    """The same reads and writes with COPY and array parameters, which is what
    makes a million rows take seconds (G-P9). The results match `_Writer`."""

    def begin(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK])
            # Looking up thousands of NIRs (or minors) at once, the planner
            # prefers to scan the whole table: a cost that grows with the
            # table, so quadratic over a big file. For this transaction only,
            # the indexes must be used.
            cursor.execute("SET LOCAL enable_seqscan = off")

    def known(self, nirs: set[str]) -> dict[str, _Known]:
        b = Beneficiary._meta
        s = Space._meta
        fields = ", ".join(f"b.{_column(Beneficiary, name)}" for name in FIELDS)
        # LATERAL: one index probe per beneficiary found, whatever the
        # planner believes about the size of the space table.
        sql = (
            f"SELECT b.nir, b.id, {fields}, s.id, s.state, s.legacy_dmp "  # noqa: S608 - model names
            f"FROM {b.db_table} b LEFT JOIN LATERAL (SELECT id, state, legacy_dmp "
            f"FROM {s.db_table} WHERE beneficiary_id = b.id LIMIT 1) s ON TRUE "
            "WHERE b.nir = ANY(%s::text[])"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [_array(nirs)])
            rows = cursor.fetchall()
        width = len(FIELDS)
        return {
            row[0]: _Known(row[1], tuple(row[2 : 2 + width]), row[-3], row[-2], row[-1])
            for row in rows
        }

    def _copy(
        self,
        model: type[models.Model],
        columns: list[str],
        rows: Iterable[tuple[Any, ...]],
    ) -> None:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)

    def insert_beneficiaries(
        self, rows: list[tuple[str, tuple[Any, ...]]]
    ) -> list[int]:
        """Ids drawn from the sequence first, then one COPY: under the import
        lock (`begin`), the NIRs `known` found missing are still missing."""
        if not rows:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                "FROM generate_series(1, %s)",
                [Beneficiary._meta.db_table, len(rows)],
            )
            pks = [pk for (pk,) in cursor.fetchall()]
        columns, rest = _copy_columns(
            Beneficiary, ("id", "nir", *FIELDS), timezone.now()
        )
        self._copy(
            Beneficiary,
            columns,
            (
                (str(pk), nir, *_copy_values(values), *rest)
                for pk, (nir, values) in zip(pks, rows, strict=True)
            ),
        )
        return pks

    def insert_spaces(self, rows: list[tuple[int, bool]]) -> None:
        if rows:
            columns, rest = _copy_columns(
                Space, ("beneficiary", "legacy_dmp"), timezone.now()
            )
            self._copy(
                Space,
                columns,
                ((str(pk), "t" if legacy else "f", *rest) for pk, legacy in rows),
            )

    def links_of(self, minors: list[int]) -> set[tuple[int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT representative_id, minor_id FROM "  # noqa: S608 - model name
                f"{LegalRepresentation._meta.db_table} "
                "WHERE minor_id = ANY(%s::bigint[])",
                [_array(minors)],
            )
            return {(parent, minor) for parent, minor in cursor.fetchall()}

    def insert_links(self, links: list[tuple[int, int]]) -> None:
        if not links:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {LegalRepresentation._meta.db_table} "  # noqa: S608 - model name
                "(representative_id, minor_id, status, created_at) "
                "SELECT r, m, %s, %s FROM unnest(%s::bigint[], %s::bigint[]) "
                "AS t(r, m) ON CONFLICT DO NOTHING",
                [
                    LegalRepresentation.Status.ACTIVE.value,
                    timezone.now(),
                    _array(parent for parent, _minor in links),
                    _array(minor for _parent, minor in links),
                ],
            )
