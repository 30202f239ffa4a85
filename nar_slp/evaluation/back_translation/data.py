"""Vocabulary and batching of the back-translation model (§5.1).

A :class:`Vocabulary` maps whitespace tokens to ids (``<pad>``, ``<bos>``, ``<eos>``,
``<unk>`` first); the model has two, one for its target words (text or gloss) and one
for the gloss sequence that the recognition (CTC) head predicts. The CTC blank is the
``<pad>`` id of the gloss vocabulary: glosses never contain it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = range(4)
BLANK_ID = PAD_ID  # CTC blank of the gloss head


class Vocabulary:
    """Word-level vocabulary: whitespace tokens, specials at ids 0-3."""

    def __init__(self, itos: Sequence[str]) -> None:
        if tuple(itos[:4]) != SPECIALS:
            raise ValueError(f"vocabulary must start with {SPECIALS}, got {itos[:4]}")
        if len(set(itos)) != len(itos):
            raise ValueError("vocabulary has duplicate tokens")
        self.itos = list(itos)
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, texts: Sequence[str], min_freq: int = 1) -> Vocabulary:
        """From training texts; words seen < ``min_freq`` times map to ``<unk>``."""
        counts = Counter(w for t in texts for w in t.split())
        words = sorted(
            w for w, c in counts.items() if c >= min_freq and w not in SPECIALS
        )
        return cls(list(SPECIALS) + words)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str, eos: bool = True) -> list[int]:
        """Token ids of ``text``, followed by ``<eos>`` unless ``eos`` is False."""
        ids = [self.stoi.get(w, UNK_ID) for w in text.split()]
        return ids + [EOS_ID] if eos else ids

    def decode(self, ids: Sequence[int]) -> str:
        """Words up to the first ``<eos>``; ``<pad>``/``<bos>`` are dropped."""
        words = []
        for i in ids:
            if i == EOS_ID:
                break
            if i not in (PAD_ID, BOS_ID):
                words.append(self.itos[i])
        return " ".join(words)


@dataclass
class Example:
    """One training/dev sentence: poses (T, 50, 3) PT coordinates, the target string,
    and the gloss string (None when the source has no glosses)."""

    poses: np.ndarray
    target: str
    gloss: str | None


def as_examples(seqs: Sequence[Any], target: str) -> list[Example]:
    """Examples from ``SignSequence`` objects or ``(poses, text)`` pairs.

    A SignSequence gives its ``target`` attribute (``"text"`` or ``"gloss"``) and its
    gloss (None if empty); a pair gives (poses, target string) and no gloss.
    """
    out = []
    for i, s in enumerate(seqs):
        if hasattr(s, "poses"):
            text, poses = getattr(s, target), s.poses
            gloss = getattr(s, "gloss", "") or None
        elif isinstance(s, (tuple, list)) and len(s) == 2:
            (poses, text), gloss = s, None
        else:
            raise TypeError(
                f"sequence {i}: expected a SignSequence or a (poses, text) pair, "
                f"got {type(s).__name__}"
            )
        if not isinstance(text, str):
            raise TypeError(f"sequence {i}: {target} must be a str")
        out.append(Example(np.asarray(poses), text, gloss))
    return out


def pad_poses(
    flat: Sequence[np.ndarray], device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames (T_i, F) -> zero-padded x (B, T_max, F) float32 and mask (B, T_max),
    True = real frame."""
    t_max = max(len(f) for f in flat)
    x = np.zeros((len(flat), t_max, flat[0].shape[1]), np.float32)
    mask = np.zeros((len(flat), t_max), bool)
    for i, f in enumerate(flat):
        x[i, : len(f)], mask[i, : len(f)] = f, True
    return torch.from_numpy(x).to(device), torch.from_numpy(mask).to(device)


def pad_ids(ids: Sequence[Sequence[int]], device: torch.device | str) -> torch.Tensor:
    """Id lists -> (B, L_max) long, ``<pad>``-padded (an empty list is all pad)."""
    out = torch.full((len(ids), max(1, *(len(i) for i in ids))), PAD_ID)
    for r, i in enumerate(ids):
        out[r, : len(i)] = torch.tensor(i, dtype=torch.long)
    return out.to(device)


def length_batches(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator | None
) -> list[np.ndarray]:
    """Batches of similar length (less padding); shuffled when ``rng`` is given."""
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    noisy = np.asarray(lengths) + rng.uniform(0, 8, len(lengths))  # vary the groups
    order = np.argsort(noisy, kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]
