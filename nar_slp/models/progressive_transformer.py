"""Progressive Transformers (Saunders et al., ECCV 2020): the autoregressive baseline.

The paper under reproduction compares against PT's text-to-pose model in its Base and
FP&GN settings (§4.4, Table 1) and uses it to show error propagation (Table 2).

Model (PT §3): a Transformer encoder over the spoken words and a causal Transformer
decoder over frames. Each frame is the F = 150 joint values plus a *counter* in [0, 1]
(PT §3.2 "counter decoding"): target frame t of a sequence of T frames carries
``c_t = (t + 1) / T``, so the last frame has counter 1. Training uses teacher forcing:
decoder inputs are ``[s, y_0, …, y_{T-2}]`` for targets ``[y_0, …, y_{T-1}]``, where
``s`` is a fixed start frame (the mean training pose with counter 0).

Inference (our "honest" mode): start from ``s``, feed back the model's own frames and
its own counter, stop after the first frame whose predicted counter reaches
``stop_counter`` (1.0), or at T_max. The public PT code instead feeds the ground-truth
first frame and counter and runs for the ground-truth length; that is
``mode="oracle"`` here ("oracle timing": output frame 0 = GT first frame, counters
``(t+1)/T`` from the GT length T, exactly T frames), reported separately.

FP&GN (PT §3.4, the paper's best PT setting):
- Future prediction: at step t the head predicts frames t … t+N-1 (N = 10); the loss
  covers all N, inference uses the first. See :func:`future_targets`.
- Gaussian noise: decoder inputs get ``ε ~ N(0, (rate · σ_d)²)`` per joint dimension
  d, where σ_d is the std of the previous epoch's prediction errors (buffer
  ``noise_std``, set by the trainer after each epoch; zeros in the first epoch); no
  noise on the counter.

Joint values are standardised per channel (:class:`FeatureStandardiser`, fitted on
the training frames) before the input projection and predicted in those units:
normalised poses vary by ~0.05 around 0.5, and MSE on raw values would barely move.

Incremental decoding (:meth:`ProgressiveTransformer.generate` with ``use_cache``)
keeps each layer's self-attention keys/values and the memory's cross-attention
keys/values (:mod:`nar_slp.models.cached_decoding`), so step t costs O(t) instead of
re-running the whole prefix (O(t²)); both paths give the same frames (tested).

:func:`build_pt` builds the model of a Table 1 row ("base" | "fpgn") from its own
section of the configuration, ``cfg.pt`` (:class:`nar_slp.config.PTConfig`).

Shapes: B batch, T frames, L tokens, F joint values (150), C = F + 1 (with counter),
N future frames, D model width, H heads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from nar_slp.checkpoints import load_checkpoint, save_checkpoint
from nar_slp.config import Config, PTConfig
from nar_slp.models.baseline_record import baseline_arch, saved_config
from nar_slp.models.cached_decoding import decode_step, init_cache
from nar_slp.models.layers import (
    FeatureStandardiser,
    SinusoidalPositionalEncoding,
    causal_mask,
    decoder_stack,
)
from nar_slp.models.word_encoder import WordTextEncoder, WordVocab
from nar_slp.skeleton import FRAME_SIZE

MODES = ("honest", "oracle")
PT_VARIANTS = ("base", "fpgn")


@dataclass
class PTOutput:
    """Teacher-forced forward pass.

    pred:   (B, T, N, C) predicted frames t..t+N-1 at each step (standardised joints
            + counter)
    target: (B, T, N, C) the same layout from the ground truth
    mask:   (B, T, N) bool, True where frame t+k exists
    """

    pred: Tensor
    target: Tensor
    mask: Tensor


@dataclass
class PTGeneration:
    """Generated sequences (normalised joint values, [0, 1] units).

    poses:    list of (T_i, F) arrays-as-tensors
    counters: list of (T_i,) predicted counters
    lengths:  (B,) frames generated
    stopped:  (B,) bool, True where the model stopped by its own counter (honest
              mode); False where it ran to T_max (or oracle mode)
    """

    poses: list[Tensor]
    counters: list[Tensor]
    lengths: Tensor
    stopped: Tensor


def counters(lengths: Tensor, t_max: int) -> Tensor:
    """Target counters ``(t + 1) / T`` (B, T_max); 0 beyond each length."""
    t = torch.arange(t_max, device=lengths.device, dtype=torch.float32)[None]  # (1, T)
    c = (t + 1) / lengths[:, None].float()  # (B, T)
    return torch.where(t < lengths[:, None], c, torch.zeros_like(c))


def future_targets(
    frames: Tensor, lengths: Tensor, n_future: int
) -> tuple[Tensor, Tensor]:
    """Future-prediction layout: ``out[b, t, k] = frames[b, t + k]`` (PT §3.4).

    Args:
        frames: (B, T, C) targets of each step.
        lengths: (B,) frames per sequence.
        n_future: N frames predicted per step.
    Returns:
        targets (B, T, N, C) (positions past the end repeat the last frame) and a
        mask (B, T, N), True where ``t + k < length``.
    """
    b, t, _ = frames.shape
    steps = (
        torch.arange(t, device=frames.device)[:, None]
        + torch.arange(n_future, device=frames.device)[None]
    )  # (T, N)
    last = (lengths - 1).clamp_min(0)[:, None, None]  # (B, 1, 1)
    index = torch.minimum(steps[None].expand(b, -1, -1), last)  # (B, T, N)
    out = torch.gather(
        frames[:, :, None, :].expand(-1, -1, n_future, -1),
        1,
        index[..., None].expand(-1, -1, -1, frames.shape[-1]),
    )  # (B, T, N, C)
    mask = steps[None] < lengths[:, None, None]  # (B, T, N)
    return out, mask


class ProgressiveTransformer(nn.Module):
    """PT text-to-pose model; see the module docstring."""

    def __init__(
        self,
        vocab: WordVocab,
        d_model: int = 64,
        n_layers: int = 2,
        n_heads: int = 4,
        d_ff: int = 128,
        dropout: float = 0.0,
        future_frames: int = 1,
        noise_rate: float = 0.0,
        max_frames: int = 300,
        stop_counter: float = 1.0,
        n_values: int = FRAME_SIZE,
    ) -> None:
        super().__init__()
        if future_frames < 1:
            raise ValueError(f"future_frames must be >= 1, got {future_frames}")
        self.n_values = n_values
        self.future_frames = future_frames
        self.noise_rate = float(noise_rate)
        self.max_frames = max_frames
        self.stop_counter = float(stop_counter)
        self.n_heads = n_heads
        self.encoder = WordTextEncoder(vocab, d_model, n_layers, n_heads, d_ff, dropout)
        self.standardiser = FeatureStandardiser(n_values)
        self.in_proj = nn.Linear(n_values + 1, d_model)
        self.pos = SinusoidalPositionalEncoding(d_model, max_frames + 1)
        self.decoder = decoder_stack(d_model, n_layers, n_heads, d_ff, dropout)
        self.head = nn.Linear(d_model, future_frames * (n_values + 1))
        # The start frame s (standardised joints; counter 0 is added when used) and the
        # GN noise scale σ_d of the previous epoch (zeros: no noise yet).
        self.register_buffer("start_frame", torch.zeros(n_values))
        self.register_buffer("noise_std", torch.zeros(n_values))

    # ------------------------------------------------------------------ setup

    @torch.no_grad()
    def fit_statistics(self, train_frames: Tensor) -> None:
        """Fit the standardiser on training frames (N, F) (normalised units) and set
        the start frame to their mean pose."""
        self.standardiser.fit(train_frames)
        mean = torch.as_tensor(train_frames, dtype=torch.float32).mean(0)
        self.start_frame.copy_(self.standardiser(mean.to(self.start_frame.device)))

    def to_model_units(self, poses: Tensor) -> Tensor:
        """Normalised poses (..., F) -> standardised (..., F)."""
        return self.standardiser(poses)

    def to_normalised(self, z: Tensor) -> Tensor:
        """Standardised (..., F) -> normalised (..., F); dropped channels = mean."""
        s = self.standardiser
        return z * s.std * s.keep + s.mean

    # --------------------------------------------------------------- training

    def teacher_forcing_io(
        self, poses: Tensor, lengths: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Decoder inputs and per-step targets, both (B, T, C).

        ``poses`` (B, T, F) normalised; inputs = [s, y_0 … y_{T-2}] with counters
        [0, c_0 … c_{T-2}], targets = [y_0 … y_{T-1}] with counters [c_0 … c_{T-1}].
        """
        b, t, _ = poses.shape
        z = self.to_model_units(poses)  # (B, T, F)
        c = counters(lengths, t)  # (B, T)
        valid = (c > 0)[..., None]
        target = torch.cat([z * valid, c[..., None]], -1)  # (B, T, C)
        start = torch.cat([self.start_frame, self.start_frame.new_zeros(1)])  # (C,)
        inputs = torch.cat([start.expand(b, 1, -1), target[:, :-1]], 1)  # (B, T, C)
        return inputs, target

    def add_noise(self, inputs: Tensor) -> Tensor:
        """GN: ε ~ N(0, (rate·σ_d)²) on the joint dimensions, none on the counter."""
        if self.noise_rate <= 0 or not bool(self.noise_std.any()):
            return inputs
        noise = torch.randn_like(inputs[..., : self.n_values]) * (
            self.noise_rate * self.noise_std
        )  # (B, T, F)
        return torch.cat([inputs[..., : self.n_values] + noise, inputs[..., -1:]], -1)

    def forward(self, texts: Sequence[str], poses: Tensor, lengths: Tensor) -> PTOutput:
        """Teacher-forced pass; ``poses`` (B, T, F) or (B, T, J, K) normalised."""
        if poses.dim() == 4:
            poses = poses.flatten(2)  # (B, T, J, K) -> (B, T, F)
        enc = self.encoder(texts)
        inputs, target = self.teacher_forcing_io(poses, lengths)
        if self.training:
            inputs = self.add_noise(inputs)
        t = inputs.shape[1]
        pad = torch.arange(t, device=poses.device)[None] >= lengths[:, None]  # (B, T)
        h = self.decoder(
            self.pos(self.in_proj(inputs)),
            enc.hidden,
            tgt_mask=causal_mask(t, poses.device),
            tgt_key_padding_mask=pad,
            memory_key_padding_mask=~enc.mask,
        )  # (B, T, D)
        pred = self.head(h).view(*h.shape[:2], self.future_frames, -1)  # (B, T, N, C)
        fut, mask = future_targets(target, lengths, self.future_frames)
        return PTOutput(pred, fut, mask)

    # -------------------------------------------------------------- inference

    def _embed_step(self, frame: Tensor, position: int) -> Tensor:
        """(B, C) input frame at ``position`` -> (B, 1, D)."""
        return (self.in_proj(frame) + self.pos.pe[position])[:, None]

    def _head_first(self, h: Tensor) -> Tensor:
        """(B, D) decoder state -> (B, C) the first predicted future frame."""
        return self.head(h)[:, : self.n_values + 1]

    def _step_uncached(self, prefix: Tensor, memory: Tensor, mem_pad: Tensor) -> Tensor:
        """Re-run the whole prefix (B, t, D) embedded; returns the next frame (B, C)."""
        t = prefix.shape[1]
        h = self.decoder(
            prefix,
            memory,
            tgt_mask=causal_mask(t, prefix.device),
            memory_key_padding_mask=mem_pad,
        )  # (B, t, D)
        return self._head_first(h[:, -1])

    def _step_cached(
        self, x: Tensor, cache: list[dict[str, Tensor]], mem_pad: Tensor
    ) -> Tensor:
        """One incremental step: x (B, 1, D) embedded input -> next frame (B, C),
        earlier positions' keys/values read from ``cache``
        (:func:`~nar_slp.models.cached_decoding.decode_step`)."""
        h = decode_step(self.decoder, x, cache, mem_pad, self.n_heads)  # (B, 1, D)
        return self._head_first(h[:, 0])

    @torch.no_grad()
    def generate(
        self,
        texts: Sequence[str],
        mode: str = "honest",
        first_frames: Tensor | None = None,
        lengths: Tensor | None = None,
        use_cache: bool = True,
        max_frames: int | None = None,
    ) -> PTGeneration:
        """Autoregressive generation for ``texts`` (a batch decoded together).

        ``mode="honest"``: from the start frame, own frames and counters fed back,
        stop at counter >= ``stop_counter`` or ``max_frames`` (default T_max); takes
        no ground truth. ``mode="oracle"`` (oracle timing): needs ``first_frames``
        (B, F) normalised and ``lengths`` (B,): frame 0 is the GT first frame, the
        counters fed back are the GT ones ``(t+1)/T``, and exactly T frames come out.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        oracle = mode == "oracle"
        if oracle and (first_frames is None or lengths is None):
            raise ValueError(
                "oracle mode needs first_frames and lengths (ground truth)"
            )
        if not oracle and (first_frames is not None or lengths is not None):
            raise ValueError("honest mode takes no ground truth; use mode='oracle'")
        self.eval()
        device = self.start_frame.device
        b = len(texts)
        t_max = max_frames or self.max_frames
        enc = self.encoder(texts)
        mem_pad = ~enc.mask
        if oracle:
            lengths = torch.as_tensor(lengths, device=device)
            t_max = int(lengths.max())
        start = torch.cat([self.start_frame, self.start_frame.new_zeros(1)])
        frame = start.expand(b, -1)  # (B, C)
        cache = (
            init_cache(self.decoder, enc.hidden, self.n_heads) if use_cache else None
        )
        prefix: list[Tensor] = []
        outputs: list[Tensor] = []
        out_len = torch.full((b,), t_max, dtype=torch.int64, device=device)
        stopped = torch.zeros(b, dtype=torch.bool, device=device)
        for t in range(t_max):
            x = self._embed_step(frame, t)  # (B, 1, D)
            if use_cache:
                nxt = self._step_cached(x, cache, mem_pad)
            else:
                prefix.append(x)
                nxt = self._step_uncached(torch.cat(prefix, 1), enc.hidden, mem_pad)
            if oracle:
                c = ((t + 1) / lengths.float()).clamp(max=1.0)
                joints = (
                    self.to_model_units(first_frames.to(device))
                    if t == 0
                    else (nxt[:, : self.n_values])
                )
                nxt = torch.cat([joints, c[:, None]], -1)
            outputs.append(nxt)
            if not oracle:
                hit = (nxt[:, -1] >= self.stop_counter) & ~stopped
                out_len = torch.where(hit, torch.full_like(out_len, t + 1), out_len)
                stopped |= hit
                if bool(stopped.all()):
                    break
            frame = nxt
        seq = torch.stack(outputs, 1)  # (B, T, C)
        if oracle:
            out_len = lengths.to(torch.int64)
        poses = [
            self.to_normalised(seq[i, : out_len[i], : self.n_values]) for i in range(b)
        ]
        cnts = [seq[i, : out_len[i], -1] for i in range(b)]
        return PTGeneration(poses, cnts, out_len, stopped)


def build_pt(
    pt: PTConfig, variant: str, vocab: WordVocab, *, max_frames: int
) -> ProgressiveTransformer:
    """PT model of ``variant`` ("base" | "fpgn") from ``pt`` (``cfg.pt``), for
    sequences of at most ``max_frames`` frames (``cfg.data.max_frames``). The Base
    variant predicts one frame per step and adds no noise."""
    if variant not in PT_VARIANTS:
        raise ValueError(f"PT variant must be one of {PT_VARIANTS}, got {variant!r}")
    fpgn = variant == "fpgn"
    return ProgressiveTransformer(
        vocab,
        d_model=pt.d_model,
        n_layers=pt.n_layers,
        n_heads=pt.n_heads,
        d_ff=pt.d_ff,
        dropout=pt.dropout,
        future_frames=pt.future_frames if fpgn else 1,
        noise_rate=pt.noise_rate if fpgn else 0.0,
        max_frames=max_frames,
        stop_counter=pt.stop_counter,
    )


# ------------------------------------------------ checkpoint and generation


def save_pt(
    directory: str | Path,
    model: ProgressiveTransformer,
    cfg: Config,
    variant: str,
    vocab: WordVocab,
    history: list[dict[str, float]],
    selected: int,
) -> None:
    """Write a trained PT of ``variant`` with its history and selected epoch."""
    save_checkpoint(
        directory,
        model,
        baseline_arch("pt", cfg, variant=variant, vocab=vocab.to_list()),
        extra={"history": history, "selected_epoch": selected},
    )


def load_pt(directory: str | Path, device: str = "cpu") -> ProgressiveTransformer:
    """The PT saved in ``directory`` (by :func:`save_pt`), in eval mode."""
    ckpt = load_checkpoint(directory, with_optimizer=False)
    c = ckpt.config
    if c.get("kind") != "pt":
        raise ValueError(f"{directory} is not a Progressive Transformers checkpoint")
    cfg = saved_config(c)
    model = build_pt(
        cfg.pt, c["variant"], WordVocab(c["vocab"]), max_frames=cfg.data.max_frames
    )
    model.load_state_dict(ckpt.state_dict)
    return model.to(device).eval()


def generate_pt(
    model: ProgressiveTransformer,
    texts: Sequence[str],
    normaliser: Any,
    mode: str = "honest",
    refs: Sequence[Any] | None = None,
    batch_size: int = 64,
    use_cache: bool = True,
) -> tuple[list[np.ndarray], np.ndarray]:
    """PT sequences (T_i, J, K) in PT coordinates for ``texts``, and a bool array:
    stopped by its own counter. ``mode="oracle"`` needs ``refs`` (the ground-truth
    sequences: first frame and length are used); honest mode never reads them."""
    device = model.start_frame.device
    poses: list[np.ndarray] = []
    stopped: list[bool] = []
    for i in range(0, len(texts), batch_size):
        chunk = list(texts[i : i + batch_size])
        kwargs: dict[str, Any] = {}
        if mode == "oracle":
            if refs is None:
                raise ValueError("oracle mode needs refs (ground-truth sequences)")
            r = refs[i : i + batch_size]
            firsts = np.stack(
                [
                    normaliser.transform(np.asarray(s.poses[:1]), warn=False)[0]
                    for s in r
                ]
            )
            kwargs = {
                "first_frames": torch.as_tensor(firsts, dtype=torch.float32)
                .flatten(1)
                .to(device),
                "lengths": torch.tensor(
                    [min(len(s.poses), model.max_frames) for s in r]
                ),
            }
        gen = model.generate(chunk, mode=mode, use_cache=use_cache, **kwargs)
        for p in gen.poses:
            arr = p.detach().cpu().numpy().reshape(len(p), -1, 3)  # (T, J, K)
            poses.append(np.asarray(normaliser.inverse(arr), dtype=np.float32))
        stopped += gen.stopped.cpu().tolist()
    return poses, np.array(stopped, dtype=bool)
