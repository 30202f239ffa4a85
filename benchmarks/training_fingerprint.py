"""Fingerprints of every trainer on the smoke corpus, for behaviour-preserving changes.

Trains each of the six trainers (VAE, student, PT, NSLP-G, TAE, back-translation) on
a small slice of a freshly generated smoke corpus, in the settings that exercise the
training loop — dev selection, patience and early stop, warm-up, the teacher cache,
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
    base = {"vae.epochs": 2, "baseline.pt_epochs": 4, "baseline.nslpg_epochs": 4}
    base |= {"baseline.nslpg_ft_epochs": 2, "baseline.pt_lr": 3e-3}
    base |= {"baseline.nslpg_lr": 3e-3}
    cfg = get_config("smoke", **base)
    frames = [norm.transform(s.poses, warn=False) for s in train]
    dev_frames = [norm.transform(s.poses, warn=False) for s in dev]

    vae = train_vae(cfg, frames, dev_frames, work / "vae", device="cpu", log=None)
    print("vae", weights(vae.model), digest(vae.history))

    tae_settings = (
        {"eval.tae_epochs": 3},
        {"eval.tae_epochs": 6, "eval.tae_patience": 2, "eval.tae_min_delta": 0.01},
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
        {"eval.slt_epochs": 2},
        {"eval.slt_epochs": 5, "eval.slt_eval_every": 1, "eval.slt_lr": 3e-2},
    )
    for i, extra in enumerate(slt_settings):
        slt = train_slt(
            get_config("smoke", **extra), train, dev, norm, work / f"slt{i}", log=None
        )
        ex = load_checkpoint(work / f"slt{i}", with_optimizer=False).extra
        print("slt", extra, weights(slt), digest(ex["history"]), ex["best_epoch"])

    recipes = (BaselineRecipe(), BaselineRecipe("warmup_cosine", 0.2, True))
    for variant in ("base", "fpgn"):
        for recipe in recipes:
            out = work / f"pt_{variant}_{recipe.select_on_dev}"
            r = train_pt(cfg, variant, train, norm, out, dev=dev, recipe=recipe)
            ex = load_checkpoint(out, with_optimizer=False).extra
            print("pt", variant, recipe, weights(r.model), digest(ex))
    for gs in (False, True):
        for recipe in recipes:
            tag = f"{gs}_{recipe.select_on_dev}"
            a, b = train_nslpg(
                cfg,
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
                recipe,
                weights(a.model),
                weights(b.model),
                digest(histories),
            )

    student_settings = (
        {},
        {"student.schedule": "warmup_cosine", "student.patience": 1}
        | {"student.cache_teacher": True},
    )
    for i, extra in enumerate(student_settings):
        out = work / f"student{i}"
        for epochs in (2, 5):  # train 2 epochs, then resume to 5
            scfg = get_config("smoke", **{"student.epochs": epochs, **extra})
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
