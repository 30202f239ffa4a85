"""Single-sentence latency of the explorer (chapter 06): one sentence -> poses.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_latency.py            # the shipped model
    OMP_NUM_THREADS=2 python benchmarks/bench_latency.py --run runs/default

Loads the model shipped in the repository (``nar_slp/shipped/default-kd``, the committed
default run's main student) or, with ``--run``, the main student of a trained run
(``students/kd/seed0``, the dev-selected epoch) with its VAE and normaliser, and
times :func:`nar_slp.visualisation.explorer.
explore` — the function behind the explorer's Generate button — on ``--n`` test
sentences, one call each, after ``--warmup`` untimed calls. Every sentence is new to
the text encoder's cache (the cache is cleared before each call), so the time includes
encoding the text, the length regulator, the NAR decoder and the PGM. Prints the
median, 10th and 90th percentile and the maximum in milliseconds; the goal of issue
#11 is a median of at most 50 ms for the ``default`` student on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from nar_slp.data.run_data import load_run_data
from nar_slp.models.pose_vae import load_vae
from nar_slp.models.student import load_student
from nar_slp.registry import load_system
from nar_slp.students import student_dirs
from nar_slp.visualisation.explorer import explore
from nar_slp.weights import SHIPPED_WEIGHTS


def _clear_cache(model) -> None:
    cache = getattr(model.encoder, "_cache", None)
    if isinstance(cache, dict):
        cache.clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--run", default=None, help="a trained run folder (default: the shipped model)"
    )
    ap.add_argument(
        "--sentences",
        default="runs/default",
        help="a run folder whose test sentences are timed",
    )
    ap.add_argument("--system", default="kd", help="student system key (--run)")
    ap.add_argument("--n", type=int, default=50, help="timed sentences")
    ap.add_argument("--warmup", type=int, default=5, help="untimed calls first")
    args = ap.parse_args()
    if args.run is None:
        bundle = load_system("kd", SHIPPED_WEIGHTS)  # the shipped main student
        model, vae, normaliser = bundle.model, bundle.vae, bundle.normaliser
        source = str(bundle.source)
    else:
        folders = student_dirs(args.run).get(args.system)
        if not folders:
            raise SystemExit(f"{args.run}: no trained student {args.system!r}")
        model, vae = load_student(folders[0]), load_vae(f"{args.run}/vae")
        normaliser = load_run_data(args.run).normaliser
        source = str(folders[0])
    data = load_run_data(args.sentences if args.run is None else args.run)
    texts = [s.text for s in data.splits["test"]]
    needed = args.n + args.warmup
    texts = (texts * (needed // len(texts) + 1))[:needed]
    times = []
    with torch.inference_mode():
        for i, text in enumerate(texts):
            _clear_cache(model)
            start = time.perf_counter()
            explore(text, model, vae, normaliser)
            if i >= args.warmup:
                times.append(1000.0 * (time.perf_counter() - start))
    t = np.array(times)
    print(f"student {source} ({torch.get_num_threads()} threads), {len(t)} sentences")
    print(
        f"latency ms: median {statistics.median(times):.1f}, "
        f"p10 {np.percentile(t, 10):.1f}, p90 {np.percentile(t, 90):.1f}, "
        f"max {t.max():.1f}"
    )


if __name__ == "__main__":
    main()
