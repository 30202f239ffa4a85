"""The student systems of a run: variants defined once, the seed layout, discovery."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nar_slp.checkpoints import save_checkpoint
from nar_slp.students import (
    STUDENT_VARIANTS,
    student_dir,
    student_dirs,
    variant_config,
)


def _fake_checkpoint(folder: Path) -> Path:
    save_checkpoint(folder, torch.nn.Linear(2, 2), {"student": {}}, {"kind": "student"})
    return folder


def test_student_dirs_finds_every_seed_in_seed_order(tmp_path):
    run = tmp_path / "run"
    for seed in (10, 0, 2):
        _fake_checkpoint(student_dir(run, "kd", seed))
    _fake_checkpoint(run / "students" / "no_kd")  # the layout before seeds
    (run / "students" / "no_bert" / "seed1").mkdir(parents=True)  # never trained
    _fake_checkpoint(run / "students" / "kd" / "seed-notes")  # not a seed folder
    found = student_dirs(run)
    assert list(found) == ["kd", "no_kd"]  # no_bert has no checkpoint: absent
    assert found["kd"] == [run / "students" / "kd" / f"seed{s}" for s in (0, 2, 10)]
    assert found["no_kd"] == [run / "students" / "no_kd"]
    assert student_dirs(tmp_path / "missing") == {}


def test_variants_are_the_three_claim_systems():
    assert list(STUDENT_VARIANTS) == ["kd", "no_kd", "no_bert"]
    kd = variant_config("smoke", "kd", seed=3)
    no_kd = variant_config("smoke", "no_kd", seed=3)
    no_bert = variant_config("smoke", "no_bert", seed=3)
    assert kd.student.use_kd and not no_kd.student.use_kd and no_bert.student.use_kd
    assert kd.seed == no_kd.seed == no_bert.seed == 3
    assert kd.student.text_encoder == no_kd.student.text_encoder
    assert no_bert.student.text_encoder == "scratch"
    assert no_bert.student.scratch_like == kd.student.text_encoder
    # apart from what the variant changes, the systems share every setting
    assert (
        kd.student.__class__(
            **{**no_bert.student.__dict__, "text_encoder": kd.student.text_encoder}
        )
        == kd.student
    )


def test_variant_config_keeps_the_ablation_matched_to_another_encoder():
    cfg = variant_config("smoke", "no_bert", student__text_encoder="some/bert")
    assert cfg.student.text_encoder == "scratch"
    assert cfg.student.scratch_like == "some/bert"
    assert (
        variant_config(
            "smoke", "kd", **{"student.text_encoder": "x"}
        ).student.text_encoder
        == "x"
    )
    with pytest.raises(KeyError, match="no_bert"):
        variant_config("smoke", "w/o bert")
