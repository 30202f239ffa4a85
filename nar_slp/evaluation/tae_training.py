"""Training of the FGD autoencoder (:mod:`nar_slp.evaluation.tae`) and its diagnostics.

Training to convergence (:func:`train_tae`). Given ground-truth dev sequences, every
epoch ends with the dev BCE of exactly the segments FGD scores; the best dev epoch is
kept and training stops after ``cfg.tae.train.patience`` epochs without improvement.
A BCE on soft targets never reaches 0: its floor is the targets' entropy
(:func:`target_entropy`), so progress is read as the *excess* BCE over that floor,
compared with a static pose per window (:func:`static_pose_bce`, the window's own
mean pose: everything but motion). A TAE whose excess is not clearly below the
static pose's has not learned motion, and its features would not either.

Training windows (:func:`_epoch_plan`) are non-overlapping tilings of each sequence at
a random alignment per epoch; with probability :data:`SHORT_CROP_PROB` a window is
cropped to a random length in ``[min_frames, W]`` so that short segments are
in-distribution (see :mod:`nar_slp.evaluation.tae`, (c)).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nar_slp.checkpoints import save_checkpoint
from nar_slp.config import Config
from nar_slp.evaluation.tae import (
    _TAE_KIND,
    MIN_SEGMENT_FRAMES,
    TAE,
    build_tae,
    masked_bce,
    normalise_flat,
    pad_batch,
    windows,
)
from nar_slp.loop import EpochStats, Selection, Step, train_epochs
from nar_slp.recipe import (
    adamw,
    check_schedule,
    grad_clip,
    lr_scheduler,
    patience,
)
from nar_slp.utils import EpochLogger

SHORT_CROP_PROB = 0.25  # share of training windows cropped to a random shorter length


def _epoch_plan(
    lengths: Sequence[int], window: int, min_frames: int, rng: np.random.Generator
) -> list[tuple[int, int, int]]:
    """One epoch of training segments as (sequence, start, length), shuffled.

    Each sequence of T > W frames is tiled with non-overlapping W-frame windows
    aligned, with equal chance, to its first frame, to its last frame, or to a random
    offset, so every frame is covered in expectation and starts/ends of sentences are
    seen often. Sequences with T <= W give themselves (if T >= ``min_frames``). Then,
    with probability ``SHORT_CROP_PROB``, a segment is cropped to a random length in
    [min_frames, its length] at a random offset.
    """
    plan = []
    for i, t in enumerate(lengths):
        if t < min_frames:
            continue
        if t <= window:
            segs = [(i, 0, t)]
        else:
            n = t // window
            mode = rng.integers(3)
            if mode == 0:
                first = 0
            elif mode == 1:
                first = t - n * window
            else:
                first = int(rng.integers(0, t - n * window + 1))
            segs = [(i, first + k * window, window) for k in range(n)]
        for seq, a, length in segs:
            if rng.random() < SHORT_CROP_PROB and length > min_frames:
                short = int(rng.integers(min_frames, length + 1))
                a += int(rng.integers(0, length - short + 1))
                length = short
            plan.append((seq, a, length))
    return [plan[j] for j in rng.permutation(len(plan))]


@torch.no_grad()
def reconstruction_bce(
    tae: TAE, segments: Sequence[np.ndarray], batch_size: int = 256
) -> float:
    """Mean BCE (eval mode) of the TAE's reconstructions of normalised segments
    (T_i, F): over real frames and the channels the TAE keeps (:func:`masked_bce`),
    each frame weighted equally across segments."""
    was_training = tae.training
    tae.eval()
    device = next(tae.parameters()).device
    total = weight = 0.0
    for i in range(0, len(segments), batch_size):
        x, mask = pad_batch(segments[i : i + batch_size], device)
        n = float(mask.sum()) * float(tae.standardiser.keep.sum())
        total += (
            float(masked_bce(tae(x, mask).logits, x, mask, tae.standardiser.keep)) * n
        )
        weight += n
    tae.train(was_training)
    return total / max(weight, 1.0)


def static_pose_bce(
    segments: Sequence[np.ndarray], keep: np.ndarray | None = None
) -> float:
    """BCE of predicting every frame of a segment by the segment's own mean pose.

    The reference a TAE must beat clearly: a per-window static pose knows the window's
    position and shape but no motion. Same weighting as :func:`reconstruction_bce`;
    ``keep`` (F,) 0/1 selects the scored channels (None = all).
    """
    total = weight = 0.0
    for s in segments:
        s = np.clip(np.asarray(s, np.float64), 0.0, 1.0)  # (T, F)
        p = np.clip(s.mean(0, keepdims=True), 1e-7, 1 - 1e-7)  # (1, F)
        bce = -(s * np.log(p) + (1 - s) * np.log(1 - p))  # (T, F)
        k = np.ones(s.shape[1]) if keep is None else np.asarray(keep, np.float64)
        total += float((bce * k).sum())
        weight += len(s) * float(k.sum())
    return total / max(weight, 1.0)


def target_entropy(
    segments: Sequence[np.ndarray], keep: np.ndarray | None = None
) -> float:
    """The floor of any BCE on these segments: mean binary entropy of the targets,
    ``-x log x - (1-x) log(1-x)`` (a perfect reconstruction scores it, not 0).
    BCE minus this is the excess (a KL divergence) that separates models."""
    total = weight = 0.0
    for s in segments:
        x = np.clip(np.asarray(s, np.float64), 1e-7, 1 - 1e-7)  # (T, F)
        h = -(x * np.log(x) + (1 - x) * np.log(1 - x))
        k = np.ones(x.shape[1]) if keep is None else np.asarray(keep, np.float64)
        total += float((h * k).sum())
        weight += len(x) * float(k.sum())
    return total / max(weight, 1.0)


def evaluation_segments(
    poses: Sequence[np.ndarray],
    normaliser: Any,
    window: int,
    stride: int,
    min_frames: int,
) -> list[np.ndarray]:
    """Normalised FGD segments (T_i <= W, F) of PT sequences, cut exactly as FGD cuts
    them (:func:`windows`, segments shorter than ``min_frames`` dropped)."""
    out = []
    for p in poses:
        flat = normalise_flat(getattr(p, "poses", p), normaliser)
        out += [s for s in windows(flat, window, stride) if len(s) >= min_frames]
    return out


@dataclass
class TAETrainingReport:
    """What :func:`train_tae` measured (also saved in the checkpoint's ``extra``)."""

    history: list[float]  # training BCE per epoch
    dev_history: list[float]  # dev BCE per epoch (empty without dev poses)
    best_epoch: int  # 1-based epoch whose weights were kept
    seconds: float  # wall-clock training time


def train_tae(
    cfg: Config,
    train_poses: Sequence[np.ndarray],
    normaliser: Any,
    out_dir: str | Path | None,
    device: str | torch.device = "cpu",
    log: Callable[[str], None] | None = print,
    log_every: int | None = None,
    min_frames: int = MIN_SEGMENT_FRAMES,
    dev_poses: Sequence[np.ndarray] | None = None,
) -> TAE:
    """Train the FGD autoencoder on GROUND-TRUTH training poses and save it.

    Args:
        cfg: the run configuration; uses ``cfg.tae`` (the architecture,
            :func:`~nar_slp.evaluation.tae.build_tae`; ``min_delta``) and its
            ``train`` (AdamW ``lr`` and ``weight_decay``, ``epochs``,
            ``batch_size`` windows per step, ``grad_clip`` (0 = none), the
            ``schedule`` with ``warmup``, ``patience``), ``cfg.eval.fgd_window`` /
            ``fgd_stride``, ``cfg.eval.batch_size`` (dev evaluation batches ×4)
            and ``cfg.seed``.
        train_poses: ground-truth training sequences, arrays (T, 50, 3) in PT
            coordinates (or objects with a ``.poses`` attribute).
        normaliser: the Normaliser fitted on the ground-truth training split.
        out_dir: checkpoint folder (``save_checkpoint``; the config holds the TAE's
            hyper-parameters); None = do not save.
        device: torch device for training; the returned TAE is on it, in eval mode.
        log: receives the progress lines (None = silent); which epochs get a line is
            :class:`nar_slp.utils.EpochLogger`'s policy.
        log_every: print every k-th epoch (None: at most a few lines per run).
        min_frames: shortest segment used (and later accepted by FGD).
        dev_poses: ground-truth DEV sequences (PT coordinates). Given, every epoch
            ends with the BCE of the dev FGD segments (:func:`reconstruction_bce`);
            the weights of the best dev epoch are kept and training stops after
            ``cfg.tae.train.patience`` epochs without a dev improvement of more
            than ``cfg.tae.min_delta`` (0 = never; ``tae.train.epochs`` is then
            the maximum). None = train all ``tae.train.epochs`` and keep the last
            weights (the old rule).

    Each epoch tiles every training sequence with non-overlapping windows at a random
    alignment and crops some of them short (:func:`_epoch_plan`), in a seeded random
    order: half the windows of the overlapping evaluation tiling, more variety. The
    input standardiser is fitted on all training frames; constant channels are
    dropped from input and loss. The report (:class:`TAETrainingReport`) is
    attached as ``tae.training_report`` and saved in the checkpoint.
    """

    ec, tc = cfg.eval, cfg.tae
    tr = tc.train
    check_schedule(tr, "tae")
    device = torch.device(device)
    start_time = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    flat = [normalise_flat(getattr(p, "poses", p), normaliser) for p in train_poses]
    lengths = [len(f) for f in flat]
    plans = [
        _epoch_plan(lengths, ec.fgd_window, min_frames, rng) for _ in range(tr.epochs)
    ]
    if not plans or not plans[0]:
        raise ValueError(
            f"train_tae: no training sequence has >= {min_frames} frames "
            f"({len(flat)} sequences given)"
        )
    tae = build_tae(cfg, n_values=flat[0].shape[1], min_frames=min_frames).to(device)
    tae.standardiser.fit(np.concatenate(flat))  # (sum T, F)
    dev_segs = (
        None
        if dev_poses is None
        else evaluation_segments(
            dev_poses, normaliser, ec.fgd_window, ec.fgd_stride, min_frames
        )
    )
    if dev_segs is not None and not dev_segs:
        raise ValueError(f"train_tae: no dev segment of >= {min_frames} frames")
    opt = adamw(tae.parameters(), tr)
    n_steps = sum(math.ceil(len(plan) / tr.batch_size) for plan in plans)
    sched = lr_scheduler(opt, tr, n_steps, "tae")
    history: list[float] = []
    dev_history: list[float] = []
    epoch_log = EpochLogger(log, tr.epochs, log_every)

    def batches(epoch: int):
        plan = plans[epoch - 1]
        for i in range(0, len(plan), tr.batch_size):
            batch = [flat[j][a : a + n] for j, a, n in plan[i : i + tr.batch_size]]
            yield batch

    def step(batch) -> Step:
        x, mask = pad_batch(batch, device)
        return Step(tae.loss(x, mask), len(batch))

    def dev_score(epoch: int) -> float:
        return reconstruction_bce(tae, dev_segs, 4 * ec.batch_size)

    def end_epoch(stats: EpochStats) -> None:
        history.append(stats.means["loss"])
        line = (
            f"TAE epoch {stats.epoch}/{tr.epochs}: BCE {history[-1]:.4f} "
            f"({len(plans[stats.epoch - 1])} segments"
        )
        if stats.dev is not None:
            dev_history.append(stats.dev)
            line += f", dev BCE {stats.dev:.4f}"
        epoch_log.epoch(stats.epoch, f"{line}, {stats.seconds:.1f}s)")

    loop = train_epochs(
        tae,
        opt,
        range(1, tr.epochs + 1),
        batches,
        step,
        scheduler=sched,
        clip=grad_clip(tr),
        dev_score=dev_score if dev_segs is not None else None,
        selection=Selection(min_delta=tc.min_delta, patience=patience(tr)),
        end_epoch=end_epoch,
        name="TAE",
        hint="lower tae.train.lr",
    )
    best_epoch = loop.best_epoch if loop.best_epoch is not None else tr.epochs
    epoch_log.finish(best_epoch if dev_segs is not None else None)
    if loop.stopped_early and log is not None:
        log(f"TAE: early stop, best dev epoch {best_epoch}")
    if loop.best_state is not None:
        tae.load_state_dict(loop.best_state)
    tae.eval()
    report = TAETrainingReport(
        history, dev_history, best_epoch, time.perf_counter() - start_time
    )
    tae.training_report = report
    if out_dir is not None:
        save_checkpoint(
            out_dir,
            tae,
            config={"kind": _TAE_KIND, "model": tae.hparams, "run": cfg.to_dict()},
            extra={
                "history": history,
                "dev_history": dev_history,
                "best_epoch": best_epoch,
                "seconds": report.seconds,
                "segments_per_epoch": [len(p) for p in plans],
            },
        )
    return tae
