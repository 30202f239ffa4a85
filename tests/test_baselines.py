"""The baselines of Table 1: Progressive Transformers (Base, FP&GN) and NSLP-G
(Base, GS, +ft), tiny configs, no download."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nar_slp.checkpoints import load_checkpoint
from nar_slp.config import VAEConfig, get_config
from nar_slp.data.dataset import PoseTextDataset, collate
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.models.nslp_g import NSLPG, generate_nslpg, load_nslpg
from nar_slp.models.pose_vae import PoseVAE
from nar_slp.models.progressive_transformer import (
    ProgressiveTransformer,
    build_pt,
    counters,
    future_targets,
    generate_pt,
    load_pt,
)
from nar_slp.models.word_encoder import WordVocab
from nar_slp.recipe import lr_factor
from nar_slp.skeleton import FRAME_SIZE, NUM_COORDS, NUM_JOINTS
from nar_slp.training import baseline_trainer
from nar_slp.training.baseline_recipe import (
    BaselineRecipe,
    StepSchedule,
    nslpg_dev_score,
    pt_dev_score,
)
from nar_slp.training.baseline_steps import (
    ErrorStatistics,
    nslpg_train_step,
    pt_end_epoch,
    pt_loss,
    pt_train_step,
)
from nar_slp.training.baseline_trainer import train_nslpg, train_pt

TEXTS = ["the sun is warm today", "rain", "on tuesday it is mostly friendly"]
GLOSSES = ["SUN WARM TODAY", "RAIN", "TUESDAY FRIENDLY"]
T_MAX = 24


def _cfg(**kw):
    return get_config("smoke", **{"data.max_frames": T_MAX, **kw})


def _seqs(n: int = 6, seed: int = 0) -> list[SignSequence]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = int(rng.integers(5, 14))
        base = rng.normal(0, 0.2, (1, NUM_JOINTS, NUM_COORDS))
        wave = np.sin(np.linspace(0, 3, t))[:, None, None] * 0.1
        poses = (base + wave + rng.normal(0, 0.01, (t, NUM_JOINTS, NUM_COORDS))).astype(
            np.float32
        )
        out.append(SignSequence(f"s{i}", TEXTS[i % 3], GLOSSES[i % 3], poses))
    return out


def _vocab() -> WordVocab:
    return WordVocab.build(TEXTS)


def _pt(
    future: int = 1, noise: float = 0.0, stop: float = 1.0
) -> ProgressiveTransformer:
    torch.manual_seed(0)
    m = ProgressiveTransformer(
        _vocab(),
        d_model=16,
        n_layers=2,
        n_heads=2,
        d_ff=32,
        future_frames=future,
        noise_rate=noise,
        max_frames=T_MAX,
        stop_counter=stop,
    )
    m.fit_statistics(torch.rand(50, FRAME_SIZE) * 0.1 + 0.45)
    return m


def _batch(seqs, normaliser):
    ds = PoseTextDataset(seqs, normaliser)
    return collate([ds[i] for i in range(len(ds))])


# ------------------------------------------------------------------ PT


def test_counters_end_at_one():
    c = counters(torch.tensor([4, 2]), 4)
    assert torch.allclose(c[0], torch.tensor([0.25, 0.5, 0.75, 1.0]))
    assert torch.allclose(c[1], torch.tensor([0.5, 1.0, 0.0, 0.0]))


def test_future_prediction_target_layout():
    frames = torch.arange(2 * 5, dtype=torch.float32).view(2, 5, 1)  # (B, T, C)
    lengths = torch.tensor([5, 3])
    out, mask = future_targets(frames, lengths, 3)
    assert out.shape == (2, 5, 3, 1)
    # out[b, t, k] = frames[b, t + k] where it exists
    assert out[0, 1, :, 0].tolist() == [1, 2, 3]
    assert out[1, 0, :, 0].tolist() == [5, 6, 7]
    assert mask[0, 3].tolist() == [True, True, False]
    assert mask[1, 1].tolist() == [True, True, False]
    assert mask[1, 2].tolist() == [True, False, False]
    assert not mask[1, 3].any()


def test_pt_shapes_and_teacher_forcing_layout():
    m = _pt(future=3)
    poses = torch.rand(3, 7, NUM_JOINTS, NUM_COORDS)
    lengths = torch.tensor([7, 5, 2])
    out = m(TEXTS, poses, lengths)
    assert out.pred.shape == (3, 7, 3, FRAME_SIZE + 1)
    assert out.target.shape == out.pred.shape and out.mask.shape == (3, 7, 3)
    inputs, target = m.teacher_forcing_io(poses.flatten(2), lengths)
    # input t+1 is target t (shifted by the start frame with counter 0)
    assert torch.equal(inputs[:, 1:], target[:, :-1])
    assert torch.equal(inputs[:, 0, :FRAME_SIZE], m.start_frame.expand(3, -1))
    assert (inputs[:, 0, -1] == 0).all()
    assert target[1, 4, -1] == 1.0 and target[2, 1, -1] == 1.0


def test_noise_uses_previous_epoch_statistics_and_spares_counter():
    m = _pt(future=1, noise=5.0)
    x = torch.rand(4000, 1, FRAME_SIZE + 1)
    assert torch.equal(m.add_noise(x), x)  # first epoch: no statistics yet -> no noise
    errors = ErrorStatistics(FRAME_SIZE)
    std = torch.linspace(0.01, 0.2, FRAME_SIZE)
    errors.update(torch.randn(20000, FRAME_SIZE) * std + 3.0)  # the mean is removed
    pt_end_epoch(m, errors)
    assert torch.allclose(m.noise_std, std, rtol=0.05)
    noisy = m.add_noise(x)
    assert torch.equal(noisy[..., -1], x[..., -1])  # no noise on the counter
    emp = (noisy - x)[..., :FRAME_SIZE].reshape(-1, FRAME_SIZE).std(0)
    assert torch.allclose(emp, 5.0 * std, rtol=0.06)


def test_pt_training_records_epoch_errors_for_next_epoch():
    seqs = _seqs()
    norm = Normaliser.fit(seqs)
    m = _pt(future=2, noise=5.0)
    batch = _batch(seqs, norm)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
    errors = ErrorStatistics(FRAME_SIZE)
    losses = [pt_train_step(m, opt, batch, errors) for _ in range(15)]
    assert losses[-1] < losses[0]
    assert errors.count == 15 * int(batch.lengths.sum())
    assert not m.noise_std.any()  # unchanged until the epoch ends
    pt_end_epoch(m, errors)
    assert torch.allclose(m.noise_std, errors.std())
    assert m.noise_std.min() > 0


def test_kv_cache_equals_uncached_decoding():
    m = _pt(future=2)
    for p in m.head.parameters():  # counters stay below the stop value
        torch.nn.init.normal_(p, 0, 0.05)
    a = m.generate(TEXTS, use_cache=True, max_frames=12)
    b = m.generate(TEXTS, use_cache=False, max_frames=12)
    assert a.lengths.tolist() == b.lengths.tolist() == [12, 12, 12]
    for x, y in zip(a.poses, b.poses, strict=True):
        assert torch.allclose(x, y, atol=1e-5)
    firsts = torch.rand(3, FRAME_SIZE)
    lengths = torch.tensor([5, 9, 3])
    a = m.generate(TEXTS, "oracle", firsts, lengths, use_cache=True)
    b = m.generate(TEXTS, "oracle", firsts, lengths, use_cache=False)
    for x, y in zip(a.poses, b.poses, strict=True):
        assert torch.allclose(x, y, atol=1e-5)


def test_stops_by_own_counter():
    m = _pt()
    with torch.no_grad():  # the predicted counter is the constant 0.35
        m.head.weight.zero_()
        m.head.bias.zero_()
        m.head.bias[-1] = 0.35
    gen = m.generate(TEXTS, max_frames=20)
    # a counter that never reaches 1 runs to T_max and is not "stopped"
    assert gen.lengths.tolist() == [20, 20, 20] and not gen.stopped.any()
    m.stop_counter = 0.3
    gen = m.generate(TEXTS, max_frames=20)
    assert gen.lengths.tolist() == [1, 1, 1] and gen.stopped.all()


def test_feeds_back_own_counter_and_stops_at_one():
    m = _pt()
    with torch.no_grad():  # next counter = fed-back counter + 0.25
        m.head.weight.zero_()
        m.head.bias.zero_()
        m.head.bias[-1] = 0.25
        m.head.weight[-1, 0] = 1.0
        m.in_proj.weight.zero_()
        m.in_proj.bias.zero_()
        m.in_proj.weight[0, -1] = 1.0  # channel 0 of the input = its counter
    # replace the decoder by the identity on the last input, to read the counter path
    m._step_uncached = lambda prefix, mem, pad: m._head_first(
        prefix[:, -1] - m.pos.pe[prefix.shape[1] - 1]
    )
    gen = m.generate(TEXTS, use_cache=False, max_frames=20)
    assert gen.lengths.tolist() == [4, 4, 4] and gen.stopped.all()
    assert torch.allclose(gen.counters[0], torch.tensor([0.25, 0.5, 0.75, 1.0]))


def test_oracle_uses_ground_truth_only_when_asked():
    m = _pt()
    with pytest.raises(ValueError, match="oracle"):
        m.generate(
            TEXTS,
            first_frames=torch.rand(3, FRAME_SIZE),
            lengths=torch.tensor([3, 4, 5]),
        )
    with pytest.raises(ValueError, match="ground truth"):
        m.generate(TEXTS, mode="oracle")
    firsts = torch.rand(3, FRAME_SIZE) * 0.1 + 0.45
    gen = m.generate(TEXTS, "oracle", firsts, torch.tensor([3, 7, 5]))
    assert gen.lengths.tolist() == [3, 7, 5] and not gen.stopped.any()
    keep = m.standardiser.keep > 0
    assert torch.allclose(gen.poses[0][0][keep], firsts[0][keep], atol=1e-5)
    assert torch.allclose(gen.counters[1], torch.arange(1, 8) / 7.0)
    # generate_pt: honest mode never reads refs; oracle mode needs them
    seqs = _seqs(3)
    norm = Normaliser.fit(seqs)
    a, _ = generate_pt(m, TEXTS, norm, "honest")
    b, _ = generate_pt(m, TEXTS, norm, "honest", refs=seqs)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    with pytest.raises(ValueError):
        generate_pt(m, TEXTS, norm, "oracle")
    c, _ = generate_pt(m, TEXTS, norm, "oracle", refs=seqs)
    assert [len(x) for x in c] == [s.n_frames for s in seqs]
    assert c[0].shape[1:] == (NUM_JOINTS, NUM_COORDS)


def test_train_pt_save_load_generate(tmp_path):
    cfg = _cfg(**{"pt.train.epochs": 3})
    seqs = _seqs()
    norm = Normaliser.fit(seqs)
    res = train_pt(cfg, "fpgn", seqs, norm, tmp_path / "pt")
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]
    assert res.history[0]["noise_std_mean"] > 0  # set after epoch 1
    loaded = load_pt(tmp_path / "pt")
    assert loaded.future_frames == cfg.pt.future_frames
    a, _ = generate_pt(res.model, TEXTS, norm)
    b, stopped = generate_pt(loaded, TEXTS, norm)
    assert all(np.allclose(x, y, atol=1e-5) for x, y in zip(a, b, strict=True))
    assert stopped.shape == (3,) and a[0].shape[1:] == (NUM_JOINTS, NUM_COORDS)
    assert build_pt(cfg.pt, "base", _vocab(), max_frames=T_MAX).future_frames == 1
    with pytest.raises(ValueError, match="variant"):
        build_pt(cfg.pt, "fp", _vocab(), max_frames=T_MAX)


# ------------------------------------------------------------------ NSLP-G


def _vae() -> PoseVAE:
    torch.manual_seed(0)
    return PoseVAE(VAEConfig(hidden=(16, 16), latent_dim=4))


def _nslpg(gs: bool) -> NSLPG:
    torch.manual_seed(0)
    return NSLPG(
        _vocab(),
        _vae(),
        d_model=16,
        n_layers=1,
        n_heads=2,
        d_ff=32,
        gloss_vocab=WordVocab.build(GLOSSES) if gs else None,
        max_frames=T_MAX,
    )


def test_nslpg_shapes_and_masked_loss():
    m = _nslpg(gs=False)
    out = m(TEXTS, torch.tensor([5, 3, 8]))
    assert out.poses.shape == (3, 8, FRAME_SIZE) and out.latents.shape == (3, 8, 4)
    assert out.gloss_logits is None
    # padded frames do not enter the loss
    target = torch.rand(3, 8, FRAME_SIZE)
    target2 = target.clone()
    target2[1, 3:] = 5.0
    assert torch.equal(m.loss(out, target).pose, m.loss(out, target2).pose)
    # padding does not change the real frames (no causal mask, but key padding)
    alone = m(TEXTS[1:2], torch.tensor([3]))
    assert torch.allclose(alone.poses[0], out.poses[1, :3], atol=1e-5)


def test_gs_loss():
    m = _nslpg(gs=True)
    out = m(TEXTS, torch.tensor([5, 3, 8]))
    assert out.gloss_logits.shape == (3, 8, len(m.gloss_vocab))
    loss = m.loss(out, torch.rand(3, 8, FRAME_SIZE), GLOSSES, gs_weight=0.5)
    assert loss.gs > 0
    assert torch.allclose(loss.total, loss.pose + 0.5 * loss.gs)
    with pytest.raises(ValueError, match="glosses"):
        m.loss(out, torch.rand(3, 8, FRAME_SIZE))
    # GS gradients reach the gloss head and the decoder; training lowers it
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-2)
    first = None
    for _ in range(20):
        out = m(TEXTS, torch.tensor([5, 3, 8]))
        loss = m.loss(out, torch.rand(3, 8, FRAME_SIZE), GLOSSES, 1.0)
        opt.zero_grad()
        loss.gs.backward()
        opt.step()
        first = first if first is not None else float(loss.gs.detach())
    assert float(loss.gs.detach()) < first


def test_ft_unfreezes_only_the_pose_decoder():
    m = _nslpg(gs=False)
    assert not any(p.requires_grad for p in m.vae.parameters())
    others = {n for n, p in m.named_parameters() if p.requires_grad}
    m.set_finetune(True)
    assert all(p.requires_grad for p in m.vae.decoder.parameters())
    assert not any(p.requires_grad for p in m.vae.encoder.parameters())
    now = {n for n, p in m.named_parameters() if p.requires_grad}
    assert now - others == {
        f"vae.decoder.{n}" for n, _ in m.vae.decoder.named_parameters()
    }


def test_train_nslpg_ft_changes_only_decoder_weights(tmp_path):
    from nar_slp.checkpoints import save_checkpoint

    vae = _vae()
    save_checkpoint(
        tmp_path / "vae",
        vae,
        {"vae": {"hidden": [16, 16], "latent_dim": 4}, "n_values": FRAME_SIZE},
    )
    cfg = _cfg(
        **{
            "nslpg.train.epochs": 4,
            "nslpg.ft_epochs": 2,
            "nslpg.train.lr": 3e-3,
        }
    )
    seqs = _seqs()
    norm = Normaliser.fit(seqs)
    base, ft = train_nslpg(
        cfg, True, seqs, norm, tmp_path / "vae", tmp_path / "b", tmp_path / "f"
    )
    assert base.history[-1]["train_loss"] < base.history[0]["train_loss"]
    assert base.history[:2] == ft.history[:2]  # shared epochs
    for n, p in vae.state_dict().items():
        assert torch.equal(base.model.vae.state_dict()[n], p)  # frozen
        if n.startswith("encoder"):
            assert torch.equal(ft.model.vae.state_dict()[n], p)
    assert not torch.equal(ft.model.vae.decoder[0].weight, vae.decoder[0].weight)
    loaded = load_nslpg(tmp_path / "f")
    assert loaded.mean_length == round(np.mean([s.n_frames for s in seqs]))
    a = generate_nslpg(ft.model, TEXTS, norm)
    b = generate_nslpg(loaded, TEXTS, norm)
    assert [len(x) for x in a] == [loaded.mean_length] * 3  # the non-oracle rule
    assert all(np.allclose(x, y, atol=1e-5) for x, y in zip(a, b, strict=True))
    c = generate_nslpg(loaded, TEXTS, norm, lengths=[4, 6, 2])  # the oracle row
    assert [x.shape for x in c] == [(4, NUM_JOINTS, NUM_COORDS), (6, 50, 3), (2, 50, 3)]
    # a training step of the +ft model moves only trainable parameters
    batch = _batch(seqs, norm)
    opt = torch.optim.AdamW(
        [p for p in loaded.parameters() if p.requires_grad], lr=1e-3
    )
    nslpg_train_step(loaded, opt, batch, 0.1)


def test_pt_loss_gives_the_counter_its_own_term():
    from nar_slp.models.progressive_transformer import PTOutput

    target = torch.zeros(1, 2, 3, FRAME_SIZE + 1)
    mask = torch.tensor([[[True, True, False], [True, False, False]]])
    pred = target.clone()
    pred[..., -1] = 1.0  # counter off by 1 everywhere, joints exact
    assert torch.isclose(pt_loss(PTOutput(pred, target, mask)), torch.tensor(1.0))
    pred = target.clone()
    pred[..., :-1] = 2.0  # joints off by 2, counter exact
    pred[0, 0, 2] = 100.0  # a masked future frame does not count
    assert torch.isclose(pt_loss(PTOutput(pred, target, mask)), torch.tensor(4.0))


# ------------------------------------------------------------------ dev selection


def test_train_pt_scores_dev_each_epoch_and_keeps_the_selected_epoch(tmp_path):
    seqs = _seqs(8)
    train, dev = seqs[:6], seqs[6:]
    norm = Normaliser.fit(train)
    cfg = _cfg(**{"pt.train.epochs": 3})
    plain = train_pt(cfg, "base", train, norm, tmp_path / "plain", dev=dev)
    assert all("dev_pose" in h for h in plain.history)
    # scoring dev draws no random numbers: the weights are those without dev
    nodev = train_pt(cfg, "base", train, norm, tmp_path / "nodev")
    for a, b in zip(plain.model.parameters(), nodev.model.parameters(), strict=True):
        assert torch.equal(a, b)
    sel_cfg = _cfg(
        **{
            "pt.train.epochs": 3,
            "pt.train.lr": 3e-2,  # a rate at which dev peaks before the last epoch
        }
    )
    select = BaselineRecipe(select_on_dev=True)
    sel = train_pt(
        sel_cfg, "base", train, norm, tmp_path / "sel", dev=dev, recipe=select
    )
    scores = [h["dev_pose"] for h in sel.history]
    best = int(np.argmin(scores)) + 1
    assert best < 3, scores  # else this test could not tell selection from "last"
    ckpt = load_checkpoint(tmp_path / "sel", with_optimizer=False)
    assert ckpt.extra["selected_epoch"] == best
    dev_set = PoseTextDataset(dev, norm, max_frames=T_MAX, truncate=True)
    assert pt_dev_score(load_pt(tmp_path / "sel"), dev_set) == pytest.approx(
        scores[best - 1], rel=1e-5
    )
    with pytest.raises(ValueError, match="select_on_dev"):
        train_pt(sel_cfg, "base", train, norm, tmp_path / "x", recipe=select)


def test_baseline_schedule_sets_the_rate_of_every_step(tmp_path):
    sched = StepSchedule("warmup_cosine", warmup=0.5, total=4)
    opt = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=1.0)
    rates = []
    for _ in range(4):
        sched(opt, 2.0)
        rates.append(opt.param_groups[0]["lr"])
    assert rates[0] == pytest.approx(1.0) and rates[1] == pytest.approx(2.0)
    assert rates[-1] < rates[1]
    with pytest.raises(ValueError, match="unknown schedule 'cosine'"):
        StepSchedule("cosine", warmup=0.5, total=4)
    seqs = _seqs()
    norm = Normaliser.fit(seqs)
    with pytest.raises(ValueError, match=r"pt\.train\.schedule 'cosine'"):
        train_pt(_cfg(pt__train__schedule="cosine"), "base", seqs, norm, tmp_path / "b")
    with pytest.raises(ValueError, match=r"nslpg\.train\.schedule 'cosine'"):
        train_nslpg(
            _cfg(nslpg__train__schedule="cosine"),
            False,
            seqs,
            norm,
            tmp_path / "vae",
            tmp_path / "n",
            tmp_path / "f",
        )


def test_train_nslpg_selects_each_model_on_its_own_history(tmp_path):
    from nar_slp.checkpoints import save_checkpoint

    save_checkpoint(
        tmp_path / "vae",
        _vae(),
        {"vae": {"hidden": [16, 16], "latent_dim": 4}, "n_values": FRAME_SIZE},
    )
    seqs = _seqs(8)
    train, dev = seqs[:6], seqs[6:]
    norm = Normaliser.fit(train)
    cfg = _cfg(
        **{
            "nslpg.train.epochs": 4,
            "nslpg.ft_epochs": 2,
            "nslpg.train.lr": 0.1,  # dev peaks at a shared epoch for Base
            "nslpg.ft_lr": 0.1,
        }
    )
    base, ft = train_nslpg(
        cfg,
        False,
        train,
        norm,
        tmp_path / "vae",
        tmp_path / "b",
        tmp_path / "f",
        dev=dev,
        recipe=BaselineRecipe(select_on_dev=True),
    )
    dev_set = PoseTextDataset(dev, norm, max_frames=T_MAX, truncate=True)
    selected = []
    for res, d in ((base, "b"), (ft, "f")):
        scores = [h["dev_pose"] for h in res.history]
        best = int(np.argmin(scores)) + 1
        ckpt = load_checkpoint(tmp_path / d, with_optimizer=False)
        assert ckpt.extra["selected_epoch"] == best
        assert nslpg_dev_score(load_nslpg(tmp_path / d), dev_set) == pytest.approx(
            scores[best - 1], rel=1e-5
        )
        selected.append(best)
    assert selected[0] <= 2 < selected[1], selected  # a shared epoch; an ft epoch


# ------------------------------------------------------------------ config wiring


def _save_vae(directory):
    from nar_slp.checkpoints import save_checkpoint

    save_checkpoint(
        directory,
        _vae(),
        {"vae": {"hidden": [16, 16], "latent_dim": 4}, "n_values": FRAME_SIZE},
    )


def _spy_loop(monkeypatch):
    """Record what the trainers hand the training loop: its clip and selection, the
    optimizer's weight decay and, after each call, its learning rate."""
    calls = []
    real = baseline_trainer.train_epochs

    def spy(model, optimizer, *args, **kwargs):
        result = real(model, optimizer, *args, **kwargs)
        group = optimizer.param_groups[0]
        calls.append({**kwargs, "weight_decay": group["weight_decay"]})
        calls[-1]["lr"] = group["lr"]
        return result

    monkeypatch.setattr(baseline_trainer, "train_epochs", spy)
    return calls


