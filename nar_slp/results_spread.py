"""The run-to-run spread behind the results check's tolerance.

The sample standard deviation (ddof=1) of every cell over K complete runs of the
chapters with other model seeds, optionally pooled with an earlier measurement, written
as ``<table>_spread.csv`` next to the committed tables (with ``spread.json`` saying
what it rests on). :mod:`nar_slp.results_compare` reads it; why it is measured:
:mod:`nar_slp.results_check`.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path

from nar_slp.results_compare import (
    SPREAD_SUFFIX,
    ResultsMismatchError,
    cell_value,
    read_table,
    reference_tables,
)
from nar_slp.results_table import ResultsTable
from nar_slp.utils import atomic_write_text

SPREAD_RECORD = "spread.json"  # what the spread files rest on (write_spread)


def run_spread(
    run_dirs: Sequence[str | Path],
    reference_dir: str | Path,
    prior: tuple[str | Path, int] | None = None,
) -> dict[str, ResultsTable]:
    """Run-to-run standard deviation of every cell of the reference tables.

    For each table of ``reference_dir`` that has a standard-error file, the sample
    standard deviation (ddof=1) of each cell over the runs in ``run_dirs`` (results
    folders of complete runs, the committed one included) that have a value for it;
    NaN where fewer than two do. Returns ``{table: ResultsTable}`` in the reference's
    layout.

    ``prior = (folder, df)`` pools an earlier measurement whose runs' tables are no
    longer at hand: ``folder`` holds its ``<table>_spread.csv`` and ``df`` its degrees
    of freedom (K - 1). The pooled variance of a cell is the df-weighted mean of the
    two variances, ``(df_prior s_prior^2 + (k - 1) s^2) / (df_prior + k - 1)``, an
    estimate of the common run-to-run variance with the degrees of freedom of both.
    """
    if len(run_dirs) < 2:
        raise ValueError(f"run_spread: need at least 2 runs, got {len(run_dirs)}")
    prior_dir, prior_df = (Path(prior[0]), int(prior[1])) if prior else (None, 0)
    if prior is not None and prior_df < 1:
        raise ValueError(f"run_spread: prior df must be >= 1, got {prior[1]!r}")
    names, _ = reference_tables(Path(reference_dir))
    out = {}
    for name in names:
        ref = read_table(Path(reference_dir) / f"{name}.csv")
        runs = []
        for d in run_dirs:
            path = Path(d) / f"{name}.csv"
            if not path.exists():
                raise ResultsMismatchError(f"run_spread: {path} does not exist")
            runs.append(read_table(path))
        before = None
        if prior_dir is not None:
            path = prior_dir / f"{name}{SPREAD_SUFFIX}.csv"
            if not path.exists():
                raise ResultsMismatchError(f"run_spread: prior {path} does not exist")
            before = read_table(path)
        table = ResultsTable(
            ref.columns, title=f"{name}: run-to-run standard deviation"
        )
        for system in ref.systems:
            row = {}
            for column in ref.columns:
                values = [cell_value(t, system, column) for t in runs]
                values = [v for v in values if not math.isnan(v)]
                weights, variances = [], []
                if len(values) >= 2:
                    weights.append(len(values) - 1)
                    variances.append(statistics.variance(values))
                s_prior = cell_value(before, system, column)
                if not math.isnan(s_prior):
                    weights.append(prior_df)
                    variances.append(s_prior**2)
                row[column] = (
                    math.sqrt(
                        sum(w * v for w, v in zip(weights, variances, strict=True))
                        / sum(weights)
                    )
                    if weights
                    else None
                )
            table.add_row(system, ref.group_of(system), row)
        out[name] = table
    return out


def write_spread(
    run_dirs: Sequence[str | Path],
    reference_dir: str | Path,
    prior: tuple[str | Path, int] | None = None,
) -> Path:
    """:func:`run_spread` written as ``<table>_spread.csv`` into ``reference_dir``,
    with ``spread.json`` saying what it rests on (the runs, the prior and the degrees
    of freedom), so that the next measurement can pool with this one. Returns the
    path of ``spread.json``."""
    reference_dir = Path(reference_dir)
    tables = run_spread(run_dirs, reference_dir, prior)
    for name, table in tables.items():
        table.to_csv(reference_dir / f"{name}{SPREAD_SUFFIX}.csv")
    record = {
        "runs": [str(d) for d in run_dirs],
        "k": len(run_dirs),
        "prior": None if prior is None else {"folder": str(prior[0]), "df": prior[1]},
        "df": len(run_dirs) - 1 + (0 if prior is None else int(prior[1])),
        "tables": sorted(tables),
    }
    path = reference_dir / SPREAD_RECORD
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    return path
