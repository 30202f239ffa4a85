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
seed. :func:`load_student` loads the ``best`` state when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from nar_slp.checkpoints import check_compatible, checkpoint_exists, load_checkpoint
from nar_slp.config import Config, config_from_dict, get_config
from nar_slp.models.student import TextToLatentStudent, build_student
from nar_slp.systems import OURS_KD, OURS_NO_BERT, OURS_NO_KD
from nar_slp.utils import pick_device

BEST = "best"  # sub-folder of a student checkpoint holding the dev-selected epoch
SEED_PREFIX = "seed"
_SEED_DIR = re.compile(rf"^{SEED_PREFIX}(-?\d+)$")

# Settings that change the student's architecture (or its output space): a checkpoint
# trained with different values cannot be loaded.
ARCH_KEYS = [
    "vae.latent_dim",
    "data.max_frames",
    "student.text_encoder",
    "student.scratch_like",
    "student.scratch_vocab",
    "student.pooling",
    "student.d_model",
    "student.n_layers",
    "student.n_heads",
    "student.d_ff",
    "student.length_hidden",
]


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


def check_student_extra(
    extra: dict[str, Any],
    where: Path,
    n_values: int | None = None,
    input_kind: str | None = None,
) -> None:
    """Check a checkpoint's bookkeeping: it holds a student, trained on a VAE with
    ``n_values`` values per frame and on ``input_kind`` inputs (None: not checked)."""
    if extra.get("kind", "student") != "student":
        raise ValueError(
            f"checkpoint {where} holds a {extra.get('kind')!r} model, not a student"
        )
    saved = extra.get("n_values")
    if n_values is not None and saved is not None and int(saved) != n_values:
        raise ValueError(
            f"checkpoint {where} was trained with a VAE of {saved} values per frame "
            f"(joints x coords) but this VAE has {n_values}; use the matching VAE"
        )
    saved_kind = extra.get("input_kind")
    if input_kind is not None and saved_kind is not None and saved_kind != input_kind:
        raise ValueError(
            f"checkpoint {where} was trained with input_kind={saved_kind!r} but "
            f"input_kind={input_kind!r} was asked for"
        )


def load_student(
    directory: str | Path,
    device: str | torch.device = "cpu",
    cfg: Config | None = None,
    which: str = BEST,
) -> TextToLatentStudent:
    """Rebuild a trained student from a ``train_student`` folder (eval mode).

    Args:
        directory: the checkpoint folder (``<run>/students/<key>/seed<s>``).
        device: where to put the model.
        cfg: if given, it must agree with the checkpoint on :data:`ARCH_KEYS`
            (else ``ValueError``); the architecture always comes from the
            checkpoint's own config.
        which: ``"best"`` (default): the epoch selected on dev, from
            ``directory/best`` (falls back to the last epoch when the run had no dev
            set, or predates best-epoch selection); ``"last"``: the last epoch.

    ``model.input_kind`` says whether it reads texts or glosses;
    ``model.trained_epoch`` which epoch the weights are from (None if unknown).
    """
    if which not in (BEST, "last"):
        raise ValueError(f"which={which!r}; valid: 'best', 'last'")
    directory = Path(directory)
    source = directory
    if which == BEST and checkpoint_exists(directory / BEST):
        source = directory / BEST
    ckpt = load_checkpoint(source, device="cpu", with_optimizer=False)
    check_student_extra(ckpt.extra, source)
    if cfg is not None:
        check_compatible(ckpt.config, cfg.to_dict(), ARCH_KEYS, source)
    saved_cfg = config_from_dict(ckpt.config)
    model = build_student(saved_cfg)
    missing, unexpected = model.load_state_dict(ckpt.state_dict, strict=False)
    if ckpt.extra.get("encoder_weights") == "package":  # shipped weights: the frozen
        missing = [k for k in missing if not k.startswith("encoder.")]  # encoder's own
    if missing or unexpected:
        raise ValueError(
            f"checkpoint {source} does not match the student its config describes: "
            f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}"
        )
    model.input_kind = ckpt.extra.get("input_kind", "text")
    model.trained_epoch = ckpt.extra.get("epoch")
    return model.to(pick_device(device)).eval()
