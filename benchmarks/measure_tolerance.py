"""Measure what floating point alone moves in the committed tables: the results
check's tolerance (``make tolerance``).

Runs chapters 01-05 over the shipped weights (nothing trained) under other
floating-point conditions than the committed run's, side by side at one thread each:

``threads1``
    one thread instead of two (other reduction splits in BLAS/oneDNN and torch);
``threads1-sse``
    one thread, and the kernels of an older vector width: torch's own vectorised
    kernels at their ``default`` (non-AVX) level, oneDNN capped at SSE4.1, MKL at
    SSE4.2, NumPy's OpenBLAS on its Nehalem kernels: a stand-in for another CPU kind,
    whose kernels (AVX-512 or not) round differently.

Then writes ``results/default/<table>_tol.csv`` (:func:`nar_slp.results_check.
write_tolerances`) and a report of which cells moved, by how much, under which
condition (``benchmarks/results/tolerance.md``; ``threads1-sse`` against
``threads1`` isolates the kernels' share). About 25 min on 2 cores.

    python benchmarks/measure_tolerance.py [--reuse]
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nar_slp.paths import repo_root
from nar_slp.results_check import write_tolerances
from nar_slp.results_compare import FACTOR, read_table, result_tables
from nar_slp.weights import machine

ROOT = repo_root()
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("0[1-5]_*.ipynb"))
TABLES = ("table1", "table2", "table3a", "table3b", "motion", "sanity", "training")
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
CONDITIONS = {
    "threads1": ONE_THREAD,
    "threads1-sse": {
        **ONE_THREAD,
        "ATEN_CPU_CAPABILITY": "default",
        "ONEDNN_MAX_CPU_ISA": "SSE41",
        "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
        "OPENBLAS_CORETYPE": "Nehalem",
    },
}


def run_condition(name: str, env_changes: dict[str, str], runs: Path) -> Path:
    """Chapters 01-05 over the shipped weights into ``runs/tolerance-<name>``."""
    run = runs / f"tolerance-{name}"
    env = {
        **os.environ,
        **env_changes,
        "NAR_SLP_WEIGHTS": "shipped",
        "NAR_SLP_PROGRESS": "0",
    }
    env.pop("NAR_SLP_RUN_DIR", None)
    log = runs / f"tolerance-{name}.log"
    start = time.perf_counter()
    with open(log, "w") as fh:
        done = subprocess.run(
            [sys.executable, "-m", "nar_slp.reproduce", "--run-dir", str(run)]
            + [f"notebooks/{c}.ipynb" for c in CHAPTERS],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    # Chapter 05's last cell is the results check itself, which fails while the
    # reference has no tolerance yet (or an old one); every table is written before it.
    results = run / "results"
    missing = [t for t in TABLES if not (results / f"{t}.csv").exists()]
    if done.returncode and missing:
        raise RuntimeError(f"{name}: the chapters failed before {missing} ({log})")
    print(f"{name}: {time.perf_counter() - start:.0f} s ({log})", flush=True)
    return results


def _moves(
    reference: Path, run: Path, name: str
) -> tuple[int, int, float, float, list]:
    """Cells compared, cells that differ, max |d|, max |d|/|value|, moving columns."""
    ref, new = read_table(reference / f"{name}.csv"), read_table(run / f"{name}.csv")
    cells = moved = 0
    max_abs = max_rel = 0.0
    columns: set[str] = set()
    for system in ref.systems:
        for column in ref.columns:
            r = ref.get(system, column)
            if math.isnan(r):
                continue
            d = abs(new.get(system, column) - r)
            cells += 1
            if d > 0:
                moved += 1
                columns.add(column)
                max_abs = max(max_abs, d)
                max_rel = max(max_rel, d / abs(r) if r else math.inf)
    return cells, moved, max_abs, max_rel, sorted(columns)


def report(reference: Path, runs: dict[str, Path], seconds: float | None) -> str:
    lines = [
        "# What floating point alone moves in the committed tables",
        "",
        f"`python benchmarks/measure_tolerance.py` on {machine()['cpu']} "
        f"(AVX-512: {machine()['avx512']}), "
        + ("runs reused. " if seconds is None else f"{seconds / 60:.0f} min. ")
        + "Chapters 01-05 over "
        "the shipped weights, nothing trained, compared cell by cell with the "
        "committed tables (2 threads). Tolerance written to `results/default/"
        f"<table>_tol.csv`: {FACTOR:g} x the largest difference of the cell, or of its "
        "column relative to the value.",
        "",
    ]
    pairs = [(c, reference, run) for c, run in runs.items()]
    if {"threads1", "threads1-sse"} <= set(runs):
        pairs.append(("sse vs threads1", runs["threads1"], runs["threads1-sse"]))
    for label, a, b in pairs:
        lines += [
            f"## {label}",
            "",
            "| table | cells | cells that moved | max abs diff | max rel diff | "
            "columns that moved |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for name in result_tables(reference):
            cells, moved, max_abs, max_rel, cols = _moves(a, b, name)
            shown = ", ".join(cols[:6]) + (" ..." if len(cols) > 6 else "")
            lines.append(
                f"| {name} | {cells} | {moved} | {max_abs:.3g} | {max_rel:.3g} | "
                f"{shown or '-'} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs")
    parser.add_argument("--reference", type=Path, default=ROOT / "results" / "default")
    parser.add_argument(
        "--reuse", action="store_true", help="use the runs already measured"
    )
    parser.add_argument(
        "--report", type=Path, default=ROOT / "benchmarks" / "results" / "tolerance.md"
    )
    args = parser.parse_args(argv)
    args.runs.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if args.reuse:
        results = {c: args.runs / f"tolerance-{c}" / "results" for c in CONDITIONS}
    else:
        with ThreadPoolExecutor(len(CONDITIONS)) as pool:
            futures = {
                c: pool.submit(run_condition, c, env, args.runs)
                for c, env in CONDITIONS.items()
            }
            results = {c: f.result() for c, f in futures.items()}
    written = write_tolerances(args.reference, list(results.values()))
    seconds = None if args.reuse else time.perf_counter() - start
    text = report(args.reference, results, seconds)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text + "\n")
    print(text)
    print(f"{len(written)} tolerance tables written to {args.reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
