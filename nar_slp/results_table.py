"""The results-table container: systems × metrics, and its CSV and Markdown I/O.

A :class:`ResultsTable` has fixed columns and one row per system; each row belongs to a
group (e.g. "Autoregressive"). Rows can be declared up front (the systems a paper table
lists) and filled later; a row or value never filled is *missing*: NaN in memory,
an empty cell in CSV and "—" in Markdown. Markdown is written here (no tabulate).
Reporting lives here; the paper's table layouts are built in
:mod:`nar_slp.evaluation.tables` and judged in :mod:`nar_slp.evaluation.claims`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nar_slp.utils import atomic_write_text

MISSING_MD = "—"


def md_cell(text: str) -> str:
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
        lines.append("| " + " | ".join(md_cell(h) for h in header) + " |")
        lines.append(
            "|" + "|".join([":---", ":---"] + ["---:"] * len(self.columns)) + "|"
        )
        for rec in self.records():
            cells = [md_cell(rec["group"]), md_cell(rec["system"])]
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
        atomic_write_text(path, self.markdown(sd))
        return path

    def __repr__(self) -> str:
        return self.markdown()
