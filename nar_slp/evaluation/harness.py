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
from pathlib import Path
from typing import Any

import numpy as np

from nar_slp.bootstrap import (
    bootstrap_counts,
    mean_replicates,
    mean_se,
    percentile_interval,
    se_from_replicates,
)
from nar_slp.config import Config
from nar_slp.data.pt_format import SignSequence, read_split, write_split
from nar_slp.evaluation.back_translation import (
    back_translation_scores,
    bleu_bootstrap,
    rouge_l_per_sentence,
)
from nar_slp.evaluation.fgd import fgd_report
from nar_slp.evaluation.fgd_bins import (
    DEFAULT_INTERVALS,
    MIN_WINDOWS_FACTOR,
    common_window_counts,
    fgd_by_interval,
    fgd_by_prefix,
)
from nar_slp.evaluation.metrics import dtw_mje_per_sentence, dur_acc, motion_amplitude
from nar_slp.evaluation.tables import TABLE2_PREFIXES
from nar_slp.inference import Generation
from nar_slp.models.simple_baselines import MeanPoseBaseline, RandomBaseline
from nar_slp.models.student import load_student
from nar_slp.registry import LoadedSystem, generate, system
from nar_slp.students import SEED_PREFIX, STUDENT_VARIANTS, student_dirs
from nar_slp.systems import (
    BASELINE_SYSTEMS,
    GT,
    MEAN,
    ORACLE_SYSTEMS,
    PGM_FLOOR,
    RANDOM,
    REAL_FLOOR,
)

# Outputs of the baselines of chapter 04 (<run>/outputs/<key>/), main and oracle rows.
BASELINE_OUTPUTS: dict[str, str] = {**BASELINE_SYSTEMS, **ORACLE_SYSTEMS}
OUTPUT_KEYS: dict[str, str] = {
    GT: "gt",
    REAL_FLOOR: "real_floor",
    MEAN: "mean",
    RANDOM: "random",
    PGM_FLOOR: "pgm",
    **{v.row: v.key for v in STUDENT_VARIANTS.values()},
    **{row: key for key, row in BASELINE_OUTPUTS.items()},
}
# A student trained with several seeds is generated and evaluated once per seed, as
# "<row> #seed<s>"; seeds.aggregate_seeds merges them back into one row.
SEED_SEP = " #seed"


def _as_output(system: str, poses: list[np.ndarray]) -> Generation:
    """Poses that no model generated (the ground truth, the floors, the simple
    baselines, outputs read back) as ``system``'s :class:`Generation`."""
    return Generation(poses, np.array([len(p) for p in poses]), system=system)


def write_outputs(
    run: Path, out: Generation, split: str, refs: Sequence[SignSequence]
) -> Path:
    """Write ``out`` as ``<run>/outputs/<key>/<split>.*`` (PT format, with the
    reference names and texts so the files stay parallel to the test split)."""
    if not out.system:
        raise ValueError("write_outputs: label the generation first, gen.of(system)")
    row = row_of(out.system)
    key = OUTPUT_KEYS.get(row, row)
    if row != out.system:  # one seed of a seeded system
        key += f"-seed{out.system.split(SEED_SEP, 1)[1]}"
    folder = Path(run) / "outputs" / key
    seqs = [
        SignSequence(r.name, r.text, r.gloss, p.astype(np.float32))
        for r, p in zip(refs, out.poses, strict=True)
    ]
    write_split(folder, split, seqs)
    return folder


def read_outputs(folder: str | Path, split: str, system: str) -> Generation:
    """Read another system's generated poses from a PT folder (e.g. a baseline run
    elsewhere) so it can be evaluated as one more row."""
    return _as_output(system, [s.poses for s in read_split(folder, split)])


def seed_label(row: str, seed: int) -> str:
    """The label of one seed of a seeded system: ``"Ours (w/ KD) #seed0"``."""
    return f"{row}{SEED_SEP}{seed}"


