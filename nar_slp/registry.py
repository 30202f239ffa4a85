"""The registry of trainable systems: one declaration per system, one loader, one
``generate`` for students and baselines alike.

Every system that turns sentences into poses is declared once in :data:`SYSTEMS` as a
:class:`System` — its run-folder key, its row and group in the paper's tables, its
family (``student``, ``pt``, ``nslpg``) and, for the baselines, its oracle-timing row.
:func:`load_system` loads a trained one from a run folder, and :func:`generate` signs
with it, whatever its family:

    from nar_slp.registry import generate, load_system

    pt = load_system("pt_base", "runs/default")
    gen = generate(pt, ["am tag regnet es im norden"])   # Generation: poses, lengths
    kd = load_system("kd", "runs/default", seed=0)
    gen = generate(kd, texts, lengths=[120, 80])         # forced lengths

What ``lengths`` means per family (the paper's timing rules, §4.3):

- student: ``None`` = the length regulator's prediction (Eq. 3); given = forced;
- NSLP-G: ``None`` = the main rows' rule (the mean training length for every
  sentence); given = the oracle row's ground-truth lengths;
- PT: decides its own length with its counter; ``lengths`` is refused — oracle timing
  (ground-truth first frame, counter and length) takes ``refs``, the ground-truth
  sequences, and :attr:`Generation.stopped` says which sequences PT's own counter
  ended.

The table rows come from :mod:`nar_slp.systems`; the students' training overrides from
:mod:`nar_slp.students`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nar_slp.data.normaliser import Normaliser
from nar_slp.data.run_data import NORMALISER_FILE
from nar_slp.inference import Generation
from nar_slp.inference import generate as generate_student
from nar_slp.models.nslp_g import generate_nslpg, load_nslpg
from nar_slp.models.pose_vae import load_vae
from nar_slp.models.progressive_transformer import generate_pt, load_pt
from nar_slp.models.student import load_student
from nar_slp.students import STUDENT_VARIANTS, student_dir
from nar_slp.systems import BASELINE_SYSTEMS, ORACLE_SUFFIX, ORACLE_SYSTEMS

STUDENT, PT, NSLPG = "student", "pt", "nslpg"
FAMILIES = (STUDENT, PT, NSLPG)
AUTOREGRESSIVE, NON_AUTOREGRESSIVE = "Autoregressive", "Non-autoregressive"


@dataclass(frozen=True)
class System:
    """One system of the paper's tables that is trained in a run folder."""

    key: str  # run-folder key: <run>/students/<key>/, <run>/baselines/<key>/
    row: str  # its row in Table 1
    group: str  # its group in Table 1
    family: str  # student | pt | nslpg
    description: str
    oracle_row: str | None = None  # the oracle-timing row (baselines only)

    def checkpoint(self, run: str | Path, seed: int = 0) -> Path:
        """The checkpoint folder of this system in ``run`` (students: one per training
        seed, its dev-selected epoch is what :func:`load_system` loads)."""
        if self.family == STUDENT:
            return student_dir(run, self.key, seed)
        return Path(run) / "baselines" / self.key


def _baseline(key: str, row: str) -> System:
    family = PT if key.startswith("pt_") else NSLPG
    what = {
        "pt_base": "Progressive Transformers: autoregressive, counter decoding (Base)",
        "pt_fpgn": "Progressive Transformers with future prediction + Gaussian noise",
        "nslpg_base": "NSLP-G: non-autoregressive through a frozen PGM (Base)",
        "nslpg_gs": "NSLP-G with gloss supervision (an auxiliary CTC loss, GS)",
        "nslpg_base_ft": "NSLP-G (Base), its PGM unfrozen for the last epochs (+ft)",
        "nslpg_gs_ft": "NSLP-G (GS), its PGM unfrozen for the last epochs (+ft)",
    }[key]
    return System(
        key,
        row,
        AUTOREGRESSIVE if family == PT else NON_AUTOREGRESSIVE,
        family,
        what,
        ORACLE_SYSTEMS[key + ORACLE_SUFFIX],
    )


SYSTEMS: dict[str, System] = {
    **{
        v.key: System(v.key, v.row, NON_AUTOREGRESSIVE, STUDENT, v.description)
        for v in STUDENT_VARIANTS.values()
    },
    **{key: _baseline(key, row) for key, row in BASELINE_SYSTEMS.items()},
}


