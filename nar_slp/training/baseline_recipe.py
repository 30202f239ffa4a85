"""The baselines' training recipe (PT and NSLP-G, :mod:`.baseline_trainer`): the
learning-rate schedule of every step, the dev score of every epoch and the
dev-selected epoch.

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

from nar_slp.data.dataset import PoseTextDataset
from nar_slp.models.nslp_g import NSLPG
from nar_slp.models.progressive_transformer import ProgressiveTransformer
from nar_slp.schedules import SCHEDULES, lr_factor


@dataclass(frozen=True)
class BaselineRecipe:
    """How a baseline trains beyond its config: ``schedule`` of the learning rate
    over all optimizer steps, as the students' (:mod:`nar_slp.schedules`:
    ``"constant"`` | ``"warmup_cosine"``, linear warm-up over ``warmup`` of the steps
    then cosine decay to 10 %), and ``select_on_dev``: keep the epoch with the
    lowest dev score (needs dev sequences) instead of the last. The default is the
    committed recipe (constant rate, last epoch)."""

    schedule: str = "constant"
    warmup: float = 0.05
    select_on_dev: bool = False


COMMITTED_RECIPE = BaselineRecipe()


def check_recipe(recipe: BaselineRecipe, dev: Sequence[Any] | None) -> None:
    if recipe.schedule not in SCHEDULES:
        raise ValueError(
            f"recipe.schedule {recipe.schedule!r} unknown; valid: "
            f"{', '.join(SCHEDULES)}"
        )
    if recipe.select_on_dev and not dev:
        raise ValueError(
            "recipe.select_on_dev is set but no dev sequences were given "
            "(pass dev=... to the baseline trainer)"
        )


class StepSchedule:
    """Sets the learning rate of ``optimizer`` before each of ``total`` steps from
    ``recipe.schedule`` (a pure function of the global step, as the students')."""

    def __init__(self, recipe: BaselineRecipe, total: int) -> None:
        self.name, self.warmup, self.total, self.step = (
            recipe.schedule,
            recipe.warmup,
            total,
            0,
        )

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
