"""Bootstrap standard errors over sentences (evaluation/bootstrap.py and its users)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import random_walk
from sacrebleu.metrics import BLEU

from nar_slp.bootstrap import (
    bootstrap_counts,
    bootstrap_se,
    mean_replicates,
    mean_se,
    percentile_interval,
    se_from_replicates,
)
from nar_slp.config import get_config
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.evaluation.back_translation import (
    SLTModel,
    Vocabulary,
    bleu_bootstrap,
    bleu_from_stats,
    bleu_scores,
    bleu_sentence_stats,
    rouge_l,
)
from nar_slp.evaluation.fgd import (
    WindowFeatures,
    collect_segments,
    feature_stats,
    features,
    fgd_from_features,
    fgd_report,
    frechet_distance,
)
from nar_slp.evaluation.fgd_bins import fgd_by_interval, fgd_by_prefix
from nar_slp.evaluation.harness import evaluate_output
from nar_slp.evaluation.metrics import dur_acc, mean_dtw_mje
from nar_slp.evaluation.tae import TAE
from nar_slp.inference import Generation

TEXTS = ["sun in the north", "rain in the south", "cold wind today", "warm sun today"]
SE_KEYS = (
    "FGD",
    "KID",
    "BLEU-1",
    "BLEU-2",
    "BLEU-3",
    "BLEU-4",
    "ROUGE",
    "DurACC",
    "DTW-MJE",
    "speed ratio",
    "spread ratio",
)


def _synthetic(n: int, per: int, shift: float, seed: int) -> WindowFeatures:
    """``per`` windows of 4-d features for each of ``n`` sentences."""
    rng = np.random.default_rng(seed)
    feats = rng.normal(size=(n * per, 4)) + shift
    return WindowFeatures(feats, np.repeat(np.arange(n), per), 0, n)


def _duplicate(wf: WindowFeatures, k: int) -> WindowFeatures:
    """The data set repeated ``k`` times (copies are new sentences)."""
    n = int(wf.sentence.max()) + 1
    sentence = np.concatenate([wf.sentence + j * n for j in range(k)])
    return WindowFeatures(np.tile(wf.features, (k, 1)), sentence, 0, k * n)


# ---------------------------------------------------------------------- resampling


def test_counts_are_deterministic_resamples_with_replacement():
    a = bootstrap_counts(7, 50, seed=3)
    assert a.shape == (50, 7) and (a.sum(1) == 7).all() and (a >= 0).all()
    assert np.array_equal(a, bootstrap_counts(7, 50, seed=3))
    assert not np.array_equal(a, bootstrap_counts(7, 50, seed=4))
    assert (a == 0).any()  # with replacement: some sentences left out
    assert bootstrap_counts(7, 0).shape == (0, 7)
    # the same resamples as the callable-based helper in nar_slp.utils
    values = np.random.default_rng(1).normal(size=7)
    want = bootstrap_se(lambda idx: values[idx].mean(), 7, 50, seed=3)
    assert mean_se(values, a) == pytest.approx(want, rel=1e-12)


def test_mean_se_is_zero_for_constant_values_and_nan_without_resamples():
    counts = bootstrap_counts(10, 100)
    assert mean_se(np.full(10, 3.5), counts) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(mean_se(np.arange(10.0), bootstrap_counts(10, 0)))
    assert math.isnan(se_from_replicates([1.0]))


def test_mean_se_matches_theory_and_shrinks_as_one_over_sqrt_n():
    values = np.random.default_rng(0).normal(size=40)
    se = mean_se(values, bootstrap_counts(40, 1000))
    assert se == pytest.approx(values.std() / math.sqrt(40), rel=0.1)
    se4 = mean_se(np.tile(values, 4), bootstrap_counts(160, 1000))
    assert se / se4 == pytest.approx(2.0, rel=0.15)


# ------------------------------------------------------------------------------ FGD


def test_window_sentence_ids_follow_the_sequences(normaliser, tae):
    seqs = [
        random_walk(40, 0),
        random_walk(5, 1),
        random_walk(90, 2),
        random_walk(20, 3),
    ]
    segs = collect_segments(seqs, tae, normaliser)
    # 40 -> 2 windows, 5 -> excluded (< 8 frames), 90 -> 5 windows, 20 -> 1 segment
    assert segs.sentence.tolist() == [0, 0, 2, 2, 2, 2, 2, 3]
    assert len(segs.sentence) == len(segs.segments)


def test_fgd_point_estimate_does_not_depend_on_the_bootstrap():
    gen, ref = _synthetic(30, 3, 0.3, 0), _synthetic(30, 3, 0.0, 1)
    expected = 10.0 * frechet_distance(
        *feature_stats(ref.features), *feature_stats(gen.features)
    )
    plain = fgd_from_features(gen, ref, 10.0)
    boot = fgd_from_features(gen, ref, 10.0, bootstrap_counts(30, 20))
    assert plain["fgd"] == boot["fgd"] == expected
    assert "fgd_se" not in plain and boot["fgd_se"] > 0


def test_fgd_resample_is_the_fgd_of_the_resampled_sentences():
    gen, ref = _synthetic(12, 2, 0.5, 0), _synthetic(12, 3, 0.0, 1)
    counts = bootstrap_counts(12, 1, seed=5)
    idx = np.repeat(np.arange(12), counts[0])  # the drawn sentences

    def pick(wf):
        return np.concatenate([wf.features[wf.sentence == i] for i in idx])

    by_hand = 10.0 * frechet_distance(
        *feature_stats(pick(ref)), *feature_stats(pick(gen))
    )
    # replicates (resample, all sentences once): std (ddof=1) of two values a, b is
    # |a - b| / sqrt(2), which recovers the resample's FGD
    ones = np.ones((1, 12), np.int64)
    res = fgd_from_features(gen, ref, 10.0, np.vstack([counts, ones]))
    replicate = res["fgd"] + math.sqrt(2) * res["fgd_se"]
    if by_hand < res["fgd"]:
        replicate = res["fgd"] - math.sqrt(2) * res["fgd_se"]
    assert replicate == pytest.approx(by_hand, rel=1e-9)


def test_fgd_se_is_deterministic_zero_for_identical_sides_and_shrinks_with_n():
    gen, ref = _synthetic(40, 3, 0.4, 0), _synthetic(40, 3, 0.0, 1)
    counts = bootstrap_counts(40, 300, seed=1)
    se = fgd_from_features(gen, ref, 10.0, counts)["fgd_se"]
    assert se == fgd_from_features(gen, ref, 10.0, counts)["fgd_se"]
    assert fgd_from_features(ref, ref, 10.0, counts)["fgd_se"] == 0.0
    se4 = fgd_from_features(
        _duplicate(gen, 4), _duplicate(ref, 4), 10.0, bootstrap_counts(160, 300, 1)
    )["fgd_se"]
    assert 1.5 < se / se4 < 2.7  # ~ sqrt(4)


# ----------------------------------------------------------------------------- BLEU


def test_bleu_from_sentence_statistics_equals_sacrebleu_on_resampled_lists():
    words = "am dienstag ist es meist freundlich im nordosten regen wolken".split()
    rng = np.random.default_rng(0)
    refs = [" ".join(rng.choice(words, rng.integers(3, 9))) for _ in range(15)]
    hyps = [" ".join(rng.choice(words, rng.integers(2, 9))) for _ in range(15)]
    full = bleu_scores(hyps, refs)
    for n in range(1, 5):
        stats = bleu_sentence_stats(hyps, refs, n)
        assert bleu_from_stats(stats.sum(0), n) == full[f"BLEU-{n}"]
    counts = bootstrap_counts(15, 5, seed=2)
    boot = bleu_bootstrap(hyps, refs, counts)
    for b in range(5):
        idx = np.repeat(np.arange(15), counts[b])
        h, r = [hyps[i] for i in idx], [refs[i] for i in idx]
        for n in range(1, 5):
            want = BLEU(max_ngram_order=n).corpus_score(h, [r]).score
            assert boot[f"BLEU-{n}"][b] == pytest.approx(want, abs=1e-9)
    assert se_from_replicates(boot["BLEU-1"]) > 0
    same = bleu_bootstrap(refs, refs, counts)
    assert all(se_from_replicates(v) == 0.0 for v in same.values())


# -------------------------------------------------------------------------- harness


@pytest.fixture(scope="module")
def refs() -> list[SignSequence]:
    return [
        SignSequence(f"s{i}", TEXTS[i % 4], "", random_walk(30 + 13 * i, i))
        for i in range(10)
    ]


@pytest.fixture(scope="module")
def normaliser() -> Normaliser:
    return Normaliser.fit([random_walk(30 + 13 * i, i) for i in range(10)], margin=0.5)


@pytest.fixture(scope="module")
def tae() -> TAE:
    torch.manual_seed(0)
    return TAE(d_model=16, n_layers=1, n_heads=2, latent=8, window=34, stride=17).eval()


@pytest.fixture(scope="module")
def slt() -> SLTModel:
    torch.manual_seed(1)
    return SLTModel(
        Vocabulary.build(TEXTS), d_model=32, n_layers=1, n_heads=2, max_output_len=6
    ).eval()


@pytest.fixture(scope="module")
def system(refs) -> Generation:
    gen = [
        random_walk(len(s.poses) + 20 * (i % 3) - 10, 100 + i)
        for i, s in enumerate(refs)
    ]
    return Generation(gen, np.array([len(g) for g in gen]), system="x")


def _eval(system, refs, tae, slt, normaliser, **kw):
    return evaluate_output(
        system, refs, tae, slt, normaliser, get_config("smoke"), **kw
    )


def test_harness_point_estimates_are_those_of_the_metric_functions(
    system, refs, tae, slt, normaliser
):
    cfg = get_config("smoke")
    res = _eval(system, refs, tae, slt, normaliser, n_boot=30)
    off = _eval(system, refs, tae, slt, normaliser, n_boot=0)
    ref_poses = [s.poses for s in refs]
    scale = cfg.eval.fgd_scale
    fg, fr = (
        features(tae, system.poses, normaliser),
        features(tae, ref_poses, normaliser),
    )
    assert res["FGD"] == scale * frechet_distance(
        *feature_stats(fr), *feature_stats(fg)
    )
    assert res["FGD"] == fgd_report(system.poses, ref_poses, tae, normaliser)["fgd"]
    bleu = bleu_scores(res["hypotheses"], [s.text for s in refs])
    assert all(res[f"BLEU-{n}"] == bleu[f"BLEU-{n}"] for n in range(1, 5))
    assert res["ROUGE"] == rouge_l(res["hypotheses"], [s.text for s in refs])
    assert res["DTW-MJE"] == mean_dtw_mje(system.poses, ref_poses)
    lengths = [s.n_frames for s in refs]
    assert res["DurACC"] == 100.0 * dur_acc(system.lengths, lengths, 25)
    bins = fgd_by_interval(system.poses, ref_poses, tae, normaliser)
    pre = fgd_by_prefix(system.poses, ref_poses, tae, normaliser)
    for got, want in ((res["intervals"], bins), (res["prefixes"], pre)):
        for k, v in want.items():
            assert got[k]["fgd"] == v["fgd"] or math.isnan(v["fgd"])
    assert all(res[k] == off[k] for k in SE_KEYS)  # n_boot does not move them


def test_harness_se_is_deterministic_and_nan_when_off(
    system, refs, tae, slt, normaliser
):
    a = _eval(system, refs, tae, slt, normaliser, n_boot=30, boot_seed=7)
    b = _eval(system, refs, tae, slt, normaliser, n_boot=30, boot_seed=7)
    c = _eval(system, refs, tae, slt, normaliser, n_boot=30, boot_seed=8)
    assert set(a["se"]) == set(SE_KEYS)
    assert a["se"] == b["se"]
    assert a["se"]["FGD"] > 0 and a["se"]["DTW-MJE"] > 0 and a["se"]["DurACC"] > 0
    assert a["se"]["FGD"] != c["se"]["FGD"]
    for group in ("intervals", "prefixes"):
        for k, v in a[group].items():
            assert v["fgd_se"] == b[group][k]["fgd_se"] or math.isnan(v["fgd_se"])
    off = _eval(system, refs, tae, slt, normaliser, n_boot=0)
    assert all(math.isnan(v) for v in off["se"].values())
    assert all(
        math.isnan(v["fgd_se"])
        for group in ("intervals", "prefixes")
        for v in off[group].values()
    )


def test_harness_se_of_ground_truth_is_zero(refs, tae, slt, normaliser):
    gt = Generation(
        [s.poses for s in refs], np.array([s.n_frames for s in refs]), system="gt"
    )
    res = _eval(gt, refs, tae, slt, normaliser, n_boot=30)
    assert res["se"]["FGD"] == 0.0
    assert res["se"]["DTW-MJE"] == pytest.approx(0.0, abs=1e-9)
    assert res["se"]["DurACC"] == pytest.approx(0.0, abs=1e-9)
    assert res["speed ratio"] == res["spread ratio"] == 1.0
    assert res["se"]["speed ratio"] == pytest.approx(0.0, abs=1e-12)
    for group in ("intervals", "prefixes"):
        for v in res[group].values():
            assert v["fgd_se"] == 0.0 or math.isnan(v["fgd"])


# ------------------------------------------------------------ percentile intervals


def test_percentile_interval_quantiles_and_nan_handling():
    lo, hi = percentile_interval(np.arange(101.0))
    assert (lo, hi) == pytest.approx((2.5, 97.5))
    assert percentile_interval([1.0, np.nan, 3.0], level=0.5) == pytest.approx(
        (1.5, 2.5)
    )
    assert all(math.isnan(v) for v in percentile_interval([1.0, np.nan]))
    with pytest.raises(ValueError):
        percentile_interval([1.0, 2.0], level=95)


def test_percentile_interval_of_the_mean_covers_the_true_mean_about_95_percent():
    # 400 experiments: N = 40 normal values, 95 % interval from 500 resamples.
    # Coverage is binomial(400, ~0.94): sd ~1.2 points, so [0.89, 0.98] fails only
    # for a wrong level or wrong quantiles (a 90 % interval covers ~0.89 or less,
    # a 68 % one ~0.67).
    rng = np.random.default_rng(0)
    hits = []
    for rep in range(400):
        values = rng.normal(3.0, 2.0, 40)
        counts = bootstrap_counts(40, 500, seed=rep)
        lo, hi = percentile_interval(mean_replicates(values, counts))
        hits.append(lo <= 3.0 <= hi)
    assert 0.89 <= np.mean(hits) <= 0.98


def test_mean_replicates_agree_with_mean_se():
    values = np.random.default_rng(1).normal(size=30)
    counts = bootstrap_counts(30, 50, seed=2)
    assert se_from_replicates(mean_replicates(values, counts)) == mean_se(
        values, counts
    )
    with pytest.raises(ValueError):
        mean_replicates(values[:5], counts)


def test_harness_reports_percentile_intervals(system, refs, tae, slt, normaliser):
    res = _eval(system, refs, tae, slt, normaliser, n_boot=40)
    assert set(res["ci"]) == {
        "FGD",
        "KID",
        "BLEU-1",
        "BLEU-2",
        "BLEU-3",
        "BLEU-4",
        "ROUGE",
        "DurACC",
        "DTW-MJE",
    }
    for key in ("DTW-MJE", "DurACC", "FGD"):
        lo, hi = res["ci"][key]
        assert lo < hi and res["se"][key] > 0
    lo, hi = res["ci"]["DTW-MJE"]  # a mean: its interval contains the estimate
    assert lo <= res["DTW-MJE"] <= hi
    assert math.isfinite(res["KID"]) and res["se"]["KID"] > 0
    off = _eval(system, refs, tae, slt, normaliser, n_boot=0)
    assert all(math.isnan(v) for ci in off["ci"].values() for v in ci)
