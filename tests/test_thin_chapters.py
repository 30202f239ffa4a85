"""Logic moved out of the chapters (issue 11, "thin chapters"): the normaliser fit of
01_data, the epoch-logging policy of every trainer, and the window-count matching and
nested-result helpers of 05_evaluation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nar_slp.config import get_config
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.data.run_data import NORMALISER_FILE, fit_normaliser
from nar_slp.evaluation import harness
from nar_slp.evaluation.seeds import nested
from nar_slp.training.vae_trainer import HISTORY_FILE, train_vae
from nar_slp.utils import EPOCH_LOG_LINES, EpochLogger, log_interval

# ------------------------------------------------------------------ normaliser fit


def _seq(
    name: str, t: int, rng: np.random.Generator, scale: float = 1.0
) -> SignSequence:
    poses = (scale * rng.standard_normal((t, 50, 3))).astype(np.float32)
    poses[:, 0] = 0.0  # a constant coordinate, as the neck of PT data
    return SignSequence(name=name, poses=poses, text="a b", gloss="A B")


def _splits() -> dict[str, list[SignSequence]]:
    rng = np.random.default_rng(0)
    return {
        "train": [_seq(f"tr{i}", 10 + i, rng) for i in range(5)],
        "dev": [_seq("dv", 9, rng, scale=1.6)],
        "test": [_seq("te", 7, rng, scale=1.6)],
    }


def test_fit_normaliser_is_normaliser_fit_on_the_training_split(tmp_path):
    splits = _splits()
    fit = fit_normaliser(tmp_path, splits)
    ref = Normaliser.fit([s.poses for s in splits["train"]])
    for attr in ("data_min", "data_max", "lo", "scale", "degenerate"):
        assert np.array_equal(getattr(fit.normaliser, attr), getattr(ref, attr)), attr
    assert fit.normaliser.n_frames == sum(s.n_frames for s in splits["train"])
    # what it saved is what later chapters load
    loaded = Normaliser.load(tmp_path / NORMALISER_FILE)
    assert np.array_equal(loaded.lo, ref.lo) and np.array_equal(loaded.scale, ref.scale)
    # held-out values outside the fitted range are counted as transform counts them
    for split in ("dev", "test"):
        values = np.concatenate([s.poses for s in splits[split]])
        _, clipped = ref.transform(values, warn=False, return_count=True)
        assert clipped > 0  # the wider held-out data does leave the range
        assert fit.clipped[split] == clipped and fit.values[split] == values.size
        assert fit.clip_rate(split) == clipped / values.size
    assert "train" not in fit.clipped


def test_fit_normaliser_ignores_held_out_data_and_can_skip_saving(tmp_path):
    splits = _splits()
    other = {**splits, "dev": [_seq("dv", 9, np.random.default_rng(5), scale=50.0)]}
    a = fit_normaliser(tmp_path, splits, save=False).normaliser
    b = fit_normaliser(tmp_path, other, save=False).normaliser
    assert np.array_equal(a.lo, b.lo) and np.array_equal(a.scale, b.scale)
    assert not (tmp_path / NORMALISER_FILE).exists()
    with pytest.raises(ValueError, match="training split is empty"):
        fit_normaliser(tmp_path, {**splits, "train": []})


# ------------------------------------------------------------------ epoch logging


@pytest.mark.parametrize("total", [1, 2, 4, 5, 6, 9, 12, 15, 40, 101])
def test_log_interval_keeps_runs_within_the_line_budget(total):
    k = log_interval(total)
    shown = [e for e in range(1, total + 1) if e == 1 or e % k == 0 or e == total]
    assert len(shown) <= EPOCH_LOG_LINES
    if total <= EPOCH_LOG_LINES:
        assert k == 1 and len(shown) == total
    else:  # not sparser than needed: one step smaller would exceed the budget
        denser = [
            e for e in range(1, total + 1) if e == 1 or e % (k - 1) == 0 or e == total
        ]
        assert k == 1 or len(denser) > EPOCH_LOG_LINES


def _run(total, stop_at=None, selected=None, every=None, first=1):
    lines: list[str] = []
    logger = EpochLogger(lines.append, total, every)
    for epoch in range(first, (stop_at or total) + 1):
        logger.epoch(epoch, f"epoch {epoch}")
    logger.finish(selected)
    return lines


def test_epoch_logger_prints_first_every_kth_last_and_selected():
    assert _run(12) == ["epoch 1", "epoch 3", "epoch 6", "epoch 9", "epoch 12"]
    # the selected epoch is added once, marked, when it was not printed already
    assert _run(12, selected=5)[-1] == "epoch 5 (selected)"
    assert _run(12, selected=6) == _run(12)
    # an early stop prints the epoch it stopped at
    assert _run(12, stop_at=7, selected=4) == [
        "epoch 1",
        "epoch 3",
        "epoch 6",
        "epoch 4 (selected)",
        "epoch 7",
    ]
    # a resumed run starts its lines with the first epoch it trains
    assert _run(12, first=8)[0] == "epoch 8"
    assert _run(5) == [f"epoch {e}" for e in range(1, 6)]
    assert _run(10, every=1) == [f"epoch {e}" for e in range(1, 11)]
    silent = EpochLogger(None, 4)
    silent.epoch(1, "x")
    silent.finish(1)  # no log function: nothing to call, no error
    with pytest.raises(ValueError):
        EpochLogger(print, 4, every=0)


def test_train_vae_prints_a_few_lines_but_keeps_every_epoch(tmp_path):
    rng = np.random.default_rng(0)
    poses = [rng.uniform(0.2, 0.8, (12, 50, 3)).astype(np.float32) for _ in range(3)]
    cfg = get_config("smoke", vae__train__epochs=9, vae__train__batch_size=32)
    lines: list[str] = []
    res = train_vae(cfg, poses, None, tmp_path / "vae", "cpu", log=lines.append)
    assert [line.split(":")[0] for line in lines] == [
        "VAE epoch 1/9",
        "VAE epoch 3/9",
        "VAE epoch 6/9",
        "VAE epoch 9/9",
    ]
    history = json.loads((tmp_path / "vae" / HISTORY_FILE).read_text())
    assert (
        [h["epoch"] for h in history]
        == list(range(1, 10))
        == [h["epoch"] for h in res.history]
    )
    # printing does not change training: a silent run reaches the same weights
    quiet = train_vae(cfg, poses, None, tmp_path / "quiet", "cpu", log=None)
    for name, t in res.model.state_dict().items():
        assert torch.equal(quiet.model.state_dict()[name], t), name


# ------------------------------------------------------------------ chapter 05


def test_nested_picks_one_key_per_system_and_split():
    results = {
        "GT": {"test": {"FGD": 0.0, "se": {"FGD": 0.1}}, "dev": {"FGD": 0.0}},
        "Ours": {"test": {"FGD": 2.0, "se": {"FGD": 0.3}}},
    }
    assert nested(results, "se") == {
        "GT": {"test": {"FGD": 0.1}, "dev": {}},
        "Ours": {"test": {"FGD": 0.3}},
    }


def test_matched_window_counts_share_the_smallest_sufficient_count(monkeypatch):
    fake = {
        "intervals": {"0-40": 900, "40-80": 300, "80-120": 40},
        "prefixes": {"0-20": 500, "0-40": 700},
    }
    seen = []

    def counts(pools, tae, bins):
        seen.append(list(bins))
        return fake["intervals"] if len(seen) == 1 else fake["prefixes"]

    monkeypatch.setattr(harness, "common_window_counts", counts)
    lines: list[str] = []
    out = harness.matched_window_counts(
        [[]], None, 256, intervals=[(0, 40), (40, 80), (80, 120)], log=lines.append
    )
    # bins with >= 256 windows all use the smallest such count; 40 stays (insufficient)
    assert out == {
        "intervals": {"0-40": 300, "40-80": 300, "80-120": 40},
        "prefixes": {"0-20": 500, "0-40": 500},
    }
    assert seen[1] == [(0, 20), (0, 40), (0, 60), (0, 80)]  # Table 2's prefixes
    assert lines[0].startswith("intervals windows per bin (all systems): {")
    assert lines[0].endswith("-> scored on 300")


def test_min_window_count_rounds_up_factor_times_feature_dim():
    class TAE:
        hparams = {"latent": 63}

    cfg = get_config("smoke", eval__fgd_min_windows_factor=2.0)
    assert harness.min_window_count(cfg, TAE()) == 126
    cfg = get_config("smoke", eval__fgd_min_windows_factor=1.5)
    assert harness.min_window_count(cfg, TAE()) == 95  # ceil(94.5)


def test_merge_seed_labels_groups_seeds_into_rows():
    from nar_slp.evaluation.harness import row_of, seed_label
    from nar_slp.evaluation.seeds import merge_seed_labels

    def res(fgd):
        return {"test": {"FGD": fgd, "se": {"FGD": 1.0}}}

    per_label = {
        "GT": res(0.0),
        seed_label("Ours (w/ KD)", 0): res(10.0),
        seed_label("Ours (w/ KD)", 1): res(14.0),
    }
    merged = merge_seed_labels(per_label, row_of)
    assert list(merged) == ["GT", "Ours (w/ KD)"]
    assert merged["Ours (w/ KD)"]["test"]["FGD"] == 12.0
    assert merged["Ours (w/ KD)"]["test"]["n_seeds"] == 2
    assert merged["GT"]["test"]["n_seeds"] == 1


def test_variant_config_kd_weight_only_touches_kd_systems():
    from nar_slp.students import variant_config

    kd = variant_config("smoke", "kd", kd_weight=0.0, seed=3)
    assert kd.student.loss_weights == (1.0, 0.0, 1.0) and kd.seed == 3
    no_kd = variant_config("smoke", "no_kd", kd_weight=0.0)
    assert (
        no_kd.student.loss_weights
        == variant_config("smoke", "no_kd").student.loss_weights
    )
    assert variant_config("smoke", "kd").student.loss_weights == (1.0, 1.0, 1.0)


def test_dev_report_tables_mean_sd_se():
    import math

    from nar_slp.evaluation.student_report import DEV_REPORT_COLUMNS, dev_report_tables

    def report(v, e):
        return {c: (v, e) for c in DEV_REPORT_COLUMNS}

    mean, sd, se = dev_report_tables(
        {"kd": [report(1.0, 0.1), report(3.0, 0.3)], "no_kd": [report(2.0, 0.2)]}
    )
    c = DEV_REPORT_COLUMNS[0]
    assert mean.get("kd", c) == 2.0 and se.get("kd", c) == pytest.approx(0.2)
    assert sd.get("kd", c) == pytest.approx(math.sqrt(2.0))
    assert math.isnan(sd.get("no_kd", c))
    assert "2 seed(s)" in mean.title


def test_training_summary_line():
    from nar_slp.training.student_trainer import StudentTrainResult

    hist = [
        {
            "epoch": e,
            "dev_pose": p,
            "dev_distil": 0.2,
            "dev_length": 0.6,
            "seconds": 2.0,
        }
        for e, p in ((1, 0.02), (2, 0.01), (3, 0.015))
    ]
    line = StudentTrainResult(model=None, history=hist, best_epoch=2).summary(
        "kd seed 0"
    )
    assert line.startswith("kd seed 0: 3 epochs, selected epoch 2: dev pose 0.0100")
    assert "(6 s)" in line
