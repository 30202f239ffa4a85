"""How much a pose corpus moves like real PT-format PHOENIX-2014T skeletons.

:func:`realism_statistics` measures the motion statistics of issue #8 on any list of
(T, 50, 3) pose arrays, list of :class:`~nar_slp.data.pt_format.SignSequence` or
PT-format folder; :func:`realism_table` sets them beside the real-data figures of
:data:`PHOENIX_REALISM`. A user who has PHOENIX-2014T in PT format compares it with
the bundled corpus in one call::

    from nar_slp.data.realism import format_realism_table, realism_table
    print(format_realism_table(realism_table("path/to/PT-folder", split="train")))

Conventions (those of ``nar_slp.skeleton``): the neck (1) is the origin, y grows
downward, z grows toward the camera; frames at 25 fps. The *dominant* (signing) arm
is shoulder 5, elbow 6, wrist 7 with the hand 8-28 (root 8), which is the signing
hand of the real data too; the *non-dominant* arm is 2-3-4 with the hand 29-49.
Every statistic pools all frames (or all sequences) of the input; "per frame" speeds
are in .skels units per frame (multiply by 25 for units per second).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nar_slp.data.pt_format import SignSequence, read_split
from nar_slp.skeleton import (
    L_ELBOW,
    L_HAND_ROOT,
    L_SHOULDER,
    L_WRIST,
    NECK,
    NUM_JOINTS,
    R_ELBOW,
    R_HAND_ROOT,
    R_SHOULDER,
    R_WRIST,
    finger_joints,
)

__all__ = [
    "FPS",
    "HF_CUTOFF_HZ",
    "NEAR_ZERO",
    "PHOENIX_REALISM",
    "RealFigure",
    "SMOOTH_WINDOW",
    "STILL_SPEED",
    "TOLERANCE",
    "format_realism_table",
    "realism_statistics",
    "realism_table",
]

FPS = 25  # frames per second of PHOENIX-2014T and of the bundled corpus
HF_CUTOFF_HZ = 4.0  # "high-frequency" wrist-velocity energy lies above this
SMOOTH_WINDOW = 5  # frames (0.2 s) of the centred moving average before "still"
STILL_SPEED = 0.006  # .skels units per frame: a smoothed wrist speed below is "still"
TOLERANCE = 1.5  # within range: real / 1.5 <= corpus <= real * 1.5 ...
NEAR_ZERO = 0.01  # ... or corpus < 1 % where the real figure itself is below 1 %

DOM = (L_SHOULDER, L_ELBOW, L_WRIST, L_HAND_ROOT)  # signing arm and its hand root
NONDOM = (R_SHOULDER, R_ELBOW, R_WRIST, R_HAND_ROOT)


@dataclass(frozen=True)
class RealFigure:
    """One real-data reference figure: a value, or a (low, high) range."""

    label: str  # what is measured, as in issue #8's table
    value: float | tuple[float, float]

    @property
    def bounds(self) -> tuple[float, float]:
        """Interval of corpus values counted as "within range" (see module constants).

        A real figure below ``NEAR_ZERO`` accepts any corpus value below ``NEAR_ZERO``;
        otherwise the corpus may be up to ``TOLERANCE`` times smaller or larger (than
        the low and high end of a range).
        """
        lo, hi = self.value if isinstance(self.value, tuple) else (self.value,) * 2
        if hi < NEAR_ZERO:
            return (0.0, NEAR_ZERO)
        return (lo / TOLERANCE, hi * TOLERANCE)

    @property
    def centre(self) -> float:
        """The value, or the geometric middle of a range (for ratios)."""
        if isinstance(self.value, tuple):
            return float(np.sqrt(self.value[0] * self.value[1]))
        return float(self.value)


# Measured on real PT-format PHOENIX-2014T skeletons with the same statistics (issue
# #8; the geometry figures are in docs/phoenix_reference.md). Fractions are 0..1.
PHOENIX_REALISM: dict[str, RealFigure] = {
    "hf_energy_share": RealFigure("share of wrist-velocity energy above 4 Hz", 0.22),
    "velocity_lag1_autocorr": RealFigure(
        "lag-1 autocorrelation of wrist velocity", 0.62
    ),
    "nondom_still": RealFigure("non-dominant wrist still (fraction of frames)", 0.17),
    "both_still": RealFigure("both wrists still (fraction of frames)", 0.05),
    "wrist_speed_corr": RealFigure("speed correlation between the two wrists", 0.3),
    "hands_close": RealFigure("hands closer than half a shoulder width", 0.001),
    "dom_elbow_above_shoulder": RealFigure("dominant elbow above its shoulder", 0.002),
    "upper_arm_elevation_p95": RealFigure(
        "upper-arm elevation from hanging, p95 (degrees)", 64.0
    ),
    "dom_wrist_between_shoulders": RealFigure(
        "dominant wrist horizontally between the shoulders", 0.37
    ),
    "dom_wrist_past_midline": RealFigure("dominant wrist past the midline", 0.0),
    "first_frame_wrist_std": RealFigure(
        "first frame: std of wrist positions across sequences", (0.05, 0.13)
    ),
    "thumb_extent_std": RealFigure(
        "thumb tip-root distance, std within a sequence", 0.02
    ),
    "ring_extent": RealFigure("ring tip-root distance (mean)", 0.126),
    "pinky_extent": RealFigure("pinky tip-root distance (mean)", 0.110),
    "shoulder_std_y": RealFigure("shoulders: within-sequence std of y", 0.014),
    "shoulder_std_z": RealFigure("shoulders: within-sequence std of z", 0.021),
    "bone_cv_arm": RealFigure("arm bone length, within-sequence CV", 0.02),
    "bone_cv_finger": RealFigure("finger bone length, within-sequence CV", 0.02),
    "bone_ratio_cv": RealFigure(
        "bone-length ratios, within-sequence CV (one global scale per frame)", 0.0
    ),
}


def _as_pose_list(
    data: str | Path | Sequence[np.ndarray] | Sequence[SignSequence], split: str
) -> list[np.ndarray]:
    if isinstance(data, (str, Path)):
        data = read_split(data, split)
    poses = [np.asarray(s.poses if isinstance(s, SignSequence) else s) for s in data]
    poses = [p.astype(np.float64) for p in poses]
    for i, p in enumerate(poses):
        if p.ndim != 3 or p.shape[1:] != (NUM_JOINTS, 3):
            raise ValueError(f"sequence {i} has shape {p.shape}, expected (T, 50, 3)")
    if not poses:
        raise ValueError("realism_statistics needs at least one sequence")
    return poses


def _moving_average(x: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over axis 0, valid part: (T, ...) -> (T-w+1, ...)."""
    c = np.cumsum(np.concatenate([np.zeros_like(x[:1]), x]), axis=0)
    return (c[window:] - c[:-window]) / window


