"""The evaluation harness: every system in one place, evaluated the same way.

A *system* is anything that turns the test (or dev) inputs into pose sequences: the
ground truth itself, the Mean and Random baselines, our students, and — in later
chapters — Progressive Transformers and NSLP-G. Each system's outputs are written as a
PT-format folder under ``<run>/outputs/<key>/`` so any tool (ours or another
project's) can read them, and a system evaluated here is one more row in Tables 1-3.

Metrics per system and split (paper §5): FGD ×10 (Eq. 12), back-translation BLEU-1..4
and ROUGE-L, DurACC (§5.4), DTW-MJE, and FGD per frame interval / prefix (Table 2),
each with a bootstrap standard error over test sentences (:mod:`nar_slp.bootstrap`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nar_slp.bootstrap import bootstrap_counts, mean_se, se_from_replicates
from nar_slp.config import Config
from nar_slp.data.pt_format import SignSequence, read_split, write_split
from nar_slp.evaluation.back_translation import (
    back_translation_scores,
    bleu_bootstrap,
    rouge_l_per_sentence,
)
from nar_slp.evaluation.fgd import fgd_by_interval, fgd_by_prefix, fgd_report
from nar_slp.evaluation.metrics import dtw_mje_per_sentence, dur_acc, motion_amplitude
from nar_slp.evaluation.tables import (
    GT,
    MEAN,
    OURS_KD,
    OURS_NO_BERT,
    OURS_NO_KD,
    PGM_FLOOR,
    RANDOM,
    Claim,
)

# run/students/<key> -> the row name in the paper's tables
STUDENT_SYSTEMS: dict[str, str] = {
    "kd": OURS_KD,
    "no_kd": OURS_NO_KD,
    "no_bert": OURS_NO_BERT,
}
OUTPUT_KEYS: dict[str, str] = {
    GT: "gt",
    MEAN: "mean",
    RANDOM: "random",
    PGM_FLOOR: "pgm",
    **{v: k for k, v in STUDENT_SYSTEMS.items()},
}


@dataclass
class SystemOutput:
    """One system's generated sequences for one split, aligned with the references."""

    system: str
    poses: list[np.ndarray]  # (T_i, J, K) in PT coordinates
    lengths: np.ndarray  # (N,) frames


def _as_output(system: str, poses: list[np.ndarray]) -> SystemOutput:
    return SystemOutput(system, poses, np.array([len(p) for p in poses]))


def write_outputs(
    run: Path, out: SystemOutput, split: str, refs: Sequence[SignSequence]
) -> Path:
    """Write ``out`` as ``<run>/outputs/<key>/<split>.*`` (PT format, with the
    reference names and texts so the files stay parallel to the test split)."""
    folder = Path(run) / "outputs" / OUTPUT_KEYS.get(out.system, out.system)
    seqs = [
        SignSequence(r.name, r.text, r.gloss, p.astype(np.float32))
        for r, p in zip(refs, out.poses, strict=True)
    ]
    write_split(folder, split, seqs)
    return folder


def read_outputs(folder: str | Path, split: str, system: str) -> SystemOutput:
    """Read another system's generated poses from a PT folder (e.g. a baseline run
    elsewhere) so it can be evaluated as one more row."""
    return _as_output(system, [s.poses for s in read_split(folder, split)])


