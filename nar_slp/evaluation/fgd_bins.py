"""FGD and KID per frame interval and prefix on matched window counts (Table 2).

The per-bin rows of Table 2 and Fig. 4: :func:`fgd_by_interval` (intervals [a, b))
and :func:`fgd_by_prefix` (the first p frames), scored between pools cut to the same
number of windows. Features, the Fréchet distance (Eq. 12), KID and the bootstrap
are those of :mod:`nar_slp.evaluation.fgd` (:func:`~nar_slp.evaluation.fgd.
window_features`, :func:`~nar_slp.evaluation.fgd.fgd_from_features`).

Frame-length intervals (Table 2, Fig. 4). For an interval [a, b) each sequence
contributes its frames a .. min(b, T) - 1 (:func:`~nar_slp.evaluation.metrics.
slice_interval`), if it has at least ``tae.min_frames`` of them; generated and
reference sequences are sliced separately, each by its own length, so a generated
sequence longer than its reference still contributes to late intervals. Each slice is
windowed as in :mod:`nar_slp.evaluation.fgd` (with [0, 50) and W = 34: windows
[0, 34) and [16, 50)) and FGD is computed between the two pools of segments.
Prefixes ``~p`` are the intervals [0, p): FGD of the first p frames, where a NAR
model's false decoding initiation shows.

Matched window counts (per interval and prefix). The plug-in FGD of Eq. 12 is biased
upwards, and the bias grows as the pools shrink (two samples of ONE distribution
score > 0, more so when small). Late bins hold few windows, and each system is sliced
by its own length, so raw per-bin FGDs mix quality with pool size. Therefore each bin
scores exactly ``n`` windows per side, drawn without replacement from the generated
and from the reference pool (:func:`subsample_windows`, seeded by ``(seed, bin
index)``; the same seed on both sides, so equal-sized pools of the same sequences
draw the same windows and FGD(x, x) stays 0). ``n`` is min(generated pool, reference
pool) unless ``n_windows`` fixes it per bin, which is how systems are compared on one
count (:func:`common_window_counts` gives the smallest pool over all systems and the
reference). Rule for small bins: a bin whose ``n`` is below ``min_windows`` (default
:data:`MIN_WINDOWS_FACTOR` = 2 × the feature dimension Z; below ~Z the covariance is
singular and the bias dominates) — or whose pools cannot supply a fixed ``n`` — is
*insufficient*: ``"sufficient": False``, FGD and KID NaN, not scored.

Bootstrap. ``boot_counts`` resamples sentences as in :mod:`nar_slp.evaluation.fgd`.
In matched bins the subsample is drawn once and then resampled by sentence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from nar_slp.evaluation.fgd import (
    MIN_SEGMENTS,
    WindowFeatures,
    _check_paired,
    fgd_from_features,
    window_features,
)
from nar_slp.evaluation.tae import TAE, windows

DEFAULT_INTERVALS: tuple[tuple[int, int], ...] = (
    (0, 50),
    (50, 100),
    (100, 150),
    (150, 200),
)
DEFAULT_PREFIXES: tuple[int, ...] = (20, 40, 60, 80)
MIN_WINDOWS_FACTOR = 2.0  # a matched bin needs >= this × feature dim windows per side


def subsample_windows(feats: WindowFeatures, n: int, seed: Any) -> WindowFeatures:
    """``n`` of the windows of ``feats``, drawn without replacement, kept in their
    original order. ``seed`` goes to ``np.random.default_rng``: the same pool size,
    ``n`` and seed draw the same positions. ``n`` >= the pool size returns it whole."""
    size = len(feats.features)
    if n >= size:
        return feats
    idx = np.sort(np.random.default_rng(seed).choice(size, n, replace=False))
    return WindowFeatures(
        feats.features[idx], feats.sentence[idx], feats.n_excluded, feats.n_sequences
    )


def _insufficient(res: dict[str, Any], boot: bool, n_boot: int = 0) -> dict[str, Any]:
    res.update(fgd=math.nan, kid=math.nan, kid_std=math.nan)
    if boot:
        res.update(
            replicates=np.full(n_boot, math.nan),
            kid_replicates=np.full(n_boot, math.nan),
            fgd_se=math.nan,
            kid_se=math.nan,
            fgd_ci=(math.nan, math.nan),
            kid_ci=(math.nan, math.nan),
        )
    return res


def count_windows(
    seqs: Iterable[np.ndarray], tae: TAE, start: int = 0, stop: int | None = None
) -> int:
    """Number of FGD windows (>= ``tae.min_frames`` frames) that the frames [start,
    stop) of ``seqs`` give, as :func:`~nar_slp.evaluation.fgd.collect_segments` cuts
    them; no TAE pass. ``seqs``: pose arrays (T, ...) or plain lengths (int)."""
    total = 0
    for seq in seqs:
        t = (
            seq
            if isinstance(seq, (int, np.integer))
            else len(getattr(seq, "poses", seq))
        )
        length = max(0, min(t, t if stop is None else stop) - start)
        total += sum(
            len(w) >= tae.min_frames
            for w in windows(np.arange(length), tae.window, tae.stride)
        )
    return total


def common_window_counts(
    pools: Iterable[Sequence[np.ndarray]],
    tae: TAE,
    intervals: Sequence[tuple[int, int]] = DEFAULT_INTERVALS,
) -> dict[str, int]:
    """Per-bin window count shared by every pool: ``{"a-b": min over pools}``.

    Pass every system's outputs AND the reference; the result, given as
    ``n_windows`` to :func:`fgd_by_interval` / :func:`fgd_by_prefix` (intervals
    [0, p)), makes every system score each bin on the same number of windows.
    """
    pools = list(pools)
    return {
        interval_label(a, b): min(count_windows(p, tae, a, b) for p in pools)
        for a, b in intervals
    }


def interval_label(start: int, stop: int) -> str:
    """Column label of an interval, e.g. ``"0-50"``; prefixes [0, p) are ``"~p"``."""
    return f"{start}-{stop}"


def fgd_by_interval(
    generated: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    tae: TAE,
    normaliser: Any,
    intervals: Sequence[tuple[int, int]] = DEFAULT_INTERVALS,
    scale: float = 10.0,
    batch_size: int = 256,
    boot_counts: np.ndarray | None = None,
    n_windows: Mapping[str, int] | None = None,
    min_windows: int | None = None,
    match_counts: bool = True,
    seed: int = 0,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
) -> dict[str, dict[str, Any]]:
    """FGD (Eq. 12) and KID per frame-length interval [a, b) (Table 2 left, Fig. 4).

    For each interval, each generated and each reference sequence contributes its
    frames a .. min(b, T) - 1 if it has at least ``tae.min_frames`` of them; the slices
    are windowed, both pools are cut to the same number of windows and FGD × ``scale``
    and KID × 100 are computed between them (see "Matched window counts" in the
    module docstring). At 25 fps, [0, 50) is 0-2 s. ``boot_counts`` (n_boot, N) adds
    SEs and 95 % intervals (windows keep the sentence they were cut from, see
    :func:`fgd_from_features`).

    Args:
        n_windows: ``{"a-b": n}`` windows per side for a bin (e.g. from
            :func:`common_window_counts`, so all systems are scored on one count);
            a bin not in it (or None) uses min(generated pool, reference pool).
        min_windows: smallest ``n`` that is scored; None = ``MIN_WINDOWS_FACTOR`` ×
            the feature dimension (``cfg.eval.fgd_min_windows_factor``).
        match_counts: False = the unmatched pools, every window, bins need only 2
            windows per side (the rule before matching; for comparisons).
        seed: subsampling seed (bin k uses ``(seed, k)``) and KID seed.
        kid_subsets, kid_subset_size: :func:`nar_slp.evaluation.kid.kid`.

    Returns:
        ``{"a-b": {"fgd", "kid", "kid_std", "n" (windows scored per side),
        "sufficient", "min_windows", "n_generated", "n_reference" (pool sizes
        before subsampling), "excluded_generated", "excluded_reference", "start",
        "stop"}}`` (+ ``"fgd_se"``, ``"fgd_ci"``, ``"kid_se"``, ``"kid_ci"``) in the
        order of ``intervals``; an insufficient bin has NaN metrics.
    """
    _check_paired(generated, reference, boot_counts)
    out: dict[str, dict[str, Any]] = {}
    for k, (a, b) in enumerate(intervals):
        if not 0 <= a < b:
            raise ValueError(f"fgd_by_interval: bad interval [{a}, {b})")
        label = interval_label(a, b)
        gen = window_features(generated, tae, normaliser, a, b, batch_size)
        ref = window_features(reference, tae, normaliser, a, b, batch_size)
        pools = (len(gen.features), len(ref.features))
        if match_counts:
            floor = (
                math.ceil(MIN_WINDOWS_FACTOR * gen.features.shape[1])
                if min_windows is None
                else int(min_windows)
            )
            n = min(pools)
            if n_windows is not None and label in n_windows:
                # a fixed count the pools cannot supply: insufficient (n = -1)
                n = int(n_windows[label]) if n >= int(n_windows[label]) else -1
            gen = subsample_windows(gen, max(n, 0), (seed, k))
            ref = subsample_windows(ref, max(n, 0), (seed, k))
        else:
            floor, n = MIN_SEGMENTS, min(pools)
        res = (
            fgd_from_features(
                gen, ref, scale, boot_counts, kid_subsets, kid_subset_size, seed
            )
            if n >= floor
            else _insufficient(
                {
                    "n_generated": pools[0],
                    "n_reference": pools[1],
                    "excluded_generated": gen.n_excluded,
                    "excluded_reference": ref.n_excluded,
                },
                boot_counts is not None,
                0 if boot_counts is None else len(boot_counts),
            )
        )
        res.update(
            n_generated=pools[0],
            n_reference=pools[1],
            n=max(n, 0) if match_counts else None,
            sufficient=n >= floor,
            min_windows=floor,
            start=a,
            stop=b,
        )
        out[label] = res
    return out


def fgd_by_prefix(
    generated: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    tae: TAE,
    normaliser: Any,
    prefixes: Sequence[int] = DEFAULT_PREFIXES,
    scale: float = 10.0,
    batch_size: int = 256,
    boot_counts: np.ndarray | None = None,
    n_windows: Mapping[str, int] | None = None,
    **kwargs: Any,
) -> dict[str, dict[str, Any]]:
    """FGD and KID of the first p frames, frames 0 .. p - 1 (Table 2 right, "short
    intervals").

    Exactly :func:`fgd_by_interval` with intervals [0, p) (same matched counts and
    keyword arguments); keys are ``"~p"`` and ``n_windows`` may use ``"~p"`` or
    ``"0-p"``. At 25 fps ``~20`` is the first 0.8 s, where false decoding
    initiation shows.
    """
    fixed = None
    if n_windows is not None:
        fixed = {
            (interval_label(0, int(k[1:])) if k.startswith("~") else k): v
            for k, v in n_windows.items()
        }
    res = fgd_by_interval(
        generated,
        reference,
        tae,
        normaliser,
        [(0, p) for p in prefixes],
        scale,
        batch_size,
        boot_counts,
        n_windows=fixed,
        **kwargs,
    )
    return {f"~{p}": res[interval_label(0, p)] for p in prefixes}
