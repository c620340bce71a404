"""Provisional codes (LC-3, G-S5): issue, check, consume.

- 12 symbols drawn with `secrets` from a 31-symbol alphabet with no look-alike
  characters (no 0/O, 1/I/L): 12 × log2(31) ≈ 59.4 bits, above the 50-bit
  floor of G-S5. Shown as `XXXX-XXXX-XXXX`; typed with or without dashes or
  spaces, in any case.
- Stored only as HMAC-SHA256 under `settings.CODE_HASH_KEY`: a stolen table
  gives nothing to brute-force offline without the key.
- Valid 6 weeks from sending (the code is issued at sending time), single use;
  issuing a code revokes the space's older unused ones, so only the newest
  code sent ever works.
- 5 wrong codes lock the current code (then only a new code works). Only a
  wrong code given with the right NIR and carte Vitale serial (and birth date)
  counts: someone who knows just a NIR cannot lock its holder out. Every
  failure, whatever its cause, also counts per client address (cache), 20
  per hour by default.
- Every mismatch — unknown NIR, wrong carte Vitale serial, wrong birth date,
  wrong, expired, used, revoked or locked code — gives the same French error,
  so the answer never tells whether a NIR exists.

Settings read here (all optional): `CODE_THROTTLE_FAILURES` (20 failed
checks per address), `NEW_CODE_THROTTLE_REQUESTS` (10 requests for a new
code per address), `NEW_CODE_MAX_PER_SPACE` (5 new codes per space) and
`CODE_THROTTLE_SECONDS` (3600, the window of all three).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from espace.models import Beneficiary, ProvisionalCode, Space

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # 31 symbols, no 0 O 1 I L
LENGTH = 12
GROUP = 4
VALIDITY = timedelta(weeks=6)  # LC-3: 6 weeks from sending (A2.4)
MAX_FAILURES = 5  # G-S5: lock after 5 wrong codes
# Spaces that may be given a new code: not a suspended one (LC-9: fraud), and
# not a purged one (nothing left to open).
CODE_STATES = (
    Space.State.PENDING,
    Space.State.INFORMED,
    Space.State.OPPOSED,
    Space.State.ACTIVATED,
    Space.State.AUTO_OPENED,
    Space.State.CLOSED,
)

# A constant digest compared against when the NIR is unknown, so that both
# paths do the same HMAC and comparison work.
_NO_HASH = "0" * 64


def _identify_error() -> ValidationError:
    return ValidationError(
        _("Les informations saisies ne permettent pas de vous identifier."),
        code="invalid",
    )


# ---------------------------------------------------------------- format


def code_generate() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def code_display(code: str) -> str:
    """`ABCDEFGHJKMN` → `ABCD-EFGH-JKMN`."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def code_normalize(typed: str) -> str:
    """What the person typed → the stored form (no separators, upper case)."""
    return "".join(ch for ch in typed.upper() if ch not in " -\t\u00a0")


def code_hash(code: str) -> str:
    key = str(settings.CODE_HASH_KEY).encode()
    return hmac.new(key, code_normalize(code).encode(), hashlib.sha256).hexdigest()


def _normalize_nir(nir: str) -> str:
    return "".join(nir.split()).upper()


def _normalize_serial(serial: str) -> str:
    return "".join(serial.split())


# ---------------------------------------------------------------- throttling
# In the cache (Redis in production), a fixed window that starts at the first
# hit. Per client address: "code" counts failed checks, "new-code" requests
# for a new code; "new-code-space" counts new codes sent to one space.

THROTTLE_LIMITS = {
    "code": ("CODE_THROTTLE_FAILURES", 20),
    "new-code": ("NEW_CODE_THROTTLE_REQUESTS", 10),
    "new-code-space": ("NEW_CODE_MAX_PER_SPACE", 5),
}


def _throttle_key(bucket: str, client_address: str) -> str:
    return f"lc3:throttle:{bucket}:{client_address or '-'}"


def _throttle_limit(bucket: str) -> int:
    name, default = THROTTLE_LIMITS[bucket]
    return int(getattr(settings, name, default))


def _throttle_seconds() -> int:
    return int(getattr(settings, "CODE_THROTTLE_SECONDS", 3600))


def throttle_exceeded(*, bucket: str, client_address: str) -> bool:
    """True once this address has used up its budget for the window."""
    used = int(cache.get(_throttle_key(bucket, client_address), 0))
    return used >= _throttle_limit(bucket)


def throttle_hit(*, bucket: str, client_address: str) -> None:
    key = _throttle_key(bucket, client_address)
    cache.add(key, 0, timeout=_throttle_seconds())  # only sets a missing key
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=_throttle_seconds())


def throttled_error() -> ValidationError:
    return ValidationError(
        _(
            "Trop de tentatives depuis votre connexion. Réessayez dans une heure "
            "ou appelez le 3422."
        ),
        code="throttled",
    )


# ---------------------------------------------------------------- services


