from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dmp import jobs as dmp_jobs
from espace import jobs
from messagerie import campaign_jobs

ALL_JOBS = {**jobs.JOBS, **dmp_jobs.JOBS, **campaign_jobs.JOBS}


class Command(BaseCommand):
    help = (
        "Exécute une fois chaque traitement périodique du cycle de vie des espaces "
        "(ouverture automatique, fermeture après suspension, purge, majorité, codes) "
        "et du DMP (résultats en attente de consultation d'annonce, avis aux "
        "professionnels) et des campagnes de prévention. "
        "Sans danger si relancé : chaque traitement ne prend que ce qui est dû."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            choices=sorted(ALL_JOBS),
            action="append",
            help="un traitement seulement",
        )
        parser.add_argument(
            "--batch", type=int, default=jobs.BATCH, help="taille des lots"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in options["only"] or list(ALL_JOBS):
            count = ALL_JOBS[name](batch=options["batch"])
            self.stdout.write(f"{name} : {count}")
