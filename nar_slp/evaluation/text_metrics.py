"""Text metrics of back-translation (§5.1, Table 1): BLEU-1..4 and ROUGE-L.

Computed by the reference packages, not re-implemented: :func:`bleu_scores` uses
``sacrebleu`` (BLEU-n = corpus BLEU with ``max_ngram_order=n``, uniform weights,
default 13a tokenisation, exponential smoothing), :func:`rouge_l` uses
``rouge_score``'s ``RougeScorer(['rougeL'])``. :func:`bleu_sentence_stats` and
:func:`bleu_bootstrap` give the per-sentence statistics behind bootstrap intervals.

Kept apart from ``metrics.py`` (pose metrics) so each file stays readable; hypotheses
and references are strings of whitespace-separated words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def bleu_scores(hyps: Sequence[str], refs: Sequence[str]) -> dict[str, float | str]:
    """Corpus BLEU-1..4 (×100) by sacrebleu, one reference per hypothesis.

    BLEU-n is ``sacrebleu.metrics.BLEU(max_ngram_order=n).corpus_score(hyps, [refs])``:
    geometric mean of the 1..n-gram precisions with uniform weights, times the brevity
    penalty; default tokenisation (13a), no lowercasing.

    Returns:
        ``{"BLEU-1": …, "BLEU-2": …, "BLEU-3": …, "BLEU-4": …, "signature": str}``.
    """
    from sacrebleu.metrics import BLEU

    hyps, refs = list(hyps), list(refs)
    if len(hyps) != len(refs):
        raise ValueError(
            f"bleu_scores: {len(hyps)} hypotheses but {len(refs)} references"
        )
    if not hyps:
        raise ValueError("bleu_scores: no sentences")
    out: dict[str, float | str] = {}
    signature = ""
    for n in range(1, 5):
        metric = BLEU(max_ngram_order=n)
        out[f"BLEU-{n}"] = float(metric.corpus_score(hyps, [refs]).score)
        if n == 4:
            signature = str(metric.get_signature())
    out["signature"] = signature
    return out


def _bleu_metric(order: int) -> Any:
    from sacrebleu.metrics import BLEU

    return BLEU(max_ngram_order=order)


def bleu_sentence_stats(
    hyps: Sequence[str], refs: Sequence[str], order: int = 4
) -> np.ndarray:
    """Per-sentence sufficient statistics of sacrebleu's corpus BLEU-``order``.

    Row i is ``[hyp_len, ref_len, correct_1..correct_order, total_1..total_order]``
    of sentence i (13a tokens), exactly what ``corpus_score`` sums over sentences
    (sacrebleu's own paired bootstrap resamples these rows). Summing any multiset of
    rows and passing the sum to :func:`bleu_from_stats` equals ``corpus_score`` on the
    corresponding hypothesis/reference lists.

    Returns:
        (N, 2 + 2 * order) int64.
    """
    hyps, refs = list(hyps), list(refs)
    if len(hyps) != len(refs):
        raise ValueError(
            f"bleu_sentence_stats: {len(hyps)} hypotheses but {len(refs)} references"
        )
    stats = _bleu_metric(order)._extract_corpus_statistics(hyps, [refs])
    return np.asarray(stats, dtype=np.int64).reshape(len(hyps), 2 + 2 * order)


def bleu_from_stats(stats: np.ndarray, order: int = 4) -> float:
    """Corpus BLEU-``order`` (×100) from summed statistics (2 + 2 * order,)
    (see :func:`bleu_sentence_stats`), with the settings of :func:`bleu_scores`."""
    metric = _bleu_metric(order)
    return float(metric._compute_score_from_stats([int(v) for v in stats]).score)


def bleu_bootstrap(
    hyps: Sequence[str], refs: Sequence[str], boot_counts: np.ndarray
) -> dict[str, np.ndarray]:
    """Corpus BLEU-1..4 of every bootstrap resample, from statistics computed once.

    Args:
        hyps, refs: parallel lists of N strings.
        boot_counts: (n_boot, N) sentence counts
            (:func:`nar_slp.bootstrap.bootstrap_counts`).

    Returns:
        ``{"BLEU-1": (n_boot,), …, "BLEU-4": (n_boot,)}`` (×100).
    """
    out: dict[str, np.ndarray] = {}
    for n in range(1, 5):
        metric = _bleu_metric(n)
        summed = boot_counts @ bleu_sentence_stats(hyps, refs, n)  # (n_boot, S)
        out[f"BLEU-{n}"] = np.array(
            [
                metric._compute_score_from_stats([int(v) for v in row]).score
                for row in summed
            ],
            dtype=np.float64,
        )
    return out


class WhitespaceTokenizer:
    """Tokenizer for ``rouge_score``: lowercase + split on whitespace.

    ``rouge_score``'s default tokenizer keeps only [a-z0-9] and would split German
    words at umlauts and ß ("südwesten" -> "s", "dwesten"); PHOENIX-2014T text is
    German, already lowercased and without punctuation, so whitespace is the right
    token boundary.
    """

    def tokenize(self, text: str) -> list[str]:
        return text.lower().split()


def rouge_l(
    hyps: Sequence[str], refs: Sequence[str], tokenizer: Any = "whitespace"
) -> float:
    """Mean sentence-level ROUGE-L F-measure × 100 by ``rouge_score``.

    Args:
        hyps, refs: parallel lists of strings.
        tokenizer: ``"whitespace"`` (:class:`WhitespaceTokenizer`, default),
            ``"default"`` (rouge_score's own [a-z0-9] tokenizer) or any object with a
            ``tokenize(text) -> list[str]`` method.
    """
    return 100.0 * float(np.mean(rouge_l_per_sentence(hyps, refs, tokenizer)))


def rouge_l_per_sentence(
    hyps: Sequence[str], refs: Sequence[str], tokenizer: Any = "whitespace"
) -> np.ndarray:
    """Sentence-level ROUGE-L F-measures (N,) in [0, 1]; :func:`rouge_l` is 100 × their
    mean. Arguments as :func:`rouge_l`."""
    from rouge_score.rouge_scorer import RougeScorer

    hyps, refs = list(hyps), list(refs)
    if len(hyps) != len(refs):
        raise ValueError(f"rouge_l: {len(hyps)} hypotheses but {len(refs)} references")
    if not hyps:
        raise ValueError("rouge_l: no sentences")
    if tokenizer == "whitespace":
        tokenizer = WhitespaceTokenizer()
    elif tokenizer == "default":
        tokenizer = None
    scorer = RougeScorer(["rougeL"], tokenizer=tokenizer)
    return np.array(
        [scorer.score(r, h)["rougeL"].fmeasure for h, r in zip(hyps, refs, strict=True)]
    )
