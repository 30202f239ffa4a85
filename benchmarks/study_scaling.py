"""The scaling study of "Students that sign": where does NAR + KD start to sign?

The main student (``kd``), its no-KD twin (``no_kd``) and PT (Base) as the reference,
across training-set sizes (the first N sentences of the PHOENIX-sized bundled corpus)
and optimizer-step budgets. Every cell is scored on one fixed dev set that shares no
sentence with any training set, with evaluators (FGD autoencoder, back-translation)
trained once on the largest training set and fixed for the whole study.

One ``cell`` call trains one system on one training-set size up to the largest step
budget, in one resumable run, and scores it at every budget on the way: the weights
at that step (``last``) and the dev-selected ones up to it (``selected``, the chapters'
rule: smallest dev L_pose + L_length for a student, the smallest dev pose MSE for PT).
Each row is appended to ``--out`` as soon as it is measured; a row already there is
not measured again, so the study resumes where it stopped and a new cell is one more
call. Columns: dev FGD (x10, with its bootstrap se), dev back-translation BLEU-4 (and
GT's), speed and spread ratio, dev L_distil as a fraction of the teacher latent's
variance, DurACC, the train-dev gap of L_pose, seconds.

    python benchmarks/study_scaling.py prepare --root runs/scaling      # ~20 min
    python benchmarks/study_scaling.py cell --root runs/scaling --system kd \\
        --n-train 1200 --steps 2500,5000,10000,20000 \\
        --out benchmarks/results/scaling.csv
    python benchmarks/study_scaling.py figure benchmarks/results/scaling.csv \\
        --png benchmarks/results/scaling.png

Each data size has its own teacher VAE (``<root>/vae-<n>``: the teacher is trained on
what the student sees). ``--preset smoke`` runs the whole protocol at toy scale.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from study_baselines import append_rows, dev_fgd  # benchmarks/: one protocol
from study_student import teacher_variance

from nar_slp.checkpoints import checkpoint_exists
from nar_slp.config import get_config
from nar_slp.data.dataset import PoseTextDataset, make_loader
from nar_slp.data.run_data import (
    fit_normaliser,
    load_run_data,
    prepare_data,
    read_run_splits,
)
from nar_slp.evaluation.back_translation import (
    back_translation_scores,
    load_slt,
    train_slt,
)
from nar_slp.evaluation.metrics import dur_acc, motion_amplitude
from nar_slp.evaluation.tae import load_tae
from nar_slp.evaluation.tae_training import train_tae
from nar_slp.inference import generate
from nar_slp.models.pose_vae import load_vae
from nar_slp.models.progressive_transformer import generate_pt
from nar_slp.models.student import load_student
from nar_slp.students import variant_config
from nar_slp.training.baseline_trainer import train_pt
from nar_slp.training.student_trainer import evaluate_student, train_student
from nar_slp.training.vae_trainer import train_vae

PHOENIX = {"corpus.n_train": 7096, "corpus.n_dev": 519, "corpus.n_test": 642}
N_DEV = 150  # the fixed dev set: the first dev sentences found in no training set
SYSTEMS = ("kd", "no_kd", "pt_base")
COLUMNS = (
    "system",
    "n_train",
    "steps",
    "which",
    "epoch",
    "dev FGD",
    "dev FGD se",
    "dev BLEU-4",
    "GT dev BLEU-4",
    "dev speed",
    "dev spread",
    "dev L_distil / var",
    "dev DurACC %",
    "train-dev gap",
    "seconds",
)


# ----------------------------------------------------------------------- setup


def prepare(root: Path, preset: str) -> None:
    """The corpus, the normaliser (fitted on the largest training set) and the fixed
    evaluators, once."""
    overrides = PHOENIX if preset == "default" else {}
    cfg = get_config(preset, **overrides)
    if not (root / "normaliser.json").exists():
        prepare_data(cfg, root)
        fit_normaliser(root, read_run_splits(root)[1])
    data = load_run_data(root)
    train, dev = data.splits["train"], fixed_dev(data)
    if not checkpoint_exists(root / "evaluators" / "tae"):
        train_tae(
            cfg,
            [s.poses for s in train],
            data.normaliser,
            root / "evaluators" / "tae",
            dev_poses=[s.poses for s in dev],
        )
    if not checkpoint_exists(root / "evaluators" / "slt"):
        train_slt(cfg, train, dev, data.normaliser, root / "evaluators" / "slt")


def fixed_dev(data) -> list:
    """The first :data:`N_DEV` dev sentences whose text no training sentence has."""
    seen = {s.text for s in data.splits["train"]}
    return [s for s in data.splits["dev"] if s.text not in seen][:N_DEV]


def teacher(root: Path, preset: str, n_train: int, train_seqs, normaliser):
    """The VAE trained on the first ``n_train`` sentences (trained once, then read)."""
    folder = root / f"vae-{n_train}"
    if not checkpoint_exists(folder) or "history" not in _extra(folder):
        cfg = get_config(preset)
        poses = [normaliser.transform(s.poses) for s in train_seqs]
        train_vae(cfg, poses, None, folder, device="cpu", log=None)
    return load_vae(folder)


def _extra(folder: Path) -> dict:
    from nar_slp.checkpoints import load_checkpoint

    return load_checkpoint(folder, with_optimizer=False).extra


# ----------------------------------------------------------------------- scoring


class Scorer:
    """Everything a row needs that does not depend on the model: the fixed dev set,
    the fixed evaluators, the ground truth's own scores."""

    def __init__(self, root: Path, data) -> None:
        self.normaliser = data.normaliser
        self.dev = fixed_dev(data)
        self.refs = [s.poses for s in self.dev]
        self.texts = [s.text for s in self.dev]
        self.true_len = np.array([s.n_frames for s in self.dev])
        self.tae = load_tae(root / "evaluators" / "tae")
        self.slt = load_slt(root / "evaluators" / "slt")
        self.ref_amp = motion_amplitude(self.refs)
        self.gt_bleu = self._bleu(self.refs)

    def _bleu(self, poses) -> float:
        scores = back_translation_scores(self.slt, poses, self.texts, self.normaliser)
        return float(scores[0]["BLEU-4"])

    def row(self, poses, lengths) -> dict:
        """FGD, BLEU-4, motion and DurACC of generated dev poses."""
        fgd, fgd_se = dev_fgd(poses, self.refs, self.tae, self.normaliser)
        amp = motion_amplitude(poses)
        return {
            "dev FGD": fgd,
            "dev FGD se": fgd_se,
            "dev BLEU-4": f"{self._bleu(poses):.1f}",
            "GT dev BLEU-4": f"{self.gt_bleu:.1f}",
            "dev speed": f"{amp[:, 0].mean() / self.ref_amp[:, 0].mean():.3f}",
            "dev spread": f"{amp[:, 1].mean() / self.ref_amp[:, 1].mean():.3f}",
            "dev DurACC %": f"{100 * dur_acc(np.asarray(lengths), self.true_len):.1f}",
        }


