"""Drawing skeletons with matplotlib (2-D front view: x right, y down as in PT data)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from nar_slp.skeleton import BONES, GROUPS, group_of_joint

GROUP_COLOURS = {"body": "#333333", "left_hand": "#1f77b4", "right_hand": "#d62728"}


def draw_pose(
    ax,
    pose: np.ndarray,
    colour: str | None = None,
    alpha: float = 1.0,
    joints: bool = True,
    lw: float = 1.5,
) -> None:
    """Draw one frame ``pose`` (J, K) on ``ax``: bones coloured by group."""
    pose = np.asarray(pose)
    for a, b in BONES:
        c = colour or GROUP_COLOURS[group_of_joint(b)]
        width = lw if group_of_joint(b) == "body" else lw * 0.6
        ax.plot(pose[[a, b], 0], pose[[a, b], 1], color=c, lw=width, alpha=alpha)
    if joints:
        for name, idx in GROUPS.items():
            ax.scatter(
                pose[list(idx), 0],
                pose[list(idx), 1],
                s=3,
                color=colour or GROUP_COLOURS[name],
                alpha=alpha,
                zorder=3,
            )
    ax.set_aspect("equal")
    if not ax.yaxis_inverted():
        ax.invert_yaxis()  # PT data: y grows downward
    ax.set_xticks([])
    ax.set_yticks([])


def frame_strip(
    sequences: Sequence[np.ndarray],
    labels: Sequence[str],
    n_frames: int = 6,
    title: str | None = None,
    limits: tuple[float, float, float, float] = (-0.55, 0.55, -0.35, 0.7),
):
    """A grid: one row per sequence, ``n_frames`` evenly spaced frames per row.

    Rows may differ in length; frames are chosen at the same relative positions.
    Returns the figure (the caller saves and closes it).
    """
    rows = len(sequences)
    fig, axes = plt.subplots(
        rows, n_frames, figsize=(1.6 * n_frames, 1.9 * rows), squeeze=False
    )
    for r, (seq, label) in enumerate(zip(sequences, labels, strict=True)):
        idx = np.linspace(0, len(seq) - 1, n_frames).round().astype(int)
        for c, t in enumerate(idx):
            ax = axes[r, c]
            draw_pose(ax, seq[t])
            ax.set_xlim(limits[0], limits[1])
            ax.set_ylim(limits[3], limits[2])
            if r == 0 or c == 0:
                ax.set_title(f"{label}  t={t}" if c == 0 else f"t={t}", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def hand_closeups(
    poses: Sequence[np.ndarray],
    labels: Sequence[str] | None = None,
    half_width: float = 0.11,
    body_limits: tuple[float, float, float, float] = (-0.55, 0.55, -0.35, 0.7),
):
    """Frames side by side with both hands enlarged, so finger bones are readable.

    One row per frame: the full body, then a close-up of the hand on wrist 7
    (joints 8-28, the signing hand of PT-format PHOENIX) and of the hand on wrist 4
    (joints 29-49), each a square of ``2 * half_width`` .skels units centred on the
    hand's joints (front view, x right, y down).

    Args:
        poses: frames, each (J, K) = (50, 3) (e.g. ``[seq.poses[t] for t in ...]``).
        labels: a title per row (default "frame i").
        half_width: half the side of a close-up (.skels units; a hand spans ~0.2).
        body_limits: (x min, x max, y min, y max) of the full-body panels.

    Returns:
        The matplotlib Figure (the caller shows, saves and closes it).
    """
    labels = [f"frame {i}" for i in range(len(poses))] if labels is None else labels
    fig, axes = plt.subplots(
        len(poses), 3, figsize=(7.5, 2.6 * len(poses)), squeeze=False
    )
    for r, (pose, label) in enumerate(zip(poses, labels, strict=True)):
        pose = np.asarray(pose)
        ax = axes[r, 0]
        draw_pose(ax, pose)
        ax.set_xlim(body_limits[0], body_limits[1])
        ax.set_ylim(body_limits[3], body_limits[2])
        ax.set_title(label, fontsize=8)
        for c, group in ((1, "left_hand"), (2, "right_hand")):
            ax = axes[r, c]
            draw_pose(ax, pose, lw=3.0)
            centre = pose[list(GROUPS[group]), :2].mean(0)
            ax.set_xlim(centre[0] - half_width, centre[0] + half_width)
            ax.set_ylim(centre[1] + half_width, centre[1] - half_width)
            wrist = "wrist 7 (signing)" if group == "left_hand" else "wrist 4"
            ax.set_title(f"hand on {wrist}", fontsize=8)
    fig.tight_layout()
    return fig
