"""LC-1: `python manage.py import_beneficiaries FILE [--agent USERNAME]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from espace.importer import beneficiaries_import
from espace.models import ImportBatch, User


class Command(BaseCommand):
    help = (
        "Importe un fichier de bénéficiaires de l'Assurance maladie (LC-1) : CSV "
        "séparé par « ; » ou « , », UTF-8. Les lignes valides sont importées, les "
        "autres listées avec leur numéro et la raison. Code 0 quand le fichier a "
        "été traité, 2 quand il est illisible."
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
            batch = beneficiaries_import(
                actor=agent, file_name=path.name, stream=stream
            )
        if batch.status == ImportBatch.Status.FAILED:
            reason = batch.report[0]["reason"] if batch.report else ""
            raise CommandError(f"Fichier illisible : {reason}", returncode=2)
        self.stdout.write(
            f"Importés : {batch.imported}, mis à jour : {batch.updated}, "
            f"inchangés : {batch.unchanged}, rejetés : {batch.rejected}"
        )
        for entry in batch.report:
            self.stdout.write(f"ligne {entry['line']} : {entry['reason']}")
