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


# ------------------------------------------------------------------ reusable artists

HandMode = str  # "inset" | "zoom" | "plain"
HAND_MODES = ("inset", "zoom", "plain")
DEFAULT_LIMITS = (-0.55, 0.55, -0.35, 0.7)  # x min, x max, y min, y max (.skels units)
HAND_HALF_WIDTH = 0.11  # half the side of a hand inset (a hand spans ~0.2)


def _bone_groups() -> dict[str, list[int]]:
    """Indices into ``BONES`` per group; a bone belongs to its child joint's group, so
    each wrist -> hand-root bone is drawn in its hand's colour."""
    groups: dict[str, list[int]] = {name: [] for name in GROUPS}
    for i, (_, b) in enumerate(BONES):
        groups[group_of_joint(b)].append(i)
    return groups


BONE_GROUPS = _bone_groups()


def zoom_hands(pose: np.ndarray, factor: float) -> np.ndarray:
    """Enlarge both hands of ``pose`` (..., J, K) by ``factor`` about their roots.

    A readability aid for small figures: finger shapes become visible at body scale;
    the hand roots (8 and 29) and the body do not move.
    """
    out = np.array(pose, dtype=np.float64, copy=True)
    for name in ("left_hand", "right_hand"):
        idx = np.array(GROUPS[name])
        root = out[..., idx[:1], :]  # (..., 1, K)
        out[..., idx, :] = root + factor * (out[..., idx, :] - root)
    return out


class SkeletonArtist:
    """The 49 bones of one skeleton as three LineCollections (body, each hand), plus
    joint markers; :meth:`set_pose` moves them, so animations never re-create artists.

    ``collections[group]`` holds one segment per bone in ``BONE_GROUPS[group]`` (in
    that order): every bone of :data:`BONES` is drawn exactly once.
    """

    def __init__(
        self,
        ax,
        pose: np.ndarray | None = None,
        colour: str | None = None,
        lw: float = 2.0,
        joints: bool = True,
        alpha: float = 1.0,
        hand_zoom: float = 1.0,
    ):
        from matplotlib.collections import LineCollection

        self.ax = ax
        self.hand_zoom = hand_zoom
        self.collections = {}
        self.markers = {}
        for name, bone_ids in BONE_GROUPS.items():
            width = lw if name == "body" else lw * 0.6
            coll = LineCollection(
                [np.zeros((2, 2))] * len(bone_ids),
                colors=colour or GROUP_COLOURS[name],
                linewidths=width,
                alpha=alpha,
                capstyle="round",
            )
            ax.add_collection(coll)
            self.collections[name] = coll
            if joints:
                (self.markers[name],) = ax.plot(
                    [],
                    [],
                    "o",
                    ms=1.6 if name != "body" else 2.5,
                    color=colour or GROUP_COLOURS[name],
                    alpha=alpha,
                    zorder=3,
                )
        self._a = {
            n: np.array([BONES[i][0] for i in ids]) for n, ids in BONE_GROUPS.items()
        }
        self._b = {
            n: np.array([BONES[i][1] for i in ids]) for n, ids in BONE_GROUPS.items()
        }
        if pose is not None:
            self.set_pose(pose)

    def set_pose(self, pose: np.ndarray) -> list:
        """Show frame ``pose`` (J, K) (only x, y are drawn); returns the artists."""
        xy = np.asarray(pose, dtype=np.float64)[:, :2]  # (J, 2)
        if self.hand_zoom != 1.0:
            xy = zoom_hands(xy, self.hand_zoom)
        for name, coll in self.collections.items():
            segs = np.stack([xy[self._a[name]], xy[self._b[name]]], axis=1)  # (n, 2, 2)
            coll.set_segments(segs)
            if name in self.markers:
                idx = list(GROUPS[name])
                self.markers[name].set_data(xy[idx, 0], xy[idx, 1])
        return self.artists

    @property
    def artists(self) -> list:
        return list(self.collections.values()) + list(self.markers.values())


def _style_axes(ax, limits) -> None:
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(limits[0], limits[1])
    ax.set_ylim(limits[3], limits[2])  # y grows downward, as in PT data
    ax.set_xticks([])
    ax.set_yticks([])


def auto_limits(
    sequences: Sequence[np.ndarray], margin: float = 0.06, hand_zoom: float = 1.0
) -> tuple[float, float, float, float]:
    """(x min, x max, y min, y max) holding every frame of every sequence (T, J, K)
    plus ``margin``, and at least :data:`DEFAULT_LIMITS`; one box for a whole
    animation keeps the scale fixed."""
    pts = np.concatenate([np.asarray(s)[..., :2].reshape(-1, 2) for s in sequences])
    if hand_zoom != 1.0:
        pts = np.concatenate(
            [
                zoom_hands(np.asarray(s)[..., :2], hand_zoom).reshape(-1, 2)
                for s in sequences
            ]
        )
    lo, hi = pts.min(0) - margin, pts.max(0) + margin
    d = DEFAULT_LIMITS
    return (min(lo[0], d[0]), max(hi[0], d[1]), min(lo[1], d[2]), max(hi[1], d[3]))


