"""``nar-slp export`` and ``nar-slp evaluate``: what a trained run hands on, a
student's self-contained bundle and the run's Table 1."""

from __future__ import annotations

import argparse
from pathlib import Path

from nar_slp.commands.common import (
    UsageError,
    need,
    run_folder,
    student_variant,
    writable_folder,
)
from nar_slp.paths import results_dir


def cmd_export(args: argparse.Namespace) -> int:
    from nar_slp.bundle import BundleError, export_bundle
    from nar_slp.students import student_dir

    key = student_variant(args)
    seed = 0 if args.seed is None else args.seed
    out = Path(args.out)
    # the bundle's folder is created; the folder it goes in must be there already
    writable_folder(out.parent, "--out", what=f"--out {out}: its folder")
    run = run_folder(args)
    need(run, "give the folder of a trained run (--run-dir)")
    folder = student_dir(run, key, seed)
    need(
        folder / "config.json",
        f"train it first: nar-slp train student "
        f"--system {key} --seed {seed} --run-dir {run}",
    )
    need(run / "vae" / "config.json", "the run has no VAE (nar-slp train vae)")
    need(run / "normaliser.json", "run `nar-slp data` first")
    try:
        out = export_bundle(run, out, key, seed)
    except BundleError as err:
        raise UsageError(str(err)) from err
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"bundle of {key} seed {seed} in {out} ({size / 1e6:.1f} MB)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    run = run_folder(args)
    if args.run_dir is not None:  # a run of its own: its tables are inside it
        need(run, "give the folder of a trained run (--run-dir)")
    results = results_dir(args.preset, args.run_dir, create=False)
    table = need(
        results / "table1.md",
        "no Table 1 for this run: run chapter 05 (notebooks/05_evaluation.ipynb) "
        "on it first",
    )
    print(table.read_text(encoding="utf-8"), end="")
    return 0
