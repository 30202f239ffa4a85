"""The paper's figures from a run's files: Fig. 3's systems and Fig. 4's FGD curves.

Fig. 3 (Hwang et al. 2022) shows the ground truth and each system signing one test
sentence side by side. :func:`figure_systems` gathers those sequences from a run:
generated outputs are PT folders ``<run>/outputs/<key>/`` (chapters 03-05); a student
trained with seeds writes one folder per seed, ``<key>-seed<s>``, and runs from before
seeds have a plain ``<key>``. A system without outputs is skipped.

Fig. 4 plots FGD per frame interval [a, b) (left) and per prefix ~p, frames 0 .. p - 1
(right), the bins of Table 2 (:mod:`nar_slp.evaluation.fgd_bins`).
:func:`plot_fgd_by_length` takes the bins of each system, e.g.
``{**results[s]["test"]["intervals"], **results[s]["test"]["prefixes"]}``, or those
read back from ``table2.csv`` by :func:`bins_from_table2`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from nar_slp.data.pt_format import read_split
from nar_slp.registry import SYSTEMS
from nar_slp.systems import GT

# Fig. 3's systems: output key -> panel title, in the order the panels are drawn:
# the ground truth, then the registry's systems of the paper's figure under their
# table rows, so a student generated on the fly (no outputs yet) slots in under its
# row name.
FIG3_KEYS = ("kd", "no_kd", "nslpg_gs_ft", "pt_fpgn")
FIG3_SYSTEMS: dict[str, str] = {"gt": GT, **{k: SYSTEMS[k].row for k in FIG3_KEYS}}


def output_folder(run: str | Path, key: str, seed: int = 0) -> Path | None:
    """The outputs of system ``key`` in ``run``: ``<run>/outputs/<key>-seed<seed>``
    (a seeded student), else ``<run>/outputs/<key>`` (baselines, ground truth and
    students trained before seeds); None when neither exists."""
    for name in (f"{key}-seed{seed}", key):
        folder = Path(run) / "outputs" / name
        if folder.is_dir():
            return folder
    return None


def figure_systems(
    run: str | Path,
    indices: Sequence[int],
    split: str = "test",
    systems: Mapping[str, str] = FIG3_SYSTEMS,
    seed: int = 0,
) -> dict[str, list[np.ndarray]]:
    """Sequences of sentences ``indices`` of ``split`` for every system of
    ``systems`` (``{output key: title}``) that has outputs in ``run``.

    Returns ``{title: [poses (T_i, J, K) for each index]}`` in the order of
    ``systems``; systems whose folder or split file is missing are left out.
    """
    found: dict[str, list[np.ndarray]] = {}
    for key, title in systems.items():
        folder = output_folder(run, key, seed)
        if folder is None or not (folder / f"{split}.skels").exists():
            continue
        seqs = read_split(folder, split)
        found[title] = [np.asarray(seqs[i].poses, dtype=np.float32) for i in indices]
    return found


# ------------------------------------------------------------------------ Fig. 4


def _bin_bounds(label: str) -> tuple[int, int]:
    """``"a-b"`` -> (a, b); a prefix ``"~p"`` -> (0, p)."""
    if label.startswith("~"):
        return 0, int(label[1:])
    start, stop = label.split("-")
    return int(start), int(stop)


def bins_from_table2(
    path: str | Path,
) -> dict[str, dict[str, dict[str, float]]]:
    """Read a ``table2.csv`` written by chapter 05 back into Fig. 4 bins:
    ``{system: {"0-50": {"fgd", "start", "stop"}, "~20": {...}}}``; an empty cell
    (a bin with too few windows, or a system not run) becomes NaN."""
    bins: dict[str, dict[str, dict[str, float]]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            system = row.pop("system")
            row.pop("group", None)
            bins[system] = {}
            for label, value in row.items():
                start, stop = _bin_bounds(label)
                fgd = float(value) if value not in ("", None) else math.nan
                bins[system][label] = {"fgd": fgd, "start": start, "stop": stop}
    return bins


def plot_fgd_by_length(
    bins: Mapping[str, Mapping[str, Mapping[str, Any]]],
    exclude: Sequence[str] = (GT,),
    log: bool = True,
):
    """Fig. 4: FGD per frame interval (left, at the interval's centre) and per
    prefix (right, at the prefix length p), one line per system.

    Args:
        bins: ``{system: {label: {"fgd", "start", "stop", ...}}}``; labels ``"a-b"``
            are intervals [a, b), labels ``"~p"`` prefixes (frames at 25 fps).
            Bins with a NaN FGD (too few windows) are skipped, and so is a system
            with no finite bin.
        exclude: systems not drawn (the ground truth scores 0).
        log: logarithmic FGD axis (systems differ by orders of magnitude).

    Returns:
        The figure (the caller shows, saves and closes it).
    """
    fig, (ax_int, ax_pre) = plt.subplots(1, 2, figsize=(10, 4.2))
    for system, per_bin in bins.items():
        if system in exclude:
            continue
        points: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for label, b in per_bin.items():
            fgd = float(b["fgd"]) if b.get("fgd") is not None else math.nan
            if not math.isfinite(fgd):
                continue
            prefix = label.startswith("~")
            x = b["stop"] if prefix else (b["start"] + b["stop"]) / 2
            points[prefix].append((float(x), fgd))
        if not points[False] and not points[True]:
            continue
        xy = {k: np.array(sorted(v)).reshape(-1, 2) for k, v in points.items()}
        (line,) = ax_int.plot(xy[False][:, 0], xy[False][:, 1], "o-", label=system)
        ax_pre.plot(xy[True][:, 0], xy[True][:, 1], "o-", color=line.get_color())
    ax_int.set_xlabel("frame interval centre (frames, 25 fps)")
    ax_pre.set_xlabel("prefix length p (frames)")
    for ax in (ax_int, ax_pre):
        ax.set_ylabel("FGD ×10")
        if log and any(len(line.get_xdata()) for line in ax.lines):
            ax.set_yscale("log")
    ax_int.set_title("FGD per frame interval")
    ax_pre.set_title("FGD of the first p frames")
    n = len(ax_int.lines)
    if n:  # below both panels, where it hides no line
        fig.legend(loc="lower center", ncol=min(n, 3), fontsize=8, frameon=False)
    rows = -(-n // 3)
    fig.tight_layout(rect=(0, min(0.06 * rows, 0.4), 1, 1))
    return fig