def generate_systems(
    run: Path,
    splits: Mapping[str, Sequence[SignSequence]],
    train: Sequence[SignSequence],
    vae: Any,
    normaliser: Any,
    eval_splits: Sequence[str] = ("dev", "test"),
    seed: int = 0,
    device: str = "cpu",
    batch_size: int = 64,
) -> dict[str, dict[str, SystemOutput]]:
    """Outputs of GT, Mean, Random, the PGM floor and every trained student under
    ``<run>/students/`` for ``eval_splits``; students not trained yet are absent.

    Mean is given the true lengths (only pose quality is measured); Random returns
    whole training sequences with their own lengths (paper §4.3). The PGM floor
    (:data:`PGM_FLOOR`) decodes the teacher's latents of the ground truth, LGM(y),
    through the frozen PGM: a student that matched the teacher exactly would produce
    these poses, so it bounds what any student can reach through this VAE.
    """
    from nar_slp.inference import generate
    from nar_slp.models.simple_baselines import MeanPoseBaseline, RandomBaseline
    from nar_slp.training.student_trainer import load_student

    mean, rand = MeanPoseBaseline(train), RandomBaseline(train, seed=seed)
    outputs: dict[str, dict[str, SystemOutput]] = {
        GT: {},
        MEAN: {},
        RANDOM: {},
        PGM_FLOOR: {},
    }
    students = {}
    for key, system in STUDENT_SYSTEMS.items():
        directory = Path(run) / "students" / key
        if (directory / "config.json").exists():
            students[system] = load_student(directory, device=device)
            outputs[system] = {}
    for split in eval_splits:
        refs = splits[split]
        true_len = [s.n_frames for s in refs]
        outputs[GT][split] = _as_output(GT, [s.poses for s in refs])
        outputs[MEAN][split] = _as_output(MEAN, mean.generate(len(refs), true_len))
        outputs[RANDOM][split] = _as_output(RANDOM, rand.generate(len(refs)))
        outputs[PGM_FLOOR][split] = _as_output(
            PGM_FLOOR, pgm_reconstruction(vae, normaliser, [s.poses for s in refs])
        )
        for system, model in students.items():
            inputs = [s.gloss if model.input_kind == "gloss" else s.text for s in refs]
            gen = generate(model, vae, normaliser, inputs, batch_size, device=device)
            outputs[system][split] = _as_output(system, gen.poses)
        for per_split in outputs.values():
            write_outputs(run, per_split[split], split, refs)
    return outputs