def _hf_share_parts(v: np.ndarray, fps: int) -> tuple[float, float]:
    """(energy above HF_CUTOFF_HZ, total energy) of velocities v (n, 3)."""
    n = v.shape[0]
    spec = np.abs(np.fft.rfft(v, axis=0)) ** 2  # (n//2+1, 3)
    weight = np.full(spec.shape[0], 2.0)  # one-sided spectrum: count +-f once each
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0
    power = weight * spec.sum(-1)
    freqs = np.fft.rfftfreq(n, 1.0 / fps)
    return float(power[freqs > HF_CUTOFF_HZ].sum()), float(power.sum())


def realism_statistics(
    data: str | Path | Sequence[np.ndarray] | Sequence[SignSequence],
    split: str = "train",
    fps: int = FPS,
) -> dict[str, float]:
    """Motion statistics of a pose corpus, comparable with :data:`PHOENIX_REALISM`.

    Args:
        data: a PT-format folder (its ``split`` is read), or a list of pose arrays
            (T, 50, 3) or of :class:`SignSequence`.
        split: the split read from a folder.
        fps: frame rate (25 for PHOENIX-2014T and the bundled corpus).

    Returns:
        A dict of floats (fractions in 0..1, distances in .skels units):

        - ``hf_energy_share``: energy of the wrist velocity v_t = p_{t+1} - p_t (both
          wrists, x/y/z) above 4 Hz, over its total energy; power spectra by FFT of
          each whole sequence (no window), summed over sequences before the ratio.
        - ``velocity_lag1_autocorr``: sum of v'_t v'_{t+1} / sum of v'_t^2, pooled over
          both wrists, x/y/z and sequences, v' = v minus its per-sequence mean.
        - ``nondom_still`` / ``dom_still`` / ``both_still``: fraction of frames whose
          *smoothed speed* is below 0.006 per frame (wrist 4, wrist 7, both). The
          smoothed speed is |q_{t+1} - q_t| with q the wrist position averaged over a
          centred window of 5 frames (0.2 s), i.e. the mean velocity over 0.2 s.
        - ``wrist_speed_corr``: Pearson correlation of the two wrists' smoothed speeds
          within a sequence, averaged over sequences.
        - ``hands_close``: fraction of frames whose wrist-to-wrist distance (4-7) is
          below half the frame's shoulder width (|shoulder 2 - shoulder 5|).
        - ``dom_elbow_above_shoulder``: fraction of frames with elbow 6 above shoulder
          5 (smaller y).
        - ``upper_arm_elevation_p95``: 95th percentile over frames of the angle in
          degrees between the dominant upper arm (shoulder 5 -> elbow 6) and straight
          down (+y); 0 = arm hanging, 90 = horizontal, > 90 = elbow above shoulder.
        - ``dom_wrist_between_shoulders``: fraction of frames with the x of wrist 7
          between the x of the two shoulders; ``dom_wrist_past_midline``: fraction
          with wrist 7 on the non-dominant side of the neck (x of the same sign as
          shoulder 2's).
        - ``first_frame_wrist_std`` / ``last_frame_wrist_std``: std across sequences
          of the first (last) frame's wrist position, averaged over both wrists and
          x/y/z; ``first_frame_wrist_std_min``/``_max``: smallest and largest of
          those six stds.
        - ``thumb_extent_std``: std over frames of the dominant hand's thumb tip (12)
          to hand root (8) distance within a sequence, averaged over sequences.
        - ``ring_extent`` / ``pinky_extent``: mean distance of the dominant hand's
          ring tip (24) and pinky tip (28) to its root (8), over all frames.
        - ``shoulder_std_y`` / ``shoulder_std_z``: std over frames of the y (z) of a
          shoulder within a sequence, averaged over sequences and both shoulders.
        - ``bone_cv_arm``: within-sequence coefficient of variation (std / mean over
          frames) of the four arm bones, averaged over bones and sequences;
          ``bone_cv_finger``: the same for the 16 finger-phalanx bones of both hands
          (root-to-base bones excluded), median over bones.
        - ``bone_ratio_cv``: the same as ``bone_cv_finger`` and ``bone_cv_arm``
          together, but of each bone's length divided by the frame's mean arm-bone
          length: close to 0 when all bone lengths vary by one global scale per frame.
        - ``n_sequences``, ``n_frames``, ``mean_length`` (frames).
    """
    poses = _as_pose_list(data, split)
    wrists = [p[:, [L_WRIST, R_WRIST]] for p in poses]  # each (T, 2, 3)

    hf, total, num, den = 0.0, 0.0, 0.0, 0.0
    dom_still, nd_still, both_still, speed_corr = [], [], [], []
    for w in wrists:
        if w.shape[0] < 2 * SMOOTH_WINDOW:
            continue
        v = np.diff(w, axis=0)  # (T-1, 2, 3)
        for h in range(2):
            a, b = _hf_share_parts(v[:, h], fps)
            hf, total = hf + a, total + b
        vc = v - v.mean(0)
        num += float(np.sum(vc[1:] * vc[:-1]))
        den += float(np.sum(vc * vc))
        q = _moving_average(w, SMOOTH_WINDOW)  # (T-4, 2, 3)
        speed = np.linalg.norm(np.diff(q, axis=0), axis=-1)  # (T-5, 2)
        still = speed < STILL_SPEED
        dom_still.append(still[:, 0])
        nd_still.append(still[:, 1])
        both_still.append(still.all(-1))
        if speed[:, 0].std() > 0 and speed[:, 1].std() > 0:
            speed_corr.append(float(np.corrcoef(speed[:, 0], speed[:, 1])[0, 1]))

    frames = np.concatenate(poses)  # (N, J, K)
    shoulder_w = np.linalg.norm(frames[:, R_SHOULDER] - frames[:, L_SHOULDER], axis=-1)
    hand_gap = np.linalg.norm(frames[:, R_WRIST] - frames[:, L_WRIST], axis=-1)
    upper = frames[:, L_ELBOW] - frames[:, L_SHOULDER]  # (N, 3)
    cos = upper[:, 1] / np.maximum(np.linalg.norm(upper, axis=-1), 1e-12)
    elevation = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))  # 0 = hanging
    x_dom = frames[:, L_WRIST, 0]
    x_lo = np.minimum(frames[:, L_SHOULDER, 0], frames[:, R_SHOULDER, 0])
    x_hi = np.maximum(frames[:, L_SHOULDER, 0], frames[:, R_SHOULDER, 0])
    nondom_side = np.sign(frames[:, R_SHOULDER, 0] - frames[:, NECK, 0])

    first = np.stack([w[0] for w in wrists])  # (S, 2, 3)
    last = np.stack([w[-1] for w in wrists])
    first_std = first.std(0) if len(wrists) > 1 else np.zeros((2, 3))
    last_std = last.std(0) if len(wrists) > 1 else np.zeros((2, 3))

    def extent(p: np.ndarray, finger: str) -> np.ndarray:  # (T,), dominant hand
        tip = finger_joints(L_HAND_ROOT, finger)[-1]
        return np.linalg.norm(p[:, tip] - p[:, L_HAND_ROOT], axis=-1)

    thumb_std = np.mean([extent(p, "thumb").std() for p in poses])
    ring = np.concatenate([extent(p, "ring") for p in poses]).mean()
    pinky = np.concatenate([extent(p, "pinky") for p in poses]).mean()
    sh_std = np.mean([p[:, [L_SHOULDER, R_SHOULDER]].std(0) for p in poses], axis=0)

    arm_bones = [(L_SHOULDER, L_ELBOW), (L_ELBOW, L_WRIST)]
    arm_bones += [(R_SHOULDER, R_ELBOW), (R_ELBOW, R_WRIST)]
    phalanges = [
        (j, j + 1)
        for root in (L_HAND_ROOT, R_HAND_ROOT)
        for f in ("thumb", "index", "middle", "ring", "pinky")
        for j in finger_joints(root, f)[:-1]
    ]
    bones = arm_bones + phalanges
    ia, ib = np.array(bones).T
    cv, ratio_cv = [], []
    for p in poses:
        lengths = np.linalg.norm(p[:, ia] - p[:, ib], axis=-1)  # (T, n_bones)
        cv.append(lengths.std(0) / lengths.mean(0))
        rel = lengths / lengths[:, : len(arm_bones)].mean(-1, keepdims=True)
        ratio_cv.append(rel.std(0) / rel.mean(0))
    cv_mean = np.mean(cv, axis=0)  # (n_bones,)
    ratio_mean = np.mean(ratio_cv, axis=0)

    def frac(parts: list[np.ndarray]) -> float:
        return float(np.concatenate(parts).mean()) if parts else float("nan")

    return {
        "hf_energy_share": hf / total if total > 0 else float("nan"),
        "velocity_lag1_autocorr": num / den if den > 0 else float("nan"),
        "nondom_still": frac(nd_still),
        "dom_still": frac(dom_still),
        "both_still": frac(both_still),
        "wrist_speed_corr": float(np.mean(speed_corr)) if speed_corr else float("nan"),
        "hands_close": float(np.mean(hand_gap < 0.5 * shoulder_w)),
        "dom_elbow_above_shoulder": float(
            np.mean(frames[:, L_ELBOW, 1] < frames[:, L_SHOULDER, 1])
        ),
        "upper_arm_elevation_p95": float(np.percentile(elevation, 95)),
        "dom_wrist_between_shoulders": float(np.mean((x_dom > x_lo) & (x_dom < x_hi))),
        "dom_wrist_past_midline": float(np.mean(x_dom * nondom_side > 0)),
        "first_frame_wrist_std": float(first_std.mean()),
        "first_frame_wrist_std_min": float(first_std.min()),
        "first_frame_wrist_std_max": float(first_std.max()),
        "last_frame_wrist_std": float(last_std.mean()),
        "thumb_extent_std": float(thumb_std),
        "ring_extent": float(ring),
        "pinky_extent": float(pinky),
        "shoulder_std_y": float(sh_std[:, 1].mean()),
        "shoulder_std_z": float(sh_std[:, 2].mean()),
        "bone_cv_arm": float(cv_mean[: len(arm_bones)].mean()),
        "bone_cv_finger": float(np.median(cv_mean[len(arm_bones) :])),
        "bone_ratio_cv": float(np.median(ratio_mean)),
        "n_sequences": float(len(poses)),
        "n_frames": float(frames.shape[0]),
        "mean_length": float(frames.shape[0] / len(poses)),
    }


