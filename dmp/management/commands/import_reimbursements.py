"""DMP-7: `python manage.py import_reimbursements FILE [--agent USERNAME]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dmp.reimbursements import reimbursements_import
from espace.models import User
from lib.csvfile import ImportUnreadable


class Command(BaseCommand):
    help = (
        "Importe un fichier de remboursements de l'Assurance maladie (DMP-7) : CSV "
        "séparé par « ; », UTF-8 avec ou sans BOM, colonnes nir;date_soins;"
        "code_acte;libelle;montant_rembourse;professionnel;secret_mineur;"
        "identifiant. Les lignes valides sont importées (une seule fois par "
        "identifiant), les actes couverts par le secret du mineur jamais (DMP-10), "
        "les autres lignes sont listées avec leur numéro et la raison. Code 0 "
        "quand le fichier a été traité, 2 quand il est illisible."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Chemin du fichier CSV.")
        parser.add_argument(
            "--agent",
            help="Identifiant de l'agent à qui attribuer l'import (journal d'audit).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        agent = None
        if options["agent"]:
            agent = User.objects.filter(
                username=options["agent"], role=User.Role.AGENT
            ).first()
            if agent is None:
                raise CommandError(f"Agent inconnu : {options['agent']}.")
        path = Path(options["file"])
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise CommandError(
                f"Impossible de lire le fichier {path} : {exc.strerror}.", returncode=2
            ) from exc
        with stream:
            try:
                report = reimbursements_import(stream=stream, actor=agent)
            except ImportUnreadable as exc:
                raise CommandError(
                    f"Fichier illisible (ligne {exc.line}) : {exc.reason}",
                    returncode=2,
                ) from exc
        self.stdout.write(
            f"Importés : {report.imported}, déjà importés : {report.unchanged}, "
            f"secret du mineur : {report.secret} (retirés : {report.withdrawn}), "
            f"rejetés : {report.rejected}"
        )
        for line, reason in report.lines:
            self.stdout.write(f"ligne {line} : {reason}")
