"""Reimbursement history import (DMP-7, DMP-10, SEC-8): a line-by-line
report, good rows imported, idempotent by `identifiant`, acts under the
minor's secret never imported, set-based, exit code 2 when unreadable."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from dmp.models import Reimbursement
from dmp.reimbursements import ImportUnreadable, reimbursements_import
from espace.models import Beneficiary, User
from tests.personas import verified_client

HEADER = (
    "nir;date_soins;code_acte;libelle;montant_rembourse;professionnel;"
    "secret_mineur;identifiant"
)
ALICE = "279035121518989"
LEO = "116055121501240"
EVE = "295109912611193"  # no open space


def _csv(*rows: str, header: str = HEADER, bom: bool = False) -> io.BytesIO:
    text = "\n".join((header, *rows)) + "\n"
    return io.BytesIO(("\ufeff" if bom else "").encode() + text.encode())


@pytest.mark.django_db
class ReimbursementImportTestCase:
    def test_dmp7_good_rows_imported_bad_rows_reported_line_by_line(
        self, alice_dmp: Beneficiary, eve: User, agnes: User
    ) -> None:
        report = reimbursements_import(
            stream=_csv(
                f"{ALICE};2024-02-03;G;Consultation de médecine générale;18,20;Dr Bob Test;non;A1",
                f"{ALICE};05/03/2024;PHAR;Pharmacie;12.5;;;A2",
                "2 79 03 51 215 189 89;2024-02-03;G;Consultation;18,20;;non;A3",
                f"{ALICE};2024-13-40;G;Consultation;18,20;;non;B1",
                f"{ALICE};2024-02-03;G;Consultation;-3;;non;B2",
                f"{ALICE};2024-02-03;G;Consultation;dix;;non;B3",
                f"{ALICE};2999-01-01;G;Consultation;1;;non;B4",
                f"{ALICE};2024-02-03;G;Consultation;1;;peut-être;B5",
                f"{ALICE};2024-02-03;;;1;;non;B6",
                f"{ALICE};2024-02-03;G;Consultation;1;;non;",
                "279035121518988;2024-02-03;G;Consultation;1;;non;B8",
                "180017512345660;2024-02-03;G;Consultation;1;;non;B9",
                f"{EVE};2024-02-03;G;Consultation;1;;non;B10",
                f"{ALICE};2024-02-03;G;Consultation;1;;non;A1",
                f"{ALICE};1970-02-03;G;Consultation;1;;non;B12",
                f"{ALICE};2024-02-03;G;Consultation",
            ),
            actor=agnes,
        )
        assert (report.imported, report.rejected) == (3, 13)
        reasons = dict(report.lines)
        assert sorted(reasons) == list(range(5, 18))
        assert "Date des soins invalide" in reasons[5]
        assert "Montant remboursé invalide" in reasons[6]
        assert "Montant remboursé invalide" in reasons[7]
        assert "dans le futur" in reasons[8]
        assert "secret_mineur" in reasons[9]
        assert "Code de l'acte" in reasons[10] and "Libellé" in reasons[10]
        assert "Identifiant manquant" in reasons[11]
        assert "NIR invalide" in reasons[12]
        assert "NIR inconnu" in reasons[13]
        assert "Aucun espace santé ouvert" in reasons[14]
        assert "en double dans le fichier (déjà ligne 2)" in reasons[15]
        assert "antérieure à la naissance" in reasons[16]
        assert "colonnes attendues" in reasons[17]
        # The report never holds a NIR nor a label (agents see it).
        assert ALICE not in str(report.lines) and "Consultation" not in str(
            report.lines
        )
        act = Reimbursement.objects.get(identifier="A1")
        assert (act.care_date, act.act_code, act.amount, act.professional) == (
            dt.date(2024, 2, 3),
            "G",
            Decimal("18.20"),
            "Dr Bob Test",
        )
        assert act.label == "Consultation de médecine générale"
        with connection.cursor() as cursor:
            cursor.execute("SELECT label, professional FROM dmp_reimbursement")
            assert "Consultation" not in str(cursor.fetchall())  # SEC-5
        audit = AuditEvent.objects.get(code="dmp.reimbursement.import")
        assert (audit.patient_id, audit.actor_id) == (alice_dmp.pk, agnes.pk)

    def test_dmp7_importing_the_same_file_twice_changes_nothing(
        self, alice_dmp: Beneficiary
    ) -> None:
        rows = (
            f"{ALICE};2024-02-03;G;Consultation;18,20;;non;A1",
            f"{ALICE};2024-02-04;C;Consultation;25;;non;A2",
        )
        first = reimbursements_import(stream=_csv(*rows, bom=True))
        audits = AuditEvent.objects.count()
        second = reimbursements_import(stream=_csv(*rows))
        assert (first.imported, second.imported, second.unchanged) == (2, 0, 2)
        assert Reimbursement.objects.count() == 2
        assert AuditEvent.objects.count() == audits

    def test_dmp10_acts_under_the_minors_secret_are_never_imported(
        self, alice: User, leo_dmp: Beneficiary
    ) -> None:
        report = reimbursements_import(
            stream=_csv(
                f"{LEO};2024-02-03;G;Consultation;18,20;;non;L1",
                f"{LEO};2024-02-04;C;Consultation confidentielle;25;;oui;L2",
                f"{LEO};2024-02-05;C;Consultation;25;;OUI;L3",
            )
        )
        assert (report.imported, report.secret) == (1, 2)
        assert list(Reimbursement.objects.values_list("identifier", flat=True)) == [
            "L1"
        ]
        # An act flagged later (the minor objected) is withdrawn.
        later = reimbursements_import(
            stream=_csv(f"{LEO};2024-02-03;G;Consultation;18,20;;oui;L1")
        )
        assert (later.secret, later.withdrawn) == (1, 1)
        assert not Reimbursement.objects.exists()
        client = verified_client(alice)
        client.post(f"/mon-espace/profil/{leo_dmp.pk}/")
        page = client.get("/mon-espace/administratif/").content.decode()
        assert "confidentielle" not in page

    @pytest.mark.parametrize(
        ("data", "reason"),
        [
            (b"", "vide"),
            (b"\n\n", "vide"),
            (b"nir;date_soins\n1;2\n", "Colonnes obligatoires absentes"),
            (HEADER.replace(";", ",").encode() + b"\n", "Colonnes obligatoires"),
            ((HEADER + ";nir\n").encode(), "Colonnes en double"),
            ((HEADER + "\n").encode("utf-16"), "UTF-8"),
            ((HEADER + "\nCaf\xe9\n").encode("latin-1"), "UTF-8"),
        ],
    )
    def test_sec8_an_unreadable_file_imports_nothing(
        self, alice_dmp: Beneficiary, data: bytes, reason: str
    ) -> None:
        with pytest.raises(ImportUnreadable, match=reason):
            reimbursements_import(stream=io.BytesIO(data))
        assert not Reimbursement.objects.exists()

    def test_set_based_the_queries_do_not_grow_with_the_rows(
        self, alice_dmp: Beneficiary, leo_dmp: Beneficiary
    ) -> None:
        def run(prefix: str, count: int) -> int:
            rows = [
                f"{ALICE if i % 2 else LEO};2024-02-03;G;Consultation;1;;non;{prefix}{i}"
                for i in range(count)
            ]
            with CaptureQueriesContext(connection) as queries:
                assert reimbursements_import(stream=_csv(*rows)).imported == count
            return len(queries)

        # 60 rows: within one INSERT on SQLite too (999 parameters at most).
        assert run("S", 4) == run("L", 60)


@pytest.mark.django_db
class ImportCommandTestCase:
    def test_exit_0_when_processed_with_the_report(
        self, alice_dmp: Beneficiary, agnes: User, tmp_path: Path
    ) -> None:
        path = tmp_path / "remboursements.csv"
        path.write_bytes(
            _csv(
                f"{ALICE};2024-02-03;G;Consultation;18,20;;non;A1",
                f"{ALICE};2024-02-03;G;Consultation;x;;non;A2",
            ).getvalue()
        )
        out = io.StringIO()
        call_command("import_reimbursements", str(path), agent="agnes", stdout=out)
        text = out.getvalue()
        assert "Importés : 1" in text and "rejetés : 1" in text
        assert "ligne 3 : Montant remboursé invalide" in text

    def test_exit_2_when_unreadable_or_missing(self, tmp_path: Path) -> None:
        path = tmp_path / "vide.csv"
        path.write_bytes(b"")
        for name in (path, tmp_path / "absent.csv"):
            with pytest.raises(CommandError) as error:
                call_command("import_reimbursements", str(name))
            assert error.value.returncode == 2

    def test_unknown_agent_refused(self, tmp_path: Path, alice: User) -> None:
        with pytest.raises(CommandError, match="Agent inconnu"):
            call_command(
                "import_reimbursements", str(tmp_path / "x.csv"), agent="alice"
            )
