"""Trains a smoke-preset student on a fixed toy corpus; run plainly (one process) or
under ``torchrun`` (DDP). Used by tests/test_distributed.py; not a test itself.

    python tests/ddp_worker.py OUT_DIR EPOCHS
    python -m torch.distributed.run --standalone --nproc_per_node 2 \
        tests/ddp_worker.py OUT_DIR EPOCHS
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from nar_slp.config import get_config
from nar_slp.data.dataset import PoseTextDataset
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.models.pose_vae import PoseVAE
from nar_slp.skeleton import NUM_COORDS, NUM_JOINTS
from nar_slp.training.student_trainer import train_student

T_MAX = 16
WORDS = "sun rain wind snow cloud north east warm cold night friday tomorrow".split()


def sequences(n: int, seed: int) -> list[SignSequence]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS, size=int(rng.integers(2, 6))))
        t = int(rng.integers(3, T_MAX))
        out.append(
            SignSequence(
                name=f"s{seed}_{i}",
                text=text,
                gloss=text.upper(),
                poses=rng.normal(0, 1, (t, NUM_JOINTS, NUM_COORDS)).astype(np.float32),
            )
        )
    return out


def main(out_dir: str, epochs: int) -> None:
    torch.set_num_threads(1)
    cfg = get_config(
        "smoke",
        **{
            "data.max_frames": T_MAX,
            "vae.latent_dim": 8,
            "vae.hidden": (16, 16),
            "student.train.batch_size": 4,  # the global batch
            "student.train.epochs": epochs,
            "student.train.lr": 2e-3,
            "student.dropout": 0.0,  # per-rank dropout masks would differ
            "student.train.grad_clip": 1.0,
        },
    )
    # 9 training sequences: the last global batch of every epoch holds one, so
    # rank 1 of 2 takes a placeholder share; 5 dev sequences: it skips one.
    train, dev = sequences(9, 0), sequences(5, 1)
    norm = Normaliser.fit([s.poses for s in train])
    torch.manual_seed(0)
    vae = PoseVAE(cfg.vae)
    res = train_student(
        cfg,
        PoseTextDataset(train, norm, T_MAX),
        PoseTextDataset(dev, norm, T_MAX),
        vae,
        out_dir,
        device="cpu",
        log=None,
    )
    print("dev_pose", res.history[-1]["dev_pose"], "steps", res.history[-1]["epoch"])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
