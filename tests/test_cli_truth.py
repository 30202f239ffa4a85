"""The command line tells the truth (issue #26): it serves the system, seed and run
that were asked for or says in one line why not; it checks inputs and outputs before
loading a model; it takes paths from the current directory; every output kind reads
back; it says when a text is mostly unknown to the model or was cut; ``--help`` loads
no torch; the installed package carries its own model."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nar_slp.paths
from nar_slp.cli import build_parser, main
from nar_slp.commands import generate as gen_cmd
from nar_slp.commands.common import UsageError, absolute_paths
from nar_slp.data.pose_io import read_pose
from nar_slp.data.pt_format import read_split
from nar_slp.paths import RUN_DIR_ENV
from nar_slp.weights import SHIPPED_WEIGHTS

ROOT = Path(__file__).resolve().parent.parent
LONG = " ".join(["rain in the north tomorrow"] * 80)  # 400 words: past 128 tokens
PIZZA = "please deliver a large pepperoni pizza to my flat"


def _err_lines(capsys) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """The default run folder (``runs/<preset>`` under the repo root) moved to an
    empty temporary checkout, no $NAR_SLP_RUN_DIR, and the shipped weights in
    ``tmp/weights`` (absent until a test writes them)."""
    root = tmp_path / "checkout"
    root.mkdir()
    monkeypatch.setattr(nar_slp.paths, "repo_root", lambda: root)
    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    monkeypatch.setattr(gen_cmd, "SHIPPED_WEIGHTS", tmp_path / "weights")
    return root


def _weights(folder: Path, models: list[str]) -> Path:
    """A weights folder whose manifest lists ``models`` (no files to check)."""
    folder.mkdir(parents=True)
    manifest = {
        "format": "nar-slp-weights",
        "version": 1,
        "preset": "default",
        "models": {name: {"files": {}} for name in models},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for name in models:  # a checkout's weights: every model's folder is there
        (folder / name).mkdir(parents=True, exist_ok=True)
    return folder


def _choose(*argv: str) -> gen_cmd.Source:
    args = absolute_paths(
        build_parser().parse_args(["generate", "x", "--out", "x.pose", *argv])
    )
    return gen_cmd.choose_source(args)


def _refused(*argv: str) -> str:
    with pytest.raises(UsageError) as err:
        _choose(*argv)
    return str(err.value)


# ------------------------------------------------------------------ what serves


def test_without_weights_nothing_falls_back(checkout):
    run = checkout / "runs" / "default"
    assert _refused() == (
        f"no trained kd seed 0 in {run} and no weights ship with this "
        "installation: nar-slp train student --system kd --seed 0"
    )
    assert _refused("--system", "no_kd") == (
        f"no trained no_kd seed 0 in {run} and no weights ship with this "
        "installation: nar-slp train student --system no_kd --seed 0"
    )
    assert "no trained kd seed 7" in _refused("--seed", "7")
    assert "no trained nslpg_gs in" in _refused("--system", "nslpg_gs")
    assert "nar-slp train nslpg" in _refused("--system", "nslpg_gs")
    assert "--seed 3: pt_base has one checkpoint" in _refused(
        "--system", "pt_base", "--seed", "3"
    )


def test_another_preset_or_a_named_run_never_falls_back(checkout, tmp_path):
    assert _refused("--preset", "paper").startswith(
        f"{checkout / 'runs' / 'paper'} does not exist: train the paper preset first"
    )
    missing = tmp_path / "runs" / "x"
    assert _refused("--run-dir", str(missing)) == (
        f"{missing} does not exist: give the folder of a trained run, or leave "
        "--run-dir out for the shipped model"
    )
    missing.mkdir(parents=True)
    (missing / "students" / "kd" / "seed1").mkdir(parents=True)
    (missing / "students" / "kd" / "seed1" / "config.json").write_text("{}")
    assert _refused("--run-dir", str(missing)) == (
        f"no trained kd seed 0 in {missing} (it holds kd seed 1): nar-slp train "
        f"student --system kd --seed 0 --run-dir {missing}"
    )
    source = _choose("--run-dir", str(missing), "--seed", "1")
    assert (source.kind, source.path, source.seed) == ("run", missing, 1)
    assert source.describe() == str(missing / "students" / "kd" / "seed1")


def test_the_shipped_weights_serve_every_system_and_seed_they_hold(checkout, tmp_path):
    held = ["vae", "students/kd/seed0", "students/kd/seed1", "students/kd/seed2"]
    weights = _weights(tmp_path / "weights", [*held, "baselines/pt_base"])
    source = _choose("--seed", "2")
    assert (source.kind, source.path, source.seed) == ("weights", weights, 2)
    assert source.describe() == f"shipped weights {weights / 'students/kd/seed2'}"
    assert _choose().kind == "weights"  # before the bundle, for kd seed 0 too
    assert _choose("--system", "pt_base").describe().endswith("baselines/pt_base")
    assert _refused("--seed", "7") == (
        "the shipped weights hold kd seeds 0, 1, 2, not seed 7: pass --seed 0, or "
        "train it: nar-slp train student --system kd --seed 7"
    )
    assert "and the shipped weights hold none" in _refused("--system", "no_kd")
    # a trained system in the default run comes first
    seed0 = checkout / "runs" / "default" / "students" / "kd" / "seed0"
    seed0.mkdir(parents=True)
    (seed0 / "config.json").write_text("{}")
    assert _choose().kind == "run"


def test_a_weights_file_that_does_not_match_is_refused_naming_it(checkout, tmp_path):
    weights = _weights(tmp_path / "weights", ["vae", "students/kd/seed0"])
    manifest = json.loads((weights / "manifest.json").read_text())
    manifest["models"]["vae"]["files"] = {
        "model.safetensors": {"bytes": 3, "sha256": "0"}
    }
    (weights / "manifest.json").write_text(json.dumps(manifest))
    (weights / "vae").mkdir(exist_ok=True)
    (weights / "vae" / "model.safetensors").write_bytes(b"abcd")
    assert _refused() == (
        f"{weights / 'vae' / 'model.safetensors'} has 4 bytes; manifest.json says 3"
    )


def test_a_bundle_serves_only_its_own_system_and_seed(
    checkout, tmp_path, shipped_bundle
):
    bundle = shipped_bundle
    assert _choose("--model", str(bundle), "--system", "kd").kind == "bundle"
    assert _refused("--model", str(bundle), "--system", "no_kd") == (
        f"--model {bundle} holds kd seed 0, not --system no_kd: leave "
        "--system out, or pass the bundle of --system no_kd"
    )
    assert "not --seed 1" in _refused("--model", str(bundle), "--seed", "1")
    assert "does not exist" in _refused("--model", str(tmp_path / "nope"))


def test_generate_through_the_shipped_weights_loads_them(
    checkout, tmp_path, monkeypatch, capsys, shipped_bundle
):
    weights = _weights(
        tmp_path / "weights", ["vae", "students/kd/seed0", "students/kd/seed1"]
    )
    calls = []
    real = gen_cmd.load_source

    def load_system(key, run, seed, device):  # the boundary: the bundle stands in
        calls.append((key, Path(run), seed))
        return real(gen_cmd.Source("bundle", shipped_bundle, "kd", 0), device)

    monkeypatch.setattr(gen_cmd, "load_system", load_system)
    out = tmp_path / "one.pose"
    assert (
        main(["generate", "rain in the north", "--seed", "1", "--out", str(out)]) == 0
    )
    assert calls == [("kd", weights, 1)]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"model: shipped weights {weights / 'students' / 'kd' / 'seed1'}"
    assert read_pose(out).poses.shape[1:] == (50, 3)


def test_weights_exported_from_a_tiny_run_serve_students_and_baselines(
    tmp_path, checkout, capsys
):
    """The real layout: a smoke run's models through ``export_weights`` into the
    (patched) shipped-weights folder, loaded by the registry from there."""
    from nar_slp.weights import export_weights

    run = tmp_path / "run"
    smoke = ["--preset", "smoke", "--run-dir", str(run)]
    assert main(["data", *smoke]) == 0
    assert main(["train", "vae", *smoke, "--set", "vae.train.epochs=1"]) == 0
    one_epoch = ["--set", "student.train.epochs=1", "--seed", "1"]
    assert main(["train", "student", *smoke, *one_epoch]) == 0
    assert main(["train", "pt", *smoke, "--set", "pt.train.epochs=1"]) == 0
    weights = tmp_path / "weights"  # what the checkout fixture ships
    export_weights(run, weights, preset="smoke")
    capsys.readouterr()
    out = tmp_path / "x.pose"
    for argv, folder in (
        (["--seed", "1"], "students/kd/seed1"),
        (["--system", "pt_base"], "baselines/pt_base"),
    ):
        assert main(["generate", "rain in the north", "--out", str(out), *argv]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == f"model: shipped weights {weights / folder}"
        frames = int(lines[1].split(": ")[1].split()[0])
        assert read_pose(out).poses.shape == (frames, 50, 3)
    assert main(["generate", "rain", "--out", str(out), "--seed", "2"]) == 2
    assert "the shipped weights hold kd seed 1, not seed 2" in _err_lines(capsys)[0]
    (file,) = (weights / "students" / "kd" / "seed1").glob("*.safetensors")
    file.write_bytes(file.read_bytes()[:-1] + b"\0")
    assert main(["generate", "rain", "--out", str(out), "--seed", "1"]) == 2
    assert _err_lines(capsys) == [
        f"nar-slp generate: {file} does not match its SHA-256 in manifest.json"
    ]


@pytest.mark.skipif(
    not (SHIPPED_WEIGHTS / "manifest.json").is_file(),
    reason=f"{SHIPPED_WEIGHTS} is not in this checkout (the committed run's weights)",
)
@pytest.mark.parametrize("system", ["no_kd", "pt_base"])
def test_the_real_shipped_weights_sign_every_kind_of_system(
    system, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(nar_slp.paths, "repo_root", lambda: tmp_path)  # no runs/
    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    out = tmp_path / "x.pose"
    assert (
        main(["generate", "rain in the north", "--system", system, "--out", str(out)])
        == 0
    )
    assert capsys.readouterr().out.startswith(
        f"model: shipped weights {SHIPPED_WEIGHTS}"
    )
    assert read_pose(out).poses.shape[1:] == (50, 3)


# ------------------------------------------------------------------ checked first


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if a command gets as far as loading a model."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("a model was loaded before the arguments were checked")

    monkeypatch.setattr(gen_cmd, "load_source", refuse)


def test_inputs_and_outputs_are_checked_before_any_model_loads(
    tmp_path, monkeypatch, capsys, no_model
):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("rain\nRegen im Süden\n".encode("latin-1"))
    assert main(["generate", "--input", "latin1.txt", "--out", "x.pose"]) == 2
    assert _err_lines(capsys) == [
        f"nar-slp generate: --input {bad} is not UTF-8 text: line 2 has byte 0xfc "
        "(invalid start byte); save it as UTF-8"
    ]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"ok\n\xff\n")))
    assert main(["generate", "--input", "-", "--out", "x.pose"]) == 2
    assert "--input standard input is not UTF-8 text: line 2" in _err_lines(capsys)[0]
    assert main(["generate", "--input", "nothing.txt", "--out", "x.pose"]) == 2
    assert f"--input {tmp_path / 'nothing.txt'} does not exist" in _err_lines(capsys)[0]
    assert main(["generate", "rain", "--out", "no/such/x.gif"]) == 2
    assert "its folder" in _err_lines(capsys)[0]
    (tmp_path / "taken.pose").mkdir()
    assert main(["generate", "rain", "--out", "taken.pose"]) == 2
    assert "is a folder" in _err_lines(capsys)[0]
    assert main(["generate", "rain", "--out", "x.avi"]) == 2
    assert "unknown kind '.avi'" in _err_lines(capsys)[0]
    # a relative --run-dir is the current directory's, not the repository's
    assert main(["generate", "rain", "--out", "x.pose", "--run-dir", "runs/x"]) == 2
    assert f"{tmp_path / 'runs' / 'x'} does not exist" in _err_lines(capsys)[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latin1.txt", "taken.pose"]


def test_evaluate_export_and_data_write_nothing_when_refused(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", "--run-dir", "gone"]) == 2
    assert f"{tmp_path / 'gone'} does not exist" in _err_lines(capsys)[0]
    assert main(["export", "--run-dir", "gone", "--out", "a/b/bundle"]) == 2
    assert "--out" in _err_lines(capsys)[0]
    # export never replaces a folder that is not a bundle: one line, intact
    run = tmp_path / "run"
    for file in ("students/kd/seed0/config.json", "vae/config.json", "normaliser.json"):
        (run / file).parent.mkdir(parents=True, exist_ok=True)
        (run / file).write_text("{}")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("months of work")
    assert main(["export", "--run-dir", "run", "--out", "mine"]) == 2
    assert "not a nar-slp bundle: not replacing it" in _err_lines(capsys)[0]
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "months of work"
    (tmp_path / "file").write_text("")
    assert main(["data", "--preset", "smoke", "--run-dir", "file/run"]) == 2
    assert "is not a folder" in _err_lines(capsys)[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "mine", "run"]


# ------------------------------------------------------------------ what it writes


def test_every_output_kind_reads_back_and_truncation_and_unknown_words_are_said(
    tmp_path, monkeypatch, capsys, shipped_bundle
):
    """The shipped main student as a bundle through ``main``, relative paths from the
    current directory, mp4 through PyAV (no ffmpeg binary)."""
    import av
    from PIL import Image

    from nar_slp.visualisation import animate

    monkeypatch.setattr(animate, "has_ffmpeg", lambda: False)
    monkeypatch.chdir(tmp_path)
    model = os.path.relpath(shipped_bundle, tmp_path)  # taken from the cwd too
    (tmp_path / "texts.txt").write_text(f"rain in the north\n{PIZZA}\n{LONG}\n")

    assert (
        main(
            ["generate", "--input", "texts.txt", "--model", model, "--out", "all.skels"]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "nar-slp generate: warning: text 2: 6 of 9 words never occur in the model's "
        "training texts ('please', 'deliver', 'large', 'pepperoni', ...); expect "
        "signing that does not follow it",
        "nar-slp generate: warning: text 3 was cut to 128 tokens (kept 126 of 400 "
        "words)",
    ]
    lines = out.splitlines()
    assert lines[0] == f"model: bundle {shipped_bundle}"
    frames = [int(line.split(": ")[1].split()[0]) for line in lines[1:4]]
    assert [line.split(":")[0] for line in lines[1:4]] == [
        f"{tmp_path / 'all.skels'}[{i}]" for i in range(3)
    ]
    seqs = read_split(tmp_path, "all")
    assert [len(s.poses) for s in seqs] == frames
    assert [s.text for s in seqs] == ["rain in the north", PIZZA, LONG]

    sentence = ["rain in the north", "--model", model]
    two = ["rain in the north", "sunny", "--model", model, "--out", "two.pose"]
    assert main(["generate", *two]) == 0
    assert capsys.readouterr().err == ""
    poses = [read_pose(tmp_path / f"two_{i:03d}.pose").poses for i in range(2)]
    assert len(poses[0]) == frames[0] and poses[0].shape[1:] == (50, 3)

    assert main(["generate", *sentence, "--out", "one.gif"]) == 0
    with Image.open(tmp_path / "one.gif") as gif:
        n_gif, (w, h) = gif.n_frames, gif.size
    assert n_gif == frames[0]

    assert main(["generate", *sentence, "--out", "one.mp4"]) == 0
    with av.open(str(tmp_path / "one.mp4")) as video:
        decoded = list(video.decode(video=0))
    assert len(decoded) == frames[0]
    assert (decoded[0].width, decoded[0].height) == (w - w % 2, h - h % 2)
    assert not list(tmp_path.glob(".*partial*"))


# ------------------------------------------------------------------ help, install


def test_help_imports_no_torch_and_lists_every_system():
    from nar_slp.registry import SYSTEMS
    from nar_slp.systems import SYSTEM_KEYS

    assert tuple(SYSTEMS) == SYSTEM_KEYS
    code = (
        "import sys\n"
        "from nar_slp.cli import main\n"
        "for argv in (['--help'], ['generate', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('torch', 'numpy', 'transformers') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout
    assert ", ".join(SYSTEM_KEYS) in " ".join(done.stdout.split())


def test_the_installed_wheel_carries_its_model_and_signs(tmp_path):
    """The wheel built from this tree, installed apart from the checkout, carries the
    shipped weights' main student (only it), finds it inside itself and signs from
    another directory; another system is refused in one line."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "nar_slp", src / "nar_slp", ignore=shutil.ignore_patterns("__pycache__")
    )
    dist, site, work = tmp_path / "dist", tmp_path / "site", tmp_path / "work"
    work.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)],
        check=True,
        timeout=300,
    )
    (wheel,) = dist.glob("nar_slp-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = "nar_slp/shipped/default"
    for file in ("manifest.json", "normaliser.json", "vae/model.safetensors"):
        assert f"{shipped}/{file}" in names
    assert f"{shipped}/students/kd/seed0/model.safetensors" in names
    extra = [
        n for n in names if n.startswith(shipped) and "/students/kd/seed0/" not in n
    ]
    assert all("/students/" not in n and "/baselines/" not in n for n in extra)
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        timeout=300,
    )
    code = (
        "import nar_slp.weights\n"
        "from nar_slp.cli import main\n"
        "print('WEIGHTS', nar_slp.weights.SHIPPED_WEIGHTS)\n"
        "refused = main(['generate', 'rain', '--system', 'no_kd', '--out', 'y.pose'])\n"
        "assert refused == 2\n"
        "raise SystemExit(main(['generate', 'rain in the north', '--out', 'x.pose']))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != RUN_DIR_ENV}
    env["PYTHONPATH"] = str(site)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    weights = site / "nar_slp" / "shipped" / "default"
    assert f"WEIGHTS {weights}" in done.stdout
    assert (
        f"model: shipped weights {weights / 'students' / 'kd' / 'seed0'}" in done.stdout
    )
    assert "this installation carries only kd seed 0" in done.stderr
    poses = read_pose(work / "x.pose").poses
    assert poses.shape[1:] == (50, 3) and np.isfinite(poses).all()
