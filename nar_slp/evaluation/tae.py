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

with F = 150, D = ``cfg.tae.d_model``, Z = ``cfg.tae.latent``; the input is
first standardised by the shared :class:`~nar_slp.models.layers.FeatureStandardiser`
and the stacks come from :func:`~nar_slp.models.layers.encoder_stack`. The loss is BCE
between the reconstruction and the normalised window, over real frames and the
channels that vary in training (constant channels, the neck, are dropped from input
and loss).

Training (:func:`~nar_slp.evaluation.tae_training.train_tae`) and its diagnostics are
:mod:`nar_slp.evaluation.tae_training`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as nnf
from torch import nn

from nar_slp.checkpoints import load_checkpoint
from nar_slp.config import Config
from nar_slp.models.layers import (
    FeatureStandardiser,
    SinusoidalPositionalEncoding,
    encoder_stack,
)
from nar_slp.skeleton import FRAME_SIZE

MIN_SEGMENT_FRAMES = 8  # shorter segments are excluded from FGD features (counted)
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
        n_values: int = FRAME_SIZE,
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
            "n_values": n_values,
        }
        self.window, self.stride, self.min_frames = window, stride, min_frames
        self.n_values = n_values
        self.standardiser = FeatureStandardiser(n_values)
        self.in_proj = nn.Linear(n_values, d_model)
        self.pos = SinusoidalPositionalEncoding(d_model, max_len=max(window, 64))
        self.encoder = encoder_stack(d_model, n_layers, n_heads, dropout=dropout)
        self.to_feature = nn.Linear(d_model, latent)
        self.from_feature = nn.Linear(latent, d_model)
        self.decoder = encoder_stack(d_model, n_layers, n_heads, dropout=dropout)
        self.out_proj = nn.Linear(d_model, n_values)

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
    cfg: Config, n_values: int = FRAME_SIZE, min_frames: int = MIN_SEGMENT_FRAMES
) -> TAE:
    """An untrained TAE with the hyper-parameters of ``cfg.tae`` (``d_model``,
    ``n_layers``, ``n_heads``, ``latent``) on the windows of ``cfg.eval``
    (``fgd_window``, ``fgd_stride``); the one place a TAE is built from a config."""
    tc, ec = cfg.tae, cfg.eval
    return TAE(
        d_model=tc.d_model,
        n_layers=tc.n_layers,
        n_heads=tc.n_heads,
        latent=tc.latent,
        window=ec.fgd_window,
        stride=ec.fgd_stride,
        min_frames=min_frames,
        n_values=n_values,
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


def evaluator_hparams(config: dict[str, Any]) -> dict[str, Any]:
    """The model's keyword arguments from an evaluator checkpoint's ``config``."""
    return dict(config["model"])


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


# ------------------------------------------------------------------------ checkpoint


def load_tae(directory: str | Path, device: str | torch.device = "cpu") -> TAE:
    """Rebuild a TAE saved by :func:`~nar_slp.evaluation.tae_training.train_tae`
    (eval mode, on ``device``)."""
    ckpt = load_evaluator_checkpoint(directory, _TAE_KIND, "a TAE")
    tae = TAE(**evaluator_hparams(ckpt.config))
    tae.load_state_dict(ckpt.state_dict)
    return tae.to(device).eval()
