"""What a model's ``train`` section (:class:`~nar_slp.config.TrainConfig`) means
to its trainer, in one place for all six: the AdamW optimiser, the learning-rate
schedule, gradient clipping (0 = none) and patience (0 = never stop early).

The learning-rate schedules are pure functions of the optimizer step
(:func:`lr_factor`): a factor that depends only on the global step, not on a
scheduler object's state, makes resume exact for free (a run restarted after any
epoch recomputes the same rate for the same step).

``section`` names the configuration section in error messages (``"tae"``,
``"pt"``...), so an unknown schedule says which key to change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from nar_slp.config import TrainConfig

SCHEDULES = ("constant", "warmup_cosine")


def warmup_cosine_factor(step: int, total_steps: int, warmup: float = 0.1) -> float:
    """Linear warm-up over ``warmup`` of the steps (at least one), then cosine decay
    to 10 % of the base learning rate; valid for any ``total_steps`` >= 1."""
    total = max(int(total_steps), 1)
    n_warm = max(1, int(warmup * total))
    if step < n_warm:
        return (step + 1) / n_warm
    progress = min(1.0, (step - n_warm) / max(1, total - n_warm))
    return 0.1 + 0.45 * (1.0 + math.cos(math.pi * progress))


def lr_factor(schedule: str, step: int, total_steps: int, warmup: float) -> float:
    """The multiplier of the base learning rate at 0-based ``step`` of
    ``total_steps``: 1 for ``"constant"``, :func:`warmup_cosine_factor` else."""
    if schedule == "constant":
        return 1.0
    if schedule == "warmup_cosine":
        return warmup_cosine_factor(step, total_steps, warmup)
    raise ValueError(f"unknown schedule {schedule!r}; valid: {', '.join(SCHEDULES)}")


def warmup_cosine(
    opt: torch.optim.Optimizer, total_steps: int, warmup: float = 0.1
) -> torch.optim.lr_scheduler.LambdaLR:
    """:func:`warmup_cosine_factor` as a ``LambdaLR`` (the TAE and back-translation
    trainers step it once per batch)."""
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: warmup_cosine_factor(step, total_steps, warmup)
    )


def check_schedule(train: TrainConfig, section: str) -> None:
    """A ValueError naming ``<section>.train.schedule`` unless it is one of
    :data:`SCHEDULES`."""
    if train.schedule not in SCHEDULES:
        raise ValueError(
            f"unknown {section}.train.schedule {train.schedule!r}; valid: "
            f"{', '.join(SCHEDULES)}"
        )


def adamw(
    params: Iterable[torch.nn.Parameter], train: TrainConfig
) -> torch.optim.AdamW:
    """AdamW at ``train.lr`` with decoupled weight decay ``train.weight_decay``."""
    return torch.optim.AdamW(params, lr=train.lr, weight_decay=train.weight_decay)


def lr_scheduler(
    opt: torch.optim.Optimizer, train: TrainConfig, total_steps: int, section: str
) -> torch.optim.lr_scheduler.LambdaLR | None:
    """The per-step scheduler of ``train.schedule`` over ``total_steps`` optimiser
    steps: None (a constant rate) for ``"constant"``, :func:`warmup_cosine` with
    ``train.warmup`` for ``"warmup_cosine"``."""
    check_schedule(train, section)
    if train.schedule == "constant":
        return None
    return warmup_cosine(opt, total_steps, train.warmup)


def grad_clip(train: TrainConfig) -> float | None:
    """The bound on the global gradient norm; None (no clipping) for 0."""
    return train.grad_clip if train.grad_clip > 0 else None


def patience(train: TrainConfig) -> int | None:
    """Dev checks without an improvement before training stops; None (never) for 0."""
    return train.patience if train.patience > 0 else None
