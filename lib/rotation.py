"""Master-key rotation (SEC-5): re-wrap every data key under the newest key.

Reads keep working throughout: until an object is re-wrapped, its old master
key (still configured) unwraps it. Afterwards the old key can be removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.core.files.storage import Storage, default_storage
from django.db import models, transaction
from django.db.models import Case, Value, When

from lib import crypto
from lib.fields import EncryptedTextField, Sealed, object_id


@dataclass
class RotationReport:
    rewrapped: int = 0
    current: int = 0

    def add(self, other: RotationReport) -> None:
        self.rewrapped += other.rewrapped
        self.current += other.current


def encrypted_fields() -> Iterator[tuple[type[models.Model], list[EncryptedTextField]]]:
    for model in apps.get_models():
        fields = [
            f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
        ]
        if fields:
            yield model, fields


def rotate_model(
    model: type[models.Model], fields: list[EncryptedTextField], batch: int = 1000
) -> RotationReport:
    """Keyset-paginated: one UPDATE per field and batch, never a per-row save."""
    report = RotationReport()
    primary = crypto.keyring().primary
    names = [f.attname for f in fields]
    last_pk = None
    while True:
        rows = model._default_manager.order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        page = list(rows.values_list("pk", *names)[:batch])
        if not page:
            return report
        last_pk = page[-1][0]
        updates: dict[str, dict[object, str]] = {name: {} for name in names}
        for pk, *values in page:
            for field, value in zip(fields, values, strict=True):
                if value is None:
                    continue
                if crypto.text_key_version(value) == primary:
                    report.current += 1
                    continue
                probe = model(pk=pk)
                new = crypto.rewrap_text(value, object_id(probe, field))
                updates[field.attname][pk] = new
                report.rewrapped += 1
        with transaction.atomic():
            for field in fields:
                new_values = updates[field.attname]
                if new_values:
                    whens = [
                        When(pk=pk, then=Value(Sealed(v), output_field=field))
                        for pk, v in new_values.items()
                    ]
                    model._default_manager.filter(pk__in=list(new_values)).update(
                        **{field.attname: Case(*whens, output_field=field)}
                    )


def rotate_storage(storage: Storage | None = None) -> RotationReport:
    storage = storage or default_storage
    report = RotationReport()
    for name in storage.walk():  # type: ignore[attr-defined]
        if storage.rewrap(name):  # type: ignore[attr-defined]
            report.rewrapped += 1
        else:
            report.current += 1
    return report


def count_on_old_keys(storage: Storage | None = None) -> int:
    """Objects (fields and files) whose data key is not under the primary key."""
    storage = storage or default_storage
    primary = crypto.keyring().primary
    left = 0
    for model, fields in encrypted_fields():
        for values in model._default_manager.values_list(
            *[f.attname for f in fields]
        ).iterator():
            left += sum(
                1
                for v in values
                if v is not None and crypto.text_key_version(v) != primary
            )
    for name in storage.walk():  # type: ignore[attr-defined]
        if storage.key_version(name) != primary:  # type: ignore[attr-defined]
            left += 1
    return left
