"""The bundled procedural signing corpus: a PHOENIX-like stand-in, no download needed.

PHOENIX-2014T (the paper's data, §4.1) pairs German weather-forecast sentences with
DGS videos; its skeletons cannot be redistributed. This package generates a corpus
with the same file format, skeleton and coordinate conventions
(``docs/phoenix_reference.md``), deterministic from a seed:

- ``grammar``  weather-forecast sentences (English by default, German as an option) and
               their gloss sequences (not word for word: DGS-like order, dropped
               function words, shared synonyms, number glosses);
               its word lists, synonyms and phrase variants: ``grammar_tables``;
- ``lexicon``  >= 250 glosses, each a fixed sign (hand shape, orientation, location,
               movement, hands, duration) that does not depend on the corpus seed;
- ``signer``   several signers with different proportions; two-link arm IK and 3-D
               hands, so bone lengths are constant within a sequence;
- ``motion``   varied start posture -> minimum-jerk transitions and signs -> varied
               end posture, with tempo variation, coarticulation smoothing, an
               independent non-dominant hand, torso and shoulder motion, and (switch
               ``CorpusConfig.noise``) the estimation noise of lifted video poses.

``nar_slp.data.realism`` measures how much the result moves like real PT-format
PHOENIX-2014T skeletons (``docs/phoenix_reference.md``).

Entry points: :func:`generate_splits` (in memory), :func:`generate_corpus` (a PT-format
folder plus ``corpus.json``), and the CLI
``python -m nar_slp.data.corpus --preset default --out DIR``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from nar_slp.config import CorpusConfig, get_config
from nar_slp.data.corpus.grammar import LANGUAGES, Sentence, sample_sentence
from nar_slp.data.corpus.lexicon import (
    HANDSHAPES,
    LEXICON,
    LOCATIONS,
    MOVEMENTS,
    ORIENTATIONS,
    Sign,
    build_lexicon,
    gloss_name,
)
from nar_slp.data.corpus.motion import realise
from nar_slp.data.corpus.signer import SIGNERS, Signer, make_signers
from nar_slp.data.pt_format import SPLITS, SignSequence, write_split
from nar_slp.skeleton import L_WRIST, R_WRIST
from nar_slp.utils import atomic_write_text

__all__ = [
    "HANDSHAPES",
    "LEXICON",
    "LOCATIONS",
    "MOVEMENTS",
    "ORIENTATIONS",
    "PHOENIX_SIZES",
    "PHOENIX_STATS",
    "SIGNERS",
    "Sentence",
    "Sign",
    "Signer",
    "build_lexicon",
    "corpus_statistics",
    "generate_corpus",
    "generate_splits",
    "make_signers",
    "realise",
    "sample_sentence",
    "sequence_signers",
    "training_texts",
]

PHOENIX_SIZES = (7096, 519, 642)  # PHOENIX-2014T train / dev / test sentences
# Reference figures the generator is tuned toward (PHOENIX-2014T at 25 fps; frames from
# the train split's published total, 827,354 frames / 7,096 videos ~ 116.6; words and
# glosses per sentence from the PT-format sample in docs/phoenix_reference.md).
PHOENIX_STATS = {
    "frames_mean_train": 116.6,
    "frames_sample_range": (42, 198),
    "words_per_sentence": {"min": 9, "median": 15, "max": 25},
    "glosses_per_sentence": {"min": 3, "median": 8, "max": 11},
    "wrist_speed_median": 0.02,
}


def _check_config(cfg: CorpusConfig) -> None:
    for name in ("n_train", "n_dev", "n_test"):
        if getattr(cfg, name) < 0:
            raise ValueError(
                f"CorpusConfig.{name} must be >= 0, got {getattr(cfg, name)}"
            )
    if cfg.n_signers < 1:
        raise ValueError(f"CorpusConfig.n_signers must be >= 1, got {cfg.n_signers}")
    if cfg.language not in LANGUAGES:
        raise ValueError(
            f"CorpusConfig.language must be one of {LANGUAGES}, got {cfg.language!r}"
        )
    if cfg.fps < 5:
        raise ValueError(f"CorpusConfig.fps must be >= 5, got {cfg.fps}")


def _draw_items(cfg: CorpusConfig) -> list[tuple[Sentence, int]]:
    """All (sentence, signer index) pairs of the corpus, pairwise distinct."""
    rng = np.random.default_rng([cfg.seed, 0])
    total = cfg.n_train + cfg.n_dev + cfg.n_test
    seen: set[tuple[str, int]] = set()
    items: list[tuple[Sentence, int]] = []
    tries = 0
    while len(items) < total:
        tries += 1
        if tries > 50 * total + 1000:
            raise RuntimeError(
                f"could not draw {total} distinct (sentence, signer) pairs; "
                "lower n_train/n_dev/n_test or raise n_signers"
            )
        sentence = sample_sentence(rng, cfg.language)
        signer = int(rng.integers(cfg.n_signers))
        key = (sentence.text, signer)
        if key in seen:
            continue
        seen.add(key)
        items.append((sentence, signer))
    return items


def generate_splits(
    cfg: CorpusConfig, only: Sequence[str] = SPLITS
) -> dict[str, list[SignSequence]]:
    """Generate the corpus in memory: {"train"|"dev"|"test": [SignSequence, ...]}.

    Deterministic in ``cfg``. Sequence ``k`` of a split is named ``"{split}/{k:06d}"``;
    its poses are (T, 50, 3) float32 at ``cfg.fps``. No (sentence, signer) pair occurs
    twice in the whole corpus, so splits never share a realisation; the same sentence
    may appear with other signers, and dev/test also hold sentences unseen in train.
    The signer of each sequence is available via :func:`sequence_signers`. ``only``
    realises just those splits (each exactly as in the whole corpus: the test split
    of a run without its training split's cost).
    """
    _check_config(cfg)
    unknown = sorted(set(only) - set(SPLITS))
    if unknown:
        raise ValueError(f"only={unknown}: the splits are {SPLITS}")
    signers = make_signers(cfg.n_signers)
    items = _draw_items(cfg)
    sizes = {"train": cfg.n_train, "dev": cfg.n_dev, "test": cfg.n_test}
    out: dict[str, list[SignSequence]] = {}
    start = 0
    for s_idx, split in enumerate(SPLITS):
        if split in only:
            out[split] = [
                _realise(cfg, signers, items[start + k], s_idx, split, k)
                for k in range(sizes[split])
            ]
        start += sizes[split]
    return out


def _realise(cfg: CorpusConfig, signers, item, s_idx: int, split: str, k: int):
    """Sequence ``k`` of ``split``: its own generator, so its motion does not depend
    on the other sequences."""
    sentence, signer = item
    rng = np.random.default_rng([cfg.seed, 1, s_idx, k])
    poses = realise(sentence.glosses, signers[signer], rng, cfg.fps, noise=cfg.noise)
    return SignSequence(
        name=f"{split}/{k:06d}",
        text=sentence.text,
        gloss=" ".join(gloss_name(g, cfg.language) for g in sentence.glosses),
        poses=poses,
    )


def sequence_signers(cfg: CorpusConfig) -> dict[str, list[int]]:
    """Signer index of every sequence of :func:`generate_splits` (cheap: no motion)."""
    _check_config(cfg)
    items = _draw_items(cfg)
    out, start = {}, 0
    for split, n in zip(SPLITS, (cfg.n_train, cfg.n_dev, cfg.n_test), strict=True):
        out[split] = [signer for _, signer in items[start : start + n]]
        start += n
    return out


def training_texts(cfg: CorpusConfig) -> list[str]:
    """The training split's sentences of :func:`generate_splits`, in order (cheap: no
    motion), e.g. for the vocabulary a model of this corpus was trained on."""
    _check_config(cfg)
    return [sentence.text for sentence, _ in _draw_items(cfg)[: cfg.n_train]]


def _summary(values: np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {}
    p = np.percentile(values, [5, 25, 50, 75, 95])
    return {
        "mean": round(float(np.mean(values)), 2),
        "std": round(float(np.std(values)), 2),
        "min": float(np.min(values)),
        "p5": round(float(p[0]), 2),
        "p25": round(float(p[1]), 2),
        "median": round(float(p[2]), 2),
        "p75": round(float(p[3]), 2),
        "p95": round(float(p[4]), 2),
        "max": float(np.max(values)),
    }


def corpus_statistics(splits: dict[str, list[SignSequence]]) -> dict:
    """Length, vocabulary and motion statistics, per split and over all splits.

    Returns a JSON-serialisable dict with, for each split and ``"all"``: ``n``,
    ``frames`` (mean/std/min/percentiles/max), ``words_per_sentence``,
    ``glosses_per_sentence``, ``vocab_size`` (distinct words), ``gloss_vocab_size``,
    ``distinct_sentences``, ``wrist_speed`` (per-frame wrist displacement in .skels
    units, both wrists); for dev/test also ``unseen_sentences`` (fraction of sentences
    absent from train) and ``oov_words`` (fraction of word tokens unknown to train).
    """

    def stats(seqs: list[SignSequence]) -> dict:
        if not seqs:
            return {"n": 0}
        lengths = np.array([s.n_frames for s in seqs])
        words = [s.text.split() for s in seqs]
        glosses = [s.gloss.split() for s in seqs]
        speeds = np.concatenate(
            [
                np.linalg.norm(
                    np.diff(s.poses[:, [L_WRIST, R_WRIST]], axis=0), axis=-1
                ).ravel()
                for s in seqs
                if s.n_frames > 1
            ]
        )
        return {
            "n": len(seqs),
            "frames": _summary(lengths),
            "total_frames": int(lengths.sum()),
            "words_per_sentence": _summary(np.array([len(w) for w in words])),
            "glosses_per_sentence": _summary(np.array([len(g) for g in glosses])),
            "vocab_size": len({w for ws in words for w in ws}),
            "gloss_vocab_size": len({g for gs in glosses for g in gs}),
            "distinct_sentences": len({s.text for s in seqs}),
            "wrist_speed": {
                "median": round(float(np.median(speeds)), 4),
                "p90": round(float(np.percentile(speeds, 90)), 4),
                "max": round(float(speeds.max()), 4),
            },
        }

    out = {split: stats(seqs) for split, seqs in splits.items()}
    out["all"] = stats([s for seqs in splits.values() for s in seqs])
    train = splits.get("train", [])
    train_text = {s.text for s in train}
    train_words = {w for s in train for w in s.text.split()}
    for split in ("dev", "test"):
        seqs = splits.get(split, [])
        if seqs and train:
            tokens = [w for s in seqs for w in s.text.split()]
            out[split]["unseen_sentences"] = round(
                float(np.mean([s.text not in train_text for s in seqs])), 4
            )
            out[split]["oov_words"] = round(
                float(np.mean([w not in train_words for w in tokens])), 4
            )
    return out


def _rounded(value: Any, digits: int = 10) -> Any:
    """Floats rounded to ``digits`` significant digits, recursively. numpy's SIMD
    exp/log differ in the last ulp between CPUs (AVX-512 vs AVX2), which changed the
    signers' proportions in corpus.json (never the .skels) from machine to machine."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v, digits) for v in value]
    return value


