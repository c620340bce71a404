"""LC-1: the beneficiary import (service, command and admin upload)."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from espace import importer
from espace.importer import COLUMNS, beneficiaries_import
from espace.models import (
    Beneficiary,
    ImportBatch,
    LegalRepresentation,
    Space,
    User,
)

BOB_RPPS = "99700000013"  # bob: a doctor (tests.personas)
NINA_RPPS = "99700000039"  # nina: a nurse


def make_nir(sex: int, born: dt.date, place: str, order: int) -> str:
    """A valid NIR: key = 97 - (13 first characters mod 97), 2A/2B → 19/18."""
    first13 = f"{sex}{born.year % 100:02d}{born.month:02d}{place}{order:03d}"
    digits = first13[:5] + {"2A": "19", "2B": "18"}.get(place[:2], place[:2])
    digits += first13[7:]
    return f"{first13}{97 - int(digits) % 97:02d}"


PAUL_BORN = dt.date(1980, 4, 12)
JULIE_BORN = dt.date(1985, 11, 3)
EMMA_BORN = dt.date(2015, 6, 20)
PAUL = make_nir(1, PAUL_BORN, "75056", 1)
JULIE = make_nir(2, JULIE_BORN, "69123", 2)
EMMA = make_nir(2, EMMA_BORN, "75056", 3)


def person(nir: str, born: dt.date, sex: str = "M", /, **cells: str) -> dict[str, str]:
    row = {
        "nir": nir,
        "numero_serie_vitale": "123456789",
        "nom_naissance": "DUPONT",
        "prenoms": "PAUL JEAN",
        "sexe": sex,
        "date_naissance": born.isoformat(),
        "lieu_naissance": nir[5:10],
        "nom_usage": "",
        "email": "paul.dupont@example.fr",
        "telephone": "06 12 34 56 78",
        "adresse": "1 rue de la Paix",
        "code_postal": "75002",
        "commune": "Paris",
        "nir_ouvrant_droit": "",
        "medecin_traitant_rpps": "",
        "dmp_anterieur": "non",
    }
    row.update(cells)
    return row


def paul(**cells: str) -> dict[str, str]:
    return person(PAUL, PAUL_BORN, "M", **cells)


def julie(**cells: str) -> dict[str, str]:
    cells = {
        "nom_naissance": "MARTIN",
        "prenoms": "JULIE",
        "email": "julie@example.fr",
        **cells,
    }
    return person(JULIE, JULIE_BORN, "F", **cells)


def emma(**cells: str) -> dict[str, str]:
    cells = {
        "prenoms": "EMMA",
        "email": "",
        "telephone": "",
        "nir_ouvrant_droit": PAUL,
        **cells,
    }
    return person(EMMA, EMMA_BORN, "F", **cells)


def csv_text(rows: list[dict[str, str]], sep: str = ";", newline: str = "\n") -> str:
    lines = [sep.join(COLUMNS)]
    lines += [sep.join(row[column] for column in COLUMNS) for row in rows]
    return newline.join(lines) + newline


def run(data: str | bytes, actor: User | None = None) -> ImportBatch:
    raw = data.encode() if isinstance(data, str) else data
    return beneficiaries_import(
        actor=actor, file_name="extraction.csv", stream=io.BytesIO(raw)
    )


def counts(batch: ImportBatch) -> tuple[int, int, int, int]:
    return batch.imported, batch.updated, batch.unchanged, batch.rejected


@pytest.mark.django_db
class ImportTestCase:
    def test_lc1_a_good_file_imports_adults_children_and_medecin_traitant(
        self, agnes: User, bob: User
    ) -> None:
        text = csv_text(
            [
                paul(medecin_traitant_rpps=BOB_RPPS, dmp_anterieur="oui"),
                julie(),
                emma(),
            ]
        )
        batch = run(text, actor=agnes)

        assert batch.status == ImportBatch.Status.DONE
        assert counts(batch) == (3, 0, 0, 0)
        assert batch.report == []
        p = Beneficiary.objects.get(nir=PAUL)
        assert (p.birth_name, p.first_names, p.sex, p.birth_date) == (
            "DUPONT",
            "PAUL JEAN",
            "M",
            PAUL_BORN,
        )
        assert p.phone == "0612345678"  # separators dropped
        assert p.medecin_traitant_id == bob.professional.pk
        spaces = dict(Space.objects.values_list("beneficiary__nir", "state"))
        assert spaces == dict.fromkeys([PAUL, JULIE, EMMA], Space.State.PENDING)
        assert Space.objects.get(beneficiary=p).legacy_dmp is True  # LC-11
        assert Space.objects.get(beneficiary__nir=JULIE).legacy_dmp is False
        link = LegalRepresentation.objects.get()
        assert (link.representative.nir, link.minor.nir, link.status) == (
            PAUL,
            EMMA,
            LegalRepresentation.Status.ACTIVE,
        )

    def test_lc1_each_created_beneficiary_has_one_audit_entry(
        self, agnes: User
    ) -> None:
        run(csv_text([paul(), julie()]), actor=agnes)
        entries = AuditEvent.objects.filter(code="lc1.imported")
        assert sorted(entries.values_list("target_id", flat=True)) == sorted(
            str(pk) for pk in Beneficiary.objects.values_list("pk", flat=True)
        )
        for entry in entries:
            assert entry.action == AuditEvent.Action.CREATE
            assert entry.target_type == "espace.beneficiary"
            assert entry.patient_id == int(entry.target_id)
            assert (entry.actor_id, entry.actor_role) == (agnes.pk, "agent")
        assert list(audit_chain_verify()) == [2]

    def test_lc1_reimporting_the_same_file_changes_nothing(self, bob: User) -> None:
        text = csv_text([paul(medecin_traitant_rpps=BOB_RPPS), julie(), emma()])
        run(text)
        audit_before = AuditEvent.objects.count()
        rows_before = (
            list(Beneficiary.objects.order_by("pk").values()),
            list(Space.objects.order_by("pk").values()),
            list(LegalRepresentation.objects.order_by("pk").values()),
        )

        again = run(text)

        assert counts(again) == (0, 0, 3, 0)
        assert AuditEvent.objects.count() == audit_before
        assert rows_before == (
            list(Beneficiary.objects.order_by("pk").values()),
            list(Space.objects.order_by("pk").values()),
            list(LegalRepresentation.objects.order_by("pk").values()),
        )

    def test_lc1_a_changed_address_is_an_update(self) -> None:
        run(csv_text([paul(), julie()]))
        batch = run(
            csv_text(
                [paul(email="nouvelle@example.fr", adresse="2 rue Neuve"), julie()]
            )
        )
        assert counts(batch) == (0, 1, 1, 0)
        p = Beneficiary.objects.get(nir=PAUL)
        assert (p.email, p.address) == ("nouvelle@example.fr", "2 rue Neuve")
        updates = AuditEvent.objects.filter(code="lc1.updated")
        assert list(updates.values_list("action", "target_id")) == [
            (AuditEvent.Action.UPDATE, str(p.pk))
        ]

    def test_lc1_legacy_dmp_follows_the_file_while_the_space_is_pending(
        self,
    ) -> None:
        run(csv_text([paul()]))
        batch = run(csv_text([paul(dmp_anterieur="oui")]))
        assert counts(batch) == (0, 1, 0, 0)
        assert Space.objects.get(beneficiary__nir=PAUL).legacy_dmp is True

    def test_lc1_a_known_beneficiary_without_a_space_gets_one(
        self, alice: User
    ) -> None:
        b = alice.beneficiary
        row = person(
            b.nir,
            b.birth_date,
            "F",
            numero_serie_vitale=b.vitale_serial,
            nom_naissance=b.birth_name,
            prenoms=b.first_names,
            lieu_naissance=b.birth_place_code,
            email=b.email,
            telephone="",
            adresse="",
            code_postal="",
            commune="",
            medecin_traitant_rpps=BOB_RPPS,
        )
        batch = run(csv_text([row]))
        assert counts(batch) == (0, 1, 0, 0)
        assert Space.objects.get(beneficiary=b).state == Space.State.PENDING
        assert counts(run(csv_text([row]))) == (0, 0, 1, 0)

    def test_lc1_a_parent_already_known_or_later_in_the_file(self, alice: User) -> None:
        child_of_alice = person(
            make_nir(1, dt.date(2019, 2, 1), "51215", 7),
            dt.date(2019, 2, 1),
            nir_ouvrant_droit=alice.beneficiary.nir,
        )
        # Emma (line 2) comes before her father Paul (line 3).
        batch = run(csv_text([emma(), paul(), child_of_alice]))
        assert counts(batch) == (3, 0, 0, 0)
        pairs = set(
            LegalRepresentation.objects.values_list("representative__nir", "minor__nir")
        )
        assert pairs == {(PAUL, EMMA), (alice.beneficiary.nir, child_of_alice["nir"])}

    def test_lc1_an_adult_ayant_droit_gets_no_legal_representative(self) -> None:
        student = person(
            make_nir(1, dt.date(2004, 9, 9), "75056", 9),
            dt.date(2004, 9, 9),
            nir_ouvrant_droit=PAUL,
        )
        batch = run(csv_text([paul(), student]))
        assert counts(batch) == (2, 0, 0, 0)
        assert not LegalRepresentation.objects.exists()

    def test_lc1_corsican_nir_and_french_dates(self) -> None:
        born = dt.date(1953, 7, 1)
        corsican = make_nir(2, born, "2A073", 4)
        row = person(
            corsican, born, "2", date_naissance="01/07/1953", dmp_anterieur="OUI"
        )
        batch = run(csv_text([row]))
        assert counts(batch) == (1, 0, 0, 0), batch.report
        b = Beneficiary.objects.get()
        assert (b.nir, b.sex, b.birth_date, b.birth_place_code) == (
            corsican,
            "F",
            born,
            "2A073",
        )

    def test_lc1_the_work_is_set_based(self) -> None:
        """A few queries per batch, never some per row."""

        def queries(rows: int) -> int:
            text = csv_text(
                [
                    person(make_nir(1, PAUL_BORN, "75056", n), PAUL_BORN)
                    for n in range(rows)
                ]
            )
            with CaptureQueriesContext(connection) as context:
                batch = run(text)
            assert batch.imported == rows
            Space.objects.all().delete()
            Beneficiary.objects.all().delete()
            return len(context.captured_queries)

        assert queries(600) <= 60

    def test_lc1_batches_of_any_size_give_the_same_result(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(importer, "BATCH_SIZE", 2)
        rows = [emma(), julie(), paul(), paul(), julie(email="faux")]
        batch = run(csv_text(rows))
        assert counts(batch) == (3, 0, 0, 2)
        assert batch.report == [
            {"line": 5, "reason": "Doublon du NIR de la ligne 4."},
            {
                "line": 6,
                "reason": "L'adresse électronique est invalide. "
                "Doublon du NIR de la ligne 3.",
            },
        ]
        assert LegalRepresentation.objects.count() == 1


GOOD = paul()

REJECTIONS = [
    (
        "bad_nir_key",
        {"nir": PAUL[:13] + f"{(int(PAUL[13:]) + 1) % 100:02d}"},
        "La clé du NIR est incorrecte.",
    ),
    ("nir_format", {"nir": "12345"}, "Le NIR doit comporter 15 caractères"),
    ("nir_sex", {"sexe": "F"}, "Le NIR ne correspond pas au sexe indiqué."),
    (
        "nir_birth_year",
        {"date_naissance": "1981-04-12"},
        "Le NIR ne correspond pas à l'année de naissance.",
    ),
    (
        "nir_birth_month",
        {"date_naissance": "1980-05-12"},
        "Le NIR ne correspond pas au mois de naissance.",
    ),
    ("bad_date", {"date_naissance": "1980-02-30"}, "date de naissance est invalide"),
    ("bad_date_format", {"date_naissance": "12.04.1980"}, "AAAA-MM-JJ ou JJ/MM/AAAA"),
    ("future_date", {"date_naissance": "2080-04-12"}, "dans le futur"),
    ("bad_sex", {"sexe": "X"}, "Le sexe est invalide"),
    ("bad_email", {"email": "paul.dupont@"}, "L'adresse électronique est invalide."),
    ("bad_phone", {"telephone": "12345"}, "Le numéro de téléphone est invalide."),
    ("bad_postal_code", {"code_postal": "7500"}, "Le code postal est invalide"),
    ("bad_birth_place", {"lieu_naissance": "7505"}, "code INSEE"),
    ("missing_name", {"nom_naissance": ""}, "nom_naissance est obligatoire"),
    ("long_city", {"commune": "x" * 101}, "commune dépasse 100 caractères"),
    ("bad_dmp_flag", {"dmp_anterieur": "peut-être"}, "dmp_anterieur est invalide"),
    (
        "unknown_rpps",
        {"medecin_traitant_rpps": "10101010101"},
        "Médecin traitant inconnu",
    ),
    (
        "rpps_of_a_nurse",
        {"medecin_traitant_rpps": NINA_RPPS},
        "n'est pas celui d'un médecin",
    ),
    ("bad_rpps", {"medecin_traitant_rpps": "123"}, "11 chiffres attendus"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cells", "reason"),
    [pytest.param(cells, reason, id=name) for name, cells, reason in REJECTIONS],
)
def test_lc1_a_bad_row_is_rejected_with_its_line_and_reason(
    cells: dict[str, str], reason: str, bob: User, nina: User
) -> None:
    text = csv_text([julie(), paul(**cells), emma(nir_ouvrant_droit=JULIE)])
    batch = run(text)
    assert counts(batch) == (2, 0, 0, 1)
    [entry] = batch.report
    assert entry["line"] == 3
    assert reason in entry["reason"]
    assert set(Beneficiary.objects.values_list("nir", flat=True)) == {JULIE, EMMA}


@pytest.mark.parametrize(
    "cells",
    [
        *(pytest.param(cells, id=name) for name, cells, _reason in REJECTIONS),
        pytest.param({}, id="good"),
        pytest.param({"sexe": "1", "date_naissance": "12/04/1980"}, id="fr_date"),
        pytest.param({"email": "", "telephone": "", "code_postal": ""}, id="empty"),
    ],
)
def test_lc1_the_quick_check_agrees_with_the_full_one(cells: dict[str, str]) -> None:
    """`check` decides clean rows alone; `explain` must agree on every row."""
    checker = importer._Checker(list(COLUMNS), dt.date(2026, 1, 1))
    for row in (paul(**cells), emma(**cells)):
        values = [row[column] for column in COLUMNS]
        assert checker.check(7, values) == checker.explain(7, values)


@pytest.mark.django_db
class RejectionTestCase:
    def test_lc1_unknown_parent(self) -> None:
        batch = run(csv_text([julie(), emma()]))  # Emma's father is not there
        assert counts(batch) == (1, 0, 0, 1)
        assert batch.report == [
            {
                "line": 3,
                "reason": "Parent inconnu : l'ouvrant droit n'est ni dans le "
                "fichier ni déjà bénéficiaire.",
            }
        ]

    def test_lc1_a_rejected_parent_is_unknown(self) -> None:
        batch = run(csv_text([paul(email="pas-un-email"), emma()]))
        assert counts(batch) == (0, 0, 0, 2)
        assert [e["line"] for e in batch.report] == [2, 3]
        assert "Parent inconnu" in batch.report[1]["reason"]

    def test_lc1_a_bad_parent_nir(self) -> None:
        batch = run(csv_text([emma(nir_ouvrant_droit="1234")]))
        assert batch.report == [
            {
                "line": 2,
                "reason": "Le NIR de l'ouvrant droit (nir_ouvrant_droit) est invalide.",
            }
        ]

    def test_lc1_duplicate_nir(self) -> None:
        batch = run(csv_text([paul(), julie(), paul(email="autre@example.fr")]))
        assert counts(batch) == (2, 0, 0, 1)
        assert batch.report == [{"line": 4, "reason": "Doublon du NIR de la ligne 2."}]
        assert Beneficiary.objects.get(nir=PAUL).email == "paul.dupont@example.fr"

    def test_lc1_all_reasons_of_a_row_are_given(self) -> None:
        batch = run(csv_text([paul(email="x", code_postal="1")]))
        assert batch.report == [
            {
                "line": 2,
                "reason": "L'adresse électronique est invalide. "
                "Le code postal est invalide : 5 chiffres attendus.",
            }
        ]

    def test_lc1_a_row_with_missing_cells(self) -> None:
        text = csv_text([paul()]) + "1;2;3\n"
        batch = run(text)
        assert batch.report == [
            {"line": 3, "reason": "La ligne compte 3 colonnes au lieu de 16."}
        ]

    def test_lc1_reports_never_name_anyone(self) -> None:
        rows = [paul(email="faux"), julie(sexe="M"), emma(), paul()]
        batch = run(csv_text(rows))
        report = json.dumps(batch.report)
        for row in rows:
            for column in ("nir", "nom_naissance", "prenoms", "email"):
                if row[column]:
                    assert row[column] not in report, column

    def test_lc1_line_numbers_count_blank_and_multiline_records(self) -> None:
        header = ";".join(COLUMNS)
        good = ";".join(julie(adresse='"1 rue\nde la Paix"')[c] for c in COLUMNS)
        bad = ";".join(paul(email="faux")[c] for c in COLUMNS)
        text = f"{header}\n\n{good}\n;;;;;;;;;;;;;;;\n{bad}\n"
        batch = run(text)
        assert counts(batch) == (1, 0, 0, 1)
        assert batch.report[0]["line"] == 6
        assert Beneficiary.objects.get().address == "1 rue\nde la Paix"


@pytest.mark.django_db
class FileFormatTestCase:
    def test_lc1_comma_separated(self) -> None:
        batch = run(csv_text([paul(), julie()], sep=","))
        assert counts(batch) == (2, 0, 0, 0)

    def test_lc1_utf8_with_bom_and_crlf(self) -> None:
        text = csv_text([paul(nom_naissance="LÉGER"), julie()], newline="\r\n")
        batch = run(b"\xef\xbb\xbf" + text.encode())
        assert counts(batch) == (2, 0, 0, 0)
        assert Beneficiary.objects.get(nir=PAUL).birth_name == "LÉGER"

    def test_lc1_values_are_normalised(self) -> None:
        spaced = " ".join([PAUL[:1], PAUL[1:3], PAUL[3:5], PAUL[5:10], PAUL[10:]])
        row = paul(
            nir=f" {spaced} ",
            sexe="m",
            telephone="+33 6.12.34.56.78",
            lieu_naissance=PAUL[5:10],
            dmp_anterieur="Oui",
            nom_naissance=" DUPONT ",
        )
        assert counts(run(csv_text([row]))) == (1, 0, 0, 0)
        b = Beneficiary.objects.get()
        assert (b.nir, b.sex, b.phone, b.birth_name) == (
            PAUL,
            "M",
            "+33612345678",
            "DUPONT",
        )
        assert b.space.legacy_dmp is True

    def test_lc1_headers_in_any_order_and_case(self) -> None:
        columns = list(reversed(COLUMNS))
        row = paul()
        text = ";".join(c.upper() for c in columns) + "\n"
        text += ";".join(row[c] for c in columns) + "\n"
        assert counts(run(text)) == (1, 0, 0, 0)

    def test_lc1_a_file_in_latin1_cannot_be_read(self) -> None:
        text = csv_text([paul(), julie(nom_naissance="LÉGER")])
        batch = run(text.encode("latin-1"))
        assert batch.status == ImportBatch.Status.FAILED
        assert counts(batch) == (0, 0, 0, 0)
        assert batch.report[0]["line"] == 3
        assert "UTF-8" in batch.report[0]["reason"]
        assert not Beneficiary.objects.exists()

    def test_lc1_missing_headers(self) -> None:
        text = csv_text([paul()]).replace("nir_ouvrant_droit", "ouvrant")
        batch = run(text)
        assert batch.status == ImportBatch.Status.FAILED
        assert batch.report == [
            {
                "line": 1,
                "reason": "Colonnes obligatoires absentes de l'en-tête : "
                "nir_ouvrant_droit.",
            }
        ]

    @pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n"])
    def test_lc1_an_empty_file_cannot_be_read(self, data: bytes) -> None:
        batch = run(data)
        assert batch.status == ImportBatch.Status.FAILED
        assert "vide" in batch.report[0]["reason"]


@pytest.mark.django_db
class CommandTestCase:
    def test_lc1_prints_a_summary_and_the_rejected_lines(
        self, tmp_path: Any, agnes: User
    ) -> None:
        path = tmp_path / "extraction.csv"
        path.write_text(csv_text([paul(), julie(email="faux"), emma()]))
        out = io.StringIO()
        call_command("import_beneficiaries", str(path), "--agent", "agnes", stdout=out)
        assert out.getvalue().splitlines() == [
            "Importés : 2, mis à jour : 0, inchangés : 0, rejetés : 1",
            "ligne 3 : L'adresse électronique est invalide.",
        ]
        batch = ImportBatch.objects.get()
        assert (batch.file_name, batch.uploaded_by) == ("extraction.csv", agnes)

        out = io.StringIO()
        call_command("import_beneficiaries", str(path), stdout=out)
        assert out.getvalue().splitlines()[0] == (
            "Importés : 0, mis à jour : 0, inchangés : 2, rejetés : 1"
        )

    def test_lc1_a_file_that_cannot_be_read_exits_2(self, tmp_path: Any) -> None:
        path = tmp_path / "extraction.csv"
        path.write_bytes(csv_text([paul(nom_naissance="LÉGER")]).encode("cp1252"))
        with pytest.raises(CommandError) as error:
            call_command("import_beneficiaries", str(path))
        assert error.value.returncode == 2
        assert "n'est pas encodé en UTF-8" in str(error.value)
        assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED

    def test_lc1_missing_headers_exit_2(self, tmp_path: Any) -> None:
        path = tmp_path / "extraction.csv"
        path.write_text("nir;nom\n1;2\n")
        with pytest.raises(CommandError) as error:
            call_command("import_beneficiaries", str(path))
        assert error.value.returncode == 2
        assert "Colonnes obligatoires absentes" in str(error.value)

    def test_lc1_a_missing_file_exits_2(self, tmp_path: Any) -> None:
        with pytest.raises(CommandError) as error:
            call_command("import_beneficiaries", str(tmp_path / "absent.csv"))
        assert error.value.returncode == 2
        assert "Impossible de lire le fichier" in str(error.value)


@pytest.mark.django_db
class AdminUploadTestCase:
    def test_lc1_an_agent_uploads_a_file_and_reads_the_report(
        self, agnes: User, client_for: Any
    ) -> None:
        client = client_for(agnes)
        url = reverse("admin:espace_importbatch_add")
        assert client.get(url).status_code == 200
        upload = SimpleUploadedFile(
            "extraction.csv", csv_text([paul(), julie(email="faux")]).encode()
        )
        response = client.post(url, {"file": upload})
        batch = ImportBatch.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "admin:espace_importbatch_change", args=[batch.pk]
        )
        assert (batch.uploaded_by, counts(batch)) == (agnes, (1, 0, 0, 1))
        page = client.get(response["Location"]).content.decode()
        assert "L&#x27;adresse électronique est invalide." in page
        assert 'data-testid="import-imported">1<' in page
        assert JULIE not in page and PAUL not in page
        entry = AuditEvent.objects.get(code="lc1.imported")
        assert (entry.actor_id, entry.remote_addr) == (agnes.pk, "127.0.0.1")

        changelist = client.get(reverse("admin:espace_importbatch_changelist"))
        assert "extraction.csv" in changelist.content.decode()

    def test_lc1_a_big_upload_is_streamed_from_disk(
        self, agnes: User, client_for: Any, settings: Any
    ) -> None:
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # a TemporaryUploadedFile
        upload = SimpleUploadedFile("big.csv", csv_text([paul(), julie()]).encode())
        client_for(agnes).post(
            reverse("admin:espace_importbatch_add"), {"file": upload}
        )
        assert counts(ImportBatch.objects.get()) == (2, 0, 0, 0)

    def test_lc1_only_csv_files(self, agnes: User, client_for: Any) -> None:
        upload = SimpleUploadedFile("photo.png", b"\x89PNG")
        response = client_for(agnes).post(
            reverse("admin:espace_importbatch_add"), {"file": upload}
        )
        assert response.status_code == 200
        assert "Choisissez un fichier CSV" in response.content.decode()
        assert not ImportBatch.objects.exists()

    def test_lc1_an_unreadable_upload_shows_why(
        self, agnes: User, client_for: Any
    ) -> None:
        upload = SimpleUploadedFile("latin1.csv", csv_text([paul()]).encode() + b"\xc9")
        client = client_for(agnes)
        response = client.post(
            reverse("admin:espace_importbatch_add"), {"file": upload}
        )
        page = client.get(response["Location"]).content.decode()
        assert "Fichier illisible" in page and "UTF-8" in page

    def test_lc1_imports_are_not_edited_or_deleted(
        self, agnes: User, client_for: Any
    ) -> None:
        batch = run(csv_text([paul()]))
        client = client_for(agnes)
        delete = reverse("admin:espace_importbatch_delete", args=[batch.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert ImportBatch.objects.filter(pk=batch.pk).exists()

    @pytest.mark.parametrize("persona", ["alice", "bob"])
    def test_lc1_patients_and_professionals_cannot_upload(
        self, persona: str, request: pytest.FixtureRequest, client_for: Any
    ) -> None:
        user = request.getfixturevalue(persona)
        client = client_for(user)
        url = reverse("admin:espace_importbatch_add")
        assert client.get(url).status_code == 302
        upload = SimpleUploadedFile("extraction.csv", csv_text([paul()]).encode())
        assert client.post(url, {"file": upload}).status_code == 302
        assert not ImportBatch.objects.exists()
        assert not Beneficiary.objects.filter(nir=PAUL).exists()


def test_lc1_the_reader_thread_hands_errors_over_and_stops_early() -> None:
    """Batches are read and checked one step ahead of the writes, in a thread
    (G-P9): its errors surface in the import, and an import stopped early
    (a write failed) leaves no thread behind."""
    import threading

    from espace.importer import _ahead

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("bad read")

    seen = []
    with pytest.raises(ValueError, match="bad read"):
        for item in _ahead(failing()):
            seen.append(item)
    assert seen == [1]

    produced = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    for item in _ahead(endless(), depth=2):
        if item == 3:
            break
    assert len(produced) <= 3 + 2 + 2
    assert not [t for t in threading.enumerate() if t.name == "import-reader"]
