"""FGD (Eq. 12) and its Transformer autoencoder (nar_slp/evaluation/fgd.py, tae.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import random_walk

from nar_slp.bootstrap import bootstrap_counts
from nar_slp.checkpoints import load_checkpoint
from nar_slp.config import get_config
from nar_slp.data.normaliser import Normaliser
from nar_slp.evaluation.fgd import (
    WindowFeatures,
    collect_segments,
    features,
    fgd,
    fgd_from_features,
    fgd_report,
    frechet_distance,
    window_features,
)
from nar_slp.evaluation.fgd_bins import (
    common_window_counts,
    count_windows,
    fgd_by_interval,
    fgd_by_prefix,
    subsample_windows,
)
from nar_slp.evaluation.tae import TAE, build_tae, encode_segments, load_tae, windows
from nar_slp.evaluation.tae_training import (
    evaluation_segments,
    reconstruction_bce,
    static_pose_bce,
    train_tae,
)


@pytest.fixture(scope="module")
def seqs() -> list[np.ndarray]:
    return [random_walk(t, i) for i, t in enumerate([40, 55, 70, 90, 120, 36, 60, 80])]


@pytest.fixture(scope="module")
def normaliser(seqs) -> Normaliser:
    return Normaliser.fit(seqs, margin=0.5)


@pytest.fixture(scope="module")
def tae() -> TAE:
    torch.manual_seed(0)
    return TAE(d_model=16, n_layers=1, n_heads=2, latent=8, window=34, stride=17).eval()


# ----------------------------------------------------------------- frechet_distance


def test_frechet_identical_is_zero_and_symmetric():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 4))
    b = rng.normal(size=(200, 4)) * 1.5 + 0.3
    mu1, s1 = a.mean(0), np.cov(a, rowvar=False)
    mu2, s2 = b.mean(0), np.cov(b, rowvar=False)
    assert frechet_distance(mu1, s1, mu1, s1) == 0.0
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(
        frechet_distance(mu2, s2, mu1, s1), rel=1e-8
    )
    assert frechet_distance(mu1, s1, mu2, s2) > 0


def test_frechet_mean_shift_with_equal_covariance_is_squared_norm():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 5))
    sigma = np.cov(a, rowvar=False)
    mu = a.mean(0)
    for delta in (np.full(5, 0.1), np.array([1.0, -2.0, 0.0, 0.5, 3.0])):
        assert frechet_distance(mu, sigma, mu + delta, sigma) == pytest.approx(
            float(delta @ delta), abs=1e-6
        )


def test_frechet_diagonal_closed_form():
    var1 = np.array([1.0, 4.0, 0.25])
    var2 = np.array([9.0, 1.0, 0.25])
    mu1, mu2 = np.zeros(3), np.array([1.0, 0.0, 2.0])
    expected = 5.0 + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)  # 5 + 4 + 1 + 0
    got = frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
    assert got == pytest.approx(expected) and expected == pytest.approx(10.0)


def test_frechet_singular_covariances_stay_finite_and_shapes_checked():
    sigma = np.zeros((3, 3))
    sigma[0, 0] = 1.0  # rank 1
    value = frechet_distance(np.zeros(3), sigma, np.ones(3), np.zeros((3, 3)))
    assert math.isfinite(value) and value == pytest.approx(3.0 + 1.0, abs=1e-2)
    with pytest.raises(ValueError, match="do not match"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


# ------------------------------------------------------------------------- windows


def test_windows_cover_the_sequence_with_an_end_aligned_window():
    seq = np.arange(100)
    segs = windows(seq, 34, 17)
    assert [int(s[0]) for s in segs] == [0, 17, 34, 51, 66]
    assert all(len(s) == 34 for s in segs) and segs[-1][-1] == 99
    assert [int(s[0]) for s in windows(np.arange(85), 34, 17)] == [0, 17, 34, 51]
    assert len(windows(np.arange(34), 34, 17)) == 1
    (short,) = windows(np.arange(20), 34, 17)  # shorter than W: itself
    assert np.array_equal(short, np.arange(20))
    assert windows(np.arange(0), 34, 17) == []


# ----------------------------------------------------------------------------- TAE


def test_padding_does_not_change_a_segments_feature(tae, seqs, normaliser):
    segs = collect_segments(seqs, tae, normaliser).segments
    short = segs[0][:12]  # 12 real frames
    alone = encode_segments(tae, [short])
    batched = encode_segments(tae, [segs[1], short, segs[2][:20]])
    np.testing.assert_allclose(batched[1], alone[0], rtol=0, atol=1e-6)


def test_feature_depends_on_frame_order(tae, seqs, normaliser):
    seg = collect_segments(seqs, tae, normaliser).segments[0]
    f = encode_segments(tae, [seg, seg[::-1].copy()])
    assert not np.allclose(f[0], f[1], atol=1e-4)


def test_short_sequences_follow_the_documented_rule(tae, normaliser):
    # 5 frames: excluded (< 8); 20: one short segment; 40: windows [0,34) and [6,40)
    data = [random_walk(5, 1), random_walk(20, 2), random_walk(40, 3)]
    got = collect_segments(data, tae, normaliser)
    assert [len(s) for s in got.segments] == [20, 34, 34]
    assert got.n_excluded == 1 and got.n_sequences == 2
    assert features(tae, data, normaliser).shape == (3, 8)


# ----------------------------------------------------------------------------- FGD


def test_fgd_of_identical_sets_is_zero_and_offset_is_positive(tae, seqs, normaliser):
    assert fgd(seqs, seqs, tae, normaliser) == 0.0
    shifted = [s + np.float32(0.05) for s in seqs]
    assert fgd(seqs, shifted, tae, normaliser) > 0.0
    # scale multiplies the value
    one = fgd(seqs, shifted, tae, normaliser, scale=1.0)
    assert fgd(seqs, shifted, tae, normaliser, scale=10.0) == pytest.approx(10 * one)


def test_fgd_needs_two_segments_per_side(tae, seqs, normaliser):
    report = fgd_report([random_walk(20, 9)], seqs, tae, normaliser)
    assert math.isnan(report["fgd"]) and report["n_generated"] == 1
    with pytest.raises(ValueError, match="segments"):
        fgd([random_walk(20, 9)], seqs, tae, normaliser)


def test_fgd_by_interval_counts_and_nan_bins(tae, normaliser):
    gen = [random_walk(60, 11), random_walk(120, 12)]
    ref = [random_walk(45, 13), random_walk(210, 14)]
    # unmatched pools, 2 windows per side suffice: the rule before matching
    res = fgd_by_interval(gen, ref, tae, normaliser, match_counts=False)
    assert list(res) == ["0-50", "50-100", "100-150", "150-200"]
    counts = {k: (v["n_generated"], v["n_reference"]) for k, v in res.items()}
    # [0,50): 60->[0,50) 2 windows, 120->2 | 45->2, 210->2
    # [50,100): 60->10 frames (1 short), 120->2 | 45->none, 210->2
    # [100,150): 120->20 frames (1) | 210->2 ; [150,200): none | 210->2
    assert counts == {
        "0-50": (4, 4),
        "50-100": (3, 2),
        "100-150": (1, 2),
        "150-200": (0, 2),
    }
    assert math.isfinite(res["0-50"]["fgd"]) and math.isfinite(res["50-100"]["fgd"])
    assert math.isnan(res["100-150"]["fgd"]) and math.isnan(res["150-200"]["fgd"])
    pre = fgd_by_prefix(gen, ref, tae, normaliser, prefixes=[20, 40], min_windows=2)
    assert list(pre) == ["~20", "~40"]
    assert (pre["~20"]["n_generated"], pre["~20"]["n_reference"]) == (2, 2)
    assert pre["~20"]["sufficient"] and pre["~20"]["n"] == 2
    # same sets -> every populated bin is exactly 0 (matched: the same windows drawn)
    same = fgd_by_interval(ref, ref, tae, normaliser, min_windows=2)
    assert same["0-50"]["fgd"] == 0.0 and same["150-200"]["n_generated"] == 2
    # the default rule (2 x feature dim = 16 windows per side) flags them all
    default = fgd_by_interval(gen, ref, tae, normaliser)
    assert all(not v["sufficient"] and math.isnan(v["fgd"]) for v in default.values())
    assert default["0-50"]["min_windows"] == 16 and default["0-50"]["n"] == 4


def test_interval_segments_are_the_exact_frames(tae, normaliser):
    seq = random_walk(130, 21)
    got = collect_segments([seq], tae, normaliser, 50, 100).segments
    flat = normaliser.transform(seq, warn=False).reshape(130, -1)
    np.testing.assert_array_equal(got[0], flat[50:84])
    np.testing.assert_array_equal(got[-1], flat[66:100])


def test_train_tae_saves_a_checkpoint_that_loads_identically(
    tmp_path, seqs, normaliser
):
    cfg = get_config("smoke", tae__train__epochs=2, eval__batch_size=8)
    log: list[str] = []
    tae = train_tae(cfg, seqs, normaliser, tmp_path / "tae", log=log.append)
    assert len(log) == 2
    saved = load_checkpoint(tmp_path / "tae", with_optimizer=False).config["model"]
    assert saved["n_values"] == 150 and "frame_size" not in saved
    again = load_tae(tmp_path / "tae")
    assert again.window == cfg.eval.fgd_window and again.min_frames == tae.min_frames
    np.testing.assert_allclose(
        features(again, seqs[:3], normaliser), features(tae, seqs[:3], normaliser)
    )


# ------------------------------------------------------------- matched window counts


def _pool(n: int, seed: int, dim: int = 4) -> WindowFeatures:
    rng = np.random.default_rng(seed)
    return WindowFeatures(rng.normal(size=(n, dim)), np.arange(n) // 3, 0, n // 3)


def test_subsample_windows_is_seeded_ordered_and_without_replacement():
    pool = _pool(50, 0)
    a, b = subsample_windows(pool, 20, (0, 1)), subsample_windows(pool, 20, (0, 1))
    c = subsample_windows(pool, 20, (1, 1))
    assert len(a.features) == 20 and np.array_equal(a.features, b.features)
    assert not np.array_equal(a.features, c.features)
    rows = [int(np.flatnonzero((pool.features == r).all(1))[0]) for r in a.features]
    assert rows == sorted(set(rows))  # distinct, original order
    assert np.array_equal(a.sentence, pool.sentence[rows])
    assert subsample_windows(pool, 80, 0) is pool  # n >= pool: all of it


def test_bins_score_the_same_count_on_both_sides(tae, normaliser):
    gen = [
        random_walk(t, 30 + i) for i, t in enumerate([120, 150, 90, 200, 60, 130] * 3)
    ]
    ref = [
        random_walk(t, 60 + i) for i, t in enumerate([100, 60, 180, 70, 140, 90] * 3)
    ]
    res = fgd_by_interval(gen, ref, tae, normaliser, min_windows=4)
    for a, b in ((0, 50), (50, 100)):
        v = res[f"{a}-{b}"]
        assert v["n"] == min(v["n_generated"], v["n_reference"])
        assert v["n_generated"] == count_windows(gen, tae, a, b)
        assert v["n_reference"] == count_windows(ref, tae, a, b)
    # the scored FGD is that of the documented subsample of each pool
    k, (a, b) = 1, (50, 100)
    v = res["50-100"]
    fg = subsample_windows(window_features(gen, tae, normaliser, a, b), v["n"], (0, k))
    fr = subsample_windows(window_features(ref, tae, normaliser, a, b), v["n"], (0, k))
    assert len(fg.features) == len(fr.features) == v["n"]
    assert v["fgd"] == fgd_from_features(fg, fr)["fgd"]
    again = fgd_by_interval(gen, ref, tae, normaliser, min_windows=4)
    assert again["50-100"]["fgd"] == v["fgd"]  # deterministic
    other = fgd_by_interval(gen, ref, tae, normaliser, min_windows=4, seed=5)
    assert other["50-100"]["fgd"] != v["fgd"]


def test_fixed_counts_compare_systems_on_one_count_and_flag_short_pools(
    tae, normaliser
):
    ref = [random_walk(t, 90 + i) for i, t in enumerate([100, 160, 120, 80] * 3)]
    long_sys = [
        random_walk(t + 40, 120 + i) for i, t in enumerate([100, 160, 120, 80] * 3)
    ]
    short_sys = [
        random_walk(max(t - 60, 9), 150 + i)
        for i, t in enumerate([100, 160, 120, 80] * 3)
    ]
    counts = common_window_counts([long_sys, short_sys, ref], tae)
    assert counts["0-50"] == min(
        count_windows(p, tae, 0, 50) for p in (long_sys, short_sys, ref)
    )
    for system in (long_sys, short_sys):
        res = fgd_by_interval(
            system, ref, tae, normaliser, n_windows=counts, min_windows=4
        )
        assert res["0-50"]["n"] == counts["0-50"] and res["0-50"]["sufficient"]
    # asking for more windows than a pool holds: insufficient, not scored
    too_many = {"0-50": count_windows(short_sys, tae, 0, 50) + 1}
    res = fgd_by_interval(
        short_sys, ref, tae, normaliser, n_windows=too_many, min_windows=4
    )
    assert not res["0-50"]["sufficient"] and math.isnan(res["0-50"]["fgd"])
    assert math.isnan(res["0-50"]["kid"])
    boot = bootstrap_counts(len(ref), 5, seed=0)
    res = fgd_by_interval(
        short_sys,
        ref,
        tae,
        normaliser,
        n_windows=too_many,
        min_windows=4,
        boot_counts=boot,
    )
    flagged, scored = res["0-50"], res["50-100"]
    assert math.isnan(flagged["fgd_se"]) and flagged["replicates"].shape == (5,)
    assert np.isnan(flagged["replicates"]).all()
    assert (
        scored["replicates"].shape == (5,)
        and scored["fgd_ci"][0] <= scored["fgd_ci"][1]
    )
    # prefix keys may be "~p"
    pre = fgd_by_prefix(
        ref, ref, tae, normaliser, prefixes=[40], n_windows={"~40": 5}, min_windows=4
    )
    assert pre["~40"]["n"] == 5 and pre["~40"]["fgd"] == 0.0


# ------------------------------------------------------------------- TAE training


def _with_constant_neck(seq: np.ndarray) -> np.ndarray:
    seq = seq.copy()
    seq[:, 0, :] = 0.0  # the neck is the origin of PT skeletons
    return seq


def test_constant_channels_are_dropped_from_features(seqs):
    data = [_with_constant_neck(s) for s in seqs]
    norm = Normaliser.fit(data, margin=0.5)
    cfg = get_config("smoke")
    torch.manual_seed(0)
    tae = build_tae(cfg).eval()
    flat = np.concatenate(
        [norm.transform(s, warn=False).reshape(len(s), -1) for s in data]
    )
    tae.standardiser.fit(flat)
    assert tae.standardiser.n_dropped == 3
    moved = [s.copy() for s in data]
    for s in moved:
        s[:, 0, :] += np.float32(0.003)
    f0, f1 = features(tae, data, norm), features(tae, moved, norm)
    np.testing.assert_allclose(f1, f0, rtol=0, atol=1e-6)
    # control: kept with the old floored std (1e-3), the same offset moves them
    dropped = tae.standardiser.keep == 0
    tae.standardiser.std[dropped] = 1e-3
    tae.standardiser.keep.fill_(1.0)
    assert not np.allclose(
        features(tae, moved, norm), features(tae, data, norm), atol=1e-3
    )


def test_early_stopping_keeps_the_best_dev_epoch(tmp_path, seqs, normaliser):
    dev = [random_walk(t, 40 + i) for i, t in enumerate([50, 70, 36])]
    # min_delta so large that only the first epoch counts as an improvement
    cfg = get_config(
        "smoke",
        tae__train__epochs=5,
        tae__train__patience=2,
        tae__min_delta=10.0,
        tae__train__batch_size=4,
        tae__train__lr=3e-3,
    )
    tae = train_tae(cfg, seqs, normaliser, tmp_path / "tae", log=None, dev_poses=dev)
    rep = tae.training_report
    assert rep.best_epoch == 1 and len(rep.history) == 3  # stopped after 2 stale
    assert len(rep.dev_history) == 3 and rep.dev_history[0] != rep.dev_history[-1]
    segs = evaluation_segments(dev, normaliser, 34, 17, tae.min_frames)
    assert reconstruction_bce(tae, segs) == pytest.approx(rep.dev_history[0], abs=1e-6)
    # saved weights are the kept ones
    again = load_tae(tmp_path / "tae")
    assert reconstruction_bce(again, segs) == pytest.approx(
        rep.dev_history[0], abs=1e-6
    )
    # ordinary run: the kept epoch is the dev minimum
    cfg = get_config(
        "smoke", tae__train__epochs=4, tae__train__patience=10, tae__train__batch_size=4
    )
    tae = train_tae(cfg, seqs, normaliser, None, log=None, dev_poses=dev)
    rep = tae.training_report
    assert rep.best_epoch == 1 + int(np.argmin(rep.dev_history))
    assert reconstruction_bce(tae, segs) == pytest.approx(
        min(rep.dev_history), abs=1e-6
    )


def test_tae_patience_zero_trains_every_epoch(seqs, normaliser):
    dev = [random_walk(t, 40 + i) for i, t in enumerate([50, 70, 36])]
    # as in the early-stop test only epoch 1 improves, but patience 0 = never stop
    cfg = get_config(
        "smoke",
        tae__train__epochs=3,
        tae__train__patience=0,
        tae__min_delta=10.0,
        tae__train__batch_size=8,
    )
    tae = train_tae(cfg, seqs, normaliser, None, log=None, dev_poses=dev)
    rep = tae.training_report
    assert len(rep.history) == len(rep.dev_history) == 3 and rep.best_epoch == 1


def test_train_tae_follows_its_train_section(seqs, normaliser):
    def trained(**kw) -> dict[str, torch.Tensor]:
        # batches of 2 windows: enough steps for the schedules to differ
        cfg = get_config("smoke", tae__train__epochs=1, tae__train__batch_size=2, **kw)
        return train_tae(cfg, seqs, normaliser, None, log=None).state_dict()

    base = trained()
    again = trained(tae__train__weight_decay=0.01, tae__train__grad_clip=1.0)
    assert all(torch.equal(base[k], again[k]) for k in base)  # the defaults
    for kw in (
        {"tae__train__weight_decay": 0.5},
        {"tae__train__grad_clip": 1e-3},  # clips (1.0 never does here)
        {"tae__train__schedule": "constant"},
        {"tae__train__warmup": 0.5},
        {"tae__train__lr": 1e-4},
    ):
        other = trained(**kw)
        assert not all(torch.equal(base[k], other[k]) for k in base), kw
    with pytest.raises(ValueError, match=r"tae\.train\.schedule 'cosine'"):
        trained(tae__train__schedule="cosine")


def test_static_pose_bce_is_the_per_window_mean_prediction():
    rng = np.random.default_rng(0)
    seg = rng.uniform(0.3, 0.7, (10, 6))
    p = seg.mean(0)
    want = -(seg * np.log(p) + (1 - seg) * np.log(1 - p)).mean()
    assert static_pose_bce([seg]) == pytest.approx(want)
    keep = np.array([1, 1, 0, 1, 0, 1.0])
    want_kept = (-(seg * np.log(p) + (1 - seg) * np.log(1 - p)))[:, keep > 0].mean()
    assert static_pose_bce([seg], keep) == pytest.approx(want_kept)
