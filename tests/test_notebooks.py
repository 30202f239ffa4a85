"""Structure of the committed chapters: what papermill and nbval rely on."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted(
    (Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb")
)


def test_chapters_exist():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_data", "02_vae_pretraining", "03_distill", "05_evaluation"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_parameterised_executed_and_error_free(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    assert cells[0]["cell_type"] == "markdown"
    assert "".join(cells[0]["source"]).startswith("# "), "first cell is the H1 title"
    code = [c for c in cells if c["cell_type"] == "code"]
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    src = "".join(tagged[0]["source"])
    assert 'PRESET: str = "default"' in src, (
        "committed notebooks run the default preset"
    )
    assert all(c.get("execution_count") is not None for c in code), "not executed"
    counts = [c["execution_count"] for c in code]
    assert counts == sorted(counts), "cells were executed out of order"
    for c in code:
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"error output in {path.name}"
            if out["output_type"] == "stream":
                assert "\r" not in "".join(out["text"]), (
                    "progress bar in committed output"
                )
    assert any("assert" in "".join(c["source"]) for c in code[-2:]), "ends with checks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_is_shown_inline(path):
    """A cell that shows a figure carries it as an image output in the committed
    chapter (the inline backend; nbval does not compare image bytes). A cell that
    shows a widget panel instead (the explorer, whose figure is only its fallback
    without ipywidgets) carries the widget view."""
    nb = json.loads(path.read_text())
    shown = [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and "plt.show()" in "".join(c["source"])
    ]
    for cell in shown:
        images = [
            o
            for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})
            or "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        ]
        if "if data.source" in "".join(cell["source"]) and not cell["outputs"]:
            continue  # a figure that only external data skips
        assert images, (
            f"{path.name}: no image output for\n{''.join(cell['source'])[:200]}"
        )


def test_notebook_runs_do_not_force_a_non_interactive_backend():
    makefile = (NOTEBOOKS[0].parent.parent / "Makefile").read_text()
    assert "export MPLBACKEND" not in makefile


def test_run_dir_from_environment(tmp_path, monkeypatch):
    from nar_slp import paths

    monkeypatch.delenv(paths.RUN_DIR_ENV, raising=False)
    assert paths.run_dir("default") == paths.repo_root() / "runs" / "default"
    assert paths.figures_dir("default") == paths.repo_root() / "figures"
    monkeypatch.setenv(paths.RUN_DIR_ENV, str(tmp_path / "scratch"))
    assert paths.run_dir("default") == tmp_path / "scratch"
    assert paths.results_dir("default") == tmp_path / "scratch" / "results"
    assert paths.figures_dir("default") == tmp_path / "scratch" / "figures"
    # an explicit RUN_DIR parameter still wins over the environment
    assert paths.run_dir("default", tmp_path / "mine") == tmp_path / "mine"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_reads_every_parameter(path):
    """`papermill --help-notebook` and its warnings rely on papermill's own parser: a
    comment with " = " in it, for example, hides the parameter ("Passed unknown
    parameter"). Union annotations (``str | None``) are the one form it cannot read."""
    from papermill.translators import PythonTranslator

    nb = json.loads(path.read_text())
    (cell,) = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    src = "".join(cell["source"])
    declared = [
        line.split(":")[0].split("=")[0].strip()
        for line in src.splitlines()
        if line.strip()
        and not line.lstrip().startswith("#")
        and "|" not in line.split("#")[0]
    ]
    inferred = [p.name for p in PythonTranslator.inspect({"source": src})]
    assert inferred == declared
