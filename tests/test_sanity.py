"""FGD/KID sanity table (nar_slp/evaluation/sanity.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import random_walk

from nar_slp.config import get_config
from nar_slp.data.normaliser import Normaliser
from nar_slp.evaluation.sanity import (
    add_noise,
    delay,
    perturbation_table,
    shrink,
    smooth,
)
from nar_slp.evaluation.tae import TAE


def test_perturbations_do_what_they_say():
    ramp = np.arange(20, dtype=np.float32)[:, None, None] * np.ones(
        (1, 2, 3), np.float32
    )
    sm = smooth(ramp, 5)
    assert sm.shape == ramp.shape
    np.testing.assert_allclose(sm[2:-2], ramp[2:-2], atol=1e-5)  # linear: unchanged
    assert sm[0, 0, 0] == pytest.approx((0 + 0 + 0 + 1 + 2) / 5)  # edge repeats
    with pytest.raises(ValueError):
        smooth(ramp, 4)
    d = delay(ramp, 3)
    assert len(d) == 20 and (d[:4] == 0).all() and d[4, 0, 0] == 1 and d[-1, 0, 0] == 16
    s = shrink(ramp, 0.5)
    np.testing.assert_allclose(s.mean(0), ramp.mean(0), atol=1e-5)
    assert np.ptp(s[:, 0, 0]) == pytest.approx(0.5 * np.ptp(ramp[:, 0, 0]))
    noisy = add_noise(ramp, 0.1, np.random.default_rng(0), np.array([False, True]))
    assert np.array_equal(noisy[:, 0], ramp[:, 0])  # the fixed joint stays fixed
    assert np.std(noisy[:, 1] - ramp[:, 1]) == pytest.approx(0.1, rel=0.3)


def test_perturbation_table_rows_floor_and_monotone_noise():
    a = [random_walk(t, i) for i, t in enumerate([60, 80, 100, 45, 70, 90] * 2)]
    b = [random_walk(t, 50 + i) for i, t in enumerate([65, 75, 95, 50, 85, 60] * 2)]
    norm = Normaliser.fit(a + b, margin=0.5)
    torch.manual_seed(0)
    tae = TAE(d_model=16, n_layers=1, n_heads=2, latent=8).eval()
    table = perturbation_table(
        a, b, tae, norm, get_config("smoke"), noise=(0.001, 0.05), n_boot=20
    )
    rows = table.systems
    assert len(rows) == 2 + 2 + 2 + 2 + 2
    assert table.get("GT test vs itself", "FGD") == 0.0
    assert table.get("GT test vs itself", "FGD SE") == 0.0
    small, big = table.get("noise σ=0.001", "FGD"), table.get("noise σ=0.05", "FGD")
    assert 0 <= small < big
    assert table.get("noise σ=0.05", "KID") > table.get("noise σ=0.001", "KID")
    floor = "real vs real (GT dev vs GT test)"
    assert table.get(floor, "FGD") > 0 and math.isfinite(table.get(floor, "FGD SE"))
