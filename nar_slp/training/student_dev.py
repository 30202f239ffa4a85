"""Dev evaluation of the student (§3.4) and the rule that selects its checkpoint.

:func:`evaluate_student` gives the dev losses of Eq. 8-10 at the true lengths and
DurACC at the regulator's predicted lengths, the figures of every epoch's history
row; :func:`dev_batches` yields them per batch (also for
:func:`nar_slp.evaluation.student_report.student_dev_report`).

Checkpoint selection (the epoch kept in ``best/``): the smallest dev
:func:`selection_score` = w_pose · dev L_pose + w_length · dev L_length (Eq. 8, 10;
the weights of Eq. 11), the earliest epoch on ties. The rule is the same for every
system: L_distil (Eq. 9) is left out because the "w/o KD" student does not train it,
so including it would select KD students on a term their ablation never optimises;
L_pose is what the pose metrics (FGD, back-translation) judge and L_length what
DurACC judges. (L_length is a BCE against soft targets T / T_max, so its floor is
not 0; a constant offset does not move the argmin.) With ``student.train.patience`` > 0
training stops once that many epochs passed without a better score
(:func:`patience_ran_out`); the stop is recorded and a resumed or repeated run stops
at the same epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from nar_slp.config import Config
from nar_slp.distributed import World, all_sum
from nar_slp.duracc import duracc_hits
from nar_slp.models.student import TextToLatentStudent, student_losses
from nar_slp.training.student_data import student_inputs
from nar_slp.utils import autocast_context


def selection_score(
    row: dict[str, Any], weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
) -> float | None:
    """The dev checkpoint-selection score of one history row (lower is better):
    w_pose · dev L_pose + w_length · dev L_length (see the module docstring for why
    L_distil is left out); None when the row has no dev metrics."""
    pose, length = row.get("dev_pose"), row.get("dev_length")
    if pose is None or length is None or not (math.isfinite(pose + length)):
        return None
    w_pose, _, w_length = weights
    return w_pose * float(pose) + w_length * float(length)


def best_epoch(
    history: list[dict[str, Any]],
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> int | None:
    """The epoch (1-based, as in ``row["epoch"]``) with the lowest
    :func:`selection_score`, the earliest on ties; None if no row has dev metrics."""
    best, best_score = None, math.inf
    for row in history:
        score = selection_score(row, weights)
        if score is not None and score < best_score:
            best, best_score = int(row["epoch"]), score
    return best


def patience_ran_out(history: list[dict[str, Any]], cfg: Config) -> bool:
    """Whether ``student.train.patience`` epochs passed after the best one of
    ``history``."""
    patience = cfg.student.train.patience
    if patience <= 0 or not history:
        return False
    best = best_epoch(history, cfg.student.loss_weights)
    return best is not None and int(history[-1]["epoch"]) - best >= patience


@torch.no_grad()
def dev_batches(
    model: TextToLatentStudent,
    loader: Any,
    vae: nn.Module,
    cfg: Config,
    device: torch.device,
    input_kind: str,
) -> Iterator[dict[str, Any]]:
    """Per batch: the loss terms (true lengths), frame and sequence counts, and the
    regulator's predicted lengths next to the true ones."""
    was_training = model.training
    model.eval()
    try:
        for batch in loader:
            batch = batch.to(device)
            with autocast_context(device, cfg.student.mixed_precision):
                out = model(student_inputs(batch, input_kind), lengths=batch.lengths)
                losses = student_losses(
                    out, batch, vae, cfg.data.max_frames, True, cfg.student.loss_weights
                )
            predicted = model.lengths_from_ratio(out.length_ratio)  # (B,)
            yield {
                "pose": float(losses.pose),
                "distil": float(losses.distil),
                "length": float(losses.length),
                "frames": int(batch.mask.sum()),
                "predicted": predicted.detach().cpu().numpy(),
                "true": batch.lengths.cpu().numpy(),
            }
    finally:
        model.train(was_training)


def evaluate_student(
    model: TextToLatentStudent,
    loader: Any,
    vae: nn.Module,
    cfg: Config,
    device: torch.device,
    input_kind: str = "text",
    world: World | None = None,
) -> dict[str, float]:
    """Dev losses (true lengths) and DurACC (predicted lengths) over ``loader``.

    Under ``torchrun`` (``world``) each rank evaluates its shard of the dev batches
    and the sums are reduced over ranks, so every rank returns the whole split's
    figures.

    Returns ``{"pose", "distil", "length", "duracc"}``: frame terms averaged over
    real frames, the length BCE over sequences, DurACC = share of sequences whose
    predicted length is less than ``cfg.eval.duracc_tolerance`` frames from the truth
    (:func:`~nar_slp.evaluation.metrics.duracc_hits`).
    """
    sums = {"pose": 0.0, "distil": 0.0, "length": 0.0}
    n_frames = n_seqs = n_hit = 0
    for row in dev_batches(model, loader, vae, cfg, device, input_kind):
        sums["pose"] += row["pose"] * row["frames"]
        sums["distil"] += row["distil"] * row["frames"]
        sums["length"] += row["length"] * len(row["true"])
        n_hit += int(
            duracc_hits(row["predicted"], row["true"], cfg.eval.duracc_tolerance).sum()
        )
        n_frames += row["frames"]
        n_seqs += len(row["true"])
    if world is not None and world.distributed:
        totals = all_sum([*sums.values(), n_frames, n_seqs, n_hit], world)
        sums = dict(zip(sums, totals[:3], strict=True))
        n_frames, n_seqs, n_hit = (int(v) for v in totals[3:])
    if n_seqs == 0:
        return {k: math.nan for k in ("pose", "distil", "length", "duracc")}
    return {
        "pose": sums["pose"] / max(n_frames, 1),
        "distil": sums["distil"] / max(n_frames, 1),
        "length": sums["length"] / n_seqs,
        "duracc": n_hit / n_seqs,
    }
