"""The paper's claims, judged from the numbers with their intervals.

A claim compares two systems on one metric ("KD beats no-KD on FGD", §5.3–5.4) or
checks an instrument ("back-translation separates GT from the Mean pose"). Each
carries its *effect* (the difference in the claimed direction's units, e.g. FGD of
the worse system minus the better one's expected sign) and a 95 % interval, and is

- ``yes``          reproduced: the interval lies entirely on the claimed side of 0;
- ``inconclusive`` the interval contains 0 (the data cannot tell);
- ``no``           contradicted: the interval lies entirely on the other side;
- ``not tested``   a system of the claim was not evaluated, or the claim cannot be
                   tested on this corpus (the evidence says why).

Only ``yes`` counts as reproduced (``Claim.reproduced``). How the interval of a
difference combines test sentences and model seeds: :mod:`nar_slp.evaluation.verdicts`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nar_slp.evaluation.verdicts import (
    Z95,
    Claim,
    difference,
    entry_of,
    fmt,
    seed_var,
    value_of,
    verdict_of,
)
from nar_slp.results_table import md_cell
from nar_slp.systems import (
    BASELINE_ROWS,
    GT,
    MEAN,
    OURS_KD,
    OURS_NO_BERT,
    OURS_NO_KD,
    PGM_FLOOR,
    RANDOM,
    REAL_FLOOR,
)
from nar_slp.utils import atomic_write_text


def compare(
    results: Mapping,
    name: str,
    better: str,
    worse: str,
    key: str,
    lower_is_better: bool,
    split: str = "test",
) -> Claim:
    """Claim "``better`` beats ``worse`` on ``key``", judged by :func:`difference`."""
    diff = difference(results, better, worse, key, split)
    if diff is None:
        return Claim(name, f"{better} or {worse} not evaluated", "not tested")
    d, half = diff
    effect = -d if lower_is_better else d  # > 0 supports the claim
    lo, hi = effect - half, effect + half
    va = value_of(entry_of(results, better, split), key)
    vb = value_of(entry_of(results, worse, split), key)
    n_seeds = max(
        len(entry_of(results, s, split).get("seed_values", {}).get(key, [0]))
        for s in (better, worse)
    )
    sign = "lower" if lower_is_better else "higher"
    evidence = (
        f"{key} ({sign} is better): {better} {fmt(va)} vs {worse} {fmt(vb)}; "
        f"effect {fmt(effect)}, 95 % interval [{fmt(lo)}, {fmt(hi)}]"
        + (f" (test-sentence bootstrap + {n_seeds} seeds)" if n_seeds > 1 else "")
    )
    return Claim(name, evidence, verdict_of(lo, hi), effect, (lo, hi))


# ------------------------------------------------------------------------------- io


def claims_markdown(claims: Sequence[Claim]) -> str:
    lines = [
        "| Claim | Effect [95 % interval] | Verdict | Evidence |",
        "|:---|---:|:---|:---|",
    ]
    for c in claims:
        eff = (
            "—"
            if c.effect is None or c.ci is None
            else f"{fmt(c.effect)} [{fmt(c.ci[0])}, {fmt(c.ci[1])}]"
        )
        lines.append(
            f"| {md_cell(c.name)} | {eff} | {c.verdict} | {md_cell(c.evidence)} |"
        )
    return "\n".join(lines) + "\n"


def write_claims(
    claims: Sequence[Claim], csv_path: str | Path, md_path: str | Path | None = None
) -> None:
    """``claims.csv`` (name, effect, ci_low, ci_high, verdict, evidence) and, if
    ``md_path`` is given, the same as a Markdown table."""
    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "effect", "ci_low", "ci_high", "verdict", "evidence"])
        for c in claims:
            lo, hi = c.ci if c.ci is not None else (None, None)
            writer.writerow(
                [c.name]
                + ["" if v is None else repr(float(v)) for v in (c.effect, lo, hi)]
                + [c.verdict, c.evidence]
            )
    if md_path is not None:
        Path(md_path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(md_path, claims_markdown(claims))


def read_claims(csv_path: str | Path) -> list[Claim]:
    """Inverse of :func:`write_claims`'s CSV."""
    out = []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for lineno, r in enumerate(csv.DictReader(fh), start=2):
            try:
                num = [
                    None if r[k] == "" else float(r[k])
                    for k in ("effect", "ci_low", "ci_high")
                ]
                ci = None if num[1] is None else (num[1], num[2])
                out.append(Claim(r["name"], r["evidence"], r["verdict"], num[0], ci))
            except (KeyError, ValueError) as err:
                raise ValueError(f"{csv_path}: line {lineno}: {err}") from None
    return out


