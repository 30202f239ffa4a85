"""Sanity table for FGD (§5.1, Eq. 12) and KID: how they respond to known damage.

Before FGD differences between systems are read as quality differences, the metric
should be seen to (i) be near its floor for two independent samples of real signing
and (ii) grow monotonically with controlled damage to the ground truth. This module
scores the ground truth ``ref_a`` against perturbed copies of itself:

- Gaussian noise of standard deviation σ (PT units) on every coordinate of every frame
  of the joints that move (a joint constant over all of ``ref_a``, the neck at the
  origin of PT skeletons, stays fixed: it is not motion, and the TAE drops it);
- a time shift (delayed start) by k frames: the first frame is held k frames and the
  last k frames are dropped, so lengths do not change;
- an amplitude shrink towards each sequence's mean pose by a fraction α:
  y' = m + (1 - α)(y - m), m the per-sequence mean pose (25 % and 50 %);
- temporal smoothing: centred moving average over w frames (edges repeat the first /
  last frame), w = 5 and 9;

and adds the real-vs-real floor: the ground truth of another split (``ref_b``, e.g.
GT dev) against ``ref_a`` (e.g. GT test). All rows use the same TAE features of
``ref_a`` (computed once); FGD × ``cfg.eval.fgd_scale`` and KID × 100 as in
:mod:`nar_slp.evaluation.fgd`. SEs are paired sentence-bootstrap SEs for perturbed
rows (sentence i against its own perturbation) and independent resamples of both
splits for the floor row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nar_slp.bootstrap import bootstrap_counts
from nar_slp.config import Config
from nar_slp.evaluation.fgd import WindowFeatures, fgd_from_features, window_features
from nar_slp.results_table import ResultsTable

COLUMNS = ("FGD", "FGD SE", "KID", "KID SE", "windows")


def add_noise(
    poses: np.ndarray,
    sigma: float,
    rng: np.random.Generator,
    moving: np.ndarray | None = None,
) -> np.ndarray:
    """(T, J, K) + N(0, sigma²) per value (PT units), only on joints where
    ``moving`` (J,) is True (None = all joints)."""
    noise = rng.normal(0.0, sigma, poses.shape).astype(poses.dtype)  # (T, J, K)
    if moving is not None:
        noise *= np.asarray(moving, poses.dtype)[None, :, None]
    return poses + noise


def delay(poses: np.ndarray, k: int) -> np.ndarray:
    """Hold the first frame for ``k`` frames, drop the last ``k``: same length T."""
    k = min(k, len(poses))
    return np.concatenate([np.repeat(poses[:1], k, 0), poses[: len(poses) - k]])


def shrink(poses: np.ndarray, fraction: float) -> np.ndarray:
    """Move every frame ``fraction`` of the way to the sequence's mean pose."""
    mean = poses.mean(0, keepdims=True)  # (1, J, K)
    return mean + (1.0 - fraction) * (poses - mean)


