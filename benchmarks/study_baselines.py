"""The baselines' recipe search: one training run per call, one table row.

The students' recipe was chosen on dev (``study_student.py``); this gives Progressive
Transformers and NSLP-G the same kind of search, so that "ours vs PT" is not decided
by which model was tuned. Trains one baseline with the package's own ``train_pt`` /
``train_nslpg`` on the run's training split, scores every epoch on dev with the
quantity the students select on (pose MSE of the normalised poses at the true
lengths: PT in oracle timing, the GT first frame and length, its own frames fed
back; NSLP-G at the GT lengths), keeps the dev-selected epoch (``select_on_dev``
of the trainers' ``BaselineRecipe``) and prints (and appends to ``--out``) one row:

    the selected epoch and its dev L_pose, the last epoch's dev L_pose; then of the
    kept model (the selected epoch's, or the last with ``--set
    recipe.select_on_dev=False``, which sets the ``BaselineRecipe``; every other
    ``--set`` is a config key, e.g. ``pt.train.epochs=24``, ``pt.dropout=0.1``,
    ``nslpg.train.schedule=warmup_cosine``, ``nslpg.train.warmup=0.1``): the
    same score on as many training sentences as dev has and the gap, and of its dev
    poses at the true lengths DTW-MJE (PT units, the paper's metric) and speed and
    spread relative to the ground truth; with a trained TAE, the dev FGD (x10, Table
    1's protocol) of its main-row outputs (PT decoding honestly, NSLP-G at the mean
    training length) and its bootstrap standard error over the dev sentences;
    seconds per epoch.

    OMP_NUM_THREADS=1 python benchmarks/study_baselines.py --run runs/default \\
        --system pt-base --label committed --out benchmarks/results/baseline_study.csv

``--system``: pt-base | pt-fpgn | nslpg-base | nslpg-gs (a "+ft" sibling is trained
with NSLP-G; its row is ``<system>-ft``), or kd-shipped: no training, the same
columns for the main student shipped in ``nar_slp/shipped/default-kd`` (the
committed run's ``kd`` seed 0, its dev-selected epoch; dev FGD at its predicted
lengths) as the students' reference. The MSE VAE (NSLP-G's pose decoder) and
the normaliser come from ``--run`` (chapters 01-02). Dev is the first ``--n-dev``
sentences of the dev split.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nar_slp.bootstrap import bootstrap_counts
from nar_slp.checkpoints import load_checkpoint
from nar_slp.commands.common import UsageError, parse_sets
from nar_slp.config import get_config
from nar_slp.data.dataset import PoseTextDataset
from nar_slp.data.run_data import load_run_data
from nar_slp.evaluation.fgd import fgd_report
from nar_slp.evaluation.metrics import mean_dtw_mje, motion_amplitude
from nar_slp.evaluation.tae import load_tae
from nar_slp.inference import generate
from nar_slp.models.nslp_g import generate_nslpg
from nar_slp.models.progressive_transformer import generate_pt
from nar_slp.registry import load_system
from nar_slp.training.baseline_recipe import (
    BaselineRecipe,
    nslpg_dev_score,
    pt_dev_score,
)
from nar_slp.training.baseline_trainer import train_nslpg, train_pt
from nar_slp.weights import SHIPPED_WEIGHTS

# the recipe keys of this script before each model had its own config section
RENAMED_RECIPE_KEYS = {
    "baseline.schedule": "pt.train.schedule / nslpg.train.schedule",
    "baseline.warmup": "pt.train.warmup / nslpg.train.warmup",
    "baseline.select_on_dev": "recipe.select_on_dev",
}
SYSTEMS = ("pt-base", "pt-fpgn", "nslpg-base", "nslpg-gs", "kd-shipped")
COLUMNS = (
    "label",
    "system",
    "epochs",
    "selected",
    "dev L_pose",
    "dev L_pose (last)",
    "kept",
    "train L_pose",
    "gap",
    "dev DTW-MJE",
    "dev speed",
    "dev spread",
    "dev FGD",
    "dev FGD se",
    "s/epoch",
    "overrides",
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", default="runs/default", help="run with chapters 01-02")
    ap.add_argument("--system", required=True, choices=SYSTEMS)
    ap.add_argument("--n-dev", type=int, default=150)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--label", default="")
    ap.add_argument("--out", default=None, help="CSV to append the rows to")
    ap.add_argument(
        "--tae",
        default=None,
        help="a trained TAE (default: <run>/evaluators/tae if chapter 05 or "
        "`nar-slp train tae` made one): adds the dev FGD of the main-row outputs",
    )
    args = ap.parse_args(argv)

    run = Path(args.run)
    data = load_run_data(run)
    tae_dir = Path(args.tae) if args.tae else run / "evaluators" / "tae"
    tae = load_tae(tae_dir) if (tae_dir / "config.json").exists() else None
    train_seqs = data.splits["train"]
    dev_seqs = data.splits["dev"][: args.n_dev]
    try:
        overrides = parse_sets(args.set)
    except UsageError as err:
        ap.error(str(err))
    for key, new in RENAMED_RECIPE_KEYS.items():
        if key in overrides:
            ap.error(f"--set {key} is now {new}")
    # the recipe key is the trainers' BaselineRecipe, not a config field
    recipe = BaselineRecipe(
        select_on_dev=overrides.pop("recipe.select_on_dev", True),
    )
    try:
        cfg = get_config("default", seed=args.seed, **overrides)
    except (KeyError, TypeError, ValueError) as err:
        ap.error(str(err).strip("'\""))
    t_max = cfg.data.max_frames
    probe_set = PoseTextDataset(
        train_seqs[: len(dev_seqs)], data.normaliser, t_max, truncate=True
    )
    refs = [s.poses for s in dev_seqs]
    true_len = [min(len(p), t_max) for p in refs]
    texts = [s.text for s in dev_seqs]

    if args.system == "kd-shipped":
        rows = [shipped_student_row(data.normaliser, dev_seqs, tae)]
        print(" | ".join(f"{k} {v}" for k, v in rows[0].items()))
        append_rows(args.out, rows)
        return 0
    family, variant = args.system.split("-")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        if family == "pt":
            results = {
                args.system: train_pt(
                    cfg,
                    variant,
                    train_seqs,
                    data.normaliser,
                    Path(tmp) / "pt",
                    dev=dev_seqs,
                    recipe=recipe,
                )
            }
            epochs = cfg.pt.train.epochs
        else:
            base, ft = train_nslpg(
                cfg,
                variant == "gs",
                train_seqs,
                data.normaliser,
                run / "vae_mse",
                Path(tmp) / "m",
                Path(tmp) / "ft",
                dev=dev_seqs,
                recipe=recipe,
            )
            results = {args.system: base, f"{args.system}-ft": ft}
            epochs = cfg.nslpg.train.epochs
        seconds = time.perf_counter() - t0
        # epochs trained: fewer than configured when train.patience stopped early
        trained = max(len(res.history) for res in results.values())

    ref_amp = motion_amplitude(refs)
    rows = []
    for system, res in results.items():
        scores = [h["dev_pose"] for h in res.history]
        selected = int(np.argmin(scores)) + 1
        kept = selected if recipe.select_on_dev else len(scores)
        if family == "pt":
            probe = pt_dev_score(res.model, probe_set)
            gen, _ = generate_pt(res.model, texts, data.normaliser, "oracle", dev_seqs)
        else:
            probe = nslpg_dev_score(res.model, probe_set)
            gen = generate_nslpg(res.model, texts, data.normaliser, lengths=true_len)
        amp = motion_amplitude(gen)
        fgd_cols = ("", "")
        if tae is not None:  # the main row's outputs, as Table 1 scores them
            main = (
                generate_pt(res.model, texts, data.normaliser)[0]
                if family == "pt"
                else generate_nslpg(res.model, texts, data.normaliser)
            )
            fgd_cols = dev_fgd(main, refs, tae, data.normaliser)
        rows.append(
            {
                "label": args.label,
                "system": system,
                "epochs": epochs,
                "selected": selected,
                "dev L_pose": f"{scores[selected - 1]:.5f}",
                "dev L_pose (last)": f"{scores[-1]:.5f}",
                "kept": kept,
                "train L_pose": f"{probe:.5f}",
                "gap": f"{scores[kept - 1] - probe:.5f}",
                "dev DTW-MJE": f"{mean_dtw_mje(gen, refs):.4f}",
                "dev speed": f"{amp[:, 0].mean() / ref_amp[:, 0].mean():.3f}",
                "dev spread": f"{amp[:, 1].mean() / ref_amp[:, 1].mean():.3f}",
                "dev FGD": fgd_cols[0],
                "dev FGD se": fgd_cols[1],
                "s/epoch": f"{seconds / trained:.1f}",
                "overrides": " ".join(args.set),
            }
        )
        print(" | ".join(f"{k} {v}" for k, v in rows[-1].items()))
        print("dev L_pose per epoch: " + " ".join(f"{s:.4f}" for s in scores))
    append_rows(args.out, rows)
    return 0


def dev_fgd(generated, refs, tae, normaliser) -> tuple[str, str]:
    """Dev FGD x10 and its bootstrap standard error (200 paired resamples of the
    dev sentences, as Table 1's intervals)."""
    counts = bootstrap_counts(len(refs), 200, 0)
    rep = fgd_report(generated, refs, tae, normaliser, 10.0, boot_counts=counts)
    return f"{rep['fgd']:.1f}", f"{rep['fgd_se']:.1f}"


def append_rows(out: str | None, rows: list[dict], columns=COLUMNS) -> None:
    """Append ``rows`` to the CSV ``out`` (with a header if it is new); None: no-op."""
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        with path.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            if new:
                writer.writeheader()
            writer.writerows(rows)


def shipped_student_row(normaliser, dev_seqs, tae) -> dict:
    """The study's columns for the shipped main student (no training)."""
    bundle = load_system("kd", SHIPPED_WEIGHTS)  # the shipped main student, seed 0
    texts = [s.text for s in dev_seqs]
    t_max = bundle.model.max_frames
    refs = [s.poses[:t_max] for s in dev_seqs]
    true = [len(p) for p in refs]
    at_true = generate(bundle.model, bundle.vae, normaliser, texts, 64, lengths=true)
    sse = n = 0.0
    for g, r in zip(at_true.poses, refs, strict=True):
        d = normaliser.transform(g, warn=False) - normaliser.transform(r, warn=False)
        sse, n = sse + float((d**2).sum()), n + d.size
    amp, ref_amp = motion_amplitude(at_true.poses), motion_amplitude(refs)
    fgd_cols = ("", "")
    if tae is not None:
        own = generate(bundle.model, bundle.vae, normaliser, texts, 64).poses
        fgd_cols = dev_fgd(own, refs, tae, normaliser)
    epoch = bundle.model.trained_epoch
    saved = load_checkpoint(bundle.source, with_optimizer=False).config
    return {
        "label": "shipped",
        "system": "kd-shipped",
        "epochs": saved["student"]["train"]["epochs"],
        "selected": epoch,
        "dev L_pose": f"{sse / n:.5f}",
        "dev L_pose (last)": "",
        "kept": epoch,
        "train L_pose": "",
        "gap": "",
        "dev DTW-MJE": f"{mean_dtw_mje(at_true.poses, refs):.4f}",
        "dev speed": f"{amp[:, 0].mean() / ref_amp[:, 0].mean():.3f}",
        "dev spread": f"{amp[:, 1].mean() / ref_amp[:, 1].mean():.3f}",
        "dev FGD": fgd_cols[0],
        "dev FGD se": fgd_cols[1],
        "s/epoch": "",
        "overrides": "",
    }


if __name__ == "__main__":
    sys.exit(main())
