"""Milliseconds per training step of one student variant, and where the time goes.

    OMP_NUM_THREADS=2 python benchmarks/profile_student_step.py --run runs/default \\
        --variant kd
    OMP_NUM_THREADS=2 python benchmarks/profile_student_step.py --variant no_bert

One step = the student's forward (Eq. 3-6), ``student_losses`` (Eq. 8-11) through the
run's frozen VAE, backward and an AdamW step, on batches of the run's training split
at the variant's ``default`` batch size (frames padded to each batch's longest, as in
training). Prints the trainable parameter count, the median-free mean ms/step over
``--steps`` steps after ``--warmup``, the mean padded / real frame ratio of those
batches, and a torch.profiler table of the ``--profile`` steps after them (the
operators with the most self CPU time). The run needs chapters 01-02 (data,
normaliser, ``vae/``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch.profiler import profile

from nar_slp.data.dataset import PoseTextDataset, make_loader
from nar_slp.data.run_data import load_run_data
from nar_slp.models.pose_vae import freeze, load_vae
from nar_slp.models.student import build_student, student_losses
from nar_slp.students import STUDENT_VARIANTS, variant_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=Path, default=Path("runs/default"))
    ap.add_argument("--variant", default="kd", choices=sorted(STUDENT_VARIANTS))
    ap.add_argument("--sequences", type=int, default=320, help="training sequences")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--profile", type=int, default=5, help="profiled steps")
    ap.add_argument("--rows", type=int, default=15, help="profiler table rows")
    args = ap.parse_args()
    data = load_run_data(args.run)
    vae = freeze(load_vae(args.run / "vae"))
    cfg = variant_config("default", args.variant, seed=0)
    train = data.splits["train"][: args.sequences]
    ds = PoseTextDataset(train, data.normaliser, cfg.data.max_frames)
    model = build_student(cfg)
    if not model.encoder.trainable:
        model.encoder.precompute(ds.texts)  # as training does: features cached
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.student.train.lr)
    batches = list(make_loader(ds, cfg.student.train.batch_size, shuffle=True, seed=0))
    needed = args.warmup + args.steps + args.profile
    if len(batches) < needed:
        raise SystemExit(
            f"--sequences {args.sequences} gives {len(batches)} batches; "
            f"{needed} needed"
        )

    def step(batch) -> None:
        out = model(list(batch.texts), lengths=batch.lengths)
        losses = student_losses(out, batch, vae, cfg.data.max_frames)
        opt.zero_grad()
        losses.total.backward()
        opt.step()

    for batch in batches[: args.warmup]:
        step(batch)
    timed = batches[args.warmup : args.warmup + args.steps]
    start = time.perf_counter()
    for batch in timed:
        step(batch)
    ms = 1000 * (time.perf_counter() - start) / len(timed)
    padded = sum(len(b.lengths) * int(b.lengths.max()) for b in timed)
    real = sum(int(b.lengths.sum()) for b in timed)
    print(
        f"{args.variant}: {sum(p.numel() for p in params):,} trained parameters, "
        f"{torch.get_num_threads()} threads, {ms:.0f} ms/step (mean of "
        f"{len(timed)}), padded/real frames {padded / real:.2f}"
    )
    with profile() as prof:
        for batch in batches[args.warmup + args.steps : needed]:
            step(batch)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
