"""Training under torchrun: two gloo processes on CPU give one process's weights
(same global batch), a run resumes with another world size, and the sharding and
loss weighting that make it so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from nar_slp.cli import main
from nar_slp.data.dataset import LengthGroupedBatchSampler
from nar_slp.distributed import (
    ShardedBatchSampler,
    World,
    launched_world,
    share_step,
)

WORKER = Path(__file__).with_name("ddp_worker.py")
# Two processes sum the gradient in another order than one: after a few AdamW steps
# the weights agree to ~1e-7; this tolerance leaves room for other CPUs' kernels.
ATOL = 1e-5


def _run(out: Path, epochs: int, nproc: int) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    env["OMP_NUM_THREADS"] = "1"
    if nproc == 1:
        cmd = [sys.executable, str(WORKER), str(out), str(epochs)]
    else:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={nproc}",
            str(WORKER),
            str(out),
            str(epochs),
        ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def _comparable(name: str, w: torch.Tensor) -> torch.Tensor:
    """The weights whose gradient is not identically zero. Attention's key bias (the
    middle third of ``in_proj_bias``) shifts every score of a query equally, so
    softmax removes it: its true gradient is 0 and what it gets is rounding noise,
    which AdamW normalises into steps of ~lr whatever the summation order. It is
    left out; every other weight is compared."""
    w = w.float()
    if name.endswith("in_proj_bias"):
        third = w.shape[0] // 3
        w = torch.cat([w[:third], w[2 * third :]])
    return w


def _max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(
        float((_comparable(k, a[k]) - _comparable(k, b[k])).abs().max()) for k in a
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    _run(root / "one", 2, 1)
    _run(root / "first", 1, 1)  # one epoch: how far one epoch moves the weights
    _run(root / "two", 2, 2)
    _run(root / "switch", 1, 2)  # epoch 1 on two processes ...
    _run(root / "switch", 2, 1)  # ... epoch 2 resumed on one
    return root


def test_two_gloo_processes_give_one_process_weights(runs):
    one = _weights(runs / "one")
    assert _max_diff(one, _weights(runs / "two")) < ATOL
    # the tolerance is far below what one epoch of training changes
    assert _max_diff(one, _weights(runs / "first")) > 100 * ATOL


def test_resume_with_another_world_size(runs):
    assert _max_diff(_weights(runs / "one"), _weights(runs / "switch")) < ATOL


def test_histories_and_dev_metrics_agree(runs):
    one = json.loads((runs / "one" / "config.json").read_text())["extra"]
    two = json.loads((runs / "two" / "config.json").read_text())["extra"]
    assert [r["epoch"] for r in one["history"]] == [r["epoch"] for r in two["history"]]
    assert one["best_epoch"] == two["best_epoch"]
    keys = ("train_pose", "train_length", "dev_pose", "dev_distil", "dev_duracc")
    for a, b in zip(one["history"], two["history"], strict=True):
        for key in keys:
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-7), key


def test_shards_partition_every_global_batch():
    lengths = np.random.default_rng(0).integers(3, 40, size=23)
    inner = LengthGroupedBatchSampler(lengths, 5, shuffle=True, seed=3)
    for epoch in (0, 1):
        inner.set_epoch(epoch)
        expected = inner.batches(epoch)
        shares = []
        for rank in range(3):
            sampler = ShardedBatchSampler(inner, World(rank, 3), placeholder=False)
            sampler.set_epoch(epoch)
            shares.append(list(sampler))
        for b, batch in enumerate(expected):
            got = sorted(i for rank in range(3) for i in shares[rank][b])
            assert got == sorted(batch)
        assert sampler.global_sizes(epoch) == [len(b) for b in expected]


def test_a_rank_without_a_share_gets_a_placeholder_or_skips():
    inner = LengthGroupedBatchSampler([5, 4, 3, 2, 1], 4, shuffle=False)
    train = ShardedBatchSampler(inner, World(1, 2), placeholder=True)
    evaluate = ShardedBatchSampler(inner, World(1, 2), placeholder=False)
    assert list(train) == [[1, 3], [4]]  # the last batch holds index 4 alone
    assert len(train) == len(inner) == 2
    assert list(evaluate) == [[1, 3]]


def test_share_weights_recover_the_global_mean():
    # one process: the loss as it is, and its own finiteness
    assert share_step(10, 2, True, World()).frame_weight == 1.0
    assert share_step(10, 2, False, World()).finite is False
    # two ranks holding 30 and 10 frames: weights 2*30/40 and 2*10/40 average the
    # rank means into the mean over all 40 frames (checked on the arithmetic)
    a, b = np.arange(30.0), np.arange(30.0, 40.0)
    wa, wb = 2 * 30 / 40, 2 * 10 / 40
    assert (wa * a.mean() + wb * b.mean()) / 2 == pytest.approx(np.r_[a, b].mean())


def test_launch_environment_is_read_and_checked(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    assert launched_world() == World()
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert launched_world() == World(rank=2, size=4, local_rank=0)
    monkeypatch.setenv("RANK", "4")
    with pytest.raises(ValueError, match="RANK=4"):
        launched_world()
    monkeypatch.setenv("RANK", "two")
    with pytest.raises(ValueError, match="RANK='two'"):
        launched_world()


def _torchrun_cli(args: list[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    env["OMP_NUM_THREADS"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "nar_slp.cli",
        *args,
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def test_nar_slp_train_student_under_torchrun(tmp_path, capsys):
    run = str(tmp_path / "run")
    smoke = ["--preset", "smoke", "--run-dir", run]
    assert main(["data", *smoke]) == 0
    assert main(["train", "vae", *smoke, "--set", "vae.train.epochs=1"]) == 0
    capsys.readouterr()
    done = _torchrun_cli(
        ["train", "student", *smoke, "--set", "student.train.epochs=1"]
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("kd seed 0") == 1  # rank 0 alone reports
    extra = json.loads(
        (tmp_path / "run" / "students" / "kd" / "seed0" / "config.json").read_text()
    )["extra"]
    assert extra["epoch"] == 1
    # the other trainers refuse a launch, with one line and exit code 2
    refused = _torchrun_cli(["train", "vae", *smoke])
    assert refused.returncode != 0
    assert "only `train student` runs under torchrun" in refused.stderr
