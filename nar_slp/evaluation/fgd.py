"""Fréchet Gesture Distance (§5.1, Eq. 12) of whole sequences (Table 1).

    FGD(Y, Ŷ) = ||mu_r - mu_g||^2 + Tr(Sigma_r + Sigma_g - 2 (Sigma_r Sigma_g)^(1/2))
                                                                              (Eq. 12)

where (mu, Sigma) are the mean and covariance of TAE features (``tae.py``) of windows
of real (r) and generated (g) pose sequences. Tables report FGD × ``scale``
(``cfg.eval.fgd_scale`` = 10, the paper's "†").

Inputs. Every function takes poses as lists of numpy arrays (T, 50, 3) in ORIGINAL PT
coordinates, from any source (our models, the baselines, a PT folder written by another
system), and normalises them internally with the ``normaliser`` it is given. That must
be the Normaliser fitted on the ground-truth training split, the one the TAE was
trained with.

Segments. A sequence is cut by :func:`nar_slp.evaluation.tae.windows`: full W-frame
windows every ``stride`` frames plus one window aligned to the end; a sequence shorter
than W is one short segment. Segments shorter than ``tae.min_frames`` (8 by default)
are excluded and counted. No zero-padded frame ever reaches a feature (masked pooling).
FGD per frame interval and prefix (Table 2) is :mod:`nar_slp.evaluation.fgd_bins`.

KID. Every result also carries the Kernel Inception Distance (:mod:`nar_slp.
evaluation.kid`, unbiased, so its expectation does not depend on the pool size) × 100,
from the same windows, as ``"kid"`` (mean over subsets) and ``"kid_std"`` (std over
subsets).

Bootstrap. Every segment remembers the sentence (index into the input list) it was
cut from (:class:`WindowFeatures`). Features are computed once; the point estimate and
every bootstrap resample go through one function, :func:`fgd_from_features`, which
repeats each sentence's windows as often as the resample drew the sentence and
recomputes only means, covariances and the Fréchet distance. Resampling is paired:
generated and reference windows of sentence i get the same weight, so the lists must
be parallel (``len(generated) == len(reference)``) when ``boot_counts`` is given.
Bootstrap results carry the SE (``"fgd_se"``, ``"kid_se"``) and the 95 % percentile
interval (``"fgd_ci"``, ``"kid_ci"``, :func:`nar_slp.bootstrap.percentile_interval`).
Caveat: a resample repeats windows, which has the effect of a smaller pool, so FGD
replicates carry a larger plug-in bias than the point estimate; for systems near the
real-data floor (bias-dominated) the percentile interval can lie entirely above the
estimate. Compare systems through paired differences of replicates (the bias is
shared), not by overlapping intervals.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg

from nar_slp.bootstrap import percentile_interval, se_from_replicates
from nar_slp.evaluation.kid import KID_SCALE, kid, kid_replicates
from nar_slp.evaluation.metrics import slice_interval
from nar_slp.evaluation.tae import TAE, encode_segments, normalise_flat, windows

MIN_SEGMENTS = 2  # a covariance needs at least two samples


def frechet_distance(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    eps: float = 1e-6,
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (Eq. 12).

    ``||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))`` with the
    matrix square root from ``scipy.linalg.sqrtm``. Safeguards: if the square root is
    not finite or scipy reports the product singular (e.g. fewer samples than feature
    dimensions), ``eps * I`` is added to both covariances and it is recomputed; a
    complex result is reduced to its real part unless the imaginary part of its
    diagonal exceeds 1e-3 (then ``ValueError``). Identical
    inputs return exactly 0.0; tiny negative round-off results are clipped to 0.

    Args:
        mu1, mu2: (D,) means. sigma1, sigma2: (D, D) covariances.
    """
    mu1, mu2 = (
        np.atleast_1d(np.asarray(mu1, np.float64)),
        np.atleast_1d(np.asarray(mu2, np.float64)),
    )
    sigma1, sigma2 = (
        np.atleast_2d(np.asarray(sigma1, np.float64)),
        np.atleast_2d(np.asarray(sigma2, np.float64)),
    )
    d = mu1.shape[0]
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"frechet_distance: shapes mu1 {mu1.shape}, sigma1 {sigma1.shape}, "
            f"mu2 {mu2.shape}, sigma2 {sigma2.shape} do not match"
        )
    if np.array_equal(mu1, mu2) and np.array_equal(sigma1, sigma2):
        return 0.0
    diff = mu1 - mu2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    singular = any(issubclass(w.category, scipy.linalg.LinAlgWarning) for w in caught)
    if singular or not np.isfinite(covmean).all():
        offset = np.eye(d) * eps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
        if not np.isfinite(covmean).all():
            raise ValueError("frechet_distance: sqrtm is not finite even with eps * I")
    if np.iscomplexobj(covmean):
        max_imag = np.max(np.abs(np.diagonal(covmean).imag))
        if max_imag > 1e-3:
            raise ValueError(
                "frechet_distance: sqrtm has a large imaginary component "
                f"{max_imag:.3g}"
            )
        covmean = covmean.real
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))


