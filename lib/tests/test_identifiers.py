"""NIR, RPPS and FINESS validators, on the examples of reference-data.md §1."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from lib.identifiers import (
    nir_identity_problems,
    validate_birth_place,
    validate_finess,
    validate_nir,
    validate_rpps,
)


@pytest.mark.parametrize(
    "nir", ["295109912611193", "253072B07300470", "253072A07300443", "279035121518989"]
)
def test_it_accepts_valid_nirs_including_corsica(nir: str) -> None:
    validate_nir(nir)


def test_it_accepts_spaces_in_a_nir() -> None:
    validate_nir("2 95 10 99 126 111 93")


def test_it_rejects_a_bad_nir_key() -> None:
    with pytest.raises(ValidationError) as error:
        validate_nir("295109912611199")
    assert error.value.code == "nir_key"
    assert "clé" in error.value.messages[0]


@pytest.mark.parametrize(
    "nir", ["253072C07300443", "2951099126111", "", "ABCDEFGHIJKLMNO"]
)
def test_it_rejects_a_malformed_nir(nir: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_nir(nir)
    assert error.value.code == "nir_format"


def test_nir_matching_its_identity_has_no_problem() -> None:
    assert (
        nir_identity_problems(
            "279035121518989", sex="F", birth_date=dt.date(1979, 3, 14)
        )
        == []
    )


def test_nir_not_matching_sex_or_birth_date_is_reported() -> None:
    problems = nir_identity_problems(
        "279035121518989", sex="M", birth_date=dt.date(1980, 4, 1)
    )
    assert len(problems) == 3


def test_unknown_birth_month_is_not_checked() -> None:
    # 20-42 and 50+ mark an incomplete civil status: only sex and year count.
    nir = "1792051215189"
    nir += f"{97 - int(nir) % 97:02d}"
    validate_nir(nir)
    assert nir_identity_problems(nir, sex="M", birth_date=dt.date(1979, 7, 1)) == []


@pytest.mark.parametrize("rpps", ["99700218896", "99700771191"])
def test_it_accepts_valid_rpps(rpps: str) -> None:
    validate_rpps(rpps)


def test_it_rejects_an_rpps_failing_luhn() -> None:
    with pytest.raises(ValidationError) as error:
        validate_rpps("10102727017")
    assert error.value.code == "rpps_key"


@pytest.mark.parametrize("rpps", ["9970021889", "997002188961", "9970021889A", ""])
def test_it_rejects_an_rpps_of_the_wrong_shape(rpps: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_rpps(rpps)
    assert error.value.code == "rpps_format"


@pytest.mark.parametrize("finess", ["750712184", "690781810", "130786049", "310781406"])
def test_it_accepts_valid_finess(finess: str) -> None:
    validate_finess(finess)


def test_it_rejects_a_finess_failing_luhn() -> None:
    with pytest.raises(ValidationError) as error:
        validate_finess("750712185")
    assert error.value.code == "finess_key"


def test_corsican_finess_is_checked_for_format_only() -> None:
    validate_finess("2A0000017")
    with pytest.raises(ValidationError):
        validate_finess("2C0000017")


@pytest.mark.parametrize("code", ["51215", "2A004", "99126"])
def test_it_accepts_insee_birth_places(code: str) -> None:
    validate_birth_place(code)


@pytest.mark.parametrize("code", ["5121", "2C004", "ABCDE"])
def test_it_rejects_bad_birth_places(code: str) -> None:
    with pytest.raises(ValidationError):
        validate_birth_place(code)
