"""The student's text encoder: pretrained (tiny BERT), same-size scratch (w/o BERT),
offline default; batched frozen-feature caching."""

from __future__ import annotations

import dataclasses
import warnings

import pytest
import torch

from nar_slp.config import OFFLINE_TEXT_ENCODER, get_config
from nar_slp.models.text_encoder import (
    EncoderOutput,
    PretrainedTextEncoder,
    TextEncoderUnavailableError,
    build_text_encoder,
    checkpoint_pooling,
    masked_mean,
    offline_model_path,
)

TEXTS = ["the sun is warm today", "rain", "on tuesday it is mostly friendly"]


def _cfg(**changes):
    return dataclasses.replace(get_config("smoke").student, **changes)


@pytest.fixture
def frozen(tiny_bert_dir):
    return build_text_encoder(_cfg(text_encoder=str(tiny_bert_dir)))


def test_pretrained_shapes_and_mask(frozen, tiny_tokenizer):
    out = frozen.encode(TEXTS, "cpu")
    assert isinstance(out, EncoderOutput)
    n_tokens = [len(tiny_tokenizer(t)["input_ids"]) for t in TEXTS]
    assert out.hidden.shape == (3, max(n_tokens), 32)
    assert out.mask.dtype == torch.bool
    assert out.mask.sum(1).tolist() == n_tokens
    assert torch.equal(out.pooled, out.hidden[:, 0])  # the [CLS] vector


def test_frozen_encoder_no_grad_stays_eval_and_caches(frozen):
    assert isinstance(frozen, PretrainedTextEncoder)
    assert not any(p.requires_grad for p in frozen.parameters())
    frozen.train()
    assert not frozen.model.training  # dropout stays off in a frozen encoder
    batch = frozen.encode(TEXTS, "cpu")
    assert not batch.hidden.requires_grad
    assert len(frozen._cache) == 3
    # a cached text's features do not depend on the batch it is asked for in
    alone = frozen.encode([TEXTS[1]], "cpu")
    n = int(alone.mask.sum())
    assert torch.equal(batch.hidden[1, :n], alone.hidden[0, :n])
    assert (batch.hidden[1, n:] == 0).all()


def test_finetuned_encoder_trains(tiny_bert_dir):
    enc = build_text_encoder(
        _cfg(text_encoder=str(tiny_bert_dir), finetune_encoder=True)
    )
    assert all(p.requires_grad for p in enc.parameters())
    enc.train()
    assert enc.model.training
    enc.encode(TEXTS, "cpu").pooled.sum().backward()
    assert any(p.grad is not None for p in enc.parameters())


@pytest.mark.parametrize("bad", ["", "   \t "])
def test_empty_text_raises_with_index(frozen, bad):
    with pytest.raises(ValueError, match=r"texts\[1\]"):
        frozen.encode(["rain", bad, "sun"], "cpu")


def test_long_text_is_truncated_with_warning(tiny_bert_dir):
    enc = build_text_encoder(_cfg(text_encoder=str(tiny_bert_dir), max_tokens=6))
    long = "the sun is warm today and the wind is cold"
    with pytest.warns(UserWarning, match="1 of 2 text"):
        out = enc.encode([long, "rain"], "cpu")
    assert out.hidden.shape[1] == 6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enc.encode(["the sun is warm"], "cpu")  # exactly 6 tokens: no warning


def test_unknown_characters_become_unk(frozen, tiny_tokenizer):
    out = frozen.encode(["qqq ###"], "cpu")
    assert out.mask.all()
    assert torch.isfinite(out.hidden).all()


def test_unavailable_name_gives_clear_error():
    cfg = _cfg(text_encoder="nar-slp-tests/not-a-cached-model")
    with pytest.raises(TextEncoderUnavailableError) as info:
        build_text_encoder(cfg)
    message = str(info.value)
    assert "not available offline" in message
    assert OFFLINE_TEXT_ENCODER in message and "'scratch'" in message


def test_offline_default_minilm_loads():
    enc = build_text_encoder(_cfg(text_encoder=OFFLINE_TEXT_ENCODER))
    out = enc.encode(["the weather is sunny today"], "cpu")
    assert enc.dim == 384
    assert out.hidden.shape[-1] == 384 and torch.isfinite(out.hidden).all()


def test_checkpoint_pooling_follows_the_declared_sentence_pooling(tmp_path):
    import json

    assert checkpoint_pooling(tmp_path) == "cls"  # plain BERT folder: the paper's [CLS]
    (tmp_path / "1_Pooling").mkdir()
    cfg = {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(cfg))
    assert checkpoint_pooling(tmp_path) == "mean"
    (tmp_path / "1_Pooling" / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="1_Pooling"):
        checkpoint_pooling(tmp_path)


