"""Timing helpers, the result table and the per-run context shared by benches."""

from __future__ import annotations

import gc
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

TIMES = "\N{MULTIPLICATION SIGN}"


@dataclass
class Row:
    """One printed figure; a goal is either a ratio cap or a value cap."""

    figure: str
    value: float
    unit: str  # "us", "s", "/s", "" (a count)
    baseline: float | None = None
    max_ratio: float | None = None
    max_value: float | None = None
    goal_id: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline <= 0:
            return None
        return self.value / self.baseline

    @property
    def goal(self) -> str:
        if self.max_ratio is not None:
            text = f"≤ {self.max_ratio:g}{TIMES}"
        elif self.max_value is not None:
            unit = {"us": " µs", "s": " s"}.get(self.unit, self.unit)
            text = "= 0" if self.max_value == 0 else f"≤ {self.max_value:g}{unit}"
        else:
            return ""
        return f"{text} {self.goal_id}".strip()

    @property
    def verdict(self) -> str:
        if self.max_ratio is not None:
            ratio = self.ratio
            return (
                "" if ratio is None else ("PASS" if ratio <= self.max_ratio else "MISS")
            )
        if self.max_value is not None:
            return "PASS" if self.value <= self.max_value else "MISS"
        return ""


def fmt(value: float, unit: str) -> str:
    if unit == "us":
        if value >= 10_000:
            return f"{value / 1000:,.1f} ms"
        return f"{value:,.1f} µs" if value < 100 else f"{value:,.0f} µs"
    if unit == "s":
        return f"{value:,.2f} s" if value < 100 else f"{value:,.0f} s"
    if unit == "/s":
        return f"{value:,.0f}/s"
    return f"{value:,.0f}{unit}"


def print_table(title: str, rows: list[Row]) -> None:
    headers = ("figure", "value", "baseline", "ratio", "goal", "")
    lines = [
        (
            row.figure,
            fmt(row.value, row.unit),
            "" if row.baseline is None else fmt(row.baseline, row.unit),
            "" if row.ratio is None else f"{row.ratio:.2f}{TIMES}",
            row.goal,
            row.verdict,
        )
        for row in rows
    ]
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)
    ]
    print(f"\n== {title}")

    def emit(cells: tuple[str, ...]) -> None:
        text = "  ".join(
            cell.ljust(width) if i in (0, 4) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        print(text.rstrip())

    emit(headers)
    emit(tuple("-" * w for w in widths))
    for line in lines:
        emit(line)


@contextmanager
def no_gc() -> Iterator[None]:
    """Collections would land in whichever side happens to allocate last."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def compare(
    baseline: Callable[[int], object],
    ours: Callable[[int], object],
    *,
    reps: int,
    warmup: int,
    rounds: int = 10,
    between: Callable[[int], object] | None = None,
) -> tuple[float, float]:
    """Median µs per call of each callable, `reps` calls each.

    The two alternate in `rounds` blocks, so that drift (other processes, CPU
    frequency) hits both alike, while each block runs in its own steady state:
    strict one-to-one alternation lets the allocator churn of one side (glibc
    trims and re-faults freed megabytes) land on the other's first call.
    Each call gets its repetition index (for unique names, negative during
    warm-up); `between` runs after each call, untimed (clean-up).
    """
    clock = time.perf_counter_ns
    timings: tuple[list[int], list[int]] = ([], [])
    block = max(1, -(-reps // rounds))

    def run_block(side: int, start: int, count: int, record: bool) -> None:
        fn = (baseline, ours)[side]
        for i in range(start, start + count):
            begin = clock()
            fn(i)
            elapsed = clock() - begin
            if record:
                timings[side].append(elapsed)
            if between is not None:
                between(i)

    run_block(0, -warmup, warmup, record=False)
    run_block(1, -warmup, warmup, record=False)
    with no_gc():
        for start in range(0, reps, block):
            count = min(block, reps - start)
            run_block(0, start, count, record=True)
            run_block(1, start, count, record=True)
    return statistics.median(timings[0]) / 1000, statistics.median(timings[1]) / 1000


def wall(fn: Callable[[], object]) -> tuple[float, object]:
    """Seconds taken by one call, and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


@dataclass
class Context:
    """What run.py prepared: a scratch directory and a database to migrate."""

    root: Path
    database_note: str
    _migrated: bool = field(default=False, repr=False)

    def scratch(self, name: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))
        return path

    def drop_scratch(self, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def database(self) -> str:
        """Migrate the bench database once; return its vendor."""
        from django.core.management import call_command
        from django.db import connection

        if not self._migrated:
            call_command("migrate", verbosity=0, interactive=False)
            self._migrated = True
        return connection.vendor
