"""Kernel Inception Distance (nar_slp/evaluation/kid.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nar_slp.bootstrap import bootstrap_counts
from nar_slp.evaluation.kid import (
    kid,
    kid_replicates,
    mmd2_unbiased,
    polynomial_kernel,
)


def _brute_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² by explicit loops over distinct pairs."""
    d = x.shape[1]

    def k(a, b):
        return (a @ b / d + 1.0) ** 3

    def within(z):
        pairs = [k(z[i], z[j]) for i in range(len(z)) for j in range(len(z)) if i != j]
        return sum(pairs) / len(pairs)

    cross = np.mean([k(a, b) for a in x for b in y])
    return within(x) + within(y) - 2 * cross


def test_kernel_and_unbiased_mmd_match_the_definition():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(5, 3)) + 0.2
    assert polynomial_kernel(x, y)[1, 2] == pytest.approx((x[1] @ y[2] / 3 + 1) ** 3)
    assert mmd2_unbiased(x, y) == pytest.approx(_brute_mmd2(x, y))
    with pytest.raises(ValueError):
        mmd2_unbiased(x[:1], y)


def test_kid_is_unbiased_on_equal_distributions_and_positive_when_shifted():
    rng = np.random.default_rng(1)
    d, n = 8, 60
    unbiased, biased = [], []
    for _ in range(60):  # independent pairs of small samples of one distribution
        x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
        unbiased.append(mmd2_unbiased(x, y))
        kxx, kyy = polynomial_kernel(x, x), polynomial_kernel(y, y)
        biased.append(kxx.mean() + kyy.mean() - 2 * polynomial_kernel(x, y).mean())
    se = np.std(unbiased, ddof=1) / math.sqrt(len(unbiased))
    assert abs(np.mean(unbiased)) < 3 * se
    # the V-statistic (diagonal kept) is biased upwards by many standard errors:
    # the check above has the power to see a bias of that kind
    assert np.mean(biased) > 10 * se
    x, y = rng.normal(size=(300, d)), rng.normal(size=(300, d))
    mean, std = kid(x, y, n_subsets=50, subset_size=100, seed=0)
    shifted, shifted_std = kid(x, y + 0.5, n_subsets=50, subset_size=100, seed=0)
    assert abs(mean) < 3 * std
    assert shifted > 10 * std and shifted > 3 * shifted_std


def test_kid_subsets_are_seeded_and_capped_by_the_pools():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(40, 4)), rng.normal(size=(25, 4))
    assert kid(x, y, 10, 20, seed=3) == kid(x, y, 10, 20, seed=3)
    assert kid(x, y, 10, 20, seed=3) != kid(x, y, 10, 20, seed=4)
    # subset_size above the smaller pool: every subset holds all of y
    m, _ = kid(x, y, 5, 1000, seed=0)
    assert math.isfinite(m)
    assert all(math.isnan(v) for v in kid(x[:1], y, 5, 10))


def test_kid_replicates_are_weighted_u_statistics():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) + 0.3
    sx, sy = np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 2, 2, 2])
    ones = np.ones((1, 3), np.int64)
    assert kid_replicates(x, sx, y, sy, ones)[0] == pytest.approx(mmd2_unbiased(x, y))
    counts = np.array([[2, 0, 1], [0, 3, 0]])
    got = kid_replicates(x, sx, y, sy, counts)
    # copies count as distinct samples: the U-statistic of the repeated windows
    want0 = _brute_mmd2(
        np.repeat(x, counts[0][sx], axis=0), np.repeat(y, counts[0][sy], axis=0)
    )
    assert got[0] == pytest.approx(want0)
    # resample 1 keeps only sentence 1: x has 2 windows, y has 2: still finite
    assert math.isfinite(got[1])
    reps = kid_replicates(x, sx, y, sy, bootstrap_counts(3, 20, 0))
    assert reps.shape == (20,)
