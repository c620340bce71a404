"""An encrypted text model field (SEC-5): each value has its own data key.

The associated data is `<app_label>.<model>.<field>:<pk>`, so a ciphertext
copied to another row or column does not decrypt. That needs the primary key
before the first save: models using this field have a client-side primary key
(UUID), which a system check enforces.

Values are decrypted lazily, on attribute access, and never re-encrypted unless
they changed. The database only ever receives ciphertext: a plain string given
to `update()` or `bulk_update()` is refused rather than stored in clear.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import models

from lib import crypto


class Sealed(str):
    """A ciphertext as stored in the database (not yet decrypted)."""


def object_id(instance: models.Model, field: models.Field) -> str:  # type: ignore[type-arg]
    meta = instance._meta
    return f"{meta.app_label}.{meta.model_name}.{field.name}:{instance.pk}"


class _Descriptor:
    def __init__(self, field: EncryptedTextField) -> None:
        self.field = field

    def __get__(self, instance: models.Model | None, owner: type) -> Any:
        if instance is None:
            return self
        if self.field.attname not in instance.__dict__:  # deferred field
            instance.refresh_from_db(fields=[self.field.attname])
        value = instance.__dict__.get(self.field.attname)
        if isinstance(value, Sealed):
            value = crypto.unseal_text(value, object_id(instance, self.field))
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: models.Model, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    description = "Texte chiffré (AES-256-GCM, clé par objet)"

    def contribute_to_class(
        self, cls: type, name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only)
        setattr(cls, self.attname, _Descriptor(self))

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        pk = self.model._meta.pk
        if pk is not None and (pk.get_default() is None and not pk.has_default()):
            errors.append(
                checks.Error(
                    "EncryptedTextField needs a primary key set before saving "
                    "(e.g. UUIDField(default=uuid.uuid4)).",
                    obj=self,
                    id="lib.E001",
                )
            )
        return errors

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else Sealed(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        if value is None or isinstance(value, Sealed):
            return value
        if model_instance.pk is None:
            raise ValueError("an encrypted value needs the object's primary key")
        return Sealed(crypto.seal_text(str(value), object_id(model_instance, self)))

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisers (dumpdata, fixtures) get the ciphertext, never the text.
        sealed = self.pre_save(obj, add=False)
        return "" if sealed is None else str(sealed)

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, Sealed):
            return value
        if hasattr(value, "resolve_expression"):
            return value
        raise TypeError(
            "EncryptedTextField only stores ciphertext: save the object instead"
        )
