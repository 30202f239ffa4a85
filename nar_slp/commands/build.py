"""``nar-slp data`` and ``nar-slp train``: filling a run folder, first with its corpus
and normaliser, then with each trained component (``train student`` also under
``torchrun``, see :mod:`nar_slp.distributed`)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nar_slp.commands.common import (
    TRAINABLE,
    UsageError,
    build_config,
    creatable_folder,
    need,
    parse_sets,
    resolve_device,
    run_folder,
    student_variant,
    writable_folder,
)
from nar_slp.config import Config
from nar_slp.data.dataset import PoseTextDataset
from nar_slp.data.run_data import (
    RunData,
    fit_normaliser,
    load_run_data,
    prepare_data,
    read_run_splits,
)
from nar_slp.distributed import launched_world, leave_world
from nar_slp.evaluation.back_translation import train_slt
from nar_slp.evaluation.tae_training import train_tae
from nar_slp.models.pose_vae import load_vae
from nar_slp.students import student_dir, variant_config
from nar_slp.training.baseline_trainer import train_nslpg, train_pt
from nar_slp.training.student_trainer import train_student
from nar_slp.training.vae_trainer import train_vae

__all__ = ["TRAINABLE", "cmd_data", "cmd_train"]


def cmd_data(args: argparse.Namespace) -> int:
    cfg = build_config(args.preset, args.set, None)
    if args.data_dir is not None:
        data_dir = need(Path(args.data_dir), "--data-dir must be a PT-format folder")
        if not data_dir.is_dir() or not os.access(data_dir, os.R_OK | os.X_OK):
            raise UsageError(f"--data-dir {data_dir} is not a readable folder")
    run = creatable_folder(run_folder(args), "--run-dir")
    folder = prepare_data(cfg, run, args.data_dir)
    _, splits, _ = read_run_splits(run)
    fit_normaliser(run, splits)  # fitted on train, written to normaliser.json
    sizes = ", ".join(f"{s} {len(v)}" for s, v in splits.items())
    print(f"data in {folder} ({sizes}); normaliser in {run / 'normaliser.json'}")
    return 0


@dataclass(frozen=True)
class Job:
    """What one ``nar-slp train <what>`` call trains with: the parsed arguments, the
    configuration, the run folder, its data and the device."""

    args: argparse.Namespace
    cfg: Config
    run: Path
    data: RunData
    device: str

    @property
    def train(self) -> list:
        return self.data.splits["train"]

    @property
    def dev(self) -> list:
        return self.data.splits["dev"]


def _train_vae(job: Job) -> None:
    folder = "vae" if job.args.recon_loss == "bce" else "vae_mse"
    norm = job.data.normaliser
    res = train_vae(
        job.cfg,
        [norm.transform(s.poses) for s in job.train],
        [norm.transform(s.poses, warn=False) for s in job.dev],
        job.run / folder,
        device=job.device,
        resume=not job.args.retrain,
        recon_loss=job.args.recon_loss,
    )
    print(
        f"VAE ({job.args.recon_loss}) in {job.run / folder}: {len(res.history)} epochs"
    )


def _train_student(job: Job) -> None:
    cfg, key = job.cfg, student_variant(job.args)
    t_max = cfg.data.max_frames
    out = student_dir(job.run, key, cfg.seed)
    res = train_student(
        cfg,
        PoseTextDataset(job.train, job.data.normaliser, t_max),
        PoseTextDataset(job.dev, job.data.normaliser, t_max),
        load_vae(job.run / "vae"),
        out,
        device=job.device,
        resume=not job.args.retrain,
    )
    if launched_world().main:
        print(res.summary(f"{key} seed {cfg.seed} in {out}"))
    leave_world()


def _train_pt(job: Job) -> None:
    for variant in ("base", "fpgn"):
        folder = job.run / "baselines" / f"pt_{variant}"
        train_pt(
            job.cfg,
            variant,
            job.train,
            job.data.normaliser,
            folder,
            job.device,
            retrain=job.args.retrain,
        )
        print(f"PT ({variant}) in {folder}")


def _train_nslpg(job: Job) -> None:
    base = job.run / "baselines"
    for gs in (False, True):
        key = "nslpg_gs" if gs else "nslpg_base"
        train_nslpg(
            job.cfg,
            gs,
            job.train,
            job.data.normaliser,
            job.run / "vae_mse",
            base / key,
            base / f"{key}_ft",
            job.device,
            retrain=job.args.retrain,
        )
        print(f"NSLP-G ({key}, {key}_ft) in {base}")


def _train_tae(job: Job) -> None:
    folder = job.run / "evaluators" / "tae"
    if job.args.retrain or not (folder / "config.json").exists():
        train_tae(
            job.cfg,
            [s.poses for s in job.train],
            job.data.normaliser,
            folder,
            device=job.device,
            dev_poses=[s.poses for s in job.dev],
        )
    print(f"TAE in {folder}")


def _train_slt(job: Job) -> None:
    folder = job.run / "evaluators" / "slt"
    if job.args.retrain or not (folder / "config.json").exists():
        train_slt(
            job.cfg, job.train, job.dev, job.data.normaliser, folder, device=job.device
        )
    print(f"back-translation model in {folder}")


# ``nar-slp train <what>``: its trainer and the VAE folder it needs trained first
# (with the reconstruction loss that trains it).
TRAINERS: dict[str, tuple[Callable[[Job], None], tuple[str, str] | None]] = {
    "vae": (_train_vae, None),
    "student": (_train_student, ("vae", "bce")),
    "pt": (_train_pt, None),
    "nslpg": (_train_nslpg, ("vae_mse", "mse")),
    "tae": (_train_tae, None),
    "slt": (_train_slt, None),
}


def cmd_train(args: argparse.Namespace) -> int:
    world = launched_world()
    if world.distributed and args.what != "student":
        raise UsageError(
            f"only `train student` runs under torchrun (WORLD_SIZE={world.size}); "
            f"train {args.what} in one process"
        )
    trainer, needs_vae = TRAINERS[args.what]
    # the configuration first: a bad --set fails before any file is read
    if args.what == "student":
        overrides = parse_sets(args.set)
        try:
            cfg = variant_config(
                args.preset, student_variant(args), seed=args.seed or 0, **overrides
            )
        except (KeyError, TypeError, ValueError) as err:
            raise UsageError(str(err).strip("'\"")) from err
    else:
        cfg = build_config(args.preset, args.set, args.seed)
    run = run_folder(args)
    need(run / "normaliser.json", f"run `nar-slp data --run-dir {run}` first")
    writable_folder(run, "--run-dir")  # where every trainer writes its checkpoints
    # the student resolves "auto" itself (under torchrun: each rank's own GPU)
    device = args.device if args.what == "student" else resolve_device(args.device)
    if needs_vae is not None:
        folder, recon = needs_vae
        need(
            run / folder / "config.json",
            f"train it first: nar-slp train vae --recon-loss {recon} --run-dir {run}",
        )
    trainer(Job(args, cfg, run, load_run_data(run), device))
    return 0
