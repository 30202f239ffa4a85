"""The student: the paper's Latent Learning Module (LLM, §3.3) and its losses (§3.4).

The LLM models the latent pose sequence Z = z_1..z_T of a text X = x_1..x_U as

    Eq. 3:  p_NA(Z | X) = p_L(T | x_1:U) · Π_t p(z_t | x_1:U)

with three parts:

* a spoken-language encoder (BERT in the paper; :mod:`nar_slp.models.text_encoder`),
* a :class:`LengthRegulator` — FC layers + a final sigmoid on the ``[CLS]`` vector,
  predicting the ratio T / T_max (the first factor of Eq. 3),
* a :class:`NARDecoder` — a Transformer decoder with the autoregressive connection
  removed (no causal mask, no previous-frame input): its queries are positional
  encodings of frames 0..T-1, its keys/values the encoder output (Eq. 4-6,
  Q = PE, K = V = encoder output), so every frame is produced in parallel.

The decoder output is Z_lang (B, T, Z), which the frozen VAE decoder (the PGM) turns
into poses. Training (:func:`student_losses`) combines

    Eq. 8:  L_pose   = MSE(PGM(Z_lang), Y)
    Eq. 9:  L_distil = MSE(Z_lang, Z_pose),   Z_pose = LGM(Y), the teacher's mean
    Eq. 10: L_length = BCE(L̂, L),              L = T / T_max
    Eq. 11: L = L_pose + L_distil + L_length   (equal weights)

During training the true lengths are given to the decoder (teacher-forced lengths);
at inference the regulator's prediction T = round(L̂ · T_max), clamped to [1, T_max],
is used instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nar_slp.config import Config, StudentConfig
from nar_slp.models.layers import (
    decoder_stack,
    encoder_stack,
    sinusoidal_encoding,
    sinusoidal_positions,
)
from nar_slp.models.text_encoder import (
    PretrainedTextEncoder,
    TextEncoder,
    build_text_encoder,
)
from nar_slp.utils import round_up


@dataclass
class StudentOutput:
    """What :meth:`TextToLatentStudent.forward` returns.

    z_lang: (B, T, Z) predicted latent sequence; T = max(lengths); values at
        padded frames (``frame_mask`` False) are meaningless.
    frame_mask: (B, T) bool, True = a real frame of that item.
    length_ratio: (B,) predicted T / T_max in (0, 1) (sigmoid of ``length_logit``).
    lengths: (B,) int64 the lengths used (given, or predicted by the regulator).
    length_logit: (B,) the regulator's pre-sigmoid output (for a stable BCE).
    """

    z_lang: Tensor
    frame_mask: Tensor
    length_ratio: Tensor
    lengths: Tensor
    length_logit: Tensor


@dataclass
class StudentLosses:
    """Scalar losses of one batch (Eq. 8-11); ``distil`` is reported even when it is
    left out of ``total`` (KD off) as the latent-mismatch diagnostic."""

    total: Tensor
    pose: Tensor
    distil: Tensor
    length: Tensor


class LengthRegulator(nn.Module):
    """FC layers with ReLU, then Linear -> 1 and a sigmoid: p_L(T | X) of Eq. 3.

    Input: the pooled ``[CLS]`` vector (B, D_enc). Output: the logit (B,) of the
    length ratio T / T_max.
    """

    def __init__(self, d_in: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = d_in
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, pooled: Tensor) -> Tensor:
        return self.net(pooled).squeeze(-1)  # (B,)


class NARDecoder(nn.Module):
    """Non-autoregressive Transformer decoder (Eq. 4-6).

    Queries: sinusoidal PE of frames 0..T-1 through a learned linear map (the paper
    says "PE as Q"; the linear layer lets the model shape the queries). Self-attention
    over frames has no causal mask, only a key padding mask for frames beyond each
    item's length; cross-attention reads the projected encoder output with the text's
    padding mask. The layers are the shared
    :func:`~nar_slp.models.layers.decoder_stack` in the original Transformer's
    post-norm form (the parameter names, and so the checkpoints, are those of a plain
    ``nn.TransformerDecoder``). Output: (B, T, Z).

    ``relative_positions=True`` is our variant, not the paper's (see
    ``StudentConfig.relative_positions``): a second sinusoidal code of each frame's
    *fraction* of its sequence, t / T, is added to the queries, and one of each
    token's fraction of its text, u / U, to the keys/values. With absolute queries
    only, frame 50 is the end of a 50-frame sentence and the middle of a 100-frame
    one, and nothing in the decoder's input says which; the relative code tells
    every frame where it lies in its sentence, and lets cross-attention learn the
    roughly monotonic text-to-time alignment from a comparison of two fractions.
    """

    def __init__(
        self,
        d_model: int,
        n_layers: int,
        n_heads: int,
        d_ff: int,
        dropout: float,
        latent_dim: int,
        relative_positions: bool = False,
        alignment_prior: float = 0.0,
    ) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(
                f"d_model={d_model} must be divisible by n_heads={n_heads}"
            )
        self.d_model = d_model
        self.query = nn.Linear(d_model, d_model)
        self.relative_positions = bool(relative_positions)
        self.alignment_prior = float(alignment_prior)
        self.n_heads = n_heads
        if self.relative_positions:
            self.relative_query = nn.Linear(d_model, d_model)
            self.relative_memory = nn.Linear(d_model, d_model)
        self.layers = decoder_stack(
            d_model, n_layers, n_heads, d_ff, dropout, norm_first=False
        )
        self.out = nn.Linear(d_model, latent_dim)

    def forward(
        self, memory: Tensor, memory_mask: Tensor, frame_mask: Tensor
    ) -> Tensor:
        """memory (B, L, D), memory_mask (B, L) True = real token,
        frame_mask (B, T) True = real frame -> z (B, T, Z)."""
        b, t = frame_mask.shape
        pe = sinusoidal_positions(t, self.d_model, memory.device)  # (T, D)
        queries = self.query(pe.to(memory.dtype))[None].expand(b, t, -1)  # (B, T, D)
        if self.relative_positions:
            queries = queries + self.relative_query(
                relative_code(frame_mask, self.d_model).to(memory.dtype)
            )  # (B, T, D)
            memory = memory + self.relative_memory(
                relative_code(memory_mask, self.d_model).to(memory.dtype)
            )  # (B, L, D)
        prior, memory_padding = None, ~memory_mask
        if self.alignment_prior > 0:
            # One float mask (B·H, T, L) added to every head's logits; the text's
            # padding goes into it as -inf (PyTorch warns when a bool and a float
            # mask are mixed).
            prior = alignment_bias(frame_mask, memory_mask, self.alignment_prior)
            prior = prior.masked_fill(memory_padding[:, None, :], float("-inf"))
            prior = prior.repeat_interleave(self.n_heads, 0).to(memory.dtype)
            memory_padding = None
        h = self.layers(
            queries,
            memory,
            memory_mask=prior,
            tgt_key_padding_mask=~frame_mask,
            memory_key_padding_mask=memory_padding,
        )  # (B, T, D)
        return self.out(h)  # (B, T, Z)


# Relative positions t / T in [0, 1) are encoded as sinusoids of t / T · this many
# steps, so the code's fastest frequencies still separate neighbouring frames of a
# long sequence while its slow ones span the whole sentence.
RELATIVE_STEPS = 100.0


def relative_code(mask: Tensor, dim: int) -> Tensor:
    """Sinusoidal code of each position's fraction of its sequence.

    mask (B, N) bool, True = a real position, real positions first -> (B, N, dim):
    :func:`~nar_slp.models.layers.sinusoidal_encoding` of ``n / N_b · RELATIVE_STEPS``
    with N_b the item's number of real positions (padding gets fractions >= 1; it is
    masked out downstream).
    """
    n = mask.shape[1]
    count = mask.sum(1, keepdim=True).clamp(min=1).float()  # (B, 1)
    index = torch.arange(n, device=mask.device, dtype=torch.float32)[None]  # (1, N)
    return sinusoidal_encoding(index / count * RELATIVE_STEPS, dim)  # (B, N, dim)


def alignment_bias(frame_mask: Tensor, memory_mask: Tensor, sigma: float) -> Tensor:
    """A Gaussian prior on the cross-attention logits around the diagonal:
    -(t / T - (u + ½) / U)² / (2 σ²) for frame t of T and token u of U.

    frame_mask (B, T), memory_mask (B, L) bool, real positions first -> (B, T, L).
    Like guided attention in text-to-speech (Tachibana et al. 2018), it starts every
    frame near the words at the same fraction of the sentence; content attention
    can still move away from it (it is a bias, not a hard window), which the
    sign order (not word order) of the glosses needs.
    """
    t_count = frame_mask.sum(1, keepdim=True).clamp(min=1).float()  # (B, 1)
    u_count = memory_mask.sum(1, keepdim=True).clamp(min=1).float()  # (B, 1)
    t = torch.arange(frame_mask.shape[1], device=frame_mask.device)[None] / t_count
    u = torch.arange(memory_mask.shape[1], device=memory_mask.device)[None] + 0.5
    u = u / u_count  # (B, L)
    diff = t[:, :, None] - u[:, None, :]  # (B, T, L)
    return -(diff**2) / (2.0 * sigma**2)


class TextToLatentStudent(nn.Module):
    """The LLM (§3.3): text -> (length, Z_lang), Eq. 3-6.

    Args:
        cfg: the student configuration.
        latent_dim: Z, the VAE's latent size (the decoder's output width).
        max_frames: T_max (frames); the regulator predicts T / T_max.
        encoder: a ready :class:`TextEncoder` (tests); default built from ``cfg``.
    """

    def __init__(
        self,
        cfg: StudentConfig,
        latent_dim: int,
        max_frames: int,
        encoder: TextEncoder | None = None,
    ) -> None:
        super().__init__()
        if max_frames < 1:
            raise ValueError(f"max_frames={max_frames} must be >= 1")
        self.cfg = cfg
        self.latent_dim = int(latent_dim)
        self.max_frames = int(max_frames)
        self.input_kind = "text"  # set by the trainer / load_student ("text" | "gloss")
        self.encoder = encoder if encoder is not None else build_text_encoder(cfg)
        self.pad_to_multiple = int(cfg.pad_to_multiple)
        self.encoder.pad_to_multiple = self.pad_to_multiple
        self.input_proj = nn.Linear(self.encoder.dim, cfg.d_model)
        # Our variant (StudentConfig.adapter_layers): trained self-attention layers
        # over the projected text states, between a frozen encoder and the decoder.
        self.adapter = (
            encoder_stack(
                cfg.d_model,
                cfg.adapter_layers,
                cfg.n_heads,
                cfg.d_ff,
                cfg.dropout,
                norm_first=False,
            )
            if cfg.adapter_layers > 0
            else None
        )
        self.length_regulator = LengthRegulator(self.encoder.dim, cfg.length_hidden)
        self.decoder = NARDecoder(
            cfg.d_model,
            cfg.n_layers,
            cfg.n_heads,
            cfg.d_ff,
            cfg.dropout,
            latent_dim,
            relative_positions=cfg.relative_positions,
            alignment_prior=cfg.alignment_prior,
        )
        self._init_weights()

    def _init_weights(self) -> None:
        """Xavier-uniform for every matrix the student owns, zero biases; a Hugging
        Face encoder keeps its weights (pretrained ones, or for ``"scratch"`` the
        architecture's own random init)."""
        pretrained = isinstance(self.encoder, PretrainedTextEncoder)
        for name, p in self.named_parameters():
            if pretrained and name.startswith("encoder."):
                continue
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def lengths_from_ratio(self, ratio: Tensor) -> Tensor:
        """T = round(ratio · T_max) clamped to [1, T_max]; (B,) float -> (B,) int64."""
        return (
            torch.round(ratio.float() * self.max_frames)
            .clamp(1, self.max_frames)
            .long()
        )

    def forward(self, texts: list[str], lengths: Tensor | None = None) -> StudentOutput:
        """Encode ``texts`` and decode a latent sequence per text.

        Args:
            texts: B input strings (spoken text, or glosses in G2P mode).
            lengths: (B,) int lengths to decode (training: the true lengths); None ->
                the regulator's prediction.
        """
        device = self.device
        enc = self.encoder.encode(texts, device)
        length_logit = self.length_regulator(enc.pooled)  # (B,)
        ratio = torch.sigmoid(length_logit.float())  # (B,)
        if lengths is None:
            lengths = self.lengths_from_ratio(ratio.detach())
        else:
            lengths = torch.as_tensor(lengths, device=device).long()
            if lengths.shape != (len(texts),):
                raise ValueError(
                    f"lengths has shape {tuple(lengths.shape)}; expected "
                    f"({len(texts)},), one length per text"
                )
            if (lengths < 1).any():
                raise ValueError(f"lengths must be >= 1, got {lengths.tolist()}")
        # padded to a multiple (StudentConfig.pad_to_multiple): bounded shapes
        t = round_up(int(lengths.max()), self.pad_to_multiple)
        frame_mask = torch.arange(t, device=device)[None] < lengths[:, None]  # (B, T)
        memory = self.input_proj(enc.hidden)  # (B, L, D)
        if self.adapter is not None:
            memory = self.adapter(memory, src_key_padding_mask=~enc.mask)  # (B, L, D)
        z_lang = self.decoder(memory, enc.mask, frame_mask)  # (B, T, Z)
        return StudentOutput(
            z_lang=z_lang,
            frame_mask=frame_mask,
            length_ratio=ratio,
            lengths=lengths,
            length_logit=length_logit,
        )


def build_student(
    cfg: Config, vocab_source: str | Path | Any | None = None
) -> TextToLatentStudent:
    """The student of ``cfg``.

    Z = ``cfg.vae.latent_dim``, T_max = ``cfg.data.max_frames``; ``vocab_source`` is
    passed to :func:`build_text_encoder` (the ``"scratch-small"`` encoder's
    tokenizer).
    """
    encoder = build_text_encoder(cfg.student, vocab_source)
    return TextToLatentStudent(
        cfg.student, cfg.vae.latent_dim, cfg.data.max_frames, encoder=encoder
    )


# --------------------------------------------------------------------------- losses


def _masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean of (pred - target)^2 over real frames x values; (B, T, C), mask (B, T).

    ``torch.where`` (not a multiplication) keeps padding out even if it holds inf/nan.
    """
    sq = (pred.float() - target.float()) ** 2  # (B, T, C)
    sq = torch.where(mask[..., None], sq, torch.zeros_like(sq))
    n = mask.sum() * pred.shape[-1]
    return sq.sum() / n.clamp(min=1)


def student_losses(
    out: StudentOutput,
    batch: Any,
    vae: nn.Module,
    max_frames: int,
    use_kd: bool = True,
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
    z_pose: Tensor | None = None,
) -> StudentLosses:
    """Eq. 8-11 for one batch decoded with the true lengths.

    Args:
        out: the student's output for ``batch`` (``lengths = batch.lengths``).
        batch: a ``PoseBatch``: ``poses`` (B, T, J, K) in [0, 1], ``mask`` (B, T) bool,
            ``lengths`` (B,).
        vae: the frozen pose VAE; ``vae.decode`` is the PGM, ``vae.lgm`` (the encoder
            mean) the LGM teacher. Gradients flow through the PGM into Z_lang; the
            teacher runs under ``no_grad``.
        max_frames: T_max for the length target T / T_max.
        use_kd: add L_distil to the total (False = "w/o KD"; it is still reported).
        weights: (pose, distil, length) weights; the paper uses equal weights.
        z_pose: (B, T, Z) the teacher's latents of ``batch`` if already known (the
            frozen LGM's output never changes, so a trainer may compute it once);
            None -> ``vae.lgm(y)`` here.

    All frame terms average over real frames only (padding never enters a mean).
    """
    poses, mask, lengths = batch.poses, batch.mask, batch.lengths
    b, t = mask.shape
    if out.z_lang.shape[:2] != (b, t):
        raise ValueError(
            f"student output has (B, T) = {tuple(out.z_lang.shape[:2])} but the "
            f"batch has ({b}, {t}); decode with lengths=batch.lengths"
        )
    mask = mask.bool() & out.frame_mask
    y = poses.reshape(b, t, -1)  # (B, T, F)
    y_hat = vae.decode(out.z_lang)  # (B, T, F)
    pose = _masked_mse(y_hat, y, mask)
    if z_pose is None:
        with torch.no_grad():
            z_pose = vae.lgm(y)  # (B, T, Z)
    elif z_pose.shape != out.z_lang.shape:
        raise ValueError(
            f"z_pose has shape {tuple(z_pose.shape)}; expected "
            f"{tuple(out.z_lang.shape)} (B, T, Z)"
        )
    distil = _masked_mse(out.z_lang, z_pose, mask)
    target = (lengths.float() / max_frames).clamp(0.0, 1.0).to(out.length_logit.device)
    # BCE on the logit == BCE(sigmoid(logit), target) of Eq. 10, without log(0).
    length = F.binary_cross_entropy_with_logits(out.length_logit.float(), target)
    w_pose, w_distil, w_length = weights
    total = w_pose * pose + w_length * length
    if use_kd:
        total = total + w_distil * distil
    return StudentLosses(total=total, pose=pose, distil=distil, length=length)
