"""What a model's ``train`` section (:class:`~nar_slp.config.TrainConfig`) means
to its trainer, in one place for all six: the AdamW optimiser, the learning-rate
schedule, gradient clipping (0 = none) and patience (0 = never stop early).

``section`` names the configuration section in error messages (``"tae"``,
``"pt"``...), so an unknown schedule says which key to change.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from nar_slp.config import TrainConfig
from nar_slp.schedules import SCHEDULES, warmup_cosine


def check_schedule(train: TrainConfig, section: str) -> None:
    """A ValueError naming ``<section>.train.schedule`` unless it is one of
    :data:`nar_slp.schedules.SCHEDULES`."""
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
    steps: None (a constant rate) for ``"constant"``, :func:`~nar_slp.schedules.
    warmup_cosine` with ``train.warmup`` for ``"warmup_cosine"``."""
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
