"""Back-translation (BT, §5.1): a pose -> text SLT model that scores generated poses.

The paper translates generated poses back into spoken language with an SLT model
trained on ground-truth poses and reports BLEU-1..4 and ROUGE-L (Table 1). Split by
concern:

``data``      vocabularies (target words, glosses) and batching
``model``     :class:`SLTModel`: Transformer encoder-decoder with a CTC gloss head
              (joint recognition and translation, Camgoz et al. 2020);
              :func:`build_slt` from ``cfg.slt``
``training``  :func:`train_slt` (ground truth only; dev-BLEU-4 checkpoint selection),
              :func:`load_slt`
``decoding``  greedy and batched beam search, :func:`translate`,
              :func:`back_translation_scores`

BLEU and ROUGE-L live in :mod:`nar_slp.evaluation.text_metrics` and are re-exported
here. Inputs are numpy poses (T, 50, 3) in ORIGINAL PT coordinates from any source,
normalised internally with the normaliser fitted on the ground-truth training split.
"""

from nar_slp.evaluation.back_translation.data import (
    BLANK_ID,
    BOS_ID,
    EOS_ID,
    PAD_ID,
    SPECIALS,
    UNK_ID,
    Vocabulary,
)
from nar_slp.evaluation.back_translation.decoding import (
    back_translation_scores,
    beam_search,
    greedy,
    sequence_scores,
    translate,
    translate_ids,
)
from nar_slp.evaluation.back_translation.model import (
    SLTLoss,
    SLTModel,
    SLTOutput,
    build_slt,
)
from nar_slp.evaluation.back_translation.training import load_slt, train_slt
from nar_slp.evaluation.text_metrics import (
    WhitespaceTokenizer,
    bleu_bootstrap,
    bleu_from_stats,
    bleu_scores,
    bleu_sentence_stats,
    rouge_l,
    rouge_l_per_sentence,
)

__all__ = [
    "BLANK_ID",
    "BOS_ID",
    "EOS_ID",
    "PAD_ID",
    "SPECIALS",
    "UNK_ID",
    "SLTLoss",
    "SLTModel",
    "SLTOutput",
    "Vocabulary",
    "WhitespaceTokenizer",
    "back_translation_scores",
    "beam_search",
    "bleu_bootstrap",
    "bleu_from_stats",
    "bleu_scores",
    "bleu_sentence_stats",
    "build_slt",
    "greedy",
    "load_slt",
    "rouge_l",
    "rouge_l_per_sentence",
    "sequence_scores",
    "train_slt",
    "translate",
    "translate_ids",
]
