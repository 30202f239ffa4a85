"""Cheaper steps before more steps: training throughput of the main student and of
PT (Base) under the settings "Students that sign" asks about, alternated in one
process so that every ratio compares settings timed side by side.

    OMP_NUM_THREADS=2 python benchmarks/bench_train_step.py \\
        --json benchmarks/results/train_step.json

Each setting is one optimisation step of the chapters' trainers, on batches of the
``default`` run's training split (the bundled corpus, regenerated), with the shipped
VAE as the frozen PGM and teacher (speed does not depend on the weights):

- the student (``kd``, Eq. 8-11: ``student_losses``, AdamW on the trained
  parameters, frozen MiniLM with its features cached, as training does);
- PT Base (``pt_batch_loss``, teacher forcing, AdamW).

Settings (``--settings``): ``fp32`` (the committed recipe's batch size), ``bf16``
(``torch.autocast("cpu", torch.bfloat16)``; native only on CPUs whose ``lscpu``
lists ``avx512_bf16``), ``compile`` (``torch.compile`` of the student's NAR decoder /
PT's whole model, inductor, ``dynamic=True`` so that batches of other lengths reuse
the graph, timed after its compilation steps), ``batch2x`` / ``batch4x``
(larger batches: the ratio is in sequences per second), ``threads1`` (one intra-op
thread instead of ``OMP_NUM_THREADS``). Rounds: every setting runs ``--steps``
timed steps per round, settings in turn, ``--rounds`` rounds; the ratio is the
median over rounds of (setting's sequences/s) / (fp32's sequences/s in the same
round). bf16's loss on one fixed batch is compared with fp32's on the same weights.
Results and ratios: ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from nar_slp.config import get_config
from nar_slp.data.corpus import generate_splits
from nar_slp.data.dataset import PoseTextDataset, make_loader
from nar_slp.models.pose_vae import freeze
from nar_slp.models.progressive_transformer import build_pt
from nar_slp.models.student import build_student, student_losses
from nar_slp.models.word_encoder import WordVocab
from nar_slp.recipe import adamw
from nar_slp.registry import load_system
from nar_slp.training.baseline_steps import pt_batch_loss
from nar_slp.weights import SHIPPED_WEIGHTS

SETTINGS = ("fp32", "bf16", "compile", "batch2x", "batch4x", "threads1")


def _cpu_flags() -> dict[str, bool]:
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        flags = []
    return {f: f in flags for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16")}


class Trainer:
    """One system's step under one setting: its own model copy, optimiser and
    endless batches (so every setting trains the same way, from the same weights)."""

    def __init__(self, system: str, setting: str, train, normaliser, vae) -> None:
        cfg = get_config("default", seed=0)
        self.system, self.setting = system, setting
        scale = {"batch2x": 2, "batch4x": 4}.get(setting, 1)
        torch.manual_seed(0)
        if system == "student":
            batch = cfg.student.train.batch_size * scale
            ds = PoseTextDataset(train, normaliser, cfg.data.max_frames)
            self.model = build_student(cfg)
            if not self.model.encoder.trainable:
                self.model.encoder.precompute(ds.texts)  # as training does
            if setting == "compile":  # dynamic: one graph for every frame count
                self.model.decoder.compile(backend="inductor", dynamic=True)
            lr, t_max = cfg.student.train.lr, cfg.data.max_frames

            def loss(b):
                out = self.model(list(b.texts), lengths=b.lengths)
                return student_losses(out, b, vae, t_max).total

        else:
            batch = cfg.pt.train.batch_size * scale
            ds = PoseTextDataset(train, normaliser, cfg.data.max_frames, truncate=True)
            vocab = WordVocab.build(ds.texts)
            self.model = build_pt(cfg.pt, "base", vocab, max_frames=cfg.data.max_frames)
            frames = torch.cat([p.flatten(1) for p in ds._poses])
            self.model.fit_statistics(frames)
            lr = cfg.pt.train.lr
            forward = (
                torch.compile(self.model, dynamic=True)
                if setting == "compile"
                else self.model
            )

            def loss(b):
                return pt_batch_loss(forward, b)

        self.loss: Callable = loss
        self.batch = batch
        self.opt = adamw(
            [p for p in self.model.parameters() if p.requires_grad],
            type(cfg.student.train)(lr=lr),
        )
        self.loader = make_loader(ds, batch, shuffle=True, seed=0)
        self._it = iter(self.loader)

    def _next(self):
        try:
            return next(self._it)
        except StopIteration:
            self._it = iter(self.loader)
            return next(self._it)

    def step(self) -> int:
        """One optimisation step; returns the sequences in it."""
        b = self._next()
        ctx = (
            torch.autocast("cpu", dtype=torch.bfloat16)
            if self.setting == "bf16"
            else torch.autocast("cpu", enabled=False)
        )
        with ctx:
            loss = self.loss(b)
        self.opt.zero_grad(set_to_none=True)
        loss.float().backward()
        self.opt.step()
        return len(b.lengths)

    def run(self, steps: int, threads: int) -> float:
        """Sequences per second over ``steps`` steps."""
        previous = torch.get_num_threads()
        torch.set_num_threads(1 if self.setting == "threads1" else threads)
        try:
            start, seqs = time.perf_counter(), 0
            for _ in range(steps):
                seqs += self.step()
            return seqs / (time.perf_counter() - start)
        finally:
            torch.set_num_threads(previous)


def bf16_loss_gap(trainer: Trainer) -> float:
    """|bf16 loss - fp32 loss| / fp32 loss on one fixed batch, the same weights."""
    b = next(iter(trainer.loader))
    with torch.no_grad():
        full = float(trainer.loss(b))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            half = float(trainer.loss(b))
    return abs(half - full) / abs(full)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--systems", default="student,pt")
    ap.add_argument("--settings", default=",".join(SETTINGS))
    ap.add_argument("--sequences", type=int, default=1200, help="training sequences")
    ap.add_argument("--warmup", type=int, default=4, help="untimed steps per setting")
    ap.add_argument("--steps", type=int, default=8, help="timed steps per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    settings = args.settings.split(",")
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown or "fp32" not in settings:
        ap.error(f"--settings: {unknown or 'fp32 is needed'}; choose from {SETTINGS}")
    threads = torch.get_num_threads()
    shipped = load_system("kd", SHIPPED_WEIGHTS)
    vae, normaliser = freeze(shipped.vae), shipped.normaliser
    cfg = get_config("default")
    train = generate_splits(cfg.corpus, only=("train",))["train"][: args.sequences]
    report: dict = {
        "cpu": platform.processor() or platform.machine(),
        "flags": _cpu_flags(),
        "threads": threads,
        "torch": torch.__version__,
        "systems": {},
    }
    for system in args.systems.split(","):
        print(f"{system}: building {len(settings)} trainers", flush=True)
        trainers = {s: Trainer(system, s, train, normaliser, vae) for s in settings}
        gap = bf16_loss_gap(trainers["fp32"])
        for name, t in trainers.items():  # compilation and caches outside the timing
            start = time.perf_counter()
            t.run(args.warmup, threads)
            print(
                f"{system}: {name} warm-up {time.perf_counter() - start:.0f} s",
                flush=True,
            )
        rates: dict[str, list[float]] = {s: [] for s in settings}
        for _ in range(args.rounds):
            for s, t in trainers.items():
                rates[s].append(t.run(args.steps, threads))
        rows = {}
        for s in settings:
            ratios = [r / f for r, f in zip(rates[s], rates["fp32"], strict=True)]
            rows[s] = {
                "batch": trainers[s].batch,
                "sequences_per_s": statistics.median(rates[s]),
                "ratio_vs_fp32": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
            }
            row = rows[s]
            print(
                f"{system:8s} {s:9s} batch {row['batch']:3d}  "
                f"{row['sequences_per_s']:7.1f} seq/s  x{row['ratio_vs_fp32']:.2f}"
                f" ({min(ratios):.2f}-{max(ratios):.2f})",
                flush=True,
            )
        print(f"{system:8s} bf16 loss vs fp32 on one batch: {100 * gap:.2f} %")
        report["systems"][system] = {"settings": rows, "bf16_loss_rel_gap": gap}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
