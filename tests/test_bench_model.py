"""benchmarks/bench_model.py runs end to end at the smoke preset on the CPU.

Tiny step counts, random data and the tiny local BERT of conftest.py keep this fast;
the numbers themselves are not checked (no wall-clock assertions), only that every
section produces consistent rows and that CPU runs leave out GPU-only columns.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from nar_slp.config import OFFLINE_TEXT_ENCODER, get_config
from nar_slp.models.text_encoder import TextEncoderUnavailableError

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_model.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_main_smoke_cpu(bench, tiny_bert_dir, tmp_path, capsys):
    out = tmp_path / "bench.json"
    steps, batch = 2, 8
    results = bench.main(
        [
            "--preset", "smoke", "--device", "cpu", "--data", "random",
            "--steps", str(steps), "--warmup", "1", "--runs", "2",
            "--gen-batches", "1", "--batch-size", str(batch),
            "--text-encoder", str(tiny_bert_dir),
            "--paper-run", "yes", "--paper-preset", "smoke", "--sweep",
            "--paper-steps", "2", "--paper-warmup", "0",
            "--paper-sequences", "24", "--paper-batch-size", "8",
            "--json", str(out),
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out

    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    assert "random synthetic sequences" in results["meta"]["data"]
    assert any("UNTRAINED" in n for n in results["notes"])

    latency, throughput = results["generation"]
    assert latency["sequences"] == 1 and latency["runs"] == 2
    assert throughput["sequences"] == batch  # one batch
    # Untrained models decode the data's lengths: the sentence gets the median one.
    lengths = bench.make_dataset(
        get_config("smoke"), bench.random_sequences(batch * (steps + 1))
    ).lengths
    assert latency["frames"] == int(np.median(lengths))

    vae, frozen, tuned = results["training"]
    assert vae["frames_per_s"] > 0 and vae["batch"].endswith("frames")
    assert "frozen" in frozen["encoder"] and "fine-tuned" in tuned["encoder"]
    assert frozen["trainable_params"] < tuned["trainable_params"]
    assert frozen["cache_fill_ms_per_text"] > 0 == tuned["cache_fill_ms_per_text"]
    for row in (frozen, tuned):
        assert row["sequences"] == steps * batch
        assert row["seq_per_s"] > 0 and row["frames_per_s"] > row["seq_per_s"]

    # CPU: the sweep reduces to fp32; rows carry projections, no GPU memory.
    student_row, vae_row = results["paper"]
    assert student_row["precision"] == "fp32" and "error" not in student_row
    assert student_row["projected_hours"] > 0 and vae_row["projected_hours"] > 0
    all_rows = results["generation"] + results["training"] + results["paper"]
    assert all(r.get("peak_gpu_mib") is None for r in all_rows)
    assert "peak GPU" not in printed
    rules = [line for line in printed.splitlines() if line.startswith("|---|")]
    assert "### 3." in printed and len(rules) == 3  # one table per section


def test_unavailable_paper_encoder_falls_back_with_a_note(bench):
    cfg, notes = bench.resolve_text_encoder(get_config("paper"), None)
    assert cfg.student.text_encoder == OFFLINE_TEXT_ENCODER
    assert cfg.student.d_model == 768  # only the encoder is replaced
    assert len(notes) == 1 and "bert-base-german-cased" in notes[0]


def test_explicit_missing_encoder_is_an_error(bench, tmp_path):
    with pytest.raises(TextEncoderUnavailableError):
        bench.resolve_text_encoder(get_config("smoke"), str(tmp_path / "nope"))


def test_checkpoint_dirs_go_together(bench, tmp_path):
    with pytest.raises(SystemExit):
        bench.parse_args(["--student-dir", str(tmp_path)])


def test_bench_precision_times_the_package_trainer_on_cpu(tiny_bert_dir, tmp_path):
    script = SCRIPT.with_name("bench_precision.py")
    spec = importlib.util.spec_from_file_location("bench_precision", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "precision.json"
    data = Path(__file__).resolve().parent / "data" / "pt_tiny"
    args = ["--preset", "smoke", "--device", "cpu", "--data", str(data)]
    args += ["--text-encoder", str(tiny_bert_dir), "--sequences", "8", "--epochs", "1"]
    assert (
        module.main([*args, "--settings", "fp32,fp32-pad16", "--json", str(out)]) == 0
    )
    report = json.loads(out.read_text())
    rows = report["settings"]
    assert set(rows) == {"fp32", "fp32-pad16"} and report["device"] == "cpu"
    for row in rows.values():
        assert row["ms_per_step"] > 0 and row["projected_hours"] > 0
    assert rows["fp32-pad16"]["overrides"]["student.pad_to_multiple"] == 16
    with pytest.raises(SystemExit):
        module.main([*args, "--settings", "fp8"])
