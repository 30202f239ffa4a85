"""``nar-slp export`` and ``nar-slp evaluate``: what a trained run hands on, a
student's self-contained bundle and the run's Table 1."""

from __future__ import annotations

import argparse

from nar_slp.bundle import export_bundle
from nar_slp.commands.common import need, run_folder, student_variant
from nar_slp.paths import results_dir
from nar_slp.students import student_dir


def cmd_export(args: argparse.Namespace) -> int:
    key = student_variant(args)
    run = run_folder(args)
    folder = student_dir(run, key, args.seed)
    need(
        folder / "config.json",
        f"train it first: nar-slp train student "
        f"--system {key} --seed {args.seed} --run-dir {run}",
    )
    need(run / "vae" / "config.json", "the run has no VAE (nar-slp train vae)")
    need(run / "normaliser.json", "run `nar-slp data` first")
    out = export_bundle(run, args.out, key, args.seed)
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"bundle of {key} seed {args.seed} in {out} ({size / 1e6:.1f} MB)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    results = results_dir(args.preset, args.run_dir)
    table = need(
        results / "table1.md",
        "no Table 1 for this run: run chapter 05 (notebooks/05_evaluation.ipynb) "
        "on it first",
    )
    print(table.read_text(encoding="utf-8"), end="")
    return 0
