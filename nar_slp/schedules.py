"""Learning-rate schedules as pure functions of the optimizer step.

A factor that depends only on the global step (not on a scheduler object's state)
makes resume exact for free: a run restarted after any epoch recomputes the same
learning rate for the same step.
"""

from __future__ import annotations

import math

import torch

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
