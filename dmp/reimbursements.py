"""DMP-7, DMP-10: import of the reimbursement history from Assurance maladie.

The file is a CSV extraction, `;` separated, UTF-8 with or without BOM, with
the header `nir;date_soins;code_acte;libelle;montant_rembourse;professionnel;
secret_mineur;identifiant` (any order; extra columns are ignored). Every row
is checked: good rows are imported, bad ones are reported with their line
number and a reason (never a NIR nor a label: the report is shown to agents,
who never see health data).

- Idempotent: `identifiant` is the act's id in Assurance maladie's system; an
  act already imported is left as it is, so importing a file twice changes
  nothing.
- DMP-10 (R1111-33): an act under the minor's secret (`secret_mineur=oui`)
  is never imported, and one imported earlier, before the minor objected,
  is withdrawn.
- Only beneficiaries whose space is open get reimbursement data.
- Set-based (SPEC §10): rows go by batches of `BATCH_SIZE`, one transaction
  each, with one query for the beneficiaries, one for the acts already
  known, one bulk insert, and one audit entry per beneficiary whose history
  changed. A file that cannot be read at all (not UTF-8, empty, header
  incomplete) imports nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import Entry, audit_append_bulk
from dmp.models import Reimbursement
from espace.models import Beneficiary, Space, User
from lib.csvfile import ImportUnreadable, check_utf8, parse_date, seekable
from lib.identifiers import compact_nir, validate_nir

COLUMNS = (
    "nir",
    "date_soins",
    "code_acte",
    "libelle",
    "montant_rembourse",
    "professionnel",
    "secret_mineur",
    "identifiant",
)
BATCH_SIZE = 5_000
MAX_AMOUNT = Decimal("9999999.99")
_IMPORT_LOCK = 0x4D45_5344_4D37  # "MESDM7"

_ACT_CODE = re.compile(r"[A-Za-z0-9.+*/-]{1,16}")
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_AMOUNT = re.compile(r"[0-9]{1,7}(?:[.,][0-9]{1,2})?")
_SECRET = {"oui": True, "non": False, "": False}


@dataclass
class ImportReport:
    imported: int = 0
    unchanged: int = 0  # already imported (same identifiant)
    secret: int = 0  # DMP-10: not imported
    withdrawn: int = 0  # DMP-10: imported before the minor objected
    rejected: int = 0
    lines: list[tuple[int, str]] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        self.lines.append((line, reason))


@dataclass(slots=True)
class _Row:
    line: int
    nir: str
    identifier: str
    care_date: dt.date
    act_code: str
    label: str
    amount: Decimal
    professional: str
    secret: bool


# ---------------------------------------------------------------- the service


def reimbursements_import(
    *, stream: IO[bytes], actor: User | None = None
) -> ImportReport:
    """DMP-7: import a reimbursement file; return its line-by-line report.

    Raises ImportUnreadable (nothing imported) when the file cannot be read.
    """
    stream = seekable(stream)
    check_utf8(stream)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    report = ImportReport()
    columns = _header(text)
    seen: dict[str, int] = {}  # identifiant -> first line, for duplicates
    batch: list[_Row] = []
    for row in _checked_rows(text, columns, report, seen):
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            _store(batch, report, actor)
            batch = []
    if batch:
        _store(batch, report, actor)
    report.lines.sort()
    return report


# ---------------------------------------------------------------- reading


def _header(text: IO[str]) -> list[str]:
    line = text.readline()
    if not line.strip():
        raise ImportUnreadable(_("Le fichier est vide ou sa première ligne l'est."))
    names = [name.strip().lower() for name in next(csv.reader([line], delimiter=";"))]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise ImportUnreadable(
            _(
                "Colonnes obligatoires absentes de l'en-tête (séparateur « ; ») : "
                "%(columns)s."
            )
            % {"columns": ", ".join(missing)}
        )
    doubled = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
    if doubled:
        raise ImportUnreadable(
            _("Colonnes en double dans l'en-tête : %(columns)s.")
            % {"columns": ", ".join(doubled)}
        )
    return names


def _records(text: IO[str]) -> Iterator[tuple[int, list[str] | None]]:
    """(line number, cells); cells None for a line csv cannot parse. The
    header is line 1."""
    reader = csv.reader(text, delimiter=";")
    while True:
        start = reader.line_num + 2
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start, None
            continue
        if any(cell.strip() for cell in cells):
            yield start, cells


def _checked_rows(
    text: IO[str], columns: list[str], report: ImportReport, seen: dict[str, int]
) -> Iterator[_Row]:
    position = {column: columns.index(column) for column in COLUMNS}
    today = timezone.localdate()
    for line, cells in _records(text):
        if cells is None or len(cells) != len(columns):
            report.reject(
                line,
                _("Ligne illisible : %(n)s colonnes attendues.") % {"n": len(columns)},
            )
            continue
        values = {c: cells[i].strip() for c, i in position.items()}
        row, problems = _check(line, values, today)
        if row is None:
            report.reject(line, " ".join(problems))
            continue
        first = seen.setdefault(row.identifier, line)
        if first != line:
            report.reject(
                line,
                _("Identifiant en double dans le fichier (déjà ligne %(line)s).")
                % {"line": first},
            )
            continue
        yield row


def _check(
    line: int, values: dict[str, str], today: dt.date
) -> tuple[_Row | None, list[str]]:
    problems: list[str] = []
    nir = compact_nir(values["nir"]).upper()
    try:
        validate_nir(nir)
    except ValidationError:
        problems.append(_("NIR invalide."))
    care_date = parse_date(values["date_soins"])
    if care_date is None:
        problems.append(_("Date des soins invalide (AAAA-MM-JJ ou JJ/MM/AAAA)."))
    elif care_date > today:
        problems.append(_("Date des soins dans le futur."))
    if not _ACT_CODE.fullmatch(values["code_acte"]):
        problems.append(_("Code de l'acte manquant ou invalide."))
    label = " ".join(values["libelle"].split())
    if not label or len(label) > 200:
        problems.append(_("Libellé manquant ou de plus de 200 caractères."))
    amount = _amount(values["montant_rembourse"])
    if amount is None:
        problems.append(_("Montant remboursé invalide (ex. 25,00)."))
    professional = " ".join(values["professionnel"].split())
    if len(professional) > 200:
        problems.append(_("Nom du professionnel de plus de 200 caractères."))
    secret = _SECRET.get(values["secret_mineur"].lower())
    if secret is None:
        problems.append(_("secret_mineur : « oui » ou « non »."))
    if not _IDENTIFIER.fullmatch(values["identifiant"]):
        problems.append(_("Identifiant manquant ou invalide."))
    if problems:
        return None, problems
    assert care_date is not None and amount is not None and secret is not None
    return (
        _Row(
            line=line,
            nir=nir,
            identifier=values["identifiant"],
            care_date=care_date,
            act_code=values["code_acte"].upper(),
            label=label,
            amount=amount,
            professional=professional,
            secret=secret,
        ),
        [],
    )


def _amount(value: str) -> Decimal | None:
    if not _AMOUNT.fullmatch(value):
        return None
    try:
        amount = Decimal(value.replace(",", "."))
    except InvalidOperation:
        return None
    return amount if amount <= MAX_AMOUNT else None


# ---------------------------------------------------------------- writing


def _store(batch: list[_Row], report: ImportReport, actor: User | None) -> None:
    """One batch, one transaction: the beneficiaries and the known acts in
    one query each, the new acts in one bulk insert, the secret ones
    withdrawn, one audit entry per beneficiary whose history changed."""
    open_states = [str(state) for state in Space.OPEN_STATES]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Imports one at a time: the acts a batch found missing are still
            # missing when it inserts them.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK])
        patients = {
            nir: (pk, birth_date, state in open_states)
            for nir, pk, birth_date, state in Beneficiary.objects.filter(
                nir__in={row.nir for row in batch}
            ).values_list("nir", "pk", "birth_date", "space__state")
        }
        known = dict(
            Reimbursement.objects.filter(
                identifier__in=[row.identifier for row in batch]
            ).values_list("identifier", "patient_id")
        )
        new: list[Reimbursement] = []
        withdraw: list[str] = []
        changed: set[int] = set()
        for row in batch:
            patient = patients.get(row.nir)
            if patient is None:
                report.reject(row.line, _("NIR inconnu de l'Assurance maladie."))
                continue
            patient_id, birth_date, is_open = patient
            owner = known.get(row.identifier)
            if owner is not None and owner != patient_id:
                report.reject(
                    row.line,
                    _("Identifiant déjà utilisé pour un autre bénéficiaire."),
                )
            elif row.secret:  # DMP-10
                report.secret += 1
                if owner is not None:
                    withdraw.append(row.identifier)
                    changed.add(patient_id)
            elif not is_open:
                report.reject(
                    row.line,
                    _(
                        "Aucun espace santé ouvert pour ce bénéficiaire : ligne ignorée."
                    ),
                )
            elif row.care_date < birth_date:
                report.reject(row.line, _("Date des soins antérieure à la naissance."))
            elif owner is not None:
                report.unchanged += 1
            else:
                new.append(
                    Reimbursement(
                        patient_id=patient_id,
                        identifier=row.identifier,
                        care_date=row.care_date,
                        act_code=row.act_code,
                        label=row.label,
                        amount=row.amount,
                        professional=row.professional,
                    )
                )
                changed.add(patient_id)
        if withdraw:
            report.withdrawn += Reimbursement.objects.filter(
                identifier__in=withdraw
            ).delete()[0]
        report.imported += len(Reimbursement.objects.bulk_create(new, batch_size=1000))
        if not changed:
            return
        audit_append_bulk(
            [
                Entry(
                    action=AuditEvent.Action.UPDATE,
                    target_type="dmp.reimbursement",
                    actor_id=actor.pk if actor is not None else None,
                    actor_role=str(actor.role) if actor is not None else "system",
                    patient_id=patient_id,
                    code="dmp.reimbursement.import",
                )
                for patient_id in sorted(changed)
            ]
        )
