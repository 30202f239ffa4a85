"""Does a run reproduce the committed results? Compare its tables within tolerance.

What "reproduces" means here:

* on the same machine and package versions, a re-run is bit-identical (seeded,
  deterministic CPU kernels), so every table matches exactly;
* on another machine (another CPU's BLAS/oneDNN kernels, another thread count, a GPU)
  floating-point rounding differs, training trajectories diverge in the 3rd-4th
  decimal and every trained number moves. Such a run reproduces when every number of
  every compared table lies within its tolerance of the committed value.

The tolerance of one cell comes from the committed run's own bootstrap standard error
``se`` (resampling test or dev sentences, written beside each table as
``<table>_se.csv`` by chapters 03 and 05)::

    tol = z * sqrt(2) * se,   z = Phi^-1(1 - alpha / (2 N))

``sqrt(2) * se`` is the standard error of the difference of two independent estimates
of the same quantity, and ``z`` is Bonferroni-corrected over the ``N`` cells compared
so that the whole check has a false-alarm rate of at most ``alpha`` (5 %) when the two
runs differ only by noise of that size; a per-cell 95 % bound would fail some of the
~150 cells of a correct run by chance. Cells whose standard error is 0 (the GT row:
FGD(GT, GT) = 0) must match to ``1e-9``.

Command line (used by ``make test`` after the chapters ran into a scratch folder)::

    python -m nar_slp.results_check runs/nbval/results --reference results/default
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from nar_slp.evaluation.tables import ResultsTable

SE_SUFFIX = "_se"
ALPHA = 0.05
EXACT = 1e-9  # cells with a zero standard error must match to this


class ResultsMismatchError(AssertionError):
    """A run's tables differ from the committed ones beyond tolerance."""


@dataclass(frozen=True)
class Mismatch:
    """One cell (or a whole row/column/table) that does not reproduce."""

    table: str
    system: str
    column: str
    committed: float
    new: float
    tolerance: float
    reason: str

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
    z: float
    mismatches: list[Mismatch]
    skipped: list[str]  # reference tables without a standard-error file

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def summary(self) -> str:
        head = (
            f"results check: {self.n_cells} cells of {len(self.tables)} tables "
            f"({', '.join(self.tables)}), tolerance = {self.z:.2f} x sqrt(2) x "
            "bootstrap se"
        )
        lines = [head]
        if self.skipped:
            lines.append(
                f"not compared (no standard errors): {', '.join(self.skipped)}"
            )
        if self.ok:
            lines.append("all within tolerance")
        else:
            lines.append(f"{len(self.mismatches)} beyond tolerance:")
            lines += [f"  - {m}" for m in self.mismatches]
        return "\n".join(lines)


def bonferroni_z(n_cells: int, alpha: float = ALPHA) -> float:
    """Two-sided z for a family-wise error ``alpha`` over ``n_cells`` comparisons."""
    if n_cells < 1:
        raise ValueError(f"bonferroni_z: n_cells must be >= 1, got {n_cells}")
    return statistics.NormalDist().inv_cdf(1.0 - alpha / (2.0 * n_cells))


def _read(path: Path) -> ResultsTable:
    try:
        return ResultsTable.read_csv(path)
    except (OSError, ValueError) as err:
        raise ResultsMismatchError(f"cannot read {path}: {err}") from err


def _pairs(reference_dir: Path) -> tuple[list[str], list[str]]:
    """Names of the reference tables with a standard-error file, and without."""
    tables = sorted(p.stem for p in reference_dir.glob("*.csv"))
    with_se = [
        t for t in tables if not t.endswith(SE_SUFFIX) and t + SE_SUFFIX in tables
    ]
    without = [
        t for t in tables if not t.endswith(SE_SUFFIX) and t + SE_SUFFIX not in tables
    ]
    return with_se, without


