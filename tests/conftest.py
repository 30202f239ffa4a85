"""Shared fixtures: a tiny random BERT and a WordPiece tokenizer built locally.

Nothing is downloaded: the vocabulary is a short word list, the model a random
``BertConfig`` (hidden 32, 2 layers, 2 heads), both saved with ``save_pretrained`` to a
temporary folder that ``StudentConfig.text_encoder`` can point at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_WORDS = (
    "the a on in is it and with there are of to at "
    "tuesday monday friday mostly friendly north northeast south west east "
    "thicker clouds cloud little rain sun sunny wind windy cold warm snow "
    "weather today tomorrow night day morning evening strong weak "
    "am ist es meist im regen wolken"
).split()
TINY_PIECES = ["##s", "##y", "##er", "##ing", "##ly", "##e", "##n"]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_tokenizer():
    """A BERT-style WordPiece tokenizer (lower-casing, [CLS] ... [SEP]) over
    :data:`TINY_WORDS`, built with the ``tokenizers`` library."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import PreTrainedTokenizerFast

    tokens = SPECIAL + TINY_WORDS + TINY_PIECES + list("abcdefghijklmnopqrstuvwxyz")
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys(tokens))}
    core = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    core.normalizer = normalizers.BertNormalizer(lowercase=True)
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.decoder = decoders.WordPiece(prefix="##")
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tiny_tokenizer()


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory, tiny_tokenizer) -> Path:
    """Folder with a random tiny BERT + tokenizer, loadable with local_files_only."""
    import torch
    from transformers import BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    folder = tmp_path_factory.mktemp("tiny_bert")
    config = BertConfig(
        vocab_size=len(tiny_tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        pad_token_id=tiny_tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def shipped_bundle(tmp_path_factory) -> Path:
    """The shipped weights' main student (kd seed 0) exported as a bundle."""
    from nar_slp.bundle import export_bundle
    from nar_slp.weights import SHIPPED_WEIGHTS

    return export_bundle(SHIPPED_WEIGHTS, tmp_path_factory.mktemp("b") / "default-kd")
