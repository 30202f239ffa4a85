"""Bootstrap standard errors over sentences, shared by every metric and report.

A run's results are compared with committed results within a tolerance derived from
bootstrap intervals, so each metric of :func:`nar_slp.evaluation.harness.
evaluate_output` also reports a bootstrap standard error. One resample draws N sentence
indices with replacement; it is stored as a row of *counts* (how often each sentence
was drawn), so that every metric can be recomputed from per-sentence quantities that
were computed once:

    mean metrics (ROUGE-L, DurACC, DTW-MJE):  counts @ values / N
    corpus BLEU:                              counts @ per-sentence n-gram statistics
    FGD:                                      windows repeated count[sentence] times

Resampling is *paired*: the same counts weight the generated and the reference side.
The standard error is the standard deviation over resamples (``ddof=1``); the 95 %
confidence interval is the percentile interval of the same resamples
(:func:`percentile_interval`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def bootstrap_counts(n: int, n_boot: int, seed: int = 0) -> np.ndarray:
    """Sentence counts of ``n_boot`` resamples of ``n`` sentences with replacement.

    Args:
        n: number of sentences (N >= 1).
        n_boot: number of resamples (0 switches the bootstrap off).
        seed: seed of ``np.random.default_rng``; the same (n, n_boot, seed) gives the
            same counts.

    Returns:
        (n_boot, N) int64 array; row b, column i = times sentence i is in resample b
        (each row sums to N). Resample b is the b-th index draw of
        :func:`bootstrap_se` with the same seed.
    """
    if n < 1 or n_boot < 0:
        raise ValueError(
            f"bootstrap_counts: need n >= 1, n_boot >= 0; got {n}, {n_boot}"
        )
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_boot, n), dtype=np.int64)
    # one draw of N indices per resample, in the order bootstrap_se draws them, so
    # both helpers see the same resamples for the same seed
    for row in counts:
        row += np.bincount(rng.integers(0, n, n), minlength=n)
    return counts


def se_from_replicates(replicates: np.ndarray | list[float]) -> float:
    """Standard deviation (``ddof=1``) of a statistic over its bootstrap replicates.

    Non-finite replicates (e.g. an FGD bin left with fewer than two windows by a
    resample) are dropped; with fewer than two finite replicates the result is NaN.
    """
    values = np.asarray(replicates, dtype=np.float64).reshape(-1)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return math.nan
    return float(np.std(values, ddof=1))


def percentile_interval(
    replicates: np.ndarray | list[float], level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval ``(lo, hi)`` at confidence ``level``.

    The (1 - level)/2 and (1 + level)/2 quantiles (linear interpolation) of the
    finite replicates; ``(nan, nan)`` with fewer than two. It needs no normality
    of the statistic (unlike ± 1.96 SE), but it inherits the statistic's bias: for
    a biased estimator such as FGD the interval is around the biased value.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"percentile_interval: level must be in (0, 1), got {level}")
    values = np.asarray(replicates, dtype=np.float64).reshape(-1)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return math.nan, math.nan
    lo, hi = np.quantile(values, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return float(lo), float(hi)


def mean_replicates(values: np.ndarray | list[float], counts: np.ndarray) -> np.ndarray:
    """Bootstrap replicates (n_boot,) of the mean of per-sentence ``values`` (N,),
    one per row of ``counts`` (n_boot, N) from :func:`bootstrap_counts`."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if counts.shape[1:] != values.shape:
        raise ValueError(
            f"mean_replicates: {values.shape[0]} values but counts of shape "
            f"{counts.shape}"
        )
    return counts @ values / len(values)


def mean_se(values: np.ndarray | list[float], counts: np.ndarray) -> float:
    """Bootstrap standard error of the mean of per-sentence ``values`` (N,).

    Args:
        values: (N,) per-sentence values, in the units the mean is reported in.
        counts: (n_boot, N) from :func:`bootstrap_counts`.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if counts.shape[1:] != values.shape:
        raise ValueError(
            f"mean_se: {values.shape[0]} values but counts of shape {counts.shape}"
        )
    return se_from_replicates(
        counts @ values / len(values)
    )  # (n_boot,) resampled means


def bootstrap_se(
    statistic: Callable[[np.ndarray], float],
    n_items: int,
    n_boot: int = 200,
    seed: int = 0,
) -> float:
    """Bootstrap standard error of ``statistic`` over ``n_items`` items.

    ``statistic(idx)`` computes the statistic on the items ``idx`` (an int array,
    repeats allowed). Draws ``n_boot`` resamples of ``range(n_items)`` with
    replacement from ``np.random.default_rng(seed)`` and returns the standard
    deviation (ddof=1) of the finite results; NaN when ``n_boot`` is 0 or fewer than
    two resamples give a finite value. Deterministic for a given ``seed``.
    """
    if n_items < 1:
        raise ValueError(f"bootstrap_se: n_items must be >= 1, got {n_items}")
    if n_boot <= 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    return se_from_replicates(
        [statistic(rng.integers(0, n_items, n_items)) for _ in range(n_boot)]
    )
