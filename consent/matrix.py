"""The access matrix file (CONS-1, G-S2): read, and loaded into AccessRule."""

from __future__ import annotations

from pathlib import Path

MATRIX_FILE = Path(__file__).parent / "fixtures" / "access_matrix.csv"


def matrix_cells(path: Path = MATRIX_FILE) -> dict[tuple[str, str], bool]:
    """(profession, class_code) -> allowed, for every cell of the file."""
    lines = [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    header = lines[0].split(";")
    classes = header[1:]
    cells: dict[tuple[str, str], bool] = {}
    for line in lines[1:]:
        profession, *values = line.split(";")
        if len(values) != len(classes):
            raise ValueError(f"matrix row {profession}: {len(values)} cells")
        for class_code, value in zip(classes, values, strict=True):
            if value not in ("oui", "non"):
                raise ValueError(f"matrix cell {profession}×{class_code}: {value!r}")
            cells[(profession, class_code)] = value == "oui"
    return cells


def matrix_load(model: type, path: Path = MATRIX_FILE) -> int:
    """Create the missing cells (existing ones keep the agents' edits)."""
    existing = set(model.objects.values_list("profession", "class_code"))  # type: ignore[attr-defined]
    rows = [
        model(profession=profession, class_code=class_code, allowed=allowed)
        for (profession, class_code), allowed in matrix_cells(path).items()
        if (profession, class_code) not in existing
    ]
    model.objects.bulk_create(rows)  # type: ignore[attr-defined]
    return len(rows)
