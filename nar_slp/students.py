"""The trained students of a run: which systems there are, where their seeds live, and
how to load one. Neutral ground for chapter 03 (training), chapter 05 and the
evaluation harness (which must not import training code).

Systems (§5, Table 1 and Table 3): :data:`STUDENT_VARIANTS` defines each student
once, as a key, its row name in the paper's tables and the config overrides that
make it:

    ``kd``       Ours (w/ KD)     pretrained text encoder, Eq. 11 with L_distil
    ``no_kd``    Ours (w/o KD)    the same without L_distil (Table 1, Table 3a)
    ``no_bert``  Ours (w/o BERT)  the encoder's architecture, randomly initialised and
                                  trained (``text_encoder="scratch"``, Table 3b)

Layout: one checkpoint folder per system and training seed,

    <run>/students/<key>/seed<s>/        the last epoch (exact resume), s = cfg.seed
    <run>/students/<key>/seed<s>/best/   the epoch selected on dev (evaluation)

:func:`student_dirs` lists them; a folder ``<run>/students/<key>/`` that is itself a
checkpoint (runs trained before seeds were introduced) counts as that system's only
seed. :func:`nar_slp.models.student.load_student` loads one (the ``best`` state
when there is one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nar_slp.checkpoints import checkpoint_exists
from nar_slp.config import Config, get_config
from nar_slp.systems import OURS_KD, OURS_NO_BERT, OURS_NO_KD

SEED_PREFIX = "seed"
_SEED_DIR = re.compile(rf"^{SEED_PREFIX}(-?\d+)$")


@dataclass(frozen=True)
class StudentVariant:
    """One student system: its run-folder key, its row in the paper's tables, and the
    config overrides (``"section.field"``) that turn a preset into it."""

    key: str
    row: str
    overrides: Mapping[str, Any]
    description: str


STUDENT_VARIANTS: dict[str, StudentVariant] = {
    v.key: v
    for v in (
        StudentVariant(
            "kd",
            OURS_KD,
            {"student.use_kd": True},
            "pretrained text encoder; L_pose + L_distil + L_length (Eq. 11)",
        ),
        StudentVariant(
            "no_kd",
            OURS_NO_KD,
            {"student.use_kd": False},
            "pretrained text encoder; L_pose + L_length (no L_distil, Eq. 9)",
        ),
        StudentVariant(
            "no_bert",
            OURS_NO_BERT,
            {"student.use_kd": True, "student.text_encoder": "scratch"},
            "the text encoder's architecture, random init, trained; Eq. 11",
        ),
    )
}


def variant_config(
    preset: str, key: str, kd_weight: float | None = None, **overrides: Any
) -> Config:
    """The config of student system ``key`` at ``preset``.

    ``overrides`` (``get_config`` keys: ``seed``, ``student__train__epochs``...) apply
    first, then the variant's own overrides, which win. When ``overrides`` name a
    ``student.text_encoder`` and no ``student.scratch_like``, the ``no_bert``
    encoder copies that encoder's architecture, so the ablation keeps matching.
    ``kd_weight`` (None: the preset's) sets the weight of L_distil in Eq. 11 for the
    systems trained with it (0 plants the regression of ``make planted-regression``).
    """
    if key not in STUDENT_VARIANTS:
        raise KeyError(
            f"unknown student system {key!r}; valid: {', '.join(STUDENT_VARIANTS)}"
        )
    dotted = {k.replace("__", "."): v for k, v in overrides.items()}
    if "student.text_encoder" in dotted and "student.scratch_like" not in dotted:
        dotted["student.scratch_like"] = dotted["student.text_encoder"]
    cfg = get_config(preset, **{**dotted, **STUDENT_VARIANTS[key].overrides})
    if kd_weight is not None and cfg.student.use_kd:
        pose, _, length = cfg.student.loss_weights
        cfg = replace(
            cfg,
            student=replace(cfg.student, loss_weights=(pose, float(kd_weight), length)),
        )
    return cfg


def student_dir(run: str | Path, key: str, seed: int) -> Path:
    """``<run>/students/<key>/seed<seed>``: the checkpoint folder of one training
    seed (``seed`` = the config's ``seed``)."""
    return Path(run) / "students" / key / f"{SEED_PREFIX}{int(seed)}"


def student_dirs(run: str | Path) -> dict[str, list[Path]]:
    """Every trained seed of every student system under ``<run>/students/``.

    Returns ``{key: [checkpoint folder, ...]}`` in :data:`STUDENT_VARIANTS` order,
    seeds sorted by seed value; a system with no checkpoint is absent. A folder
    ``<run>/students/<key>/`` that holds a checkpoint itself (the layout before
    seeds) is returned as the system's single seed.
    """
    found: dict[str, list[Path]] = {}
    for key in STUDENT_VARIANTS:
        folder = Path(run) / "students" / key
        if not folder.is_dir():
            continue
        seeds = []
        for child in folder.iterdir():
            m = _SEED_DIR.match(child.name)
            if m and child.is_dir() and checkpoint_exists(child):
                seeds.append((int(m.group(1)), child))
        if seeds:
            found[key] = [path for _, path in sorted(seeds)]
        elif checkpoint_exists(folder):
            found[key] = [folder]
    return found