def test_trainers_read_their_own_train_config(tmp_path, monkeypatch):
    calls = _spy_loop(monkeypatch)
    seqs = _seqs()
    norm = Normaliser.fit(seqs)
    train = {"epochs": 2, "lr": 2e-3, "weight_decay": 0.05, "grad_clip": 0.5}
    train |= {"schedule": "warmup_cosine", "warmup": 0.5}
    cfg = _cfg(**{f"pt.train.{k}": v for k, v in train.items()})
    train_pt(cfg, "base", seqs, norm, tmp_path / "pt")
    (pt,) = calls
    assert pt["clip"] == 0.5 and pt["weight_decay"] == 0.05
    assert pt["selection"] is None and pt["hint"] == "lower pt.train.lr"
    steps = 2 * 1  # epochs x batches (6 sequences, batch 32)
    assert pt["lr"] == pytest.approx(2e-3 * lr_factor("warmup_cosine", 1, steps, 0.5))
    # the defaults: torch's AdamW decay, clip 1.0, a constant rate; 0 = no clip
    calls.clear()
    train_pt(_cfg(pt__train__grad_clip=0.0), "base", seqs, norm, tmp_path / "p0")
    assert calls[0]["clip"] is None and calls[0]["weight_decay"] == 0.01
    assert calls[0]["lr"] == 1e-3
    calls.clear()
    _save_vae(tmp_path / "vae")
    cfg = _cfg(
        **{f"nslpg.train.{k}": v for k, v in {**train, "epochs": 3}.items()},
        nslpg__ft_epochs=1,
        nslpg__ft_lr=4e-4,
    )
    train_nslpg(
        cfg, False, seqs, norm, tmp_path / "vae", tmp_path / "b", tmp_path / "f"
    )
    shared, frozen, ft = calls
    for call in calls:
        assert call["clip"] == 0.5 and call["weight_decay"] == 0.05
    assert shared["hint"] == frozen["hint"] == "lower nslpg.train.lr"
    assert ft["hint"] == "lower nslpg.ft_lr"
    last = lr_factor("warmup_cosine", 2, 3, 0.5)  # both branches go on to step 3
    assert frozen["lr"] == pytest.approx(2e-3 * last)
    assert ft["lr"] == pytest.approx(4e-4 * last)