def pgm_reconstruction(
    vae: Any, normaliser: Any, poses: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """PGM(LGM(y)) of each sequence (T, J, K) in PT coordinates: normalise, take the
    teacher's latent of every frame (the VAE's mean, Eq. 9's Z_pose), decode, map
    back. Same lengths as the input."""
    import torch

    device = next(vae.parameters()).device
    out = []
    with torch.no_grad():
        for p in poses:
            x = torch.from_numpy(normaliser.transform(p, warn=False)).float()
            y = vae.decode(vae.lgm(x.reshape(len(p), -1).to(device)))  # (T, F)
            out.append(normaliser.inverse(y.cpu().numpy().reshape(p.shape)))
    return out


def evaluate_output(
    out: SystemOutput,
    refs: Sequence[SignSequence],
    tae: Any,
    slt: Any,
    normaliser: Any,
    cfg: Config,
    target: str = "text",
    n_boot: int = 200,
    boot_seed: int = 0,
) -> dict[str, Any]:
    """All metrics of one system on one split, with bootstrap standard errors.

    The standard errors resample the N test sentences with replacement ``n_boot``
    times (``np.random.default_rng(boot_seed)``), paired: sentence i brings its
    generated and its reference sequence (and all their FGD windows). Every metric
    uses the same resamples and is recomputed from per-sentence quantities computed
    once (TAE features, BLEU n-gram statistics, ROUGE-L, DurACC hits, DTW-MJE); the
    TAE and the SLT model run once. SE = std over resamples (ddof=1), in the units
    reported (FGD × ``cfg.eval.fgd_scale``, DurACC in %, BLEU/ROUGE × 100).
    ``n_boot=0`` skips the bootstrap (every SE is NaN); point estimates do not
    depend on ``n_boot``.

    Returns ``{"FGD", "BLEU-1".."BLEU-4", "ROUGE", "DurACC", "DTW-MJE", "speed
    ratio", "spread ratio", "signature", "se": {the same metrics}, "intervals":
    {...}, "prefixes": {...}, "hypotheses": [...]}`` (DurACC in %); each bin of
    ``"intervals"`` / ``"prefixes"`` has ``"fgd_se"`` besides ``"fgd"``.
    """
    if len(out.poses) != len(refs):
        raise ValueError(
            f"evaluate_output: {len(out.poses)} outputs but {len(refs)} references"
        )
    ref_poses = [s.poses for s in refs]
    scale = cfg.eval.fgd_scale
    counts = bootstrap_counts(len(refs), n_boot, boot_seed)  # (n_boot, N)
    overall = fgd_report(
        out.poses, ref_poses, tae, normaliser, scale, boot_counts=counts
    )
    res: dict[str, Any] = {"FGD": overall["fgd"]}
    se: dict[str, float] = {"FGD": overall["fgd_se"]}
    references = [s.gloss if target == "gloss" else s.text for s in refs]
    scores, hyps = back_translation_scores(
        slt, out.poses, references, normaliser, cfg.eval.batch_size, cfg.eval.beam_size
    )
    res.update(
        {
            k: scores[k]
            for k in ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE", "signature")
        }
    )
    for key, replicates in bleu_bootstrap(hyps, references, counts).items():
        se[key] = se_from_replicates(replicates)
    se["ROUGE"] = mean_se(100.0 * rouge_l_per_sentence(hyps, references), counts)
    true_len = np.array([s.n_frames for s in refs])
    tolerance = cfg.eval.duracc_tolerance
    res["DurACC"] = 100.0 * dur_acc(out.lengths, true_len, tolerance)
    hits = np.abs(np.asarray(out.lengths) - true_len) < tolerance  # (N,) bool
    se["DurACC"] = mean_se(100.0 * hits, counts)
    dtw = dtw_mje_per_sentence(out.poses, ref_poses)  # (N,) PT units
    res["DTW-MJE"] = float(np.mean(dtw))  # = mean_dtw_mje(out.poses, ref_poses)
    se["DTW-MJE"] = mean_se(dtw, counts)
    # motion amplitude relative to the ground truth: ratio of sentence means, paired
    amp, ref_amp = motion_amplitude(out.poses), motion_amplitude(ref_poses)  # (N, 2)
    for col, name in enumerate(("speed ratio", "spread ratio")):
        res[name] = float(amp[:, col].mean() / ref_amp[:, col].mean())
        replicates = (counts @ amp[:, col]) / (counts @ ref_amp[:, col])  # (n_boot,)
        se[name] = se_from_replicates(replicates)
    res["se"] = se
    res["intervals"] = fgd_by_interval(
        out.poses, ref_poses, tae, normaliser, scale=scale, boot_counts=counts
    )
    res["prefixes"] = fgd_by_prefix(
        out.poses, ref_poses, tae, normaliser, scale=scale, boot_counts=counts
    )
    res["hypotheses"] = hyps
    return res


def _fmt(x: float) -> str:
    return (
        "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"
    )


def paper_claims(
    results: Mapping[str, Mapping[str, Mapping[str, Any]]],
    split: str = "test",
    min_segments: int = 20,
    flat_ratio: float = 1.5,
) -> list[Claim]:
    """The paper's qualitative claims, checked on ``results[system][split]``.

    A claim whose systems were not evaluated is "not tested" (``reproduced=None``).
    "Flat across intervals" means: over the intervals where both sides have at least
    ``min_segments`` windows, the largest interval FGD is at most ``flat_ratio`` times
    the first interval's (AR models, by contrast, degrade with position, Table 2).
    """

    def get(system: str, key: str) -> float | None:
        return results.get(system, {}).get(split, {}).get(key)

    claims: list[Claim] = []
    gt = get(GT, "FGD")
    claims.append(
        Claim(
            "FGD(GT, GT) = 0", f"GT FGD = {_fmt(gt)}", None if gt is None else gt == 0.0
        )
    )

    floor = [v for v in (get(MEAN, "FGD"), get(RANDOM, "FGD")) if v is not None]
    ours = [s for s in STUDENT_SYSTEMS.values() if get(s, "FGD") is not None]
    if floor and ours:
        ev = "; ".join(f"{s} {_fmt(get(s, 'FGD'))}" for s in ours)
        ev += f"; best of Mean/Random {_fmt(min(floor))}"
        claims.append(
            Claim(
                "every model beats Mean and Random on FGD",
                ev,
                all(get(s, "FGD") < min(floor) for s in ours),
            )
        )
    else:
        claims.append(
            Claim("every model beats Mean and Random on FGD", "missing rows", None)
        )

    pgm, rnd = get(PGM_FLOOR, "FGD"), get(RANDOM, "FGD")
    claims.append(
        Claim(
            "calibration: the PGM floor is below Random on FGD (so a student can beat "
            "Random at all)",
            f"FGD: {PGM_FLOOR} {_fmt(pgm)} vs Random {_fmt(rnd)}",
            None if pgm is None or rnd is None else bool(pgm < rnd),
        )
    )

    gt_bleu, mean_bleu = get(GT, "BLEU-4"), get(MEAN, "BLEU-4")
    claims.append(
        Claim(
            "back-translation separates GT from Mean (BLEU-4, GT > 2 x Mean)",
            f"BLEU-4: GT {_fmt(gt_bleu)} vs Mean {_fmt(mean_bleu)}",
            None
            if gt_bleu is None or mean_bleu is None
            else bool(gt_bleu > 2 * mean_bleu),
        )
    )

    def compare(name: str, better: str, worse: str, key: str, lower: bool) -> None:
        a, b = get(better, key), get(worse, key)
        if a is None or b is None:
            claims.append(Claim(name, f"{better} or {worse} not evaluated", None))
            return
        holds = a < b if lower else a > b
        ev = f"{key}: {better} {_fmt(a)} vs {worse} {_fmt(b)}"
        se_a, se_b = get(better, "se"), get(worse, "se")
        if se_a and se_b and key in se_a and key in se_b:
            half = 1.96 * math.hypot(se_a[key], se_b[key])
            ev += f" (difference {_fmt(a - b)} ± {_fmt(half)}, 95 % bootstrap)"
        claims.append(Claim(name, ev, bool(holds)))

    compare("KD beats no-KD on FGD", OURS_KD, OURS_NO_KD, "FGD", lower=True)
    compare("KD beats no-KD on DurACC", OURS_KD, OURS_NO_KD, "DurACC", lower=False)
    compare(
        "KD beats no-KD on back-translation BLEU-4",
        OURS_KD,
        OURS_NO_KD,
        "BLEU-4",
        lower=False,
    )
    compare("BERT beats no-BERT on FGD", OURS_KD, OURS_NO_BERT, "FGD", lower=True)
    compare(
        "BERT beats no-BERT on DurACC", OURS_KD, OURS_NO_BERT, "DurACC", lower=False
    )

    def prefix(system: str) -> float | None:
        bins = get(system, "prefixes")
        return None if bins is None else bins["~20"]["fgd"]

    a, b = prefix(OURS_KD), prefix(OURS_NO_KD)
    claims.append(
        Claim(
            "KD alleviates false decoding initiation (FGD of the first 20 frames)",
            f"~20 FGD: {OURS_KD} {_fmt(a)} vs {OURS_NO_KD} {_fmt(b)}",
            None if a is None or b is None else bool(a < b),
        )
    )

    bins = get(OURS_KD, "intervals")
    if bins is None:
        claims.append(
            Claim(
                "NAR FGD stays flat across length intervals",
                f"{OURS_KD} not evaluated",
                None,
            )
        )
    else:
        usable = [
            (k, v["fgd"])
            for k, v in bins.items()
            if min(v["n_generated"], v["n_reference"]) >= min_segments
        ]
        ev = ", ".join(f"{k}: {_fmt(v)}" for k, v in usable)
        holds = None
        if len(usable) >= 2:
            holds = bool(max(v for _, v in usable) <= flat_ratio * usable[0][1])
        claims.append(
            Claim(
                "NAR FGD stays flat across length intervals",
                f"{OURS_KD} {ev} (max <= {flat_ratio} x first; bins with >= "
                f"{min_segments} windows)",
                holds,
            )
        )
    return claims
