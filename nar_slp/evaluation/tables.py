"""Result tables (Tables 1-3 of the paper) and the list of reproduced claims.

A :class:`ResultsTable` has fixed columns and one row per system; each row belongs to a
group (e.g. "Autoregressive"). Rows can be declared up front (the systems a paper table
lists) and filled later; a row or value never filled is *missing*: NaN in memory,
an empty cell in CSV and "—" in Markdown. Markdown is written here (no tabulate).

Builders for the paper's tables take nested dicts of metrics as produced by the
evaluation functions:

- :func:`build_table1` — results[system][split] = {"FGD", "BLEU-1".."BLEU-4", "ROUGE"}
- :func:`build_table2` — results[system] = {"0-50": {"fgd": ...} | float, "~20": ...}
- :func:`build_table3` — results[system][split] = {"FGD", "DurACC"}, part "a" or "b"
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nar_slp.evaluation.claims import (  # noqa: F401  (re-exported)
    Claim,
    claims_markdown,
    read_claims,
    write_claims,
)

MISSING_MD = "—"

GT, MEAN = "GT", "Mean"
# The paper's "Random" baseline returns a random *training* sequence: real signing of
# the wrong sentence. On this corpus its windows have real-data statistics, so on FGD
# it sits at the real-data floor (see the claims).
RANDOM = "Random (real motion, wrong sentence)"
# The real-vs-real floor: the ground truth of the other split scored against this
# split's ground truth — the FGD two independent samples of real signing get.
REAL_FLOOR = "Real vs real (GT of the other split)"
# The "perfect student": the teacher's latents of the ground truth decoded by the PGM.
# No student can beat it on FGD, since the student's poses pass through the same PGM.
PGM_FLOOR = "PGM (teacher latents)"
OURS_KD, OURS_NO_KD, OURS_NO_BERT = "Ours (w/ KD)", "Ours (w/o KD)", "Ours (w/o BERT)"
PT_BASE, PT_FPGN = "PT (Base)", "PT (FP&GN)"
NSLPG_ROWS = ("NSLP-G (Base)", "NSLP-G (GS)", "NSLP-G (Base +ft)", "NSLP-G (GS +ft)")
# The baselines of chapter 04: run-folder key (<run>/baselines/<key>/,
# <run>/outputs/<key>/) -> row name of the main (non-oracle) rows.
BASELINE_SYSTEMS: dict[str, str] = {
    "pt_base": PT_BASE,
    "pt_fpgn": PT_FPGN,
    "nslpg_base": NSLPG_ROWS[0],
    "nslpg_gs": NSLPG_ROWS[1],
    "nslpg_base_ft": NSLPG_ROWS[2],
    "nslpg_gs_ft": NSLPG_ROWS[3],
}
BASELINE_ROWS: tuple[str, ...] = tuple(BASELINE_SYSTEMS.values())
# Oracle variants, never in the main rows: PT with the ground-truth first frame,
# counter and length (how the public PT code evaluates); NSLP-G with ground-truth
# lengths (the original NSLP-G setting).
ORACLE_SUFFIX = "_oracle"
ORACLE_SYSTEMS: dict[str, str] = {
    key + ORACLE_SUFFIX: row
    + (" [oracle timing]" if key.startswith("pt_") else " [GT length]")
    for key, row in BASELINE_SYSTEMS.items()
}

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


def _md(text: str) -> str:
    """A Markdown table cell: pipes escaped, newlines flattened."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


