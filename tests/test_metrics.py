"""DurACC, DTW-MJE and interval slicing (nar_slp/evaluation/metrics.py)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_walk

from nar_slp.evaluation.metrics import (
    dtw_mje,
    dtw_path_cost,
    dur_acc,
    duracc_hits,
    frame_cost_matrix,
    mean_dtw_mje,
    slice_interval,
)


def _brute_dtw(cost: np.ndarray) -> tuple[float, int]:
    n, m = cost.shape
    d = np.full((n, m), np.inf)
    length = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            if i == j == 0:
                d[0, 0], length[0, 0] = cost[0, 0], 1
                continue
            prev = [
                (d[a, b], length[a, b])
                for a, b in ((i - 1, j - 1), (i - 1, j), (i, j - 1))
                if a >= 0 and b >= 0
            ]
            best = min(prev, key=lambda p: p[0])
            d[i, j], length[i, j] = best[0] + cost[i, j], best[1] + 1
    return d[-1, -1], int(length[-1, -1])


def test_slice_interval_is_exact():
    seq = np.arange(120)[:, None]
    assert np.array_equal(slice_interval(seq, 50, 100)[:, 0], np.arange(50, 100))
    assert np.array_equal(slice_interval(seq, 100, 150)[:, 0], np.arange(100, 120))
    assert slice_interval(seq, 120, 200).shape == (0, 1)
    assert slice_interval(seq, 150, 200).shape == (0, 1)
    with pytest.raises(ValueError, match="start <= stop"):
        slice_interval(seq, 60, 50)


def test_dur_acc_hand_example():
    # |diff| = 10, 30, 0, 25 -> strictly below 25 frames: 2 of 4
    assert dur_acc([100, 130, 80, 200], [110, 100, 80, 175]) == 0.5
    assert dur_acc([100, 130, 80, 200], [110, 100, 80, 175], tolerance=26) == 0.75
    with pytest.raises(ValueError, match="entries"):
        dur_acc([1, 2], [1])


def test_duracc_boundary_is_strict_less_than_one_second():
    # §5.4: "less than a second margin of error" at 25 fps -> an error of exactly
    # 25 frames is a miss, 24 a hit, on either side
    hits = duracc_hits([100, 125, 75, 124, 76], [100, 100, 100, 100, 100], 25)
    assert hits.dtype == bool
    assert hits.tolist() == [True, False, False, True, True]
    assert dur_acc([125, 124], [100, 100]) == 0.5
    with pytest.raises(ValueError, match="tolerance"):
        duracc_hits([1], [1], 0)


def test_dtw_of_a_sequence_with_itself_is_zero():
    x = random_walk(40, 0, step=0.02, base=None)
    assert dtw_mje(x, x) == pytest.approx(0.0, abs=1e-6)


def test_dtw_time_stretched_copy_is_zero_and_lengths_may_differ():
    x = random_walk(30, 1, step=0.02, base=None)
    stretched = np.repeat(x, 2, axis=0)  # 60 frames
    assert dtw_mje(stretched, x) == pytest.approx(0.0, abs=1e-6)
    y = random_walk(17, 2, step=0.02, base=None)
    assert dtw_mje(x, y) > 0.0
    assert dtw_mje(x, y) == pytest.approx(dtw_mje(y, x))


def test_dtw_constant_offset_is_the_offset():
    x = random_walk(25, 3, step=0.02, base=None)
    shifted = x.copy()
    shifted[..., 0] += 0.1  # every joint moves 0.1 along x
    assert dtw_mje(x, shifted) == pytest.approx(0.1, rel=1e-5)


def test_dtw_matches_brute_force_dp():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n, m = rng.integers(1, 9, 2)
        cost = rng.random((n, m))
        total, length = dtw_path_cost(cost)
        ref_total, ref_length = _brute_dtw(cost)
        assert total == pytest.approx(ref_total)
        assert length == ref_length


def test_frame_cost_is_mean_joint_distance():
    a = np.zeros((1, 50, 3))
    b = np.zeros((2, 50, 3))
    b[1, :25, 2] = 2.0  # half of the joints 2 units away
    assert np.allclose(frame_cost_matrix(a, b), [[0.0, 1.0]])
    with pytest.raises(ValueError, match="same"):
        frame_cost_matrix(np.zeros((3, 50, 3)), np.zeros((3, 49, 3)))


def test_mean_dtw_mje_averages_pairs():
    x = random_walk(20, 4, step=0.02, base=None)
    y = random_walk(22, 5, step=0.02, base=None)
    assert mean_dtw_mje([x, x], [x, y]) == pytest.approx(dtw_mje(x, y) / 2)
    with pytest.raises(ValueError, match="references"):
        mean_dtw_mje([x], [x, y])
