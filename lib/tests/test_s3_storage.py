"""The encrypted storage on S3 (production: MinIO in docker-compose), against
moto's in-process S3 (SEC-5, DMP-3; tests need no network)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from django.core.files.base import ContentFile
from moto import mock_aws

from lib import crypto
from lib.rotation import rotate_storage
from lib.storage import EncryptedS3Storage

PLAIN = b"Compte rendu de biologie : HbA1c 7,2 %. " * 100


@pytest.fixture
def s3(monkeypatch: Any) -> Iterator[EncryptedS3Storage]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        boto3.client("s3", region_name="eu-west-3").create_bucket(
            Bucket="mes-files",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-3"},
        )
        yield EncryptedS3Storage(
            bucket_name="mes-files", region_name="eu-west-3", file_overwrite=True
        )


def _raw(name: str) -> bytes:
    return (
        boto3.client("s3", region_name="eu-west-3")
        .get_object(Bucket="mes-files", Key=name)["Body"]
        .read()
    )


def test_objects_are_stored_encrypted_and_read_back(s3: EncryptedS3Storage) -> None:
    name = s3.save("patients/1/cr.txt", ContentFile(PLAIN))
    assert PLAIN[:30] not in _raw(name)
    assert s3.size(name) == len(PLAIN)
    with s3.open(name) as handle:
        assert handle.read() == PLAIN


def test_large_objects_round_trip(s3: EncryptedS3Storage) -> None:
    data = os.urandom(2 * crypto.CHUNK_SIZE + 5)
    name = s3.save("big.bin", ContentFile(data))
    with s3.open(name) as handle:
        assert b"".join(handle.chunks()) == data


def test_rotation_rewrites_objects_under_the_new_key(
    s3: EncryptedS3Storage, settings: Any
) -> None:
    old = "1:" + crypto.Keyring.generate_key()
    new = "2:" + crypto.Keyring.generate_key()
    settings.ENCRYPTION_KEYS = old
    names = [
        s3.save(f"p/{i}.txt", ContentFile(PLAIN + str(i).encode())) for i in range(5)
    ]
    settings.ENCRYPTION_KEYS = f"{new},{old}"
    assert rotate_storage(s3).rewrapped == 5
    settings.ENCRYPTION_KEYS = new
    for i, name in enumerate(names):
        assert s3.key_version(name) == 2
        with s3.open(name) as handle:
            assert handle.read() == PLAIN + str(i).encode()
