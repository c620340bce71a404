"""`manage.py rotate_keys` (SEC-5): reads keep working, none left on the old key."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from lib import crypto

OLD = "1:" + crypto.Keyring.generate_key()
NEW = "2:" + crypto.Keyring.generate_key()


def _check() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("rotate_keys", "--check", stdout=out)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_rotation_moves_every_file_to_the_new_key(settings: Any) -> None:
    settings.ENCRYPTION_KEYS = OLD
    names = [
        default_storage.save(f"d/{i}.pdf", ContentFile(b"%PDF-1.4 " * i))
        for i in range(20)
    ]
    settings.ENCRYPTION_KEYS = f"{NEW},{OLD}"
    assert _check() == (
        1,
        "20 objet(s) encore sous une ancienne clé (clé courante : v2).\n",
    )
    with default_storage.open(names[3]) as handle:  # still readable mid-rotation
        assert handle.read() == b"%PDF-1.4 " * 3
    out = StringIO()
    call_command("rotate_keys", stdout=out)
    assert "20 re-chiffré(s)" in out.getvalue()
    assert _check()[0] == 0
    settings.ENCRYPTION_KEYS = NEW  # the old key can now go
    with default_storage.open(names[7]) as handle:
        assert handle.read() == b"%PDF-1.4 " * 7