def row_of(label: str) -> str:
    """The table row of a system label (a seed label's row, else the label)."""
    return label.split(SEED_SEP, 1)[0]


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
) -> dict[str, dict[str, Generation]]:
    """Outputs of every system available in ``run`` for ``eval_splits``, keyed by
    system label (a row name, or :func:`seed_label` for each seed of a student).

    - GT; the **real-vs-real floor** (:data:`REAL_FLOOR`): the ground truth of the
      *other* split, scored against this split's references — what two independent
      samples of real signing get (only its FGD / KID are meaningful; the first
      min(N_dev, N_test) sequences of both are used when the splits differ in size);
    - Mean (the mean training pose at the true lengths: only pose quality is
      measured) and Random (a whole training sequence with its own length, paper
      §4.3: real signing of the wrong sentence);
    - the **PGM floor** (:data:`PGM_FLOOR`): the teacher's latents of the ground
      truth, LGM(y), decoded by the frozen PGM — what a student that matched its
      teacher exactly would produce;
    - every seed of every student trained by chapter 03 (``nar_slp.students``);
    - every baseline of chapter 04 whose outputs are under ``<run>/outputs/<key>/``
      (:data:`BASELINE_OUTPUTS`), read back rather than regenerated.

    Generated outputs are written under ``<run>/outputs/`` in PT format.
    """
    mean, rand = MeanPoseBaseline(train), RandomBaseline(train, seed=seed)
    outputs: dict[str, dict[str, Generation]] = {
        GT: {},
        REAL_FLOOR: {},
        MEAN: {},
        RANDOM: {},
        PGM_FLOOR: {},
    }
    students = {}
    for key, folders in student_dirs(run).items():
        row = STUDENT_VARIANTS[key].row
        for folder in folders:
            seed_of = folder.name.removeprefix(SEED_PREFIX)
            label = (
                seed_label(row, int(seed_of)) if seed_of.lstrip("-").isdigit() else row
            )
            model = load_student(folder, device=device)
            students[label] = LoadedSystem(system(key), model, vae, normaliser, folder)
            outputs[label] = {}
    other = {"dev": "test", "test": "dev"}
    for split in eval_splits:
        refs = splits[split]
        true_len = [s.n_frames for s in refs]
        outputs[GT][split] = _as_output(GT, [s.poses for s in refs])
        if other.get(split) in splits:
            n = min(len(refs), len(splits[other[split]]))
            floor = [s.poses for s in splits[other[split]][:n]]
            outputs[REAL_FLOOR][split] = _as_output(REAL_FLOOR, floor)
        outputs[MEAN][split] = _as_output(MEAN, mean.generate(len(refs), true_len))
        outputs[RANDOM][split] = _as_output(RANDOM, rand.generate(len(refs)))
        outputs[PGM_FLOOR][split] = _as_output(
            PGM_FLOOR, pgm_reconstruction(vae, normaliser, [s.poses for s in refs])
        )
        for label, loaded in students.items():
            gloss = loaded.model.input_kind == "gloss"
            inputs = [s.gloss if gloss else s.text for s in refs]
            gen = generate(loaded, inputs, batch_size=batch_size)  # the registry's
            outputs[label][split] = gen.of(label)
        for label, per_split in outputs.items():
            if split in per_split and label != REAL_FLOOR:
                write_outputs(run, per_split[split], split, refs)
    for key, row in BASELINE_OUTPUTS.items():
        folder = Path(run) / "outputs" / key
        if all((folder / f"{split}.skels").exists() for split in eval_splits):
            outputs[row] = {
                split: read_outputs(folder, split, row) for split in eval_splits
            }
    return {label: per for label, per in outputs.items() if per}


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


def min_window_count(cfg: Config, tae: Any) -> int:
    """The fewest windows a frame bin needs to be scored: ``fgd_min_windows_factor``
    times the TAE's feature dimension, rounded up."""
    factor = getattr(cfg.eval, "fgd_min_windows_factor", MIN_WINDOWS_FACTOR)
    return math.ceil(factor * tae.hparams["latent"])


def prefix_bins(prefixes: Sequence[str] = TABLE2_PREFIXES) -> list[tuple[int, int]]:
    """Table 2's prefixes ``"~p"`` as frame bins ``(0, p)``."""
    return [(0, int(p.lstrip("~"))) for p in prefixes]


def matched_window_counts(
    pools: Sequence[Sequence[np.ndarray]],
    tae: Any,
    min_windows: int,
    intervals: Sequence[tuple[int, int]] = DEFAULT_INTERVALS,
    prefixes: Sequence[str] = TABLE2_PREFIXES,
    log: Any = None,
) -> dict[str, dict[str, int]]:
    """The ``n_windows`` argument of :func:`evaluate_output`: one window count per
    interval and prefix bin, shared by every pool (the reference and every system).

    Per kind ("intervals", "prefixes"), each bin's count is the fewest windows any
    pool has there (:func:`~nar_slp.evaluation.fgd_bins.common_window_counts`); every
    bin with at least ``min_windows`` is scored on the smallest such count, so FGDs of
    all bins and systems see the same sample size. A bin below ``min_windows`` keeps its
    own count (and is reported as insufficient). ``log`` (e.g. ``print``) receives
    one line per kind with the counts and the shared count.
    """
    n_windows: dict[str, dict[str, int]] = {}
    for kind, bins in (
        ("intervals", list(intervals)),
        ("prefixes", prefix_bins(prefixes)),
    ):
        counts = common_window_counts(pools, tae, bins)
        usable = [n for n in counts.values() if n >= min_windows]
        shared = min(usable) if usable else min_windows
        n_windows[kind] = {
            k: (shared if n >= min_windows else n) for k, n in counts.items()
        }
        if log is not None:
            log(f"{kind} windows per bin (all systems): {counts} -> scored on {shared}")
    return n_windows


