"""Systems trained with several model seeds: one row, the mean over seeds.

Chapter 03 trains each student of the paper's claims (w/ KD, w/o KD, w/o BERT) with
several seeds; chapter 05 evaluates every seed the same way
(:func:`nar_slp.evaluation.harness.evaluate_output`) and this module merges them:

- every metric is the **mean over seeds**, and ``"sd"`` holds its standard deviation
  over seeds (``ddof=1``) — the tables show "mean ± sd";
- ``"seed_values"`` keeps the per-seed values, from which the claims add the seed
  variance of the mean (sd² / n) to their intervals (:mod:`nar_slp.evaluation.claims`);
- ``"se"`` / ``"replicates"`` / ``"ci"`` describe *test-sentence* noise: every seed is
  scored with the same bootstrap resamples, so the mean over seeds of the replicates is
  a bootstrap replicate of the seed-mean metric; ``se`` and the percentile ``ci`` are
  recomputed from those averaged replicates (when present; else ``se`` is the mean
  of the seeds' standard errors).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nar_slp.bootstrap import se_from_replicates


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)


def _mean(values: Sequence[float]) -> float:
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()) if np.all(np.isfinite(v)) else math.nan


def _sd(values: Sequence[float]) -> float:
    v = np.asarray(values, dtype=np.float64)
    return float(v.std(ddof=1)) if len(v) > 1 and np.all(np.isfinite(v)) else math.nan


def _percentile_ci(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    r = replicates[np.isfinite(replicates)]
    if len(r) < 2:
        return math.nan, math.nan
    a = (1.0 - level) / 2.0
    return float(np.quantile(r, a)), float(np.quantile(r, 1.0 - a))


def _merge_bins(per_seed: Sequence[Mapping[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Per-bin FGD dicts (intervals / prefixes) of several seeds -> one dict per bin
    with the mean of every numeric field and ``seed_values`` of ``fgd``."""
    out: dict[str, Any] = {}
    for label, first in per_seed[0].items():
        bins = [p[label] for p in per_seed if label in p]
        merged = dict(first)
        for key, v in first.items():
            if _is_number(v) and key != "start" and key != "stop":
                merged[key] = _mean([b[key] for b in bins])
        merged["seed_values"] = [b.get("fgd") for b in bins]
        merged["fgd_sd"] = _sd(merged["seed_values"])
        if all("replicates" in b for b in bins):
            reps = np.mean([np.asarray(b["replicates"], float) for b in bins], axis=0)
            merged["replicates"] = reps
            merged["fgd_se"] = se_from_replicates(reps)
        out[label] = merged
    return out


def aggregate_seeds(per_seed: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge the results of one system on one split over seeds (see module doc).

    Args:
        per_seed: one :func:`evaluate_output` result per seed (same split, same
            references, same bootstrap resamples).

    Returns:
        A result of the same form with means, plus ``"sd"`` {metric: sd over seeds},
        ``"seed_values"`` {metric: [per-seed values]} and ``"n_seeds"``. Non-numeric
        entries (hypotheses, the BLEU signature) are those of the first seed.
    """
    if not per_seed:
        raise ValueError("aggregate_seeds: no seeds given")
    first = per_seed[0]
    if len(per_seed) == 1:
        return {**first, "n_seeds": 1}
    out: dict[str, Any] = dict(first)
    metrics = [k for k, v in first.items() if _is_number(v)]
    out["seed_values"] = {k: [float(r[k]) for r in per_seed] for k in metrics}
    out["sd"] = {k: _sd(out["seed_values"][k]) for k in metrics}
    for k in metrics:
        out[k] = _mean(out["seed_values"][k])
    se = {k: _mean([r["se"][k] for r in per_seed]) for k in first.get("se", {})}
    if all("replicates" in r for r in per_seed):
        reps = {
            k: np.mean(
                [np.asarray(r["replicates"][k], float) for r in per_seed], axis=0
            )
            for k in first["replicates"]
        }
        out["replicates"] = reps
        se.update({k: se_from_replicates(v) for k, v in reps.items()})
        out["ci"] = {k: _percentile_ci(v) for k, v in reps.items()}
    out["se"] = se
    for kind in ("intervals", "prefixes"):
        if kind in first:
            out[kind] = _merge_bins([r[kind] for r in per_seed])
            for label, b in out[kind].items():
                out["seed_values"][f"{kind}/{label}"] = b["seed_values"]
    out["n_seeds"] = len(per_seed)
    return out


def seed_sd(
    results: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> dict[str, dict[str, dict[str, float]]]:
    """``results[system][split]["sd"]`` of the systems that have one (several seeds),
    in the nested form the table builders take."""
    return {
        s: {sp: r["sd"] for sp, r in per.items() if "sd" in r}
        for s, per in results.items()
        if any("sd" in r for r in per.values())
    }


def nested(
    results: Mapping[str, Mapping[str, Mapping[str, Any]]], key: str
) -> dict[str, dict[str, Any]]:
    """``results[system][split][key]`` (e.g. ``"se"``) in the nested
    ``{system: {split: ...}}`` form the table builders take; ``{}`` where missing."""
    return {
        s: {sp: r.get(key, {}) for sp, r in per.items()} for s, per in results.items()
    }


def merge_seed_labels(
    per_label: Mapping[str, Mapping[str, Mapping[str, Any]]],
    row_of: Any,
) -> dict[str, dict[str, Any]]:
    """``per_label[label][split]`` results of every system label (one per seed of a
    seeded system) -> ``results[row][split]``: labels that ``row_of`` maps to the same
    row are merged with :func:`aggregate_seeds`, in label order."""
    rows: dict[str, list[str]] = {}
    for label in per_label:
        rows.setdefault(row_of(label), []).append(label)
    return {
        row: {
            split: aggregate_seeds([per_label[lab][split] for lab in labels])
            for split in per_label[labels[0]]
        }
        for row, labels in rows.items()
    }
