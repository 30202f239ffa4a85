"""Fréchet Gesture Distance (§5.1, Eq. 12), overall and per frame interval (Table 2).

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

Frame-length intervals (Table 2, Fig. 4). For an interval [a, b) each sequence
contributes its frames a .. min(b, T) - 1 (:func:`~nar_slp.evaluation.metrics.
slice_interval`), if it has at least ``tae.min_frames`` of them; generated and
reference sequences are sliced separately, each by its own length, so a generated
sequence longer than its reference still contributes to late intervals. Each slice is
windowed as above (with [0, 50) and W = 34: windows [0, 34) and [16, 50)) and FGD is
computed between the two pools of segments. Prefixes ``~p`` are the intervals [0, p):
FGD of the first p frames, where a NAR model's false decoding initiation shows.
A bin with fewer than 2 segments on either side returns FGD = NaN with the counts.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from nar_slp.evaluation.metrics import slice_interval
from nar_slp.evaluation.tae import TAE, encode_segments, normalise_flat, windows

DEFAULT_INTERVALS: tuple[tuple[int, int], ...] = (
    (0, 50),
    (50, 100),
    (100, 150),
    (150, 200),
)
DEFAULT_PREFIXES: tuple[int, ...] = (20, 40, 60, 80)
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
    excluded = contributing = 0
    for seq in seqs:
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
    return Segments(out, excluded, contributing)


def features(
    tae: TAE, seqs: Sequence[np.ndarray], normaliser: Any, batch_size: int = 256
) -> np.ndarray:
    """TAE features (N, Z) of all segments of ``seqs`` (PT coordinates, see above)."""
    return encode_segments(
        tae, collect_segments(seqs, tae, normaliser).segments, batch_size
    )


def _fgd_of(gen: Segments, ref: Segments, tae: TAE, scale: float, batch: int) -> dict:
    result = {
        "fgd": math.nan,
        "n_generated": len(gen.segments),
        "n_reference": len(ref.segments),
        "excluded_generated": gen.n_excluded,
        "excluded_reference": ref.n_excluded,
    }
    if len(gen.segments) < MIN_SEGMENTS or len(ref.segments) < MIN_SEGMENTS:
        return result
    fg = encode_segments(tae, gen.segments, batch)
    fr = encode_segments(tae, ref.segments, batch)
    result["fgd"] = scale * frechet_distance(*feature_stats(fr), *feature_stats(fg))
    return result


def fgd_report(
    generated: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    tae: TAE,
    normaliser: Any,
    scale: float = 10.0,
    batch_size: int = 256,
) -> dict[str, float | int]:
    """FGD × ``scale`` of whole sequences, with segment counts.

    Returns:
        ``{"fgd", "n_generated", "n_reference", "excluded_generated",
        "excluded_reference"}``; ``fgd`` is NaN if a side has < 2 segments.
    """
    gen = collect_segments(generated, tae, normaliser)
    ref = collect_segments(reference, tae, normaliser)
    return _fgd_of(gen, ref, tae, scale, batch_size)


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
) -> dict[str, dict[str, float | int]]:
    """FGD per frame-length interval [a, b) (Table 2 left, Fig. 4).

    For each interval, each generated and each reference sequence contributes its
    frames a .. min(b, T) - 1 if it has at least ``tae.min_frames`` of them; the slices
    are windowed and FGD × ``scale`` is computed between the two pools (see the
    module docstring). At 25 fps, [0, 50) is 0-2 s.

    Returns:
        ``{"a-b": {"fgd", "n_generated", "n_reference", "excluded_generated",
        "excluded_reference", "start", "stop"}}`` in the order of ``intervals``;
        ``fgd`` is NaN when a side has fewer than 2 segments.
    """
    out: dict[str, dict[str, float | int]] = {}
    for a, b in intervals:
        if not 0 <= a < b:
            raise ValueError(f"fgd_by_interval: bad interval [{a}, {b})")
        gen = collect_segments(generated, tae, normaliser, a, b)
        ref = collect_segments(reference, tae, normaliser, a, b)
        res = _fgd_of(gen, ref, tae, scale, batch_size)
        res.update(start=a, stop=b)
        out[interval_label(a, b)] = res
    return out


def fgd_by_prefix(
    generated: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    tae: TAE,
    normaliser: Any,
    prefixes: Sequence[int] = DEFAULT_PREFIXES,
    scale: float = 10.0,
    batch_size: int = 256,
) -> dict[str, dict[str, float | int]]:
    """FGD of the first p frames, frames 0 .. p - 1 (Table 2 right, "short intervals").

    Exactly :func:`fgd_by_interval` with intervals [0, p); keys are ``"~p"``. At 25 fps
    ``~20`` is the first 0.8 s, where false decoding initiation shows.
    """
    res = fgd_by_interval(
        generated,
        reference,
        tae,
        normaliser,
        [(0, p) for p in prefixes],
        scale,
        batch_size,
    )
    return {f"~{p}": res[interval_label(0, p)] for p in prefixes}