# ------------------------------------------------------------------- the paper's claims


def all_of(name: str, parts: Sequence[Claim]) -> Claim:
    """A claim about several systems ("every model ..."): ``yes`` when every part is,
    ``no`` when any part is contradicted, ``not tested`` when no part was tested."""
    tested = [p for p in parts if p.verdict != "not tested"]
    if not tested:
        return Claim(
            name, "; ".join(p.evidence for p in parts) or "no systems", "not tested"
        )
    verdicts = {p.verdict for p in tested}
    verdict = (
        "no" if "no" in verdicts else "yes" if verdicts == {"yes"} else "inconclusive"
    )
    worst = min(tested, key=lambda p: p.ci[0] if p.ci else math.inf)
    evidence = " | ".join(p.evidence for p in tested)
    return Claim(name, evidence, verdict, worst.effect, worst.ci)


def _ratio_claim(
    results: Mapping, name: str, a: str, b: str, key: str, ratio: float, split: str
) -> Claim:
    """``a`` ≥ ``ratio`` × ``b`` on ``key``: effect a − ratio·b, independent bootstrap
    standard errors (the two systems are read by the same model, so this is
    conservative)."""
    ea, eb = entry_of(results, a, split), entry_of(results, b, split)
    if ea is None or eb is None or ea.get(key) is None or eb.get(key) is None:
        return Claim(name, f"{a} or {b} not evaluated", "not tested")
    va, vb = ea[key], eb[key]
    se_a, se_b = (
        ea.get("se", {}).get(key, math.nan),
        eb.get("se", {}).get(key, math.nan),
    )
    effect = va - ratio * vb
    half = Z95 * math.hypot(se_a, ratio * se_b)
    lo, hi = effect - half, effect + half
    ev = (
        f"{key}: {a} {fmt(va)} vs {b} {fmt(vb)} (ratio "
        f"{fmt(va / vb if vb else math.inf, 2)}; needs >= {ratio}); effect "
        f"{a} - {ratio} x {b} = {fmt(effect)}, 95 % interval [{fmt(lo)}, {fmt(hi)}]"
    )
    return Claim(name, ev, verdict_of(lo, hi), effect, (lo, hi))


def _rise(results: Mapping, system: str, split: str) -> tuple[float, float, str] | None:
    """FGD(last scored interval) − FGD(first interval) of ``system`` and the half width
    of its 95 % interval (independent bins), with the interval labels."""
    entry = entry_of(results, system, split)
    if entry is None:
        return None
    bins = [
        (k, b)
        for k, b in entry.get("intervals", {}).items()
        if b.get("fgd") is not None and math.isfinite(b["fgd"])
    ]
    if len(bins) < 2:
        return None
    (k0, first), (k1, last) = bins[0], bins[-1]
    var = sum(seed_var(entry, f"intervals/{k}") for k in (k0, k1))
    var += (first.get("fgd_se") or 0.0) ** 2 + (last.get("fgd_se") or 0.0) ** 2
    return last["fgd"] - first["fgd"], Z95 * math.sqrt(var), f"{k1} minus {k0}"


def _error_propagation(results: Mapping, ar: str, nar: str, split: str) -> Claim:
    name = f"error propagation: {ar}'s FGD rises with length more than {nar}'s"
    ra, rn = _rise(results, ar, split), _rise(results, nar, split)
    if ra is None or rn is None:
        return Claim(name, f"{ar} or {nar} lacks two scored intervals", "not tested")
    effect, half = ra[0] - rn[0], math.hypot(ra[1], rn[1])
    lo, hi = effect - half, effect + half
    ev = (
        f"FGD rise ({ra[2]}): {ar} {fmt(ra[0])}, {nar} {fmt(rn[0])}; effect "
        f"{fmt(effect)}, 95 % interval [{fmt(lo)}, {fmt(hi)}]"
    )
    return Claim(name, ev, verdict_of(lo, hi), effect, (lo, hi))