@transaction.atomic
def code_issue(*, space: Space, channel: str) -> str:
    """LC-3: a new provisional code for `space`, valid 6 weeks from now.

    Call it when the message goes out (sending starts the 6 weeks). Older
    unused codes of the space are revoked. Returns the plain code, for the
    message only: it is stored nowhere.
    """
    now = timezone.now()
    ProvisionalCode.objects.filter(
        space=space, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    code = code_generate()
    row = ProvisionalCode(
        space=space,
        code_hash=code_hash(code),
        channel=channel,
        expires_at=now + VALIDITY,
    )
    row.full_clean()
    row.save()
    audit_record(
        actor=None,
        action=AuditEvent.Action.CREATE,
        target=row,
        patient=space.beneficiary_id,
        code=f"lc3.code_issued.{channel}",
    )
    return code


def beneficiary_identify(
    *, nir: str, vitale_serial: str, birth_date: dt.date | None
) -> Beneficiary | None:
    """The beneficiary matching all the given traits, else None.

    The carte Vitale serial must match exactly (spaces aside); a beneficiary
    with no serial on file never matches. The birth date is checked when given.
    """
    beneficiary = (
        Beneficiary.objects.select_related("space")
        .filter(nir=_normalize_nir(nir))
        .first()
    )
    stored_serial = _normalize_serial(beneficiary.vitale_serial) if beneficiary else ""
    serial_ok = hmac.compare_digest(
        stored_serial.encode(), _normalize_serial(vitale_serial).encode()
    )
    if beneficiary is None or not stored_serial or not serial_ok:
        return None
    if birth_date is not None and beneficiary.birth_date != birth_date:
        return None
    return beneficiary


def code_check(
    *,
    nir: str,
    vitale_serial: str,
    birth_date: dt.date | None,
    code: str,
    client_address: str,
) -> ProvisionalCode:
    """LC-3/LC-4/LC-6: the provisional code is right for this person.

    Returns the code row (its `space` loaded) for `code_consume`. Raises one
    generic ValidationError (code "invalid") for any mismatch, or code
    "throttled" once the client address has failed too often.

    A wrong code for an identified person counts against the space's current
    code; the 5th locks it. Not wrapped in a transaction on purpose: the
    failure counts must survive the error raised right after them, so call it
    outside any `atomic` block that the error would roll back.
    """
    if throttle_exceeded(bucket="code", client_address=client_address):
        raise throttled_error()
    now = timezone.now()
    digest = code_hash(code)
    beneficiary = beneficiary_identify(
        nir=nir, vitale_serial=vitale_serial, birth_date=birth_date
    )
    space: Space | None = getattr(beneficiary, "space", None) if beneficiary else None
    current = (
        ProvisionalCode.objects.filter(space=space, revoked_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
        if space is not None
        else None
    )
    # Same comparison work whether or not a code was found.
    matches = hmac.compare_digest(
        digest, current.code_hash if current is not None else _NO_HASH
    )
    if current is None or space is None:
        throttle_hit(bucket="code", client_address=client_address)
        raise _identify_error()
    if not matches:
        _code_failed(current, now, patient_id=space.beneficiary_id)
        throttle_hit(bucket="code", client_address=client_address)
        raise _identify_error()
    if (
        current.locked_at is not None
        or current.used_at is not None
        or now >= current.expires_at
    ):
        throttle_hit(bucket="code", client_address=client_address)
        raise _identify_error()
    current.space = space
    return current


def _code_failed(row: ProvisionalCode, now: dt.datetime, *, patient_id: int) -> None:
    """Count one wrong code; the 5th locks the code (one atomic UPDATE)."""
    with transaction.atomic():
        ProvisionalCode.objects.filter(pk=row.pk, locked_at__isnull=True).update(
            failed_attempts=F("failed_attempts") + 1,
            # The right-hand side sees the value before this update.
            locked_at=Case(
                When(failed_attempts__gte=MAX_FAILURES - 1, then=Value(now)),
                default=None,
            ),
        )
        locked = ProvisionalCode.objects.filter(pk=row.pk, locked_at=now).exists()
        if locked:
            audit_record(
                actor=None,
                action=AuditEvent.Action.UPDATE,
                target=row,
                patient=patient_id,
                outcome=AuditEvent.Outcome.MINOR_FAILURE,
                code="lc3.code_locked",
            )


@transaction.atomic
def code_consume(*, code_row: ProvisionalCode) -> ProvisionalCode:
    """LC-3: the code has served once and never works again.

    Conditional UPDATE: of two requests racing with the same code, one wins
    and the other gets the generic error.
    """
    now = timezone.now()
    used = ProvisionalCode.objects.filter(
        pk=code_row.pk,
        used_at__isnull=True,
        revoked_at__isnull=True,
        locked_at__isnull=True,
        expires_at__gt=now,
    ).update(used_at=now)
    if used != 1:
        raise _identify_error()
    code_row.used_at = now
    audit_record(
        actor=None,
        action=AuditEvent.Action.UPDATE,
        target=code_row,
        patient=code_row.space.beneficiary_id,
        code="lc3.code_used",
    )
    return code_row
