"""Per-value min-max normalisation of poses into [0, 1].

The pose VAE ends in a sigmoid and is trained with binary cross-entropy (§3.4, Eq. 7),
so its targets must lie in [0, 1]. :class:`Normaliser` is fitted on the training split
only: for each of the F = J * K = 150 joint coordinates it takes the minimum and maximum
over all training frames and widens that interval by ``margin`` (5 % of the range on
each side by default) so that unseen poses rarely fall outside it:

    lo = min - margin * (max - min),   scale = (max - min) * (1 + 2 * margin)
    transform(x) = clip((x - lo) / scale, 0, 1),   inverse(y) = y * scale + lo

Coordinates whose training range is (near-)zero, such as the neck, which is the origin
of PT data, would otherwise divide by ~0; they get the fixed scale ``degenerate_scale``
(in data units) centred on their constant value, so they map to 0.5.

Values that land outside [0, 1] are clipped, never wrapped, and counted: see
``last_clip_count`` / ``clip_count`` and the ``return_count`` argument of
:meth:`Normaliser.transform`; a warning reports the count.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from nar_slp.utils import atomic_write_text

FORMAT_NAME = "nar_slp.normaliser"
FORMAT_VERSION = 1

ArrayLike = TypeVar("ArrayLike", np.ndarray, torch.Tensor)


class NormaliserFileError(ValueError):
    """A normaliser JSON file is missing, malformed or inconsistent (names the file)."""


class Normaliser:
    """Fitted per-coordinate min-max scaling into [0, 1] (see the module docstring).

    Build one with :meth:`fit` or :meth:`load`. Arrays passed to :meth:`transform` and
    :meth:`inverse` may be numpy arrays or torch tensors shaped ``(..., J, K)`` (as the
    fit data) or flattened ``(..., J * K)``; the result has the input's type, shape and
    device (numpy integer input becomes float32).
    """

    def __init__(
        self,
        data_min: np.ndarray,
        data_max: np.ndarray,
        margin: float = 0.05,
        min_range: float = 1e-6,
        degenerate_scale: float = 1.0,
        n_frames: int = 0,
    ) -> None:
        """Args:
        data_min, data_max: per-value minimum and maximum over the training frames,
            shape (J, K) (any shape; the trailing dims of inputs must match it).
        margin: fraction of the range added on each side.
        min_range: ranges at or below this (data units) count as degenerate.
        degenerate_scale: the fixed scale (data units) used for degenerate values.
        n_frames: how many frames the statistics came from (informational).
        """
        data_min = np.asarray(data_min, dtype=np.float64)
        data_max = np.asarray(data_max, dtype=np.float64)
        if data_min.shape != data_max.shape or data_min.ndim == 0:
            raise ValueError(
                f"data_min {data_min.shape} and data_max {data_max.shape} must have "
                "the same, non-scalar shape"
            )
        if not (np.isfinite(data_min).all() and np.isfinite(data_max).all()):
            raise ValueError("data_min/data_max must be finite")
        if (data_max < data_min).any():
            raise ValueError("data_max must be >= data_min everywhere")
        if not margin >= 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        if not min_range >= 0:
            raise ValueError(f"min_range must be >= 0, got {min_range}")
        if not degenerate_scale > 0:
            raise ValueError(f"degenerate_scale must be > 0, got {degenerate_scale}")
        self.data_min = data_min
        self.data_max = data_max
        self.margin = float(margin)
        self.min_range = float(min_range)
        self.degenerate_scale = float(degenerate_scale)
        self.n_frames = int(n_frames)

        span = data_max - data_min
        self.degenerate = span <= self.min_range  # (J, K) bool
        centre = (data_min + data_max) / 2
        scale = span * (1 + 2 * self.margin)
        lo = data_min - self.margin * span
        self.scale = np.where(self.degenerate, self.degenerate_scale, scale)  # (J, K)
        self.lo = np.where(self.degenerate, centre - self.degenerate_scale / 2, lo)
        self.clip_count = 0  # values clipped by transform() since fit/load
        self.last_clip_count = 0  # ... by the most recent transform() call
        self._torch_cache: dict[tuple[Any, ...], tuple[torch.Tensor, torch.Tensor]] = {}

    # ------------------------------------------------------------------ fitting

    @classmethod
    def fit(
        cls,
        seqs: Iterable[Any],
        margin: float = 0.05,
        min_range: float = 1e-6,
        degenerate_scale: float = 1.0,
    ) -> Normaliser:
        """Fit on training sequences: arrays (T, J, K) or objects with ``.poses``.

        Statistics are accumulated sequence by sequence, so memory stays O(J * K).
        """
        data_min = data_max = None
        n_frames = 0
        for i, seq in enumerate(seqs):
            poses = np.asarray(getattr(seq, "poses", seq), dtype=np.float64)
            if poses.ndim < 2 or poses.shape[0] == 0:
                raise ValueError(
                    f"fit: sequence {i} must be (T, ...) with T >= 1, "
                    f"got shape {poses.shape}"
                )
            if not np.isfinite(poses).all():
                raise ValueError(f"fit: sequence {i} contains NaN or inf")
            if data_min is None:
                data_min, data_max = poses.min(axis=0), poses.max(axis=0)
            elif poses.shape[1:] != data_min.shape:
                raise ValueError(
                    f"fit: sequence {i} has frame shape {poses.shape[1:]}, "
                    f"earlier sequences {data_min.shape}"
                )
            else:
                data_min = np.minimum(data_min, poses.min(axis=0))
                data_max = np.maximum(data_max, poses.max(axis=0))
            n_frames += poses.shape[0]
        if data_min is None:
            raise ValueError("fit: no sequences given")
        return cls(data_min, data_max, margin, min_range, degenerate_scale, n_frames)

    # ------------------------------------------------------------------ mapping

    @property
    def shape(self) -> tuple[int, ...]:
        """The per-frame shape the statistics were fitted on, e.g. (50, 3)."""
        return tuple(self.data_min.shape)

    def _stats_for(self, x: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(lo, scale) broadcastable to ``x``: per-frame shape or its flattening."""
        nd = len(self.shape)
        if tuple(x.shape[-nd:]) == self.shape:
            return self.lo, self.scale
        flat = int(np.prod(self.shape))
        if x.shape and x.shape[-1] == flat:
            return self.lo.reshape(flat), self.scale.reshape(flat)
        raise ValueError(
            f"poses of shape {tuple(x.shape)} do not end in the fitted frame shape "
            f"{self.shape} or its flattening ({flat},)"
        )

    def _torch_stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lo, scale = self._stats_for(x)
        key = (lo.shape, x.device, x.dtype)
        if key not in self._torch_cache:
            self._torch_cache[key] = (
                torch.as_tensor(lo, dtype=x.dtype, device=x.device),
                torch.as_tensor(scale, dtype=x.dtype, device=x.device),
            )
        return self._torch_cache[key]

    def transform(
        self, poses: ArrayLike, *, warn: bool = True, return_count: bool = False
    ) -> ArrayLike | tuple[ArrayLike, int]:
        """Map poses into [0, 1]; out-of-range values are clipped and counted.

        Args:
            poses: (..., J, K) or (..., J * K) numpy array or torch tensor.
            warn: issue a ``UserWarning`` with the count when values were clipped.
            return_count: also return the number of clipped values.

        Returns:
            The normalised poses (same shape and type), or ``(poses, n_clipped)``.
        """
        if isinstance(poses, torch.Tensor):
            if not poses.is_floating_point():
                poses = poses.float()
            if not torch.isfinite(poses).all():
                raise ValueError("transform: poses contain NaN or inf")
            lo, scale = self._torch_stats(poses)
            y = (poses - lo) / scale
            n = int(((y < 0) | (y > 1)).sum())
            y = y.clamp(0.0, 1.0)
        else:
            x = np.asarray(poses)
            out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
            x = x.astype(np.float64, copy=False)
            if not np.isfinite(x).all():
                raise ValueError("transform: poses contain NaN or inf")
            lo, scale = self._stats_for(x)
            y = (x - lo) / scale
            n = int(np.count_nonzero((y < 0) | (y > 1)))
            y = np.clip(y, 0.0, 1.0).astype(out_dtype, copy=False)
        self.last_clip_count = n
        self.clip_count += n
        if n and warn:
            warnings.warn(
                f"Normaliser.transform clipped {n} of {int(np.prod(y.shape))} values "
                "outside the fitted range (margin "
                f"{self.margin:g}) to [0, 1]",
                stacklevel=2,
            )
        return (y, n) if return_count else y

    def inverse(self, normalised: ArrayLike) -> ArrayLike:
        """Map normalised values back to PT coordinates: ``y * scale + lo``.

        Exact inverse of :meth:`transform` for values inside the fitted range (to the
        input dtype's precision). Values outside [0, 1] are extrapolated, not clipped.
        """
        if isinstance(normalised, torch.Tensor):
            if not normalised.is_floating_point():
                normalised = normalised.float()
            lo, scale = self._torch_stats(normalised)
            return normalised * scale + lo
        y = np.asarray(normalised)
        out_dtype = y.dtype if np.issubdtype(y.dtype, np.floating) else np.float32
        lo, scale = self._stats_for(y)
        return (y.astype(np.float64, copy=False) * scale + lo).astype(
            out_dtype, copy=False
        )

    # ------------------------------------------------------------------ io

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fitted state (floats round-trip exactly through ``json``)."""
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "shape": list(self.shape),
            "n_frames": self.n_frames,
            "margin": self.margin,
            "min_range": self.min_range,
            "degenerate_scale": self.degenerate_scale,
            "data_min": self.data_min.tolist(),
            "data_max": self.data_max.tolist(),
        }

    def save(self, path: str | Path) -> Path:
        """Write the fitted state as human-readable JSON, atomically."""
        path = Path(path)
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Normaliser:
        """Read a file written by :meth:`save`.

        Raises:
            NormaliserFileError: missing file, invalid JSON, wrong format or version,
                missing keys, or inconsistent statistics; the message names the file.
        """
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NormaliserFileError(f"{path}: normaliser file not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise NormaliserFileError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(d, dict) or d.get("format") != FORMAT_NAME:
            raise NormaliserFileError(
                f'{path}: not a normaliser file (expected "format": "{FORMAT_NAME}")'
            )
        if d.get("version") != FORMAT_VERSION:
            raise NormaliserFileError(
                f"{path}: unsupported version {d.get('version')!r} "
                f"(this code reads version {FORMAT_VERSION})"
            )
        keys = ("shape", "margin", "min_range", "degenerate_scale")
        missing = [k for k in keys + ("data_min", "data_max") if k not in d]
        if missing:
            raise NormaliserFileError(f"{path}: missing keys {missing}")
        try:
            shape = tuple(int(s) for s in d["shape"])
            data_min = np.array(d["data_min"], dtype=np.float64)
            data_max = np.array(d["data_max"], dtype=np.float64)
            if data_min.shape != shape or data_max.shape != shape:
                raise ValueError(
                    f"data_min {data_min.shape} / data_max {data_max.shape} do not "
                    f"match shape {shape}"
                )
            return cls(
                data_min,
                data_max,
                margin=float(d["margin"]),
                min_range=float(d["min_range"]),
                degenerate_scale=float(d["degenerate_scale"]),
                n_frames=int(d.get("n_frames", 0)),
            )
        except (TypeError, ValueError) as exc:
            msg = f"{path}: invalid normaliser stats: {exc}"
            raise NormaliserFileError(msg) from None

    def __repr__(self) -> str:
        return (
            f"Normaliser(shape={self.shape}, n_frames={self.n_frames}, "
            f"margin={self.margin:g}, degenerate={int(self.degenerate.sum())})"
        )