def test_bundled_minilm_uses_its_mean_pooling():

    assert checkpoint_pooling(offline_model_path()) == "mean"


def test_mean_pooling_ignores_padding():

    h = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    pooled = masked_mean(h, mask)
    assert torch.allclose(pooled[0], h[0, :2].mean(0))
    assert torch.allclose(pooled[1], h[1].mean(0))


def _n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_same_size_scratch_encoder_copies_the_architecture_not_the_weights(
    tiny_bert_dir,
):
    pretrained = build_text_encoder(_cfg(text_encoder=str(tiny_bert_dir)))
    # not seed 0: the "pretrained" tiny BERT of conftest is itself seed 0's random init
    torch.manual_seed(1)
    scratch = build_text_encoder(
        _cfg(text_encoder="scratch", scratch_like=str(tiny_bert_dir))
    )
    assert type(scratch.model) is type(pretrained.model)
    a, b = scratch.model.config, pretrained.model.config
    for key in (
        "num_hidden_layers",
        "hidden_size",
        "num_attention_heads",
        "intermediate_size",
        "vocab_size",
        "max_position_embeddings",
    ):
        assert getattr(a, key) == getattr(b, key), key
    assert _n_params(scratch) == _n_params(pretrained)
    assert scratch.state_dict().keys() == pretrained.state_dict().keys()
    assert scratch.pooling == pretrained.pooling and scratch.dim == pretrained.dim
    assert len(scratch.tokenizer) == len(pretrained.tokenizer)
    assert not scratch.pretrained and pretrained.pretrained
    # trainable, and randomly initialised: no weight matrix equals the pretrained one
    assert scratch.trainable and all(p.requires_grad for p in scratch.parameters())
    sd_s, sd_p = scratch.model.state_dict(), pretrained.model.state_dict()
    matrices = [k for k, v in sd_p.items() if v.dim() == 2]
    assert matrices and not any(torch.equal(sd_s[k], sd_p[k]) for k in matrices)
    scratch.train()
    assert scratch.model.training
    scratch.encode(TEXTS, "cpu").pooled.sum().backward()
    assert all(p.grad is not None for p in scratch.model.encoder.parameters())
    assert not scratch._cache  # a trained encoder never caches


def test_same_size_scratch_of_the_bundled_minilm():
    torch.manual_seed(0)
    scratch = build_text_encoder(_cfg(text_encoder="scratch"))
    config = scratch.model.config
    assert (
        config.num_hidden_layers,
        config.hidden_size,
        config.num_attention_heads,
        config.intermediate_size,
    ) == (6, 384, 12, 1536)
    pretrained = build_text_encoder(_cfg(text_encoder=OFFLINE_TEXT_ENCODER))
    assert _n_params(scratch) == _n_params(pretrained)
    assert scratch.pooling == pretrained.pooling == "mean"
    assert scratch.trainable and not pretrained.trainable


def test_batched_cache_fill_matches_one_text_at_a_time(tiny_bert_dir):
    texts = [
        "the sun is warm today",
        "rain",
        "on tuesday it is mostly friendly",
        "strong wind and cold night in the north",
        "snow",
    ]
    batched = build_text_encoder(_cfg(text_encoder=str(tiny_bert_dir)))
    single = build_text_encoder(_cfg(text_encoder=str(tiny_bert_dir)))
    together = batched.encode(texts, "cpu")  # one padded forward pass
    for i, text in enumerate(texts):
        alone = single.encode([text], "cpu")  # batch of one, no padding
        n = int(alone.mask.sum())
        assert int(together.mask[i].sum()) == n
        torch.testing.assert_close(
            together.hidden[i, :n], alone.hidden[0], atol=1e-5, rtol=1e-5
        )
        torch.testing.assert_close(
            together.pooled[i], alone.pooled[0], atol=1e-5, rtol=1e-5
        )
    # precompute then encode: served from the cache, same values, nothing recomputed
    pre = build_text_encoder(_cfg(text_encoder=str(tiny_bert_dir)))
    assert pre.precompute(texts + texts[:2], batch_size=2) == len(texts)
    assert pre.precompute(texts) == 0
    again = pre.encode(texts, "cpu")
    torch.testing.assert_close(again.hidden, together.hidden, atol=1e-5, rtol=1e-5)
