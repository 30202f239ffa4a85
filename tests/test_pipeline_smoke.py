"""The chapters run end to end at the smoke preset, handing results through files.

Runs every committed notebook with papermill in a temporary run folder (so nothing in
the repository is touched). About a minute on 2 cores.
"""

from pathlib import Path

import pytest

papermill = pytest.importorskip("papermill")

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = [
    "01_data",
    "02_vae_pretraining",
    "03_distill",
    "04_baselines",
    "05_evaluation",
    "06_visualisation",
]


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


def test_smoke_pipeline_runs_every_chapter_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("NAR_SLP_PROGRESS", "0")
    run = tmp_path / "run"
    for chapter in CHAPTERS:
        _run(chapter, tmp_path, run)
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