def compare_results(
    run_dir: str | Path, reference_dir: str | Path, alpha: float = ALPHA
) -> CheckReport:
    """Compare every table of ``reference_dir`` that has a ``<table>_se.csv`` with the
    same table in ``run_dir``.

    A row, column or table of the reference missing from the run is a mismatch, and so
    is a value present on one side only. Raises :class:`ResultsMismatchError` when the
    reference holds nothing to compare (a check that compares nothing cannot pass).
    """
    run_dir, reference_dir = Path(run_dir), Path(reference_dir)
    if not reference_dir.is_dir():
        raise ResultsMismatchError(f"reference folder {reference_dir} does not exist")
    names, skipped = _pairs(reference_dir)
    if not names:
        raise ResultsMismatchError(
            f"{reference_dir} holds no table with a standard-error file "
            f"(<table>{SE_SUFFIX}.csv): nothing to compare"
        )
    cells: list[tuple[str, str, str, float, float, float]] = []
    mismatches: list[Mismatch] = []
    for name in names:
        ref = _read(reference_dir / f"{name}.csv")
        se = _read(reference_dir / f"{name}{SE_SUFFIX}.csv")
        path = run_dir / f"{name}.csv"
        if not path.exists():
            mismatches.append(
                Mismatch(
                    name,
                    "-",
                    "-",
                    math.nan,
                    math.nan,
                    0.0,
                    f"table missing from the run ({path})",
                )
            )
            continue
        new = _read(path)
        for column in ref.columns:
            if column not in new.columns:
                mismatches.append(
                    Mismatch(
                        name,
                        "-",
                        column,
                        math.nan,
                        math.nan,
                        0.0,
                        "column missing from the run",
                    )
                )
        for system in ref.systems:
            if system not in new.systems:
                mismatches.append(
                    Mismatch(
                        name,
                        system,
                        "-",
                        math.nan,
                        math.nan,
                        0.0,
                        "row missing from the run",
                    )
                )
                continue
            for column in ref.columns:
                if column not in new.columns:
                    continue
                r, n = ref.get(system, column), new.get(system, column)
                if math.isnan(r) and math.isnan(n):
                    continue  # missing on both sides (a system not trained yet)
                if math.isnan(r) != math.isnan(n):
                    side = "the run" if math.isnan(n) else "the committed table"
                    mismatches.append(
                        Mismatch(
                            name, system, column, r, n, 0.0, f"value missing in {side}"
                        )
                    )
                    continue
                s = (
                    se.get(system, column)
                    if system in se.systems and column in se.columns
                    else math.nan
                )
                if math.isnan(s):
                    mismatches.append(
                        Mismatch(
                            name,
                            system,
                            column,
                            r,
                            n,
                            0.0,
                            "no standard error for this cell",
                        )
                    )
                    continue
                cells.append((name, system, column, r, n, s))
    z = bonferroni_z(max(len(cells), 1), alpha)
    for name, system, column, r, n, s in cells:
        tol = max(z * math.sqrt(2.0) * s, EXACT)
        if abs(n - r) > tol:
            mismatches.append(
                Mismatch(name, system, column, r, n, tol, "beyond tolerance")
            )
    return CheckReport(names, len(cells), z, mismatches, skipped)


def check_results(
    run_dir: str | Path, reference_dir: str | Path, alpha: float = ALPHA
) -> CheckReport:
    """:func:`compare_results`, raising :class:`ResultsMismatchError` (with the full
    list) when anything does not reproduce."""
    report = compare_results(run_dir, reference_dir, alpha)
    if not report.ok:
        raise ResultsMismatchError(report.summary())
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the run's results folder")
    parser.add_argument(
        "--reference",
        type=Path,
        default=Path("results/default"),
        help="committed results folder (default: results/default)",
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=ALPHA,
        help="family-wise false-alarm rate (default 0.05)",
    )
    args = parser.parse_args(argv)
    try:
        report = compare_results(args.run, args.reference, args.alpha)
    except ResultsMismatchError as err:
        print(f"results check: {err}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
