"""Evaluation speed: FGD features, FGD per interval, DTW-MJE and back-translation.

Usage::

    python benchmarks/bench_eval.py                     # preset default, random data
    python benchmarks/bench_eval.py --preset smoke
    python benchmarks/bench_eval.py --data-dir /path/to/PT/folder --split dev
    python benchmarks/bench_eval.py --device cuda

The evaluators are UNTRAINED (random weights) models built with the preset's
``cfg.eval`` sizes: speed does not depend on the weights, except that an untrained
back-translation model rarely emits ``<eos>`` and so decodes to the maximum output
length, the worst case. Sequences are random walks with PHOENIX-like lengths (42-198
frames) unless ``--data-dir`` names a PT folder. Prints one Markdown row per step with
the wall time and the time per 100 sequences.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from nar_slp.config import PRESETS, get_config
from nar_slp.data.normaliser import Normaliser
from nar_slp.evaluation.back_translation import Vocabulary, build_slt, translate
from nar_slp.evaluation.fgd import collect_segments, fgd
from nar_slp.evaluation.fgd_bins import fgd_by_interval, fgd_by_prefix
from nar_slp.evaluation.metrics import mean_dtw_mje
from nar_slp.evaluation.tae import build_tae, encode_segments


def _random_walks(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t = int(rng.integers(42, 199))
        base = rng.normal(0, 0.2, (1, 50, 3))
        out.append(
            (base + np.cumsum(rng.normal(0, 0.01, (t, 50, 3)), 0)).astype(np.float32)
        )
    return out


def _time(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="default", choices=PRESETS)
    parser.add_argument("--n", type=int, default=100, help="sequences per side")
    parser.add_argument("--data-dir", default=None, help="PT folder to take poses from")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--beam", type=int, default=None, help="default: cfg.eval.beam_size"
    )
    args = parser.parse_args()

    cfg = get_config(args.preset)
    ec = cfg.eval
    device = torch.device(args.device)
    torch.manual_seed(0)
    if args.data_dir:
        from nar_slp.data.pt_format import read_split

        seqs = [s.poses for s in read_split(args.data_dir, args.split)][: 2 * args.n]
        gen, ref = seqs[: args.n], seqs[args.n :] or seqs[: args.n]
        texts = ["x"]
    else:
        gen, ref = _random_walks(args.n, 0), _random_walks(args.n, 1)
        texts = ["am dienstag ist es meist freundlich im nordosten regen"]
    normaliser = Normaliser.fit(ref, margin=0.5)
    n = len(gen)
    frames = sum(len(g) for g in gen)
    tae = build_tae(cfg).to(device).eval()
    slt = (
        build_slt(
            cfg.slt,
            Vocabulary.build(texts * 10 + [f"w{i}" for i in range(1000)]),
            max_output_len=30,
        )
        .to(device)
        .eval()
    )
    beam = args.beam or ec.beam_size

    segs = collect_segments(gen, tae, normaliser).segments
    steps = [
        ("windowing + normalise", lambda: collect_segments(gen, tae, normaliser)),
        ("TAE features", lambda: encode_segments(tae, segs, ec.batch_size * 4)),
        ("FGD (both sides)", lambda: fgd(gen, ref, tae, normaliser)),
        (
            "FGD intervals+prefixes",
            lambda: (
                fgd_by_interval(gen, ref, tae, normaliser),
                fgd_by_prefix(gen, ref, tae, normaliser),
            ),
        ),
        ("DTW-MJE (pairs)", lambda: mean_dtw_mje(gen, ref)),
        ("BT greedy", lambda: translate(slt, gen, normaliser, ec.batch_size, 1)),
    ]
    if beam > 1:
        steps.append(
            (
                f"BT beam {beam}",
                lambda: translate(slt, gen, normaliser, ec.batch_size, beam),
            )
        )
    print(
        f"preset {args.preset}, device {device}, "
        f"torch threads {torch.get_num_threads()}, "
        f"{n} sequences ({frames:,} frames, {len(segs)} TAE segments), untrained "
        f"evaluators (TAE d={cfg.tae.d_model}, SLT d={cfg.slt.d_model}, max 30 tokens)"
    )
    print(f"| {'step':<24} | {'seconds':>8} | {'s / 100 seq':>11} |")
    print(f"|{'-' * 26}|{'-' * 9}:|{'-' * 12}:|")
    with torch.inference_mode():
        for name, fn in steps:
            seconds = _time(fn, device)
            print(f"| {name:<24} | {seconds:>8.3f} | {100 * seconds / n:>11.3f} |")


if __name__ == "__main__":
    main()