def test_patience_stops_a_dev_selected_baseline(tmp_path):
    seqs = _seqs(8)
    train, dev = seqs[:6], seqs[6:]
    norm = Normaliser.fit(train)
    select = BaselineRecipe(select_on_dev=True)
    cfg = _cfg(pt__train__epochs=5, pt__train__lr=3e-2, pt__train__patience=1)
    res = train_pt(cfg, "base", train, norm, tmp_path / "pt", dev=dev, recipe=select)
    scores = [h["dev_pose"] for h in res.history]
    assert len(scores) < 5 and scores[-1] >= min(scores), scores  # stopped early
    best = int(np.argmin(scores)) + 1
    assert len(scores) == best + 1
    ckpt = load_checkpoint(tmp_path / "pt", with_optimizer=False)
    assert ckpt.extra["selected_epoch"] == best
    with pytest.raises(ValueError, match=r"pt\.train\.patience needs recipe"):
        train_pt(cfg, "base", train, norm, tmp_path / "x", dev=dev)
    ncfg = _cfg(nslpg__train__patience=2)
    with pytest.raises(ValueError, match=r"nslpg\.train\.patience needs recipe"):
        train_nslpg(
            ncfg, False, train, norm, tmp_path / "v", tmp_path / "b", tmp_path / "f"
        )
    with pytest.raises(ValueError, match=r"nslpg\.ft_epochs \(9\)"):
        train_nslpg(
            _cfg(nslpg__ft_epochs=9),
            False,
            train,
            norm,
            tmp_path / "v",
            tmp_path / "b",
            tmp_path / "f",
        )


# ------------------------------------------------------------------ reuse


def test_trained_baselines_are_reused_without_retrain(tmp_path):
    seqs = _seqs()
    norm = Normaliser.fit(seqs)
    cfg = _cfg(pt__train__epochs=1, nslpg__train__epochs=2, nslpg__ft_epochs=1)
    pt = train_pt(cfg, "fpgn", seqs, norm, tmp_path / "pt")
    _save_vae(tmp_path / "vae")
    base, ft = train_nslpg(
        cfg, True, seqs, norm, tmp_path / "vae", tmp_path / "b", tmp_path / "f"
    )
    again = train_pt(cfg, "fpgn", seqs, norm, tmp_path / "pt")
    assert again.history == pt.history
    for x, y in zip(again.model.parameters(), pt.model.parameters(), strict=True):
        assert torch.equal(x, y)
    rb, rf = train_nslpg(
        cfg, True, seqs, norm, tmp_path / "vae", tmp_path / "b", tmp_path / "f"
    )
    assert rb.history == base.history and rf.history == ft.history
