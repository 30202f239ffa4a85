"""Back-translation model, BLEU and ROUGE-L (evaluation/back_translation.py)."""

from __future__ import annotations

import numpy as np
import pytest
import sacrebleu
import torch
from rouge_score.rouge_scorer import RougeScorer

from nar_slp.config import get_config
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.evaluation.back_translation import (
    EOS_ID,
    UNK_ID,
    SLTModel,
    Vocabulary,
    WhitespaceTokenizer,
    _pad_ids,
    _pad_poses,
    bleu_scores,
    load_slt,
    rouge_l,
    train_slt,
    translate,
)
from nar_slp.evaluation.tae import normalise_flat

HYPS = [
    "am dienstag ist es meist freundlich",
    "im nordosten regen",
    "morgen scheint die sonne im süden",
]
REFS = [
    "am dienstag ist es meist freundlich im nordosten",
    "im nordosten halten sich dichtere wolken mit etwas regen",
    "morgen scheint im süden die sonne",
]
TEXTS = ["sun in the north", "rain in the south", "cold wind today", "warm sun today"]


def _walk(t: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.2, (1, 50, 3))
    return (base + np.cumsum(rng.normal(0, 0.01, (t, 50, 3)), axis=0)).astype(
        np.float32
    )


@pytest.fixture(scope="module")
def corpus() -> list[SignSequence]:
    return [
        SignSequence(f"s{i}", TEXTS[i % 4], "", _walk(30 + 7 * i, i)) for i in range(8)
    ]


@pytest.fixture(scope="module")
def normaliser(corpus) -> Normaliser:
    return Normaliser.fit([s.poses for s in corpus], margin=0.5)


# -------------------------------------------------------------------------- metrics


def test_bleu_equals_sacrebleu_and_a_hand_value():
    got = bleu_scores(HYPS, REFS)
    assert got["BLEU-4"] == pytest.approx(sacrebleu.corpus_bleu(HYPS, [REFS]).score)
    for n in (1, 2, 3):
        ref = sacrebleu.metrics.BLEU(max_ngram_order=n).corpus_score(HYPS, [REFS]).score
        assert got[f"BLEU-{n}"] == pytest.approx(ref)
    assert got["BLEU-1"] > got["BLEU-2"] > got["BLEU-3"] > got["BLEU-4"]
    assert "nrefs:1" in got["signature"]
    # unigram precision 3/4, no brevity penalty
    assert bleu_scores(["a b c d"], ["a b c e"])["BLEU-1"] == pytest.approx(75.0)
    with pytest.raises(ValueError, match="references"):
        bleu_scores(HYPS, REFS[:2])


def test_rouge_l_equals_rouge_score_and_a_hand_value():
    scorer = RougeScorer(["rougeL"], tokenizer=WhitespaceTokenizer())
    expected = np.mean(
        [scorer.score(r, h)["rougeL"].fmeasure for h, r in zip(HYPS, REFS, strict=True)]
    )
    assert rouge_l(HYPS, REFS) == pytest.approx(100 * expected)
    default = RougeScorer(["rougeL"])
    expected_default = np.mean(
        [
            default.score(r, h)["rougeL"].fmeasure
            for h, r in zip(HYPS, REFS, strict=True)
        ]
    )
    assert rouge_l(HYPS, REFS, tokenizer="default") == pytest.approx(
        100 * expected_default
    )
    # LCS("a b c d", "a c d e") = 3 -> P = R = F = 3/4
    assert rouge_l(["a b c d"], ["a c d e"]) == pytest.approx(75.0)
    # umlauts stay inside words with the whitespace tokenizer
    assert WhitespaceTokenizer().tokenize("Südwesten regen") == ["südwesten", "regen"]


def test_vocabulary_round_trip_and_unknown_words():
    vocab = Vocabulary.build(TEXTS)
    ids = vocab.encode("sun in the east")
    assert ids[-1] == EOS_ID and ids[3] == UNK_ID
    assert vocab.decode(vocab.encode("rain in the north")) == "rain in the north"
    assert Vocabulary(vocab.itos).itos == vocab.itos


# ---------------------------------------------------------------------------- model


def test_a_few_training_steps_lower_the_loss_on_a_fixed_batch(corpus, normaliser):
    torch.manual_seed(0)
    vocab = Vocabulary.build(TEXTS)
    model = SLTModel(vocab, d_model=32, n_layers=1, n_heads=2, dropout=0.0)
    x, mask = _pad_poses([normalise_flat(s.poses, normaliser) for s in corpus], "cpu")
    tgt = _pad_ids([vocab.encode(s.text) for s in corpus], "cpu")
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = model.loss(x, mask, tgt).item()
    for _ in range(15):
        loss = model.loss(x, mask, tgt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.loss(x, mask, tgt).item() < 0.7 * first


def test_translate_returns_strings_and_batching_does_not_change_them(
    corpus, normaliser
):
    torch.manual_seed(1)
    model = SLTModel(
        Vocabulary.build(TEXTS), d_model=32, n_layers=1, n_heads=2, max_output_len=6
    ).eval()
    poses = [s.poses for s in corpus]
    greedy = translate(model, poses, normaliser, batch_size=3)
    assert len(greedy) == len(poses) and all(isinstance(h, str) for h in greedy)
    assert translate(model, poses[2:3], normaliser) == greedy[2:3]
    beam = translate(model, poses[:3], normaliser, beam_size=3)
    assert len(beam) == 3 and all(isinstance(h, str) for h in beam)
    assert all(len(h.split()) <= 6 for h in greedy + beam)


def test_train_slt_saves_vocab_and_reloads(tmp_path, corpus, normaliser):
    cfg = get_config("smoke", eval__slt_epochs=2, eval__batch_size=4)
    log: list[str] = []
    model = train_slt(
        cfg, corpus, corpus[:2], normaliser, tmp_path / "slt", log=log.append
    )
    assert len(log) == 2 and "dev" in log[0]
    again = load_slt(tmp_path / "slt")
    assert again.vocab.itos == model.vocab.itos and again.target == "text"
    poses = [s.poses for s in corpus[:3]]
    assert translate(again, poses, normaliser) == translate(model, poses, normaliser)
    # (poses, text) pairs are accepted; bare arrays are not
    train_slt(
        cfg, [(s.poses, s.text) for s in corpus], None, normaliser, None, log=None
    )
    with pytest.raises(TypeError, match="SignSequence"):
        train_slt(cfg, [s.poses for s in corpus], None, normaliser, None, log=None)
