"""``nar_slp.inference.generate``: the modes and devices it leaves models in."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import tiny_student_config

from nar_slp.data.normaliser import Normaliser
from nar_slp.inference import generate
from nar_slp.models.pose_vae import PoseVAE, freeze
from nar_slp.models.student import build_student
from nar_slp.skeleton import NUM_COORDS, NUM_JOINTS

TEXTS = ["the sun is warm today", "rain", "on tuesday it is mostly friendly"]


@pytest.fixture
def models(tiny_bert_dir):
    # dropout 0.5, so a decoder left training would show
    cfg = tiny_student_config(str(tiny_bert_dir), **{"student.dropout": 0.5})
    torch.manual_seed(0)
    student = build_student(cfg)
    torch.manual_seed(1)
    vae = freeze(PoseVAE(cfg.vae))
    rng = np.random.default_rng(0)
    normaliser = Normaliser.fit(
        [rng.normal(5.0, 3.0, (20, NUM_JOINTS, NUM_COORDS)) for _ in range(3)]
    )
    return student, vae, normaliser


@pytest.mark.parametrize("training", [True, False])
def test_generate_restores_each_models_mode(models, training):
    student, vae, normaliser = models
    student.train(training)
    vae.eval()
    generate(student, vae, normaliser, TEXTS)
    assert student.training is training
    assert all(m.training is training for m in student.decoder.modules())
    assert not vae.training


def test_generate_is_the_same_in_train_and_eval_mode(models):
    """A model handed over in training mode is evaluated without dropout."""
    student, vae, normaliser = models
    student.eval()
    ref = generate(student, vae, normaliser, TEXTS, lengths=[3, 5, 2])
    student.train()
    again = generate(student, vae, normaliser, TEXTS, lengths=[3, 5, 2])
    for a, b in zip(ref.poses, again.poses, strict=True):
        np.testing.assert_array_equal(a, b)


def test_generate_moves_models_to_the_requested_device(models):
    student, vae, normaliser = models
    gen = generate(student, vae, normaliser, TEXTS[:1], device="cpu", lengths=[4])
    assert gen.poses[0].shape == (4, NUM_JOINTS, NUM_COORDS)
    assert next(vae.parameters()).device.type == "cpu"
