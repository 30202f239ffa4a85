"""The ``nar-slp`` command line: the chapters' package functions, for long jobs.

The chapters stay the narrative; this is what a job scheduler or a shell script calls.
Each subcommand works on a run folder laid out as the chapters lay it out
(``runs/<preset>/`` by default), so a run trained here can be opened in the chapters
and the other way round::

    nar-slp data     --preset default --run-dir runs/x [--data-dir PHOENIX/]
    nar-slp train    vae|student|pt|nslpg|tae|slt --preset default --run-dir runs/x \\
                     [--set student.epochs=20 ...] [--system kd] [--seed 0]
    nar-slp generate "a sentence" ... [--input FILE | --input -] --run-dir runs/x \\
                     [--system kd] [--seed 0] --out x.pose|x.gif|x.mp4|x.skels
    nar-slp evaluate --run-dir runs/x        (prints that run's Table 1)
    nar-slp export   --run-dir runs/x --out bundle/ [--system kd] [--seed 0]

``generate --system`` takes any system of :data:`nar_slp.registry.SYSTEMS` (the three
students and the six baselines: ``pt_base``, ``nslpg_gs_ft``...) trained in the run;
``--model bundle/`` signs with an exported bundle instead of a run; without
``--model`` and without a trained student in the run, it uses the bundle shipped in
the repository (:data:`SHIPPED_BUNDLE`, the committed default run's main student).

Training resumes from the last checkpoint in the run folder (``student``, ``vae``) or
reuses a finished one (``pt``, ``nslpg``, ``tae``, ``slt``; ``--retrain`` starts over).
Bad arguments, missing inputs and unknown config keys end with one line naming what
is wrong and exit code 2, before anything is written.

``train student`` also runs under ``torchrun`` (DistributedDataParallel, see
:mod:`nar_slp.distributed`; README "Training at scale")::

    torchrun --standalone --nproc_per_node 4 -m nar_slp.cli train student \
        --preset paper --run-dir runs/x --device cuda
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nar_slp.bundle import SHIPPED_BUNDLE, BundleError, export_bundle, load_bundle
from nar_slp.config import PRESETS, Config, get_config
from nar_slp.data.dataset import PoseTextDataset
from nar_slp.data.pose_io import write_pose
from nar_slp.data.pt_format import SignSequence, write_split
from nar_slp.data.run_data import (
    fit_normaliser,
    load_run_data,
    prepare_data,
    read_run_splits,
)
from nar_slp.distributed import launched_world, leave_world
from nar_slp.evaluation.back_translation import train_slt
from nar_slp.evaluation.tae_training import train_tae
from nar_slp.paths import results_dir, run_dir
from nar_slp.registry import STUDENT, SYSTEMS, LoadedSystem, generate, load_system
from nar_slp.reproduce import literal_value
from nar_slp.students import STUDENT_VARIANTS, student_dir, variant_config
from nar_slp.training.baseline_trainer import train_nslpg, train_pt
from nar_slp.training.student_trainer import train_student
from nar_slp.training.vae_trainer import load_vae, train_vae
from nar_slp.utils import pick_device
from nar_slp.visualisation.animate import animate, save_animation

TRAINABLE = ("vae", "student", "pt", "nslpg", "tae", "slt")
OUTPUT_KINDS = (".pose", ".gif", ".mp4", ".skels")


class UsageError(Exception):
    """A bad argument, missing input or unknown key: one line, exit code 2."""


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """``["student.epochs=3", ...]`` -> ``{"student.epochs": 3, ...}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r}: expected section.field=value")
        out[key.strip()] = literal_value(value.strip())
    return out


def build_config(preset: str, sets: Sequence[str], seed: int | None) -> Config:
    """The preset with ``--set`` overrides; config errors become :class:`UsageError`."""
    overrides = parse_sets(sets)
    if seed is not None:
        overrides["seed"] = seed
    try:
        return get_config(preset, **overrides)
    except (KeyError, TypeError, ValueError) as err:
        raise UsageError(str(err).strip("'\"")) from err


def _run(args: argparse.Namespace) -> Path:
    return run_dir(args.preset, args.run_dir)


def _device(name: str) -> str:
    """``--device`` resolved (``auto``: a visible GPU, else the CPU) or refused."""
    try:
        return str(pick_device(name))
    except ValueError as err:
        raise UsageError(f"--device {name!r}: {err}") from err


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        raise UsageError(f"{path} does not exist: {what}")
    return path


# ------------------------------------------------------------------------ commands


