"""What the student (§3.4) reads while it trains, and what is cached before its
first epoch.

- :func:`student_inputs`: the strings of a batch the student reads, texts (T2P, the
  paper) or glosses (G2P); :func:`make_student_loader` and
  :func:`set_loader_epoch`: the loaders of a training run and of its dev passes.
- :func:`cache_frozen_features`: a frozen pretrained text encoder's features of
  every training (and dev) string, computed once in an order that depends only on
  the data, so a resumed run matches an uninterrupted one
  (``PretrainedTextEncoder.precompute``).
"""

from __future__ import annotations

from typing import Any

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
