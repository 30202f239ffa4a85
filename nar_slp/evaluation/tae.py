"""Transformer autoencoder (TAE): the feature extractor behind FGD (§5.1, Eq. 12).

The paper evaluates FGD with the Transformer autoencoder of NSLP-G [14], trained on
ground-truth PHOENIX-2014T poses cut into fixed windows of W = 34 frames, with BCE as
the reconstruction loss (§4.3: "for FGD, we use BCE loss to optimize the evaluation
model"). This module implements such a TAE with three deliberate differences from the
public NSLP-G code, so that the feature statistics in Eq. 12 mean what they should:

(a) **Frame order matters.** Frames get a sinusoidal positional encoding before the
    encoder, so a window's feature depends on the order of its frames (without it a
    Transformer encoder + pooling is a bag of frames and cannot see motion).
(b) **No padding in the statistics.** Windows are never zero-padded into the features:
    the encoder uses a key-padding mask and the feature is a masked mean over real
    frames only. A segment's feature is the same whether it is encoded alone or in a
    batch with longer segments (tested).
(c) **Short segments have an explicit rule.** A segment shorter than W (a sequence
    shorter than W, or the part of a sequence inside a short FGD interval) is encoded
    as it is, with the mask. Training sees such segments: with probability
    ``SHORT_CROP_PROB`` a training window is cropped to a random length in
    ``[min_frames, W]``, so short segments are in-distribution. (Training windows are
    non-overlapping tilings at a random alignment per epoch; see ``train_tae``.)
    Segments shorter than ``min_frames`` (default :data:`MIN_SEGMENT_FRAMES` = 8
    frames, about 0.3 s) are excluded from the features and counted by the caller
    (see ``fgd.py``).

Windowing (:func:`windows`): a sequence of T >= W frames yields the full windows
starting at 0, stride, 2·stride, … (stride = ``cfg.eval.fgd_stride``) plus one final
window aligned to the end, ``[T - W, T)``, when the strided ones do not already end at
T; so every frame is covered and no window is padded. A sequence with T < W yields one
short segment, itself.

Inputs: all public functions take poses as numpy arrays (T, 50, 3) in ORIGINAL PT
coordinates and normalise them internally with the :class:`~nar_slp.data.normaliser.
Normaliser` they are given, which must be the one fitted on the ground-truth training
split (the same one used to train the TAE).

Architecture::

    encoder: (B, W, F) -> Linear(F, D) + PE -> TransformerEncoder (key-padding mask)
             -> masked mean over real frames -> Linear(D, Z)        = feature (B, Z)
    decoder: (B, Z) -> Linear(Z, D), repeated over W positions + PE
             -> TransformerEncoder (same mask) -> Linear(D, F) -> sigmoid = recon

with F = 150, D = ``cfg.eval.tae_d_model``, Z = ``cfg.eval.tae_latent``; the input is
first standardised by the shared :class:`~nar_slp.models.layers.FeatureStandardiser`
and the stacks come from :func:`~nar_slp.models.layers.encoder_stack`. The loss is BCE
between the reconstruction and the normalised window, over real frames and the
channels that vary in training (constant channels, the neck, are dropped from input
and loss).

Training to convergence (:func:`train_tae`). Given ground-truth dev sequences, every
epoch ends with the dev BCE of exactly the segments FGD scores; the best dev epoch is
kept and training stops after ``cfg.eval.tae_patience`` epochs without improvement.
A BCE on soft targets never reaches 0: its floor is the targets' entropy
(:func:`target_entropy`), so progress is read as the *excess* BCE over that floor,
compared with a static pose per window (:func:`static_pose_bce`, the window's own
mean pose: everything but motion). A TAE whose excess is not clearly below the
static pose's has not learned motion, and its features would not either.
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
import torch.nn.functional as nnf
from torch import nn

from nar_slp.checkpoints import load_checkpoint, save_checkpoint
from nar_slp.config import Config
from nar_slp.models.layers import (
    FeatureStandardiser,
    SinusoidalPositionalEncoding,
    encoder_stack,
)
from nar_slp.skeleton import FRAME_SIZE
from nar_slp.utils import EpochLogger

MIN_SEGMENT_FRAMES = 8  # shorter segments are excluded from FGD features (counted)
SHORT_CROP_PROB = 0.25  # share of training windows cropped to a random shorter length
_TAE_KIND = "tae"


# ----------------------------------------------------------------------------- windows


def windows(seq: np.ndarray, window: int, stride: int) -> list[np.ndarray]:
    """Cut a sequence into evaluation segments (see the module docstring).

    Args:
        seq: (T, ...) array, T >= 0.
        window: W, frames per full window.
        stride: frames between the starts of consecutive full windows.

    Returns:
        A list of views of ``seq``: full windows ``[s, s + W)`` for s = 0, stride, …
        while s + W <= T, plus ``[T - W, T)`` if not already included; if 0 < T < W,
        the single segment ``seq``; if T == 0, an empty list.
    """
    if window < 1 or stride < 1:
        raise ValueError(
            f"windows: window and stride must be >= 1, got {window}, {stride}"
        )
    t = len(seq)
    if t == 0:
        return []
    if t < window:
        return [seq]
    starts = list(range(0, t - window + 1, stride))
    if starts[-1] != t - window:
        starts.append(t - window)
    return [seq[s : s + window] for s in starts]


# ------------------------------------------------------------------------------ model


@dataclass
class TAEOutput:
    """What :meth:`TAE.forward` returns."""

    recon: torch.Tensor  # (B, W, F) in [0, 1]
    logits: torch.Tensor  # (B, W, F), pre-sigmoid
    feature: torch.Tensor  # (B, Z)


class TAE(nn.Module):
    """Transformer autoencoder over windows of at most ``window`` frames.

    Input standardisation is the shared :class:`~nar_slp.models.layers.
    FeatureStandardiser` (fitted by :func:`train_tae`, saved with the weights): a
    channel that is constant in the training frames (the neck, origin of every PT
    skeleton) is dropped from the input and from the reconstruction loss, so a tiny
    offset of it in a generated sequence cannot move the features.
    """

    def __init__(
        self,
        d_model: int = 128,
        n_layers: int = 2,
        n_heads: int = 4,
        latent: int = 64,
        window: int = 34,
        stride: int = 17,
        min_frames: int = MIN_SEGMENT_FRAMES,
        dropout: float = 0.1,
        frame_size: int = FRAME_SIZE,
    ) -> None:
        super().__init__()
        if not 1 <= min_frames <= window:
            raise ValueError(f"TAE: need 1 <= min_frames <= window, got {min_frames}")
        self.hparams = {
            "d_model": d_model,
            "n_layers": n_layers,
            "n_heads": n_heads,
            "latent": latent,
            "window": window,
            "stride": stride,
            "min_frames": min_frames,
            "dropout": dropout,
            "frame_size": frame_size,
        }
        self.window, self.stride, self.min_frames = window, stride, min_frames
        self.frame_size = frame_size
        self.standardiser = FeatureStandardiser(frame_size)
        self.in_proj = nn.Linear(frame_size, d_model)
        self.pos = SinusoidalPositionalEncoding(d_model, max_len=max(window, 64))
        self.encoder = encoder_stack(d_model, n_layers, n_heads, dropout=dropout)
        self.to_feature = nn.Linear(d_model, latent)
        self.from_feature = nn.Linear(latent, d_model)
        self.decoder = encoder_stack(d_model, n_layers, n_heads, dropout=dropout)
        self.out_proj = nn.Linear(d_model, frame_size)

    def encode(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Features of a batch of segments.

        Args:
            x: (B, T, F) normalised poses, T <= window; padded frames are ignored.
            mask: (B, T) bool, True = real frame; every row needs >= 1 real frame.

        Returns:
            (B, Z) features: masked mean of the encoder states, projected.
        """
        x = self.standardiser(x)  # (B, T, F); constant channels are 0
        h = self.pos(self.in_proj(x))  # (B, T, D)
        h = self.encoder(h, src_key_padding_mask=~mask)  # (B, T, D)
        m = mask.unsqueeze(-1).to(h.dtype)  # (B, T, 1)
        # Multiply by the mask, not just divide: padded states must not leak in.
        pooled = (h * m).sum(1) / m.sum(1).clamp_min(1.0)  # (B, D)
        return self.to_feature(pooled)  # (B, Z)

    def decode(self, feature: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Reconstruction logits (B, T, F) of the frames marked in ``mask`` (B, T)."""
        t = mask.shape[1]
        h = self.from_feature(feature).unsqueeze(1).expand(-1, t, -1)  # (B, T, D)
        h = self.decoder(self.pos(h), src_key_padding_mask=~mask)  # (B, T, D)
        return self.out_proj(h)  # (B, T, F)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> TAEOutput:
        feature = self.encode(x, mask)
        logits = self.decode(feature, mask)
        return TAEOutput(recon=torch.sigmoid(logits), logits=logits, feature=feature)

    def loss(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Masked BCE reconstruction loss: mean over real frames and KEPT channels
        (constant channels are neither input nor scored)."""
        out = self(x, mask)
        return masked_bce(out.logits, x, mask, self.standardiser.keep)


def masked_bce(
    logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, keep: torch.Tensor
) -> torch.Tensor:
    """Mean BCE over real frames (``mask`` (B, T)) and kept channels (``keep`` (F,)).

    ``logits`` and ``target`` are (B, T, F); ``target`` in [0, 1] (normalised poses).
    """
    bce = nnf.binary_cross_entropy_with_logits(logits, target, reduction="none")
    w = mask.unsqueeze(-1).to(bce.dtype) * keep.to(bce.dtype)  # (B, T, F)
    return (bce * w).sum() / w.sum().clamp_min(1.0)


def build_tae(
    cfg: Config, frame_size: int = FRAME_SIZE, min_frames: int = MIN_SEGMENT_FRAMES
) -> TAE:
    """An untrained TAE with the hyper-parameters of ``cfg.eval`` (``tae_*``,
    ``fgd_window``, ``fgd_stride``); the one place a TAE is built from a config."""
    ec = cfg.eval
    return TAE(
        d_model=ec.tae_d_model,
        n_layers=ec.tae_layers,
        n_heads=ec.tae_heads,
        latent=ec.tae_latent,
        window=ec.fgd_window,
        stride=ec.fgd_stride,
        min_frames=min_frames,
        frame_size=frame_size,
    )


# --------------------------------------------------------------------------- batching


def normalise_flat(poses: np.ndarray, normaliser: Any) -> np.ndarray:
    """PT poses (T, J, K) -> normalised (T, J*K) float32 via ``normaliser``."""
    poses = np.asarray(poses, dtype=np.float32)
    if poses.ndim != 3:
        raise ValueError(f"poses must be (T, J, K), got shape {poses.shape}")
    y = normaliser.transform(poses, warn=False)
    return np.asarray(y, dtype=np.float32).reshape(len(poses), -1)


def load_evaluator_checkpoint(directory: str | Path, kind: str, what: str) -> Any:
    """Load an evaluator checkpoint and check it is of ``kind`` (``what`` names it in
    the error)."""

    ckpt = load_checkpoint(directory, device="cpu", with_optimizer=False)
    if ckpt.config.get("kind") != kind:
        raise ValueError(
            f"checkpoint {directory} is not {what} (kind={ckpt.config.get('kind')!r})"
        )
    return ckpt


def pad_batch(
    segments: Sequence[np.ndarray], device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad (T_i, F) segments to (B, T_max, F) with a (B, T_max) True=real mask."""
    t_max = max(len(s) for s in segments)
    f = segments[0].shape[-1]
    x = np.zeros((len(segments), t_max, f), dtype=np.float32)
    mask = np.zeros((len(segments), t_max), dtype=bool)
    for i, s in enumerate(segments):
        x[i, : len(s)] = s
        mask[i, : len(s)] = True
    return torch.from_numpy(x).to(device), torch.from_numpy(mask).to(device)


@torch.no_grad()
def encode_segments(
    tae: TAE,
    segments: Sequence[np.ndarray],
    batch_size: int = 256,
) -> np.ndarray:
    """Features (N, Z) float64 of already-normalised segments (T_i, F), T_i <= W.

    Runs in eval mode on the TAE's device; segments are encoded in the given order.
    """
    z = tae.hparams["latent"]
    if not segments:
        return np.zeros((0, z))
    for s in segments:
        if not 1 <= len(s) <= tae.window:
            raise ValueError(f"segment of {len(s)} frames; need 1..{tae.window}")
    was_training = tae.training
    tae.eval()
    device = next(tae.parameters()).device
    out = []
    for i in range(0, len(segments), batch_size):
        x, mask = pad_batch(segments[i : i + batch_size], device)
        out.append(tae.encode(x, mask).double().cpu().numpy())
    tae.train(was_training)
    return np.concatenate(out)


# --------------------------------------------------------------------------- training


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


def warmup_cosine(
    opt: torch.optim.Optimizer, total_steps: int, warmup: float = 0.1
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup`` of the steps (at least one), then cosine decay
    to 10 % of the base learning rate; valid for any ``total_steps`` >= 1."""
    total = max(int(total_steps), 1)
    n_warm = max(1, int(warmup * total))

    def factor(step: int) -> float:
        if step < n_warm:
            return (step + 1) / n_warm
        progress = min(1.0, (step - n_warm) / max(1, total - n_warm))
        return 0.1 + 0.45 * (1.0 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


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
        cfg: the run configuration; uses ``cfg.eval.fgd_window/fgd_stride/tae_*``
            (``tae_batch_size`` windows per step), ``cfg.eval.batch_size`` (dev
            evaluation batches ×4) and ``cfg.seed``.
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
            ``cfg.eval.tae_patience`` epochs without a dev improvement of more than
            ``cfg.eval.tae_min_delta`` (``tae_epochs`` is then the maximum). None
            = train all ``tae_epochs`` and keep the last weights (the old rule).

    Each epoch tiles every training sequence with non-overlapping windows at a random
    alignment and crops some of them short (:func:`_epoch_plan`), in a seeded random
    order: half the windows of the overlapping evaluation tiling, more variety. The
    input standardiser is fitted on all training frames; constant channels are
    dropped from input and loss. The report (:class:`TAETrainingReport`) is
    attached as ``tae.training_report`` and saved in the checkpoint.
    """

    ec = cfg.eval
    device = torch.device(device)
    start_time = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    flat = [normalise_flat(getattr(p, "poses", p), normaliser) for p in train_poses]
    lengths = [len(f) for f in flat]
    plans = [
        _epoch_plan(lengths, ec.fgd_window, min_frames, rng)
        for _ in range(ec.tae_epochs)
    ]
    if not plans or not plans[0]:
        raise ValueError(
            f"train_tae: no training sequence has >= {min_frames} frames "
            f"({len(flat)} sequences given)"
        )
    tae = build_tae(cfg, frame_size=flat[0].shape[1], min_frames=min_frames).to(device)
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
    opt = torch.optim.AdamW(tae.parameters(), lr=ec.tae_lr, weight_decay=0.01)
    n_steps = sum(math.ceil(len(plan) / ec.tae_batch_size) for plan in plans)
    sched = warmup_cosine(opt, n_steps)
    history: list[float] = []
    dev_history: list[float] = []
    best_state, best_epoch, best_dev, stale = None, ec.tae_epochs, math.inf, 0
    epoch_log = EpochLogger(log, ec.tae_epochs, log_every)
    for epoch in range(ec.tae_epochs):
        tae.train()
        t0, total, count = time.perf_counter(), 0.0, 0
        plan = plans[epoch]
        for i in range(0, len(plan), ec.tae_batch_size):
            batch = [flat[j][a : a + n] for j, a, n in plan[i : i + ec.tae_batch_size]]
            x, mask = pad_batch(batch, device)
            loss = tae.loss(x, mask)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(tae.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(batch)
            count += len(batch)
        history.append(total / count)
        line = (
            f"TAE epoch {epoch + 1}/{ec.tae_epochs}: BCE {history[-1]:.4f} "
            f"({len(plan)} segments"
        )
        if dev_segs is not None:
            dev_history.append(reconstruction_bce(tae, dev_segs, 4 * ec.batch_size))
            line += f", dev BCE {dev_history[-1]:.4f}"
            if dev_history[-1] < best_dev - ec.tae_min_delta:
                best_dev, best_epoch, stale = dev_history[-1], epoch + 1, 0
                best_state = {
                    k: v.detach().clone() for k, v in tae.state_dict().items()
                }
            else:
                stale += 1
        epoch_log.epoch(epoch + 1, f"{line}, {time.perf_counter() - t0:.1f}s)")
        if dev_segs is not None and stale >= ec.tae_patience:
            epoch_log.finish(best_epoch)
            if log is not None:
                log(f"TAE: early stop, best dev epoch {best_epoch}")
            break
    epoch_log.finish(best_epoch if dev_segs is not None else None)
    if best_state is not None:
        tae.load_state_dict(best_state)
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


def load_tae(directory: str | Path, device: str | torch.device = "cpu") -> TAE:
    """Rebuild a TAE saved by :func:`train_tae` (eval mode, on ``device``).

    A checkpoint from before the shared standardiser (buffers ``feature_mean`` /
    ``feature_std``, every channel kept) is converted, so it gives the features it
    always gave.
    """
    ckpt = load_evaluator_checkpoint(directory, _TAE_KIND, "a TAE")
    tae = TAE(**ckpt.config["model"])
    state = dict(ckpt.state_dict)
    if "feature_mean" in state:
        state["standardiser.mean"] = state.pop("feature_mean")
        state["standardiser.std"] = state.pop("feature_std")
        state["standardiser.keep"] = torch.ones_like(state["standardiser.mean"])
    tae.load_state_dict(state)
    return tae.to(device).eval()
