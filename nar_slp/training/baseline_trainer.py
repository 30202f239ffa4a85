"""Training and generation for the baselines of Table 1 (§4.4).

- Progressive Transformers (:mod:`nar_slp.models.progressive_transformer`): rows
  "PT (Base)" and "PT (FP&GN)".
- NSLP-G (:mod:`nar_slp.models.nslp_g`): rows "NSLP-G (Base)", "NSLP-G (GS)",
  "NSLP-G (Base +ft)", "NSLP-G (GS +ft)".

The batch losses and single optimiser steps are in
:mod:`nar_slp.training.baseline_steps`; each model's checkpoint folder (``save_pt``,
``save_nslpg``), loader and generator sit beside it, in
:mod:`nar_slp.models.progressive_transformer` and :mod:`nar_slp.models.nslp_g`.

Each model reads its own section of the configuration: ``cfg.pt`` / ``cfg.nslpg``
for the architecture, their ``train`` (:class:`nar_slp.config.TrainConfig`) for the
AdamW rate and weight decay, epochs, batch size, gradient clip, learning-rate
schedule and warm-up, and the early-stopping patience (which needs
``recipe.select_on_dev``, :class:`~nar_slp.training.baseline_recipe.BaselineRecipe`).

Every row has the same number of epochs within its family: a "+ft" model is its
frozen-PGM sibling's state after ``nslpg.train.epochs - nslpg.ft_epochs`` epochs,
trained ``nslpg.ft_epochs`` more with the PGM unfrozen at ``nslpg.ft_lr`` (the
sibling trains those epochs with the PGM frozen).

Checkpoints go to ``<run>/baselines/<key>/`` (keys in :data:`BASELINE_SYSTEMS`).
Generation returns lists of (T_i, J, K) arrays in PT coordinates (the run's
normaliser inverse), ready for :func:`nar_slp.evaluation.harness.write_outputs`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nar_slp.checkpoints import checkpoint_exists, load_checkpoint
from nar_slp.config import Config
from nar_slp.data.dataset import PoseBatch, PoseTextDataset, make_loader
from nar_slp.loop import EpochStats, LoopResult, Step, train_epochs
from nar_slp.models.nslp_g import NSLPGLoss, build_nslpg, load_nslpg, save_nslpg
from nar_slp.models.pose_vae import load_vae
from nar_slp.models.progressive_transformer import (
    build_pt,
    load_pt,
    save_pt,
)
from nar_slp.models.word_encoder import WordVocab
from nar_slp.recipe import adamw, grad_clip
from nar_slp.training.baseline_recipe import (
    COMMITTED_RECIPE,
    BaselineRecipe,
    StepSchedule,
    check_recipe,
    nslpg_dev_score,
    pt_dev_score,
    selection,
)
from nar_slp.training.baseline_steps import (
    ErrorStatistics,
    nslpg_batch_loss,
    pt_batch_loss,
    pt_end_epoch,
)
from nar_slp.utils import seed_everything


@dataclass
class BaselineTrainResult:
    model: torch.nn.Module
    history: list[dict[str, float]] = field(default_factory=list)
    directory: Path | None = None


def _dataset(cfg: Config, seqs: Sequence[Any], normaliser: Any) -> PoseTextDataset:
    return PoseTextDataset(
        seqs, normaliser, max_frames=cfg.data.max_frames, truncate=True
    )


# ------------------------------------------------------------------ PT


def train_pt(
    cfg: Config,
    variant: str,
    train: Sequence[Any],
    normaliser: Any,
    directory: str | Path,
    device: str = "cpu",
    retrain: bool = False,
    dev: Sequence[Any] | None = None,
    recipe: BaselineRecipe = COMMITTED_RECIPE,
) -> BaselineTrainResult:
    """Train PT (``variant`` "base" | "fpgn") on the training sequences and save it
    to ``directory``; an existing checkpoint there is loaded instead (unless
    ``retrain``). With ``dev`` sequences every epoch's :func:`pt_dev_score` goes into
    the history, and with ``recipe.select_on_dev`` the dev-selected epoch's
    weights are the ones saved (and ``cfg.pt.train.patience`` epochs without a
    better dev score stop training, 0 = never)."""
    directory = Path(directory)
    if checkpoint_exists(directory) and not retrain:
        ckpt = load_checkpoint(directory, with_optimizer=False)
        return BaselineTrainResult(
            load_pt(directory, device), ckpt.extra["history"], directory
        )
    t = cfg.pt.train
    check_recipe(recipe, t, "pt", dev)
    seed_everything(cfg.seed)
    data = _dataset(cfg, train, normaliser)
    dev_data = _dataset(cfg, dev, normaliser) if dev else None
    vocab = WordVocab.build(data.texts)
    model = build_pt(cfg.pt, variant, vocab, max_frames=cfg.data.max_frames)
    model = model.to(device)
    frames = torch.cat([p.flatten(1) for p in data._poses])  # (N, F)
    model.fit_statistics(frames.to(device))
    opt = adamw(model.parameters(), t)
    loader = make_loader(data, t.batch_size, shuffle=True, seed=cfg.seed)
    schedule = StepSchedule(t.schedule, t.warmup, t.epochs * len(loader))
    history: list[dict[str, float]] = []
    epoch_state: dict[str, Any] = {}

    def batches(epoch: int) -> Any:
        epoch_state["errors"] = ErrorStatistics(model.n_values)
        epoch_state["losses"] = []
        return loader

    def step(batch: PoseBatch) -> Step:
        schedule(opt, t.lr)
        loss = pt_batch_loss(model, batch.to(device), epoch_state["errors"])
        epoch_state["losses"].append(float(loss.detach()))
        return Step(loss)

    def after_steps(epoch: int) -> None:
        if model.noise_rate > 0:
            pt_end_epoch(model, epoch_state["errors"])

    def end_epoch(stats: EpochStats) -> None:
        history.append(
            {
                "epoch": stats.epoch,
                "train_loss": float(np.mean(epoch_state["losses"])),
                "noise_std_mean": float(model.noise_std.mean()),
                "seconds": stats.seconds,
            }
        )
        if stats.dev is not None:
            history[-1]["dev_pose"] = stats.dev

    loop = train_epochs(
        model,
        opt,
        range(1, t.epochs + 1),
        batches,
        step,
        clip=grad_clip(t),
        dev_score=(lambda e: pt_dev_score(model, dev_data)) if dev_data else None,
        selection=selection(recipe, t),
        after_steps=after_steps,
        end_epoch=end_epoch,
        name="PT",
        hint="lower pt.train.lr",
    )
    selected = _restore_selected(model, loop, recipe)
    save_pt(directory, model, cfg, variant, vocab, history, selected or t.epochs)
    return BaselineTrainResult(model.eval(), history, directory)


# ------------------------------------------------------------------ NSLP-G


def _restore_selected(
    model: torch.nn.Module, loop: LoopResult, recipe: BaselineRecipe
) -> int | None:
    """With ``recipe.select_on_dev``, load the dev-selected epoch's weights into
    ``model`` and return that epoch; else None (the last epoch is kept)."""
    if not recipe.select_on_dev or loop.best_state is None:
        return None
    model.load_state_dict(loop.best_state)
    return loop.best_epoch


def train_nslpg(
    cfg: Config,
    gs: bool,
    train: Sequence[Any],
    normaliser: Any,
    vae_dir: str | Path,
    directory: str | Path,
    ft_directory: str | Path,
    device: str = "cpu",
    retrain: bool = False,
    dev: Sequence[Any] | None = None,
    recipe: BaselineRecipe = COMMITTED_RECIPE,
) -> tuple[BaselineTrainResult, BaselineTrainResult]:
    """Train NSLP-G (Base, or GS when ``gs``) and its "+ft" sibling; save both.

    The first ``nslpg.train.epochs - nslpg.ft_epochs`` epochs are shared; then the
    frozen model trains on (saved to ``directory``) and a copy trains with the PGM
    unfrozen at ``nslpg.ft_lr`` (saved to ``ft_directory``); both continue the same
    schedule. With ``dev`` sequences every epoch's :func:`nslpg_dev_score` goes into
    the histories; with ``recipe.select_on_dev`` each model keeps the dev-selected
    epoch of its own history (the shared epochs included), and
    ``nslpg.train.patience`` epochs without a better dev score stop a model's
    training (0 = never), counted over that history: a stop within the shared
    epochs ends both (the "+ft" copy then never trains with the PGM unfrozen).
    """
    directory, ft_directory = Path(directory), Path(ft_directory)
    if checkpoint_exists(directory) and checkpoint_exists(ft_directory) and not retrain:
        return tuple(  # type: ignore[return-value]
            BaselineTrainResult(
                load_nslpg(d, device),
                load_checkpoint(d, with_optimizer=False).extra["history"],
                d,
            )
            for d in (directory, ft_directory)
        )
    n, t = cfg.nslpg, cfg.nslpg.train
    check_recipe(recipe, t, "nslpg", dev)
    if not 0 <= n.ft_epochs <= t.epochs:
        raise ValueError(
            f"nslpg.ft_epochs ({n.ft_epochs}) must be within [0, nslpg.train.epochs] "
            f"([0, {t.epochs}])"
        )
    if n.length_rule != "mean":
        raise ValueError(f"unknown nslpg.length_rule {n.length_rule!r}; valid: mean")
    seed_everything(cfg.seed)
    data = _dataset(cfg, train, normaliser)
    dev_data = _dataset(cfg, dev, normaliser) if dev else None
    vocab = WordVocab.build(data.texts)
    gloss_vocab = WordVocab.build(data.glosses) if gs else None
    vae = load_vae(vae_dir, device=device)
    model = build_nslpg(n, vocab, vae, gloss_vocab, max_frames=cfg.data.max_frames)
    model = model.to(device)
    mean_len = int(round(float(np.mean(data.lengths))))
    gs_weight = n.gs_weight if gs else 0.0
    opt = adamw([p for p in model.parameters() if p.requires_grad], t)
    loader = make_loader(data, t.batch_size, shuffle=True, seed=cfg.seed)
    schedule = StepSchedule(t.schedule, t.warmup, t.epochs * len(loader))
    clip, select = grad_clip(t), selection(recipe, t)

    def run(
        m, o, base_lr, sched, epochs, history, previous=None, hint="nslpg.train.lr"
    ) -> LoopResult:
        """Train ``m`` for ``epochs``, appending their rows to ``history``."""
        terms: list[Any] = []

        def batches(epoch: int) -> Any:
            terms.clear()
            return loader

        def step(batch: PoseBatch) -> Step:
            sched(o, base_lr)
            loss = nslpg_batch_loss(m, batch.to(device), gs_weight)
            terms.append(
                NSLPGLoss(loss.total.detach(), loss.pose.detach(), loss.gs.detach())
            )
            return Step(loss.total)

        def end_epoch(stats: EpochStats) -> None:
            row = {
                "epoch": stats.epoch,
                "train_loss": float(np.mean([float(t.total) for t in terms])),
                "train_pose": float(np.mean([float(t.pose) for t in terms])),
                "train_gs": float(np.mean([float(t.gs) for t in terms])),
                "seconds": stats.seconds,
            }
            if stats.dev is not None:
                row["dev_pose"] = stats.dev
            history.append(row)

        return train_epochs(
            m,
            o,
            epochs,
            batches,
            step,
            clip=clip,
            dev_score=(lambda e: nslpg_dev_score(m, dev_data)) if dev_data else None,
            selection=select,
            end_epoch=end_epoch,
            previous=previous,
            name="NSLP-G",
            hint=f"lower {hint}",
        )

    history: list[dict[str, float]] = []
    shared = t.epochs - n.ft_epochs
    first = run(model, opt, t.lr, schedule, range(1, shared + 1), history)
    ft_model = copy.deepcopy(model)
    ft_schedule, ft_first = copy.deepcopy(schedule), copy.deepcopy(first)
    hist_frozen, hist_ft = list(history), list(history)
    # patience stopped the shared epochs: both models end there
    rest = range(0) if first.stopped_early else range(shared + 1, t.epochs + 1)
    frozen = run(model, opt, t.lr, schedule, rest, hist_frozen, first)
    ft_model.set_finetune(True)
    ft_opt = torch.optim.AdamW(
        [p for p in ft_model.parameters() if p.requires_grad],
        lr=n.ft_lr,
        weight_decay=t.weight_decay,
    )
    ft = run(
        ft_model, ft_opt, n.ft_lr, ft_schedule, rest, hist_ft, ft_first, "nslpg.ft_lr"
    )
    selections = (
        _restore_selected(model, frozen, recipe),
        _restore_selected(ft_model, ft, recipe),
    )
    for d, m, is_ft, hist, sel in (
        (directory, model, False, hist_frozen, selections[0]),
        (ft_directory, ft_model, True, hist_ft, selections[1]),
    ):
        selected = sel or t.epochs
        save_nslpg(
            d, m, cfg, vocab, gloss_vocab, vae, gs, is_ft, mean_len, hist, selected
        )
    model.mean_length = ft_model.mean_length = mean_len
    return (
        BaselineTrainResult(model.eval(), hist_frozen, directory),
        BaselineTrainResult(ft_model.eval(), hist_ft, ft_directory),
    )


__all__ = [
    "train_nslpg",
    "train_pt",
]