def generate_corpus(cfg: CorpusConfig, out_dir: str | Path) -> dict[str, int]:
    """Write the corpus as a PT-format folder and return {split: number of sequences}.

    Writes ``{split}.skels/.text/.gloss/.files`` for train/dev/test (via
    ``pt_format.write_split``) and ``corpus.json`` holding the config, the signers'
    proportions, the signer of each sequence and :func:`corpus_statistics`. Everything
    is a function of ``cfg``: the same config gives byte-identical files, also across
    CPUs with different SIMD extensions (checked with ``NPY_DISABLE_CPU_FEATURES``).
    """
    out_dir = Path(out_dir)
    splits = generate_splits(cfg)
    for split in SPLITS:
        write_split(out_dir, split, splits[split])
    meta = {
        "generator": "nar_slp.data.corpus",
        "config": asdict(cfg),
        "fps": cfg.fps,
        "n_glosses_in_lexicon": len(LEXICON),
        "handshapes": list(HANDSHAPES),
        "signers": [_rounded(asdict(s)) for s in make_signers(cfg.n_signers)],
        "sequence_signers": sequence_signers(cfg),
        "statistics": corpus_statistics(splits),
        "phoenix_reference": PHOENIX_STATS,
    }
    text = json.dumps(meta, indent=1, sort_keys=True) + "\n"
    atomic_write_text(out_dir / "corpus.json", text)
    return {split: len(splits[split]) for split in SPLITS}


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m nar_slp.data.corpus --preset default --out DIR``."""
    parser = argparse.ArgumentParser(
        prog="python -m nar_slp.data.corpus", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--preset", default="default", help="smoke | default | paper")
    parser.add_argument("--out", required=True, help="output folder (PT format)")
    parser.add_argument("--seed", type=int, default=None, help="override corpus seed")
    parser.add_argument("--language", choices=LANGUAGES, default=None)
    parser.add_argument(
        "--phoenix-size",
        action="store_true",
        help=f"PHOENIX-2014T split sizes {PHOENIX_SIZES} instead of the preset's",
    )
    args = parser.parse_args(argv)
    cfg = get_config(args.preset).corpus
    if args.seed is not None:
        cfg = replace(cfg, seed=args.seed)
    if args.language is not None:
        cfg = replace(cfg, language=args.language)
    if args.phoenix_size:
        cfg = replace(
            cfg,
            n_train=PHOENIX_SIZES[0],
            n_dev=PHOENIX_SIZES[1],
            n_test=PHOENIX_SIZES[2],
        )
    t0 = time.perf_counter()
    sizes = generate_corpus(cfg, args.out)
    elapsed = time.perf_counter() - t0
    stats = json.loads((Path(args.out) / "corpus.json").read_text())["statistics"][
        "all"
    ]
    f, w, g = (
        stats["frames"],
        stats["words_per_sentence"],
        stats["glosses_per_sentence"],
    )
    print(f"wrote {sizes} to {args.out} in {elapsed:.1f} s")
    print(
        f"frames/sequence: mean {f['mean']} median {f['median']} "
        f"min {f['min']:.0f} max {f['max']:.0f} (PHOENIX-2014T train mean ~116.6)"
    )
    print(
        f"words/sentence: median {w['median']} ({w['min']:.0f}-{w['max']:.0f}); "
        f"glosses/sentence: median {g['median']} ({g['min']:.0f}-{g['max']:.0f}); "
        f"vocab {stats['vocab_size']} words, {stats['gloss_vocab_size']} glosses"
    )
    return 0
