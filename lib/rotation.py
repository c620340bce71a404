"""Master-key rotation (SEC-5): re-wrap every data key under the newest key.

Reads keep working throughout: until an object is re-wrapped, its old master
key (still configured) unwraps it. Afterwards the old key can be removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.core.files.storage import Storage, default_storage
from django.db import connection, models, transaction

from lib import crypto
from lib.fields import EncryptedTextField, object_id


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
    """Keyset-paginated; one `executemany` UPDATE per batch, never a per-row save.

    Each row is updated only if its ciphertexts are still the ones read: a value
    rewritten meanwhile (already under the primary key) is left alone.
    """
    report = RotationReport()
    primary = crypto.keyring().primary
    names = [f.attname for f in fields]
    quote = connection.ops.quote_name
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    sql = "UPDATE {} SET {} WHERE {} = %s AND {}".format(  # noqa: S608 - names from the model
        quote(model._meta.db_table),
        ", ".join(f"{quote(f.column)} = %s" for f in fields),
        quote(model._meta.pk.column),
        " AND ".join(f"{quote(f.column)} {same} %s" for f in fields),
    )
    pk_field = model._meta.pk
    last_pk = None
    while True:
        rows = model._default_manager.order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        page = list(rows.values_list("pk", *names)[:batch])
        if not page:
            return report
        last_pk = page[-1][0]
        params = []
        for pk, *values in page:
            old_values = list(values)
            new_values = []
            changed = False
            for field, value in zip(fields, values, strict=True):
                if value is not None and crypto.text_key_version(value) != primary:
                    value = crypto.rewrap_text(value, object_id(model(pk=pk), field))
                    changed = True
                    report.rewrapped += 1
                elif value is not None:
                    report.current += 1
                new_values.append(value)
            if changed:
                pk_db = pk_field.get_db_prep_value(pk, connection)
                params.append([*new_values, pk_db, *old_values])
        if params:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, params)


def rotate_storage(storage: Storage | None = None) -> RotationReport:
    storage = storage or default_storage
    report = RotationReport()
    for name in storage.walk():  # type: ignore[attr-defined]
        if storage.rewrap(name):  # type: ignore[attr-defined]
            report.rewrapped += 1
        else:
            report.current += 1
    storage.sync()  # type: ignore[attr-defined]
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
