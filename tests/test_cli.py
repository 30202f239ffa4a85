"""The ``nar-slp`` command line: every subcommand on the smoke preset, and its errors
(one line, exit code 2, nothing written)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nar_slp.cli import main
from nar_slp.data.pose_io import read_pose
from nar_slp.data.pt_format import read_split


def _err_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize("command", ["data", "train", "generate", "evaluate", "export"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "--run-dir" in capsys.readouterr().out


def test_unknown_config_key_is_one_line_and_writes_nothing(tmp_path, capsys):
    run = tmp_path / "run"
    code = main(
        ["data", "--preset", "smoke", "--run-dir", str(run), "--set", "student.epoch=3"]
    )
    assert code == 2
    line = _err_line(capsys)
    assert (
        "unknown config key 'student.epoch'" in line and "student.train.epochs" in line
    )
    assert not run.exists()
    assert (
        main(["data", "--preset", "smoke", "--run-dir", str(run), "--set", "epochs"])
        == 2
    )
    assert "expected section.field=value" in _err_line(capsys)


def test_wrong_type_and_missing_inputs(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "vae", "--preset", "smoke", "--run-dir", str(run)]) == 2
    assert "nar-slp data" in _err_line(capsys)
    assert (
        main(
            [
                "data",
                "--preset",
                "smoke",
                "--run-dir",
                str(run),
                "--data-dir",
                str(tmp_path / "nowhere"),
            ]
        )
        == 2
    )
    assert "--data-dir" in _err_line(capsys)
    assert not run.exists()
    assert main(["evaluate", "--preset", "smoke", "--run-dir", str(run)]) == 2
    assert f"{run} does not exist" in _err_line(capsys)
    assert not run.exists()  # evaluate reads: it creates no <run>/results
    assert main(["generate", "--run-dir", str(run), "--out", "x.pose"]) == 2
    assert "no sentence given" in _err_line(capsys)
    assert main(["generate", "rain", "--run-dir", str(run), "--out", "x.txt"]) == 2
    assert "valid: .pose, .gif, .mp4, .skels" in _err_line(capsys)
    assert (
        main(
            [
                "generate",
                "rain",
                "--run-dir",
                str(run),
                "--out",
                "x.pose",
                "--system",
                "teacher",
            ]
        )
        == 2
    )
    assert "valid systems are kd, no_kd, no_bert, pt_base, pt_fpgn" in _err_line(capsys)
    # a named run folder that is not there: no fallback, one line naming it
    args = [
        "generate",
        "rain",
        "--run-dir",
        str(run),
        "--out",
        str(tmp_path / "x.pose"),
    ]
    assert main([*args, "--system", "nslpg_gs"]) == 2
    assert f"{run} does not exist: give the folder of a trained run" in _err_line(
        capsys
    )
    # a baseline the run does not hold: the command that trains it
    run.mkdir()
    assert main([*args, "--system", "nslpg_gs"]) == 2
    assert _err_line(capsys).endswith(
        f"no trained nslpg_gs in {run}: nar-slp train nslpg --run-dir {run}"
    )
    run.rmdir()
    with pytest.raises(SystemExit) as exit_:
        main(["train", "everything"])
    assert exit_.value.code == 2  # argparse: invalid choice


def test_data_train_generate_evaluate_on_the_smoke_preset(tmp_path, capsys):
    run = str(tmp_path / "run")
    smoke = ["--preset", "smoke", "--run-dir", run]
    assert main(["data", *smoke]) == 0
    assert "normaliser" in capsys.readouterr().out
    assert main(["train", "student", *smoke]) == 2  # no VAE yet
    assert "nar-slp train vae --recon-loss bce" in _err_line(capsys)
    assert main(["train", "vae", *smoke, "--set", "vae.train.epochs=1"]) == 0
    # the default --device auto resolves for every trainer; a bad one is one line
    assert main(["train", "pt", *smoke, "--set", "pt.train.epochs=1"]) == 0
    capsys.readouterr()
    assert main(["train", "tae", *smoke, "--device", "tpu9"]) == 2
    assert "--device 'tpu9'" in _err_line(capsys)
    assert main(["train", "student", *smoke, "--set", "student.train.epochs=1"]) == 0
    out = capsys.readouterr().out
    assert "kd seed 0" in out and "1 epochs" in out
    # resume: one more epoch on top of the first
    assert main(["train", "student", *smoke, "--set", "student.train.epochs=2"]) == 0
    assert "2 epochs" in capsys.readouterr().out

    texts = tmp_path / "texts.txt"
    texts.write_text("rain in the north\n\nsunny tomorrow\n")
    skels = tmp_path / "gen" / "signs.skels"
    assert main(["generate", "--input", str(texts), *smoke, "--out", str(skels)]) == 2
    assert f"--out {skels}: its folder {skels.parent} does not exist" in _err_line(
        capsys
    )
    skels.parent.mkdir()
    assert main(["generate", "--input", str(texts), *smoke, "--out", str(skels)]) == 0
    seqs = read_split(skels.parent, "signs")
    assert [s.text for s in seqs] == ["rain in the north", "sunny tomorrow"]
    assert all(s.poses.shape[1:] == (50, 3) for s in seqs)
    capsys.readouterr()
    pose = tmp_path / "one.pose"
    assert main(["generate", "rain in the north", *smoke, "--out", str(pose)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"model: {tmp_path / 'run' / 'students' / 'kd' / 'seed0'}"
    frames = int(lines[1].split(": ")[1].split()[0])
    assert read_pose(pose).poses.shape == (frames, 50, 3)
    assert frames == len(seqs[0].poses)  # the same sentence, the same model
    # a baseline through the same command (the registry's generate)
    pt_out = tmp_path / "pt.skels"
    args = ["generate", "--input", str(texts), *smoke, "--out", str(pt_out)]
    assert main([*args, "--system", "pt_base"]) == 0
    assert capsys.readouterr().out.startswith(
        f"model: {tmp_path / 'run' / 'baselines' / 'pt_base'}"
    )
    assert all(s.poses.shape[1:] == (50, 3) for s in read_split(tmp_path, "pt"))

    # export -> a bundle that generates the same poses; a tampered bundle is refused
    bundle = tmp_path / "bundle"
    assert main(["export", *smoke, "--out", str(bundle)]) == 0
    assert "bundle of kd seed 0" in capsys.readouterr().out
    # the words of the run's training texts travel with it (out-of-domain warnings)
    info = json.loads((bundle / "config.json").read_text())
    assert {"rain", "north"} <= set(info["vocabulary"])
    again = tmp_path / "again.skels"
    assert (
        main(
            [
                "generate",
                "--input",
                str(texts),
                "--model",
                str(bundle),
                "--out",
                str(again),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith(f"model: bundle {bundle}")
    for a, b in zip(seqs, read_split(tmp_path, "again"), strict=True):
        np.testing.assert_array_equal(a.poses, b.poses)
    weights = bundle / "student.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    assert (
        main(
            [
                "generate",
                "rain",
                "--model",
                str(bundle),
                "--out",
                str(tmp_path / "x.pose"),
            ]
        )
        == 2
    )
    assert "student.safetensors does not match its SHA-256" in _err_line(capsys)
    assert not (tmp_path / "x.pose").exists()

    (tmp_path / "run" / "results").mkdir()
    (tmp_path / "run" / "results" / "table1.md").write_text("| system | FGD |\n")
    assert main(["evaluate", *smoke]) == 0
    assert capsys.readouterr().out == "| system | FGD |\n"


def test_every_trainable_component_has_one_trainer():
    from nar_slp.commands.build import TRAINERS
    from nar_slp.commands.common import TRAINABLE

    assert tuple(TRAINERS) == TRAINABLE  # --help lists them without importing torch


def test_train_nslpg_and_the_evaluators_from_the_command_line(tmp_path, capsys):
    run = tmp_path / "run"
    smoke = ["--preset", "smoke", "--run-dir", str(run)]
    assert main(["data", *smoke]) == 0
    assert main(["train", "nslpg", *smoke]) == 2  # its MSE VAE first
    assert "nar-slp train vae --recon-loss mse" in _err_line(capsys)
    one = ["--set", "vae.train.epochs=1"]
    assert main(["train", "vae", *smoke, "--recon-loss", "mse", *one]) == 0
    nslpg = ["--set", "nslpg.train.epochs=1", "--set", "nslpg.ft_epochs=1"]
    assert main(["train", "nslpg", *smoke, *nslpg]) == 0
    assert main(["train", "tae", *smoke, "--set", "tae.train.epochs=1"]) == 0
    assert main(["train", "slt", *smoke, "--set", "slt.train.epochs=1"]) == 0
    for folder in ("nslpg_base", "nslpg_gs_ft"):
        assert (run / "baselines" / folder / "config.json").is_file()
    for folder in ("tae", "slt"):
        assert (run / "evaluators" / folder / "config.json").is_file()
