"""Mean and Random baselines (nar_slp/models/simple_baselines.py)."""

from __future__ import annotations

import numpy as np
import pytest

from nar_slp.models.simple_baselines import MeanPoseBaseline, RandomBaseline


@pytest.fixture()
def train() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.normal(size=(t, 50, 3)).astype(np.float32) for t in (10, 20, 31)]


def test_mean_baseline_repeats_the_mean_pose(train):
    base = MeanPoseBaseline(train)
    expected = np.concatenate(train).mean(0)
    out = base.generate(["a", "b"], lengths=[5, 12])
    assert [len(o) for o in out] == [5, 12]
    np.testing.assert_allclose(out[1][7], expected, atol=1e-6)
    assert [len(o) for o in base.generate(3)] == [20, 20, 20]  # mean length 61/3
    with pytest.raises(ValueError, match="lengths"):
        base.generate(["a"], lengths=[1, 2])


def test_random_baseline_returns_training_sequences_reproducibly(train):
    out = RandomBaseline(train, seed=3).generate(6, lengths=[1] * 6)
    assert all(any(np.array_equal(o, t) for t in train) for o in out)
    again = RandomBaseline(train, seed=3).generate(["x"] * 6)
    assert all(np.array_equal(a, b) for a, b in zip(out, again, strict=True))
    out[0][:] = 0  # copies: the training data is untouched
    assert all(np.abs(t).sum() > 0 for t in train)
