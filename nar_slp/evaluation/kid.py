"""Kernel Inception Distance on TAE window features, next to FGD (§5.1, Eq. 12).

FGD (Eq. 12) fits a Gaussian to each pool of features; its plug-in estimate is biased
upwards by an amount that depends on the pool sizes (two samples of one distribution
score > 0), which is what makes FGD of small bins hard to compare. KID (Bińkowski et
al. 2018, "Demystifying MMD GANs") is the squared maximum mean discrepancy with the
polynomial kernel

    k(x, y) = (xᵀy / d + 1)³,           d = feature dimension,

estimated with the *unbiased* U-statistic

    MMD²_u = Σ_{i≠j} k(x_i, x_j) / (m(m-1)) + Σ_{i≠j} k(y_i, y_j) / (n(n-1))
             - 2 Σ_{i,j} k(x_i, y_j) / (mn),

so its expectation is 0 when both pools come from one distribution, whatever their
sizes (it can be slightly negative). As in Bińkowski et al., :func:`kid` averages
MMD²_u over ``n_subsets`` random subsets of ``subset_size`` windows per side (drawn
without replacement) and reports the mean and the standard deviation over subsets.
Tables report KID × :data:`KID_SCALE` (= 100), in the features of the same TAE and the
same windows as FGD.

Bootstrap over sentences (:func:`kid_replicates`): resample b repeats window i
w_i = count[sentence_i] times and computes MMD²_u of the resampled multisets, copies
counted as distinct samples (the same rule as FGD's replicates, which repeat windows).
In closed form: within-pool sums drop only each copy's pair with itself.

Independence. "Unbiased" holds for independent pools. A system's output for sentence
i is paired with reference i (GT itself, the PGM reconstruction), so the pools are
correlated: KID(GT, GT) is negative (the cross term includes each window with
itself), and correlated outputs score lower than independent samples of the same
quality would. Comparisons between systems on the same references share this.
"""

from __future__ import annotations

import math

import numpy as np

KID_SCALE = 100.0  # tables show KID × 100


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (xᵀy / d + 1)³ for rows of x (N, d) and y (M, d) -> (N, M)."""
    d = x.shape[1]
    return (x @ y.T / d + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² (polynomial kernel) between x (m, d) and y (n, d), m, n >= 2."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"mmd2_unbiased needs >= 2 rows per side, got {m}, {n}")
    kxx, kyy, kxy = (
        polynomial_kernel(x, x),
        polynomial_kernel(y, y),
        polynomial_kernel(x, y),
    )
    xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    yy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(xx + yy - 2.0 * kxy.mean())


def kid(
    feats_gen: np.ndarray,
    feats_ref: np.ndarray,
    n_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """KID (unscaled): mean and std over subsets of :func:`mmd2_unbiased`.

    Args:
        feats_gen, feats_ref: (N_g, d), (N_r, d) features.
        n_subsets: random subsets averaged.
        subset_size: windows per side in a subset; capped at min(N_g, N_r), so with
            small pools every subset holds all windows of the smaller side.
        seed: ``np.random.default_rng`` seed; the same inputs and seed give the same
            value.

    Returns:
        ``(mean, std)`` over subsets (std with ddof=1; NaN if ``n_subsets`` < 2);
        ``(nan, nan)`` if a side has fewer than 2 rows.
    """
    x, y = np.asarray(feats_gen, np.float64), np.asarray(feats_ref, np.float64)
    m = min(subset_size, len(x), len(y))
    if m < 2 or n_subsets < 1:
        return math.nan, math.nan
    if m == len(x) == len(y):
        # every subset is the whole of both pools: all subsets give the same value
        return mmd2_unbiased(x, y), 0.0 if n_subsets >= 2 else math.nan
    rng = np.random.default_rng(seed)
    # kernels once; a subset is then an index slice (cheaper than recomputing)
    kxx, kyy = polynomial_kernel(x, x), polynomial_kernel(y, y)
    kxy = polynomial_kernel(x, y)
    values = np.empty(n_subsets)
    for s in range(n_subsets):
        i = rng.choice(len(x), m, replace=False)
        j = rng.choice(len(y), m, replace=False)
        a, b = kxx[np.ix_(i, i)], kyy[np.ix_(j, j)]
        values[s] = (
            (a.sum() - np.trace(a)) / (m * (m - 1))
            + (b.sum() - np.trace(b)) / (m * (m - 1))
            - 2.0 * kxy[np.ix_(i, j)].mean()
        )
    std = float(values.std(ddof=1)) if n_subsets >= 2 else math.nan
    return float(values.mean()), std


def _weighted_within(k: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mean of k over the ordered pairs of distinct copies in each weighted multiset.

    Row b of ``w`` (B, N) repeats item i w_i times: the sum over all copy pairs is
    wᵀKw, minus each copy with itself (Σ w_i k_ii), over (Σw)² - Σw pairs.
    """
    num = ((w @ k) * w).sum(1) - w @ np.diagonal(k)  # (B,)
    den = w.sum(1) ** 2 - w.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def kid_replicates(
    feats_gen: np.ndarray,
    sentence_gen: np.ndarray,
    feats_ref: np.ndarray,
    sentence_ref: np.ndarray,
    boot_counts: np.ndarray,
) -> np.ndarray:
    """Unscaled KID of every paired sentence-bootstrap resample (n_boot,).

    The full pools are used (no subsets): resample b equals
    ``mmd2_unbiased(np.repeat(x, w), np.repeat(y, v))`` with w, v the counts of each
    window's sentence (module docstring), computed from kernels evaluated once. A
    resample that leaves a side with fewer than 2 windows gives NaN.
    """
    x, y = np.asarray(feats_gen, np.float64), np.asarray(feats_ref, np.float64)
    counts = np.asarray(boot_counts, np.float64)
    if len(x) < 2 or len(y) < 2:
        return np.full(len(counts), math.nan)
    wx = counts[:, sentence_gen]  # (B, N_g)
    wy = counts[:, sentence_ref]  # (B, N_r)
    xx = _weighted_within(polynomial_kernel(x, x), wx)
    yy = _weighted_within(polynomial_kernel(y, y), wy)
    xy = ((wx @ polynomial_kernel(x, y)) * wy).sum(1)  # (B,)
    with np.errstate(invalid="ignore", divide="ignore"):
        xy = xy / (wx.sum(1) * wy.sum(1))
    return xx + yy - 2.0 * xy
