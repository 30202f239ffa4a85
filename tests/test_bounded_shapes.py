"""Bounded shapes for compiled / GPU training (#17): padding frames and tokens to a
multiple changes nothing but the tensor shapes, and the decoder can be compiled in
place. CPU only, tiny configs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nar_slp.config import get_config
from nar_slp.data.dataset import PoseTextDataset, collate, make_loader
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.models.pose_vae import PoseVAE, freeze
from nar_slp.models.student import build_student, student_losses
from nar_slp.skeleton import NUM_COORDS, NUM_JOINTS
from nar_slp.training.student_trainer import compile_decoder, train_student
from nar_slp.utils import round_up

TEXTS = ["the sun is warm today", "rain", "on tuesday it is mostly friendly"]
T_MAX = 40


def _seqs(n: int = 12) -> list[SignSequence]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        t = int(rng.integers(5, T_MAX))
        poses = rng.normal(0, 0.2, (t, NUM_JOINTS, NUM_COORDS)).astype(np.float32)
        out.append(SignSequence(f"s{i}", TEXTS[i % 3], "", poses))
    return out


def _cfg(tiny_bert_dir, **kw):
    return get_config(
        "smoke",
        **{
            "student.text_encoder": str(tiny_bert_dir),
            "data.max_frames": T_MAX,
            "vae.latent_dim": 8,
            "vae.hidden": (16, 16),
            **kw,
        },
    )


def test_round_up():
    assert [round_up(n, 8) for n in (1, 8, 9, 16)] == [8, 8, 16, 16]
    assert round_up(7, 1) == 7
    with pytest.raises(ValueError, match="pad_to_multiple"):
        round_up(3, 0)


def test_loader_pads_frames_to_the_multiple_and_the_shapes_stay_bounded():
    seqs = _seqs(40)
    ds = PoseTextDataset(seqs, Normaliser.fit(seqs), max_frames=T_MAX)
    plain = {b.poses.shape[1] for b in make_loader(ds, 4, shuffle=True, seed=0)}
    padded = list(make_loader(ds, 4, shuffle=True, seed=0, pad_to_multiple=16))
    shapes = {b.poses.shape[1] for b in padded}
    assert shapes <= {16, 32, 48} and len(shapes) < len(plain)
    for b in padded:  # the mask still marks exactly the real frames
        assert torch.equal(b.mask.sum(1), b.lengths)
        assert (b.poses[~b.mask] == 0).all()


def test_padding_to_a_multiple_leaves_the_losses_unchanged(tiny_bert_dir):
    seqs = _seqs(6)
    norm = Normaliser.fit(seqs)
    ds = PoseTextDataset(seqs, norm, max_frames=T_MAX)
    items = [ds[i] for i in range(len(ds))]
    vae = freeze(PoseVAE(_cfg(tiny_bert_dir).vae))
    losses = {}
    for m in (1, 16):
        cfg = _cfg(tiny_bert_dir, **{"student.pad_to_multiple": m})
        torch.manual_seed(0)
        model = build_student(cfg).eval()
        batch = collate(items, pad_to_multiple=m)
        out = model(batch.texts, lengths=batch.lengths)
        assert out.z_lang.shape[1] == round_up(int(batch.lengths.max()), m)
        losses[m] = student_losses(out, batch, vae, T_MAX)
        enc = model.encoder.encode(batch.texts)
        assert enc.hidden.shape[1] % m == 0
    for name in ("pose", "distil", "length"):
        assert float(getattr(losses[16], name).detach()) == pytest.approx(
            float(getattr(losses[1], name).detach()), rel=1e-5, abs=1e-7
        )


def test_training_with_padding_and_a_compiled_decoder(tiny_bert_dir, tmp_path):
    seqs = _seqs(8)
    norm = Normaliser.fit(seqs)
    train = PoseTextDataset(seqs[:6], norm, max_frames=T_MAX)
    dev = PoseTextDataset(seqs[6:], norm, max_frames=T_MAX)
    vae = PoseVAE(_cfg(tiny_bert_dir).vae)
    hist = {}
    for name, kw in {
        "plain": {},
        "padded": {"student.pad_to_multiple": 16},
        "compiled": {"student.pad_to_multiple": 16, "student.compile": "eager"},
    }.items():
        cfg = _cfg(tiny_bert_dir, **{"student.train.epochs": 2, **kw})
        res = train_student(
            cfg, train, dev, vae, tmp_path / name, device="cpu", resume=False, log=None
        )
        hist[name] = [h["dev_pose"] for h in res.history]
    # padding and tracing change the shapes and the dispatch, not the arithmetic
    np.testing.assert_allclose(hist["padded"], hist["plain"], rtol=1e-4)
    np.testing.assert_allclose(hist["compiled"], hist["padded"], rtol=1e-5)


def test_bad_compile_backend_and_padding_are_refused_before_anything_is_written(
    tiny_bert_dir, tmp_path
):
    seqs = _seqs(4)
    norm = Normaliser.fit(seqs)
    ds = PoseTextDataset(seqs, norm, max_frames=T_MAX)
    vae = PoseVAE(_cfg(tiny_bert_dir).vae)
    for kw, match in (
        ({"student.compile": "fast"}, "student.compile"),
        ({"student.pad_to_multiple": 0}, "pad_to_multiple"),
    ):
        with pytest.raises(ValueError, match=match):
            train_student(
                _cfg(tiny_bert_dir, **kw), ds, None, vae, tmp_path / "x", log=None
            )
    assert not (tmp_path / "x").exists()
    model = build_student(_cfg(tiny_bert_dir))
    compile_decoder(model, "no")  # a no-op
    assert getattr(model.decoder, "_compiled_call_impl", None) is None
    compile_decoder(model, "eager")  # in place: the state dict keeps its names
    assert model.decoder._compiled_call_impl is not None
    assert all(not k.startswith("_orig_mod") for k in model.state_dict())
