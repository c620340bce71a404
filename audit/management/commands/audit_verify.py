from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.selectors import ChainProblem, audit_chain_verify


class Command(BaseCommand):
    help = (
        "Vérifie la chaîne d'empreintes du journal d'audit (SEC-4). Code 1 si altérée."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for result in audit_chain_verify():
            if isinstance(result, ChainProblem):
                self.stderr.write(f"Journal d'audit altéré : {result}")
                raise SystemExit(1)
            self.stdout.write(f"Journal d'audit intègre : {result} entrées vérifiées.")
