"""Does a run reproduce the committed results? Compare its tables within tolerance.

What "reproduces" means here, now that the committed run ships its weights
(:mod:`nar_slp.weights`) and the checked chapters load them instead of training:

* on the committed run's machine kind, at its thread count, a re-run over the
  shipped weights is bit-identical (seeded, deterministic CPU kernels);
* elsewhere (another CPU's kernels, another thread count) only floating-point
  rounding differs, and what amplifies it. Each cell's tolerance is that difference
  as measured (:mod:`nar_slp.results_compare`; the measurement and what moves:
  ``docs/reproducibility.md``).

Re-training is not noise the check allows for: a run that trains its own models is
compared with ``make results-check`` and is expected to differ.

Command line::

    # compare a run with the committed tables (chapter 05 does this at its end)
    python -m nar_slp.results_check check runs/nbval/results --reference results/default
    # write <table>_tol.csv from runs under other floating-point conditions
    python -m nar_slp.results_check tolerance RUN_RESULTS... --reference results/default
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nar_slp.results_compare import (
    FACTOR,
    TOL_SUFFIX,
    CheckReport,
    ResultsMismatchError,
    compare_results,
    tolerance_tables,
)


def check_results(run_dir: str | Path, reference_dir: str | Path) -> CheckReport:
    """:func:`compare_results`, raising :class:`ResultsMismatchError` (with the full
    list) when anything does not reproduce."""
    report = compare_results(run_dir, reference_dir)
    if not report.ok:
        raise ResultsMismatchError(report.summary())
    return report


def write_tolerances(
    reference_dir: str | Path, run_dirs: list[str | Path], factor: float = FACTOR
) -> list[Path]:
    """:func:`tolerance_tables` written as ``<table>_tol.csv`` into the reference."""
    reference_dir = Path(reference_dir)
    written = []
    for name, table in tolerance_tables(reference_dir, run_dirs, factor).items():
        written.append(table.to_csv(reference_dir / f"{name}{TOL_SUFFIX}.csv"))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="compare a run with the committed tables")
    check.add_argument("run", type=Path, help="the run's results folder")
    tol = sub.add_parser(
        "tolerance", help="write <table>_tol.csv from runs over the same weights"
    )
    tol.add_argument("runs", type=Path, nargs="+", help="results folders of runs")
    tol.add_argument("--factor", type=float, default=FACTOR)
    for p in (check, tol):
        p.add_argument(
            "--reference",
            type=Path,
            default=Path("results/default"),
            help="committed results folder (default: results/default)",
        )
    args = parser.parse_args(argv)
    try:
        if args.command == "tolerance":
            written = write_tolerances(args.reference, args.runs, args.factor)
            print(f"{len(written)} tolerance tables written to {args.reference}")
            return 0
        report = compare_results(args.run, args.reference)
    except (ResultsMismatchError, ValueError, OSError) as err:
        print(f"results check: {err}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
