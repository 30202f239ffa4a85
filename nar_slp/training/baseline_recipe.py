"""The baselines' training recipe (PT and NSLP-G, :mod:`.baseline_trainer`): the
learning-rate schedule of every step, the gradient clip and the early stop (from
the model's ``train`` config, ``cfg.pt.train`` / ``cfg.nslpg.train``), the dev score
of every epoch and the dev-selected epoch (:class:`BaselineRecipe`).

The dev score is the quantity the students select on (their dev L_pose, §4.3):
the MSE of the normalised poses at the true lengths — for PT in oracle timing (the
ground-truth first frame and length, its own frames fed back), for NSLP-G at the
ground-truth lengths. ``benchmarks/study_baselines.py`` is the recipe search built
on it (``benchmarks/README.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from nar_slp.config import TrainConfig
from nar_slp.data.dataset import PoseTextDataset
from nar_slp.loop import Selection
from nar_slp.models.nslp_g import NSLPG
from nar_slp.models.progressive_transformer import ProgressiveTransformer
from nar_slp.recipe import SCHEDULES, check_schedule, lr_factor, patience


@dataclass(frozen=True)
class BaselineRecipe:
    """How a baseline trains beyond its config: ``select_on_dev``: keep the epoch
    with the lowest dev score (needs dev sequences) instead of the last. The default
    is the committed recipe (the last epoch). The learning-rate schedule, warm-up
    and early-stopping patience are the model's ``train`` config
    (``pt.train.schedule`` / ``.warmup`` / ``.patience``, the same for ``nslpg``)."""

    select_on_dev: bool = False


COMMITTED_RECIPE = BaselineRecipe()


def check_recipe(
    recipe: BaselineRecipe,
    train: TrainConfig,
    section: str,
    dev: Sequence[Any] | None,
) -> None:
    """Reject a recipe and ``train`` config (``cfg.<section>.train``, ``section``
    "pt" | "nslpg") that the baseline trainers cannot honour, naming the key."""
    check_schedule(train, section)
    if train.grad_clip < 0:
        raise ValueError(
            f"{section}.train.grad_clip must be >= 0 (0 = no clipping), "
            f"got {train.grad_clip}"
        )
    if train.patience < 0:
        raise ValueError(
            f"{section}.train.patience must be >= 0 (0 = no early stop), "
            f"got {train.patience}"
        )
    if train.patience > 0 and not recipe.select_on_dev:
        raise ValueError(
            f"{section}.train.patience needs recipe.select_on_dev (early stopping "
            "counts epochs without a better dev score; pass "
            "recipe=BaselineRecipe(select_on_dev=True) and dev=...)"
        )
    if recipe.select_on_dev and not dev:
        raise ValueError(
            "recipe.select_on_dev is set but no dev sequences were given "
            "(pass dev=... to the baseline trainer)"
        )


def selection(recipe: BaselineRecipe, train: TrainConfig) -> Selection | None:
    """The loop's dev selection: with ``recipe.select_on_dev`` lower dev scores are
    better and ``train.patience`` epochs without one stop training (0 -> never);
    None (the loop's default: the same without early stop) otherwise."""
    if not recipe.select_on_dev:
        return None
    return Selection(patience=patience(train))


class StepSchedule:
    """Sets the learning rate of ``optimizer`` before each of ``total`` steps from
    the schedule ``name`` with ``warmup`` (``cfg.<model>.train.schedule`` and
    ``.warmup``; a pure function of the global step, as the students')."""

    def __init__(self, name: str, warmup: float, total: int) -> None:
        if name not in SCHEDULES:
            raise ValueError(
                f"unknown schedule {name!r}; valid: {', '.join(SCHEDULES)}"
            )
        self.name, self.warmup, self.total, self.step = name, warmup, total, 0

    def __call__(self, optimizer: torch.optim.Optimizer, base_lr: float) -> None:
        factor = lr_factor(self.name, self.step, self.total, self.warmup)
        for group in optimizer.param_groups:
            group["lr"] = base_lr * factor
        self.step += 1


def _dev_mse(preds: Sequence[torch.Tensor], items: Sequence[Any]) -> tuple[float, int]:
    """Sum of squared errors of ``preds`` (each (T_i, F), normalised) against the
    items' ground truth over their real frames and values, and the values counted."""
    sse, n = 0.0, 0
    for p, item in zip(preds, items, strict=True):
        y = item.poses.flatten(1)  # (T, J, K) -> (T, F)
        sse += float(((p[: len(y)].float().cpu() - y) ** 2).sum())
        n += y.numel()
    return sse, n


@torch.no_grad()
def pt_dev_score(
    model: ProgressiveTransformer, dev: PoseTextDataset, batch_size: int = 64
) -> float:
    """Dev pose MSE of PT in oracle timing (the GT first frame and length, its own
    frames fed back): the quantity of the students' dev L_pose, on the same
    normalised poses."""
    device = model.start_frame.device
    sse, n = 0.0, 0
    for i in range(0, len(dev), batch_size):
        items = [dev[j] for j in range(i, min(i + batch_size, len(dev)))]
        gen = model.generate(
            [it.text for it in items],
            mode="oracle",
            first_frames=torch.stack([it.poses[0].flatten() for it in items]).to(
                device
            ),
            lengths=torch.tensor([len(it.poses) for it in items]),
        )
        s, c = _dev_mse(gen.poses, items)
        sse, n = sse + s, n + c
    return sse / n


@torch.no_grad()
def nslpg_dev_score(model: NSLPG, dev: PoseTextDataset, batch_size: int = 64) -> float:
    """Dev pose MSE of NSLP-G at the GT lengths (the students' dev L_pose)."""
    model.eval()
    device = model.queries.device
    sse, n = 0.0, 0
    for i in range(0, len(dev), batch_size):
        items = [dev[j] for j in range(i, min(i + batch_size, len(dev)))]
        lens = torch.tensor([len(it.poses) for it in items], device=device)
        gen = model([it.text for it in items], lens)
        s, c = _dev_mse(list(gen.poses), items)
        sse, n = sse + s, n + c
    return sse / n
