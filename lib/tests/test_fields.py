"""The encrypted text field, rotation of its keys, and the dump test (SEC-5)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, models

from lib import crypto
from lib.fields import EncryptedTextField, Sealed
from lib.rotation import rotate_model

SECRET_NOTE = "Suivi oncologique : chimiotherapie cycle 3"
SECRET_FILE = b"Serologie VIH positive, annonce prevue le 12"


class Note(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    body = EncryptedTextField()
    extra = EncryptedTextField(null=True)

    class Meta:
        app_label = "lib_tests"

    def __str__(self) -> str:
        return str(self.pk)


@pytest.fixture
def note_table(transactional_db: object) -> Iterator[None]:
    with connection.schema_editor() as editor:
        editor.create_model(Note)
    yield
    with connection.schema_editor() as editor:
        editor.delete_model(Note)


def _raw_body(pk: uuid.UUID) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT body FROM {Note._meta.db_table} WHERE id = %s",  # noqa: S608
            [pk.hex if connection.vendor == "sqlite" else pk],
        )
        return str(cursor.fetchone()[0])


def test_values_are_stored_encrypted_and_read_in_clear(note_table: None) -> None:
    note = Note.objects.create(body=SECRET_NOTE)
    assert _raw_body(note.pk).startswith(crypto.TEXT_PREFIX)
    assert SECRET_NOTE not in _raw_body(note.pk)
    again = Note.objects.get(pk=note.pk)
    assert again.body == SECRET_NOTE
    assert again.extra is None


def test_a_ciphertext_copied_to_another_row_does_not_decrypt(note_table: None) -> None:
    a = Note.objects.create(body="A")
    b = Note.objects.create(body="B")
    Note.objects.filter(pk=b.pk).update(body=Sealed(_raw_body(a.pk)))
    with pytest.raises(crypto.DecryptionError):
        Note.objects.get(pk=b.pk).body  # noqa: B018


def test_plaintext_never_reaches_the_database_through_update(note_table: None) -> None:
    note = Note.objects.create(body="x")
    with pytest.raises(TypeError):
        Note.objects.filter(pk=note.pk).update(body="en clair")
    with pytest.raises(TypeError):
        note.body = "en clair"
        Note.objects.bulk_update([note], ["body"])


def test_unchanged_values_are_not_re_encrypted(note_table: None) -> None:
    note = Note.objects.create(body="stable")
    before = _raw_body(note.pk)
    loaded = Note.objects.get(pk=note.pk)
    loaded.save()
    assert _raw_body(note.pk) == before
    loaded.body = "changé"
    loaded.save()
    assert _raw_body(note.pk) != before


def test_deferred_values_load_on_access(note_table: None) -> None:
    note = Note.objects.create(body="différé")
    assert Note.objects.defer("body").get(pk=note.pk).body == "différé"


def test_rotation_of_10000_values_leaves_none_on_the_old_key(
    note_table: None, settings: object
) -> None:
    old = "1:" + crypto.Keyring.generate_key()
    new = "2:" + crypto.Keyring.generate_key()
    settings.ENCRYPTION_KEYS = old  # type: ignore[attr-defined]
    notes = [Note(body=f"note {i}") for i in range(10_000)]
    for note in notes:  # seal as a save would, then insert in bulk
        note.body = Sealed(Note._meta.get_field("body").pre_save(note, add=True))
    Note.objects.bulk_create(notes, batch_size=2000)
    settings.ENCRYPTION_KEYS = f"{new},{old}"  # type: ignore[attr-defined]
    fields = [Note._meta.get_field("body"), Note._meta.get_field("extra")]
    report = rotate_model(Note, fields, batch=2000)  # type: ignore[arg-type]
    assert report.rewrapped == 10_000
    settings.ENCRYPTION_KEYS = new  # type: ignore[attr-defined]
    versions = {
        crypto.text_key_version(v) for v in Note.objects.values_list("body", flat=True)
    }
    assert versions == {2}
    sample = Note.objects.order_by("?")[:20]
    assert all(n.body.startswith("note ") for n in sample)


def _dump_database() -> str:
    if connection.vendor == "postgresql":
        name = connection.settings_dict["NAME"]
        params = connection.get_connection_params()
        result = subprocess.run(
            [
                "pg_dump",
                "-h",
                str(params.get("host") or "127.0.0.1"),
                "-p",
                str(params.get("port") or 5432),
                "-U",
                str(params.get("user") or "postgres"),
                "--data-only",
                name,
            ],
            capture_output=True,
            check=True,
            text=True,
        )
        return result.stdout
    return "\n".join(connection.connection.iterdump())


def test_database_dump_and_storage_folder_hold_no_plaintext(note_table: None) -> None:
    """SEC-5: a dump of the database and of the storage folder shows no content."""
    Note.objects.create(body=SECRET_NOTE, extra=SECRET_NOTE.upper())
    default_storage.save("patients/42/document.txt", ContentFile(SECRET_FILE))
    dump = _dump_database()
    assert "lib_tests_note" in dump  # the table was dumped
    assert SECRET_NOTE not in dump and SECRET_NOTE.upper() not in dump
    folder = Path(default_storage.location)  # type: ignore[attr-defined]
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    for path in files:
        content = path.read_bytes()
        assert SECRET_FILE not in content and SECRET_FILE[:20] not in content
