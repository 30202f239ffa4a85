"""Text -> sign poses with a trained student and the VAE's decoder (the PGM).

The student predicts each sequence's length with its regulator (Eq. 3) and all latent
frames in parallel (Eq. 4-6); the PGM decodes every latent frame to a normalised pose,
and the normaliser maps it back to the dataset's original coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from nar_slp.models.student import TextToLatentStudent
from nar_slp.skeleton import NUM_JOINTS


@dataclass
class Generation:
    """poses: one (T_i, J, K) float32 array per text, original coordinates;
    lengths: (N,) int64 frame counts T_i; stopped: for an autoregressive system
    (PT), (N,) bool — whether its own counter ended each sequence (else it ran to
    the maximum length); None for the non-autoregressive systems; system: the label
    of the system that generated them, once known (a table row, or one seed's
    label), which the evaluation and the written outputs go by. One type from
    generation to scoring."""

    poses: list[np.ndarray]
    lengths: np.ndarray
    stopped: np.ndarray | None = None
    system: str = ""

    def of(self, system: str) -> Generation:
        """The same generation, labelled as ``system``'s."""
        return replace(self, system=system)


def _to_eval(module: nn.Module, device: torch.device) -> None:
    """Put ``module`` on ``device`` in eval mode, touching it only where needed: a
    call on a model already there and evaluating costs nothing (walking the MiniLM
    encoder's ~150 submodules twice a call was ~1/3 of one sentence's latency)."""
    first = next(module.parameters(), None)
    if first is not None and first.device != device:
        module.to(device)
    if module.training:
        module.eval()


@torch.no_grad()
def generate(
    model: TextToLatentStudent,
    vae: nn.Module,
    normaliser,
    texts: list[str],
    batch_size: int = 32,
    device: str | torch.device | None = None,
    lengths: Sequence[int] | np.ndarray | torch.Tensor | None = None,
) -> Generation:
    """Generate a pose sequence for every text, in order.

    Args:
        model: the trained student (its ``input_kind`` says whether ``texts`` should
            be spoken text or glosses).
        vae: the pose VAE; ``vae.decode`` (the PGM) maps (..., Z) to (..., F) in (0, 1).
        normaliser: the ``Normaliser`` the data was scaled with; ``inverse`` maps
            normalised poses back to the dataset's coordinates.
        texts: N input strings.
        batch_size: texts per forward pass.
        device: where to run; default the model's device (the VAE is moved there).
        lengths: optional N lengths to force (e.g. the ground-truth lengths);
            default the regulator's predictions.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not a single string")
    texts = list(texts)
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} must be >= 1")
    if lengths is not None:
        lengths = torch.as_tensor(np.asarray(lengths), dtype=torch.long)
        if lengths.shape != (len(texts),):
            raise ValueError(
                f"lengths has shape {tuple(lengths.shape)}; expected ({len(texts)},)"
            )
    device = torch.device(device) if device is not None else model.device
    model_mode, vae_mode = model.training, vae.training
    for module in (model, vae):
        _to_eval(module, device)
    poses: list[np.ndarray] = []
    made: list[int] = []  # the lengths used
    try:
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            forced = None if lengths is None else lengths[start : start + batch_size]
            out = model(chunk, lengths=forced)
            x = vae.decode(out.z_lang).float()  # (B, T, F)
            b, t, f = x.shape
            x = x.reshape(b, t, NUM_JOINTS, f // NUM_JOINTS).cpu().numpy()  # (B,T,J,K)
            for i, n in enumerate(out.lengths.tolist()):
                pose = normaliser.inverse(x[i, :n])  # (T_i, J, K)
                poses.append(np.asarray(pose, dtype=np.float32))
                made.append(int(n))
    finally:
        # only a module that was training is switched back (see _to_eval)
        if model_mode:
            model.train()
        if vae_mode:
            vae.train()
    return Generation(poses=poses, lengths=np.asarray(made, dtype=np.int64))
