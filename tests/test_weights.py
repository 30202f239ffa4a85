"""Shipped weights: exported from a run folder (rounded, encoder left to its package,
with a manifest), installed into another after checking every file, never over a
model trained there unless asked."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from nar_slp.checkpoints import load_checkpoint
from nar_slp.config import get_config
from nar_slp.data.dataset import PoseTextDataset
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.models.pose_vae import load_vae
from nar_slp.models.student import load_student
from nar_slp.skeleton import NUM_COORDS, NUM_JOINTS
from nar_slp.students import student_dir
from nar_slp.training.student_trainer import train_student, trained_student
from nar_slp.training.vae_trainer import train_vae
from nar_slp.weights import (
    DATA,
    FP16_MIN_VALUES,
    MANIFEST,
    SHIPPED_WEIGHTS,
    WEIGHTS_ENV,
    WeightsError,
    data_record,
    describe_training,
    export_weights,
    install_weights,
    read_manifest,
    run_test_split,
    stored_tensor,
    verify_weights,
    weights_source,
)

T_MAX = 16
TEXTS = ["rain in the north", "the sun is warm today", "snow in the east tomorrow"]


def _sequences(n, seed):
    rng = np.random.default_rng(seed)
    return [
        SignSequence(
            name=f"s{seed}_{i}",
            text=TEXTS[i % len(TEXTS)],
            gloss=TEXTS[i % len(TEXTS)].upper(),
            poses=rng.normal(
                0, 1, (int(rng.integers(4, T_MAX)), NUM_JOINTS, NUM_COORDS)
            ).astype(np.float32),
        )
        for i in range(n)
    ]


def _cfg(tiny_bert_dir, **overrides):
    return get_config(
        "smoke",
        **{
            "student.text_encoder": str(tiny_bert_dir),
            "student.scratch_like": str(tiny_bert_dir),
            "data.max_frames": T_MAX,
            "vae.latent_dim": 8,
            "vae.hidden": (16, 16),
            "vae.train.epochs": 1,
            "student.train.batch_size": 4,
            "student.train.epochs": 2,
            **overrides,
        },
    )


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_bert_dir):
    """A run folder with a VAE, a frozen-encoder student and a scratch-encoder one."""
    run = tmp_path_factory.mktemp("run")
    train, dev = _sequences(8, 0), _sequences(3, 1)
    normaliser = Normaliser.fit([s.poses for s in train])
    normaliser.save(run / "normaliser.json")
    cfg = _cfg(tiny_bert_dir)
    norm = [normaliser.transform(s.poses, warn=False) for s in train]
    vae = train_vae(cfg, norm, None, run / "vae", device="cpu", log=None).model
    with pytest.warns(UserWarning):
        sets = [PoseTextDataset(x, normaliser, max_frames=T_MAX) for x in (train, dev)]
    for key, extra in (("kd", {}), ("no_bert", {"student.text_encoder": "scratch"})):
        train_student(
            _cfg(tiny_bert_dir, **extra),
            *sets,
            vae,
            student_dir(run, key, 0),
            device="cpu",
            log=None,
        )
    return run


@pytest.fixture(scope="module")
def weights(trained_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("w") / "weights"
    export_weights(trained_run, out, preset="smoke", produced_by={"command": "test"})
    return out


def _fresh_run(trained_run, tmp_path):
    run = tmp_path / "fresh"
    run.mkdir()
    shutil.copy(trained_run / "normaliser.json", run / "normaliser.json")
    return run


def test_export_lists_every_model_with_what_produced_it(weights):
    manifest = verify_weights(weights)
    assert set(manifest["models"]) == {
        "vae",
        "students/kd/seed0",
        "students/no_bert/seed0",
    }
    kd = manifest["models"]["students/kd/seed0"]
    assert kd["kind"] == "student" and kd["epochs"] == 2 and kd["seed"] == 0
    assert kd["preset"] == "smoke" and kd["selected_epoch"] in (1, 2)
    assert kd["train_seconds"] >= 0 and manifest["produced_by"]["command"] == "test"
    assert "cpu" in manifest["produced_by"]["machine"]
    overrides = manifest["models"]["students/no_bert/seed0"]["overrides"]
    assert overrides["student.text_encoder"] == "scratch"
    assert overrides["data.max_frames"] == T_MAX and "seed" not in overrides
    for record in manifest["models"].values():
        for name, file in record["files"].items():
            assert len(file["sha256"]) == 64 and file["bytes"] > 0, name


def test_stored_weights_are_rounded_and_leave_the_frozen_encoder_out(weights):
    kd = load_checkpoint(weights / "students/kd/seed0", with_optimizer=False)
    assert not any(k.startswith("encoder.") for k in kd.state_dict)
    assert kd.extra["encoder_weights"] == "package"
    assert "optimizer" not in json.loads((weights / "vae/config.json").read_text()) or (
        not (weights / "vae/optimizer.safetensors").exists()
    )
    scratch = load_checkpoint(weights / "students/no_bert/seed0", with_optimizer=False)
    assert "encoder.kept_ids" in scratch.state_dict  # a corpus-vocabulary table
    for state in (kd.state_dict, scratch.state_dict):
        for name, value in state.items():
            if value.is_floating_point():
                big = value.numel() >= FP16_MIN_VALUES
                assert value.dtype == (torch.float16 if big else torch.float32), name


def test_stored_tensor_rule():
    assert stored_tensor(torch.ones(10)).dtype == torch.float32  # small: as it is
    assert stored_tensor(torch.ones(64, 64)).dtype == torch.float16
    assert stored_tensor(torch.full((64, 64), 1e5)).dtype == torch.float32  # overflow
    assert stored_tensor(torch.ones(64, 64, dtype=torch.long)).dtype == torch.long


def test_installed_models_are_the_rounded_weights(trained_run, weights, tmp_path):
    run = _fresh_run(trained_run, tmp_path)
    names = ["vae", "students/kd/seed0", "students/no_bert/seed0"]
    install_weights(run, names, weights)
    for name in names[1:]:
        original = load_student(trained_run / name)
        rounded = {
            k: stored_tensor(v).float() if v.is_floating_point() else v
            for k, v in original.state_dict().items()
        }
        original.load_state_dict(rounded)
        installed = trained_student(run / name)
        a, b = original(TEXTS), installed.model(TEXTS)
        assert torch.equal(a.z_lang, b.z_lang) and torch.equal(a.lengths, b.lengths)
        assert installed.history == trained_student(trained_run / name).history
        shown = describe_training(run / name)
        assert shown == describe_training(trained_run / name) + " [shipped weights]"
    vae = load_vae(run / "vae")
    assert vae.n_values == load_vae(trained_run / "vae").n_values
    assert (run / "vae/history.json").read_text() == (
        trained_run / "vae/history.json"
    ).read_text()
    install_weights(run, names, weights)  # installing again replaces the install


def test_a_file_that_does_not_match_its_manifest_is_refused(
    trained_run, weights, tmp_path
):
    broken = tmp_path / "broken"
    shutil.copytree(weights, broken)
    model = broken / "students/kd/seed0/model.safetensors"
    data = bytearray(model.read_bytes())
    data[-1] ^= 1
    model.write_bytes(bytes(data))
    run = _fresh_run(trained_run, tmp_path)
    with pytest.raises(WeightsError, match="seed0/model.safetensors does not match"):
        install_weights(run, ["students/kd/seed0"], broken)
    model.write_bytes(bytes(data[:-10]))
    with pytest.raises(WeightsError, match="has .* bytes"):
        install_weights(run, ["students/kd/seed0"], broken)
    model.unlink()
    with pytest.raises(WeightsError, match="is missing"):
        verify_weights(broken)
    assert not (run / "students").exists()  # nothing written
    with pytest.raises(WeightsError, match="no model 'students/kd/seed7'.*seed0"):
        install_weights(run, ["students/kd/seed7"], weights)
    with pytest.raises(WeightsError, match="not a nar-slp weights folder"):
        read_manifest(tmp_path)


def test_a_model_trained_in_the_run_is_not_replaced_unless_asked(
    trained_run, weights, tmp_path
):
    run = tmp_path / "mine"
    shutil.copytree(trained_run, run)
    before = (run / "students/kd/seed0/model.safetensors").read_bytes()
    with pytest.raises(WeightsError, match="trained in this run folder.*OVERWRITE"):
        install_weights(run, ["students/kd/seed0"], weights)
    assert (run / "students/kd/seed0/model.safetensors").read_bytes() == before
    install_weights(run, ["students/kd/seed0"], weights, overwrite=True)
    assert not (run / "students/kd/seed0/best").exists()
    assert "installed_from" in load_checkpoint(run / "students/kd/seed0").extra


def test_weights_of_other_data_are_refused(trained_run, weights, tmp_path):
    run = tmp_path / "other"
    run.mkdir()
    Normaliser.fit([np.ones((3, NUM_JOINTS, NUM_COORDS), np.float32)]).save(
        run / "normaliser.json"
    )
    with pytest.raises(WeightsError, match="not the normaliser"):
        install_weights(run, ["vae"], weights)


def test_installed_weights_are_not_resumed_as_a_training_run(
    trained_run, weights, tmp_path, tiny_bert_dir
):
    run = _fresh_run(trained_run, tmp_path)
    install_weights(run, ["vae", "students/kd/seed0"], weights)
    normaliser = Normaliser.load(run / "normaliser.json")
    train_set = PoseTextDataset(_sequences(8, 0), normaliser, max_frames=T_MAX)
    with pytest.raises(ValueError, match="holds shipped weights"):
        train_student(
            _cfg(tiny_bert_dir),
            train_set,
            None,
            load_vae(run / "vae"),
            run / "students/kd/seed0",
            device="cpu",
            log=None,
        )


def test_export_never_replaces_a_folder_that_is_not_weights(
    trained_run, weights, tmp_path
):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    with pytest.raises(WeightsError, match="not a nar-slp weights folder"):
        export_weights(trained_run, mine)
    assert (mine / "notes.txt").read_text() == "my notes"
    again = tmp_path / "again"
    shutil.copytree(weights, again)
    export_weights(trained_run, again, preset="smoke")  # a weights folder is replaced
    assert (
        read_manifest(again)["models"].keys() == read_manifest(weights)["models"].keys()
    )


def test_weights_source(monkeypatch, tmp_path):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    assert weights_source("") is None
    assert weights_source("shipped") == SHIPPED_WEIGHTS
    monkeypatch.chdir(tmp_path)
    assert weights_source("w") == tmp_path / "w"  # from the current folder
    monkeypatch.setenv(WEIGHTS_ENV, "shipped")
    assert weights_source("") == SHIPPED_WEIGHTS


def test_the_shipped_weights_match_their_manifest():
    if not (SHIPPED_WEIGHTS / MANIFEST).exists():
        pytest.skip("no shipped weights in this checkout")
    manifest = verify_weights(SHIPPED_WEIGHTS)
    total = sum(p.stat().st_size for p in SHIPPED_WEIGHTS.rglob("*") if p.is_file())
    assert total <= 64 * 2**20  # 64 MiB
    kinds = {r["kind"] for r in manifest["models"].values()}
    assert kinds == {"vae", "student", "pt", "nslpg", "tae", "slt"}


def test_the_manifest_records_the_data_and_the_test_split_comes_back(
    trained_run, weights, tmp_path
):
    from nar_slp.data.run_data import prepare_data, read_run_splits

    assert read_manifest(weights)[DATA] is None  # a run without a data record
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    prepare_data(get_config("smoke"), run)  # the bundled corpus, as chapter 01
    record = data_record(run)
    assert record["source"] == "bundled" and record["corpus"]["n_test"] > 0
    out = tmp_path / "w"
    export_weights(run, out, preset="smoke")
    assert read_manifest(out)[DATA] == record
    test, why = run_test_split(out)
    expected = read_run_splits(run)[1]["test"]
    assert why is None and [s.text for s in test] == [s.text for s in expected]
    np.testing.assert_allclose(test[0].poses, expected[0].poses, atol=1e-4)

    manifest = read_manifest(out)
    for change, reason in (
        ({"test_texts_sha256": "0" * 64}, "hash differs"),
        ({"source": "external"}, "its own data folder"),
    ):
        broken = dict(manifest, **{DATA: {**record, **change}})
        (out / "manifest.json").write_text(json.dumps(broken))
        test, why = run_test_split(out)
        assert test == [] and reason in why
