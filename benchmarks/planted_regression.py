"""Does the results check have teeth? Two planted regressions must fail it
(``make planted-regression``, about 35 min on 2 cores).

``perturbed``
    the chapters over the shipped weights, but one student seed (kd, seed 0) with
    every weight of its decoder multiplied by (1 + 1e-3 · N(0, 1)): a change far
    below anything a reader would call retraining;
``no-distil``
    the main student (kd, every seed) re-trained with L_distil off (``KD_WEIGHT=0``),
    everything else shipped.

Each run's tables are compared with the committed ones
(``python -m nar_slp.results_check check``); the script fails unless both runs
fail the check, and prints what the check found.

    python benchmarks/planted_regression.py [--scale 1e-3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch

from nar_slp.checkpoints import load_checkpoint, save_checkpoint
from nar_slp.paths import repo_root
from nar_slp.results_compare import compare_results

ROOT = repo_root()


def chapters(run: Path, *names: str, weights: bool = True, **params: object) -> int:
    """Run chapters into ``run`` (over the shipped weights unless ``weights`` is
    False); the exit status. Chapter 05 of a planted run fails at its last cell, the
    results check itself, after writing every table."""
    env = {**os.environ, "NAR_SLP_PROGRESS": "0"}
    env.pop("NAR_SLP_RUN_DIR", None)
    env.pop("NAR_SLP_WEIGHTS", None)
    if weights:
        env["NAR_SLP_WEIGHTS"] = "shipped"
    cmd = [sys.executable, "-m", "nar_slp.reproduce", "--run-dir", str(run)]
    cmd += [arg for k, v in params.items() for arg in ("--param", f"{k}={v}")]
    cmd += [f"notebooks/{n}.ipynb" for n in names]
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def evaluated(run: Path) -> bool:
    """Chapter 05 wrote its tables (the last of them, the claims)."""
    return (run / "results" / "claims.csv").exists()


def perturb(folder: Path, scale: float, seed: int = 0) -> int:
    """Multiply every decoder weight of the student in ``folder`` by
    (1 + scale · N(0, 1)); returns how many values changed."""
    ckpt = load_checkpoint(folder, with_optimizer=False)
    gen = torch.Generator().manual_seed(seed)
    state, n = dict(ckpt.state_dict), 0
    for name, value in state.items():
        if name.startswith("decoder.") and value.is_floating_point():
            noise = torch.randn(value.shape, generator=gen, dtype=value.dtype)
            state[name] = value * (1 + scale * noise)
            n += value.numel()
    save_checkpoint(folder, state, ckpt.config, ckpt.extra)
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs")
    parser.add_argument("--scale", type=float, default=1e-3)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the runs already evaluated"
    )
    args = parser.parse_args(argv)
    base = args.runs / "planted"
    if not (args.reuse and (base / "outputs").is_dir()):
        shutil.rmtree(base, ignore_errors=True)
        ran = chapters(
            base, "01_data", "02_vae_pretraining", "03_distill", "04_baselines"
        )
        if ran:
            raise SystemExit(f"chapters 01-04 over the shipped weights failed ({ran})")

    perturbed = args.runs / "planted-perturbed"
    if not (args.reuse and evaluated(perturbed)):
        shutil.rmtree(perturbed, ignore_errors=True)
        shutil.copytree(base, perturbed)
        n = perturb(perturbed / "students" / "kd" / "seed0", args.scale)
        print(
            f"perturbed: {n} decoder weights of kd seed 0 x (1 + {args.scale:g} N(0,1))"
        )
        chapters(perturbed, "05_evaluation")

    no_distil = args.runs / "planted-no-distil"
    if not (args.reuse and evaluated(no_distil)):
        shutil.rmtree(no_distil, ignore_errors=True)
        shutil.copytree(base, no_distil)
        shutil.rmtree(no_distil / "students" / "kd")
        chapters(no_distil, "03_distill", weights=False, SYSTEMS="kd", KD_WEIGHT=0.0)
        chapters(no_distil, "05_evaluation")

    failed_both = True
    for run in (perturbed, no_distil):
        if not evaluated(run):
            raise SystemExit(f"{run}: chapter 05 wrote no tables; see its notebook")
        report = compare_results(run / "results", ROOT / "results" / "default")
        print(f"== {run.name}: {'FAILS' if not report.ok else 'PASSES'} the check")
        print("\n".join(report.summary().splitlines()[:12]))
        failed_both &= not report.ok
    print("both planted regressions fail the check" if failed_both else "NO TEETH")
    return 0 if failed_both else 1


if __name__ == "__main__":
    sys.exit(main())
