"""Comparing a run's tables with the committed ones, cell by cell, within tolerance.

Nothing is re-trained when the committed chapters are checked: every model comes from
the shipped weights (:mod:`nar_slp.weights`). What can still differ between two
machines is floating-point rounding (BLAS/oneDNN kernels, the CPU's vector width,
the thread count) and what amplifies it (PT's autoregressive decoding and its
counter stop, beam search). So each compared table ``<table>.csv`` of the reference
has a ``<table>_tol.csv``: the tolerance of every cell, measured from runs of the
same chapters over the same weights under other floating-point conditions
(``benchmarks/measure_tolerance.py``; how: ``docs/reproducibility.md``)::

    tol = max(FACTOR * |d|, FACTOR * r_col * |committed|, EXACT)

``d`` is the largest difference of the cell over the measured runs, ``r_col`` the
largest relative difference over its column (a cell computed the way its column's
moving cells are may move where the measurement did not show it), ``FACTOR`` a
margin for machines not measured. A table without a ``_tol.csv`` is not compared
(listed as such); a check that compares nothing fails.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from nar_slp.results_table import ResultsTable

TOL_SUFFIX = "_tol"
EXACT = 1e-9  # cells that never moved must match to this
FACTOR = 10.0  # tolerance = FACTOR x the measured floating-point difference
# companion tables of a results folder, never compared themselves
COMPANIONS = ("_se", "_sd", TOL_SUFFIX)


class ResultsMismatchError(AssertionError):
    """A run's tables differ from the committed ones beyond tolerance."""


@dataclass(frozen=True)
class Mismatch:
    """One cell (or a whole row/column/table) that does not reproduce."""

    table: str
    system: str = "-"
    column: str = "-"
    committed: float = math.nan
    new: float = math.nan
    tolerance: float = 0.0
    reason: str = "beyond tolerance"

    def __str__(self) -> str:
        where = f"{self.table}: row {self.system!r}, column {self.column!r}"
        if self.reason != "beyond tolerance":
            return f"{where}: {self.reason}"
        return (
            f"{where}: committed {self.committed:.6g}, new {self.new:.6g}, "
            f"|difference| {abs(self.new - self.committed):.3g} > tolerance "
            f"{self.tolerance:.3g}"
        )


@dataclass(frozen=True)
class CheckReport:
    """What was compared and what failed."""

    tables: list[str]
    n_cells: int
    n_exact: int  # cells held to EXACT (never moved in the measurement)
    mismatches: list[Mismatch]
    skipped: list[str]  # reference tables without a tolerance file
    # claims.csv of both sides: (claims compared, [(claim, committed, new verdict)])
    verdicts: tuple[int, list[tuple[str, str, str]]] | None = None

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def summary(self) -> str:
        lines = [
            f"results check: {self.n_cells} cells of {len(self.tables)} tables "
            f"({', '.join(self.tables)}); tolerance = measured floating-point "
            f"difference x {FACTOR:g}, {self.n_exact} cells exact (to {EXACT:g})"
        ]
        if self.skipped:
            lines.append(f"not compared (no tolerance file): {', '.join(self.skipped)}")
        if self.verdicts is not None:
            n, changed = self.verdicts
            lines.append(
                f"claim verdicts: {n - len(changed)} of {n} as committed"
                + (" (reported, not checked)" if changed else "")
            )
            lines += [f"  ~ {c}: {a} -> {b}" for c, a, b in changed]
        if self.ok:
            lines.append("all within tolerance")
        else:
            lines.append(f"{len(self.mismatches)} beyond tolerance:")
            lines += [f"  - {m}" for m in self.mismatches]
        return "\n".join(lines)


def read_table(path: Path) -> ResultsTable:
    try:
        return ResultsTable.read_csv(path)
    except (OSError, ValueError) as err:
        raise ResultsMismatchError(f"cannot read {path}: {err}") from err


def result_tables(folder: Path) -> list[str]:
    """Names of the result tables of a folder (companions left out)."""
    return sorted(
        p.stem
        for p in Path(folder).glob("*.csv")
        if not p.stem.endswith(COMPANIONS) and p.name != CLAIMS_FILE
    )


def reference_tables(reference_dir: Path) -> tuple[list[str], list[str]]:
    """Names of the reference tables with a tolerance file, and without."""
    tables = result_tables(reference_dir)
    with_tol = [t for t in tables if (reference_dir / f"{t}{TOL_SUFFIX}.csv").exists()]
    return with_tol, [t for t in tables if t not in with_tol]


def cell_value(table: ResultsTable | None, system: str, column: str) -> float:
    """The cell, NaN when the table, row or column is absent."""
    if table is None or system not in table.systems or column not in table.columns:
        return math.nan
    return table.get(system, column)


