"""Student training loop: history, checkpoints, exact resumption, dev-based
checkpoint selection and early stopping, loading, G2P mode, DurACC's boundary."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nar_slp.checkpoints import load_checkpoint
from nar_slp.config import get_config
from nar_slp.data.dataset import PoseTextDataset
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.models.pose_vae import PoseVAE
from nar_slp.models.student import build_student, load_student
from nar_slp.skeleton import NUM_COORDS, NUM_JOINTS
from nar_slp.training import student_trainer
from nar_slp.training.student_trainer import (
    best_epoch,
    evaluate_student,
    make_student_loader,
    train_student,
)

T_MAX = 16
SENTENCES = [
    "the sun is warm today",
    "rain in the north",
    "on tuesday it is mostly friendly",
    "strong wind and cold night",
    "snow in the east tomorrow",
    "thicker clouds with little rain",
]
HISTORY_KEYS = {
    "epoch",
    "train_total",
    "train_pose",
    "train_distil",
    "train_length",
    "dev_pose",
    "dev_distil",
    "dev_length",
    "dev_duracc",
    "seconds",
}


def _cfg(tiny_bert_dir, **overrides):
    base = {
        "student.text_encoder": str(tiny_bert_dir),
        "data.max_frames": T_MAX,
        "vae.latent_dim": 8,
        "vae.hidden": (16, 16),
        "student.train.batch_size": 4,
        "student.train.epochs": 2,
        "student.train.lr": 2e-3,
    }
    return get_config("smoke", **{**base, **overrides})


def _sequences(n: int, seed: int) -> list[SignSequence]:
    rng = np.random.default_rng(seed)
    return [
        SignSequence(
            name=f"seq{seed}_{i}",
            text=SENTENCES[i % len(SENTENCES)],
            gloss=SENTENCES[i % len(SENTENCES)].upper(),
            poses=rng.normal(
                0, 1, (int(rng.integers(3, T_MAX)), NUM_JOINTS, NUM_COORDS)
            ).astype(np.float32),
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def data():
    train, dev = _sequences(10, 0), _sequences(4, 1)
    normaliser = Normaliser.fit([s.poses for s in train])
    with pytest.warns(UserWarning):  # dev values outside the train range get clipped
        dev_set = PoseTextDataset(dev, normaliser, max_frames=T_MAX)
    return PoseTextDataset(train, normaliser, max_frames=T_MAX), dev_set


def _vae(cfg) -> PoseVAE:
    torch.manual_seed(123)
    return PoseVAE(cfg.vae)


def _train(cfg, data, out_dir, **kwargs):
    train_set, dev_set = data
    kwargs.setdefault("log", None)
    return train_student(
        cfg, train_set, dev_set, _vae(cfg), out_dir, device="cpu", **kwargs
    )


@pytest.mark.parametrize("finetune", [False, True])
def test_resume_equals_uninterrupted(tiny_bert_dir, data, tmp_path, finetune):
    cfg2 = _cfg(tiny_bert_dir, **{"student.finetune_encoder": finetune})
    cfg1 = _cfg(
        tiny_bert_dir,
        **{"student.finetune_encoder": finetune, "student.train.epochs": 1},
    )
    full = _train(cfg2, data, tmp_path / "full")
    first = _train(cfg1, data, tmp_path / "split")
    lines: list[str] = []
    train_set, dev_set = data
    resumed = train_student(
        cfg2,
        train_set,
        dev_set,
        _vae(cfg2),
        tmp_path / "split",
        "cpu",
        log=lines.append,
    )

    # only epoch 2 was trained; epoch 1 came from the checkpoint
    assert "resumed" in lines[0] and "after epoch 1" in lines[0]
    assert len(lines) == 2 and lines[1].startswith("student epoch 2/2")
    assert resumed.history[0] == first.history[0]
    assert [row["epoch"] for row in resumed.history] == [1, 2]
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # and training really moved the weights away from the seeded initialisation
    torch.manual_seed(cfg2.seed)
    initial = build_student(cfg2).state_dict()
    assert not torch.equal(initial["decoder.out.weight"], a["decoder.out.weight"])
    for key in ("train_total", "dev_pose", "dev_duracc"):
        assert full.history[-1][key] == resumed.history[-1][key]
    # the dev-selected checkpoint is the same too
    assert full.best_epoch == resumed.best_epoch
    a = load_student(tmp_path / "full").state_dict()
    b = load_student(tmp_path / "split").state_dict()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_history_checkpoint_and_load(tiny_bert_dir, data, tmp_path):
    cfg = _cfg(tiny_bert_dir)
    result = _train(cfg, data, tmp_path)
    assert len(result.history) == 2
    for row in result.history:
        assert set(row) == HISTORY_KEYS
        assert 0.0 <= row["dev_duracc"] <= 1.0
        assert np.isfinite([row[k] for k in HISTORY_KEYS - {"epoch"}]).all()
    assert result.history[-1]["train_total"] < result.history[0]["train_total"]

    ckpt = load_checkpoint(tmp_path)
    assert ckpt.extra["epoch"] == 2 and ckpt.optimizer_state is not None
    assert ckpt.config["student"]["text_encoder"] == str(tiny_bert_dir)

    loaded = load_student(tmp_path, "cpu", cfg=cfg)
    assert not loaded.training
    with torch.no_grad():
        x = result.model(SENTENCES[:3])
        y = loaded(SENTENCES[:3])
    assert torch.equal(x.lengths, y.lengths)
    torch.testing.assert_close(x.z_lang, y.z_lang)

    # a finished run is not trained again
    again = _train(cfg, data, tmp_path)
    assert again.history == result.history


def test_mismatched_checkpoint_is_a_clear_error(tiny_bert_dir, data, tmp_path):
    cfg = _cfg(tiny_bert_dir, **{"student.train.epochs": 1})
    _train(cfg, data, tmp_path)
    other = _cfg(tiny_bert_dir, **{"student.train.epochs": 2, "student.d_model": 16})
    with pytest.raises(ValueError, match=r"d_model=32 but the config asks for 16"):
        _train(other, data, tmp_path)
    with pytest.raises(ValueError, match="latent_dim=8 but the config asks for 4"):
        load_student(tmp_path, "cpu", cfg=_cfg(tiny_bert_dir, **{"vae.latent_dim": 4}))
    # resume=False starts over instead
    fresh = _train(other, data, tmp_path, resume=False)
    assert len(fresh.history) == 2


def test_gloss_mode(tiny_bert_dir, data, tmp_path):
    cfg = _cfg(tiny_bert_dir, **{"student.train.epochs": 1})
    result = _train(cfg, data, tmp_path, input_kind="gloss")
    assert result.model.input_kind == "gloss"
    assert load_student(tmp_path).input_kind == "gloss"
    with pytest.raises(ValueError, match="input_kind='gloss'"):
        _train(_cfg(tiny_bert_dir, **{"student.train.epochs": 2}), data, tmp_path)


def test_gloss_mode_without_glosses(tiny_bert_dir, tmp_path):
    seqs = _sequences(4, 0)
    for s in seqs:
        s.gloss = ""
    normaliser = Normaliser.fit([s.poses for s in seqs])
    train_set = PoseTextDataset(seqs, normaliser, max_frames=T_MAX)
    cfg = _cfg(tiny_bert_dir, **{"student.train.epochs": 1})
    with pytest.raises(ValueError, match="no gloss annotation"):
        train_student(
            cfg,
            train_set,
            None,
            _vae(cfg),
            tmp_path,
            device="cpu",
            log=None,
            input_kind="gloss",
        )


def test_dev_report_matches_training_dev_metrics(tiny_bert_dir, data, tmp_path):
    from nar_slp.evaluation.student_report import DEV_REPORT_COLUMNS, student_dev_report

    cfg = _cfg(tiny_bert_dir)
    result = _train(cfg, data, tmp_path)
    vae = _vae(cfg)
    report = student_dev_report(result.model, data[1], vae, cfg, "cpu", n_boot=50)
    assert tuple(report) == DEV_REPORT_COLUMNS
    # result.model holds the dev-selected epoch's weights
    last = result.history[result.best_epoch - 1]
    # one sequence at a time, frame-weighted: the same numbers as the epoch's dev pass
    assert report["dev L_pose"][0] == pytest.approx(last["dev_pose"], rel=1e-5)
    assert report["dev L_distil"][0] == pytest.approx(last["dev_distil"], rel=1e-5)
    assert report["dev L_length"][0] == pytest.approx(last["dev_length"], rel=1e-5)
    assert report["dev DurACC %"][0] == pytest.approx(100 * last["dev_duracc"])
    assert all(np.isfinite(se) and se >= 0 for _, se in list(report.values())[:3])
    again = student_dev_report(result.model, data[1], vae, cfg, "cpu", n_boot=50)
    assert again == report or all(  # deterministic (NaN-aware)
        np.allclose(a, b, equal_nan=True)
        for a, b in zip(again.values(), report.values(), strict=True)
    )
    off = student_dev_report(result.model, data[1], vae, cfg, "cpu", n_boot=0)
    assert all(np.isnan(se) for _, se in off.values())


def _scripted_dev(monkeypatch, scores):
    """Make the per-epoch dev pass return ``scores`` (dev L_pose; L_length 0)."""
    calls = iter(scores)

    def fake(*args, **kwargs):
        return {"pose": next(calls), "distil": 0.0, "length": 0.0, "duracc": 0.5}

    monkeypatch.setattr(student_trainer, "evaluate_student", fake)


def test_best_epoch_is_kept_and_loaded_when_dev_gets_worse(
    tiny_bert_dir, data, tmp_path, monkeypatch
):
    # dev improves until epoch 2, then gets worse
    _scripted_dev(monkeypatch, [0.5, 0.2, 0.3, 0.4])
    result = _train(
        _cfg(tiny_bert_dir, **{"student.train.epochs": 4}), data, tmp_path / "a"
    )
    assert result.best_epoch == 2 and not result.stopped_early
    assert len(result.history) == 4  # no patience: every epoch trained
    last = load_checkpoint(tmp_path / "a")
    assert last.extra["epoch"] == 4 and last.extra["best_epoch"] == 2
    best = load_checkpoint(tmp_path / "a" / "best")
    assert best.extra["epoch"] == 2 and best.optimizer_state is None

    # the same run stopped after 2 epochs: its last weights are the 4-epoch run's best
    _scripted_dev(monkeypatch, [0.5, 0.2])
    two = _train(
        _cfg(tiny_bert_dir, **{"student.train.epochs": 2}), data, tmp_path / "b"
    )
    reference = two.model.state_dict()
    for loaded in (
        result.model,
        load_student(tmp_path / "a"),
        load_student(tmp_path / "b", which="last"),
    ):
        state = loaded.state_dict()
        assert all(torch.equal(state[k], reference[k]) for k in reference)
    assert load_student(tmp_path / "a").trained_epoch == 2
    final = load_student(tmp_path / "a", which="last").state_dict()
    assert not torch.equal(final["decoder.out.weight"], reference["decoder.out.weight"])


def test_patience_stops_early_and_a_rerun_stops_there_too(
    tiny_bert_dir, data, tmp_path, monkeypatch
):
    cfg = _cfg(
        tiny_bert_dir, **{"student.train.epochs": 10, "student.train.patience": 2}
    )
    _scripted_dev(monkeypatch, [0.3, 0.2, 0.25, 0.21, 0.1, 0.1])
    lines: list[str] = []
    train_set, dev_set = data
    result = train_student(
        cfg, train_set, dev_set, _vae(cfg), tmp_path, "cpu", log=lines.append
    )
    # best epoch 2; epochs 3 and 4 are not better -> stop after epoch 4
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4]
    assert result.best_epoch == 2 and result.stopped_early
    assert "stopped after epoch 4" in lines[-1]
    assert load_checkpoint(tmp_path).extra["stopped_early"] is True
    again = _train(cfg, data, tmp_path)  # resumes, finds the stop, trains nothing
    assert again.history == result.history and again.best_epoch == 2


def test_selection_rule_is_dev_pose_plus_length_without_distil():
    history = [
        {"epoch": 1, "dev_pose": 0.10, "dev_length": 0.60, "dev_distil": 0.01},
        {"epoch": 2, "dev_pose": 0.08, "dev_length": 0.61, "dev_distil": 0.90},
        {"epoch": 3, "dev_pose": 0.08, "dev_length": 0.61, "dev_distil": 0.10},
        {"epoch": 4, "dev_pose": None, "dev_length": None, "dev_distil": None},
    ]
    assert best_epoch(history) == 2  # 0.69 < 0.70; the earliest of the tie
    # the loss weights of Eq. 11 weight the two terms
    assert best_epoch(history, weights=(1.0, 1.0, 3.0)) == 1
    assert best_epoch(history[3:]) is None


@pytest.mark.parametrize("offset, expected", [(3, 0.0), (2, 1.0), (-3, 0.0)])
def test_training_duracc_counts_strictly_less_than_tolerance(
    tiny_bert_dir, data, offset, expected
):
    cfg = _cfg(tiny_bert_dir, **{"eval.duracc_tolerance": 3})
    model = build_student(cfg).eval()
    dev_set = data[1]
    loader = make_student_loader(dev_set, 1, shuffle=False, seed=0)
    true = [int(b.lengths[0]) for b in loader]
    shifted = iter(true)
    model.lengths_from_ratio = lambda ratio: torch.tensor([next(shifted) + offset])
    dev = evaluate_student(model, loader, _vae(cfg), cfg, torch.device("cpu"))
    assert dev["duracc"] == expected


def test_encoder_lr_gives_a_trained_encoder_its_own_rate(tiny_bert_dir, data, tmp_path):
    cfg = _cfg(
        tiny_bert_dir,
        **{
            "student.finetune_encoder": True,
            "student.encoder_lr": 1e-4,
            "student.train.epochs": 1,
        },
    )
    _train(cfg, data, tmp_path)
    groups = load_checkpoint(tmp_path).optimizer_state["param_groups"]
    assert [g["lr"] for g in groups] == [2e-3, 1e-4]
    n_encoder = sum(1 for p in build_student(cfg).encoder.parameters())
    assert len(groups[1]["params"]) == n_encoder
    # a frozen encoder has nothing to train: one group at lr
    frozen = _cfg(
        tiny_bert_dir, **{"student.encoder_lr": 1e-4, "student.train.epochs": 1}
    )
    _train(frozen, data, tmp_path / "frozen")
    groups = load_checkpoint(tmp_path / "frozen").optimizer_state["param_groups"]
    assert [g["lr"] for g in groups] == [2e-3]


class _Interrupt(Exception):
    pass


def test_scheduled_resume_after_a_crash_equals_uninterrupted(
    tiny_bert_dir, data, tmp_path
):
    """With warm-up + cosine the rate depends on the global step only, so a run that
    dies after epoch 1 and is restarted reaches the uninterrupted run's weights."""
    cfg = _cfg(
        tiny_bert_dir,
        **{"student.train.schedule": "warmup_cosine", "student.train.warmup": 0.3},
    )
    full = _train(cfg, data, tmp_path / "full")

    def crash(line: str) -> None:
        if line.startswith("student epoch 1/"):
            raise _Interrupt(line)

    with pytest.raises(_Interrupt):
        _train(cfg, data, tmp_path / "split", log=crash, log_every=1)
    resumed = _train(cfg, data, tmp_path / "split")
    a, b = full.model.state_dict(), resumed.model.state_dict()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # and the schedule really differs from a constant rate
    constant = _train(_cfg(tiny_bert_dir), data, tmp_path / "constant")
    assert not torch.equal(
        constant.model.state_dict()["decoder.out.weight"], a["decoder.out.weight"]
    )


def test_unknown_schedule_is_rejected_before_training(tiny_bert_dir, data, tmp_path):
    cfg = _cfg(tiny_bert_dir, **{"student.train.schedule": "linear"})
    with pytest.raises(ValueError, match="student.train.schedule='linear'"):
        _train(cfg, data, tmp_path / "x")
    assert not (tmp_path / "x").exists()