def evaluate_output(
    out: Generation,
    refs: Sequence[SignSequence],
    tae: Any,
    slt: Any,
    normaliser: Any,
    cfg: Config,
    target: str = "text",
    n_boot: int = 200,
    boot_seed: int = 0,
    n_windows: Mapping[str, Mapping[str, int]] | None = None,
    with_bins: bool = True,
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

    Returns ``{"FGD", "KID", "BLEU-1".."BLEU-4", "ROUGE", "DurACC", "DTW-MJE",
    "speed ratio", "spread ratio", "signature", "se": {the same metrics}, "ci":
    {metric: (lo, hi)} 95 % percentile intervals of FGD, KID, BLEU-1..4, ROUGE,
    DurACC, DTW-MJE, "intervals": {...}, "prefixes": {...}, "hypotheses": [...]}``
    (DurACC in %, KID × 100). Bins of ``"intervals"`` / ``"prefixes"`` score matched
    window counts (:func:`~nar_slp.evaluation.fgd_bins.fgd_by_interval`; ``n_windows
    = {"intervals": {...}, "prefixes": {...}}`` fixes them across systems, e.g. from
    :func:`~nar_slp.evaluation.fgd_bins.common_window_counts`) and carry ``"fgd_se"``,
    ``"fgd_ci"``, ``"kid"``, ``"kid_se"``, ``"sufficient"`` besides ``"fgd"``.
    ``with_bins=False`` skips the per-interval / per-prefix FGD (Table 2 uses the
    test split only).
    """
    if len(out.poses) != len(refs):
        raise ValueError(
            f"evaluate_output: {len(out.poses)} outputs but {len(refs)} references"
        )
    ref_poses = [s.poses for s in refs]
    scale = cfg.eval.fgd_scale
    counts = bootstrap_counts(len(refs), n_boot, boot_seed)  # (n_boot, N)
    ec = cfg.eval
    kid_args = {
        "kid_subsets": ec.fgd_kid_subsets,
        "kid_subset_size": ec.fgd_kid_subset_size,
        "seed": boot_seed,
    }
    overall = fgd_report(
        out.poses, ref_poses, tae, normaliser, scale, boot_counts=counts, **kid_args
    )
    res: dict[str, Any] = {"FGD": overall["fgd"], "KID": overall["kid"]}
    se: dict[str, float] = {"FGD": overall["fgd_se"], "KID": overall["kid_se"]}
    ci: dict[str, tuple[float, float]] = {
        "FGD": overall["fgd_ci"],
        "KID": overall["kid_ci"],
    }
    boot_reps: dict[str, np.ndarray] = {
        "FGD": overall["replicates"],
        "KID": overall["kid_replicates"],
    }
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
    for key, reps in bleu_bootstrap(hyps, references, counts).items():
        se[key], ci[key], boot_reps[key] = (
            se_from_replicates(reps),
            percentile_interval(reps),
            reps,
        )
    rouge_reps = mean_replicates(100.0 * rouge_l_per_sentence(hyps, references), counts)
    boot_reps["ROUGE"] = rouge_reps
    se["ROUGE"], ci["ROUGE"] = (
        se_from_replicates(rouge_reps),
        percentile_interval(rouge_reps),
    )
    true_len = np.array([s.n_frames for s in refs])
    tolerance = cfg.eval.duracc_tolerance
    res["DurACC"] = 100.0 * dur_acc(out.lengths, true_len, tolerance)
    hits = np.abs(np.asarray(out.lengths) - true_len) < tolerance  # (N,) bool
    se["DurACC"] = mean_se(100.0 * hits, counts)
    boot_reps["DurACC"] = mean_replicates(100.0 * hits, counts)
    ci["DurACC"] = percentile_interval(boot_reps["DurACC"])
    dtw = dtw_mje_per_sentence(out.poses, ref_poses)  # (N,) PT units
    res["DTW-MJE"] = float(np.mean(dtw))  # = mean_dtw_mje(out.poses, ref_poses)
    se["DTW-MJE"] = mean_se(dtw, counts)
    boot_reps["DTW-MJE"] = mean_replicates(dtw, counts)
    ci["DTW-MJE"] = percentile_interval(boot_reps["DTW-MJE"])
    # motion amplitude relative to the ground truth: ratio of sentence means, paired
    amp, ref_amp = motion_amplitude(out.poses), motion_amplitude(ref_poses)  # (N, 2)
    for col, name in enumerate(("speed ratio", "spread ratio")):
        res[name] = float(amp[:, col].mean() / ref_amp[:, col].mean())
        replicates = (counts @ amp[:, col]) / (counts @ ref_amp[:, col])  # (n_boot,)
        se[name] = se_from_replicates(replicates)
    res["se"] = se
    res["ci"] = ci
    res["replicates"] = boot_reps  # metric -> (n_boot,), for paired differences
    if with_bins:
        # matched window counts per bin; n_windows (e.g. common_window_counts over all
        # systems) fixes the count across systems, None = min of the two pools per bin
        bin_args = {
            "scale": scale,
            "boot_counts": counts,
            "min_windows": min_window_count(cfg, tae),
            **kid_args,
        }
        res["intervals"] = fgd_by_interval(
            out.poses,
            ref_poses,
            tae,
            normaliser,
            n_windows=None if n_windows is None else n_windows.get("intervals"),
            **bin_args,
        )
        res["prefixes"] = fgd_by_prefix(
            out.poses,
            ref_poses,
            tae,
            normaliser,
            n_windows=None if n_windows is None else n_windows.get("prefixes"),
            **bin_args,
        )
    res["hypotheses"] = hyps
    return res