def realism_table(
    data: str | Path | Sequence[np.ndarray] | Sequence[SignSequence] | dict,
    split: str = "train",
    reference: dict[str, RealFigure] | None = None,
    digits: int = 3,
) -> list[dict[str, object]]:
    """Comparison of a corpus with real PHOENIX-2014T, one row per reference figure.

    Args:
        data: anything :func:`realism_statistics` accepts, or its result (a dict).
        split: the split read from a folder.
        reference: the real figures (default :data:`PHOENIX_REALISM`).
        digits: rounding of the numbers in the table.

    Returns:
        A list of rows (dicts) with keys ``key`` (statistic key), ``statistic``
        (label), ``real`` (a number, or "lo-hi" for a range), ``corpus``, ``ratio``
        (corpus / real, the geometric middle of a range; None where the real figure
        is 0) and ``within_range`` ("yes" / "no", see :attr:`RealFigure.bounds`).
        :func:`format_realism_table` prints it as Markdown.
    """
    reference = PHOENIX_REALISM if reference is None else reference
    stats = data if isinstance(data, dict) else realism_statistics(data, split)
    rows: list[dict[str, object]] = []
    for key, ref in reference.items():
        value = float(stats[key])
        lo, hi = ref.bounds
        real = (
            f"{ref.value[0]:g}-{ref.value[1]:g}"
            if isinstance(ref.value, tuple)
            else round(ref.value, digits)
        )
        rows.append(
            {
                "key": key,
                "statistic": ref.label,
                "real": real,
                "corpus": round(value, digits),
                "ratio": round(value / ref.centre, 2) if ref.centre else None,
                "within_range": "yes" if lo <= value <= hi else "no",
            }
        )
    return rows


def format_realism_table(
    rows: list[dict[str, object]], before: list[dict[str, object]] | None = None
) -> str:
    """A Markdown table of :func:`realism_table` rows (optionally with a "before"
    corpus column, e.g. an earlier generator, taken from ``before``)."""
    head = ["statistic", "real PHOENIX"]
    head += (
        ["before", "corpus", "ratio", "within range"]
        if before
        else [
            "corpus",
            "ratio",
            "within range",
        ]
    )
    old = {r["key"]: r for r in before} if before else {}
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        cells = [str(r["statistic"]), str(r["real"])]
        if before:
            cells.append(str(old[r["key"]]["corpus"]) if r["key"] in old else "")
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        cells += [str(r["corpus"]), ratio, str(r["within_range"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
