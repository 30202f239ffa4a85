"""fp32 vs bf16 (vs bf16 + bounded shapes, vs + torch.compile) for the student's
training, timed with the package's own ``train_student``: one prepared run for a GPU.

Each setting trains the student of ``--preset`` for ``--epochs`` epochs on the first
``--sequences`` training sequences of ``--data`` (a PT folder) or ``--run`` (a run
folder), without a dev set; the last epoch's wall time (the first pays for
compilation, autotuning and caches) gives ms/step, sequences/s and the projection
to ``--project-epochs`` epochs of ``--project-sequences`` sequences; peak GPU memory
is the maximum over the whole setting. The VAE is untrained and the normaliser is
fitted here: speed does not depend on the weights. Before timing, the losses of one
fixed batch are computed with the same weights in fp32 and under bf16 autocast
(relative differences printed), and each setting reports how many distinct padded
frame lengths one epoch's batches have.

    python benchmarks/bench_precision.py --preset paper --device cuda \\
        --data runs/study/phoenix --text-encoder /tmp/bb --sequences 1200 \\
        --epochs 2 --json results/gpu/precision.json

Settings (``--settings``, comma-separated): ``fp32``, ``bf16`` (autocast),
``bf16-pad16`` (``student.pad_to_multiple=16``), ``bf16-pad16-compile`` (and
``student.compile=inductor``); ``--set KEY=VALUE`` adds overrides to every setting.
On a CPU only fp32 settings mean anything (autocast is CUDA-only here): ``--preset
smoke --device cpu --settings fp32,fp32-pad16`` checks the wiring.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch

from nar_slp.commands.common import UsageError, parse_sets
from nar_slp.config import get_config
from nar_slp.data.dataset import PoseTextDataset, collate, make_loader
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import read_split
from nar_slp.data.run_data import load_run_data
from nar_slp.models.pose_vae import PoseVAE, freeze
from nar_slp.models.student import build_student, student_losses
from nar_slp.training.student_trainer import train_student
from nar_slp.utils import autocast_context, pick_device, seed_everything

SETTINGS = {
    "fp32": {"student.mixed_precision": "no"},
    "fp32-pad16": {"student.mixed_precision": "no", "student.pad_to_multiple": 16},
    "bf16": {"student.mixed_precision": "bf16"},
    "bf16-pad16": {"student.mixed_precision": "bf16", "student.pad_to_multiple": 16},
    "bf16-pad16-compile": {
        "student.mixed_precision": "bf16",
        "student.pad_to_multiple": 16,
        "student.compile": "inductor",
    },
}


def fixed_batch_check(cfg, dataset, vae, device) -> dict[str, float]:
    """Relative difference of each loss term, bf16 autocast vs fp32, same weights."""
    seed_everything(cfg.seed)
    model = build_student(cfg).to(device).eval()
    batch = collate([dataset[i] for i in range(min(len(dataset), 16))]).to(device)
    out = {}
    with torch.no_grad():
        for name, amp in (("fp32", "no"), ("bf16", "bf16")):
            with autocast_context(device, amp):
                res = model(batch.texts, lengths=batch.lengths)
                losses = student_losses(res, batch, vae, cfg.data.max_frames)
            out[name] = {k: float(getattr(losses, k)) for k in ("pose", "distil")}
    return {
        k: abs(out["bf16"][k] - out["fp32"][k]) / max(abs(out["fp32"][k]), 1e-12)
        for k in out["fp32"]
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="paper")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--data", default=None, help="PT folder (else --run's corpus)")
    ap.add_argument("--run", default="runs/default")
    ap.add_argument("--text-encoder", default=None)
    ap.add_argument("--sequences", type=int, default=1200)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--settings", default=",".join(SETTINGS))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--project-epochs", type=int, default=500)
    ap.add_argument("--project-sequences", type=int, default=7096)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    names = [s.strip() for s in args.settings.split(",") if s.strip()]
    unknown = [s for s in names if s not in SETTINGS]
    if unknown:
        ap.error(f"--settings: unknown {unknown}; valid: {', '.join(SETTINGS)}")
    if args.epochs < 1 or args.sequences < 1:
        ap.error("--epochs and --sequences must be >= 1")
    try:
        extra = parse_sets(args.set)
    except UsageError as err:
        ap.error(str(err))
    if args.text_encoder:
        extra["student.text_encoder"] = args.text_encoder
    device = pick_device(args.device)

    if args.data:
        seqs = read_split(Path(args.data), "train")
    else:
        seqs = load_run_data(Path(args.run)).splits["train"]
    seqs = seqs[: args.sequences]
    base = get_config(args.preset, **extra)
    normaliser = Normaliser.fit(seqs)
    dataset = PoseTextDataset(seqs, normaliser, base.data.max_frames, truncate=True)
    vae = freeze(PoseVAE(base.vae).to(device))

    report: dict = {
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else "cpu",
        "torch": torch.__version__,
        "preset": args.preset,
        "sequences": len(dataset),
        "epochs": args.epochs,
        "settings": {},
    }
    if device.type == "cuda":
        report["bf16_vs_fp32_fixed_batch"] = fixed_batch_check(
            base, dataset, vae, device
        )
        print(
            "bf16 vs fp32 on one batch, relative loss difference:",
            report["bf16_vs_fp32_fixed_batch"],
        )
    batch = base.student.train.batch_size
    steps = math.ceil(len(dataset) / batch)
    print(
        f"\n{args.preset} student, {len(dataset)} sequences, batch {batch}, "
        f"{steps} steps/epoch, {report['device']}, torch {torch.__version__}\n"
    )
    print(
        "| setting | ms/step | sequences/s | distinct T per epoch | peak GiB "
        f"| projected {args.project_epochs} epochs x {args.project_sequences} |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        cfg = get_config(
            args.preset,
            **extra,
            **SETTINGS[name],
            **{"student.train.epochs": args.epochs},
        )
        pad = cfg.student.pad_to_multiple
        loader = make_loader(dataset, batch, shuffle=True, seed=0, pad_to_multiple=pad)
        shapes = len({b.poses.shape[1] for b in loader})
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            res = train_student(
                cfg,
                dataset,
                None,
                vae,
                Path(tmp),
                device=device,
                resume=False,
                log=None,
            )
        wall = time.perf_counter() - t0
        last = res.history[-1]["seconds"]
        ms = 1000 * last / steps
        seq_s = len(dataset) / last
        hours = args.project_epochs * args.project_sequences / seq_s / 3600
        peak = (
            torch.cuda.max_memory_allocated(device) / 2**30
            if device.type == "cuda"
            else float("nan")
        )
        report["settings"][name] = {
            "ms_per_step": ms,
            "sequences_per_s": seq_s,
            "distinct_lengths": shapes,
            "peak_gib": peak,
            "projected_hours": hours,
            "wall_s": wall,
            "overrides": SETTINGS[name],
        }
        print(
            f"| {name} | {ms:.1f} | {seq_s:.0f} | {shapes} | {peak:.2f} "
            f"| {hours:.2f} h |"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
