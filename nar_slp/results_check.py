"""Does a run reproduce the committed results? Compare its tables within tolerance.

What "reproduces" means here:

* on the same machine and package versions, a re-run is bit-identical (seeded,
  deterministic CPU kernels), so every table matches exactly;
* on another machine (another CPU's BLAS/oneDNN kernels, another thread count, a GPU)
  floating-point rounding differs, training trajectories diverge in the 3rd-4th
  decimal and every trained number moves. Such a run reproduces when every number of
  every compared table lies within its tolerance of the committed value.

Two kinds of noise separate a re-run from the committed run, and the tolerance of one
cell adds both::

    tol = z * sqrt(2) * sqrt(se**2 + s**2),   z = Phi^-1(1 - alpha / (2 N))

* ``s``, the **run-to-run standard deviation**, measured: the sample standard deviation
  (ddof=1) of the cell over K complete runs of the chapters with different model seeds
  and thread counts on the committed corpus (``<table>_spread.csv``, written by
  ``python -m nar_slp.results_check spread``). Trained components move systematic
  quantities that no resampling of test sentences sees: a re-trained VAE has another
  latent scale (L_distil moves by ~13 %) and reconstructs slightly differently
  (DTW-MJE of the PGM floor by ~6 %), so a tolerance from bootstrap intervals alone
  failed a 1-thread re-run on exactly those cells.
* ``se``, the committed run's **bootstrap standard error** (resampling test or dev
  sentences, ``<table>_se.csv``, chapters 03 and 05), which keeps a floor under cells
  whose K runs happen to agree closely.

``sqrt(2)`` turns the standard deviation of one run into that of the difference of
two runs, and ``z`` is Bonferroni-corrected over the ``N`` cells compared, so that a run
that differs only by noise of that size fails the whole check at most ``alpha`` (5 %)
of the time. Cells whose ``se`` and ``s`` are both 0 (the GT row: FGD(GT, GT) = 0) must
match to ``1e-9``.

Command line::

    # compare a run with the committed tables (chapter 05 does this at its end)
    python -m nar_slp.results_check check runs/nbval/results --reference results/default
    # measure the run-to-run spread from complete runs (the committed one included)
    python -m nar_slp.results_check spread results/default runs/seed1/results ... \
        --out results/default [--prior results/spread_runs/prior:2]
    # the out-of-sample test: each run held out of the spread it is checked with
    python -m nar_slp.results_check validate runs/seed1/results ... \
        --reference results/default [--prior results/spread_runs/prior:2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from nar_slp.results_compare import (
    ALPHA,
    SPREAD_SUFFIX,
    CheckReport,
    ResultsMismatchError,
    compare_results,
    read_table,
    reference_tables,
)
from nar_slp.results_spread import run_spread, write_spread


def leave_one_out(
    run_dirs: Sequence[str | Path],
    reference_dir: str | Path,
    prior: tuple[str | Path, int] | None = None,
    alpha: float = ALPHA,
) -> list[tuple[str, CheckReport]]:
    """The out-of-sample test of the tolerance: each run of ``run_dirs`` (not the
    committed one) checked against the committed tables with the spread measured
    without it — from the committed ``reference_dir``, the other runs and ``prior``.

    A run that takes part in the spread cannot fail by much the check it widened; held
    out, it is a genuine new run. Returns ``[(run, report)]``. Works on a copy of the
    reference's tables, never writing into ``reference_dir``.
    """
    reference_dir = Path(reference_dir)
    if len(run_dirs) < 1:
        raise ValueError("leave_one_out: need at least 1 run besides the reference")
    out = []
    for i, held in enumerate(run_dirs):
        others = [reference_dir, *(d for j, d in enumerate(run_dirs) if j != i)]
        if len(others) < 2 and prior is None:
            raise ValueError("leave_one_out: need 2 runs or a prior for each spread")
        with tempfile.TemporaryDirectory() as tmp:
            ref = Path(tmp)
            for p in reference_dir.glob("*.csv"):
                if not p.stem.endswith(SPREAD_SUFFIX):
                    shutil.copy(p, ref / p.name)
            if len(others) >= 2:
                tables = run_spread(others, reference_dir, prior)
            else:  # the prior alone
                tables = {
                    n: read_table(Path(prior[0]) / f"{n}{SPREAD_SUFFIX}.csv")
                    for n in reference_tables(reference_dir)[0]
                }
            for name, table in tables.items():
                table.to_csv(ref / f"{name}{SPREAD_SUFFIX}.csv")
            out.append((str(held), compare_results(held, ref, alpha)))
    return out


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
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="compare a run with the committed tables")
    check.add_argument("run", type=Path, help="the run's results folder")
    spread = sub.add_parser("spread", help="write <table>_spread.csv from K runs")
    spread.add_argument("runs", type=Path, nargs="+", help="results folders of runs")
    spread.add_argument(
        "--out",
        type=Path,
        default=Path("results/default"),
        help="reference folder to write into (default: results/default)",
    )
    validate = sub.add_parser(
        "validate",
        help="check each run against the committed tables with the spread of the "
        "others (leave one run out)",
    )
    validate.add_argument("runs", type=Path, nargs="+", help="results folders of runs")
    for p in (check, validate):
        p.add_argument(
            "--reference",
            type=Path,
            default=Path("results/default"),
            help="committed results folder (default: results/default)",
        )
        p.add_argument(
            "--alpha", type=float, default=ALPHA, help="false-alarm rate (default 0.05)"
        )
    for p in (spread, validate):
        p.add_argument(
            "--prior",
            metavar="FOLDER:DF",
            type=_prior,
            help="pool with an earlier measurement: FOLDER holds its "
            "<table>_spread.csv, DF its degrees of freedom (K - 1)",
        )
    args = parser.parse_args(argv)
    try:
        if args.command == "spread":
            record = write_spread(args.runs, args.out, args.prior)
            print(
                f"run-to-run spread of {len(args.runs)} runs"
                + (
                    f" pooled with {args.prior[0]} (df {args.prior[1]})"
                    if args.prior
                    else ""
                )
                + f" written to {args.out} ({record.name})"
            )
            return 0
        if args.command == "validate":
            failed = 0
            for run, report in leave_one_out(
                args.runs, args.reference, args.prior, args.alpha
            ):
                failed += not report.ok
                print(f"== {run} (held out of the spread)\n{report.summary()}")
            print(f"leave one out: {len(args.runs) - failed} of {len(args.runs)} pass")
            return 0 if not failed else 1
        report = compare_results(args.run, args.reference, args.alpha)
    except (ResultsMismatchError, ValueError) as err:
        print(f"results check: {err}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1


def _prior(text: str) -> tuple[Path, int]:
    """``FOLDER:DF`` of ``--prior``."""
    folder, sep, df = text.rpartition(":")
    if not sep or not folder or not df.isdigit() or int(df) < 1:
        raise argparse.ArgumentTypeError(
            f"--prior {text!r}: expected FOLDER:DF with DF a positive integer"
        )
    if not Path(folder).is_dir():
        raise argparse.ArgumentTypeError(f"--prior {text!r}: {folder} is not a folder")
    return Path(folder), int(df)


if __name__ == "__main__":
    sys.exit(main())
