"""Seed aggregation (evaluation/seeds.py) and claims with intervals (claims.py)."""

import math

import numpy as np
import pytest

from nar_slp.evaluation.claims import all_of, compare, read_claims, write_claims
from nar_slp.evaluation.seeds import aggregate_seeds, seed_sd
from nar_slp.evaluation.verdicts import Claim, difference, verdict_of


def _res(fgd, se=1.0, reps=None, bins=None):
    r = {
        "FGD": fgd,
        "BLEU-4": 10.0,
        "se": {"FGD": se, "BLEU-4": 0.5},
        "hypotheses": ["a"],
    }
    if reps is not None:
        r["replicates"] = {
            "FGD": np.asarray(reps, float),
            "BLEU-4": np.full(len(reps), 10.0),
        }
    if bins is not None:
        r["intervals"] = {"0-50": {"fgd": bins, "fgd_se": 1.0, "start": 0, "stop": 50}}
    return r


def test_aggregate_means_sd_and_seed_values():
    agg = aggregate_seeds(
        [_res(10.0, bins=2.0), _res(12.0, bins=4.0), _res(14.0, bins=6.0)]
    )
    assert agg["FGD"] == pytest.approx(12.0)
    assert agg["sd"]["FGD"] == pytest.approx(2.0)
    assert agg["seed_values"]["FGD"] == [10.0, 12.0, 14.0]
    assert agg["n_seeds"] == 3
    assert agg["intervals"]["0-50"]["fgd"] == pytest.approx(4.0)
    assert agg["intervals"]["0-50"]["start"] == 0
    assert agg["seed_values"]["intervals/0-50"] == [2.0, 4.0, 6.0]
    assert agg["hypotheses"] == ["a"]
    assert seed_sd({"x": {"test": agg}})["x"]["test"]["FGD"] == pytest.approx(2.0)


def test_aggregate_averages_replicates_on_shared_resamples():
    agg = aggregate_seeds(
        [_res(1.0, reps=[0.0, 2.0, 4.0]), _res(3.0, reps=[2.0, 4.0, 6.0])]
    )
    assert np.allclose(agg["replicates"]["FGD"], [1.0, 3.0, 5.0])
    assert agg["se"]["FGD"] == pytest.approx(2.0)
    lo, hi = agg["ci"]["FGD"]
    assert 1.0 <= lo < hi <= 5.0
    with pytest.raises(ValueError):
        aggregate_seeds([])


def test_verdicts():
    assert verdict_of(0.1, 2.0) == "yes"
    assert verdict_of(-1.0, 2.0) == "inconclusive"
    assert verdict_of(-3.0, -1.0) == "no"
    assert verdict_of(math.nan, 1.0) == "not tested"


def test_compare_uses_intervals_and_direction():
    results = {"a": {"test": _res(10.0, se=1.0)}, "b": {"test": _res(20.0, se=1.0)}}
    c = compare(results, "a beats b", "a", "b", "FGD", lower_is_better=True)
    assert c.verdict == "yes" and c.reproduced is True
    assert c.effect == pytest.approx(10.0)
    assert c.ci[0] == pytest.approx(10.0 - 1.959964 * math.sqrt(2), rel=1e-5)
    # the same numbers contradict the opposite claim
    assert compare(results, "b beats a", "b", "a", "FGD", True).verdict == "no"
    # within noise: inconclusive, not reproduced
    noisy = {"a": {"test": _res(10.0, se=8.0)}, "b": {"test": _res(12.0, se=8.0)}}
    c = compare(noisy, "a beats b", "a", "b", "FGD", True)
    assert c.verdict == "inconclusive" and c.reproduced is False
    assert compare(results, "x", "a", "missing", "FGD", True).verdict == "not tested"


def test_paired_replicates_shrink_the_interval():
    # two systems whose bootstrap replicates move together: the paired difference is
    # far more precise than independent standard errors suggest
    reps = np.linspace(0.0, 10.0, 50)
    a = _res(10.0, se=3.0, reps=reps + 10.0)
    b = _res(11.0, se=3.0, reps=reps + 11.0)
    d, half = difference({"a": {"test": a}, "b": {"test": b}}, "a", "b", "FGD")
    assert d == pytest.approx(-1.0) and half == pytest.approx(0.0, abs=1e-9)


def test_seed_variance_widens_the_interval():
    one = {"a": {"test": _res(10.0, se=0.1)}, "b": {"test": _res(12.0, se=0.1)}}
    seeded = aggregate_seeds(
        [_res(6.0, se=0.1), _res(10.0, se=0.1), _res(14.0, se=0.1)]
    )
    three = {"a": {"test": seeded}, "b": one["b"]}
    assert compare(one, "", "a", "b", "FGD", True).verdict == "yes"
    assert compare(three, "", "a", "b", "FGD", True).verdict == "inconclusive"


def test_all_of_and_round_trip(tmp_path):
    yes = Claim("p", "e1", "yes", 1.0, (0.5, 1.5))
    maybe = Claim("q", "e2", "inconclusive", 0.2, (-0.1, 0.5))
    untested = Claim("r", "e3", "not tested")
    assert all_of("all", [yes, yes]).verdict == "yes"
    assert all_of("all", [yes, maybe, untested]).verdict == "inconclusive"
    assert (
        all_of("all", [yes, Claim("n", "e", "no", -1.0, (-2.0, -0.5))]).verdict == "no"
    )
    assert all_of("all", [untested]).verdict == "not tested"
    claims = [yes, maybe, untested]
    write_claims(claims, tmp_path / "c.csv", tmp_path / "c.md")
    assert read_claims(tmp_path / "c.csv") == claims
    assert "inconclusive" in (tmp_path / "c.md").read_text()
    with pytest.raises(ValueError):
        Claim("bad", "e", "maybe")