def paper_claims(
    results: Mapping[str, Mapping[str, Mapping[str, Any]]],
    split: str = "test",
    bt_ratio: float = 2.5,
) -> list[Claim]:
    """The paper's claims (§5) and the instrument checks they rest on, judged on
    ``results[system][split]`` as described in the module docstring.

    ``results[system][split]`` holds metric values, ``"se"`` (bootstrap standard
    errors), optionally ``"replicates"`` and, for systems trained with several seeds,
    ``"seed_values"`` (per-seed values of each metric); ``"intervals"`` /
    ``"prefixes"`` hold the per-bin FGD dicts of :mod:`nar_slp.evaluation.fgd_bins`.
    """

    def val(system: str, key: str) -> float | None:
        e = entry_of(results, system, split)
        return None if e is None else value_of(e, key)

    claims: list[Claim] = []
    gt = val(GT, "FGD")
    claims.append(
        Claim(
            "sanity: FGD(GT, GT) = 0",
            f"GT FGD = {fmt(gt)}",
            "not tested" if gt is None else "yes" if gt == 0.0 else "no",
        )
    )
    # Instruments. Random replays real training motion, so on FGD it sits at the
    # real-data floor; a student decoded by the PGM cannot go below the PGM floor.
    calib = compare(
        results,
        "calibration: the PGM floor is below Random on FGD (a student can beat Random)",
        PGM_FLOOR,
        RANDOM,
        "FGD",
        lower_is_better=True,
        split=split,
    )
    floor = val(REAL_FLOOR, "FGD")
    if floor is not None:
        calib.evidence += f"; real-vs-real floor {fmt(floor)}"
    claims.append(calib)
    claims.append(
        _ratio_claim(
            results,
            "instrument: back-translation reads signing "
            f"(GT BLEU-4 >= {bt_ratio} x Mean)",
            GT,
            MEAN,
            "BLEU-4",
            bt_ratio,
            split,
        )
    )

    ours = [OURS_KD, OURS_NO_KD, OURS_NO_BERT]
    baselines = [s for s in BASELINE_ROWS if entry_of(results, s, split) is not None]
    models = [s for s in ours + baselines if entry_of(results, s, split) is not None]
    claims.append(
        all_of(
            "every model beats Mean on FGD",
            [compare(results, "", s, MEAN, "FGD", True, split) for s in models],
        )
    )
    name = "every model beats Random on FGD"
    if calib.verdict == "yes":
        claims.append(
            all_of(
                name,
                [compare(results, "", s, RANDOM, "FGD", True, split) for s in models],
            )
        )
    else:
        claims.append(
            Claim(
                name,
                "not testable on this corpus: Random is real signing of the wrong "
                "sentence and scores at the real-data floor, below the PGM floor that "
                f"bounds every decoded model ({calib.evidence})",
                "not tested",
            )
        )

    for key, lower in (("FGD", True), ("DurACC", False), ("BLEU-4", False)):
        claims.append(
            compare(
                results,
                f"KD beats no-KD on {key}",
                OURS_KD,
                OURS_NO_KD,
                key,
                lower,
                split,
            )
        )
    for key, lower in (("FGD", True), ("DurACC", False)):
        claims.append(
            compare(
                results,
                f"BERT beats no-BERT on {key}",
                OURS_KD,
                OURS_NO_BERT,
                key,
                lower,
                split,
            )
        )
    claims.append(
        compare(
            results,
            "KD alleviates false decoding initiation (FGD of the first 20 frames)",
            OURS_KD,
            OURS_NO_KD,
            "prefixes/~20",
            True,
            split,
        )
    )
    # Against the baselines of chapter 04 (not tested when they were not run).
    pt = [s for s in BASELINE_ROWS if s.startswith("PT")]
    nslpg = [s for s in BASELINE_ROWS if s.startswith("NSLP-G")]
    for group, rows in (("Progressive Transformers", pt), ("NSLP-G", nslpg)):
        for key, lower in (("FGD", True), ("BLEU-4", False)):
            claims.append(
                all_of(
                    f"ours beats {group} on {key}",
                    [compare(results, "", OURS_KD, s, key, lower, split) for s in rows],
                )
            )
    claims.append(
        all_of(
            "NSLP-G suffers false decoding initiation: ours is better on the first 20 "
            "frames",
            [
                compare(results, "", OURS_KD, s, "prefixes/~20", True, split)
                for s in nslpg
            ],
        )
    )
    claims.append(
        all_of(
            "error propagation in PT",
            [_error_propagation(results, s, OURS_KD, split) for s in pt],
        )
    )
    return claims
