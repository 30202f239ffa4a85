"""Tests of the second-generation corpus motion (issue #8) and nar_slp.data.realism."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np
import pytest

from nar_slp.config import CorpusConfig
from nar_slp.data.corpus import generate_splits, make_signers, realise
from nar_slp.data.corpus.motion import ESTIMATION_NOISE, EstimationNoise, ar1
from nar_slp.data.realism import (
    PHOENIX_REALISM,
    format_realism_table,
    realism_statistics,
    realism_table,
)
from nar_slp.skeleton import (
    L_ELBOW,
    L_SHOULDER,
    L_WRIST,
    NECK,
    R_SHOULDER,
    R_WRIST,
    bone_lengths,
)

SMALL = CorpusConfig(n_train=40, n_dev=0, n_test=0, n_signers=6, seed=7)
GLOSSES = ["TOMORROW", "NORTH", "RAIN", "STRONG", "BUT", "SOUTH", "SUN"]


@lru_cache(maxsize=2)
def _small(noise: bool = True) -> tuple:
    return tuple(s.poses for s in generate_splits(replace(SMALL, noise=noise))["train"])


def _lag1(x: np.ndarray) -> float:
    x = x - x.mean()
    return float(np.sum(x[1:] * x[:-1]) / np.sum(x * x))


# ------------------------------------------------------------------ noise process
def test_ar1_has_the_stated_std_and_autocorrelation():
    x = ar1(np.random.default_rng(0), 40_000, (), 0.6, 0.05)
    assert x.std() == pytest.approx(0.05, rel=0.05)
    assert _lag1(x) == pytest.approx(0.6, abs=0.03)
    assert _lag1(ar1(np.random.default_rng(1), 40_000, (), 0.0, 1.0)) < 0.03


def test_scale_jitter_and_off_switch():
    signer = make_signers(3)[2]
    clean = realise(GLOSSES, signer, np.random.default_rng(5), noise=False)
    noisy = realise(GLOSSES, signer, np.random.default_rng(5))
    assert clean.shape == noisy.shape  # the noise does not touch the clean plan
    assert np.all(noisy[:, NECK] == 0.0) and np.all(clean[:, NECK] == 0.0)
    # clean signing: bone lengths constant
    lc, ln = bone_lengths(clean), bone_lengths(noisy)  # (T, n_bones)
    assert (lc.std(0) / lc.mean(0)).max() < 1e-3
    # noisy: every bone scaled by the same per-frame factor s_t
    s = ln / lc  # (T, n_bones)
    assert np.abs(s - s[:, :1]).max() < 2e-3
    log_s = np.log(s[:, 1])
    assert log_s.std() == pytest.approx(ESTIMATION_NOISE.scale_cv, rel=0.5)
    # long sequences for the autocorrelation of the scale process
    long = [GLOSSES * 4, list(reversed(GLOSSES)) * 4]
    lags = []
    for k, gl in enumerate(long):
        c = realise(gl, signer, np.random.default_rng(k), noise=False)
        n = realise(gl, signer, np.random.default_rng(k))
        lags.append(_lag1(np.log(bone_lengths(n)[:, 1] / bone_lengths(c)[:, 1])))
    assert np.mean(lags) == pytest.approx(ESTIMATION_NOISE.scale_phi, abs=0.2)
    # the wrist noise has about the stated size
    diff = (noisy - clean / s[:, :1, None])[:, L_WRIST]  # undo the scale
    assert 0.5 * ESTIMATION_NOISE.wrist_std < diff.std(0).mean()
    assert diff.std(0).mean() < 3.0 * ESTIMATION_NOISE.wrist_std
    # custom parameters: zero noise everywhere == clean
    zero = EstimationNoise(
        wrist_std=0.0,
        hand_rot_std=0.0,
        flex_std=0.0,
        thumb_std=0.0,
        shoulder_std=0.0,
        head_std=0.0,
        scale_cv=0.0,
    )
    quiet = realise(GLOSSES, signer, np.random.default_rng(5), noise=zero)
    np.testing.assert_allclose(quiet, clean, atol=1e-6)


def test_noise_gives_the_velocity_texture_and_config_switch():
    noisy = realism_statistics(list(_small(True)))
    clean = realism_statistics(list(_small(False)))
    assert clean["hf_energy_share"] < 0.1 < 0.15 < noisy["hf_energy_share"] < 0.33
    assert clean["velocity_lag1_autocorr"] > 0.8
    assert 0.45 < noisy["velocity_lag1_autocorr"] < 0.75
    assert clean["bone_cv_arm"] < 1e-3 < 0.01 < noisy["bone_cv_arm"] < 0.03
    assert noisy["bone_ratio_cv"] < 0.01
    lengths = [len(p) for p in _small(True)]
    assert lengths == [len(p) for p in _small(False)]


# ------------------------------------------------------------------ clean motion
def test_elbows_hang_below_the_shoulders():
    stats = realism_statistics(list(_small(False)))
    assert stats["dom_elbow_above_shoulder"] < 0.02
    assert stats["upper_arm_elevation_p95"] < 80.0
    assert stats["dom_wrist_past_midline"] < 0.01
    assert 0.2 < stats["dom_wrist_between_shoulders"] < 0.55
    assert stats["hands_close"] < 0.01


def test_starts_and_ends_vary():
    stats = realism_statistics(list(_small(True)))
    assert stats["first_frame_wrist_std_min"] > 0.03
    assert 0.05 < stats["first_frame_wrist_std"] < 0.13
    assert 0.05 < stats["last_frame_wrist_std"] < 0.13


def test_non_dominant_hand_moves_on_its_own():
    stats = realism_statistics(list(_small(True)))
    assert stats["nondom_still"] < 0.3
    assert stats["both_still"] < 0.1
    assert stats["wrist_speed_corr"] < 0.45
    # it travels, not only echoes the signing hand
    travel = np.mean(
        [
            np.linalg.norm(np.diff(p[:, R_WRIST], axis=0), axis=-1).sum()
            / np.linalg.norm(np.diff(p[:, L_WRIST], axis=0), axis=-1).sum()
            for p in _small(False)
        ]
    )
    assert travel > 0.4


def test_hands_open_thumb_moves_shoulders_move():
    stats = realism_statistics(list(_small(True)))
    assert stats["thumb_extent_std"] > 0.0133
    assert stats["ring_extent"] > 0.105 and stats["pinky_extent"] > 0.09
    assert stats["shoulder_std_y"] > 0.009 and stats["shoulder_std_z"] > 0.014


# --------------------------------------------------------------- realism function
def _template() -> np.ndarray:
    """A clean corpus frame (50, 3) to build known inputs from."""
    signer = make_signers(1)[0]
    return realise(["SNOW"], signer, np.random.default_rng(0), noise=False)[0]


def test_realism_statistics_on_hand_built_input():
    base = _template().astype(np.float64)
    t = 200
    freq = {0: 6.0, 1: 1.0}  # Hz: one sequence above 4 Hz, one far below
    seqs = []
    for k in (0, 1):
        seq = np.repeat(base[None], t, axis=0)
        wave = 0.05 * np.sin(2 * np.pi * freq[k] * np.arange(t) / 25.0)
        seq[:, L_WRIST, 0] += wave  # only the signing wrist moves, along x
        seqs.append(seq)
    st = realism_statistics(seqs[:1])
    assert st["hf_energy_share"] > 0.97
    assert st["velocity_lag1_autocorr"] == pytest.approx(
        np.cos(2 * np.pi * 6 / 25), abs=0.03
    )
    st = realism_statistics(seqs[1:])
    assert st["hf_energy_share"] < 0.03
    assert st["velocity_lag1_autocorr"] == pytest.approx(
        np.cos(2 * np.pi / 25), abs=0.03
    )
    assert st["nondom_still"] == 1.0  # wrist 4 never moves
    # 5-frame mean velocity peaks at 2 sin(pi/25) 0.05 x 0.938 (moving-average gain)
    # = 0.0118/frame: below 0.006 where |cos| < 0.51, i.e. 2/pi asin(0.51) = 34 %
    assert st["dom_still"] == pytest.approx(0.34, abs=0.03)
    # elbow above the shoulder in exactly a quarter of the frames; wrist positions
    seq = np.repeat(base[None], 100, axis=0)
    seq[:25, L_ELBOW, 1] = seq[:25, L_SHOULDER, 1] - 0.05
    seq[:, L_WRIST, 0] = np.where(np.arange(100) < 40, 0.02, -0.25)  # 40 % past midline
    seq[:10, R_WRIST] = seq[:10, L_WRIST] + 0.01  # hands touch in 10 frames
    st = realism_statistics([seq])
    assert st["dom_elbow_above_shoulder"] == pytest.approx(0.25)
    assert st["dom_wrist_past_midline"] == pytest.approx(0.4)
    assert st["dom_wrist_between_shoulders"] == pytest.approx(0.4)
    assert st["hands_close"] == pytest.approx(0.1)
    assert st["shoulder_std_y"] == 0.0
    # one global scale per frame: every bone varies alike, ratios do not
    scale = 1.0 + 0.02 * np.random.default_rng(0).standard_normal(100)
    st = realism_statistics([np.repeat(base[None], 100, axis=0) * scale[:, None, None]])
    assert st["bone_cv_arm"] == pytest.approx(scale.std() / scale.mean(), rel=1e-6)
    assert st["bone_ratio_cv"] < 1e-9
    # first frames 0.1 apart along y for both wrists: std over two sequences 0.05
    a = np.repeat(base[None], 30, axis=0)
    b = a.copy()
    b[:, [L_WRIST, R_WRIST], 1] += 0.1
    st = realism_statistics([a, b])
    assert st["first_frame_wrist_std_max"] == pytest.approx(0.05)
    assert st["first_frame_wrist_std"] == pytest.approx(0.05 / 3)


def test_realism_table_rule_and_folder_input(tmp_path):
    from nar_slp.data.pt_format import SignSequence, write_split

    real = {k: ref.centre for k, ref in PHOENIX_REALISM.items()}
    rows = realism_table(real)
    assert [r["key"] for r in rows] == list(PHOENIX_REALISM)
    assert all(r["within_range"] == "yes" for r in rows)
    off = realism_table({k: 3.0 * v + 0.02 for k, v in real.items()})
    assert all(r["within_range"] == "no" for r in off)
    edge = realism_table({k: 1.45 * v if v > 0.01 else 0.009 for k, v in real.items()})
    assert all(r["within_range"] == "yes" for r in edge)
    assert "| statistic |" in format_realism_table(rows, before=off)
    # a PT folder gives the same numbers as the arrays it holds
    seqs = list(_small(True))[:5]
    write_split(
        tmp_path,
        "train",
        [SignSequence(f"s{i}", "a b", "A", p) for i, p in enumerate(seqs)],
    )
    from_folder = realism_statistics(tmp_path, split="train")
    direct = realism_statistics(seqs)
    assert from_folder["ring_extent"] == pytest.approx(direct["ring_extent"], abs=1e-4)
    assert from_folder["nondom_still"] == pytest.approx(
        direct["nondom_still"], abs=0.02
    )
    with pytest.raises(ValueError, match="expected"):
        realism_statistics([np.zeros((10, 49, 3))])
    assert R_SHOULDER != L_SHOULDER
