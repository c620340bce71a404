from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from espace import jobs


class Command(BaseCommand):
    help = (
        "Exécute une fois chaque traitement périodique du cycle de vie des espaces "
        "(ouverture automatique, fermeture après suspension, purge, majorité, codes). "
        "Sans danger si relancé : chaque traitement ne prend que ce qui est dû."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            choices=sorted(jobs.JOBS),
            action="append",
            help="un traitement seulement",
        )
        parser.add_argument(
            "--batch", type=int, default=jobs.BATCH, help="taille des lots"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in options["only"] or list(jobs.JOBS):
            count = jobs.JOBS[name](batch=options["batch"])
            self.stdout.write(f"{name} : {count}")