def cmd_data(args: argparse.Namespace) -> int:
    cfg = build_config(args.preset, args.set, None)
    if args.data_dir is not None:
        _need(Path(args.data_dir), "--data-dir must be a PT-format folder")
    run = _run(args)
    folder = prepare_data(cfg, run, args.data_dir)
    _, splits, _ = read_run_splits(run)
    fit_normaliser(run, splits)  # fitted on train, written to normaliser.json
    sizes = ", ".join(f"{s} {len(v)}" for s, v in splits.items())
    print(f"data in {folder} ({sizes}); normaliser in {run / 'normaliser.json'}")
    return 0


def _variant(args: argparse.Namespace) -> str:
    if args.system not in STUDENT_VARIANTS:
        raise UsageError(
            f"--system {args.system!r}: valid systems are {', '.join(STUDENT_VARIANTS)}"
        )
    return args.system


def cmd_train(args: argparse.Namespace) -> int:
    world = launched_world()
    if world.distributed and args.what != "student":
        raise UsageError(
            f"only `train student` runs under torchrun (WORLD_SIZE={world.size}); "
            f"train {args.what} in one process"
        )
    run = _run(args)
    _need(run / "normaliser.json", f"run `nar-slp data --run-dir {run}` first")
    # the student resolves "auto" itself (under torchrun: each rank's own GPU)
    device = args.device if args.what == "student" else _device(args.device)
    if args.what == "student":
        key = _variant(args)
        overrides = parse_sets(args.set)
        try:
            cfg = variant_config(args.preset, key, seed=args.seed or 0, **overrides)
        except (KeyError, TypeError, ValueError) as err:
            raise UsageError(str(err).strip("'\"")) from err
    else:
        cfg = build_config(args.preset, args.set, args.seed)
    needs_vae = {"student": "vae", "nslpg": "vae_mse"}
    if args.what in needs_vae:
        folder = needs_vae[args.what]
        recon = "bce" if folder == "vae" else "mse"
        _need(
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


def read_texts(args: argparse.Namespace) -> list[str]:
    """The sentences to sign: positional arguments, then ``--input`` (one per line;
    ``-`` = standard input); blank lines are skipped."""
    texts = [t for t in args.texts if t.strip()]
    if args.input is not None:
        if args.input == "-":
            lines = sys.stdin.read().splitlines()
        else:
            path = _need(Path(args.input), "--input must be a text file")
            lines = path.read_text(encoding="utf-8").splitlines()
        texts += [line for line in lines if line.strip()]
    if not texts:
        raise UsageError("no sentence given: pass one as an argument or use --input")
    return [t.strip() for t in texts]


def output_paths(out: Path, n: int) -> list[Path]:
    """One file per sentence for .pose/.gif/.mp4 (``stem_000.ext``... when several);
    one PT split for .skels."""
    if out.suffix.lower() not in OUTPUT_KINDS:
        raise UsageError(
            f"--out {out}: unknown kind {out.suffix or '(none)'!r}; "
            f"valid: {', '.join(OUTPUT_KINDS)}"
        )
    if out.suffix.lower() == ".skels" or n == 1:
        return [out]
    return [out.with_name(f"{out.stem}_{i:03d}{out.suffix}") for i in range(n)]


def cmd_generate(args: argparse.Namespace) -> int:
    texts = read_texts(args)
    out = Path(args.out)
    paths = output_paths(out, len(texts))
    signer, source = signer_of(args)
    print(f"model: {source}")
    gen = generate(signer, texts)
    suffix = out.suffix.lower()
    if suffix == ".skels":
        seqs = [
            SignSequence(name=f"{out.stem}/{i:06d}", text=t, gloss="", poses=p)
            for i, (t, p) in enumerate(zip(texts, gen.poses, strict=True))
        ]
        write_split(out.parent, out.stem, seqs)
    elif suffix == ".pose":
        for path, poses in zip(paths, gen.poses, strict=True):
            write_pose(path, poses)
    else:
        for path, poses, text in zip(paths, gen.poses, texts, strict=True):
            save_animation(animate(poses, title=text[:60]), path, close=True)
    for path, text, n in zip(paths, texts, gen.lengths, strict=False):
        print(f"{path}: {n} frames  {text[:60]!r}")
    if suffix == ".skels":
        print(f"{len(texts)} sequences in {out} (PT format, split {out.stem!r})")
    return 0


def signer_of(args: argparse.Namespace) -> tuple[LoadedSystem, str]:
    """(system, description) for ``generate``: ``--model``'s bundle, else the run's
    trained ``--system`` (any system of :data:`nar_slp.registry.SYSTEMS`), else —
    for a student only — the shipped bundle."""
    device = _device(args.device)
    bundle_path = Path(args.model) if args.model else None
    if bundle_path is None:
        if args.system not in SYSTEMS:
            raise UsageError(
                f"--system {args.system!r}: valid systems are {', '.join(SYSTEMS)}"
            )
        spec, run = SYSTEMS[args.system], _run(args)
        folder = spec.checkpoint(run, args.seed)
        if spec.family != STUDENT or (folder / "config.json").exists():
            try:
                loaded = load_system(spec.key, run, args.seed, device)
            except FileNotFoundError as err:
                raise UsageError(str(err)) from err
            return loaded, str(folder)
        if not (SHIPPED_BUNDLE / "manifest.json").exists():
            raise UsageError(
                f"{folder} holds no trained student and no bundle ships with this "
                f"checkout: train one (nar-slp train student --system {spec.key} "
                f"--seed {args.seed} --run-dir {run}) or pass --model"
            )
        bundle_path = SHIPPED_BUNDLE
    try:
        bundle = load_bundle(bundle_path, device)
    except BundleError as err:
        raise UsageError(str(err)) from err
    loaded = LoadedSystem(
        SYSTEMS[bundle.info.get("system", "kd")],
        bundle.model,
        bundle.vae,
        bundle.normaliser,
        bundle_path,
    )
    return loaded, f"bundle {bundle_path}"


def cmd_export(args: argparse.Namespace) -> int:
    key = _variant(args)
    run = _run(args)
    folder = student_dir(run, key, args.seed)
    _need(
        folder / "config.json",
        f"train it first: nar-slp train student "
        f"--system {key} --seed {args.seed} --run-dir {run}",
    )
    _need(run / "vae" / "config.json", "the run has no VAE (nar-slp train vae)")
    _need(run / "normaliser.json", "run `nar-slp data` first")
    out = export_bundle(run, args.out, key, args.seed)
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"bundle of {key} seed {args.seed} in {out} ({size / 1e6:.1f} MB)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    results = results_dir(args.preset, args.run_dir)
    table = _need(
        results / "table1.md",
        "no Table 1 for this run: run chapter 05 (notebooks/05_evaluation.ipynb) "
        "on it first",
    )
    print(table.read_text(encoding="utf-8"), end="")
    return 0


# -------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nar-slp", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--preset", default="default", choices=PRESETS)
        p.add_argument(
            "--run-dir", default=None, help="run folder (default runs/<preset>)"
        )

    p = sub.add_parser("data", help="generate the bundled corpus or read a PT folder")
    common(p)
    p.add_argument("--data-dir", default=None, help="a PT-format folder")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("train", help="train one component of a run")
    p.add_argument("what", choices=TRAINABLE)
    common(p)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override, e.g. student.epochs=20 (repeatable)",
    )
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--system", default="kd", help="student system (kd, no_kd, no_bert)")
    p.add_argument(
        "--recon-loss",
        default="bce",
        choices=("bce", "mse"),
        help="vae only: bce -> <run>/vae, mse -> <run>/vae_mse (NSLP-G's)",
    )
    p.add_argument("--device", default="auto")
    p.add_argument("--retrain", action="store_true", help="start over")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "generate", help="sign sentences with a trained student or baseline"
    )
    p.add_argument("texts", nargs="*", help="sentences")
    common(p)
    p.add_argument("--input", default=None, help="a file of sentences, or - (stdin)")
    p.add_argument(
        "--system", default="kd", help=f"one of {', '.join(SYSTEMS)} (default kd)"
    )
    p.add_argument("--seed", type=int, default=0, help="a student's training seed")
    p.add_argument("--out", required=True, help="x.pose | x.gif | x.mp4 | x.skels")
    p.add_argument("--model", default=None, help="an exported bundle folder")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("export", help="write a self-contained bundle of a student")
    common(p)
    p.add_argument("--out", required=True, help="the bundle folder to write")
    p.add_argument("--system", default="kd")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("evaluate", help="print a run's Table 1")
    common(p)
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as err:
        print(f"nar-slp {args.command}: {err}", file=sys.stderr)
        return 2


def _entry() -> None:  # the console script
    sys.exit(main())


if __name__ == "__main__":  # python -m nar_slp.cli (what torchrun -m runs)
    _entry()
