"""Data-parallel training under ``torchrun`` (DistributedDataParallel).

The student trainer reads the launch from the environment that ``torchrun`` sets
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``); without it
(a notebook, ``nar-slp train`` on its own) everything here is a no-op and training is
the single-process code path, bit for bit.

Global-batch semantics: ``student.train.batch_size`` is the **global** batch. Every rank
builds the same length-grouped batches from the same seed and epoch
(:class:`~nar_slp.data.dataset.LengthGroupedBatchSampler`) and takes the share
``batch[rank::world]`` of each (:class:`ShardedBatchSampler`). Each rank's loss terms
are re-weighted by its share of the batch's frames (L_pose, L_distil) and sequences
(L_length) -- :func:`share_step` -- so that the gradient DDP averages over ranks
is the gradient of the global batch's Eq. 11, as one process would compute it. The
number of optimizer steps per epoch therefore does not depend on the world size, a
run may resume with another world size, and N processes give one process's weights
up to floating-point summation order (tested with two gloo processes on CPU).
Dropout masks are drawn per rank, so with dropout > 0 the runs agree in
distribution, not bit for bit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Sampler


@dataclass(frozen=True)
class World:
    """This process's place in the launch: ``rank`` of ``size``; ``local_rank`` picks
    the GPU on a node."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def main(self) -> bool:
        """Rank 0: the one process that logs and writes checkpoints."""
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"environment variable {name}={raw!r} is not an integer"
        ) from None


def launched_world() -> World:
    """The world ``torchrun`` describes in the environment (size 1 without it)."""
    size = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local = _env_int("LOCAL_RANK", rank)
    if size < 1 or not 0 <= rank < size:
        raise ValueError(f"RANK={rank} and WORLD_SIZE={size} do not describe a launch")
    return World(rank=rank, size=size, local_rank=local)


def init_world(device: torch.device) -> World:
    """Join the process group of a ``torchrun`` launch (once per process).

    The backend is NCCL on CUDA and gloo otherwise. Returns the world; a process
    started without ``torchrun`` gets ``World()`` and no process group.
    """
    world = launched_world()
    if not world.distributed:
        return world
    if not dist.is_available():
        raise RuntimeError(
            "WORLD_SIZE > 1 but this torch build has no torch.distributed"
        )
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    if dist.get_world_size() != world.size or dist.get_rank() != world.rank:
        raise RuntimeError(
            f"the process group (rank {dist.get_rank()} of {dist.get_world_size()}) "
            f"does not match RANK={world.rank}, WORLD_SIZE={world.size}"
        )
    return world


def leave_world() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def rank_device(device: torch.device, world: World) -> torch.device:
    """On CUDA, each rank takes GPU ``local_rank``; other devices are unchanged."""
    if world.distributed and device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    return device


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def all_sum(values: Sequence[float], world: World) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (float64; identity without a
    launch)."""
    if not world.distributed:
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.cpu().tolist()


class ShardedBatchSampler(Sampler[list[int]]):
    """Each global batch of ``inner`` cut into ``world.size`` shares; yields this
    rank's share ``batch[rank::size]``.

    A global batch smaller than the world leaves some ranks without a sequence. With
    ``placeholder=True`` (training) such a rank gets the batch's first sequence, to be
    weighted 0 (:func:`share_step`), so every rank takes part in every step and
    ``len`` is the inner sampler's on every rank; with ``placeholder=False``
    (evaluation, where nothing is collective per batch) it skips the batch.
    """

    def __init__(
        self, inner: Sampler[list[int]], world: World, placeholder: bool = True
    ) -> None:
        self.inner = inner
        self.world = world
        self.placeholder = placeholder

    def global_sizes(self, epoch: int) -> list[int]:
        """The size of every global batch of ``epoch``, in step order."""
        return [len(b) for b in self.inner.batches(epoch)]  # type: ignore[attr-defined]

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.inner, "set_epoch"):
            self.inner.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.inner)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.inner:
            share = list(batch)[self.world.rank :: self.world.size]
            if share:
                yield share
            elif self.placeholder:
                yield list(batch)[:1]


@dataclass(frozen=True)
class StepShare:
    """One training step's reduction over ranks: the weights of this rank's frame
    means and sequence mean, and whether every rank's loss was finite."""

    frame_weight: float = 1.0
    item_weight: float = 1.0
    finite: bool = True


def share_step(frames: int, items: int, finite: bool, world: World) -> StepShare:
    """Weights for this rank's mean loss terms, and the NaN guard, in one reduction.

    ``frames``/``items`` are this rank's real frames and sequences in the step (0 for
    a placeholder share). With DDP averaging gradients over ``size`` ranks, weighting
    rank r's frame means by ``size * frames_r / sum(frames)`` (and its sequence mean
    likewise) makes the averaged gradient that of the global batch's means. One
    process: weights 1 and its own finiteness.
    """
    if not world.distributed:
        return StepShare(finite=finite)
    total_frames, total_items, bad = all_sum([frames, items, 0 if finite else 1], world)
    return StepShare(
        frame_weight=world.size * frames / max(total_frames, 1.0),
        item_weight=world.size * items / max(total_items, 1.0),
        finite=bad == 0,
    )


def wrap_ddp(
    model: torch.nn.Module, device: torch.device, world: World
) -> torch.nn.Module:
    """``model`` in DistributedDataParallel for a launch, else ``model`` itself."""
    if not world.distributed:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)
