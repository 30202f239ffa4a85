"""Torch datasets and batching for pose-text pairs.

- :class:`PoseTextDataset` holds normalised poses (float32, [0, 1]; see
  :mod:`nar_slp.data.normaliser`) with their text, gloss and name.
- :func:`collate` pads a list of items into a :class:`PoseBatch`.
- :class:`LengthGroupedBatchSampler` puts sequences of similar length in the same batch,
  so little compute is spent on padding, while keeping the batch order random.
- :func:`make_loader` wires the three into a ``torch.utils.data.DataLoader``.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.distributed import ShardedBatchSampler, World
from nar_slp.utils import round_up


@dataclass
class PoseItem:
    """One dataset item: a single unpadded sequence."""

    poses: torch.Tensor  # (T, J, K) float32
    text: str
    gloss: str
    name: str


@dataclass
class PoseBatch:
    """A padded batch of sequences (output of :func:`collate`)."""

    poses: torch.Tensor  # (B, T, J, K) float32, normalised, zeros after each length
    mask: torch.Tensor  # (B, T) bool, True = real frame
    lengths: torch.Tensor  # (B,) int64, frames per sequence
    texts: list[str]
    glosses: list[str]
    names: list[str]

    def __len__(self) -> int:
        return len(self.names)

    def to(self, device: torch.device | str, non_blocking: bool = False) -> PoseBatch:
        """A copy with the tensors on ``device`` (strings are shared)."""
        return PoseBatch(
            poses=self.poses.to(device, non_blocking=non_blocking),
            mask=self.mask.to(device, non_blocking=non_blocking),
            lengths=self.lengths.to(device, non_blocking=non_blocking),
            texts=self.texts,
            glosses=self.glosses,
            names=self.names,
        )

    def pin_memory(self) -> PoseBatch:
        """Pinned-memory copy; called by ``DataLoader(pin_memory=True)``."""
        return PoseBatch(
            self.poses.pin_memory(),
            self.mask.pin_memory(),
            self.lengths.pin_memory(),
            self.texts,
            self.glosses,
            self.names,
        )


class PoseTextDataset(Dataset):
    """Sequences with poses normalised by a fitted :class:`Normaliser`.

    Args:
        sequences: the split, e.g. from :func:`nar_slp.data.pt_format.read_split`.
        normaliser: fitted on the training split; ``None`` keeps the raw PT
            coordinates (e.g. for metrics computed in data units).
        max_frames: T_max; a longer sequence raises ``ValueError`` unless
            ``truncate`` is True, in which case it is cut to its first ``max_frames``
            frames (counted in ``n_truncated``). ``None`` = no limit.
        truncate: see ``max_frames``.

    Attributes:
        lengths: frames per sequence (after truncation), for the batch sampler.
        n_truncated: how many sequences were truncated.
        n_clipped: how many pose values the normaliser clipped into [0, 1].
    """

    def __init__(
        self,
        sequences: Sequence[SignSequence],
        normaliser: Normaliser | None,
        max_frames: int | None = None,
        truncate: bool = False,
    ) -> None:
        if max_frames is not None and (
            isinstance(max_frames, bool) or not isinstance(max_frames, int)
        ):
            raise TypeError(f"max_frames must be an int or None, got {max_frames!r}")
        if max_frames is not None and max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        self.max_frames = max_frames
        self.normaliser = normaliser
        self.n_truncated = 0
        self.n_clipped = 0
        self._poses: list[torch.Tensor] = []
        self.texts: list[str] = []
        self.glosses: list[str] = []
        self.names: list[str] = []
        for i, seq in enumerate(sequences):
            poses = np.asarray(seq.poses, dtype=np.float32)  # (T, J, K)
            if poses.ndim != 3 or poses.shape[0] == 0:
                raise ValueError(
                    f"sequence {i} ({seq.name!r}): poses must be (T, J, K) with "
                    f"T >= 1, got {poses.shape}"
                )
            if max_frames is not None and poses.shape[0] > max_frames:
                if not truncate:
                    raise ValueError(
                        f"sequence {i} ({seq.name!r}) has {poses.shape[0]} frames, "
                        f"more than max_frames={max_frames}; raise max_frames "
                        "(DataConfig.max_frames) or pass truncate=True"
                    )
                poses = poses[:max_frames]
                self.n_truncated += 1
            if normaliser is not None:
                poses, n = normaliser.transform(poses, warn=False, return_count=True)
                self.n_clipped += n
            self._poses.append(torch.from_numpy(np.ascontiguousarray(poses)))
            self.texts.append(seq.text)
            self.glosses.append(seq.gloss)
            self.names.append(seq.name)
        self.lengths = [int(p.shape[0]) for p in self._poses]
        if self.n_clipped:
            total = sum(p.numel() for p in self._poses)
            warnings.warn(
                f"PoseTextDataset: the normaliser clipped {self.n_clipped} of {total} "
                "pose values into [0, 1] (poses outside the training range)",
                stacklevel=2,
            )
        if self.n_truncated:
            warnings.warn(
                f"PoseTextDataset: truncated {self.n_truncated} sequences to "
                f"max_frames={max_frames}",
                stacklevel=2,
            )

    def __len__(self) -> int:
        return len(self._poses)

    def __getitem__(self, index: int) -> PoseItem:
        return PoseItem(
            poses=self._poses[index],
            text=self.texts[index],
            gloss=self.glosses[index],
            name=self.names[index],
        )


def collate(items: Sequence[PoseItem], pad_to_multiple: int = 1) -> PoseBatch:
    """Pad items to the longest one, rounded up to a multiple of ``pad_to_multiple``:
    poses with zeros, mask True on real frames."""
    if not items:
        raise ValueError("collate: empty list of items")
    lengths = torch.tensor([it.poses.shape[0] for it in items], dtype=torch.int64)
    t_max = round_up(int(lengths.max()), pad_to_multiple)
    frame_shape = tuple(items[0].poses.shape[1:])
    poses = torch.zeros((len(items), t_max, *frame_shape), dtype=torch.float32)
    for b, it in enumerate(items):
        poses[b, : it.poses.shape[0]] = it.poses  # (T_b, J, K)
    mask = torch.arange(t_max)[None, :] < lengths[:, None]  # (B, T)
    return PoseBatch(
        poses=poses,
        mask=mask,
        lengths=lengths,
        texts=[it.text for it in items],
        glosses=[it.gloss for it in items],
        names=[it.name for it in items],
    )


class LengthGroupedBatchSampler(Sampler[list[int]]):
    """Batches of indices whose sequences have similar lengths.

    With ``shuffle=True``, each epoch: permute all indices, cut the permutation into
    chunks of ``chunk_batches`` batches, sort each chunk by length (longest first) and
    cut it into batches, then shuffle the order of all batches. Batches are thus
    length-homogeneous but their order and membership change every epoch.

    With ``shuffle=False`` batches are consecutive indices in dataset order (for
    evaluation, where a stable order matters more than padding).

    Randomness comes from ``numpy.random.default_rng([seed, epoch])``: the same seed and
    epoch give the same batches. Each ``__iter__`` uses the current epoch and then
    advances it by one; :meth:`set_epoch` sets the epoch of the next ``__iter__``, so
    both "call set_epoch every epoch" and "just iterate" are reproducible.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        chunk_batches: int = 50,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise TypeError(f"batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if chunk_batches < 1:
            raise ValueError(f"chunk_batches must be >= 1, got {chunk_batches}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        self.chunk_batches = chunk_batches
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch whose batches the next ``__iter__`` yields."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        n, bs = len(self.lengths), self.batch_size
        return n // bs if self.drop_last else math.ceil(n / bs)

    def batches(self, epoch: int) -> list[list[int]]:
        """The batches of ``epoch`` (does not change the sampler's epoch)."""
        n, bs = len(self.lengths), self.batch_size
        if not self.shuffle:
            order = np.arange(n)
            out = [order[i : i + bs].tolist() for i in range(0, n, bs)]
        else:
            rng = np.random.default_rng([self.seed, epoch])
            perm = rng.permutation(n)
            chunk = bs * self.chunk_batches
            out = []
            for start in range(0, n, chunk):
                idx = perm[start : start + chunk]
                # stable sort so ties keep the random order of the permutation
                idx = idx[np.argsort(-self.lengths[idx], kind="stable")]
                out += [idx[i : i + bs].tolist() for i in range(0, len(idx), bs)]
            out = [out[i] for i in rng.permutation(len(out))]
        if self.drop_last:
            out = [b for b in out if len(b) == bs]
        return out

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.batches(self.epoch)  # computed now, not lazily
        self.epoch += 1
        return iter(batches)


def make_loader(
    dataset: PoseTextDataset,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    drop_last: bool = False,
    pin_memory: bool = False,
    world: World | None = None,
    placeholder: bool = True,
    pad_to_multiple: int = 1,
) -> DataLoader:
    """A DataLoader over ``dataset`` with a :class:`LengthGroupedBatchSampler` and
    :func:`collate` (``num_workers=0``: the data already sits in memory).

    The sampler is ``loader.batch_sampler``; call its ``set_epoch(epoch)`` for an
    explicit epoch, otherwise each pass over the loader reshuffles by itself.

    With a distributed ``world`` each rank iterates its share of every global batch
    of ``batch_size`` (:class:`~nar_slp.distributed.ShardedBatchSampler`;
    ``placeholder``: a rank without a share gets a stand-in sequence, as training
    needs, or skips the batch, as evaluation needs). ``pad_to_multiple``: see
    :func:`collate`.
    """
    sampler: Sampler[list[int]] = LengthGroupedBatchSampler(
        dataset.lengths, batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last
    )
    if world is not None and world.distributed:
        sampler = ShardedBatchSampler(sampler, world, placeholder=placeholder)
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=functools.partial(collate, pad_to_multiple=pad_to_multiple),
        num_workers=0,
        pin_memory=pin_memory,
    )
