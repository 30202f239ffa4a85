"""Incremental decoding of a ``nn.TransformerDecoder`` with a key/value cache.

Progressive Transformers (:mod:`nar_slp.models.progressive_transformer`) decodes one
frame at a time; re-running the whole prefix at every step costs O(t) per step for
the new position alone and O(t²) in all. :func:`init_cache` computes the memory's
cross-attention keys/values once per layer, and :func:`decode_step` runs one new
position through the stack, reading the earlier positions' self-attention
keys/values from the cache and appending its own. It recomputes exactly what
``nn.TransformerDecoderLayer`` does for the last position in eval mode (no dropout),
so both paths give the same frames (tested).

Shapes: B batch, t positions so far, L memory tokens, D model width, H heads,
Dh = D / H.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F_
from torch import Tensor, nn


def init_cache(
    decoder: nn.TransformerDecoder, memory: Tensor, n_heads: int
) -> list[dict[str, Tensor]]:
    """Per layer: cross-attention keys/values of the memory (B, H, L, Dh) and
    empty self-attention key/value caches."""
    cache = []
    for layer in decoder.layers:
        mha = layer.multihead_attn
        d = memory.shape[-1]
        k = F_.linear(
            memory, mha.in_proj_weight[d : 2 * d], mha.in_proj_bias[d : 2 * d]
        )
        v = F_.linear(memory, mha.in_proj_weight[2 * d :], mha.in_proj_bias[2 * d :])
        cache.append({"ck": split_heads(k, n_heads), "cv": split_heads(v, n_heads)})
    return cache


def split_heads(x: Tensor, n_heads: int) -> Tensor:
    """(B, t, D) -> (B, H, t, Dh)."""
    b, t, d = x.shape
    return x.view(b, t, n_heads, d // n_heads).transpose(1, 2)  # (B,H,t,Dh)


def _attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    out_proj: nn.Linear,
    key_pad: Tensor | None = None,
) -> Tensor:
    """One query step: q (B, H, 1, Dh), k/v (B, H, S, Dh) -> (B, 1, D)."""
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (B, H, 1, S)
    if key_pad is not None:
        scores = scores.masked_fill(key_pad[:, None, None, :], float("-inf"))
    out = scores.softmax(-1) @ v  # (B, H, 1, Dh)
    b, h, _, dh = out.shape
    return out_proj(out.transpose(1, 2).reshape(b, 1, h * dh))  # (B, 1, D)


def _self_block(
    layer: nn.Module, y: Tensor, c: dict[str, Tensor], n_heads: int
) -> Tensor:
    """Causal self-attention of the newest position; appends its keys/values."""
    sa = layer.self_attn
    qkv = F_.linear(y, sa.in_proj_weight, sa.in_proj_bias)  # (B, 1, 3D)
    q, k, v = (split_heads(p, n_heads) for p in qkv.split(y.shape[-1], -1))
    c["k"] = k if "k" not in c else torch.cat([c["k"], k], 2)  # (B, H, t, Dh)
    c["v"] = v if "v" not in c else torch.cat([c["v"], v], 2)
    return _attend(q, c["k"], c["v"], sa.out_proj)


def _cross_block(
    layer: nn.Module, y: Tensor, c: dict[str, Tensor], mem_pad: Tensor, n_heads: int
) -> Tensor:
    """Cross-attention to the memory, whose keys/values are cached once."""
    mha = layer.multihead_attn
    d = y.shape[-1]
    q = split_heads(F_.linear(y, mha.in_proj_weight[:d], mha.in_proj_bias[:d]), n_heads)
    return _attend(q, c["ck"], c["cv"], mha.out_proj, mem_pad)


def _ff_block(layer: nn.Module, y: Tensor) -> Tensor:
    return layer.linear2(layer.activation(layer.linear1(y)))


def decode_step(
    decoder: nn.TransformerDecoder,
    x: Tensor,
    cache: list[dict[str, Tensor]],
    mem_pad: Tensor,
    n_heads: int,
) -> Tensor:
    """One incremental step: x (B, 1, D) embedded input -> decoder state (B, 1, D).

    ``mem_pad`` (B, L) is True on padded memory tokens; ``cache`` comes from
    :func:`init_cache` and gains this position's self-attention keys/values.
    """
    for layer, c in zip(decoder.layers, cache, strict=True):
        if layer.norm_first:
            x = x + _self_block(layer, layer.norm1(x), c, n_heads)
            x = x + _cross_block(layer, layer.norm2(x), c, mem_pad, n_heads)
            x = x + _ff_block(layer, layer.norm3(x))
        else:
            x = layer.norm1(x + _self_block(layer, x, c, n_heads))
            x = layer.norm2(x + _cross_block(layer, x, c, mem_pad, n_heads))
            x = layer.norm3(x + _ff_block(layer, x))
    if decoder.norm is not None:
        x = decoder.norm(x)
    return x