class ResultsTable:
    """Systems × metrics, one row per system (see the module docstring)."""

    def __init__(
        self,
        columns: Sequence[str],
        rows: Sequence[tuple[str, str]] = (),
        title: str = "",
        fmt: str = "{:.2f}",
        formats: Mapping[str, str] | None = None,
    ) -> None:
        """Args:
        columns: metric column names, in order.
        rows: (group, system) pairs declared up front, shown as missing until filled.
        title: Markdown heading / caption.
        fmt: default ``str.format`` pattern for numbers; ``formats`` per column.
        """
        if len(set(columns)) != len(columns):
            raise ValueError(f"ResultsTable: duplicate columns in {list(columns)}")
        self.columns = list(columns)
        self.title = title
        self.fmt = fmt
        self.formats = dict(formats or {})
        self._rows: dict[str, dict[str, Any]] = {}
        for group, system in rows:
            self._declare(system, group)

    def _declare(self, system: str, group: str) -> dict[str, Any]:
        if system not in self._rows:
            self._rows[system] = {"group": group, "values": {}}
        return self._rows[system]

    def add_row(self, system: str, group: str, metrics: Mapping[str, Any]) -> None:
        """Fill (or update) ``system``'s row; metric names must be table columns.

        Values are stored as floats (NaN/None = missing). A system added that was not
        declared is appended at the end.
        """
        unknown = [k for k in metrics if k not in self.columns]
        if unknown:
            raise KeyError(
                f"add_row({system!r}): unknown columns {unknown}; valid: {self.columns}"
            )
        row = self._declare(system, group)
        row["group"] = group
        for key, value in metrics.items():
            row["values"][key] = math.nan if value is None else float(value)

    @property
    def systems(self) -> list[str]:
        return list(self._rows)

    def get(self, system: str, column: str) -> float:
        """The value, NaN when missing; KeyError for an unknown system/column."""
        if column not in self.columns:
            raise KeyError(f"unknown column {column!r}; valid: {self.columns}")
        return self._rows[system]["values"].get(column, math.nan)

    def group_of(self, system: str) -> str:
        return self._rows[system]["group"]

    def is_missing(self, system: str) -> bool:
        """True when no value of the row was filled."""
        return all(_is_missing(self.get(system, c)) for c in self.columns)

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts {"group", "system", column: float (NaN = missing)}."""
        return [
            {"group": r["group"], "system": s}
            | {c: r["values"].get(c, math.nan) for c in self.columns}
            for s, r in self._rows.items()
        ]

    def _cell(self, column: str, value: Any) -> str:
        if _is_missing(value):
            return MISSING_MD
        return self.formats.get(column, self.fmt).format(value)

    def to_csv(self, path: str | Path) -> Path:
        """Write ``group,system,<columns>``; missing values are empty cells; numbers
        are written with full precision (``repr``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["group", "system", *self.columns])
            for rec in self.records():
                writer.writerow(
                    [rec["group"], rec["system"]]
                    + [
                        "" if _is_missing(rec[c]) else repr(rec[c])
                        for c in self.columns
                    ]
                )
        return path

    @classmethod
    def read_csv(cls, path: str | Path, title: str = "") -> ResultsTable:
        """Inverse of :meth:`to_csv` (empty cells come back as NaN)."""
        path = Path(path)
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None or header[:2] != ["group", "system"]:
                raise ValueError(f"{path}: line 1 must start with 'group,system'")
            table = cls(header[2:], title=title)
            for lineno, row in enumerate(reader, start=2):
                if len(row) != len(header):
                    raise ValueError(
                        f"{path}: line {lineno} has {len(row)} cells, expected "
                        f"{len(header)}"
                    )
                table._declare(row[1], row[0])
                values = {}
                for c, v in zip(header[2:], row[2:], strict=True):
                    try:
                        values[c] = math.nan if v == "" else float(v)
                    except ValueError:
                        raise ValueError(
                            f"{path}: line {lineno}, column {c!r}: {v!r} is not "
                            "a number"
                        ) from None
                table.add_row(row[1], row[0], values)
        return table

    def markdown(self, sd: ResultsTable | None = None) -> str:
        """The table as GitHub Markdown (title as a bold caption line if set).

        With ``sd`` (a table of the same shape, e.g. the standard deviation over
        model seeds), cells where it has a value read "mean ± sd".
        """
        header = ["Group", "System", *self.columns]
        lines = []
        if self.title:
            lines += [f"**{self.title}**", ""]
        lines.append("| " + " | ".join(_md(h) for h in header) + " |")
        lines.append(
            "|" + "|".join([":---", ":---"] + ["---:"] * len(self.columns)) + "|"
        )
        for rec in self.records():
            cells = [_md(rec["group"]), _md(rec["system"])]
            for c in self.columns:
                cell = self._cell(c, rec[c])
                if sd is not None and rec["system"] in sd.systems and c in sd.columns:
                    spread = sd.get(rec["system"], c)
                    if not _is_missing(spread) and not _is_missing(rec[c]):
                        cell += " ± " + self._cell(c, spread)
                cells.append(cell)
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def to_markdown(self, path: str | Path, sd: ResultsTable | None = None) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.markdown(sd), encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return self.markdown()


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
