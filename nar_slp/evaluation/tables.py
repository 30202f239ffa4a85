"""Result tables (Tables 1-3 of the paper): which systems and metrics each holds.

Builders for the paper's tables take nested dicts of metrics as produced by the
evaluation functions and fill a :class:`~nar_slp.results_table.ResultsTable`:

- :func:`build_table1` — results[system][split] = {"FGD", "BLEU-1".."BLEU-4", "ROUGE"}
- :func:`build_table2` — results[system] = {"0-50": {"fgd": ...} | float, "~20": ...}
- :func:`build_table3` — results[system][split] = {"FGD", "DurACC"}, part "a" or "b"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nar_slp.results_table import ResultsTable
from nar_slp.systems import (
    GT,
    MEAN,
    NSLPG_ROWS,
    ORACLE_SYSTEMS,
    OURS_KD,
    OURS_NO_BERT,
    OURS_NO_KD,
    PGM_FLOOR,
    PT_BASE,
    PT_FPGN,
    RANDOM,
    REAL_FLOOR,
)

TABLE1_SYSTEMS: tuple[tuple[str, str], ...] = (
    ("Bounds", GT),
    ("Bounds", REAL_FLOOR),
    ("Bounds", PGM_FLOOR),
    ("Bounds", MEAN),
    ("Bounds", RANDOM),
    ("Autoregressive", PT_BASE),
    ("Autoregressive", PT_FPGN),
    *(("Non-autoregressive", s) for s in NSLPG_ROWS),
    ("Non-autoregressive", OURS_NO_BERT),
    ("Non-autoregressive", OURS_NO_KD),
    ("Non-autoregressive", OURS_KD),
    *(("Oracle timing (not comparable)", row) for row in ORACLE_SYSTEMS.values()),
)
TABLE1_METRICS = (
    "FGD",
    "KID",
    "BLEU-1",
    "BLEU-2",
    "BLEU-3",
    "BLEU-4",
    "ROUGE",
    "DTW-MJE",
)
# Motion amplitude relative to the ground truth (metrics.motion_amplitude).
MOTION_METRICS = ("speed ratio", "spread ratio")
SPLITS = ("dev", "test")

TABLE2_SYSTEMS: tuple[tuple[str, str], ...] = (
    ("Bounds", REAL_FLOOR),
    ("Bounds", PGM_FLOOR),
    ("Bounds", MEAN),
    ("Bounds", RANDOM),
    ("Autoregressive", PT_BASE),
    ("Autoregressive", PT_FPGN),
    ("Non-autoregressive", "NSLP-G (Base +ft)"),
    ("Non-autoregressive", OURS_NO_BERT),
    ("Non-autoregressive", OURS_NO_KD),
    ("Non-autoregressive", OURS_KD),
)
TABLE2_INTERVALS = ("0-50", "50-100", "100-150", "150-200")
TABLE2_PREFIXES = ("~20", "~40", "~60", "~80")

TABLE3_SYSTEMS: dict[str, tuple[tuple[str, str], ...]] = {
    "a": (
        ("(a) Effect of KD", GT),
        ("(a) Effect of KD", OURS_NO_KD),  # L_pose + L_length
        ("(a) Effect of KD", OURS_KD),  # L_pose + L_length + L_distil
    ),
    "b": (
        ("(b) Effect of PLM", GT),
        ("(b) Effect of PLM", OURS_NO_BERT),
        ("(b) Effect of PLM", OURS_KD),  # w/ BERT
    ),
}
TABLE3_METRICS = ("FGD", "DurACC")


# ---------------------------------------------------------------------------- builders


def _place(table: ResultsTable, systems: Sequence[tuple[str, str]], results) -> None:
    """Groups of systems not among the declared rows are taken as "Other"."""
    known = {s for _, s in systems}
    for system, values in results.items():
        group = table.group_of(system) if system in known else "Other"
        table.add_row(system, group, values)


def _per_split_table(
    results: Mapping[str, Mapping[str, Mapping[str, Any]]],
    systems: Sequence[tuple[str, str]],
    metrics: Sequence[str],
    title: str,
    **table_kwargs: Any,
) -> ResultsTable:
    """A table with one column "<split> <metric>" per split and metric, filled from
    ``results[system][split][metric]`` (extra keys are ignored)."""
    columns = [f"{split} {m}" for split in SPLITS for m in metrics]
    table = ResultsTable(columns, systems, title, **table_kwargs)
    flat = {
        system: {
            f"{split} {m}": per_split[split].get(m)
            for split in SPLITS
            if split in per_split
            for m in metrics
        }
        for system, per_split in results.items()
    }
    _place(table, systems, flat)
    return table


def table1_columns() -> list[str]:
    """``"dev FGD", "dev BLEU-1", …, "test ROUGE"`` (Table 1's two halves)."""
    return [f"{split} {m}" for split in SPLITS for m in TABLE1_METRICS]


def build_table1(
    results: Mapping[str, Mapping[str, Mapping[str, float]]],
    systems: Sequence[tuple[str, str]] = TABLE1_SYSTEMS,
    title: str = "Table 1: FGD (×10) and back-translation BLEU / ROUGE",
) -> ResultsTable:
    """Table 1 from ``results[system][split][metric]``, split in {"dev", "test"},
    metric in FGD, BLEU-1..4, ROUGE (extra keys such as "signature" are ignored).
    Declared systems without results are missing rows."""
    formats = {c: "{:.4f}" for c in table1_columns() if c.endswith(("DTW-MJE", "KID"))}
    return _per_split_table(results, systems, TABLE1_METRICS, title, formats=formats)


def build_table2(
    results: Mapping[str, Mapping[str, Any]],
    systems: Sequence[tuple[str, str]] = TABLE2_SYSTEMS,
    columns: Sequence[str] = TABLE2_INTERVALS + TABLE2_PREFIXES,
    title: str = "Table 2: FGD (×10) per frame interval and prefix (25 fps)",
) -> ResultsTable:
    """Table 2 from ``results[system][label]`` where the value is a float or the dict
    returned by ``fgd_by_interval`` / ``fgd_by_prefix`` (its ``"fgd"`` is used)."""
    table = ResultsTable(list(columns), systems, title)
    flat = {
        system: {
            label: (v["fgd"] if isinstance(v, Mapping) else v)
            for label, v in bins.items()
            if label in columns
        }
        for system, bins in results.items()
    }
    _place(table, systems, flat)
    return table


def build_motion_table(
    results: Mapping[str, Mapping[str, Mapping[str, float]]],
    systems: Sequence[tuple[str, str]] = TABLE1_SYSTEMS,
    title: str = "Motion amplitude relative to the ground truth (1 = as real signing)",
) -> ResultsTable:
    """Speed and spread ratios (``metrics.motion_amplitude``) of every system from
    ``results[system][split]["speed ratio" | "spread ratio"]``, dev and test."""
    return _per_split_table(results, systems, MOTION_METRICS, title, fmt="{:.3f}")


def build_table3(
    results: Mapping[str, Mapping[str, Mapping[str, float]]],
    part: str = "a",
    systems: Sequence[tuple[str, str]] | None = None,
) -> ResultsTable:
    """Table 3a (effect of KD) or 3b (effect of the PLM) from
    ``results[system][split]["FGD" | "DurACC"]``."""
    if part not in TABLE3_SYSTEMS:
        raise ValueError(f"build_table3: part must be 'a' or 'b', got {part!r}")
    systems = systems if systems is not None else TABLE3_SYSTEMS[part]
    title = {
        "a": "Table 3a: effect of KD (L_distil)",
        "b": "Table 3b: effect of the pre-trained language model",
    }[part]
    return _per_split_table(results, systems, TABLE3_METRICS, title)


# Metrics whose 95 % intervals Table 1's companion shows.
CI_METRICS = ("FGD", "KID", "BLEU-4", "ROUGE", "DurACC", "DTW-MJE")
Z95 = 1.959964


def build_ci_table(
    results: Mapping[str, Mapping[str, Mapping[str, Any]]],
    split: str = "test",
    systems: Sequence[tuple[str, str]] = TABLE1_SYSTEMS,
    metrics: Sequence[str] = CI_METRICS,
) -> ResultsTable:
    """95 % bootstrap intervals (test sentences) of each system's ``metrics`` on
    ``split``: columns "<metric> low" / "<metric> high" = estimate ∓ 1.96 × the
    bootstrap standard error in ``results[system][split]["se"]``.

    The normal interval is used rather than the percentile one because a resample
    repeats windows, which biases FGD upwards (the percentile interval of FGD can lie
    entirely above the estimate). For students merged over seeds the interval covers
    test-sentence noise only; the seed spread is the table's "± sd".
    """
    columns = [f"{m} {end}" for m in metrics for end in ("low", "high")]
    table = ResultsTable(
        columns,
        systems,
        f"Table 1: 95 % bootstrap intervals ({split}, estimate ± 1.96 se)",
        formats={c: "{:.4f}" for c in columns if c.startswith(("DTW-MJE", "KID"))},
    )
    flat = {}
    for system, per_split in results.items():
        r = per_split.get(split)
        if r is None:
            continue
        row = {}
        for m in metrics:
            value, se = r.get(m), r.get("se", {}).get(m)
            if value is None or se is None:
                continue
            row[f"{m} low"], row[f"{m} high"] = value - Z95 * se, value + Z95 * se
        flat[system] = row
    _place(table, systems, flat)
    return table
