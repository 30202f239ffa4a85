"""A claim's verdict, from the 95 % interval of a difference between two systems.

A claim carries its *effect* (signed so that a positive value supports it) and a 95 %
interval; its verdict is ``yes`` (the interval lies on the claimed side of 0),
``inconclusive`` (it contains 0), ``no`` (it lies on the other side) or ``not
tested``. The paper's claims themselves are :mod:`nar_slp.evaluation.claims`.

The interval of a difference a − b combines two sources of noise:

- *test sentences*: the paired sentence bootstrap of :mod:`nar_slp.bootstrap`. When
  both systems carry bootstrap ``"replicates"`` (computed on the same resamples) the
  standard error is that of the replicate differences; otherwise the two standard
  errors are combined as if independent (conservative for positively correlated
  metrics);
- *model seeds*: when a system was trained with several seeds its value is the mean
  over seeds and the seed variance of the mean, sd² / n_seeds, is added.

Half width = 1.96 × √(se_boot² + sd_a²/n_a + sd_b²/n_b) (normal approximation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Z95 = 1.959964

VERDICTS = ("yes", "inconclusive", "no", "not tested")


@dataclass
class Claim:
    """One claim of the paper and how this run judges it.

    ``effect`` is signed so that a positive value supports the claim; ``ci`` is its
    95 % interval. ``verdict`` is one of :data:`VERDICTS`.
    """

    name: str
    evidence: str
    verdict: str
    effect: float | None = None
    ci: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(
                f"Claim verdict must be one of {VERDICTS}, got {self.verdict!r}"
            )

    @property
    def reproduced(self) -> bool | None:
        """True for ``yes``, None for ``not tested``, False otherwise."""
        return {"yes": True, "not tested": None}.get(self.verdict, False)


def verdict_of(lo: float, hi: float) -> str:
    """``yes`` when the interval [lo, hi] of a claim-signed effect is above 0, ``no``
    when below, ``inconclusive`` when it contains 0."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "not tested"
    return "yes" if lo > 0 else "no" if hi < 0 else "inconclusive"


def fmt(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


# ------------------------------------------------------------------------ differences


def entry_of(results: Mapping, system: str, split: str) -> Mapping[str, Any] | None:
    return results.get(system, {}).get(split)


def value_of(entry: Mapping[str, Any], key: str) -> float | None:
    """A metric, or a bin's FGD for keys like ``"intervals/0-50"``."""
    if "/" in key:
        kind, label = key.split("/", 1)
        b = entry.get(kind, {}).get(label)
        return None if b is None else b.get("fgd")
    return entry.get(key)


def _boot(entry: Mapping[str, Any], key: str) -> tuple[float | None, Any]:
    """(bootstrap se, replicates or None) of ``key`` in ``entry``."""
    if "/" in key:
        kind, label = key.split("/", 1)
        b = entry.get(kind, {}).get(label, {})
        return b.get("fgd_se"), b.get("replicates")
    return entry.get("se", {}).get(key), entry.get("replicates", {}).get(key)


def seed_var(entry: Mapping[str, Any], key: str) -> float:
    """sd² / n of the seed mean (0 for a single-seed system)."""
    values = entry.get("seed_values", {}).get(key)
    if values is None or len(values) < 2:
        return 0.0
    v = np.asarray(values, dtype=np.float64)
    return float(v.var(ddof=1) / len(v))


def difference(
    results: Mapping[str, Mapping[str, Mapping[str, Any]]],
    a: str,
    b: str,
    key: str,
    split: str = "test",
) -> tuple[float, float] | None:
    """(a − b, half width of its 95 % interval) for ``results[system][split][key]``;
    None when either system or value is missing. See the module docstring."""
    ea, eb = entry_of(results, a, split), entry_of(results, b, split)
    if ea is None or eb is None:
        return None
    va, vb = value_of(ea, key), value_of(eb, key)
    if va is None or vb is None or not (math.isfinite(va) and math.isfinite(vb)):
        return None
    (se_a, rep_a), (se_b, rep_b) = _boot(ea, key), _boot(eb, key)
    if rep_a is not None and rep_b is not None and len(rep_a) == len(rep_b):
        d = np.asarray(rep_a, dtype=np.float64) - np.asarray(rep_b, dtype=np.float64)
        d = d[np.isfinite(d)]
        boot_var = float(d.var(ddof=1)) if len(d) > 1 else math.nan
    else:
        boot_var = (se_a or 0.0) ** 2 + (se_b or 0.0) ** 2
        if se_a is None and se_b is None:
            boot_var = math.nan
    var = boot_var + seed_var(ea, key) + seed_var(eb, key)
    return va - vb, Z95 * math.sqrt(var) if math.isfinite(var) else math.nan
