"""Checkpoints: exact round trips, atomic writes, clear errors, no pickle; utils."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

import nar_slp.checkpoints as ckpt_mod
from nar_slp.checkpoints import (
    CheckpointError,
    check_compatible,
    flatten_optimizer_state,
    load_checkpoint,
    load_optimizer_state,
    save_checkpoint,
    unflatten_optimizer_state,
)
from nar_slp.utils import (
    autocast_context,
    pick_device,
    progress_enabled,
    quiet_progress,
    seed_everything,
)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)
    )


def _trained_optimizer(model: torch.nn.Module) -> torch.optim.Optimizer:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.8, 0.95))
    for _ in range(3):
        loss = model(torch.randn(5, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return opt


def _assert_state_equal(a, b) -> None:
    assert type(a) is type(b), (a, b)
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for k in a:
            _assert_state_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_state_equal(x, y)
    else:
        assert a == b


def test_round_trip_state_config_extra(tmp_path):
    model = _model()
    config = {"vae": {"latent_dim": 8, "hidden": [64, 32]}, "seed": 3}
    extra = {"epoch": 2, "history": [{"loss": 0.5}]}
    save_checkpoint(tmp_path / "ck", model, config, extra)
    loaded = load_checkpoint(tmp_path / "ck")
    assert loaded.config == config and loaded.extra == extra
    assert loaded.optimizer_state is None
    assert list(loaded.state_dict) == list(model.state_dict())
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict[name], tensor)
    # the shared interface's tuple unpacking works too
    state, cfg, ext = load_checkpoint(tmp_path / "ck")
    assert cfg == config and ext == extra and set(state) == set(model.state_dict())


def test_files_are_safetensors_and_json_not_pickle(tmp_path):
    save_checkpoint(tmp_path, _model(), {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "config.json",
        "model.safetensors",
    ]
    json.loads((tmp_path / "config.json").read_text())  # plain JSON
    head = (tmp_path / "model.safetensors").read_bytes()[:2]
    assert head != b"\x80\x04"  # not a pickle stream
    assert not list(tmp_path.glob("*.pt")) and not list(tmp_path.glob("*.pkl"))


def test_state_dict_input_and_noncontiguous_tensors(tmp_path):
    t = torch.arange(12.0).reshape(3, 4).t()  # non-contiguous view
    save_checkpoint(tmp_path, {"w": t, "tied": t}, {})
    loaded = load_checkpoint(tmp_path).state_dict
    assert torch.equal(loaded["w"], t) and torch.equal(loaded["tied"], t)


def test_optimizer_state_round_trip_and_restore(tmp_path):
    model = _model()
    opt = _trained_optimizer(model)
    state = opt.state_dict()
    save_checkpoint(tmp_path, model, {}, {"epoch": 1}, optimizer_state=state)
    assert (tmp_path / "optimizer.safetensors").is_file()
    restored = load_optimizer_state(tmp_path)
    _assert_state_equal(state, restored)  # exact: int keys, tuples, tensors
    assert restored["param_groups"][0]["betas"] == (0.8, 0.95)

    # a fresh optimizer loaded from it takes the same next step as the original
    model2 = _model()
    model2.load_state_dict(load_checkpoint(tmp_path).state_dict)
    opt2 = torch.optim.AdamW(model2.parameters(), lr=1.0)
    opt2.load_state_dict(load_checkpoint(tmp_path).optimizer_state)
    x = torch.randn(5, 4)
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(x).pow(2).mean().backward()
        o.step()
    for a, b in zip(model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(a, b)


def test_flatten_optimizer_state_is_json_plus_tensors():
    opt = _trained_optimizer(_model())
    tensors, tree = flatten_optimizer_state(opt.state_dict())
    assert all(isinstance(t, torch.Tensor) for t in tensors.values())
    text = json.dumps(tree)  # no tensor left in the tree
    _assert_state_equal(
        opt.state_dict(), unflatten_optimizer_state(tensors, json.loads(text))
    )


def test_atomic_write_leaves_no_temp_files_and_survives_a_failed_save(tmp_path):
    model = _model()
    save_checkpoint(tmp_path, model, {"v": 1}, optimizer_state=None)
    save_checkpoint(tmp_path, model, {"v": 2})  # overwrite
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]
    with pytest.raises(TypeError, match="JSON"):
        save_checkpoint(tmp_path, model, {"v": object()})
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]
    assert load_checkpoint(tmp_path).config == {"v": 2}  # previous one intact


def test_crash_before_config_commit_is_detected(tmp_path, monkeypatch):
    model = _model()
    save_checkpoint(tmp_path, model, {"v": 1})

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt_mod, "atomic_write_text", boom)
    with torch.no_grad():
        model[0].weight.add_(1.0)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path, model, {"v": 2})
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]
    # new weights next to the old config.json: refused, not silently mixed
    with pytest.raises(CheckpointError, match="half-written"):
        load_checkpoint(tmp_path)


def test_missing_paths_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_checkpoint(tmp_path / "nowhere")
    save_checkpoint(tmp_path / "ck", _model(), {})
    (tmp_path / "ck" / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_checkpoint(tmp_path / "ck")


def test_corrupt_files_raise_clear_errors(tmp_path):
    save_checkpoint(tmp_path / "a", _model(), {})
    (tmp_path / "a" / "model.safetensors").write_bytes(b"garbage bytes")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(tmp_path / "a")

    save_checkpoint(tmp_path / "b", _model(), {})
    (tmp_path / "b" / "config.json").write_text('{"format": "nar-slp-checkpoint",\n')
    with pytest.raises(CheckpointError, match=r"config.json is not valid JSON \(line"):
        load_checkpoint(tmp_path / "b")

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "config.json").write_text('{"hello": 1}')
    with pytest.raises(CheckpointError, match="not a nar-slp checkpoint"):
        load_checkpoint(tmp_path / "c")


def test_check_compatible_message():
    saved = {"vae": {"latent_dim": 32, "hidden": [64, 32]}, "n_values": 150}
    ok = {"vae": {"latent_dim": 32, "hidden": (64, 32)}, "n_values": 150}
    check_compatible(saved, ok, ["vae.latent_dim", "vae.hidden", "n_values"], "x")
    bad = {"vae": {"latent_dim": 16, "hidden": (64, 32)}, "n_values": 150}
    with pytest.raises(
        ValueError,
        match=r"checkpoint runs/x/vae was trained with latent_dim=32 but the config "
        r"asks for 16",
    ):
        check_compatible(saved, bad, ["vae.latent_dim", "vae.hidden"], "runs/x/vae")
    with pytest.raises(ValueError, match="does not record n_values"):
        check_compatible({"vae": {}}, ok, ["n_values"], "x")


# ------------------------------------------------------------------------- utils


def test_seed_everything_repeats_all_generators():
    import random

    seed_everything(7)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a
    with pytest.raises(TypeError):
        seed_everything("7")


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device("auto").type == expected
    with pytest.raises(ValueError, match="not a device name"):
        pick_device("gpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no GPU"):
            pick_device("cuda")


def test_autocast_context_cpu_is_fp32():
    with autocast_context("cpu", "bf16"):
        y = torch.ones(2, 2) @ torch.ones(2, 2)
    assert y.dtype == torch.float32
    with pytest.raises(ValueError, match="mixed_precision"):
        autocast_context("cpu", "fp8")


def test_quiet_progress(monkeypatch):
    items = [1, 2, 3]
    monkeypatch.setenv("NAR_SLP_PROGRESS", "0")
    assert quiet_progress(items) is items
    assert not progress_enabled()
    monkeypatch.setenv("NAR_SLP_PROGRESS", "1")
    assert progress_enabled() and not progress_enabled(enabled=False)
    assert list(quiet_progress(items, disable=False, file=open(os.devnull, "w"))) == [
        1,
        2,
        3,
    ]
