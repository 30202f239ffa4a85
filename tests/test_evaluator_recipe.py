"""The evaluators' training recipe from their ``train`` section
(nar_slp/evaluation/evaluator_recipe.py)."""

from __future__ import annotations

import pytest
import torch

from nar_slp.config import TrainConfig, get_config
from nar_slp.recipe import (
    adamw,
    grad_clip,
    lr_scheduler,
    patience,
    warmup_cosine_factor,
)


def _opt(train: TrainConfig) -> torch.optim.AdamW:
    return adamw([torch.nn.Parameter(torch.zeros(2))], train)


def test_adamw_takes_lr_and_weight_decay():
    group = _opt(TrainConfig(lr=3e-3, weight_decay=0.25)).param_groups[0]
    assert group["lr"] == 3e-3 and group["weight_decay"] == 0.25


def test_schedules_clip_and_patience():
    train = TrainConfig(lr=1.0, schedule="warmup_cosine", warmup=0.25)
    opt = _opt(train)
    sched = lr_scheduler(opt, train, 8, "tae")
    lrs = []
    for _ in range(8):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([warmup_cosine_factor(s, 8, 0.25) for s in range(8)])
    assert lr_scheduler(opt, TrainConfig(schedule="constant"), 8, "tae") is None
    with pytest.raises(ValueError, match=r"slt\.train\.schedule 'linear'"):
        lr_scheduler(opt, TrainConfig(schedule="linear"), 8, "slt")
    assert grad_clip(TrainConfig(grad_clip=0.0)) is None
    assert grad_clip(TrainConfig(grad_clip=0.5)) == 0.5
    assert patience(TrainConfig(patience=0)) is None
    assert patience(TrainConfig(patience=2)) == 2


def test_the_evaluators_default_recipes_are_the_former_hard_coded_ones():
    # before their own sections: AdamW weight decay 0.01, clip 1.0, warm-up (10 %)
    # + cosine, the TAE with patience 3 and min_delta 1e-4, the SLT without patience
    for preset in ("smoke", "default", "paper"):
        cfg = get_config(preset)
        for train in (cfg.tae.train, cfg.slt.train):
            assert (train.weight_decay, train.grad_clip) == (0.01, 1.0)
            assert (train.schedule, train.warmup) == ("warmup_cosine", 0.1)
        assert (cfg.tae.train.patience, cfg.tae.min_delta) == (3, 1e-4)
        assert cfg.slt.train.patience == 0