def done_rows(out: Path) -> set[tuple[str, str, str, str]]:
    """(system, n_train, steps, which) of the rows already measured."""
    if not out.exists():
        return set()
    with out.open(newline="") as fh:
        return {
            (r["system"], r["n_train"], r["steps"], r["which"])
            for r in csv.DictReader(fh)
        }


# ----------------------------------------------------------------------- cells


def student_cell(args, root: Path, data, scorer: Scorer, done: set) -> None:
    """Train ``args.system`` on the first ``n_train`` sentences, one resumable run,
    scoring it at each step budget (its last and its dev-selected weights)."""
    n, preset = args.n_train, args.preset
    train_seqs = data.splits["train"][:n]
    vae = teacher(root, preset, n, train_seqs, data.normaliser)
    base = variant_config(preset, args.system, seed=args.seed)
    t_max = base.data.max_frames
    train_set = PoseTextDataset(train_seqs, data.normaliser, t_max)
    dev_set = PoseTextDataset(scorer.dev, data.normaliser, t_max)
    probe_set = PoseTextDataset(train_seqs[: len(scorer.dev)], data.normaliser, t_max)
    per_epoch = math.ceil(len(train_set) / base.student.train.batch_size)
    folder = root / "students" / f"{args.system}-{n}-seed{args.seed}"
    var = teacher_variance(vae, dev_set)
    seconds = 0.0
    for steps in args.steps:
        epochs = max(1, round(steps / per_epoch))
        cfg = variant_config(
            preset, args.system, seed=args.seed, **{"student.train.epochs": epochs}
        )
        start = time.perf_counter()
        res = train_student(
            cfg, train_set, dev_set, vae, folder, device="cpu", log=None
        )
        seconds += time.perf_counter() - start
        for which in ("last", "selected"):
            key = (args.system, str(n), str(steps), which)
            if key in done:
                continue
            model = (
                res.model if which == "selected" else load_student(folder, which="last")
            )
            epoch = res.best_epoch if which == "selected" else len(res.history)
            loader = make_loader(dev_set, 16, shuffle=False, seed=0)
            probe = make_loader(probe_set, 16, shuffle=False, seed=0)
            dev = evaluate_student(model, loader, vae, cfg, torch.device("cpu"), "text")
            train = evaluate_student(
                model, probe, vae, cfg, torch.device("cpu"), "text"
            )
            gen = generate(model, vae, data.normaliser, scorer.texts, 64)
            row = {
                "system": args.system,
                "n_train": n,
                "steps": steps,
                "which": which,
                "epoch": epoch,
                **scorer.row(gen.poses, gen.lengths),
                "dev L_distil / var": f"{dev['distil'] / var:.3f}",
                "train-dev gap": f"{dev['pose'] - train['pose']:.5f}",
                "seconds": f"{sum(h['seconds'] for h in res.history):.0f}",
            }
            append_rows(str(args.out), [row], COLUMNS)
            print(" | ".join(f"{k} {v}" for k, v in row.items()), flush=True)


