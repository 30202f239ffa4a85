"""One epoch of student training (§3.4, Eq. 11): the callbacks that
:func:`nar_slp.training.student_trainer.train_student` hands to the package's
training loop (:func:`nar_slp.loop.train_epochs`).

:class:`StudentEpochs` holds one run's state and supplies

- ``batches(epoch)``: re-seeds with ``seed_everything(cfg.seed + epoch - 1)`` and
  sets the batch sampler's epoch, so a resumed run draws the same batches and
  dropout masks as an uninterrupted one;
- ``step(item)``: the learning rate of the global step, the forward pass at the true
  lengths (teacher-forced lengths) under autocast, the loss of Eq. 11 and the
  epoch's running sums; under ``torchrun`` each rank's share of the global batch;
- ``dev_score(epoch)``: :func:`~nar_slp.training.student_dev.evaluate_student` and
  the selection score;
- ``end_epoch(stats)``: the history row, ``best/`` when the epoch is the best so far,
  the last-epoch checkpoint (weights, optimizer, scaler) and the log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nar_slp.checkpoints import save_checkpoint
from nar_slp.config import Config
from nar_slp.distributed import World, all_sum, barrier, share_step
from nar_slp.loop import EpochStats, Step
from nar_slp.models.student import BEST, TextToLatentStudent, student_losses
from nar_slp.schedules import lr_factor
from nar_slp.training.student_data import (
    set_loader_epoch,
    student_inputs,
)
from nar_slp.training.student_dev import (
    best_epoch,
    evaluate_student,
    patience_ran_out,
    selection_score,
)
from nar_slp.utils import EpochLogger, autocast_context, quiet_progress, seed_everything

LOSS_KEYS = ("total", "pose", "distil", "length")


@dataclass
class StudentEpochs:
    """The loop callbacks of one student run (see the module docstring).

    ``trained`` is the module the steps call (``model`` itself, or its
    DistributedDataParallel wrapper); ``base_lrs`` the parameter groups' rates
    before the schedule; ``history`` the run's rows, extended in place.
    """

    cfg: Config
    model: TextToLatentStudent
    trained: nn.Module
    optimizer: torch.optim.Optimizer
    base_lrs: list[float]
    scaler: torch.amp.GradScaler
    use_fp16: bool
    loader: Any
    dev_loader: Any | None
    vae: nn.Module
    world: World
    device: torch.device
    input_kind: str
    n_values: int | None
    out_dir: Path
    history: list[dict[str, Any]]
    epoch_log: EpochLogger
    # this epoch's global batch sizes, loss sums, items, number and dev metrics
    ep: dict[str, Any] = field(default_factory=dict)
    total_steps: int = field(init=False)

    def __post_init__(self) -> None:
        self.total_steps = self.cfg.student.train.epochs * len(self.loader)

    def batches(self, epoch: int) -> Any:  # epoch: 1-based
        cfg, world, loader = self.cfg, self.world, self.loader
        seed_everything(cfg.seed + epoch - 1)
        if world.rank > 0:  # own dropout masks per rank; rank 0 keeps one process's
            torch.manual_seed((cfg.seed + epoch - 1) * 7919 + world.rank)
        set_loader_epoch(loader, epoch - 1)
        self.ep["sizes"] = (
            loader.batch_sampler.global_sizes(epoch - 1) if world.distributed else []
        )
        self.ep["sums"] = dict.fromkeys(LOSS_KEYS, 0.0)
        self.ep["items"], self.ep["epoch"] = 0, epoch
        bar = quiet_progress(loader, desc=f"student {epoch}/{cfg.student.train.epochs}")
        return enumerate(bar)

    def step(self, item: tuple[int, Any]) -> Step:
        i, batch = item
        cfg, scfg, world, ep = self.cfg, self.cfg.student, self.world, self.ep
        global_sizes = ep["sizes"]
        # The rate is a function of the global step alone, so resume is exact.
        factor = lr_factor(
            scfg.train.schedule,
            (ep["epoch"] - 1) * len(self.loader) + i,
            self.total_steps,
            scfg.train.warmup,
        )
        for group, base_lr in zip(
            self.optimizer.param_groups, self.base_lrs, strict=True
        ):
            group["lr"] = base_lr * factor
        batch = batch.to(self.device)
        with autocast_context(self.device, scfg.mixed_precision):
            out = self.trained(
                student_inputs(batch, self.input_kind), lengths=batch.lengths
            )
            losses = student_losses(
                out,
                batch,
                self.vae,
                cfg.data.max_frames,
                scfg.use_kd,
                scfg.loss_weights,
            )
        b = len(batch.lengths)
        objective = losses.total
        real = not world.distributed or world.rank < global_sizes[i]
        share = share_step(
            int((batch.mask.bool() & out.frame_mask).sum()) if real else 0,
            b if real else 0,
            bool(torch.isfinite(losses.total)),
            world,
        )
        if world.distributed:
            objective = _share_objective(losses, share, scfg.use_kd, scfg.loss_weights)
        if not share.finite:  # every rank stops, before any backward
            raise FloatingPointError(
                f"student loss is {float(losses.total)} at epoch {ep['epoch']}; "
                "lower student.train.lr or use mixed_precision='no'"
            )
        # a placeholder share has weight 0 in share and adds nothing
        n_global = global_sizes[i] if world.distributed else b
        _accumulate(
            ep["sums"], losses, share, world, n_global, scfg.use_kd, scfg.loss_weights
        )
        ep["items"] += b if real else 0
        return Step(objective)

    def dev_score(self, epoch: int) -> float | None:
        self.ep["dev"] = (
            evaluate_student(
                self.model,
                self.dev_loader,
                self.vae,
                self.cfg,
                self.device,
                self.input_kind,
                self.world,
            )
            if self.dev_loader is not None
            else dict.fromkeys(("pose", "distil", "length", "duracc"))
        )
        return selection_score(
            {f"dev_{k}": v for k, v in self.ep["dev"].items()},
            self.cfg.student.loss_weights,
        )

    def end_epoch(self, stats: EpochStats) -> None:
        cfg, world, model, history = self.cfg, self.world, self.model, self.history
        sums, n_items = self.ep["sums"], self.ep["items"]
        if world.distributed:
            *totals, n_items = all_sum([*sums.values(), n_items], world)
            sums = dict(zip(sums, totals, strict=True))
        row: dict[str, Any] = {"epoch": stats.epoch}
        for key in sums:
            row[f"train_{key}"] = sums[key] / max(n_items, 1)
        for key, value in self.ep["dev"].items():
            row[f"dev_{key}"] = value
        row["seconds"] = stats.seconds
        history.append(row)
        best = best_epoch(history, cfg.student.loss_weights)
        extra = {
            "kind": "student",
            "epoch": stats.epoch,
            "history": history,
            "input_kind": self.input_kind,
            "n_values": self.n_values,
            "best_epoch": best,
            "selection": "dev L_pose + L_length (weighted as in Eq. 11)",
            "stopped_early": patience_ran_out(history, cfg),
        }
        if world.main:
            if best == stats.epoch:
                # Written before the last-epoch checkpoint: if a crash falls between
                # the two, the resumed run retrains this epoch and rewrites the same
                # weights.
                save_checkpoint(self.out_dir / BEST, model, cfg.to_dict(), extra=extra)
            scaler_state = self.scaler.state_dict() if self.use_fp16 else None
            save_checkpoint(
                self.out_dir,
                model,
                cfg.to_dict(),
                extra={**extra, "scaler": scaler_state},
                optimizer_state=self.optimizer.state_dict(),
            )
        barrier(world)  # every rank may read what rank 0 wrote
        self.epoch_log.epoch(
            stats.epoch, _format_row(row, cfg.student.train.epochs, best)
        )


def _accumulate(
    sums: dict[str, float],
    losses: Any,
    share: Any,
    world: World,
    weight: int,
    use_kd: bool,
    weights: tuple[float, float, float],
) -> None:
    """Add the step's losses, times ``weight`` sequences, to the epoch's ``sums``.

    One process: the batch means. Under torchrun each rank adds its part of the
    global batch's means (its means times its share weight / world size), so the
    sums reduced over ranks equal one process's."""
    if not world.distributed:
        for key in sums:
            sums[key] += float(getattr(losses, key).detach()) * weight
        return
    part = {
        "pose": share.frame_weight * float(losses.pose.detach()),
        "distil": share.frame_weight * float(losses.distil.detach()),
        "length": share.item_weight * float(losses.length.detach()),
    }
    w_pose, w_distil, w_length = weights
    part["total"] = w_pose * part["pose"] + w_length * part["length"]
    if use_kd:
        part["total"] += w_distil * part["distil"]
    for key in sums:
        sums[key] += part[key] / world.size * weight


def _share_objective(
    losses: Any, share: Any, use_kd: bool, weights: tuple[float, float, float]
) -> torch.Tensor:
    """Eq. 11 of this rank's share, each mean weighted by the rank's part of the
    global batch (:func:`nar_slp.distributed.share_step`)."""
    w_pose, w_distil, w_length = weights
    frame_terms = w_pose * losses.pose
    if use_kd:
        frame_terms = frame_terms + w_distil * losses.distil
    return (
        share.frame_weight * frame_terms + share.item_weight * w_length * losses.length
    )


def _format_row(row: dict[str, Any], epochs: int, best: int | None = None) -> str:
    parts = [f"student epoch {row['epoch']}/{epochs}"]
    for key in ("train_total", "train_pose", "train_distil", "train_length"):
        parts.append(f"{key.removeprefix('train_')} {row[key]:.4f}")
    if row.get("dev_pose") is not None:
        parts.append(
            f"| dev pose {row['dev_pose']:.4f} distil {row['dev_distil']:.4f} "
            f"length {row['dev_length']:.4f} DurACC {row['dev_duracc']:.2f}"
        )
    if best == row["epoch"]:
        parts.append("*best*")
    parts.append(f"({row['seconds']:.1f} s)")
    return " ".join(parts)
