"""Fingerprints of every trainer on the smoke corpus, for behaviour-preserving changes.

Trains each of the six trainers (VAE, student, PT, NSLP-G, TAE, back-translation) on
a small slice of a freshly generated smoke corpus, in the settings that exercise the
training loop — dev selection, patience and early stop, warm-up,
resume, NSLP-G's shared epochs and +ft branches — and prints one line per run: the
SHA-256 of the weights, of the history (wall-clock seconds left out) and the selected
epoch. On one machine and thread count the output is deterministic, so running it
before and after a refactor (e.g. at two commits, in two clones) and diffing the
outputs shows whether training changed by a single bit::

    OMP_NUM_THREADS=1 python benchmarks/training_fingerprint.py > after.txt
    (cd ../old-clone && OMP_NUM_THREADS=1 .venv/bin/python \\
        benchmarks/training_fingerprint.py) > before.txt
    diff before.txt after.txt

Used for issue #16's training loop: every line identical before and after (about 2
minutes at one thread).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from nar_slp.checkpoints import load_checkpoint
from nar_slp.config import get_config
from nar_slp.data.dataset import PoseTextDataset
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import read_split
from nar_slp.evaluation.back_translation import train_slt
from nar_slp.evaluation.tae_training import train_tae
from nar_slp.training.baseline_recipe import BaselineRecipe
from nar_slp.training.baseline_trainer import train_nslpg, train_pt
from nar_slp.training.student_trainer import train_student
from nar_slp.training.vae_trainer import train_vae


def weights(model: torch.nn.Module) -> str:
    """SHA-256 (16 hex digits) of a model's state dict, names and bytes."""
    h = hashlib.sha256()
    for name, value in model.state_dict().items():
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def digest(obj: object) -> str:
    """SHA-256 (16 hex digits) of a JSON-able object, "seconds" keys dropped."""

    def clean(x: object) -> object:
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items() if k != "seconds"}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    text = json.dumps(clean(obj), sort_keys=True, default=float)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def main() -> None:
    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="fingerprint-"))
    subprocess.run(
        [sys.executable, "-m", "nar_slp.data.corpus", "--preset", "smoke"]
        + ["--out", str(work / "corpus")],
        check=True,
        capture_output=True,
    )
    train = read_split(work / "corpus", "train")[:32]
    dev = read_split(work / "corpus", "dev")[:8]
    norm = Normaliser.fit(train)
    base = {"vae.train.epochs": 2, "pt.train.epochs": 4, "nslpg.train.epochs": 4}
    base |= {"nslpg.ft_epochs": 2, "pt.train.lr": 3e-3}
    base |= {"nslpg.train.lr": 3e-3}
    cfg = get_config("smoke", **base)
    # the baselines' two recipes: constant rate, last epoch; warm-up + cosine, the
    # dev-selected epoch
    warm = {
        f"{m}.train.{k}": v
        for m in ("pt", "nslpg")
        for k, v in (("schedule", "warmup_cosine"), ("warmup", 0.2))
    }
    recipes = (
        ("constant-last", cfg, BaselineRecipe()),
        (
            "cosine-dev",
            get_config("smoke", **base, **warm),
            BaselineRecipe(select_on_dev=True),
        ),
    )
    frames = [norm.transform(s.poses, warn=False) for s in train]
    dev_frames = [norm.transform(s.poses, warn=False) for s in dev]

    vae = train_vae(cfg, frames, dev_frames, work / "vae", device="cpu", log=None)
    print("vae", weights(vae.model), digest(vae.history))

    tae_settings = (
        {"tae.train.epochs": 3},
        {"tae.train.epochs": 6, "tae.train.patience": 2, "tae.min_delta": 0.01},
    )
    for extra in tae_settings:
        tae = train_tae(
            get_config("smoke", **extra),
            [s.poses for s in train],
            norm,
            None,
            log=None,
            dev_poses=[s.poses for s in dev],
        )
        r = tae.training_report
        print(
            "tae", extra, weights(tae), digest([r.history, r.dev_history]), r.best_epoch
        )

    slt_settings = (
        {"slt.train.epochs": 2},
        {"slt.train.epochs": 5, "slt.eval_every": 1, "slt.train.lr": 3e-2},
    )
    for i, extra in enumerate(slt_settings):
        slt = train_slt(
            get_config("smoke", **extra), train, dev, norm, work / f"slt{i}", log=None
        )
        ex = load_checkpoint(work / f"slt{i}", with_optimizer=False).extra
        print("slt", extra, weights(slt), digest(ex["history"]), ex["best_epoch"])

    for variant in ("base", "fpgn"):
        for label, rcfg, recipe in recipes:
            out = work / f"pt_{variant}_{recipe.select_on_dev}"
            r = train_pt(rcfg, variant, train, norm, out, dev=dev, recipe=recipe)
            ex = load_checkpoint(out, with_optimizer=False).extra
            print("pt", variant, label, weights(r.model), digest(ex))
    for gs in (False, True):
        for label, rcfg, recipe in recipes:
            tag = f"{gs}_{recipe.select_on_dev}"
            a, b = train_nslpg(
                rcfg,
                gs,
                train,
                norm,
                work / "vae",
                work / f"n_{tag}",
                work / f"nf_{tag}",
                dev=dev,
                recipe=recipe,
            )
            histories = [a.history, b.history]
            print(
                "nslpg",
                gs,
                label,
                weights(a.model),
                weights(b.model),
                digest(histories),
            )

    student_settings = (
        {},
        {"student.train.schedule": "warmup_cosine", "student.train.patience": 1},
    )
    for i, extra in enumerate(student_settings):
        out = work / f"student{i}"
        for epochs in (2, 5):  # train 2 epochs, then resume to 5
            scfg = get_config("smoke", **{"student.train.epochs": epochs, **extra})
            ts = PoseTextDataset(train, norm, max_frames=scfg.data.max_frames)
            ds = PoseTextDataset(dev, norm, max_frames=scfg.data.max_frames)
            r = train_student(scfg, ts, ds, vae.model, out, "cpu", log=None)
        print(
            "student",
            extra,
            weights(r.model),
            digest(r.history),
            r.best_epoch,
            r.stopped_early,
        )


if __name__ == "__main__":
    main()