def system(key: str) -> System:
    """The declared system ``key``; an unknown key names the valid ones."""
    try:
        return SYSTEMS[key]
    except KeyError:
        raise KeyError(
            f"unknown system {key!r}; the systems are {', '.join(SYSTEMS)}"
        ) from None


@dataclass
class LoadedSystem:
    """A trained system ready to generate: its declaration, its model, the VAE whose
    decoder (the PGM) a student needs (None for the baselines, which carry their
    own), and the run's normaliser."""

    system: System
    model: Any
    vae: Any
    normaliser: Normaliser
    source: Path  # the checkpoint folder it was loaded from


def load_system(
    key: str,
    run: str | Path,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> LoadedSystem:
    """Load system ``key`` trained in ``run`` (a student's training ``seed``; the
    baselines have one checkpoint each). A missing checkpoint, VAE or normaliser is a
    ``FileNotFoundError`` naming the file and the chapter or command that writes it.
    """
    spec = system(key)
    run = Path(run)
    folder = spec.checkpoint(run, seed)
    if not (folder / "config.json").exists():
        writer = (
            f"chapter 03 or `nar-slp train student --system {key} --seed {seed}`"
            if spec.family == STUDENT
            else f"chapter 04 or `nar-slp train {spec.family}`"
        )
        raise FileNotFoundError(f"{folder} holds no trained {spec.row}: run {writer}")
    norm_path = run / NORMALISER_FILE
    if not norm_path.exists():
        raise FileNotFoundError(
            f"{norm_path} does not exist: run chapter 01 or `nar-slp data` first"
        )
    normaliser = Normaliser.load(norm_path)
    if spec.family == STUDENT:
        vae_dir = run / "vae"
        if not (vae_dir / "config.json").exists():
            raise FileNotFoundError(
                f"{vae_dir} holds no VAE: run chapter 02 or `nar-slp train vae`"
            )
        model, vae = load_student(folder, device), load_vae(vae_dir, device)
    elif spec.family == PT:
        model, vae = load_pt(folder, str(device)), None
    else:
        model, vae = load_nslpg(folder, str(device)), None
    return LoadedSystem(spec, model, vae, normaliser, folder)


def generate(
    loaded: LoadedSystem,
    texts: Sequence[str],
    *,
    lengths: Sequence[int] | np.ndarray | None = None,
    refs: Sequence[Any] | None = None,
    batch_size: int = 64,
) -> Generation:
    """Poses for every text, in order, in the run's original coordinates.

    Args:
        loaded: a system from :func:`load_system`.
        texts: N sentences (a student trained on glosses takes glosses).
        lengths: N frame counts to force (students, NSLP-G's oracle row); see the
            module docstring for each family's rule without them. PT refuses them.
        refs: PT only: the ground-truth sequences (objects with ``.poses``) for
            oracle timing (their first frame and length).
        batch_size: texts per forward pass.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, not a single string")
    texts = list(texts)
    family = loaded.system.family
    if lengths is not None and len(lengths) != len(texts):
        raise ValueError(f"lengths has {len(lengths)} entries for {len(texts)} texts")
    if refs is not None and family != PT:
        raise ValueError(f"refs (PT's oracle timing) do not apply to {family} systems")
    if family == STUDENT:
        return generate_student(
            loaded.model,
            loaded.vae,
            loaded.normaliser,
            texts,
            batch_size,
            lengths=lengths,
        )
    if family == NSLPG:
        poses = generate_nslpg(
            loaded.model, texts, loaded.normaliser, lengths, batch_size
        )
        return Generation(poses, _lengths(poses))
    if lengths is not None:
        raise ValueError(
            "PT decides its own length with its counter; oracle timing takes refs "
            "(the ground-truth sequences), not lengths"
        )
    if refs is not None and len(refs) != len(texts):
        raise ValueError(f"refs has {len(refs)} entries for {len(texts)} texts")
    mode = "honest" if refs is None else "oracle"
    poses, stopped = generate_pt(
        loaded.model, texts, loaded.normaliser, mode, refs, batch_size
    )
    return Generation(poses, _lengths(poses), stopped)


def _lengths(poses: Sequence[np.ndarray]) -> np.ndarray:
    return np.asarray([len(p) for p in poses], dtype=np.int64)
