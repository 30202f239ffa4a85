"""Generation speed: the NAR student vs Progressive Transformers (AR), with and without
the key/value cache, at the same width and depth, T frames per sentence, on the CPU.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/speed_ar_vs_nar.py --run runs/default \\
        --threads 1 --frames 200

Models are UNTRAINED, of ``cfg.student``'s width/depth/heads/ff (the PT decoder and
encoder get the same sizes): speed does not depend on the weights. Lengths are forced
to ``--frames`` for every system: the student through ``n_frames`` of
:func:`nar_slp.inference.generate`; PT by ``max_frames=--frames`` and a stop counter
that cannot be reached, through :func:`nar_slp.training.baseline_trainer.generate_pt`
(the chapter's own generator; honest mode, own frames fed back). The student's
frozen text encoder caches features per text; the cache is cleared before each timed
run so every sentence counts as new; a second NAR row keeps the cache warm (the
text encoder's cost removed), to separate decoding from encoding.

Printed: (1) the test split generated in batches of ``--batch-size`` and (2) single
sentences (median of ``--single`` sentences, ``--single-uncached`` for uncached PT,
which is slow), with frames/s and the ratios to the student; (3) one training step of
each baseline trainer (``pt_train_step``, ``nslpg_train_step``) on a batch.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np
import torch

from nar_slp.config import get_config
from nar_slp.data.dataset import PoseTextDataset, collate
from nar_slp.data.run_data import load_run_data
from nar_slp.inference import generate
from nar_slp.models.nslp_g import build_nslpg
from nar_slp.models.pose_vae import PoseVAE
from nar_slp.models.progressive_transformer import ProgressiveTransformer, generate_pt
from nar_slp.models.student import build_student
from nar_slp.models.word_encoder import WordVocab
from nar_slp.training.baseline_steps import (
    ErrorStatistics,
    nslpg_train_step,
    pt_train_step,
)


def _clear(student) -> None:
    if hasattr(student.encoder, "clear_cache"):
        student.encoder.clear_cache()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", default="runs/default")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--single", type=int, default=10)
    ap.add_argument("--single-uncached", type=int, default=3)
    ap.add_argument(
        "--split-uncached",
        type=int,
        default=0,
        help="sentences of the split for uncached PT (0 = all)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = get_config(args.preset)
    s = cfg.student
    data = load_run_data(args.run)
    test = data.splits["test"]
    texts = [x.text for x in test]
    frames = args.frames

    student = build_student(cfg).eval()
    vae = PoseVAE(cfg.vae).eval()
    vocab = WordVocab.build([x.text for x in data.splits["train"]])
    pt = ProgressiveTransformer(
        vocab,
        s.d_model,
        s.n_layers,
        s.n_heads,
        s.d_ff,
        0.0,
        max_frames=frames,
        stop_counter=float("inf"),
    ).eval()
    pt.fit_statistics(torch.rand(100, 150))

    def nar(batch_texts, bs, clear=True):
        if clear:
            _clear(student)
        g = generate(
            student,
            vae,
            data.normaliser,
            batch_texts,
            batch_size=bs,
            lengths=[frames] * len(batch_texts),
        )
        assert (g.lengths == frames).all()

    def ar(batch_texts, bs, cache):
        poses, _ = generate_pt(
            pt, batch_texts, data.normaliser, batch_size=bs, use_cache=cache
        )
        assert all(len(p) == frames for p in poses)

    def timed(fn, *a) -> float:
        t = time.perf_counter()
        fn(*a)
        return time.perf_counter() - t

    def warm_single(sentences) -> list[float]:
        nar(sentences, args.batch_size)  # fills the text-feature cache
        return [timed(nar, [t], 1, False) for t in sentences]

    with torch.no_grad():
        nar(texts[:2], 2)  # warm-up
        ar(texts[:2], 2, True)
        ar(texts[:2], 2, False)
        n_unc = args.split_uncached or len(texts)
        split = {
            "NAR student": (timed(nar, texts, args.batch_size), len(texts)),
            "NAR student, text features cached": (
                timed(nar, texts, args.batch_size, False),
                len(texts),
            ),
            "PT, KV cache": (timed(ar, texts, args.batch_size, True), len(texts)),
            "PT, no cache": (timed(ar, texts[:n_unc], args.batch_size, False), n_unc),
        }
        single = {
            "NAR student": [timed(nar, [t], 1) for t in texts[: args.single]],
            "NAR student, text features cached": warm_single(texts[: args.single]),
            "PT, KV cache": [timed(ar, [t], 1, True) for t in texts[: args.single]],
            "PT, no cache": [
                timed(ar, [t], 1, False) for t in texts[: args.single_uncached]
            ],
        }

    print(
        f"\nGeneration, T = {frames} frames, d {s.d_model}, {s.n_layers} layers, "
        f"{s.n_heads} heads, ff {s.d_ff}, CPU, {args.threads} thread(s), "
        f"torch {torch.__version__}\n"
    )
    print(
        f"| system | test split: s ({len(texts)} sent., batch {args.batch_size}) "
        "| frames/s | × slower than NAR | one sentence: s (median) | frames/s "
        "| × slower than NAR |"
    )
    print("|---|---|---|---|---|---|---|")
    base_split = split["NAR student"][0] / split["NAR student"][1]
    base_single = statistics.median(single["NAR student"])
    for name in split:
        sec, n = split[name]
        per = sec / n  # seconds per sentence in the batched run
        full = per * len(texts)
        one = statistics.median(single[name])
        print(
            f"| {name} | {full:.2f}{'' if n == len(texts) else f' (from {n})'} "
            f"| {frames * n / sec:,.0f} | {per / base_split:.1f} | {one:.3f} "
            f"| {frames / one:,.0f} | {one / base_single:.1f} |"
        )

    # one training step of each baseline trainer, batch of 16 training sequences
    ds = PoseTextDataset(
        data.splits["train"][:16],
        data.normaliser,
        max_frames=cfg.data.max_frames,
        truncate=True,
    )
    batch = collate([ds[i] for i in range(len(ds))])
    b = cfg.pt
    rows = []
    for variant, fut, rate in (
        ("PT (Base)", 1, 0.0),
        ("PT (FP&GN)", b.future_frames, b.noise_rate),
    ):
        m = ProgressiveTransformer(
            vocab,
            b.d_model,
            b.n_layers,
            b.n_heads,
            b.d_ff,
            b.dropout,
            fut,
            rate,
            cfg.data.max_frames,
        )
        m.fit_statistics(torch.rand(100, 150))
        m.noise_std.fill_(0.1)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
        err = ErrorStatistics(150)
        pt_train_step(m, opt, batch, err)
        ts = [timed(pt_train_step, m, opt, batch, err) for _ in range(3)]
        rows.append((variant, statistics.median(ts)))
    for variant, gs in (("NSLP-G (Base)", False), ("NSLP-G (GS)", True)):
        vae_m = PoseVAE(replace(cfg.vae, recon_loss="mse"))
        gv = WordVocab.build([x.gloss for x in data.splits["train"]]) if gs else None
        m = build_nslpg(cfg.nslpg, vocab, vae_m, gv, max_frames=cfg.data.max_frames)
        opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-3)
        nslpg_train_step(m, opt, batch, 0.1 if gs else 0.0)
        ts = [
            timed(nslpg_train_step, m, opt, batch, 0.1 if gs else 0.0) for _ in range(3)
        ]
        rows.append((variant, statistics.median(ts)))
    mean_t = float(np.mean([len(p) for p in ds._poses]))
    print(
        f"\nOne training step (baseline preset sizes {args.preset}), batch of 16, "
        f"mean T {mean_t:.0f}\n"
    )
    print("| trainer step | s (median of 3) |")
    print("|---|---|")
    for name, sec in rows:
        print(f"| {name} | {sec:.3f} |")


if __name__ == "__main__":
    main()
