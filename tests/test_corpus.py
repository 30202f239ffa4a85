"""Tests of the bundled procedural corpus (nar_slp/data/corpus/)."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

import numpy as np
import pytest

from nar_slp.config import CorpusConfig
from nar_slp.data.corpus import (
    HANDSHAPES,
    LEXICON,
    MOVEMENTS,
    PHOENIX_SIZES,
    _draw_items,  # the (sentence, signer) draw
    build_lexicon,
    corpus_statistics,
    generate_corpus,
    generate_splits,
    main,
    make_signers,
    realise,
    sample_sentence,
    sequence_signers,
)
from nar_slp.data.corpus.grammar import all_gloss_ids
from nar_slp.data.corpus.lexicon import GLOSS_DE
from nar_slp.data.pt_format import SPLITS, read_split
from nar_slp.skeleton import (
    BONES,
    L_ELBOW,
    L_HAND_ROOT,
    L_SHOULDER,
    L_WRIST,
    NECK,
    R_ELBOW,
    R_SHOULDER,
    R_WRIST,
    bone_lengths,
)

TINY = CorpusConfig(n_train=6, n_dev=3, n_test=3, n_signers=6, seed=3)


@lru_cache(maxsize=1)
def _many() -> list:
    """~300 sequences shared by the statistics tests (about 1.5 s on one core)."""
    cfg = CorpusConfig(n_train=240, n_dev=30, n_test=30, n_signers=8, seed=11)
    splits = generate_splits(cfg)
    return [s for split in SPLITS for s in splits[split]]


def _bone_index(a: int, b: int) -> int:
    return BONES.index((a, b))


# ------------------------------------------------------------------------- lexicon
def test_lexicon_size_shapes_and_distinct_signs():
    assert len(LEXICON) >= 250
    assert len(HANDSHAPES) >= 12
    assert len({s.key for s in LEXICON.values()}) == len(LEXICON)
    assert {s.movement for s in LEXICON.values()} == set(MOVEMENTS)
    assert {s.hands for s in LEXICON.values()} >= {"one", "symmetric"}
    # a sign depends only on its gloss: rebuilding from a subset gives the same sign
    # unless that sign had to be redrawn to avoid a collision
    assert build_lexicon()["RAIN"] == LEXICON["RAIN"]
    assert all_gloss_ids() <= set(LEXICON)
    assert set(GLOSS_DE) == set(LEXICON)
    assert len(set(GLOSS_DE.values())) == len(GLOSS_DE)  # German glosses unambiguous


def test_sentences_format_and_glosses_in_lexicon():
    rng = np.random.default_rng(0)
    texts = set()
    for lang in ("en", "de"):
        for _ in range(400):
            s = sample_sentence(rng, lang)
            assert re.fullmatch(r"[a-zäöüß]+( [a-zäöüß]+)*", s.text), s.text
            assert all(g in LEXICON for g in s.glosses), s.glosses
            assert all(re.fullmatch(r"[A-Z][A-Z\-]*", g) for g in s.glosses)
            texts.add(s.text)
    assert len(texts) > 700  # thousands of distinct sentences are possible


def test_gloss_is_not_word_for_word():
    rng = np.random.default_rng(1)
    sents = [sample_sentence(rng, "en") for _ in range(600)]
    # function words have no gloss
    assert all(len(s.glosses) < len(s.words) for s in sents if "there" in s.words)
    # time-place-event reordering: "... in the north tomorrow" -> TOMORROW NORTH ...
    reordered = [
        s
        for s in sents
        if "tomorrow" in s.words
        and "north" in s.words
        and "NORTH" in s.glosses
        and s.words.index("north") < s.words.index("tomorrow")
        and s.glosses.index("TOMORROW") < s.glosses.index("NORTH")
    ]
    assert reordered
    # synonyms share a gloss, intensities follow the phenomenon
    strong = [s for s in sents if {"heavy", "intense"} & set(s.words)]
    assert strong and all("STRONG" in s.glosses for s in strong)
    heavy_rain = [s for s in sents if "heavy rain" in s.text]
    assert all("RAIN STRONG" in " ".join(s.glosses) for s in heavy_rain)
    # numbers become number glosses
    nums = [s for s in sents if "twenty one" in s.text]
    assert nums and all("TWENTY-ONE" in s.glosses for s in nums)


# ------------------------------------------------------------------------- signers
def test_bone_lengths_constant_in_time_and_differ_between_signers():
    signers = make_signers(6)
    glosses = ["TOMORROW", "NORTH", "RAIN", "STRONG", "BUT", "SOUTH", "SUN"]
    arm_bones = [
        _bone_index(R_SHOULDER, R_ELBOW),
        _bone_index(R_ELBOW, R_WRIST),
        _bone_index(L_SHOULDER, L_ELBOW),
        _bone_index(L_ELBOW, L_WRIST),
        _bone_index(NECK, L_SHOULDER),
    ]
    index_finger = [_bone_index(L_HAND_ROOT + k, L_HAND_ROOT + k + 1) for k in (5, 6)]
    means = []
    for k, signer in enumerate(signers):
        # clean signing: every bone keeps its length
        poses = realise(glosses, signer, np.random.default_rng(k), noise=False)
        lengths = bone_lengths(poses)  # (T, n_bones)
        rel_std = lengths.std(0) / lengths.mean(0)
        assert rel_std[arm_bones].max() < 1e-3, rel_std[arm_bones]
        assert rel_std[index_finger].max() < 1e-3
        means.append(lengths.mean(0)[arm_bones])
        # with estimation noise: one global scale per frame, bone ratios constant
        noisy = bone_lengths(realise(glosses, signer, np.random.default_rng(k)))
        ratio = noisy[:, index_finger] / noisy[:, arm_bones[:1]]
        assert (ratio.std(0) / ratio.mean(0)).max() < 2e-3
        assert 0.005 < (noisy.std(0) / noisy.mean(0))[arm_bones].max() < 0.05
    means = np.array(means)  # (signers, 5)
    assert np.ptp(means[:, 0]) > 0.01  # upper arms differ across signers
    assert np.ptp(means[:, 4]) > 0.005  # shoulder widths differ


def test_same_gloss_looks_the_same_across_realisations():
    """A gloss is signed at the same place whatever the tempo and the random state."""
    signer = make_signers(1)[0]

    def centroid(gloss: str, seed: int) -> np.ndarray:
        wrist = realise([gloss], signer, np.random.default_rng(seed))[:, L_WRIST]
        # start and end postures vary: the sign is where the wrist is far from both
        away = np.minimum(
            np.linalg.norm(wrist - wrist[0], axis=-1),
            np.linalg.norm(wrist - wrist[-1], axis=-1),
        )
        return wrist[away > 0.8 * away.max()].mean(0)  # where the sign happens

    # SNOW is signed at the forehead, far from every resting posture; RAIN low in
    # front (next to the postures, so its frames cannot be told apart this way)
    assert LEXICON["RAIN"].location != LEXICON["SNOW"].location
    snow = np.array([centroid("SNOW", seed) for seed in range(4)])
    rain = centroid("RAIN", 0)
    spread = np.linalg.norm(snow - snow.mean(0), axis=-1).max()
    assert spread < 0.04
    assert np.linalg.norm(rain - snow.mean(0)) > 0.15


# --------------------------------------------------------------------- corpus files
def test_generate_corpus_is_deterministic(tmp_path):
    sizes = generate_corpus(TINY, tmp_path / "a")
    generate_corpus(TINY, tmp_path / "b")
    generate_corpus(replace(TINY, seed=4), tmp_path / "c")
    assert sizes == {"train": 6, "dev": 3, "test": 3}
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "corpus.json" in names and "train.skels" in names and "dev.gloss" in names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (
            tmp_path / "b" / name
        ).read_bytes()
    assert (tmp_path / "a" / "train.skels").read_bytes() != (
        tmp_path / "c" / "train.skels"
    ).read_bytes()
    seqs = read_split(tmp_path / "a", "train")
    assert [s.name for s in seqs] == [f"train/{k:06d}" for k in range(6)]
    assert all(s.gloss and s.text for s in seqs)


def test_splits_do_not_share_realisations():
    cfg = CorpusConfig(n_train=150, n_dev=40, n_test=40, n_signers=6, seed=5)
    sizes = {"train": 150, "dev": 40, "test": 40}
    signers = sequence_signers(cfg)
    items = _draw_items(cfg)
    assert len({(s.text, k) for s, k in items}) == sum(sizes.values())
    assert [k for _, k in items[:150]] == signers["train"]
    train_text = {s.text for s, _ in items[:150]}
    assert any(s.text not in train_text for s, _ in items[150:])  # unseen sentences
    assert set(signers["train"]) == set(range(6))


def test_cli_smoke_preset_and_phoenix_sizes(tmp_path, capsys):
    assert PHOENIX_SIZES == (7096, 519, 642)
    assert main(["--preset", "smoke", "--out", str(tmp_path), "--seed", "2"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert len(read_split(tmp_path, "dev")) == 12


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="language"):
        generate_splits(replace(TINY, language="fr"))
    with pytest.raises(ValueError, match="n_signers"):
        generate_splits(replace(TINY, n_signers=0))


def test_german_option():
    splits = generate_splits(replace(TINY, language="de"))
    seqs = splits["train"] + splits["dev"]
    german = set(GLOSS_DE.values())
    assert all(g in german for s in seqs for g in s.gloss.split())
    words = {w for s in seqs for w in s.text.split()}
    assert words & {"im", "es", "die", "der", "am", "grad", "gibt", "wird", "ist"}


# ------------------------------------------------------------- PHOENIX-like values
def test_sequences_start_and_end_low_in_varied_postures():
    seqs = _many()
    wrists = [s.poses[:, [L_WRIST, R_WRIST]] for s in seqs]  # each (T, 2, 3)
    for frame in (0, -1):
        ends = np.stack([w[frame] for w in wrists])  # (S, 2, 3)
        # real PHOENIX: wrists around y 0.24-0.39, lower than the mean (y grows down)
        assert 0.24 < ends[..., 1].mean() < 0.42
        assert ends[:, 0, 1].mean() > np.mean([w[:, 0, 1].mean() for w in wrists])
        assert np.mean(ends[..., 1] > 0.1) > 0.95
        # not one fixed rest pose: std across sequences 0.05-0.13 per coordinate
        assert 0.04 < ends.std(0).mean() < 0.15, ends.std(0)


def test_length_and_sentence_statistics():
    stats = corpus_statistics({"train": _many()})["train"]
    frames = stats["frames"]
    assert 95 <= frames["mean"] <= 135, frames
    assert frames["min"] >= 25 and frames["max"] <= 320
    assert 12 <= stats["words_per_sentence"]["median"] <= 18
    assert 5 <= stats["glosses_per_sentence"]["median"] <= 9
    assert stats["glosses_per_sentence"]["min"] >= 3
    assert stats["gloss_vocab_size"] > 150


def test_values_in_phoenix_range_and_neck_at_origin():
    poses = np.concatenate([s.poses for s in _many()])  # (frames, J, K)
    assert poses.dtype == np.float32
    assert np.all(poses[:, NECK] == 0.0)
    lo, hi = poses.reshape(-1, 3).min(0), poses.reshape(-1, 3).max(0)
    assert (lo > [-0.6, -0.55, -0.3]).all() and (hi < [0.6, 0.7, 0.8]).all(), (lo, hi)
    mean = poses.mean(0)
    # measured PHOENIX means: head (-0.029, -0.194, -0.036), shoulders (+-0.167, 0.005)
    np.testing.assert_allclose(mean[0], [-0.029, -0.194, -0.036], atol=0.03)
    np.testing.assert_allclose(mean[R_SHOULDER, :2], [0.167, 0.005], atol=0.02)
    np.testing.assert_allclose(mean[L_SHOULDER, :2], [-0.166, 0.011], atol=0.02)
    assert mean[R_ELBOW, 0] > mean[R_SHOULDER, 0] > 0 > mean[L_SHOULDER, 0]
    assert mean[L_ELBOW, 1] > 0.1  # elbows hang below the shoulders


def test_wrist_speed_is_plausible():
    speeds = np.concatenate(
        [
            np.linalg.norm(np.diff(s.poses[:, [L_WRIST, R_WRIST]], axis=0), axis=-1)
            for s in _many()
        ]
    ).ravel()
    assert 0.01 <= np.median(speeds) <= 0.04
    assert 0.03 <= np.percentile(speeds, 90) <= 0.09
    assert speeds.max() < 0.25


def test_byte_identical_across_simd_paths(tmp_path):
    """A CPU without AVX-512 (simulated by switching numpy's SIMD kernels off) writes
    the same bytes: the corpus does not depend on the machine."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from nar_slp.config import get_config; "
        "from nar_slp.data.corpus import generate_corpus; "
        "cfg = get_config('smoke').corpus; generate_corpus(cfg, sys.argv[1])"
    )
    outs = []
    for name, features in (
        ("native", ""),
        ("no_avx512", "X86_V4 AVX512_ICL AVX512_SPR"),
    ):
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        if features:
            env["NPY_DISABLE_CPU_FEATURES"] = features
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / name)],
            env=env,
            check=True,
            capture_output=True,
        )
        outs.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir()})
    assert outs[0].keys() == outs[1].keys()
    for name in outs[0]:
        assert outs[0][name] == outs[1][name], name


def test_one_split_alone_is_the_same_as_in_the_whole_corpus():
    cfg = CorpusConfig(n_train=6, n_dev=3, n_test=3)
    whole = generate_splits(cfg)
    alone = generate_splits(cfg, only=("test",))
    assert list(alone) == ["test"]
    for a, b in zip(alone["test"], whole["test"], strict=True):
        assert a.name == b.name and a.text == b.text
        np.testing.assert_array_equal(a.poses, b.poses)
    with pytest.raises(ValueError, match="only="):
        generate_splits(cfg, only=("tset",))
