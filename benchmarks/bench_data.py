"""Data-layer speed: generate the bundled corpus, read and write PT folders, normalise.

Usage::

    python benchmarks/bench_data.py                    # bundled corpus, preset default
    python benchmarks/bench_data.py --preset smoke
    python benchmarks/bench_data.py --data-dir /path/to/PT/folder

Prints one table row per step with wall time, sequences/s and frames/s. Without the
corpus generator (``nar_slp.data.corpus``) and without ``--data-dir``, read/write are
measured on random sequences of PHOENIX-like lengths (42-198 frames).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from nar_slp.config import PRESETS, get_config
from nar_slp.data.dataset import PoseTextDataset, make_loader
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import (
    SignSequence,
    available_splits,
    read_split,
    write_split,
)


def _synthetic(folder: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    seqs = [
        SignSequence(
            name=f"synthetic/{i:05d}",
            text="ein synthetischer satz",
            gloss="SYNTHETISCH",
            poses=rng.normal(0, 0.2, (int(rng.integers(42, 199)), 50, 3)).astype(
                np.float32
            ),
        )
        for i in range(n)
    ]
    write_split(folder, "train", seqs)


def _row(step: str, seconds: float, n_seq: int | None, n_frames: int | None) -> str:
    seq_s = f"{n_seq / seconds:,.0f}" if n_seq else "-"
    fr_s = f"{n_frames / seconds:,.0f}" if n_frames else "-"
    count = f"{n_seq:,} / {n_frames:,}" if n_seq else "-"
    return f"| {step:<22} | {seconds:>8.3f} | {count:>18} | {seq_s:>10} | {fr_s:>12} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="default", choices=PRESETS)
    parser.add_argument("--data-dir", default=None, help="existing PT folder to read")
    parser.add_argument(
        "--n-synthetic",
        type=int,
        default=300,
        help="sequences of the random fallback when the generator is unavailable",
    )
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if args.data_dir is not None:
            folder = Path(args.data_dir)
            source = f"existing folder {folder}"
        else:
            folder = tmp_path / "corpus"
            try:
                from nar_slp.data.corpus import generate_corpus
            except ImportError:
                print("corpus generator not available")
                _synthetic(folder, args.n_synthetic)
                source = f"{args.n_synthetic} random sequences (fallback)"
            else:
                cfg = get_config(args.preset)
                t0 = time.perf_counter()
                generate_corpus(cfg.corpus, folder)
                rows.append(("generate corpus", time.perf_counter() - t0))
                source = f"bundled corpus, preset {args.preset}"

        splits = available_splits(folder)
        if not splits:
            raise SystemExit(f"no PT splits (*.skels) found in {folder}")
        with_counter = get_config(args.preset).data.with_counter
        t0 = time.perf_counter()
        data = {s: read_split(folder, s, with_counter=with_counter) for s in splits}
        t_read = time.perf_counter() - t0
        n_seq = sum(len(v) for v in data.values())
        n_frames = sum(x.n_frames for v in data.values() for x in v)
        size_mb = sum(f.stat().st_size for f in folder.glob("*.skels")) / 2**20

        t0 = time.perf_counter()
        for s, seqs in data.items():
            write_split(tmp_path / "rewrite", s, seqs)
        t_write = time.perf_counter() - t0

        first = data[splits[0]]
        t0 = time.perf_counter()
        norm = Normaliser.fit(first)
        ds = PoseTextDataset(first, norm)
        t_norm = time.perf_counter() - t0
        loader = make_loader(ds, batch_size=32, shuffle=True, seed=0)
        t0 = time.perf_counter()
        for _ in loader:
            pass
        t_iter = time.perf_counter() - t0
        n_first = sum(x.n_frames for x in first)

    print(f"data: {source}; splits {', '.join(splits)}; .skels {size_mb:.1f} MiB")
    header = ("step", "sec", "sequences / frames", "seq/s", "frames/s")
    widths = (22, 8, 18, 10, 12)
    print(
        "| "
        + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
        + " |"
    )
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for step, sec in rows:
        print(_row(step, sec, None, None))
    print(_row("read (all splits)", t_read, n_seq, n_frames))
    print(_row("write (all splits)", t_write, n_seq, n_frames))
    print(_row(f"fit+normalise ({splits[0]})", t_norm, len(first), n_first))
    print(_row("iterate loader (B=32)", t_iter, len(first), n_first))


if __name__ == "__main__":
    main()
