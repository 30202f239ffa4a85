"""The student (LLM, Eq. 3-6), its losses (Eq. 8-11) and inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import tiny_student_config

from nar_slp.data.dataset import PoseItem, collate
from nar_slp.data.normaliser import Normaliser
from nar_slp.inference import generate
from nar_slp.models.pose_vae import PoseVAE, freeze
from nar_slp.models.student import (
    StudentOutput,
    TextToLatentStudent,
    build_student,
    student_losses,
)
from nar_slp.skeleton import NUM_COORDS, NUM_JOINTS

T_MAX = 16
LATENT = 8
TEXTS = ["the sun is warm today", "rain", "on tuesday it is mostly friendly"]


_cfg = tiny_student_config  # max_frames T_MAX, latent LATENT


@pytest.fixture
def cfg(tiny_bert_dir):
    return _cfg(str(tiny_bert_dir), **{"student.finetune_encoder": True})


@pytest.fixture
def student(cfg) -> TextToLatentStudent:
    torch.manual_seed(0)
    return build_student(cfg)


@pytest.fixture
def vae(cfg) -> PoseVAE:
    torch.manual_seed(1)
    return freeze(PoseVAE(cfg.vae))


def _batch(lengths, seed=0, texts=None):
    gen = torch.Generator().manual_seed(seed)
    texts = texts or TEXTS
    items = [
        PoseItem(
            poses=torch.rand(n, NUM_JOINTS, NUM_COORDS, generator=gen),
            text=texts[i % len(texts)],
            gloss="",
            name=f"s{i}",
        )
        for i, n in enumerate(lengths)
    ]
    return collate(items)


def test_forward_shapes(student):
    out = student(TEXTS, lengths=torch.tensor([5, 3, 9]))
    assert isinstance(out, StudentOutput)
    assert out.z_lang.shape == (3, 9, LATENT)
    assert out.frame_mask.sum(1).tolist() == [5, 3, 9]
    assert out.length_ratio.shape == (3,)
    assert ((out.length_ratio > 0) & (out.length_ratio < 1)).all()
    assert out.lengths.tolist() == [5, 3, 9]


@pytest.mark.parametrize("kind", ["pretrained", "scratch"])
def test_padding_does_not_change_real_frames(
    kind, student, tiny_tokenizer, tiny_bert_dir
):
    if kind == "scratch":
        torch.manual_seed(0)
        student = build_student(
            _cfg(kind, **{"student.scratch_like": str(tiny_bert_dir)})
        )
    student.eval()
    with torch.no_grad():
        alone = student(["rain"], lengths=torch.tensor([4]))
        batch = student(
            ["rain", "on tuesday it is mostly friendly with little rain"],
            lengths=torch.tensor([4, 13]),
        )
    assert batch.z_lang.shape[1] == 13
    torch.testing.assert_close(batch.z_lang[0, :4], alone.z_lang[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(
        batch.length_ratio[0], alone.length_ratio[0], atol=1e-6, rtol=0
    )


def test_predicted_lengths_drive_the_output(student):
    student.eval()
    with torch.no_grad():
        out = student(TEXTS)
    expected = torch.round(out.length_ratio * T_MAX).clamp(1, T_MAX).long()
    assert torch.equal(out.lengths, expected)
    assert out.z_lang.shape[1] == int(expected.max())
    assert torch.equal(out.frame_mask.sum(1), expected)


def test_regulator_lengths_are_clamped(student):
    ratio = torch.tensor([0.0, 0.01, 0.5, 1.0])
    assert student.lengths_from_ratio(ratio).tolist() == [1, 1, 8, 16]


def test_xavier_init_spares_the_pretrained_encoder(cfg, tiny_bert_dir):
    from transformers import AutoModel

    torch.manual_seed(0)
    student = build_student(cfg)
    reference = AutoModel.from_pretrained(str(tiny_bert_dir), local_files_only=True)
    for (name, p), (_, q) in zip(
        student.encoder.model.named_parameters(),
        reference.named_parameters(),
        strict=True,
    ):
        assert torch.equal(p, q), name
    assert student.input_proj.bias.abs().sum() == 0  # biases start at zero


def _losses(student, vae, batch, use_kd=True, z_override=None):
    out = student(batch.texts, lengths=batch.lengths)
    if z_override is not None:
        out.z_lang = z_override(out)
    return out, student_losses(out, batch, vae, T_MAX, use_kd, (1.0, 1.0, 1.0))


def test_losses_match_eq_8_to_10_on_real_frames(student, vae):
    student.eval()
    batch = _batch([5, 3, 9])
    with torch.no_grad():
        out, losses = _losses(student, vae, batch)
    pose_err, lat_err = [], []
    for i, n in enumerate(batch.lengths.tolist()):
        y = batch.poses[i, :n].reshape(n, -1)  # (T_i, F)
        pose_err.append((vae.decode(out.z_lang[i, :n]) - y) ** 2)
        lat_err.append((out.z_lang[i, :n] - vae.lgm(y)) ** 2)
    torch.testing.assert_close(losses.pose, torch.cat(pose_err).mean())
    torch.testing.assert_close(losses.distil, torch.cat(lat_err).mean())
    ratio = torch.sigmoid(out.length_logit)
    target = batch.lengths.float() / T_MAX
    bce = -(target * ratio.log() + (1 - target) * (1 - ratio).log()).mean()
    torch.testing.assert_close(losses.length, bce)
    torch.testing.assert_close(
        losses.total, losses.pose + losses.distil + losses.length
    )


def test_losses_ignore_padding(student, vae):
    student.eval()
    batch = _batch([5, 3, 9])
    with torch.no_grad():
        _, ref = _losses(student, vae, batch)
        # garbage in padded pose frames
        noisy = _batch([5, 3, 9])
        noisy.poses[~noisy.mask] = 0.77
        _, a = _losses(student, vae, noisy)

        # garbage (even inf) in padded latent frames
        def corrupt(out):
            z = out.z_lang.clone()
            z[~out.frame_mask] = float("inf")
            return z

        _, b = _losses(student, vae, batch, z_override=corrupt)
    for other in (a, b):
        for key in ("total", "pose", "distil", "length"):
            torch.testing.assert_close(getattr(other, key), getattr(ref, key))


def test_kd_off_reports_but_excludes_distil(student, vae):
    student.eval()
    batch = _batch([5, 3, 9])
    with torch.no_grad():
        _, on = _losses(student, vae, batch, use_kd=True)
        _, off = _losses(student, vae, batch, use_kd=False)
    assert off.distil > 0
    torch.testing.assert_close(off.distil, on.distil)
    torch.testing.assert_close(off.total, off.pose + off.length)
    torch.testing.assert_close(on.total, off.total + on.distil)


def test_gradients_reach_student_not_vae(student, vae):
    batch = _batch([5, 3, 9])
    _, losses = _losses(student, vae, batch, use_kd=False)
    losses.pose.backward()  # only through the PGM
    assert student.decoder.out.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in vae.parameters())


def test_training_step_lowers_loss(student, vae):
    batch = _batch([5, 3, 9])
    opt = torch.optim.AdamW(student.parameters(), lr=3e-3)
    student.train()
    torch.manual_seed(0)
    losses = []
    for _ in range(15):
        _, loss = _losses(student, vae, batch)
        opt.zero_grad()
        loss.total.backward()
        opt.step()
        losses.append(float(loss.total.detach()))
    student.eval()
    with torch.no_grad():
        _, final = _losses(student, vae, batch)
    assert float(final.total) < 0.8 * losses[0]


def test_generate_predicted_lengths_original_coordinates(student, vae):
    rng = np.random.default_rng(0)
    normaliser = Normaliser.fit(
        [rng.normal(5.0, 3.0, (20, NUM_JOINTS, NUM_COORDS)) for _ in range(3)]
    )
    student.eval()
    with torch.no_grad():
        out = student(TEXTS)
        decoded = vae.decode(out.z_lang)  # (B, T, F)
    gen = generate(student, vae, normaliser, TEXTS, batch_size=2)
    assert gen.lengths.tolist() == out.lengths.tolist()
    assert len(gen.poses) == 3
    for i, pose in enumerate(gen.poses):
        n = int(out.lengths[i])
        assert pose.shape == (n, NUM_JOINTS, NUM_COORDS) and pose.dtype == np.float32
        expected = normaliser.inverse(
            decoded[i, :n].reshape(n, NUM_JOINTS, NUM_COORDS).numpy()
        )
        np.testing.assert_allclose(pose, expected, atol=1e-4)
    # forced lengths
    forced = generate(student, vae, normaliser, TEXTS, lengths=[2, 7, 1])
    assert [p.shape[0] for p in forced.poses] == [2, 7, 1]


def test_bad_lengths_rejected(student):
    with pytest.raises(ValueError, match="lengths"):
        student(TEXTS, lengths=torch.tensor([3, 0, 2]))
    with pytest.raises(ValueError, match="one length per text"):
        student(TEXTS, lengths=torch.tensor([3, 2]))
