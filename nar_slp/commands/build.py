"""``nar-slp data`` and ``nar-slp train``: filling a run folder, first with its corpus
and normaliser, then with each trained component (``train student`` also under
``torchrun``, see :mod:`nar_slp.distributed`)."""

from __future__ import annotations

import argparse
import os
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
from nar_slp.data.dataset import PoseTextDataset
from nar_slp.data.run_data import (
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


def cmd_train(args: argparse.Namespace) -> int:
    world = launched_world()
    if world.distributed and args.what != "student":
        raise UsageError(
            f"only `train student` runs under torchrun (WORLD_SIZE={world.size}); "
            f"train {args.what} in one process"
        )
    # the configuration first: a bad --set fails before any file is read
    if args.what == "student":
        key = student_variant(args)
        overrides = parse_sets(args.set)
        try:
            cfg = variant_config(args.preset, key, seed=args.seed or 0, **overrides)
        except (KeyError, TypeError, ValueError) as err:
            raise UsageError(str(err).strip("'\"")) from err
    else:
        cfg = build_config(args.preset, args.set, args.seed)
    run = run_folder(args)
    need(run / "normaliser.json", f"run `nar-slp data --run-dir {run}` first")
    writable_folder(run, "--run-dir")  # where every trainer writes its checkpoints
    # the student resolves "auto" itself (under torchrun: each rank's own GPU)
    device = args.device if args.what == "student" else resolve_device(args.device)
    needs_vae = {"student": "vae", "nslpg": "vae_mse"}
    if args.what in needs_vae:
        folder = needs_vae[args.what]
        recon = "bce" if folder == "vae" else "mse"
        need(
            run / folder / "config.json",
            f"train it first: nar-slp train vae --recon-loss {recon} --run-dir {run}",
        )
    data = load_run_data(run)
    train, dev = data.splits["train"], data.splits["dev"]
    if args.what == "vae":
        folder = "vae" if args.recon_loss == "bce" else "vae_mse"
        norm = data.normaliser
        res = train_vae(
            cfg,
            [norm.transform(s.poses) for s in train],
            [norm.transform(s.poses, warn=False) for s in dev],
            run / folder,
            device=device,
            resume=not args.retrain,
            recon_loss=args.recon_loss,
        )
        print(f"VAE ({args.recon_loss}) in {run / folder}: {len(res.history)} epochs")
    elif args.what == "student":
        t_max = cfg.data.max_frames
        out = student_dir(run, key, cfg.seed)
        res = train_student(
            cfg,
            PoseTextDataset(train, data.normaliser, t_max),
            PoseTextDataset(dev, data.normaliser, t_max),
            load_vae(run / "vae"),
            out,
            device=device,
            resume=not args.retrain,
        )
        if world.main:
            print(res.summary(f"{key} seed {cfg.seed} in {out}"))
        leave_world()
    elif args.what == "pt":
        for variant in ("base", "fpgn"):
            folder = run / "baselines" / f"pt_{variant}"
            train_pt(
                cfg,
                variant,
                train,
                data.normaliser,
                folder,
                device,
                retrain=args.retrain,
            )
            print(f"PT ({variant}) in {folder}")
    elif args.what == "nslpg":
        for gs in (False, True):
            key = "nslpg_gs" if gs else "nslpg_base"
            base = run / "baselines"
            train_nslpg(
                cfg,
                gs,
                train,
                data.normaliser,
                run / "vae_mse",
                base / key,
                base / f"{key}_ft",
                device,
                retrain=args.retrain,
            )
            print(f"NSLP-G ({key}, {key}_ft) in {base}")
    elif args.what == "tae":
        folder = run / "evaluators" / "tae"
        if args.retrain or not (folder / "config.json").exists():
            train_tae(
                cfg,
                [s.poses for s in train],
                data.normaliser,
                folder,
                device=device,
                dev_poses=[s.poses for s in dev],
            )
        print(f"TAE in {folder}")
    else:
        folder = run / "evaluators" / "slt"
        if args.retrain or not (folder / "config.json").exists():
            train_slt(cfg, train, dev, data.normaliser, folder, device=device)
        print(f"back-translation model in {folder}")
    return 0
