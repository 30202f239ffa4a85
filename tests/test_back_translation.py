"""Back-translation model (nar_slp/evaluation/back_translation/): vocabulary, model,
CTC gloss head, training with dev-BLEU selection, decoding, checkpoints."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from helpers import random_walk

from nar_slp.checkpoints import load_checkpoint
from nar_slp.config import get_config
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.evaluation.back_translation import (
    EOS_ID,
    UNK_ID,
    SLTModel,
    Vocabulary,
    beam_search,
    bleu_scores,
    greedy,
    load_slt,
    sequence_scores,
    train_slt,
    translate,
    translate_ids,
)
from nar_slp.evaluation.back_translation.data import pad_ids, pad_poses
from nar_slp.evaluation.tae import normalise_flat

TEXTS = ["sun in the north", "rain in the south", "cold wind today", "warm sun today"]
GLOSSES = ["SUN NORTH", "RAIN SOUTH", "COLD WIND TODAY", "WARM SUN TODAY"]


@pytest.fixture(scope="module")
def corpus() -> list[SignSequence]:
    seqs = []
    for i in range(8):
        poses = random_walk(30 + 7 * i, i)
        poses[:, 1] = 0.0  # the neck is the origin: a constant channel
        seqs.append(SignSequence(f"s{i}", TEXTS[i % 4], GLOSSES[i % 4], poses))
    return seqs


@pytest.fixture(scope="module")
def normaliser(corpus) -> Normaliser:
    return Normaliser.fit([s.poses for s in corpus], margin=0.5)


def _tiny(vocab=None, glosses=True, **kw) -> SLTModel:
    gloss_vocab = Vocabulary.build(GLOSSES) if glosses else None
    return SLTModel(
        vocab or Vocabulary.build(TEXTS),
        gloss_vocab,
        d_model=32,
        n_layers=1,
        n_heads=2,
        **kw,
    )


def _batch(corpus, normaliser, vocab):
    x, mask = pad_poses([normalise_flat(s.poses, normaliser) for s in corpus], "cpu")
    tgt = pad_ids([vocab.encode(s.text) for s in corpus], "cpu")
    gl = pad_ids(
        [Vocabulary.build(GLOSSES).encode(s.gloss, False) for s in corpus], "cpu"
    )
    return x, mask, tgt, gl


def test_vocabulary_round_trip_and_unknown_words():
    vocab = Vocabulary.build(TEXTS)
    ids = vocab.encode("sun in the east")
    assert ids[-1] == EOS_ID and ids[3] == UNK_ID
    assert vocab.encode("sun in", eos=False)[-1] != EOS_ID
    assert vocab.decode(vocab.encode("rain in the north")) == "rain in the north"
    assert Vocabulary(vocab.itos).itos == vocab.itos


def test_shapes_and_padding_does_not_change_a_sequence(corpus, normaliser):
    torch.manual_seed(0)
    model = _tiny(subsample=2, dropout=0.0).eval()
    model.standardiser.fit(normalise_flat(corpus[0].poses, normaliser))
    x, mask, tgt, _ = _batch(corpus, normaliser, model.vocab)
    out = model(x, mask, tgt)
    b, t = mask.shape
    assert out.memory.shape == (b, (t + 1) // 2, 32)
    assert out.logits.shape == (b, tgt.shape[1], len(model.vocab))
    assert out.gloss_logits.shape == (b, (t + 1) // 2, len(model.gloss_vocab))
    # sequence 0 (the shortest) alone equals its padded row
    n = int(mask[0].sum())
    alone = model(x[:1, :n], mask[:1, :n], tgt[:1])
    steps = int(out.memory_mask[0].sum())
    assert torch.allclose(alone.memory[0], out.memory[0, :steps], atol=1e-5)
    assert torch.allclose(alone.logits[0], out.logits[0], atol=1e-5)


def test_constant_channels_are_dropped_and_cannot_blow_up(corpus, normaliser):
    model = _tiny()
    frames = np.concatenate([normalise_flat(s.poses, normaliser) for s in corpus])
    model.standardiser.fit(frames)
    assert model.standardiser.n_dropped >= 3  # the neck's x, y, z
    x, mask, tgt, _ = _batch(corpus[:1], normaliser, model.vocab)
    model.eval()
    ref = model(x, mask, tgt).logits
    moved = x.clone()
    moved[..., 3:6] += 0.3  # a generated sequence whose neck is off the origin
    assert torch.equal(model(moved, mask, tgt).logits, ref)


def test_ctc_loss_is_present_and_training_lowers_both_terms(corpus, normaliser):
    torch.manual_seed(0)
    model = _tiny(dropout=0.0)
    x, mask, tgt, gl = _batch(corpus, normaliser, model.vocab)
    model.standardiser.fit(x[mask].numpy())
    first = model.loss(x, mask, tgt, gl)
    assert first.recognition is not None and first.recognition.item() > 0
    assert first.total.item() == pytest.approx(
        first.translation.item() + first.recognition.item(), rel=1e-5
    )
    assert model.loss(x, mask, tgt).recognition is None
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(25):
        loss = model.loss(x, mask, tgt, gl)
        opt.zero_grad()
        loss.total.backward()
        opt.step()
    last = model.loss(x, mask, tgt, gl)
    assert last.recognition.item() < 0.7 * first.recognition.item()
    assert last.translation.item() < 0.7 * first.translation.item()
    best_path = model.recognise(x, mask)  # blanks and repeats removed
    assert len(best_path) == len(corpus)
    assert all(0 < i < len(model.gloss_vocab) for g in best_path for i in g)


def test_translate_is_batch_independent_and_beam_is_at_least_greedy(corpus, normaliser):
    torch.manual_seed(1)
    model = _tiny(max_output_len=6).eval()
    poses = [s.poses for s in corpus]
    out = translate(model, poses, normaliser, batch_size=3)
    assert len(out) == len(poses) and all(isinstance(h, str) for h in out)
    assert translate(model, poses[2:3], normaliser) == out[2:3]
    assert all(len(h.split()) <= 6 for h in out)
    x, mask = pad_poses([normalise_flat(p, normaliser) for p in poses], "cpu")
    memory, memory_mask = model.encode(x, mask)
    g = greedy(model, memory, memory_mask, 6)
    b = beam_search(model, memory, memory_mask, 6, beam=4)
    s_g = sequence_scores(model, memory, memory_mask, g)
    s_b = sequence_scores(model, memory, memory_mask, b)
    # beam search alone finds at least as good a hypothesis on average ...
    assert float(s_b.mean()) >= float(s_g.mean()) - 1e-6
    # ... and what translate returns is never worse than greedy, sentence by sentence
    chosen = translate_ids(model, x, mask, beam_size=4)
    s_c = sequence_scores(model, memory, memory_mask, chosen)
    assert torch.all(s_c >= s_g - 1e-5)
    # batched beam search equals one sentence at a time
    one = beam_search(model, memory[3:4], memory_mask[3:4], 6, beam=4)
    assert one[0] == b[3]


def test_dev_bleu_selection_keeps_the_best_epoch_and_round_trips(
    tmp_path, corpus, normaliser
):
    cfg = get_config(
        "smoke",
        slt__train__epochs=6,
        slt__train__batch_size=4,
        slt__train__lr=3e-3,
    )
    log: list[str] = []
    model = train_slt(
        cfg, corpus, corpus[:4], normaliser, tmp_path / "slt", log=log.append
    )
    assert "ctc" in log[0] and "dev BLEU-4" in log[0]
    saved = load_checkpoint(tmp_path / "slt", with_optimizer=False)
    extra = saved.extra
    assert saved.config["model"]["n_values"] == 150
    assert "frame_size" not in saved.config["model"]
    # the shared logging policy: epochs 1, every 2nd, the last and the selected one
    # are printed; the history keeps every epoch
    shown = {int(line.split()[2].split("/")[0]) for line in log}
    assert shown == {1, 2, 4, 6, extra["best_epoch"]} and len(extra["history"]) == 6
    bleus = [row["dev_bleu4"] for row in extra["history"]]
    assert extra["best_epoch"] == 1 + int(np.argmax(bleus))
    assert extra["best_dev_bleu4"] == pytest.approx(max(bleus))
    assert len(set(bleus)) > 1  # the seeded history is not flat: selection matters
    dev_hyps = translate(model, [s.poses for s in corpus[:4]], normaliser)
    dev_refs = [s.text for s in corpus[:4]]
    assert bleu_scores(dev_hyps, dev_refs)["BLEU-4"] == pytest.approx(max(bleus))
    again = load_slt(tmp_path / "slt")
    assert again.vocab.itos == model.vocab.itos and again.target == "text"
    assert again.gloss_vocab.itos == model.gloss_vocab.itos
    for key, value in model.state_dict().items():
        assert torch.equal(again.state_dict()[key], value), key
    poses = [s.poses for s in corpus[:4]]
    assert translate(again, poses, normaliser) == translate(model, poses, normaliser)


def test_pairs_train_without_glosses_and_bad_inputs_are_rejected(corpus, normaliser):
    cfg = get_config("smoke", slt__train__epochs=1, slt__train__batch_size=4)
    model = train_slt(
        cfg, [(s.poses, s.text) for s in corpus], None, normaliser, None, log=None
    )
    assert model.gloss_head is None
    with pytest.raises(TypeError, match="SignSequence"):
        train_slt(cfg, [s.poses for s in corpus], None, normaliser, None, log=None)
    with pytest.raises(ValueError, match="beam_size"):
        translate(model, [corpus[0].poses], normaliser, beam_size=0)
    with pytest.raises(ValueError, match=r"slt\.train\.schedule 'cosine'"):
        bad = get_config("smoke", slt__train__schedule="cosine")
        train_slt(bad, corpus, None, normaliser, None, log=None)


def test_slt_patience_stops_after_dev_checks_without_a_better_bleu(
    tmp_path, corpus, normaliser
):
    # a learning rate too small to change the greedy translations: dev BLEU-4 is
    # flat, so only the first check improves
    cfg = get_config(
        "smoke",
        slt__train__epochs=6,
        slt__train__batch_size=4,
        slt__train__lr=1e-9,
        slt__train__patience=2,
    )
    log: list[str] = []
    train_slt(cfg, corpus, corpus[:4], normaliser, tmp_path / "slt", log=log.append)
    extra = load_checkpoint(tmp_path / "slt", with_optimizer=False).extra
    bleus = [row["dev_bleu4"] for row in extra["history"]]
    assert len(bleus) == 3 and len(set(bleus)) == 1 and extra["best_epoch"] == 1
    assert log[-1] == "SLT: early stop, best dev epoch 1"
    # patience 0 (the default): every epoch is trained
    cfg = replace(cfg, slt=replace(cfg.slt, train=replace(cfg.slt.train, patience=0)))
    train_slt(cfg, corpus, corpus[:4], normaliser, tmp_path / "all", log=None)
    extra = load_checkpoint(tmp_path / "all", with_optimizer=False).extra
    assert len(extra["history"]) == 6 and extra["best_epoch"] == 1
