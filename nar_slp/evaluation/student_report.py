"""Chapter 03's dev report of the trained students: the dev losses, DurACC and the
length correlation of each student, with bootstrap standard errors
(:func:`student_dev_report`), and the ``training`` tables over seeds
(:func:`dev_report_tables`, written as ``results/<preset>/training*.csv``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from nar_slp.bootstrap import bootstrap_se
from nar_slp.config import Config
from nar_slp.duracc import duracc_hits
from nar_slp.models.student import TextToLatentStudent
from nar_slp.results_table import ResultsTable
from nar_slp.training.student_trainer import dev_batches, make_student_loader
from nar_slp.utils import pick_device

# Columns of chapter 03's training table (results/<preset>/training.csv).
DEV_REPORT_COLUMNS = (
    "dev L_pose",
    "dev L_distil",
    "dev L_length",
    "dev DurACC %",
    "dev length r",
)


def student_dev_report(
    model: TextToLatentStudent,
    dataset: Any,
    vae: nn.Module,
    cfg: Config,
    device: str | torch.device | None = None,
    input_kind: str = "text",
    n_boot: int = 200,
    boot_seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Dev metrics of a trained student, each with its bootstrap standard error.

    Every dev sequence is scored on its own (batch of one, so padding plays no part);
    the bootstrap resamples sequences with replacement ``n_boot`` times. Returns
    ``{column: (value, se)}`` for :data:`DEV_REPORT_COLUMNS`: L_pose and L_distil
    averaged over real frames (as during training), L_length over sequences, DurACC
    in % with the regulator's lengths, and the correlation of predicted and true
    lengths. ``n_boot=0`` gives NaN standard errors.
    """
    device = pick_device(device) if not isinstance(device, torch.device) else device
    loader = make_student_loader(dataset, 1, shuffle=False, seed=cfg.seed)
    rows = list(dev_batches(model, loader, vae, cfg, device, input_kind))
    if not rows:
        raise ValueError("student_dev_report: the dev set is empty")
    frames = np.array([r["frames"] for r in rows], dtype=np.float64)
    pose = np.array([r["pose"] for r in rows]) * frames  # per-sequence sums
    distil = np.array([r["distil"] for r in rows]) * frames
    length = np.array([r["length"] for r in rows])
    predicted = np.concatenate([r["predicted"] for r in rows]).astype(np.float64)
    true = np.concatenate([r["true"] for r in rows]).astype(np.float64)
    hit = duracc_hits(predicted, true, cfg.eval.duracc_tolerance)

    def corr(idx: np.ndarray) -> float:
        p, t = predicted[idx], true[idx]
        if p.std() == 0 or t.std() == 0:
            return math.nan
        return float(np.corrcoef(p, t)[0, 1])

    stats: dict[str, Callable[[np.ndarray], float]] = {
        "dev L_pose": lambda i: float(pose[i].sum() / frames[i].sum()),
        "dev L_distil": lambda i: float(distil[i].sum() / frames[i].sum()),
        "dev L_length": lambda i: float(length[i].mean()),
        "dev DurACC %": lambda i: float(100.0 * hit[i].mean()),
        "dev length r": corr,
    }
    everything = np.arange(len(rows))
    return {
        name: (fn(everything), bootstrap_se(fn, len(rows), n_boot, boot_seed))
        for name, fn in stats.items()
    }


def dev_report_tables(
    reports: Mapping[str, Sequence[Mapping[str, tuple[float, float]]]],
) -> tuple[ResultsTable, ResultsTable, ResultsTable]:
    """Chapter 03's ``training`` tables from :func:`student_dev_report` results.

    Args:
        reports: system key -> one report per training seed.

    Returns:
        (mean over seeds, standard deviation over seeds (ddof=1; NaN with one seed),
        mean of the seeds' bootstrap standard errors), one row per system, columns
        :data:`DEV_REPORT_COLUMNS`; written as ``training.csv``, ``training_sd.csv``
        and ``training_se.csv`` and compared by the results check.
    """
    n = max((len(r) for r in reports.values()), default=0)

    def table(title: str) -> ResultsTable:
        return ResultsTable(list(DEV_REPORT_COLUMNS), title=title, fmt="{:.4f}")

    mean = table(
        f"Students on dev, mean over {n} seed(s) (true lengths for the losses)"
    )
    sd = table("Standard deviation over seeds")
    se = table("Bootstrap standard errors (mean over seeds)")
    for key, per_seed in reports.items():
        values = {c: np.array([r[c][0] for r in per_seed]) for c in DEV_REPORT_COLUMNS}
        errors = {c: np.array([r[c][1] for r in per_seed]) for c in DEV_REPORT_COLUMNS}
        mean.add_row(key, "students", {c: float(v.mean()) for c, v in values.items()})
        sd.add_row(
            key,
            "students",
            {
                c: float(v.std(ddof=1)) if len(v) > 1 else float("nan")
                for c, v in values.items()
            },
        )
        se.add_row(key, "students", {c: float(v.mean()) for c, v in errors.items()})
    return mean, sd, se
