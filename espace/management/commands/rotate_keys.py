from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from lib import crypto
from lib.rotation import (
    RotationReport,
    count_on_old_keys,
    encrypted_fields,
    rotate_model,
    rotate_storage,
)


class Command(BaseCommand):
    help = (
        "Re-chiffre toutes les clés de données sous la clé maîtresse la plus récente "
        "(SEC-5). Les lectures continuent pendant l'opération ; ensuite, l'ancienne "
        "clé peut être retirée de ENCRYPTION_KEYS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Compter seulement (code 1 s'il en reste).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        primary = crypto.keyring().primary
        if options["check"]:
            left = count_on_old_keys()
            self.stdout.write(
                f"{left} objet(s) encore sous une ancienne clé (clé courante : v{primary})."
            )
            if left:
                raise SystemExit(1)
            return
        total = RotationReport()
        for model, fields in encrypted_fields():
            report = rotate_model(model, fields)
            total.add(report)
            self.stdout.write(
                f"{model._meta.label} : {report.rewrapped} re-chiffré(s), "
                f"{report.current} déjà à jour"
            )
        report = rotate_storage()
        total.add(report)
        self.stdout.write(
            f"fichiers : {report.rewrapped} re-chiffré(s), {report.current} déjà à jour"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Rotation terminée vers la clé v{primary} : "
                f"{total.rewrapped} re-chiffré(s), {total.current} déjà à jour."
            )
        )
