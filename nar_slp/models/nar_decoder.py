"""The student's non-autoregressive decoder (§3.3, Eq. 4-6).

A Transformer decoder with the autoregressive connection removed (no causal mask, no
previous-frame input): its queries are positional encodings of frames 0..T-1, its
keys/values the encoder output (Q = PE, K = V = encoder output), so every frame of
Z_lang is produced in parallel. :class:`~nar_slp.models.student.TextToLatentStudent`
feeds it the projected text states; its optional relative position code
(:func:`relative_code`) and alignment prior (:func:`alignment_bias`) are our variants,
not the paper's.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nar_slp.models.layers import (
    decoder_stack,
    sinusoidal_encoding,
    sinusoidal_positions,
)


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
