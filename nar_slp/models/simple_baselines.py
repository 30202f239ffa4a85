"""The bottom baselines of Table 1 (§4.4): Mean and Random.

"To set the bottom baselines, we employ two different models, Mean and Random, each
generating the mean pose and a randomly selected pose sequence from the training set."

- :class:`MeanPoseBaseline` repeats the mean training pose (the per-joint mean over all
  training frames). The paper does not say how long its output is. We give it the
  ground-truth length when the caller passes ``lengths`` (what the evaluation chapter
  does), so that FGD/BT measure pose quality only and the length is not a free
  penalty; without ``lengths`` it uses the mean training length (rounded).
- :class:`RandomBaseline` returns a whole training sequence drawn uniformly at random
  (with replacement), at its own length; ``lengths`` is accepted for a uniform
  interface and ignored.

Both work in PT coordinates: inputs and outputs are arrays (T, 50, 3) float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _as_poses(train: Sequence[Any]) -> list[np.ndarray]:
    seqs = [np.asarray(getattr(s, "poses", s), dtype=np.float32) for s in train]
    if not seqs:
        raise ValueError("baseline: no training sequences given")
    for i, s in enumerate(seqs):
        if s.ndim != 3 or len(s) == 0:
            raise ValueError(f"baseline: training sequence {i} has shape {s.shape}")
    return seqs


def _count(texts_or_n: Sequence[str] | int) -> int:
    if isinstance(texts_or_n, (int, np.integer)):
        if texts_or_n < 0:
            raise ValueError(f"generate: n must be >= 0, got {texts_or_n}")
        return int(texts_or_n)
    return len(texts_or_n)


class MeanPoseBaseline:
    """Repeats the mean training pose (see the module docstring)."""

    def __init__(self, train: Sequence[Any]) -> None:
        """Args: train: training sequences, arrays (T, J, K) or objects with .poses."""
        seqs = _as_poses(train)
        frames = np.concatenate(seqs)  # (sum T, J, K)
        self.mean_pose = frames.mean(0, dtype=np.float64).astype(np.float32)  # (J, K)
        self.mean_length = max(1, int(round(np.mean([len(s) for s in seqs]))))

    def generate(
        self, texts_or_n: Sequence[str] | int, lengths: Sequence[int] | None = None
    ) -> list[np.ndarray]:
        """One (T_i, J, K) sequence per text (or ``n`` of them).

        T_i = ``lengths[i]`` if given (the evaluation passes the ground-truth
        lengths), else the mean training length.
        """
        n = _count(texts_or_n)
        if lengths is not None and len(lengths) != n:
            raise ValueError(f"generate: {n} inputs but {len(lengths)} lengths")
        lens = (
            [int(t) for t in lengths] if lengths is not None else [self.mean_length] * n
        )
        if any(t < 1 for t in lens):
            raise ValueError("generate: lengths must be >= 1 frame")
        return [np.repeat(self.mean_pose[None], t, axis=0) for t in lens]


class RandomBaseline:
    """Returns randomly chosen training sequences (see the module docstring)."""

    def __init__(self, train: Sequence[Any], seed: int = 0) -> None:
        """Args: train: training sequences; seed: for the draws (reproducible order)."""
        self.train = _as_poses(train)
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def generate(
        self, texts_or_n: Sequence[str] | int, lengths: Sequence[int] | None = None
    ) -> list[np.ndarray]:
        """One training sequence (copied, its own length) per text; ``lengths``
        is ignored. Successive calls continue the seeded random stream."""
        n = _count(texts_or_n)
        idx = self.rng.integers(0, len(self.train), size=n)
        return [self.train[i].copy() for i in idx]
