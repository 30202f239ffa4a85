"""The batch losses and single optimiser steps of the baselines of Table 1 (§4.4).

- Progressive Transformers: :func:`pt_loss` (joints + counter over every predicted
  future frame), :func:`pt_batch_loss` (teacher forced; it also gathers the GN error
  statistics of the epoch, :class:`ErrorStatistics`), :func:`pt_end_epoch` (GN: the
  next epoch's noise scale) and :func:`pt_train_step`.
- NSLP-G: :func:`nslpg_batch_loss` (masked loss at the ground-truth lengths) and
  :func:`nslpg_train_step`.

The trainers (:mod:`nar_slp.training.baseline_trainer`) call the batch losses from
their loop steps; the ``*_train_step`` functions are one step of that loop on its own
(:func:`nar_slp.loop.optimizer_step`), for tests and the benchmarks' timings.
"""

from __future__ import annotations

from typing import Any

import torch

from nar_slp.data.dataset import PoseBatch
from nar_slp.loop import optimizer_step
from nar_slp.models.nslp_g import NSLPG, NSLPGLoss
from nar_slp.models.progressive_transformer import ProgressiveTransformer


def _batch_frames(batch: PoseBatch) -> torch.Tensor:
    return batch.poses.flatten(2)  # (B, T, J, K) -> (B, T, F)


# ------------------------------------------------------------------ PT


class ErrorStatistics:
    """Running per-dimension mean/std of prediction errors over an epoch (GN)."""

    def __init__(self, n: int) -> None:
        self.count = 0
        self.sum = torch.zeros(n, dtype=torch.float64)
        self.sq = torch.zeros(n, dtype=torch.float64)

    def update(self, errors: torch.Tensor) -> None:
        """errors: (N, F) prediction minus target on real frames."""
        e = errors.detach().double().cpu()
        self.count += e.shape[0]
        self.sum += e.sum(0)
        self.sq += (e**2).sum(0)

    def std(self) -> torch.Tensor:
        if self.count < 2:
            return torch.zeros_like(self.sum, dtype=torch.float32)
        mean = self.sum / self.count
        return (self.sq / self.count - mean**2).clamp_min(0).sqrt().float()


def pt_loss(out: Any) -> torch.Tensor:
    """MSE of the joints + MSE of the counter, over every predicted (future) frame
    that exists.

    The counter has its own term: averaged with the 150 standardised joint values it
    would weigh 1/151 of the loss (and its variance is ~1/12 of theirs), and with that
    weight our models never learned a counter that reaches 1, so honest inference
    could not stop. PT's public code averages all 151 values, but it is evaluated with
    the ground-truth length, where the counter is never used to stop.
    """
    m = out.mask.float()  # (B, T, N)
    sq = (out.pred - out.target) ** 2  # (B, T, N, C)
    joints = (sq[..., :-1].mean(-1) * m).sum() / m.sum()
    counter = (sq[..., -1] * m).sum() / m.sum()
    return joints + counter


def pt_batch_loss(
    model: ProgressiveTransformer,
    batch: PoseBatch,
    errors: ErrorStatistics | None = None,
) -> torch.Tensor:
    """The teacher-forced loss of one batch (:func:`pt_loss`); adds the batch's
    first-future-frame joint errors to ``errors`` (the GN statistics of this epoch)."""
    out = model(batch.texts, _batch_frames(batch), batch.lengths)
    if errors is not None:
        valid = out.mask[:, :, 0]  # (B, T)
        diff = (
            out.pred[:, :, 0, : model.n_values] - out.target[:, :, 0, : model.n_values]
        )
        errors.update(diff[valid])  # (N, F)
    return pt_loss(out)


def pt_train_step(
    model: ProgressiveTransformer,
    optimizer: torch.optim.Optimizer,
    batch: PoseBatch,
    errors: ErrorStatistics | None = None,
    grad_clip: float = 1.0,
) -> float:
    """One teacher-forced optimiser step (the training loop's step, on its own).
    Returns the loss."""
    model.train()
    loss = pt_batch_loss(model, batch, errors)
    optimizer_step(model, optimizer, loss, grad_clip)
    return float(loss.detach())


def pt_end_epoch(model: ProgressiveTransformer, errors: ErrorStatistics) -> None:
    """GN: the next epoch's noise scale is this epoch's per-dimension error std."""
    model.noise_std.copy_(errors.std().to(model.noise_std.device))


# ------------------------------------------------------------------ NSLP-G


def nslpg_batch_loss(model: NSLPG, batch: PoseBatch, gs_weight: float = 0.0) -> Any:
    """The loss terms of one batch at the ground-truth lengths (masked loss)."""
    out = model(batch.texts, batch.lengths)
    return model.loss(out, _batch_frames(batch), batch.glosses, gs_weight)


def nslpg_train_step(
    model: NSLPG,
    optimizer: torch.optim.Optimizer,
    batch: PoseBatch,
    gs_weight: float = 0.0,
    grad_clip: float = 1.0,
) -> NSLPGLoss:
    """One optimiser step (the training loop's step, on its own). Returns the loss
    terms (detached)."""
    model.train()
    loss = nslpg_batch_loss(model, batch, gs_weight)
    optimizer_step(model, optimizer, loss.total, grad_clip)
    return NSLPGLoss(loss.total.detach(), loss.pose.detach(), loss.gs.detach())
