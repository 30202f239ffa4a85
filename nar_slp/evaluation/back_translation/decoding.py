"""Decoding of the back-translation model (§5.1): greedy and batched beam search.

Model score of a hypothesis y (ids ending with ``<eos>``, or ``max_output_len`` ids
without it): ``sum_t log p(y_t | y_<t, poses) / |y|^alpha`` (length normalisation,
alpha = 1 by default). Greedy decoding takes the arg-max word at each step; beam
search keeps the ``beam_size`` best live prefixes per sentence and sets aside those
that end. With ``beam_size > 1`` :func:`translate` returns whichever of the beam's
best and the greedy hypothesis scores higher, so beam is never worse than greedy on
the model score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from nar_slp.evaluation.back_translation.data import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    length_batches,
    pad_ids,
    pad_poses,
)
from nar_slp.evaluation.back_translation.model import SLTModel
from nar_slp.evaluation.tae import normalise_flat
from nar_slp.evaluation.text_metrics import bleu_scores, rouge_l


def _trim(ids: Sequence[int]) -> list[int]:
    """Ids up to and including the first ``<eos>``."""
    ids = list(ids)
    return ids[: ids.index(EOS_ID) + 1] if EOS_ID in ids else ids


@torch.no_grad()
def sequence_scores(
    model: SLTModel,
    memory: torch.Tensor,
    memory_mask: torch.Tensor,
    hyps: Sequence[Sequence[int]],
    alpha: float = 1.0,
) -> torch.Tensor:
    """Length-normalised log-probabilities (B,) of id sequences (module docstring)
    under teacher forcing; memory (B, T', D), mask (B, T'), one hypothesis per row."""
    hyps = [_trim(h) for h in hyps]
    target = pad_ids(hyps, memory.device)  # (B, L)
    tokens = torch.cat([torch.full_like(target[:, :1], BOS_ID), target[:, :-1]], 1)
    tokens = tokens.masked_fill(tokens == EOS_ID, PAD_ID)
    logp = model.decode(tokens, memory, memory_mask).log_softmax(-1)  # (B, L, V)
    picked = logp.gather(-1, target[..., None])[..., 0]  # (B, L)
    picked = picked.masked_fill(target == PAD_ID, 0.0)
    lengths = torch.tensor([max(len(h), 1) for h in hyps], device=memory.device)
    return picked.sum(1) / lengths.float() ** alpha


@torch.no_grad()
def greedy(model: SLTModel, memory, memory_mask, max_len: int) -> list[list[int]]:
    """Arg-max decoding of a batch; ids per row, ending with ``<eos>`` or cut."""
    b = memory.shape[0]
    tokens = torch.full((b, 1), BOS_ID, dtype=torch.long, device=memory.device)
    done = torch.zeros(b, dtype=torch.bool, device=memory.device)
    for _ in range(max_len):
        nxt = model.decode(tokens, memory, memory_mask)[:, -1].argmax(-1)  # (B,)
        nxt = nxt.masked_fill(done, PAD_ID)
        tokens = torch.cat([tokens, nxt[:, None]], 1)
        done |= nxt == EOS_ID
        if bool(done.all()):
            break
    return [_trim(row) for row in tokens[:, 1:].tolist()]


@torch.no_grad()
def beam_search(
    model: SLTModel, memory, memory_mask, max_len: int, beam: int, alpha: float = 1.0
) -> list[list[int]]:
    """Beam search for a batch (memory (B, T', D)); the best ended hypothesis per row.

    Each step expands the ``beam`` live prefixes of every sentence (one (B·k) decoder
    pass), takes the 2k best continuations; those among the top k that end with
    ``<eos>`` (or reach ``max_len``) are set aside with their normalised score, the k
    best that do not end stay live. A sentence stops collecting once k have ended.
    """
    b, dev = memory.shape[0], memory.device
    mem = memory.repeat_interleave(beam, 0)  # (B·k, T', D)
    mem_mask = memory_mask.repeat_interleave(beam, 0)  # (B·k, T')
    tokens = torch.full((b * beam, 1), BOS_ID, dtype=torch.long, device=dev)
    scores = torch.full((b, beam), -torch.inf, device=dev)
    scores[:, 0] = 0.0  # one live prefix (<bos>) at the start
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(b)]
    for step in range(1, max_len + 1):
        logp = model.decode(tokens, mem, mem_mask)[:, -1].log_softmax(-1)  # (B·k, V)
        v = logp.shape[-1]
        cand = (scores[..., None] + logp.view(b, beam, v)).view(b, beam * v)
        top_s, top_i = cand.topk(min(2 * beam, beam * v), dim=1)  # (B, C)
        src, word = top_i // v, top_i % v  # (B, C) prefix index and next word
        ends = (word == EOS_ID) | (step == max_len)
        record = ends[:, :beam] & torch.isfinite(top_s[:, :beam])
        for r, c in record.nonzero().tolist():
            if len(finished[r]) < beam:
                seq = tokens[r * beam + src[r, c], 1:].tolist() + [int(word[r, c])]
                finished[r].append((float(top_s[r, c]) / step**alpha, seq))
        live_s, pos = top_s.masked_fill(ends, -torch.inf).topk(beam, dim=1)  # (B, k)
        rows = torch.arange(b, device=dev)[:, None] * beam + src.gather(1, pos)
        tokens = torch.cat([tokens[rows.flatten()], word.gather(1, pos).view(-1, 1)], 1)
        scores = live_s
        if all(len(f) >= beam for f in finished) or not torch.isfinite(scores).any():
            break
    return [max(f, key=lambda s: s[0])[1] for f in finished]


@torch.no_grad()
def translate_ids(
    model: SLTModel,
    x: torch.Tensor,
    mask: torch.Tensor,
    beam_size: int = 1,
    alpha: float = 1.0,
) -> list[list[int]]:
    """Target ids for a padded batch of frames (B, T, F) + mask (B, T)."""
    memory, memory_mask = model.encode(x, mask)
    best = greedy(model, memory, memory_mask, model.max_output_len)
    if beam_size == 1:
        return best
    beam = beam_search(
        model, memory, memory_mask, model.max_output_len, beam_size, alpha
    )
    s_greedy = sequence_scores(model, memory, memory_mask, best, alpha)
    s_beam = sequence_scores(model, memory, memory_mask, beam, alpha)
    return [
        bm if sb >= sg else gr
        for gr, bm, sg, sb in zip(best, beam, s_greedy, s_beam, strict=True)
    ]


@torch.no_grad()
def translate(
    model: SLTModel,
    poses_list: Sequence[np.ndarray],
    normaliser: Any,
    batch_size: int = 64,
    beam_size: int = 1,
    alpha: float = 1.0,
) -> list[str]:
    """Back-translate pose sequences into strings (words joined by single spaces).

    Args:
        model: a trained :class:`SLTModel` (its device is used).
        poses_list: arrays (T, 50, 3) in PT coordinates, from any system (or objects
            with a ``.poses`` attribute).
        normaliser: the ground-truth training Normaliser.
        batch_size: sequences per forward pass.
        beam_size: 1 = greedy; > 1 = batched beam search (``cfg.eval.beam_size``).
        alpha: length-normalisation exponent of the model score.

    Returns:
        One string per input, in input order.
    """
    if beam_size < 1:
        raise ValueError(f"translate: beam_size must be >= 1, got {beam_size}")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    flat = [
        normalise_flat(np.asarray(getattr(p, "poses", p)), normaliser)
        for p in poses_list
    ]
    for i, f in enumerate(flat):
        if len(f) == 0:
            raise ValueError(f"translate: sequence {i} has no frames")
    out: list[str] = [""] * len(flat)
    for idx in length_batches([len(f) for f in flat], batch_size, None):
        x, mask = pad_poses([flat[i] for i in idx], device)
        ids = translate_ids(model, x, mask, beam_size, alpha)
        for i, seq in zip(idx, ids, strict=True):
            out[i] = model.vocab.decode(seq)
    model.train(was_training)
    return out


def back_translation_scores(
    model: SLTModel,
    poses_list: Sequence[np.ndarray],
    references: Sequence[str],
    normaliser: Any,
    batch_size: int = 64,
    beam_size: int = 1,
) -> tuple[dict[str, float | str], list[str]]:
    """Translate ``poses_list`` and score against ``references``.

    Returns:
        (``{"BLEU-1".."BLEU-4", "ROUGE", "signature"}``, the hypotheses).
    """
    hyps = translate(model, poses_list, normaliser, batch_size, beam_size)
    scores = bleu_scores(hyps, references)
    scores["ROUGE"] = rouge_l(hyps, references)
    return scores, hyps
