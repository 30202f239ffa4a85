"""The training loop shared by the package's trainers.

A trainer supplies what differs — the batches of an epoch, the loss of one batch, the
dev score of an epoch — and :func:`train_epochs` does the rest the same way for every
model:

- each epoch: ``model.train()``, then for every batch the step's loss, ``zero_grad``,
  ``backward``, gradient clipping (``clip``, the global L2 norm), the optimiser step
  and the scheduler step (once per optimiser step);
- the epoch's mean of the loss and of every quantity the step reports, weighted by
  the step's weight (sequences, segments or 1 per batch);
- a **NaN guard**: an epoch whose mean loss, or a dev score that is not finite,
  stops training with a ``FloatingPointError`` naming the model, the epoch and what
  to lower;
- **dev selection** (:class:`Selection`): after each epoch's dev score the loop keeps
  a copy of the weights of the best epoch so far (lower or higher is better, by more
  than ``min_delta``) and stops after ``patience`` epochs without an improvement;
- ``after_steps(epoch)``: what a model updates from the epoch's steps before it is
  scored (PT's Gaussian-noise statistics);
- ``end_epoch(stats)``: the trainer's own bookkeeping (its history row, log line,
  per-epoch checkpoint) with the epoch's :class:`EpochStats`.

What stays with each trainer: building the model, optimiser and schedule, the
per-epoch seeding of its batch order (part of ``batches(epoch)``), resuming from a
checkpoint (the loop takes the epochs to run, so a resumed trainer passes the rest),
loading the selected weights and saving the result. A run in phases (NSLP-G's shared
epochs, then two branches) passes the previous phase's :class:`LoopResult` as
``previous``, so the selection continues over the whole history.

:func:`optimizer_step` is the loop's step on its own, for one-step callers
(``pt_train_step``, the benchmarks).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class Step:
    """What a trainer's step returns for one batch: the loss to back-propagate, the
    batch's weight in the epoch mean (its number of sequences, segments... or 1), and
    other per-batch quantities (floats) to average the same way."""

    loss: torch.Tensor
    weight: float = 1.0
    logs: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Selection:
    """How the dev score picks the kept epoch: the best score (lower, or higher with
    ``higher_is_better``) by more than ``min_delta``; ``patience`` epochs without such
    an improvement stop training (None: never)."""

    higher_is_better: bool = False
    min_delta: float = 0.0
    patience: int | None = None
    # copy the best epoch's weights into LoopResult.best_state; False when the
    # trainer writes the selected epoch to disk itself (the student's best/)
    keep_state: bool = True

    def improves(self, score: float, best: float) -> bool:
        if self.higher_is_better:
            return score > best + self.min_delta
        return score < best - self.min_delta


@dataclass(frozen=True)
class EpochStats:
    """One epoch, as the loop saw it: ``means`` holds ``"loss"`` and each of the
    step's logs, weighted means over the epoch; ``dev`` the dev score (None when
    none was computed this epoch); ``seconds`` from the epoch's start to after the
    dev score; ``weight`` the sum of the steps' weights; ``improved``: this epoch's
    dev score is the best so far."""

    epoch: int
    means: dict[str, float]
    dev: float | None
    seconds: float
    weight: float
    improved: bool = False


@dataclass
class LoopResult:
    """The epochs trained, the dev-selected epoch and its weights (None without dev
    scores), and whether patience stopped training."""

    epochs: list[EpochStats]
    best_epoch: int | None = None
    best_score: float | None = None
    best_state: dict[str, torch.Tensor] | None = None
    stopped_early: bool = False
    stale: int = 0  # epochs scored since the last improvement


def optimizer_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss: torch.Tensor,
    clip: float | None = None,
    scheduler: Any = None,
    scaler: torch.amp.GradScaler | None = None,
) -> None:
    """``zero_grad``, ``backward``, clipping of the global gradient L2 norm (None:
    none), the optimiser step and the scheduler step: one step of the loop. With a
    ``scaler`` (fp16 autocast) the loss is scaled and the gradients unscaled before
    clipping; a disabled scaler is the plain step."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
    else:
        scaler.scale(loss).backward()
    if clip is not None:
        if scaler is not None:
            scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    if scaler is None:
        optimizer.step()
    else:
        scaler.step(optimizer)
        scaler.update()
    if scheduler is not None:
        scheduler.step()


