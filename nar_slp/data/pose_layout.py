"""Foreign ``.pose`` keypoint layouts (MediaPipe holistic, OpenPose) -> PT skeleton.

The PT joints are taken from the source points documented in :data:`LAYOUTS`:

========  =====================================  ==================================
PT joint  MediaPipe holistic                     OpenPose BODY_25 + hands
========  =====================================  ==================================
0 head    POSE_LANDMARKS NOSE                    pose_keypoints_2d Nose
1 neck    midpoint of the two shoulders          midpoint of the two shoulders
2, 3, 4   shoulder, elbow, wrist of arm A        same
5, 6, 7   shoulder, elbow, wrist of arm B        same
8-28      hand B landmarks 0-20 (WRIST first)    hand B keypoints 0-20 (BASE first)
29-49     hand A landmarks 0-20                  hand A keypoints 0-20
========  =====================================  ==================================

Both estimators list a hand as root, then thumb, index, middle, ring, pinky, four
points each from base to tip, the PT order. Arm A is the arm on the image's +x side
(PT-format PHOENIX has joint 2 at +x): with ``swap_sides=None`` it is chosen from the
median shoulder positions, so a mirrored (selfie) video maps the same way; ``False``
forces the source's LEFT arm to 2-4 (a front-facing signer's left arm appears on the
image's +x side), ``True`` its RIGHT arm. The hand roots (8, 29) come from the hand
models' wrist points; a body wrist that is missing where its hand root is present
takes the hand root's position. The missing points are then filled
(:mod:`nar_slp.data.gap_filling`).

Scale: every frame is translated so the neck is at the origin, then the sequence is
scaled so that its median shoulder width is
:data:`~nar_slp.data.gap_filling.PT_SHOULDER_WIDTH` (0.333, PT-format PHOENIX).
``z`` is 0 unless ``use_z`` (MediaPipe only: its z grows away from the camera, PT's
toward it; hand z is taken relative to the hand's wrist, and is the body wrist's
depth in frames where the hand's wrist landmark is missing).

:func:`point_index` and :func:`component_size` look points up in any pose-format
header (the PT layout's own included); :func:`map_layout` does the mapping above and
is called by :func:`nar_slp.data.pose_io.pose_to_pt`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nar_slp.data.gap_filling import PT_SHOULDER_WIDTH, fill_body, fill_hand
from nar_slp.skeleton import (
    JOINTS_PER_HAND,
    L_HAND_ROOT,
    L_WRIST,
    NUM_COORDS,
    NUM_JOINTS,
    R_HAND_ROOT,
    R_WRIST,
)


class PoseImportError(ValueError):
    """A ``.pose`` file cannot be mapped to the PT skeleton (unknown layout, or no
    shoulders in any frame); the message says what is missing."""


@dataclass(frozen=True)
class SourceLayout:
    """Where the PT joints are in a pose-format layout (component and point names).

    ``arms[side]`` = (shoulder, elbow, wrist) of the source's "left"/"right" arm;
    ``hands[side]`` = the hand component of that side (points in PT hand order).
    """

    name: str
    body: str
    head: str
    arms: dict[str, tuple[str, str, str]]
    hands: dict[str, str]
    z_away_from_camera: bool = False


LAYOUTS: dict[str, SourceLayout] = {
    "holistic": SourceLayout(
        name="holistic",
        body="POSE_LANDMARKS",
        head="NOSE",
        arms={
            "left": ("LEFT_SHOULDER", "LEFT_ELBOW", "LEFT_WRIST"),
            "right": ("RIGHT_SHOULDER", "RIGHT_ELBOW", "RIGHT_WRIST"),
        },
        hands={"left": "LEFT_HAND_LANDMARKS", "right": "RIGHT_HAND_LANDMARKS"},
        z_away_from_camera=True,
    ),
    "openpose": SourceLayout(
        name="openpose",
        body="pose_keypoints_2d",
        head="Nose",
        arms={
            "left": ("LShoulder", "LElbow", "LWrist"),
            "right": ("RShoulder", "RElbow", "RWrist"),
        },
        hands={"left": "hand_left_keypoints_2d", "right": "hand_right_keypoints_2d"},
    ),
}


def point_index(
    header, component: str, point: str | None = None, local: int | None = None
):
    """Index over all of ``header``'s points of ``component``'s point named ``point``
    (or at ``local`` within it); :class:`PoseImportError` if either is absent."""
    start = 0
    for c in header.components:
        if c.name == component:
            if point is not None:
                if point not in c.points:
                    raise PoseImportError(
                        f"point {point!r} not in component {component!r}"
                    )
                return start + c.points.index(point)
            return start + local
        start += len(c.points)
    raise PoseImportError(f"component {component!r} not in the .pose header")


def component_size(header, component: str) -> int:
    """Number of points of ``component``; :class:`PoseImportError` if it is absent."""
    for c in header.components:
        if c.name == component:
            return len(c.points)
    raise PoseImportError(f"component {component!r} not in the .pose header")


def map_layout(
    header, layout: SourceLayout, xyz, valid, swap_sides, max_gap, use_z, counts
) -> np.ndarray:
    """Source points xyz (T, N, 3), NaN where not ``valid`` (T, N), -> complete PT
    poses (T, J, K) (mapping, gap filling and scale as in the module doc); the filled
    frames go into ``counts``."""
    n_frames = len(xyz)
    arm_idx = {
        s: [point_index(header, layout.body, p) for p in layout.arms[s]]
        for s in ("left", "right")
    }
    hand_idx = {}
    for s in ("left", "right"):
        size = component_size(header, layout.hands[s])
        if size != JOINTS_PER_HAND:
            raise PoseImportError(
                f"hand component {layout.hands[s]!r} has {size} points, expected "
                f"{JOINTS_PER_HAND}"
            )
        hand_idx[s] = [
            point_index(header, layout.hands[s], local=k) for k in range(size)
        ]
    shoulders = {s: arm_idx[s][0] for s in ("left", "right")}
    both = valid[:, shoulders["left"]] & valid[:, shoulders["right"]]
    if not both.any():
        raise PoseImportError(
            f"no frame has both shoulders ({layout.arms['left'][0]}, "
            f"{layout.arms['right'][0]}): the neck and scale cannot be set"
        )
    if swap_sides is None:  # arm A = the one on the image's +x side
        lx = np.median(xyz[both, shoulders["left"], 0])
        rx = np.median(xyz[both, shoulders["right"], 0])
        side_a = "left" if lx >= rx else "right"
    else:
        side_a = "right" if swap_sides else "left"
    side_b = "right" if side_a == "left" else "left"

    head = point_index(header, layout.body, layout.head)
    body_src = [head, None, *arm_idx[side_a], *arm_idx[side_b]]
    body = np.full((n_frames, 8, 3), np.nan)
    body_ok = np.zeros((n_frames, 8), bool)
    for j, i in enumerate(body_src):
        if i is not None:
            body[:, j], body_ok[:, j] = xyz[:, i], valid[:, i]
    # neck = shoulders' midpoint, in the frames that have both
    body[:, 1] = (body[:, 2] + body[:, 5]) / 2
    body_ok[:, 1] = body_ok[:, 2] & body_ok[:, 5]
    hands = {}
    for side in (side_a, side_b):
        hands[side] = xyz[:, hand_idx[side]], valid[:, hand_idx[side]]
    # a missing body wrist takes its hand's root where that is present
    for side, wrist in ((side_a, R_WRIST), (side_b, L_WRIST)):
        h, ok = hands[side]
        take = ~body_ok[:, wrist] & ok[:, 0]
        body[take, wrist] = h[take, 0]
        body_ok[take, wrist] = True
    if layout.z_away_from_camera and use_z:
        body[..., 2] *= -1
    body = fill_body(body, body_ok, counts)
    body[:, 1] = (body[:, 2] + body[:, 5]) / 2  # keep the neck exactly centred

    poses = np.empty((n_frames, NUM_JOINTS, NUM_COORDS))
    poses[:, :8] = body
    for side, root, wrist, group in (
        (side_b, L_HAND_ROOT, L_WRIST, "left_hand"),
        (side_a, R_HAND_ROOT, R_WRIST, "right_hand"),
    ):
        h, ok = hands[side]
        h = h.copy()
        if use_z and layout.z_away_from_camera:
            # hand z is relative to the hand's own wrist: hang it on the body wrist;
            # where that landmark is missing the others keep x, y at the body
            # wrist's depth
            rel = np.where(ok[:, :1], h[..., 2] - h[:, :1, 2], 0.0)
            h[..., 2] = -rel + body[:, wrist, None, 2]
        elif not use_z:
            h[..., 2] = 0.0
        poses[:, root : root + JOINTS_PER_HAND] = fill_hand(
            h, ok, body[:, wrist], max_gap, group, counts
        )
    if not use_z:
        poses[..., 2] = 0.0
    neck = poses[:, 1:2].copy()  # (T, 1, K)
    poses = poses - neck
    width = np.linalg.norm(poses[:, 2, :2] - poses[:, 5, :2], axis=-1)  # (T,)
    return poses * (PT_SHOULDER_WIDTH / np.median(width))
