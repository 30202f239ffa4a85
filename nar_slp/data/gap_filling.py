"""Filling the missing points of an imported pose sequence in the PT joint order.

A sequence arrives with its missing points set to NaN and a ``valid`` mask of the
points that were observed (what counts as missing in a ``.pose`` file is decided by
:func:`nar_slp.data.pose_io.pose_to_pt`); the functions here return it complete.

- Body joints (:func:`fill_body`) are interpolated linearly over interior gaps and
  hold their nearest value at either end; a body joint absent from every frame is
  placed where the PT mean pose (:data:`PT_MEAN_BODY`) has it, relative to the neck
  and scaled by the shoulder width.
- Hand points (:func:`fill_hand`) are interpolated (relative to their wrist, so the
  hand moves with the arm) over gaps of at most ``max_gap`` frames; in longer gaps,
  or where a hand is absent at the start, end or throughout, the hand root collapses
  onto its wrist and the other points onto the hand root.

Both record the frames they fill in ``counts`` (part -> (T,) bool mask, e.g.
``"body"``, ``"left_hand interpolated"``, ``"left_hand collapsed"``), from which
:func:`~nar_slp.data.pose_io.pose_to_pt` reports :attr:`PTImport.filled
<nar_slp.data.pose_io.PTImport.filled>` and its :class:`PoseGapWarning
<nar_slp.data.pose_io.PoseGapWarning>`.
"""

from __future__ import annotations

import numpy as np

from nar_slp.skeleton import JOINT_NAMES

PT_SHOULDER_WIDTH = 0.333  # mean |joint 2 - joint 5| in PT-format PHOENIX

# PT mean body pose (phoenix_geometry.md), neck at the origin: used only for a body
# joint that is missing from every frame.
PT_MEAN_BODY = np.array(
    [
        [-0.029, -0.194, -0.036],
        [0.0, 0.0, 0.0],
        [0.167, 0.005, 0.017],
        [0.288, 0.268, 0.059],
        [0.155, 0.216, 0.144],
        [-0.166, 0.011, 0.019],
        [-0.310, 0.251, 0.086],
        [-0.184, 0.123, 0.138],
    ],
    dtype=np.float64,
)


def _interp_track(x: np.ndarray, valid: np.ndarray, max_gap: int | None):
    """Fill the NaN frames of ``x`` (T, C) linearly between valid frames.

    Interior gaps of at most ``max_gap`` frames (all, if None) are interpolated;
    returns (filled x, interpolated mask (T,)); frames left unfilled stay NaN.
    """
    t = np.arange(len(x))
    out = x.copy()
    done = np.zeros(len(x), bool)
    good = np.flatnonzero(valid)
    if len(good) == 0:
        return out, done
    for a, b in zip(good[:-1], good[1:], strict=True):
        gap = b - a - 1
        if gap and (max_gap is None or gap <= max_gap):
            w = (t[a + 1 : b] - a) / (b - a)  # (gap,)
            out[a + 1 : b] = x[a] + w[:, None] * (x[b] - x[a])
            done[a + 1 : b] = True
    return out, done


def fill_body(xyz: np.ndarray, valid: np.ndarray, counts: dict) -> np.ndarray:
    """Body joints (T, 8, 3) with NaN gaps -> complete (interpolate, hold the ends)."""
    out = xyz.copy()
    filled = np.zeros(len(xyz), bool)
    missing_all = [j for j in range(out.shape[1]) if not valid[:, j].any()]
    for j in range(out.shape[1]):
        if j in missing_all:
            continue
        out[:, j], _ = _interp_track(out[:, j], valid[:, j], None)
        good = np.flatnonzero(valid[:, j])
        out[: good[0], j] = out[good[0], j]  # hold the first valid value
        out[good[-1] + 1 :, j] = out[good[-1], j]  # and the last
        filled |= ~valid[:, j]
    if missing_all:
        width = np.linalg.norm(out[:, 2, :2] - out[:, 5, :2], axis=-1)  # (T,)
        ratio = np.median(width) / PT_SHOULDER_WIDTH
        for j in missing_all:
            out[:, j] = out[:, 1] + PT_MEAN_BODY[j] * ratio
            out[:, j, 2] = out[:, 1, 2]
        names = ", ".join(JOINT_NAMES[j] for j in missing_all)
        counts[f"body, absent throughout: {names}"] = np.ones(len(xyz), bool)
    if filled.any():
        counts["body"] = counts.get("body", np.zeros(len(xyz), bool)) | filled
    return out


def fill_hand(
    hand: np.ndarray,
    valid: np.ndarray,
    wrist: np.ndarray,
    max_gap: int,
    name: str,
    counts: dict,
) -> np.ndarray:
    """Hand points (T, 21, 3) with NaN gaps -> complete, given the filled wrist (T, 3).

    Points are interpolated relative to the wrist over gaps <= ``max_gap``; what
    remains collapses: the root onto the wrist, other points onto the root.
    """
    rel = hand - wrist[:, None]  # (T, 21, 3)
    interp = np.zeros(len(hand), bool)
    for k in range(hand.shape[1]):
        rel[:, k], done = _interp_track(rel[:, k], valid[:, k], max_gap)
        interp |= done
    out = rel + wrist[:, None]
    holes = np.isnan(out[..., 0])  # (T, 21)
    out[:, 0] = np.where(holes[:, :1], wrist, out[:, 0])
    out[:, 1:] = np.where(holes[:, 1:, None], out[:, :1], out[:, 1:])
    collapsed = holes.any(1)
    if collapsed.any():
        counts[f"{name} collapsed"] = collapsed
    if (interp & ~collapsed).any():
        counts[f"{name} interpolated"] = interp & ~collapsed
    return out
