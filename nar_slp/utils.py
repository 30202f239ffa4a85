"""Helpers shared by every chapter: seeding, device choice, autocast, progress bars,
the trainers' epoch-logging policy."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

T = TypeVar("T")

MIXED_PRECISION = ("bf16", "fp16", "no")

# NAR_SLP_PROGRESS=0 silences progress bars everywhere (committed notebook outputs must
# not carry them); =1 forces them on even when stderr is not a terminal.
PROGRESS_ENV = "NAR_SLP_PROGRESS"


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA).

    Deterministic algorithms are not switched on: results are reproducible for a
    given machine and thread count, which is what the chapters rely on. Code that
    must be bit-exact across resumption (e.g. the VAE trainer) uses its own
    ``torch.Generator`` seeded per epoch instead of the global state.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r} ({type(seed).__name__})")
    seed = int(seed)
    random.seed(seed)
    # NumPy's legacy global seed must fit in 32 bits.
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def pick_device(name: str | torch.device = "auto") -> torch.device:
    """The torch device to run on.

    ``"auto"`` picks ``cuda`` when a GPU is visible, else ``cpu``. Any other name is
    parsed by torch (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``); an unparsable
    name, or a CUDA/MPS device that is not available here, raises ``ValueError``.
    """
    if isinstance(name, torch.device):
        device = name
    elif not isinstance(name, str):
        raise TypeError(f"device must be a str or torch.device, got {name!r}")
    elif name.strip().lower() == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            device = torch.device(name.strip())
        except RuntimeError as err:
            raise ValueError(
                f"device={name!r} is not a device name; use 'auto', 'cpu', 'cuda' "
                "or 'cuda:<index>'"
            ) from err
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={name!r} asks for CUDA but no GPU is visible; "
                "use 'auto' or 'cpu'"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={name!r}: only {torch.cuda.device_count()} CUDA device(s) "
                "are visible"
            )
    elif device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device={name!r} asks for MPS, which is not available")
    elif device.type != "cpu":
        raise ValueError(
            f"device={name!r} has unsupported type {device.type!r}; "
            "use 'auto', 'cpu', 'cuda' or 'mps'"
        )
    return device


def autocast_context(
    device: str | torch.device, mixed_precision: str = "bf16"
) -> contextlib.AbstractContextManager[Any]:
    """A context manager for mixed-precision forward passes.

    On CUDA, ``"bf16"``/``"fp16"`` run matmuls in bfloat16/float16 via
    ``torch.autocast``; ``"no"`` keeps float32. On CPU (and MPS) this is always a
    ``nullcontext``: CPU runs are float32 so that CPU results are reproducible and
    comparable across presets. ``"fp16"`` needs a ``torch.amp.GradScaler`` in the
    training loop; ``"bf16"`` does not.
    """
    if mixed_precision not in MIXED_PRECISION:
        raise ValueError(
            f"mixed_precision={mixed_precision!r} is not one of "
            f"{', '.join(MIXED_PRECISION)}"
        )
    device = torch.device(device) if isinstance(device, str) else device
    if device.type != "cuda" or mixed_precision == "no":
        return contextlib.nullcontext()
    if mixed_precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise ValueError(
            "mixed_precision='bf16' but this GPU does not support bfloat16; "
            "use 'fp16' or 'no'"
        )
    dtype = torch.bfloat16 if mixed_precision == "bf16" else torch.float16
    return torch.autocast(device_type="cuda", dtype=dtype)


def progress_enabled(enabled: bool = True) -> bool:
    """Whether a progress bar should be drawn (see :func:`quiet_progress`)."""
    if not enabled:
        return False
    env = os.environ.get(PROGRESS_ENV, "").strip()
    if env == "0":
        return False
    if env == "1":
        return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def quiet_progress(
    iterable: Iterable[T], enabled: bool = True, **tqdm_kwargs: Any
) -> Iterator[T] | Iterable[T]:
    """``tqdm(iterable)`` when a progress bar is wanted, else ``iterable`` unchanged.

    Bars are drawn only when ``enabled`` and stderr is a terminal; setting the
    environment variable ``NAR_SLP_PROGRESS=0`` turns them off (papermill runs and
    committed notebook outputs), ``NAR_SLP_PROGRESS=1`` forces them on.
    """
    if not progress_enabled(enabled):
        return iterable
    from tqdm.auto import tqdm

    tqdm_kwargs.setdefault("leave", False)
    tqdm_kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **tqdm_kwargs)


# ---------------------------------------------------------------------------- logging

#: At most this many per-epoch lines per training run by default (first, every k-th,
#: last), plus the selected epoch's line when it was not among them.
EPOCH_LOG_LINES = 5


def log_interval(total_epochs: int, max_lines: int = EPOCH_LOG_LINES) -> int:
    """The k of :class:`EpochLogger`: the smallest interval such that the first epoch,
    every k-th epoch and the last one make at most ``max_lines`` lines (1 when every
    epoch fits)."""
    if total_epochs < 1:
        raise ValueError(f"total_epochs must be >= 1, got {total_epochs}")
    if max_lines < 2:
        raise ValueError(f"max_lines must be >= 2, got {max_lines}")
    if total_epochs <= max_lines:
        return 1
    return -(-total_epochs // (max_lines - 1))  # ceil(total / (max_lines - 1))


class EpochLogger:
    """The logging policy shared by every trainer (VAE, student, TAE, back-translation).

    Training runs print a few lines, not one per epoch: the first epoch a call trains
    (also after a resume), every ``every``-th epoch, and the last epoch are logged as
    they finish; :meth:`finish` then adds the line of the epoch that training stopped
    at (early stopping) and of the epoch that was selected (best on dev), when those
    were not printed yet. ``every=None`` picks k with :func:`log_interval`, so a run
    prints at most :data:`EPOCH_LOG_LINES` epoch lines plus the selected one. The
    full per-epoch history is never thinned: it stays in each checkpoint's history.

    Only printing is decided here; nothing in the training computation depends on it.
    """

    def __init__(
        self,
        log: Callable[[str], Any] | None,
        total_epochs: int,
        every: int | None = None,
    ) -> None:
        if every is not None and every < 1:
            raise ValueError(f"every must be >= 1 or None, got {every}")
        self.log = log
        self.total_epochs = int(total_epochs)
        self.every = every if every is not None else log_interval(self.total_epochs)
        self._lines: dict[int, str] = {}  # epoch (1-based) -> its line
        self._shown: set[int] = set()

    def wants(self, epoch: int) -> bool:
        """Whether ``epoch`` (1-based) is printed as soon as it finishes."""
        return not self._lines or epoch % self.every == 0 or epoch >= self.total_epochs

    def epoch(self, epoch: int, line: str) -> None:
        """Record the line of a finished epoch (1-based); print it if it is wanted."""
        wanted = self.wants(epoch)
        self._lines[epoch] = line
        if wanted:
            self._emit(epoch)

    def finish(self, selected: int | None = None) -> None:
        """Print the last trained epoch and the ``selected`` one if not shown yet."""
        if not self._lines:
            return
        for epoch in sorted({max(self._lines), selected} - {None}):
            if epoch in self._lines and epoch not in self._shown:
                self._emit(epoch, " (selected)" if epoch == selected else "")

    def _emit(self, epoch: int, suffix: str = "") -> None:
        self._shown.add(epoch)
        if self.log is not None:
            self.log(self._lines[epoch] + suffix)


def round_up(n: int, multiple: int) -> int:
    """The smallest multiple of ``multiple`` (>= 1) that is >= ``n``: padded
    lengths from a bounded set, so compiled kernels see few distinct shapes."""
    if multiple < 1:
        raise ValueError(f"pad_to_multiple={multiple} must be >= 1")
    return -(-int(n) // int(multiple)) * int(multiple)


def staged_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\n`` line ends, fsynced, mode 0644) to a temporary
    file next to ``path`` and return it: the caller moves it into place with
    ``os.replace`` (several files can be staged first and then committed
    together). The temporary file is removed if writing fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; these are ordinary files
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a reader sees the old file or the new
    one, never a part (:func:`staged_write_text`, then ``os.replace``)."""
    tmp = staged_write_text(path, text)
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks (bundle and weights
    manifests)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_mismatch(path: str | Path, expected: dict, manifest: str) -> str | None:
    """What is wrong with ``path`` against its manifest entry ``expected`` (``bytes``,
    ``sha256``), or None: missing, another size, another hash (bundles and weights)."""
    path = Path(path)
    if not path.is_file():
        return f"{path} is missing (listed in {manifest})"
    size = path.stat().st_size
    if size != expected["bytes"]:
        return f"{path} has {size} bytes; {manifest} says {expected['bytes']}"
    if sha256_file(path) != expected["sha256"]:
        return f"{path} does not match its SHA-256 in {manifest}"
    return None
