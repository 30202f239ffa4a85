"""BLEU and ROUGE-L by the reference packages (nar_slp/evaluation/text_metrics.py)."""

from __future__ import annotations

import numpy as np
import pytest
import sacrebleu
from rouge_score.rouge_scorer import RougeScorer

from nar_slp.evaluation import back_translation
from nar_slp.evaluation.text_metrics import (
    WhitespaceTokenizer,
    bleu_from_stats,
    bleu_scores,
    bleu_sentence_stats,
    rouge_l,
    rouge_l_per_sentence,
)

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


def test_summed_sentence_stats_give_corpus_bleu():
    stats = bleu_sentence_stats(HYPS, REFS)
    assert stats.shape == (3, 10)
    assert bleu_from_stats(stats.sum(0)) == pytest.approx(
        bleu_scores(HYPS, REFS)["BLEU-4"]
    )


def test_rouge_l_equals_rouge_score_and_a_hand_value():
    scorer = RougeScorer(["rougeL"], tokenizer=WhitespaceTokenizer())
    expected = [
        scorer.score(r, h)["rougeL"].fmeasure for h, r in zip(HYPS, REFS, strict=True)
    ]
    assert rouge_l(HYPS, REFS) == pytest.approx(100 * np.mean(expected))
    assert np.allclose(rouge_l_per_sentence(HYPS, REFS), expected)
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


def test_old_import_path_still_works():
    for name in ("bleu_bootstrap", "rouge_l_per_sentence", "bleu_scores", "rouge_l"):
        assert getattr(back_translation, name) is not None
