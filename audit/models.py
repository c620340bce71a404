from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

code_validator = RegexValidator(r"^[a-z0-9_.:-]*$", "Codes only: no free text.")


class AuditEvent(models.Model):
    """One audit entry, shaped like a FHIR AuditEvent (SEC-4, STYLE R13).

    Ids and codes only, never health text. Append-only (a PostgreSQL trigger
    refuses UPDATE and DELETE) and hash-chained: `hash` is an HMAC of the
    entry's canonical form, which includes the previous entry's hash.
    """

    class Action(models.TextChoices):
        CREATE = "C", "Création"
        READ = "R", "Lecture"
        UPDATE = "U", "Modification"
        DELETE = "D", "Suppression"
        EXECUTE = "E", "Exécution"
        LOGIN = "login", "Connexion"
        LOGOUT = "logout", "Déconnexion"

    class Outcome(models.TextChoices):
        # FHIR AuditEvent.outcome codes
        SUCCESS = "0", "Succès"
        MINOR_FAILURE = "4", "Échec (refus)"
        SERIOUS_FAILURE = "8", "Échec grave"
        MAJOR_FAILURE = "12", "Échec majeur"

    seq = models.BigIntegerField(unique=True, editable=False)
    recorded_at = models.DateTimeField(editable=False)
    action = models.CharField(max_length=8, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # "patient", "professional", "agent", "system", "service"
    actor_role = models.CharField(max_length=16, validators=[code_validator])
    # Beneficiary id (a plain id: the log outlives purged records).
    patient_id = models.BigIntegerField(null=True, blank=True)
    target_type = models.CharField(max_length=64, validators=[code_validator])
    target_id = models.CharField(max_length=64, blank=True, validators=[code_validator])
    outcome = models.CharField(
        max_length=2, choices=Outcome.choices, default=Outcome.SUCCESS
    )
    # Why, as a code: "emergency", "login.failed", "policy.blocked" …
    code = models.CharField(max_length=64, blank=True, validators=[code_validator])
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(
                fields=["patient_id", "recorded_at"], name="audit_patient_time"
            ),
            models.Index(fields=["actor", "recorded_at"], name="audit_actor_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_type}:{self.target_id}"

    CANONICAL_FIELDS = (
        "seq",
        "recorded_at",
        "action",
        "actor_id",
        "actor_role",
        "patient_id",
        "target_type",
        "target_id",
        "outcome",
        "code",
        "remote_addr",
        "request_id",
        "prev_hash",
    )

    @staticmethod
    def compute_hash(values: dict[str, Any]) -> str:
        """HMAC-SHA256 of the canonical JSON of an entry (CNIL: sign at creation)."""
        canonical = {}
        for name in AuditEvent.CANONICAL_FIELDS:
            value = values[name]
            if name == "recorded_at":
                value = value.astimezone(UTC).isoformat(timespec="microseconds")
            canonical[name] = value
        payload = json.dumps(
            canonical, sort_keys=True, separators=(",", ":"), default=str
        )
        key = settings.AUDIT_CHAIN_KEY.encode()
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
