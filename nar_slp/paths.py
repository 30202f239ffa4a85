"""Where chapters read and write: everything lives under one run folder per preset.

Chapters hand results to each other only through these files, so each notebook can be
run on its own by papermill, in order::

    runs/<preset>/
        data/                    PT-format folder ({split}.skels/.text/.gloss/.files)
        normaliser.json          fitted on the training split (01_data)
        vae/                     pose VAE checkpoint: LGM + PGM (02_vae_pretraining)
        students/<system>/seed<s>/       student checkpoints (last epoch; best/ = the
                                 epoch selected on dev): kd, no_kd, no_bert (03)
        baselines/<key>/         PT and NSLP-G checkpoints (04_baselines)
        evaluators/tae/, slt/    FGD autoencoder and back-translation model (05)
        outputs/<system>/        generated poses of each system, PT format (04, 05)
        exports/                 .pose files (06_visualisation)
    results/<preset>/            tables (CSV + Markdown), committed for `default`
    figures/                     figures of the default run, committed

A run in a folder of its own (``RUN_DIR``, or the environment variable
``NAR_SLP_RUN_DIR`` when a chapter's ``RUN_DIR`` parameter is empty) keeps its tables
and figures inside it (``<run>/results``, ``<run>/figures``) so it never overwrites the
committed ones. ``make test`` sets ``NAR_SLP_RUN_DIR`` so that re-executing the
committed chapters never rewrites tracked files.
"""

from __future__ import annotations

import os
from pathlib import Path

import nar_slp

RUN_DIR_ENV = "NAR_SLP_RUN_DIR"


def repo_root() -> Path:
    """The checkout's root (the folder holding ``nar_slp/``)."""
    return Path(nar_slp.__file__).resolve().parent.parent


def _override(override: str | Path | None) -> str | Path | None:
    """The explicit run folder, else ``$NAR_SLP_RUN_DIR`` (empty = unset)."""
    return override or os.environ.get(RUN_DIR_ENV) or None


def run_dir(preset: str, override: str | Path | None = None) -> Path:
    """``override`` if given, else ``$NAR_SLP_RUN_DIR`` if set (relative paths are
    taken from the repo root), else ``runs/<preset>`` under the repo root."""
    override = _override(override)
    if override:
        p = Path(override).expanduser()
        return p if p.is_absolute() else repo_root() / p
    return repo_root() / "runs" / preset


def results_dir(
    preset: str, override: str | Path | None = None, create: bool = True
) -> Path:
    """``results/<preset>/`` under the repo root, or ``<run>/results`` for a run in a
    folder of its own (``override``, e.g. tests and experiments), so such runs never
    overwrite the committed tables. Created if missing, unless ``create`` is False
    (a reader such as ``nar-slp evaluate`` must not create a folder in a run that is
    not there)."""
    override = _override(override)
    path = (
        run_dir(preset, override) / "results"
        if override
        else (repo_root() / "results" / preset)
    )
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def figures_dir(preset: str = "default", override: str | Path | None = None) -> Path:
    """``figures/`` under the repo root for the default run (the committed figures);
    ``<run>/figures`` for other presets or a run folder of its own. Created if
    missing."""
    override = _override(override)
    if override or preset != "default":
        path = run_dir(preset, override) / "figures"
    else:
        path = repo_root() / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def require(path: Path, chapter: str) -> Path:
    """Stop with a message naming the chapter that writes ``path`` if it is missing."""
    if not Path(path).exists():
        raise FileNotFoundError(
            f"{path} does not exist: run notebooks/{chapter} first "
            "(with the same PRESET and RUN_DIR)"
        )
    return Path(path)
