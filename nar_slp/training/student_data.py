"""What the student (§3.4) reads while it trains, and what is cached before its
first epoch.

- :func:`student_inputs`: the strings of a batch the student reads, texts (T2P, the
  paper) or glosses (G2P); :func:`make_student_loader` and
  :func:`set_loader_epoch`: the loaders of a training run and of its dev passes.
- :func:`cache_frozen_features`: a frozen pretrained text encoder's features of
  every training (and dev) string, computed once in an order that depends only on
  the data, so a resumed run matches an uninterrupted one
  (``PretrainedTextEncoder.precompute``).
- :class:`TeacherCache` (``student.cache_teacher``): the frozen teacher's latents
  LGM(y) of every training sequence, computed once instead of every step.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nar_slp.data.dataset import make_loader
from nar_slp.distributed import World
from nar_slp.models.text_encoder import PretrainedTextEncoder


def student_inputs(batch: Any, input_kind: str) -> list[str]:
    """The strings the student reads: ``batch.texts`` (T2P) or ``batch.glosses``."""
    if input_kind == "text":
        return list(batch.texts)
    glosses = list(batch.glosses)
    empty = [
        name for name, g in zip(batch.names, glosses, strict=True) if not g.strip()
    ]
    if empty:
        raise ValueError(
            f"input_kind='gloss' but {len(empty)} sample(s) have no gloss annotation "
            f"(first: {empty[0]!r}); use input_kind='text' or a corpus with glosses"
        )
    return glosses


def dataset_inputs(dataset: Any, input_kind: str) -> list[str]:
    """All non-empty strings the student reads from ``dataset`` (texts or glosses;
    empty ones are reported by the training loop, naming the sample)."""
    strings = dataset.glosses if input_kind == "gloss" else dataset.texts
    return [s for s in strings if s.strip()]


def make_student_loader(
    dataset: Any,
    batch_size: int,
    shuffle: bool,
    seed: int,
    world: World | None = None,
    pad_to_multiple: int = 1,
) -> Any:
    """A loader of ``dataset`` for training (``shuffle``) or evaluation."""
    return make_loader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        world=world,
        placeholder=shuffle,  # training steps are collective, evaluation is not
        pad_to_multiple=pad_to_multiple,
    )


def set_loader_epoch(loader: Any, epoch: int) -> None:
    """Set the epoch of the loader's (batch) sampler, which seeds its order."""
    for sampler in (
        getattr(loader, "batch_sampler", None),
        getattr(loader, "sampler", None),
    ):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
            return


def cache_frozen_features(
    encoder: nn.Module, train_set: Any, dev_set: Any | None, input_kind: str
) -> None:
    """Cache a frozen pretrained ``encoder``'s features of every string of
    ``train_set`` and ``dev_set`` (None: none) once, in a data-determined order
    (exact resume; see :mod:`nar_slp.models.text_encoder`). A trained encoder (or
    one trained from scratch) is left alone."""
    if not isinstance(encoder, PretrainedTextEncoder) or encoder.trainable:
        return
    texts = dataset_inputs(train_set, input_kind)
    if dev_set is not None:
        texts += dataset_inputs(dev_set, input_kind)
    if texts:
        encoder.precompute(texts)


class TeacherCache:
    """The frozen teacher's latents LGM(y) of every sequence of a dataset, by name;
    :meth:`batch` pads them like :func:`~nar_slp.data.dataset.collate` pads poses."""

    def __init__(self, latents: dict[str, torch.Tensor]) -> None:
        self.latents = latents

    def batch(self, batch: Any) -> torch.Tensor:
        """(B, T, Z) for ``batch`` (zeros after each length)."""
        rows = [self.latents[name] for name in batch.names]
        t = int(batch.mask.shape[1])
        out = rows[0].new_zeros(len(rows), t, rows[0].shape[-1])  # (B, T, Z)
        for b, z in enumerate(rows):
            out[b, : z.shape[0]] = z
        return out


@torch.no_grad()
def teacher_latents(
    vae: nn.Module, dataset: Any, device: torch.device, batch_size: int = 64
) -> TeacherCache:
    """LGM(y) of every sequence of ``dataset`` (the frozen VAE in eval mode)."""
    latents: dict[str, torch.Tensor] = {}
    loader = make_student_loader(dataset, batch_size, shuffle=False, seed=0)
    for batch in loader:
        batch = batch.to(device)
        b, t = batch.mask.shape
        z = vae.lgm(batch.poses.reshape(b, t, -1))  # (B, T, Z)
        for i, name in enumerate(batch.names):
            latents[name] = z[i, : int(batch.lengths[i])].clone()
    if len(latents) != len(dataset):
        raise ValueError(
            "teacher_latents: sequence names are not unique; the teacher cache "
            "needs one name per sequence (student.cache_teacher=False avoids it)"
        )
    return TeacherCache(latents)
