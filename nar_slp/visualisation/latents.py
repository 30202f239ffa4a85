"""The VAE latent space, projected to 2-D and coloured by gloss (chapter 02)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from nar_slp.data.corpus.lexicon import LEXICON
from nar_slp.data.corpus.motion import realise
from nar_slp.data.corpus.signer import make_signers

DEFAULT_GLOSSES = ("MONDAY", "RAIN", "SNOW", "SUN", "WIND", "NORTH", "COLD", "STORM")


def isolated_sign_frames(
    glosses: Sequence[str], n_signers: int = 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Frames of bundled-corpus signs performed in isolation by ``n_signers`` signers.

    Each gloss is rendered as a one-sign sentence (rest -> sign -> rest); only the
    middle half of its frames is kept so that the shared rest pose does not dominate.
    Returns poses (N, J, K) in PT coordinates and the gloss index of each frame (N,).
    """

    unknown = [g for g in glosses if g not in LEXICON]
    if unknown:
        raise KeyError(f"glosses not in the bundled lexicon: {unknown}")
    signers = make_signers(n_signers)
    frames, labels = [], []
    for gi, gloss in enumerate(glosses):
        for si, signer in enumerate(signers):
            rng = np.random.default_rng([seed, gi, si])
            poses = realise([gloss], signer, rng)
            t = len(poses)
            core = poses[t // 4 : t - t // 4]
            frames.append(core)
            labels.append(np.full(len(core), gi))
    return np.concatenate(frames), np.concatenate(labels)


def pca_2d(x: np.ndarray) -> np.ndarray:
    """Project rows of ``x`` (N, Z) on their first two principal components."""
    centred = x - x.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    proj = centred @ vt[:2].T
    # fix the sign of each component so the figure is the same on every run
    return proj * np.sign(proj[np.abs(proj).argmax(0), [0, 1]])


def plot_latent_projection(
    vae, normaliser, glosses: Sequence[str] = DEFAULT_GLOSSES, n_signers: int = 3
):
    """Scatter of LGM latents (μ) of isolated signs, first two PCs, one colour per
    gloss. Returns the figure."""
    poses, labels = isolated_sign_frames(glosses, n_signers)
    x = torch.as_tensor(normaliser.transform(poses, warn=False), dtype=torch.float32)
    with torch.no_grad():
        mu = vae.lgm(x.reshape(len(x), -1)).numpy()  # (N, Z)
    xy = pca_2d(mu)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for gi, gloss in enumerate(glosses):
        sel = labels == gi
        ax.scatter(xy[sel, 0], xy[sel, 1], s=5, label=gloss, alpha=0.7)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(f"LGM latents of isolated signs ({n_signers} signers)")
    ax.legend(fontsize=7, markerscale=2)
    fig.tight_layout()
    return fig