def feature_stats(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of features (N, D), N >= 2."""
    feats = np.asarray(feats, np.float64)
    if feats.ndim != 2 or feats.shape[0] < MIN_SEGMENTS:
        raise ValueError(f"feature_stats needs (N >= 2, D) features, got {feats.shape}")
    return feats.mean(0), np.cov(feats, rowvar=False).reshape(feats.shape[1], -1)


@dataclass
class Segments:
    """Normalised segments (T_i, F) of a set of sequences, and what was left out."""

    segments: list[np.ndarray]
    n_excluded: int  # segments shorter than tae.min_frames
    n_sequences: int  # sequences that contributed at least one segment
    # (N_seg,) index into the input list of the sequence each segment was cut from
    sentence: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass
class WindowFeatures:
    """TAE features of the windows of a set of sequences, with their sentence ids."""

    features: np.ndarray  # (N_seg, Z) float64
    sentence: np.ndarray  # (N_seg,) int64 index of the sequence each window came from
    n_excluded: int  # segments shorter than tae.min_frames
    n_sequences: int  # sequences that contributed at least one segment


def collect_segments(
    seqs: Sequence[np.ndarray],
    tae: TAE,
    normaliser: Any,
    start: int = 0,
    stop: int | None = None,
) -> Segments:
    """Slice each sequence to frames [start, stop), window it and normalise.

    Args:
        seqs: pose arrays (T, 50, 3) in PT coordinates (or objects with ``.poses``).
        tae: supplies ``window``, ``stride`` and ``min_frames``.
        normaliser: the ground-truth training Normaliser.
        start, stop: frame interval; ``stop=None`` = to the end. Sequences with no
            frame in it contribute nothing and are not counted as excluded.
    """
    out: list[np.ndarray] = []
    sentence: list[int] = []
    excluded = contributing = 0
    for i, seq in enumerate(seqs):
        poses = np.asarray(getattr(seq, "poses", seq))
        part = slice_interval(poses, start, len(poses) if stop is None else stop)
        if len(part) == 0:
            continue
        segs = windows(normalise_flat(part, normaliser), tae.window, tae.stride)
        kept = [s for s in segs if len(s) >= tae.min_frames]
        excluded += len(segs) - len(kept)
        if kept:
            contributing += 1
            out += kept
            sentence += [i] * len(kept)
    return Segments(out, excluded, contributing, np.asarray(sentence, np.int64))


def window_features(
    seqs: Sequence[np.ndarray],
    tae: TAE,
    normaliser: Any,
    start: int = 0,
    stop: int | None = None,
    batch_size: int = 256,
) -> WindowFeatures:
    """:func:`collect_segments` then one TAE pass: features (N_seg, Z) with the
    sentence id of each window. Arguments as :func:`collect_segments`.

    The features of the last few (sequences, TAE, interval) are kept in memory: the
    harness scores every system against the same reference sequences, whose features
    are then computed once per interval. The key holds the identities of the arrays
    (kept alive by the cache) and the TAE's parameter version, so a retrained or
    modified TAE or different sequences never hit a stale entry.
    """
    version = sum(t._version for t in (*tae.parameters(), *tae.buffers()))
    key = (id(tae), version, id(normaliser), start, stop, tuple(map(id, seqs)))
    hit = _FEATURE_CACHE.get(key)
    if hit is not None:
        return hit[1]
    segs = collect_segments(seqs, tae, normaliser, start, stop)
    feats = encode_segments(tae, segs.segments, batch_size)
    out = WindowFeatures(feats, segs.sentence, segs.n_excluded, segs.n_sequences)
    if len(_FEATURE_CACHE) >= _FEATURE_CACHE_SIZE:
        _FEATURE_CACHE.pop(next(iter(_FEATURE_CACHE)))
    _FEATURE_CACHE[key] = (list(seqs), out)
    return out


_FEATURE_CACHE: dict[tuple, tuple[list, WindowFeatures]] = {}
_FEATURE_CACHE_SIZE = 32


def features(
    tae: TAE, seqs: Sequence[np.ndarray], normaliser: Any, batch_size: int = 256
) -> np.ndarray:
    """TAE features (N, Z) of all segments of ``seqs`` (PT coordinates, see above)."""
    return window_features(seqs, tae, normaliser, batch_size=batch_size).features


def _scaled_fgd(fg: np.ndarray, fr: np.ndarray, scale: float) -> float:
    """``scale`` × FGD of generated (N_g, Z) vs reference (N_r, Z) features; NaN if a
    side has fewer than 2 rows."""
    if len(fg) < MIN_SEGMENTS or len(fr) < MIN_SEGMENTS:
        return math.nan
    return scale * frechet_distance(*feature_stats(fr), *feature_stats(fg))


def fgd_from_features(
    gen: WindowFeatures,
    ref: WindowFeatures,
    scale: float = 10.0,
    boot_counts: np.ndarray | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """FGD × ``scale`` and KID × 100 from window features, optionally bootstrapped.

    The point estimate uses every window once. Resample b weights sentence i by
    ``boot_counts[b, i]``: each of its windows (generated and reference alike) is
    repeated that many times and FGD is recomputed from those features, so a window
    counts exactly as often as the sentence it was cut from (KID: the same weights
    in a weighted U-statistic, :func:`nar_slp.evaluation.kid.kid_replicates`).

    Args:
        gen, ref: features with sentence ids from :func:`window_features`.
        scale: ``cfg.eval.fgd_scale``.
        boot_counts: (n_boot, N) sentence counts from
            :func:`nar_slp.bootstrap.bootstrap_counts`, N the number of
            (paired) sequences; ``None`` = no bootstrap.
        kid_subsets, kid_subset_size, seed: :func:`nar_slp.evaluation.kid.kid`
            (``cfg.eval.fgd_kid_subsets`` / ``fgd_kid_subset_size``).

    Returns:
        ``{"fgd", "kid", "kid_std", "n_generated", "n_reference",
        "excluded_generated", "excluded_reference"}`` plus, when ``boot_counts`` is
        given, ``"fgd_se"``, ``"kid_se"`` (std over resamples, ddof=1, in the
        reported units; NaN if ``n_boot`` < 2) and ``"fgd_ci"``, ``"kid_ci"`` (95 %
        percentile intervals), ``"replicates"`` and ``"kid_replicates"`` (the
        (n_boot,) values, NaN where a resample leaves a side with < 2 windows;
        the SE and interval skip those).
    """
    k_mean, k_std = kid(gen.features, ref.features, kid_subsets, kid_subset_size, seed)
    result: dict[str, Any] = {
        "fgd": _scaled_fgd(gen.features, ref.features, scale),
        "kid": KID_SCALE * k_mean,
        "kid_std": KID_SCALE * k_std,
        "n_generated": len(gen.features),
        "n_reference": len(ref.features),
        "excluded_generated": gen.n_excluded,
        "excluded_reference": ref.n_excluded,
    }
    if boot_counts is None:
        return result
    n = boot_counts.shape[1]
    for side in (gen, ref):
        if len(side.sentence) and side.sentence.max() >= n:
            raise ValueError(
                f"fgd_from_features: a window of sentence {side.sentence.max()} but "
                f"boot_counts cover {n} sentences"
            )
    replicates = [
        _scaled_fgd(
            np.repeat(gen.features, counts[gen.sentence], axis=0),
            np.repeat(ref.features, counts[ref.sentence], axis=0),
            scale,
        )
        for counts in boot_counts
    ]
    kid_reps = KID_SCALE * kid_replicates(
        gen.features, gen.sentence, ref.features, ref.sentence, boot_counts
    )
    result["fgd_se"] = se_from_replicates(replicates)
    result["fgd_ci"] = percentile_interval(replicates)
    result["kid_se"] = se_from_replicates(kid_reps)
    result["kid_ci"] = percentile_interval(kid_reps)
    # per-resample values, for paired differences between systems (claims.py)
    result["replicates"] = np.asarray(replicates, np.float64)  # (n_boot,) FGD
    result["kid_replicates"] = kid_reps  # (n_boot,) KID × 100
    return result


def _check_paired(generated: Sequence, reference: Sequence, boot: Any) -> None:
    if boot is not None and len(generated) != len(reference):
        raise ValueError(
            f"FGD bootstrap pairs sentences: {len(generated)} generated but "
            f"{len(reference)} reference sequences"
        )


def fgd_report(
    generated: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    tae: TAE,
    normaliser: Any,
    scale: float = 10.0,
    batch_size: int = 256,
    boot_counts: np.ndarray | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """FGD × ``scale`` and KID × 100 of whole sequences, with segment counts.

    All windows of both sides are used (no count matching: whole test sets have
    comparable pools). ``boot_counts`` (n_boot, N) adds SEs and 95 % intervals, see
    :func:`fgd_from_features` (the lists must then be parallel).

    Returns:
        ``{"fgd", "kid", "kid_std", "n_generated", "n_reference",
        "excluded_generated", "excluded_reference"}`` (+ ``"fgd_se"``, ``"fgd_ci"``,
        ``"kid_se"``, ``"kid_ci"``); ``fgd`` is NaN if a side has < 2 segments.
    """
    _check_paired(generated, reference, boot_counts)
    gen = window_features(generated, tae, normaliser, batch_size=batch_size)
    ref = window_features(reference, tae, normaliser, batch_size=batch_size)
    return fgd_from_features(
        gen, ref, scale, boot_counts, kid_subsets, kid_subset_size, seed
    )


def fgd(
    generated: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    tae: TAE,
    normaliser: Any,
    scale: float = 10.0,
    batch_size: int = 256,
) -> float:
    """FGD × ``scale`` (Eq. 12; scale = ``cfg.eval.fgd_scale`` = 10 as Table 1's †).

    Args:
        generated, reference: lists of (T, 50, 3) arrays in PT coordinates; the lists
            may differ in size and the sequences in length.
        tae: trained TAE; normaliser: the ground-truth training Normaliser.

    ``fgd(x, x, ...)`` is exactly 0. Raises ``ValueError`` if a side has fewer than two
    segments of at least ``tae.min_frames`` frames.
    """
    report = fgd_report(generated, reference, tae, normaliser, scale, batch_size)
    if math.isnan(report["fgd"]):
        raise ValueError(
            f"fgd: need >= {MIN_SEGMENTS} segments of >= {tae.min_frames} frames on "
            f"each side; got {report['n_generated']} generated, "
            f"{report['n_reference']} reference"
        )
    return float(report["fgd"])
