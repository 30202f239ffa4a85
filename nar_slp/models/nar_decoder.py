"""The student's non-autoregressive decoder (§3.3, Eq. 4-6).

A Transformer decoder with the autoregressive connection removed (no causal mask, no
previous-frame input): its queries are positional encodings of frames 0..T-1, its
keys/values the encoder output (Q = PE, K = V = encoder output), so every frame of
Z_lang is produced in parallel. :class:`~nar_slp.models.student.TextToLatentStudent`
feeds it the projected text states.
"""

from __future__ import annotations

from torch import Tensor, nn

from nar_slp.models.layers import decoder_stack, sinusoidal_positions


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
    """

    def __init__(
        self,
        d_model: int,
        n_layers: int,
        n_heads: int,
        d_ff: int,
        dropout: float,
        latent_dim: int,
    ) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(
                f"d_model={d_model} must be divisible by n_heads={n_heads}"
            )
        self.d_model = d_model
        self.query = nn.Linear(d_model, d_model)
        self.n_heads = n_heads
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
        h = self.layers(
            queries,
            memory,
            tgt_key_padding_mask=~frame_mask,
            memory_key_padding_mask=~memory_mask,
        )  # (B, T, D)
        return self.out(h)  # (B, T, Z)
