"""Load the access matrix baseline (consent/fixtures/access_matrix.csv)."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from consent.matrix import matrix_load

    matrix_load(apps.get_model("consent", "AccessRule"))


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
