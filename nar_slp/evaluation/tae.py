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

with F = 150, D = ``cfg.eval.tae_d_model``, Z = ``cfg.eval.tae_latent``. The loss is
BCE between the reconstruction and the normalised window, over real frames only.
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

from nar_slp.config import Config
from nar_slp.skeleton import FRAME_SIZE

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


class SinusoidalPositionalEncoding(nn.Module):
    """Fixed sine/cosine positional encoding (Vaswani et al.), added to (B, T, D)."""

    def __init__(self, d_model: int, max_len: int = 2048) -> None:
        super().__init__()
        pos = torch.arange(max_len, dtype=torch.float32)[:, None]  # (T, 1)
        div = torch.exp(
            torch.arange(0, d_model, 2, dtype=torch.float32)
            * (-math.log(1e4) / d_model)
        )
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)[:, : d_model // 2]
        self.register_buffer("pe", pe, persistent=False)  # (max_len, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        if t > self.pe.shape[0]:
            raise ValueError(
                f"sequence of {t} steps exceeds max_len {self.pe.shape[0]}"
            )
        return x + self.pe[:t]  # (B, T, D)


def _encoder_stack(d_model: int, n_layers: int, n_heads: int, dropout: float):
    layer = nn.TransformerEncoderLayer(
        d_model,
        n_heads,
        dim_feedforward=4 * d_model,
        dropout=dropout,
        batch_first=True,
        norm_first=True,
    )
    return nn.TransformerEncoder(
        layer, n_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False
    )


@dataclass
class TAEOutput:
    """What :meth:`TAE.forward` returns."""

    recon: torch.Tensor  # (B, W, F) in [0, 1]
    logits: torch.Tensor  # (B, W, F), pre-sigmoid
    feature: torch.Tensor  # (B, Z)


class TAE(nn.Module):
    """Transformer autoencoder over windows of at most ``window`` frames."""

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
        # Per-value standardisation with training-frame statistics (set by train_tae,
        # saved with the weights): normalised poses vary by ~0.05 around 0.5 and would
        # otherwise be drowned by the positional encoding.
        self.register_buffer("feature_mean", torch.zeros(frame_size))
        self.register_buffer("feature_std", torch.ones(frame_size))
        self.in_proj = nn.Linear(frame_size, d_model)
        self.pos = SinusoidalPositionalEncoding(d_model, max_len=max(window, 64))
        self.encoder = _encoder_stack(d_model, n_layers, n_heads, dropout)
        self.to_feature = nn.Linear(d_model, latent)
        self.from_feature = nn.Linear(latent, d_model)
        self.decoder = _encoder_stack(d_model, n_layers, n_heads, dropout)
        self.out_proj = nn.Linear(d_model, frame_size)

    def encode(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Features of a batch of segments.

        Args:
            x: (B, T, F) normalised poses, T <= window; padded frames are ignored.
            mask: (B, T) bool, True = real frame; every row needs >= 1 real frame.

        Returns:
            (B, Z) features: masked mean of the encoder states, projected.
        """
        x = (x - self.feature_mean) / self.feature_std  # padding is masked below
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
        """Masked BCE reconstruction loss (mean over real frames and values)."""
        out = self(x, mask)
        bce = nnf.binary_cross_entropy_with_logits(out.logits, x, reduction="none")
        m = mask.unsqueeze(-1).to(bce.dtype)  # (B, T, 1)
        return (bce * m).sum() / (m.sum() * x.shape[-1]).clamp_min(1.0)


# --------------------------------------------------------------------------- batching


def normalise_flat(poses: np.ndarray, normaliser: Any) -> np.ndarray:
    """PT poses (T, J, K) -> normalised (T, J*K) float32 via ``normaliser``."""
    poses = np.asarray(poses, dtype=np.float32)
    if poses.ndim != 3:
        raise ValueError(f"poses must be (T, J, K), got shape {poses.shape}")
    y = normaliser.transform(poses, warn=False)
    return np.asarray(y, dtype=np.float32).reshape(len(poses), -1)


def set_feature_standardisation(model: nn.Module, frames: np.ndarray) -> None:
    """Fill ``model.feature_mean`` / ``feature_std`` (F,) from training frames (N, F).

    Used by both evaluators: normalised poses vary by ~0.05 around 0.5, so without
    standardisation they are drowned by the positional encoding.
    """
    model.feature_mean.copy_(torch.from_numpy(frames.mean(0)))
    model.feature_std.copy_(torch.from_numpy(np.maximum(frames.std(0), 1e-3)))


def load_evaluator_checkpoint(directory: str | Path, kind: str, what: str) -> Any:
    """Load an evaluator checkpoint and check it is of ``kind`` (``what`` names it in
    the error)."""
    from nar_slp.training.checkpoint import load_checkpoint

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


def train_tae(
    cfg: Config,
    train_poses: Sequence[np.ndarray],
    normaliser: Any,
    out_dir: str | Path | None,
    device: str | torch.device = "cpu",
    log: Callable[[str], None] | None = print,
    min_frames: int = MIN_SEGMENT_FRAMES,
) -> TAE:
    """Train the FGD autoencoder on GROUND-TRUTH training poses and save it.

    Args:
        cfg: the run configuration; uses ``cfg.eval.fgd_window/fgd_stride/tae_*``,
            ``cfg.eval.batch_size`` and ``cfg.seed``.
        train_poses: ground-truth training sequences, arrays (T, 50, 3) in PT
            coordinates (or objects with a ``.poses`` attribute).
        normaliser: the Normaliser fitted on the ground-truth training split.
        out_dir: checkpoint folder (``save_checkpoint``; the config holds the TAE's
            hyper-parameters); None = do not save.
        device: torch device for training; the returned TAE is on it, in eval mode.
        log: receives one line per epoch (None = silent).
        min_frames: shortest segment used (and later accepted by FGD).

    Each epoch tiles every training sequence with non-overlapping windows at a random
    alignment and crops some of them short (:func:`_epoch_plan`), in a seeded random
    order: half the windows of the overlapping evaluation tiling, more variety.
    """
    from nar_slp.training.checkpoint import save_checkpoint

    ec = cfg.eval
    device = torch.device(device)
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
    tae = TAE(
        d_model=ec.tae_d_model,
        n_layers=ec.tae_layers,
        n_heads=ec.tae_heads,
        latent=ec.tae_latent,
        window=ec.fgd_window,
        stride=ec.fgd_stride,
        min_frames=min_frames,
        frame_size=flat[0].shape[1],
    ).to(device)
    set_feature_standardisation(tae, np.concatenate(flat))  # (sum T, F)
    opt = torch.optim.AdamW(tae.parameters(), lr=ec.tae_lr, weight_decay=0.01)
    n_steps = sum(math.ceil(len(plan) / ec.batch_size) for plan in plans)
    sched = warmup_cosine(opt, n_steps)
    history: list[float] = []
    for epoch in range(ec.tae_epochs):
        tae.train()
        t0, total, count = time.perf_counter(), 0.0, 0
        plan = plans[epoch]
        for i in range(0, len(plan), ec.batch_size):
            batch = [flat[j][a : a + n] for j, a, n in plan[i : i + ec.batch_size]]
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
        if log is not None:
            log(
                f"TAE epoch {epoch + 1}/{ec.tae_epochs}: BCE {history[-1]:.4f} "
                f"({len(plan)} segments, {time.perf_counter() - t0:.1f}s)"
            )
    tae.eval()
    if out_dir is not None:
        save_checkpoint(
            out_dir,
            tae,
            config={"kind": _TAE_KIND, "model": tae.hparams, "run": cfg.to_dict()},
            extra={"history": history, "segments_per_epoch": [len(p) for p in plans]},
        )
    return tae


def load_tae(directory: str | Path, device: str | torch.device = "cpu") -> TAE:
    """Rebuild a TAE saved by :func:`train_tae` (eval mode, on ``device``)."""
    ckpt = load_evaluator_checkpoint(directory, _TAE_KIND, "a TAE")
    tae = TAE(**ckpt.config["model"])
    tae.load_state_dict(ckpt.state_dict)
    return tae.to(device).eval()
