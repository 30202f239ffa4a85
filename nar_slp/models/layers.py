"""Layers shared by every Transformer in the project: the student (§3.3), the FGD
autoencoder and the back-translation model (§5.1).

One sinusoidal positional encoding, one way to build encoder and decoder stacks, and
one input standardisation with constant-channel handling, so the models differ only
where the paper says they do.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

# A channel whose training standard deviation is below this fraction of the median
# channel's is treated as constant and dropped (see FeatureStandardiser).
CONSTANT_RELATIVE_STD = 1e-3


def sinusoidal_positions(
    n: int, dim: int, device: torch.device | None = None
) -> Tensor:
    """The fixed sinusoidal positional encoding of Vaswani et al., shape (n, dim).

    PE[t, 2i] = sin(t / 10000^(2i/dim)), PE[t, 2i+1] = cos(t / 10000^(2i/dim)).
    """
    position = torch.arange(n, dtype=torch.float32, device=device)  # (n,)
    return sinusoidal_encoding(position, dim)


def sinusoidal_encoding(positions: Tensor, dim: int) -> Tensor:
    """:func:`sinusoidal_positions` at arbitrary (also fractional) positions:
    (...,) float -> (..., dim)."""
    position = positions.float()[..., None]  # (..., 1)
    freq = torch.exp(
        torch.arange(0, dim, 2, dtype=torch.float32, device=positions.device)
        * (-math.log(10000.0) / dim)
    )  # (ceil(dim/2),)
    pe = torch.zeros(*positions.shape, dim, device=positions.device)
    pe[..., 0::2] = torch.sin(position * freq)
    pe[..., 1::2] = torch.cos(position * freq[: dim // 2])
    return pe


class SinusoidalPositionalEncoding(nn.Module):
    """Adds :func:`sinusoidal_positions` to a (B, T, D) input; T <= ``max_len``."""

    def __init__(self, d_model: int, max_len: int = 2048) -> None:
        super().__init__()
        self.register_buffer(
            "pe", sinusoidal_positions(max_len, d_model), persistent=False
        )

    def forward(self, x: Tensor) -> Tensor:
        t = x.shape[1]
        if t > self.pe.shape[0]:
            raise ValueError(
                f"sequence of {t} steps exceeds max_len {self.pe.shape[0]}"
            )
        return x + self.pe[:t].to(x.dtype)  # (B, T, D)


def encoder_stack(
    d_model: int,
    n_layers: int,
    n_heads: int,
    d_ff: int | None = None,
    dropout: float = 0.1,
    norm_first: bool = True,
) -> nn.TransformerEncoder:
    """A stack of ``n_layers`` self-attention layers (batch first).

    ``d_ff`` defaults to 4·d_model. Pre-norm stacks (``norm_first``) end with a final
    LayerNorm, as pre-norm Transformers need one.
    """
    if d_model % n_heads:
        raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
    layer = nn.TransformerEncoderLayer(
        d_model,
        n_heads,
        dim_feedforward=d_ff or 4 * d_model,
        dropout=dropout,
        batch_first=True,
        norm_first=norm_first,
    )
    return nn.TransformerEncoder(
        layer,
        n_layers,
        norm=nn.LayerNorm(d_model) if norm_first else None,
        enable_nested_tensor=False,
    )


def decoder_stack(
    d_model: int,
    n_layers: int,
    n_heads: int,
    d_ff: int | None = None,
    dropout: float = 0.1,
    norm_first: bool = True,
) -> nn.TransformerDecoder:
    """A stack of ``n_layers`` self-attention + cross-attention layers (batch first);
    the same conventions as :func:`encoder_stack`."""
    if d_model % n_heads:
        raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
    layer = nn.TransformerDecoderLayer(
        d_model,
        n_heads,
        dim_feedforward=d_ff or 4 * d_model,
        dropout=dropout,
        batch_first=True,
        norm_first=norm_first,
    )
    return nn.TransformerDecoder(
        layer, n_layers, norm=nn.LayerNorm(d_model) if norm_first else None
    )


def causal_mask(length: int, device: torch.device | None = None) -> Tensor:
    """(length, length) bool mask, True above the diagonal (= may not attend)."""
    return torch.triu(torch.ones(length, length, dtype=torch.bool, device=device), 1)


class FeatureStandardiser(nn.Module):
    """Per-channel standardisation with training statistics; constant channels dropped.

    Normalised poses vary by ~0.05 around 0.5, so evaluators standardise each value
    before the input projection. A channel that does not vary in the training frames
    (the neck is the origin of PT skeletons) carries no information; dividing by a
    floored standard deviation would instead turn a tiny offset in a generated
    sequence into a huge input. So a channel whose training std is below
    ``CONSTANT_RELATIVE_STD`` × the median channel std is *dropped*: its standardised
    value is set to 0 whatever the input (``keep`` = 0), which for the linear input
    projection that follows is the same as removing the column. ``keep`` also tells
    a reconstruction loss which channels to score.

    Buffers (saved with the model): ``mean`` (F,), ``std`` (F,), ``keep`` (F,) of 0/1.
    """

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))
        self.register_buffer("keep", torch.ones(n_features))

    @torch.no_grad()
    def fit(self, frames: np.ndarray | Tensor) -> FeatureStandardiser:
        """Set the statistics from training frames (N, F); returns self."""
        x = torch.as_tensor(np.asarray(frames, dtype=np.float32))
        if x.ndim != 2 or x.shape[1] != self.mean.numel():
            raise ValueError(
                f"FeatureStandardiser.fit expects (N, {self.mean.numel()}) frames, "
                f"got shape {tuple(x.shape)}"
            )
        if len(x) < 2:
            raise ValueError("FeatureStandardiser.fit needs at least 2 frames")
        std = x.std(0, unbiased=False)
        scale = std.median().clamp_min(1e-12)
        keep = (std > CONSTANT_RELATIVE_STD * scale).to(x.dtype)
        self.mean.copy_(x.mean(0))
        self.std.copy_(torch.where(keep > 0, std, torch.ones_like(std)))
        self.keep.copy_(keep)
        return self

    @property
    def n_dropped(self) -> int:
        return int((self.keep == 0).sum())

    def forward(self, x: Tensor) -> Tensor:
        """(..., F) -> standardised (..., F), constant channels set to 0."""
        return (x - self.mean) / self.std * self.keep
