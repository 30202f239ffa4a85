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
