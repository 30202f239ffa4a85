"""The chapters run end to end at the smoke preset, handing results through files,
and train or load: the trained models exported as weights and loaded into a second run
give that run every model without training, showing the same training records.

Runs every committed notebook with papermill in temporary run folders (so nothing in
the repository is touched). About three minutes on 2 cores.
"""

from pathlib import Path

import pytest

papermill = pytest.importorskip("papermill")

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("0[1-6]_*.ipynb"))


def _run(chapter: str, tmp_path: Path, run: Path, **params):
    return papermill.execute_notebook(
        str(ROOT / "notebooks" / f"{chapter}.ipynb"),
        str(tmp_path / f"{chapter}.ipynb"),
        parameters={"PRESET": "smoke", "RUN_DIR": str(run), **params},
        cwd=str(ROOT / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
    )


def test_chapter_started_before_its_inputs_names_the_chapter_to_run(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="01_data"):
        _run("02_vae_pretraining", tmp_path, tmp_path / "empty-run")


def _stdout(nb, marker: str) -> str:
    """The printed output of the cell whose source contains ``marker``."""
    (cell,) = [c for c in nb.cells if marker in c.source]
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def test_smoke_pipeline_runs_every_chapter_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("NAR_SLP_PROGRESS", "0")
    monkeypatch.delenv("NAR_SLP_WEIGHTS", raising=False)
    run = tmp_path / "run"
    trained = {chapter: _run(chapter, tmp_path, run) for chapter in CHAPTERS}
    for path in (
        "dataset.json",
        "normaliser.json",
        "vae/model.safetensors",
        "vae_mse/config.json",
        "students/kd/seed0/config.json",  # SEEDS=3: seeds 0, 1, 2 of each system
        "students/kd/seed2/best/config.json",
        "students/no_kd/seed0/best/config.json",
        "students/no_bert/seed1/best/config.json",
        "results/training_sd.csv",
        "evaluators/tae/config.json",
        "evaluators/slt/config.json",
        "outputs/kd-seed0/test.skels",
        "outputs/pt_fpgn/test.skels",
        "outputs/nslpg_gs_ft_oracle/dev.skels",
        "baselines/pt_base/config.json",
        "results/table1.csv",
        "results/claims.csv",
        "figures/05_fgd_by_length.png",
        "figures/06_side_by_side.gif",
    ):
        assert (run / path).exists(), path
    table1 = (run / "results" / "table1.csv").read_text()
    assert "Ours (w/ KD)" in table1 and "PT (Base)" in table1
    assert "NSLP-G (GS +ft) [GT length]" in table1  # oracle rows apart from the main

    # ... and the same chapters over those models, exported as weights: nothing trains
    from nar_slp.weights import export_weights

    weights = tmp_path / "weights"
    manifest = export_weights(run, weights, preset="smoke")
    assert {r["kind"] for r in manifest["models"].values()} == {
        "vae",
        "student",
        "pt",
        "nslpg",
        "tae",
        "slt",
    }
    loaded_run, out = tmp_path / "loaded", tmp_path / "loaded-nb"
    out.mkdir()
    loaded = {c: _run(c, out, loaded_run, WEIGHTS=str(weights)) for c in CHAPTERS[:5]}
    for path in manifest["models"]:
        assert "installed_from" in (loaded_run / path / "config.json").read_text()
        assert not (loaded_run / path / "optimizer.safetensors").exists()  # no training
    # both paths show the stored training record (loading marks the shipped models)
    students = "results[key].append"
    assert _stdout(loaded["03_distill"], students) == _stdout(
        trained["03_distill"], students
    )
    for chapter, marker in (
        ("02_vae_pretraining", "histories ="),
        ("05_evaluation", "print(describe_training(folder))"),
    ):
        shown = _stdout(loaded[chapter], marker)
        assert shown.count("[shipped weights]") == 2, shown
        assert shown.replace(" [shipped weights]", "") == _stdout(
            trained[chapter], marker
        )
    assert (loaded_run / "results" / "table1.csv").exists()
    # loading never replaces a model trained in the run folder unless asked
    with pytest.raises(papermill.PapermillExecutionError, match="OVERWRITE"):
        _run("02_vae_pretraining", out, run, WEIGHTS=str(weights))