def smooth(poses: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over ``width`` (odd) frames; edges repeat end frames."""
    if width < 1 or width % 2 == 0:
        raise ValueError(f"smooth: width must be odd and >= 1, got {width}")
    half = width // 2
    padded = np.concatenate(
        [np.repeat(poses[:1], half, 0), poses, np.repeat(poses[-1:], half, 0)]
    )  # (T + 2·half, J, K)
    csum = np.cumsum(np.concatenate([np.zeros_like(poses[:1]), padded]), axis=0)
    return ((csum[width:] - csum[:-width]) / width).astype(poses.dtype)  # (T, J, K)


def _offset(feats: WindowFeatures, by: int) -> WindowFeatures:
    return WindowFeatures(
        feats.features, feats.sentence + by, feats.n_excluded, feats.n_sequences
    )


def perturbation_table(
    ref_a: Sequence[np.ndarray],
    ref_b: Sequence[np.ndarray],
    tae: Any,
    normaliser: Any,
    cfg: Config,
    noise: Sequence[float] = (0.005, 0.01, 0.02, 0.05),
    shifts: Sequence[int] = (3, 10),
    shrinks: Sequence[float] = (0.25, 0.5),
    smoothing: Sequence[int] = (5, 9),
    n_boot: int = 100,
    seed: int = 0,
    labels: tuple[str, str] = ("GT test", "GT dev"),
) -> ResultsTable:
    """FGD and KID of the ground truth against perturbed ground truth (module docs).

    Args:
        ref_a: ground-truth sequences (T, 50, 3), PT coordinates (the reference).
        ref_b: ground truth of another split, for the real-vs-real floor.
        tae, normaliser: the trained TAE and the GT-training Normaliser.
        cfg: uses ``cfg.eval.fgd_scale``, ``fgd_kid_subsets``,
            ``fgd_kid_subset_size``.
        noise: Gaussian σ in PT units; shifts: frames; shrinks: fractions;
            smoothing: odd window widths in frames.
        n_boot: bootstrap resamples for the SE columns (0 = no SE).
        seed: noise and bootstrap seed.
        labels: names of ``ref_a`` and ``ref_b`` used in the row names.

    Returns:
        A :class:`~nar_slp.evaluation.tables.ResultsTable` with columns
        ``FGD, FGD SE, KID, KID SE, windows`` (windows = generated-side count),
        groups "floor", "noise", "time shift", "amplitude", "smoothing".
    """
    ec = cfg.eval
    args = {
        "scale": ec.fgd_scale,
        "kid_subsets": ec.fgd_kid_subsets,
        "kid_subset_size": ec.fgd_kid_subset_size,
        "seed": seed,
    }
    ref_a = [np.asarray(getattr(p, "poses", p), np.float32) for p in ref_a]
    ref_b = [np.asarray(getattr(p, "poses", p), np.float32) for p in ref_b]
    fa = window_features(ref_a, tae, normaliser)
    paired = bootstrap_counts(len(ref_a), n_boot, seed) if n_boot else None
    table = ResultsTable(
        list(COLUMNS),
        title=f"FGD/KID sanity: {labels[0]} vs perturbed {labels[0]}",
        formats={"windows": "{:.0f}", "KID": "{:.3f}", "KID SE": "{:.3f}"},
    )

    def add(
        system: str, group: str, feats: WindowFeatures, ref: WindowFeatures, counts: Any
    ) -> None:
        res = fgd_from_features(feats, ref, boot_counts=counts, **args)
        table.add_row(
            system,
            group,
            {
                "FGD": res["fgd"],
                "FGD SE": res.get("fgd_se"),
                "KID": res["kid"],
                "KID SE": res.get("kid_se"),
                "windows": res["n_generated"],
            },
        )

    # floor: ref_b's sentences are 0..N_b-1, ref_a's N_b..N_b+N_a-1, each split
    # resampled on its own (the pools are not paired)
    fb = window_features(ref_b, tae, normaliser)
    floor_counts = None
    if n_boot:
        floor_counts = np.hstack(
            [
                bootstrap_counts(len(ref_b), n_boot, seed + 1),
                bootstrap_counts(len(ref_a), n_boot, seed),
            ]
        )  # (n_boot, N_b + N_a)
    floor_name = f"real vs real ({labels[1]} vs {labels[0]})"
    add(floor_name, "floor", fb, _offset(fa, len(ref_b)), floor_counts)
    add(f"{labels[0]} vs itself", "floor", fa, fa, paired)

    rng = np.random.default_rng(seed)
    frames = np.concatenate(ref_a)  # (sum T, J, K)
    moving = (frames.max(0) > frames.min(0)).any(-1)  # (J,) False for the origin
    perturbations: list[tuple[str, str, Callable[[np.ndarray], np.ndarray]]] = []
    perturbations += [
        (f"noise σ={s:g}", "noise", lambda p, s=s: add_noise(p, s, rng, moving))
        for s in noise
    ]
    perturbations += [
        (f"delayed start {k} frames", "time shift", lambda p, k=k: delay(p, k))
        for k in shifts
    ]
    perturbations += [
        (f"shrink {100 * a:g} % to mean pose", "amplitude", lambda p, a=a: shrink(p, a))
        for a in shrinks
    ]
    perturbations += [
        (f"moving average {w} frames", "smoothing", lambda p, w=w: smooth(p, w))
        for w in smoothing
    ]
    for name, group, fn in perturbations:
        feats = window_features([fn(p) for p in ref_a], tae, normaliser)
        add(name, group, feats, fa, paired)
    return table
