"""Time per student training step with the teacher's latents computed in every step
(``student_losses`` runs the frozen LGM) against computed once
(``student.cache_teacher``: :func:`nar_slp.training.student_data.teacher_latents`).

The two are alternated in one process over the same batches, so a loaded machine
slows both alike; prints ms/step of each and their ratio.

    OMP_NUM_THREADS=1 python benchmarks/bench_teacher_cache.py --run runs/default
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from nar_slp.data.dataset import PoseTextDataset, make_loader
from nar_slp.data.run_data import load_run_data
from nar_slp.models.pose_vae import freeze, load_vae
from nar_slp.models.student import build_student, student_losses
from nar_slp.students import variant_config
from nar_slp.training.student_data import teacher_latents


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", default="runs/default")
    ap.add_argument("--sequences", type=int, default=320)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    run = Path(args.run)
    data = load_run_data(run)
    vae = freeze(load_vae(run / "vae"))
    cfg = variant_config("default", "kd", seed=0)
    train = data.splits["train"][: args.sequences]
    ds = PoseTextDataset(train, data.normaliser, cfg.data.max_frames)
    model = build_student(cfg)
    model.encoder.precompute(ds.texts)
    cache = teacher_latents(vae, ds, torch.device("cpu"))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.student.train.lr)
    batches = list(make_loader(ds, cfg.student.train.batch_size, shuffle=True, seed=0))

    def step(batch, cached: bool) -> None:
        out = model(list(batch.texts), lengths=batch.lengths)
        z_pose = cache.batch(batch) if cached else None
        losses = student_losses(out, batch, vae, cfg.data.max_frames, z_pose=z_pose)
        opt.zero_grad()
        losses.total.backward()
        opt.step()

    for batch in batches[:3]:  # warm-up
        step(batch, False)
    seconds = {False: 0.0, True: 0.0}
    for _ in range(args.repeats):
        for cached in (False, True):
            t0 = time.perf_counter()
            for batch in batches:
                step(batch, cached)
            seconds[cached] += time.perf_counter() - t0
    n = args.repeats * len(batches)
    print("| teacher latents | ms/step |")
    print("|---|---:|")
    print(f"| every step | {1000 * seconds[False] / n:.1f} |")
    print(f"| cached once | {1000 * seconds[True] / n:.1f} |")
    print(f"ratio cached / every step: {seconds[True] / seconds[False]:.3f}")


if __name__ == "__main__":
    main()