def train_epochs(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    epochs: Iterable[int],
    batches: Callable[[int], Iterable[Any]],
    step: Callable[[Any], Step],
    *,
    scheduler: Any = None,
    clip: float | None = None,
    scaler: torch.amp.GradScaler | None = None,
    dev_score: Callable[[int], float | None] | None = None,
    selection: Selection | None = None,
    after_steps: Callable[[int], None] | None = None,
    end_epoch: Callable[[EpochStats], None] | None = None,
    previous: LoopResult | None = None,
    name: str = "model",
    hint: str = "lower the learning rate",
) -> LoopResult:
    """Train ``model`` for ``epochs`` (an iterable of epoch numbers, e.g.
    ``range(start + 1, n + 1)`` to resume) and return what happened.

    Args:
        model: put in train mode at the start of each epoch; its ``state_dict`` is
            copied at each dev improvement (unless ``selection.keep_state`` is
            False).
        optimizer: stepped once per batch after ``zero_grad`` and ``backward``.
        epochs: the epoch numbers to train, in order.
        batches: ``batches(epoch)`` -> the epoch's batches (seed the order here).
        step: ``step(batch)`` -> :class:`Step` (the forward pass and the loss).
        scheduler: stepped after every optimiser step (None: constant rate).
        clip: max global gradient L2 norm (None: no clipping).
        scaler: the fp16 gradient scaler (None: none).
        dev_score: ``dev_score(epoch)`` after the epoch's training; None for no
            score this epoch (e.g. only every k-th epoch is scored).
        selection: how dev scores pick the kept epoch (default: lower is better,
            any improvement, no early stop).
        after_steps: ``after_steps(epoch)`` after the epoch's last step, before its
            dev score.
        end_epoch: called with each epoch's :class:`EpochStats` (after selection).
        previous: the result of an earlier phase of the same run: the selection
            continues from its best epoch, score, weights and patience count (the
            returned result lists this call's epochs only).
        name, hint: for the NaN guard's message ("<name> training diverged ...;
            <hint>").
    """
    selection = selection or Selection()
    result = LoopResult([])
    best = -math.inf if selection.higher_is_better else math.inf
    if previous is not None and previous.best_score is not None:
        best = previous.best_score
        result.best_epoch, result.best_score = previous.best_epoch, previous.best_score
        result.best_state = previous.best_state
    result.stale = previous.stale if previous is not None else 0
    for epoch in epochs:
        t0 = time.perf_counter()
        model.train()
        sums: dict[str, float] = {"loss": 0.0}
        weight = 0.0
        for batch in batches(epoch):
            out = step(batch)
            optimizer_step(model, optimizer, out.loss, clip, scheduler, scaler)
            sums["loss"] += out.loss.item() * out.weight
            for key, value in out.logs.items():
                sums[key] = sums.get(key, 0.0) + value * out.weight
            weight += out.weight
        if weight <= 0:
            raise ValueError(f"{name}: epoch {epoch} had no batches")
        means = {key: value / weight for key, value in sums.items()}
        if not math.isfinite(means["loss"]):
            raise FloatingPointError(
                f"{name} training diverged at epoch {epoch}: mean loss "
                f"{means['loss']}; {hint}"
            )
        if after_steps is not None:
            after_steps(epoch)
        score = dev_score(epoch) if dev_score is not None else None
        if score is not None and not math.isfinite(score):
            raise FloatingPointError(
                f"{name}: the dev score of epoch {epoch} is {score}; {hint}"
            )
        improved = score is not None and selection.improves(score, best)
        if improved:
            best, result.stale = score, 0
            result.best_epoch, result.best_score = epoch, score
            if selection.keep_state:
                result.best_state = {
                    k: v.detach().clone() for k, v in model.state_dict().items()
                }
        elif score is not None:
            result.stale += 1
        stats = EpochStats(
            epoch, means, score, time.perf_counter() - t0, weight, improved
        )
        result.epochs.append(stats)
        if end_epoch is not None:
            end_epoch(stats)
        if selection.patience is not None and result.stale >= selection.patience:
            result.stopped_early = True
            break
    return result
