"""The conda environment and the pip package describe the same dependencies."""

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return (
        re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0]
        .lower()
        .replace("_", "-")
    )


def _pyproject(extras: bool = True) -> dict[str, str]:
    """The package's requirements, with its extras (notebooks, dev) unless not."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"])
    if extras:
        deps += [
            d for group in project["optional-dependencies"].values() for d in group
        ]
    return {_name(d): d for d in deps}


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return {_name(d): d for d in pip if not d.startswith("-e")}


def test_environment_and_pyproject_list_the_same_packages():
    assert set(_pyproject()) == set(_environment())


def test_the_package_needs_no_notebook_or_test_tools():
    # a pip-installed nar-slp runs without Jupyter, papermill or pytest: extras
    tools = {"jupyterlab", "ipykernel", "ipywidgets", "papermill", "nbval", "pytest"}
    assert not tools & set(_pyproject(extras=False))
    assert tools | {"ruff"} <= set(_pyproject())


def test_torch_is_pinned_in_environment_and_makefile():
    assert _environment()["torch"].replace(" ", "") == "torch==2.13.0"
    assert "torch==2.13.0" in (ROOT / "Makefile").read_text()


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