class FrameView:
    """One panel: the skeleton on ``ax`` and, with ``hands="inset"``, two insets that
    follow each hand at ``HAND_HALF_WIDTH`` zoom (upper corners, where the body never
    is: hand 8-28 on the left, hand 29-49 on the right, as they appear in the data).
    """

    def __init__(
        self,
        ax,
        pose: np.ndarray,
        hands: HandMode = "inset",
        limits: tuple[float, float, float, float] | None = None,
        hand_zoom: float = 2.0,
        lw: float = 2.0,
    ):
        if hands not in HAND_MODES:
            raise ValueError(f"hands={hands!r}; valid: {', '.join(HAND_MODES)}")
        zoom = hand_zoom if hands == "zoom" else 1.0
        limits = limits or auto_limits([np.asarray(pose)[None]], hand_zoom=zoom)
        self.ax = ax
        self.body = SkeletonArtist(ax, pose, lw=lw, hand_zoom=zoom)
        _style_axes(ax, limits)
        self.insets: dict[str, tuple] = {}
        if hands == "inset":
            for name, rect in (
                ("left_hand", (0.0, 0.66, 0.34, 0.34)),
                ("right_hand", (0.66, 0.66, 0.34, 0.34)),
            ):
                iax = ax.inset_axes(rect)
                iax.set_facecolor("#f7f7f7")
                for spine in iax.spines.values():
                    spine.set_edgecolor(GROUP_COLOURS[name])
                art = SkeletonArtist(iax, pose, lw=lw * 1.6)
                iax.set_aspect("equal", adjustable="box")
                iax.set_xticks([])
                iax.set_yticks([])
                self.insets[name] = (iax, art)
        self.set_pose(pose)

    def set_pose(self, pose: np.ndarray) -> list:
        """Show frame ``pose`` (J, K); returns the changed artists."""
        pose = np.asarray(pose)
        artists = self.body.set_pose(pose)
        for name, (iax, art) in self.insets.items():
            artists += art.set_pose(pose)
            c = pose[list(GROUPS[name]), :2].mean(0)
            h = HAND_HALF_WIDTH
            iax.set_xlim(c[0] - h, c[0] + h)
            iax.set_ylim(c[1] + h, c[1] - h)
        return artists


def draw_frame(
    ax,
    pose: np.ndarray,
    hands: HandMode = "inset",
    limits: tuple[float, float, float, float] | None = None,
    hand_zoom: float = 2.0,
    title: str | None = None,
) -> FrameView:
    """Draw one frame ``pose`` (J, K) of the 50-joint skeleton on ``ax``.

    Bones are coloured by group (body dark grey, hand 8-28 blue, hand 29-49 red),
    the aspect is fixed (1 unit of x = 1 unit of y) and y grows downward as in the
    data. ``hands``: "inset" adds a close-up of each hand, "zoom" enlarges the hands
    ``hand_zoom`` times about their roots in place, "plain" draws them at true size.
    ``limits`` (x min, x max, y min, y max) default to the frame's own box.
    """
    view = FrameView(ax, pose, hands=hands, limits=limits, hand_zoom=hand_zoom)
    if title:
        ax.set_title(title, fontsize=9)
    return view


def _hold(seq: np.ndarray, t: int) -> np.ndarray:
    """Frame ``t`` of ``seq``, or its last frame once ``t`` is past the end."""
    return seq[min(t, len(seq) - 1)]


def strip(
    sequences: Sequence[np.ndarray],
    titles: Sequence[str],
    every: int = 10,
    text: str | None = None,
    max_columns: int = 12,
    panel_size: float = 1.4,
    hands: HandMode = "zoom",
    hand_zoom: float = 1.8,
):
    """Static strip for papers: every ``every``-th frame (0, k, 2k, ...) of each
    sequence (T_i, J, K), one row per system, all panels on one scale.

    Rows shorter than the longest hold their last frame, drawn faint and marked
    "end". Returns the figure (the caller saves and closes it).
    """
    if every < 1:
        raise ValueError(f"every={every} must be >= 1")
    t_max = max(len(s) for s in sequences)
    times = list(range(0, t_max, every))[:max_columns]
    zoom = hand_zoom if hands == "zoom" else 1.0
    limits = auto_limits(sequences, hand_zoom=zoom)
    aspect = (limits[3] - limits[2]) / (limits[1] - limits[0])
    rows = len(sequences)
    fig, axes = plt.subplots(
        rows,
        len(times),
        figsize=(panel_size * len(times), panel_size * aspect * rows + 0.5),
        squeeze=False,
    )
    for r, (seq, label) in enumerate(zip(sequences, titles, strict=True)):
        seq = np.asarray(seq)
        for c, t in enumerate(times):
            ax = axes[r, c]
            ended = t >= len(seq)
            view = FrameView(
                ax,
                _hold(seq, t),
                hands="zoom" if zoom != 1 else "plain",
                limits=limits,
                hand_zoom=zoom,
            )
            if ended:
                for art in view.body.artists:
                    art.set_alpha(0.25)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
            if r == 0:
                ax.set_title(f"t={t}", fontsize=7)
            if ended:
                ax.text(
                    0.5,
                    0.02,
                    "end",
                    transform=ax.transAxes,
                    ha="center",
                    fontsize=6,
                    color="grey",
                )
    if text:
        fig.suptitle(text, fontsize=9)
    fig.tight_layout()
    return fig
