"""Plain helpers shared by several test modules (not tests themselves).

Import with ``from helpers import random_walk``: pytest's default ``prepend`` import
mode puts ``tests/`` on ``sys.path`` because the folder has no ``__init__.py``.
"""

from __future__ import annotations

import numpy as np

from nar_slp.config import Config, get_config
from nar_slp.skeleton import NUM_COORDS, NUM_JOINTS


def random_walk(
    n_frames: int,
    seed: int,
    *,
    step: float = 0.01,
    base: float | None = 0.2,
    n_joints: int = 50,
) -> np.ndarray:
    """A ``(n_frames, n_joints, 3)`` float32 random-walk pose sequence in PT-like units.

    With ``base`` a per-joint start offset ``N(0, base)`` of shape ``(1, n_joints, 3)``
    is drawn first, then the ``N(0, step)`` increments; ``base=None`` skips that draw,
    so the walk starts at the origin and the increments take the first RNG values.
    """
    rng = np.random.default_rng(seed)
    start = None if base is None else rng.normal(0, base, (1, n_joints, 3))
    walk = np.cumsum(rng.normal(0, step, (n_frames, n_joints, 3)), axis=0)
    if start is not None:
        walk = start + walk
    return walk.astype(np.float32)


def drifting_pose(t: int, seed: int = 0) -> np.ndarray:
    """(T, J, K): random distinct joints drifting right by 0.01 per frame."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-0.4, 0.5, (NUM_JOINTS, NUM_COORDS))
    drift = np.zeros((t, 1, NUM_COORDS))
    drift[:, 0, 0] = 0.01 * np.arange(t)
    return (base[None] + drift).astype(np.float32)


def tiny_student_config(encoder: str, **overrides) -> Config:
    """The smoke preset with a tiny student over ``encoder`` (e.g. the session's tiny
    BERT folder), 16-frame sequences and an 8-dimensional VAE latent; ``overrides``
    are further ``"section.field"`` settings."""
    return get_config(
        "smoke",
        **{
            "student.text_encoder": encoder,
            "data.max_frames": 16,
            "vae.latent_dim": 8,
            "vae.hidden": (16, 16),
            **overrides,
        },
    )