def pt_cell(args, root: Path, data, scorer: Scorer, done: set) -> None:
    """PT (Base) at each step budget: one run per budget (PT does not resume), with
    dev selection on its pose MSE, the chapters' rule."""
    from nar_slp.training.baseline_recipe import BaselineRecipe

    n, preset = args.n_train, args.preset
    train_seqs = data.splits["train"][:n]
    base = get_config(preset, seed=args.seed)
    per_epoch = math.ceil(len(train_seqs) / base.pt.train.batch_size)
    for steps in args.steps:
        keys = [("pt_base", str(n), str(steps), w) for w in ("last", "selected")]
        if all(k in done for k in keys):
            continue
        epochs = max(1, round(steps / per_epoch))
        rows = {}
        for which in ("last", "selected"):
            cfg = get_config(preset, seed=args.seed, **{"pt.train.epochs": epochs})
            recipe = BaselineRecipe(select_on_dev=which == "selected")
            folder = root / "baselines" / f"pt_base-{n}-{steps}-{which}"
            start = time.perf_counter()
            res = train_pt(
                cfg,
                "base",
                train_seqs,
                data.normaliser,
                folder,
                retrain=False,
                dev=scorer.dev,
                recipe=recipe,
            )
            seconds = time.perf_counter() - start
            poses, _ = generate_pt(res.model, scorer.texts, data.normaliser)
            rows[which] = {
                "system": "pt_base",
                "n_train": n,
                "steps": steps,
                "which": which,
                "epoch": _extra(folder).get("selected_epoch"),
                **scorer.row(poses, [len(p) for p in poses]),
                "dev L_distil / var": "",
                "train-dev gap": "",
                "seconds": f"{seconds:.0f}",
            }
        append_rows(str(args.out), list(rows.values()), COLUMNS)
        for row in rows.values():
            print(" | ".join(f"{k} {v}" for k, v in row.items()), flush=True)


# ----------------------------------------------------------------------- figure


def figure(csv_path: Path, png: Path, which: str = "last") -> None:
    """Dev FGD and back-translation BLEU-4 against steps, one line per data size and
    system (PT dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with csv_path.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["which"] == which]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for system in SYSTEMS:
        for n in sorted({int(r["n_train"]) for r in rows}):
            pts = sorted(
                (int(r["steps"]), float(r["dev FGD"]), float(r["dev BLEU-4"]))
                for r in rows
                if r["system"] == system and int(r["n_train"]) == n
            )
            if not pts:
                continue
            steps, fgd, bleu = zip(*pts, strict=True)
            style = "--" if system == "pt_base" else "-"
            for ax, ys in zip(axes, (fgd, bleu), strict=True):
                ax.plot(steps, ys, style, marker="o", label=f"{system} {n}")
    gt = [float(r["GT dev BLEU-4"]) for r in rows if r["GT dev BLEU-4"]]
    if gt:
        axes[1].axhline(gt[0], color="k", lw=0.8, label="GT")
    for ax, title in zip(
        axes, ("dev FGD (x10)", "dev back-translation BLEU-4"), strict=True
    ):
        ax.set_xscale("log")
        ax.set_xlabel("optimizer steps")
        ax.set_title(f"{title}, {which} weights")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)


# ----------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--root", type=Path, default=Path("runs/scaling"))
    p.add_argument("--preset", default="default", choices=("default", "smoke"))
    p = sub.add_parser("cell")
    p.add_argument("--root", type=Path, default=Path("runs/scaling"))
    p.add_argument("--preset", default="default", choices=("default", "smoke"))
    p.add_argument("--system", required=True, choices=SYSTEMS)
    p.add_argument("--n-train", type=int, required=True)
    p.add_argument(
        "--steps",
        type=lambda s: sorted(int(x) for x in s.split(",")),
        default=[2500, 5000, 10000, 20000],
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/scaling.csv"))
    p = sub.add_parser("figure")
    p.add_argument("csv", type=Path)
    p.add_argument("--png", type=Path, default=Path("benchmarks/results/scaling.png"))
    p.add_argument("--which", default="last", choices=("last", "selected"))
    args = ap.parse_args(argv)
    if args.command == "figure":
        figure(args.csv, args.png, args.which)
        return 0
    args.root.mkdir(parents=True, exist_ok=True)
    if args.command == "prepare":
        prepare(args.root, args.preset)
        return 0
    if not (args.root / "evaluators" / "slt" / "config.json").exists():
        ap.error(f"{args.root} is not prepared: run `prepare --root {args.root}` first")
    data = load_run_data(args.root)
    if args.n_train > len(data.splits["train"]):
        ap.error(
            f"--n-train {args.n_train}: the corpus has {len(data.splits['train'])}"
        )
    scorer = Scorer(args.root, data)
    done = done_rows(args.out)
    cell = pt_cell if args.system == "pt_base" else student_cell
    cell(args, args.root, data, scorer, done)
    return 0


if __name__ == "__main__":
    sys.exit(main())
