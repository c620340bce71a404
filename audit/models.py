from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

code_validator = RegexValidator(r"^[a-z0-9_.:-]*$", "Codes only: no free text.")


class AuditEvent(models.Model):
    """One audit entry, shaped like a FHIR AuditEvent (SEC-4, STYLE R13).

    Ids and codes only, never health text. Append-only (a PostgreSQL trigger
    refuses UPDATE and DELETE) and hash-chained: `hash` is an HMAC of the
    entry's canonical form, which includes the previous entry's hash.
    """

    class Action(models.TextChoices):
        CREATE = "C", _("Création")
        READ = "R", _("Lecture")
        UPDATE = "U", _("Modification")
        DELETE = "D", _("Suppression")
        EXECUTE = "E", _("Exécution")
        LOGIN = "login", _("Connexion")
        LOGOUT = "logout", _("Déconnexion")

    class Outcome(models.TextChoices):
        # FHIR AuditEvent.outcome codes
        SUCCESS = "0", _("Succès")
        MINOR_FAILURE = "4", _("Échec (refus)")
        SERIOUS_FAILURE = "8", _("Échec grave")
        MAJOR_FAILURE = "12", _("Échec majeur")

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
        """HMAC-SHA256 of the canonical form of an entry (CNIL: sign at creation)."""
        return canonical_hash(
            tuple(values[name] for name in AuditEvent.CANONICAL_FIELDS)
        )


# Canonical form: a JSON array of the CANONICAL_FIELDS values in that order,
# times in UTC with microseconds. One encoder, built once (hot path).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, default=str)
_RECORDED_AT = AuditEvent.CANONICAL_FIELDS.index("recorded_at")


def canonical_hash(row: tuple[Any, ...]) -> str:
    """`row` holds the CANONICAL_FIELDS values in order; `recorded_at` may be
    given already formatted (batch appends format one time for all rows)."""
    values = list(row)
    when = values[_RECORDED_AT]
    if not isinstance(when, str):
        values[_RECORDED_AT] = canonical_time(when)
    mac = _keyed_sha256().copy()
    mac.update(_ENCODER.encode(values).encode())
    return mac.hexdigest()


def canonical_time(when: Any) -> str:
    if when.tzinfo is not UTC:
        when = when.astimezone(UTC)
    return str(when.isoformat(timespec="microseconds"))


def _keyed_sha256() -> hmac.HMAC:
    """The HMAC state after the key, computed once per key (copied per entry)."""
    key: str = settings.AUDIT_CHAIN_KEY
    cached = _KEYED.get(key)
    if cached is None:
        _KEYED.clear()
        cached = _KEYED[key] = hmac.new(key.encode(), digestmod=hashlib.sha256)
    return cached


_KEYED: dict[str, hmac.HMAC] = {}
