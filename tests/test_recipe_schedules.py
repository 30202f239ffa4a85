"""Learning-rate schedules: pure functions of the step, and their use in training."""

from __future__ import annotations

import math

import pytest

from nar_slp.recipe import SCHEDULES, lr_factor, warmup_cosine_factor


def test_warmup_then_cosine_to_a_tenth():
    total = 100
    factors = [warmup_cosine_factor(s, total, 0.1) for s in range(total)]
    assert factors[0] == pytest.approx(0.1)  # step 1 of 10 warm-up steps
    assert factors[9] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(factors[:10], factors[1:10], strict=False))
    assert all(a >= b for a, b in zip(factors[10:], factors[11:], strict=False))
    assert warmup_cosine_factor(total, total, 0.1) == pytest.approx(0.1)
    assert warmup_cosine_factor(0, 1, 0.1) == 1.0  # one step: one warm-up step


def test_constant_and_unknown_schedules():
    assert SCHEDULES == ("constant", "warmup_cosine")
    assert lr_factor("constant", 7, 10, 0.5) == 1.0
    assert math.isclose(
        lr_factor("warmup_cosine", 3, 10, 0.5), warmup_cosine_factor(3, 10, 0.5)
    )
    with pytest.raises(ValueError, match="valid: constant, warmup_cosine"):
        lr_factor("linear", 0, 10, 0.1)
