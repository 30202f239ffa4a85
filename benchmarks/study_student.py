"""What makes the student generalise: one training run per call, one table row.

Trains the main student (``kd``: frozen MiniLM, Eq. 11) with the package's own
``train_student`` on the first ``--n-train`` training sentences of a PT folder, with
config overrides, and prints (and appends to ``--out``) one row:

    dev L_pose (selected epoch), train L_pose of the same model on as many training
    sentences as the dev split has, their gap, dev L_distil as a fraction of the
    teacher latent's variance (1 = a constant prediction), dev speed and spread ratio
    of the generated poses at the true lengths (1 = as much motion as the ground
    truth), the selected epoch and the seconds per epoch.

    OMP_NUM_THREADS=1 python benchmarks/study_student.py --run runs/default \\
        --data runs/study/phoenix --n-train 1200 --label base \\
        --set student.train.epochs=8 --out benchmarks/results/student_study.csv

The VAE and normaliser come from ``--run`` (chapters 01-02); ``--data`` defaults to
the run's corpus. Dev is the first ``--n-dev`` sentences of the data's dev split.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from study_baselines import append_rows, dev_fgd  # benchmarks/: one protocol

from nar_slp.commands.common import UsageError, parse_sets
from nar_slp.data.dataset import PoseTextDataset, make_loader
from nar_slp.data.pt_format import read_split
from nar_slp.data.run_data import load_run_data
from nar_slp.evaluation.back_translation import back_translation_scores, load_slt
from nar_slp.evaluation.metrics import motion_amplitude
from nar_slp.evaluation.tae import load_tae
from nar_slp.inference import generate
from nar_slp.models.pose_vae import load_vae
from nar_slp.models.student import load_student
from nar_slp.students import variant_config
from nar_slp.training.student_trainer import evaluate_student, train_student

COLUMNS = (
    "label",
    "n_train",
    "epochs",
    "steps",
    "selected",
    "dev L_pose",
    "train L_pose",
    "gap",
    "dev L_distil / var",
    "dev speed",
    "dev spread",
    "dev DurACC %",
    "dev FGD",
    "dev FGD se",
    "dev BLEU-4",
    "GT dev BLEU-4",
    "s/epoch",
    "overrides",
)


def teacher_variance(vae: torch.nn.Module, dataset: PoseTextDataset) -> float:
    """Mean over latent dimensions of the variance of LGM(y) over all frames: the
    L_distil (a mean over frames x dimensions) of the best constant prediction."""
    with torch.no_grad():
        frames = torch.cat(
            [
                dataset[i].poses.reshape(int(dataset[i].poses.shape[0]), -1)
                for i in range(len(dataset))
            ]
        )  # (sum T, F)
        z = vae.lgm(frames)  # (sum T, Z)
    return float(z.var(0, unbiased=False).mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", default="runs/default", help="run with chapters 01-02")
    ap.add_argument("--data", default=None, help="PT folder (default: the run's)")
    ap.add_argument("--n-train", type=int, default=0, help="0 = the whole split")
    ap.add_argument("--n-dev", type=int, default=150)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--label", default="")
    ap.add_argument("--out", default=None, help="CSV to append the row to")
    ap.add_argument("--keep", default=None, help="checkpoint folder to keep")
    ap.add_argument(
        "--which",
        default="best",
        choices=("best", "last"),
        help="score the dev-selected epoch (as chapter 03) or the last one",
    )
    args = ap.parse_args(argv)

    run = Path(args.run)
    data = load_run_data(run)
    vae = load_vae(run / "vae")
    splits = data.splits
    if args.data:
        splits = {s: read_split(Path(args.data), s) for s in ("train", "dev")}
    train_seqs = splits["train"][: args.n_train or None]
    dev_seqs = splits["dev"][: args.n_dev]
    try:
        overrides = parse_sets(args.set)
    except UsageError as err:
        ap.error(str(err))
    cfg = variant_config("default", "kd", seed=args.seed, **overrides)
    t_max = cfg.data.max_frames
    train_set = PoseTextDataset(train_seqs, data.normaliser, t_max)
    dev_set = PoseTextDataset(dev_seqs, data.normaliser, t_max)
    probe_set = PoseTextDataset(train_seqs[: len(dev_seqs)], data.normaliser, t_max)

    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(args.keep) if args.keep else Path(tmp) / "student"
        t0 = time.perf_counter()
        res = train_student(
            cfg, train_set, dev_set, vae, out_dir, device="cpu", resume=False, log=None
        )
        seconds = time.perf_counter() - t0
        model = (
            res.model if args.which == "best" else load_student(out_dir, which="last")
        )

    def losses(ds: PoseTextDataset) -> dict[str, float]:
        loader = make_loader(ds, batch_size=16, shuffle=False, seed=0)
        return evaluate_student(
            model, loader, vae, cfg, torch.device("cpu"), cfg.data.input_kind
        )

    dev, probe = losses(dev_set), losses(probe_set)
    var = teacher_variance(vae, dev_set)
    true_len = np.array([s.n_frames for s in dev_seqs])
    gloss = cfg.data.input_kind == "gloss"
    inputs = [s.gloss if gloss else s.text for s in dev_seqs]
    gen = generate(model, vae, data.normaliser, inputs, 64, lengths=true_len)
    amp = motion_amplitude(gen.poses)
    ref = motion_amplitude([s.poses for s in dev_seqs])
    fgd_cols, bleu = ("", ""), ("", "")
    tae_dir, slt_dir = run / "evaluators" / "tae", run / "evaluators" / "slt"
    own = generate(model, vae, data.normaliser, inputs, 64).poses  # predicted lengths
    refs = [s.poses for s in dev_seqs]
    if (tae_dir / "config.json").exists() and not args.data:
        # the run's evaluators score the committed corpus only
        fgd_cols = dev_fgd(own, refs, load_tae(tae_dir), data.normaliser)
    if (slt_dir / "config.json").exists() and not args.data:
        slt, texts = load_slt(slt_dir), [s.text for s in dev_seqs]
        scores = [
            back_translation_scores(slt, p, texts, data.normaliser)[0]
            for p in (own, refs)
        ]
        bleu = tuple(f"{float(x['BLEU-4']):.1f}" for x in scores)  # x100
    batches = -(-len(train_set) // cfg.student.train.batch_size)  # per epoch
    steps = len(res.history) * batches
    row = {
        "label": args.label,
        "n_train": len(train_set),
        "epochs": len(res.history),
        "steps": steps,
        "selected": res.best_epoch
        if args.which == "best"
        else f"last ({len(res.history)})",
        "dev L_pose": f"{dev['pose']:.5f}",
        "train L_pose": f"{probe['pose']:.5f}",
        "gap": f"{dev['pose'] - probe['pose']:.5f}",
        "dev L_distil / var": f"{dev['distil'] / var:.3f}",
        "dev speed": f"{amp[:, 0].mean() / ref[:, 0].mean():.3f}",
        "dev spread": f"{amp[:, 1].mean() / ref[:, 1].mean():.3f}",
        "dev DurACC %": f"{100 * dev['duracc']:.1f}",
        "dev FGD": fgd_cols[0],
        "dev FGD se": fgd_cols[1],
        "dev BLEU-4": bleu[0],
        "GT dev BLEU-4": bleu[1],
        "s/epoch": f"{seconds / max(len(res.history), 1):.1f}",
        "overrides": " ".join(args.set),
    }
    print(" | ".join(f"{k} {v}" for k, v in row.items()))
    curve = " ".join(
        f"{h['epoch']}:{h['dev_pose']:.4f}/{h['dev_distil'] / var:.2f}"
        for h in res.history
    )
    print(f"dev L_pose / L_distil-fraction per epoch: {curve}")
    append_rows(args.out, [row], COLUMNS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