def _compare_table(
    name: str, ref: ResultsTable, tol: ResultsTable, new: ResultsTable
) -> tuple[int, int, list[Mismatch]]:
    n_cells = n_exact = 0
    mismatches = [
        Mismatch(name, column=c, reason="column missing from the run")
        for c in ref.columns
        if c not in new.columns
    ]
    for system in ref.systems:
        if system not in new.systems:
            mismatches.append(Mismatch(name, system, reason="row missing from the run"))
            continue
        for column in ref.columns:
            if column not in new.columns:
                continue
            r, n = ref.get(system, column), new.get(system, column)
            if math.isnan(r) and math.isnan(n):
                continue  # empty on both sides
            if math.isnan(r) != math.isnan(n):
                side = "the run" if math.isnan(n) else "the committed table"
                mismatches.append(
                    Mismatch(
                        name, system, column, r, n, reason=f"value missing in {side}"
                    )
                )
                continue
            t = cell_value(tol, system, column)
            if math.isnan(t):
                mismatches.append(
                    Mismatch(
                        name, system, column, r, n, reason="no tolerance for this cell"
                    )
                )
                continue
            n_cells += 1
            n_exact += t <= EXACT
            if abs(n - r) > max(t, EXACT):
                mismatches.append(Mismatch(name, system, column, r, n, max(t, EXACT)))
    return n_cells, n_exact, mismatches


def compare_results(run_dir: str | Path, reference_dir: str | Path) -> CheckReport:
    """Compare every table of ``reference_dir`` that has a ``<table>_tol.csv`` with
    the same table in ``run_dir``.

    A row, column or table of the reference missing from the run is a mismatch, and so
    is a value present on one side only. Raises :class:`ResultsMismatchError` when the
    reference holds nothing to compare (a check that compares nothing cannot pass).
    """
    run_dir, reference_dir = Path(run_dir), Path(reference_dir)
    if not reference_dir.is_dir():
        raise ResultsMismatchError(f"reference folder {reference_dir} does not exist")
    names, skipped = reference_tables(reference_dir)
    if not names:
        raise ResultsMismatchError(
            f"{reference_dir} holds no table with a tolerance file "
            f"(<table>{TOL_SUFFIX}.csv): nothing to compare"
        )
    n_cells = n_exact = 0
    mismatches: list[Mismatch] = []
    for name in names:
        path = run_dir / f"{name}.csv"
        if not path.exists():
            mismatches.append(
                Mismatch(name, reason=f"table missing from the run ({path})")
            )
            continue
        ref = read_table(reference_dir / f"{name}.csv")
        tol = read_table(reference_dir / f"{name}{TOL_SUFFIX}.csv")
        cells, exact, found = _compare_table(name, ref, tol, read_table(path))
        n_cells, n_exact = n_cells + cells, n_exact + exact
        mismatches += found
    return CheckReport(
        names,
        n_cells,
        n_exact,
        mismatches,
        skipped,
        verdict_changes(run_dir, reference_dir),
    )


def tolerance_tables(
    reference_dir: str | Path, run_dirs: list[str | Path], factor: float = FACTOR
) -> dict[str, ResultsTable]:
    """The ``<table>_tol.csv`` of every result table of ``reference_dir``, measured
    from ``run_dirs`` (the same chapters over the same weights under other
    floating-point conditions); see the module docstring for the rule."""
    reference_dir = Path(reference_dir)
    out: dict[str, ResultsTable] = {}
    for name in result_tables(reference_dir):
        ref = read_table(reference_dir / f"{name}.csv")
        runs = [read_table(Path(d) / f"{name}.csv") for d in run_dirs]
        diff: dict[tuple[str, str], float] = {}
        col_rel = dict.fromkeys(ref.columns, 0.0)
        for system in ref.systems:
            for column in ref.columns:
                r = ref.get(system, column)
                if math.isnan(r):
                    continue
                d = 0.0
                for run in runs:
                    n = cell_value(run, system, column)
                    if math.isnan(n):
                        raise ResultsMismatchError(
                            f"{name}: row {system!r}, column {column!r} missing from a "
                            "measured run; measure with complete runs"
                        )
                    d = max(d, abs(n - r))
                diff[(system, column)] = d
                if abs(r) > 0:
                    col_rel[column] = max(col_rel[column], d / abs(r))
        table = ResultsTable(
            list(ref.columns), [(ref.group_of(s), s) for s in ref.systems]
        )
        for system in ref.systems:
            row = {}
            for column in ref.columns:
                if (system, column) not in diff:
                    continue
                r = ref.get(system, column)
                tol = factor * max(diff[(system, column)], col_rel[column] * abs(r))
                row[column] = tol if tol > EXACT else 0.0
            table.add_row(system, ref.group_of(system), row)
        out[name] = table
    return out


CLAIMS_FILE = "claims.csv"


def _verdicts(path: Path) -> dict[str, str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["name"]: row["verdict"] for row in csv.DictReader(fh)}


def verdict_changes(
    run_dir: str | Path, reference_dir: str | Path
) -> tuple[int, list[tuple[str, str, str]]] | None:
    """How stable the claims are: the number of committed claims, and each one whose
    verdict differs in the run (a claim missing from the run counts as changed to
    "missing"). None when either side has no ``claims.csv``."""
    ref, new = Path(reference_dir) / CLAIMS_FILE, Path(run_dir) / CLAIMS_FILE
    if not ref.exists() or not new.exists():
        return None
    committed, run = _verdicts(ref), _verdicts(new)
    changed = [
        (name, verdict, run.get(name, "missing"))
        for name, verdict in committed.items()
        if run.get(name, "missing") != verdict
    ]
    return len(committed), changed
