"""French identifiers: NIR, RPPS, FINESS (shared/reference/reference-data.md §1).

Plain functions raising Django's ValidationError with French messages, usable
as model-field validators and in CSV imports.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import luhn
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from stdnum.fr import nir as stdnum_nir


def compact_nir(value: str) -> str:
    return stdnum_nir.compact(value or "")


def validate_nir(value: str) -> None:
    """15 characters, key = 97 - (13 first digits mod 97), 2A/2B for Corsica
    (upper case only: one NIR, one spelling)."""
    if value != value.upper():
        raise ValidationError(
            _("Le NIR s'écrit en majuscules (2A, 2B pour la Corse)."), code="nir_format"
        )
    try:
        stdnum_nir.validate(value)
    except InvalidChecksum as exc:
        raise ValidationError(
            _("La clé du NIR est incorrecte."), code="nir_key"
        ) from exc
    except (InvalidFormat, InvalidLength, InvalidComponent) as exc:
        raise ValidationError(
            _(
                "Le NIR doit comporter 15 caractères (13 chiffres et une clé de 2 chiffres)."
            ),
            code="nir_format",
        ) from exc


def nir_identity_problems(nir: str, *, sex: str, birth_date: dt.date) -> list[str]:
    """Where a valid NIR disagrees with the sex and birth date it encodes.

    Sex digit 1 = M, 2 = F (7/8 are temporary numbers: not checked). The month
    is only checked when it is a real month (20-42 and 50+ mark an incomplete
    civil status).
    """
    nir = compact_nir(nir)
    problems = []
    if nir[0] in "12" and {"1": "M", "2": "F"}[nir[0]] != sex:
        problems.append(_("Le NIR ne correspond pas au sexe indiqué."))
    if nir[1:3] != f"{birth_date.year % 100:02d}":
        problems.append(_("Le NIR ne correspond pas à l'année de naissance."))
    month = int(nir[3:5])
    if 1 <= month <= 12 and month != birth_date.month:
        problems.append(_("Le NIR ne correspond pas au mois de naissance."))
    return problems


_RPPS = re.compile(r"^\d{11}$")
_FINESS = re.compile(r"^(\d{2}|2A|2B)\d{7}$")


def validate_rpps(value: str) -> None:
    """11 digits with a Luhn key over all of them."""
    if not _RPPS.match(value or ""):
        raise ValidationError(
            _("Le numéro RPPS comporte 11 chiffres."), code="rpps_format"
        )
    if not luhn.is_valid(value):
        raise ValidationError(
            _("La clé du numéro RPPS est incorrecte."), code="rpps_key"
        )


def validate_finess(value: str) -> None:
    """9 characters (department, 6 digits, key); Luhn key.

    Corsican numbers (2A/2B) are checked for format only: how their key is
    computed is not settled (reference-data.md §1.3, ❓).
    """
    value = value or ""
    if not _FINESS.match(value):
        raise ValidationError(
            _("Le numéro FINESS comporte 9 caractères."), code="finess_format"
        )
    if value[:2] not in ("2A", "2B") and not luhn.is_valid(value):
        raise ValidationError(
            _("La clé du numéro FINESS est incorrecte."), code="finess_key"
        )


_INSEE_PLACE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def validate_birth_place(value: str) -> None:
    """INSEE commune code, or 99 + country code for people born abroad."""
    if not _INSEE_PLACE.match(value or ""):
        raise ValidationError(
            _("Le lieu de naissance est un code INSEE à 5 caractères."),
            code="birth_place",
        )
