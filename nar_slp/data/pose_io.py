"""``.pose`` files (the pose-format library) in and out of the 50-joint PT skeleton.

Writing (:func:`write_pose`, :func:`pt_to_pose`)
    Three header components with component-local limbs and one RGB colour per point
    (pose-format's visualiser colours a limb by its two points):

    - ``PT50_BODY``: joints 0-7 (:data:`nar_slp.skeleton.JOINT_NAMES`), 7 limbs;
    - ``PT50_LEFT_HAND``: joints 8-28 (hand on wrist 7), 20 limbs;
    - ``PT50_RIGHT_HAND``: joints 29-49 (hand on wrist 4), 20 limbs.

    A limb cannot join two components, so the two wrist -> hand-root bones (~0.04
    units long) are not in the header. Format ``XYZC``, confidence 1, fps 25.
    Coordinates go into a ``POSE_FRAME_PX`` x ``POSE_FRAME_PX`` pixel frame:
    ``px = x * s + W/2``, ``py = y * s + H * NECK_Y_FRACTION``, ``pz = z * s`` with
    ``s = W / FRAME_UNITS`` pixels per .skels unit, so the PT extent (x -0.44..0.43,
    y -0.37..0.62) lies inside the canvas that pose-format's visualiser draws, y down.

Reading (:func:`read_pose`, :func:`pose_to_pt`)
    Files written here are inverted exactly (to float32). Other layouts are mapped to
    the PT skeleton, documented in :data:`LAYOUTS`:

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
    points each from base to tip, the PT order. Arm A is the arm on the image's +x
    side (PT-format PHOENIX has joint 2 at +x): with ``swap_sides=None`` it is chosen
    from the median shoulder positions, so a mirrored (selfie) video maps the same
    way; ``False`` forces the source's LEFT arm to 2-4 (a front-facing signer's left
    arm appears on the image's +x side), ``True`` its RIGHT arm. The hand roots
    (8, 29) come from the hand models' wrist points; a body wrist that is missing
    where its hand root is present takes the hand root's position.

    Gaps: a point is missing where its confidence is 0, it is masked, not finite, or
    at (0, 0) in pixels. Body joints are interpolated linearly over interior gaps and
    hold their nearest value at either end; a body joint absent from every frame is
    placed where the PT mean pose has it, relative to the neck and scaled by the
    shoulder width. Hand points are interpolated (relative to their wrist, so the
    hand moves with the arm) over gaps of at most ``max_gap`` frames; in longer gaps,
    or where a hand is absent at the start, end or throughout, the hand root
    collapses onto its wrist and the other points onto the hand root. A
    :class:`PoseGapWarning` says how many frames were filled; the counts are also in
    :attr:`PTImport.filled`. No joint is ever left NaN or at a pixel-origin.

    Scale: every frame is translated so the neck is at the origin, then the sequence
    is scaled so that its median shoulder width is :data:`PT_SHOULDER_WIDTH` (0.333,
    PT-format PHOENIX). ``z`` is 0 unless ``use_z`` (MediaPipe only: its z grows away
    from the camera, PT's toward it; hand z is taken relative to the hand's wrist).
    Finally the sequence is resampled linearly in time to ``fps`` (25).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nar_slp.skeleton import (
    BONES,
    GROUPS,
    JOINT_NAMES,
    JOINTS_PER_HAND,
    L_HAND_ROOT,
    L_WRIST,
    NUM_COORDS,
    NUM_JOINTS,
    R_HAND_ROOT,
    R_WRIST,
)

FPS = 25.0
POSE_FRAME_PX = 512  # width = height of the pixel frame written to .pose headers
FRAME_UNITS = 1.28  # .skels units across that frame: 400 px per unit at 512 px
NECK_Y_FRACTION = 0.32  # the neck's height in the frame (y in -0.41..0.87 fits)
PT_SHOULDER_WIDTH = 0.333  # mean |joint 2 - joint 5| in PT-format PHOENIX

COMPONENTS = {
    "PT50_BODY": "body",
    "PT50_LEFT_HAND": "left_hand",
    "PT50_RIGHT_HAND": "right_hand",
}
GROUP_RGB = {
    "body": (51, 51, 51),
    "left_hand": (31, 119, 180),
    "right_hand": (214, 39, 40),
}

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


class PoseImportError(ValueError):
    """A ``.pose`` file cannot be mapped to the PT skeleton (unknown layout, or no
    shoulders in any frame); the message says what is missing."""


class PoseGapWarning(UserWarning):
    """Missing points were filled while importing a ``.pose`` file."""


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


@dataclass
class PTImport:
    """A ``.pose`` sequence in the PT skeleton.

    poses: (T, J, K) float32 at ``fps``, neck at the origin, y down;
    layout: "pt50" | "holistic" | "openpose"; source_fps: the file's frame rate;
    filled: frames filled per part (source frames, before resampling), e.g.
    ``{"body": 2, "left_hand interpolated": 5, "left_hand collapsed": 40}``.
    """

    poses: np.ndarray
    layout: str
    source_fps: float
    fps: float = FPS
    filled: dict[str, int] = field(default_factory=dict)


# ------------------------------------------------------------------------- writing


def pt50_header(width: int = POSE_FRAME_PX, height: int = POSE_FRAME_PX):
    """The pose-format header describing the 50 PT joints (see the module doc)."""
    from pose_format.pose_header import (
        PoseHeader,
        PoseHeaderComponent,
        PoseHeaderDimensions,
    )

    components = []
    for comp_name, group in COMPONENTS.items():
        idx = GROUPS[group]
        local = {j: k for k, j in enumerate(idx)}
        limbs = [(local[a], local[b]) for a, b in BONES if a in local and b in local]
        components.append(
            PoseHeaderComponent(
                name=comp_name,
                points=[JOINT_NAMES[j] for j in idx],
                limbs=limbs,
                colors=[GROUP_RGB[group]] * len(idx),
                point_format="XYZC",
            )
        )
    dims = PoseHeaderDimensions(width=width, height=height, depth=width)
    return PoseHeader(version=0.2, dimensions=dims, components=components)


def _pixel_transform(width: int, height: int) -> tuple[float, np.ndarray]:
    """(pixels per unit, pixel position of the origin (x, y, z))."""
    return width / FRAME_UNITS, np.array([width / 2, height * NECK_Y_FRACTION, 0.0])


def pt_to_pose(poses: np.ndarray, fps: float = FPS, width: int = POSE_FRAME_PX):
    """PT poses (T, J, K) -> a pose-format ``Pose`` (one person, confidence 1)."""
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose import Pose

    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS, NUM_COORDS):
        raise ValueError(
            f"poses must be (T, {NUM_JOINTS}, {NUM_COORDS}), got {poses.shape}"
        )
    if not np.isfinite(poses).all():
        raise ValueError("poses contain NaN or inf")
    header = pt50_header(width, width)
    scale, origin = _pixel_transform(width, width)
    px = (poses * scale + origin).astype(np.float32)[:, None]  # (T, 1, J, K)
    confidence = np.ones(px.shape[:3], dtype=np.float32)  # (T, 1, J)
    return Pose(header, NumPyPoseBody(fps=fps, data=px, confidence=confidence))


def write_pose(
    path: str | Path, poses: np.ndarray, fps: float = FPS, width: int = POSE_FRAME_PX
) -> Path:
    """Write PT poses (T, J, K) to a ``.pose`` file (see :func:`pt_to_pose`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    pt_to_pose(poses, fps=fps, width=width).write(buf)
    path.write_bytes(buf.getvalue())
    return path


# ------------------------------------------------------------------------- reading


def read_pose(path: str | Path, **kwargs) -> PTImport:
    """Read a ``.pose`` file into the PT skeleton (kwargs: see :func:`pose_to_pt`)."""
    from pose_format.pose import Pose

    return pose_to_pt(Pose.read(Path(path).read_bytes()), **kwargs)


def detect_layout(header) -> str:
    """The layout ("pt50", "holistic" or "openpose") from the component names, else
    :class:`PoseImportError` listing the names found and the layouts supported."""
    names = [c.name for c in header.components]
    if set(COMPONENTS) <= set(names):
        return "pt50"
    for key, layout in LAYOUTS.items():
        if layout.body in names:
            return key
    raise PoseImportError(
        f"unknown .pose layout with components {names}; supported: written by "
        f"nar_slp ({', '.join(COMPONENTS)}), MediaPipe holistic "
        f"({LAYOUTS['holistic'].body} + hands) or OpenPose "
        f"({LAYOUTS['openpose'].body} + hands)"
    )


def _points(pose, person: int):
    """xyz (T, N, 3) float64 (z = 0 for 2-D formats) and valid (T, N) of a person."""
    data = pose.body.data
    xyz = np.asarray(np.ma.getdata(data), dtype=np.float64)[:, person]  # (T, N, D)
    mask = np.ma.getmaskarray(data)[:, person].any(-1)  # (T, N)
    conf = np.asarray(np.ma.getdata(pose.body.confidence), dtype=np.float64)[:, person]
    if xyz.shape[-1] == 2:
        xyz = np.concatenate([xyz, np.zeros_like(xyz[..., :1])], axis=-1)
    valid = (
        (conf > 0)
        & ~mask
        & np.isfinite(xyz).all(-1)
        & ~((xyz[..., 0] == 0) & (xyz[..., 1] == 0))
    )
    xyz = np.where(valid[..., None], xyz, np.nan)
    return xyz, valid


def _index(header, component: str, point: str | None = None, local: int | None = None):
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


def _component_size(header, component: str) -> int:
    for c in header.components:
        if c.name == component:
            return len(c.points)
    raise PoseImportError(f"component {component!r} not in the .pose header")


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


def _fill_body(xyz: np.ndarray, valid: np.ndarray, counts: dict) -> np.ndarray:
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


def _fill_hand(
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


def _resample(poses: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Linear resampling in time of (T, J, K) from ``fps_in`` to ``fps_out``."""
    if abs(fps_in - fps_out) < 1e-6 or len(poses) < 2:
        return poses
    n_out = int(round((len(poses) - 1) * fps_out / fps_in)) + 1
    t = np.arange(n_out) * fps_in / fps_out  # positions in source frames
    t = np.minimum(t, len(poses) - 1)
    i0 = np.floor(t).astype(int)
    i1 = np.minimum(i0 + 1, len(poses) - 1)
    w = (t - i0)[:, None, None]
    return poses[i0] * (1 - w) + poses[i1] * w


def pose_to_pt(
    pose,
    swap_sides: bool | None = None,
    max_gap: int = 12,
    fps: float = FPS,
    use_z: bool = False,
    person: int = 0,
) -> PTImport:
    """Map a pose-format ``Pose`` onto the PT skeleton (mapping, gap filling and
    scaling as in the module doc).

    Args:
        pose: a ``pose_format.Pose`` in the nar_slp, MediaPipe-holistic or OpenPose
            (BODY_25 + hands) layout.
        swap_sides: None: arm on the image's +x side -> joints 2-4; False: the
            source's LEFT arm -> 2-4; True: its RIGHT arm -> 2-4.
        max_gap: longest hand gap (source frames) that is interpolated.
        fps: frame rate of the result (frames per second).
        use_z: keep MediaPipe depth (else z = 0).
        person: which person of a multi-person file.

    Raises:
        PoseImportError: unknown layout, or no frame with both shoulders.
    """
    header, source_fps = pose.header, float(pose.body.fps)
    layout_name = detect_layout(header)
    xyz, valid = _points(pose, person)  # (T, N, 3), (T, N)
    counts: dict[str, np.ndarray] = {}  # part -> (T,) frames filled
    if layout_name == "pt50":
        idx = [
            _index(header, c, JOINT_NAMES[j])
            for c, g in COMPONENTS.items()
            for j in GROUPS[g]
        ]
        scale, origin = _pixel_transform(
            header.dimensions.width, header.dimensions.height
        )
        poses = (xyz[:, idx] - origin) / scale  # (T, J, K)
        ok = valid[:, idx]
        if not ok.all():
            body = _fill_body(poses[:, :8], ok[:, :8], counts)
            poses[:, :8] = body
            for group, wrist in (("left_hand", L_WRIST), ("right_hand", R_WRIST)):
                g = list(GROUPS[group])
                poses[:, g] = _fill_hand(
                    poses[:, g], ok[:, g], body[:, wrist], max_gap, group, counts
                )
    else:
        poses = _map_layout(
            header, LAYOUTS[layout_name], xyz, valid, swap_sides, max_gap, use_z, counts
        )
    poses = _resample(poses, source_fps, fps)
    filled = {k: int(v.sum()) for k, v in counts.items()}
    if counts:
        total = int(np.logical_or.reduce(list(counts.values())).sum())
        detail = "; ".join(f"{k}: {v}" for k, v in filled.items())
        warnings.warn(
            f"filled missing points in {total} of {len(xyz)} frames "
            f"(frames per part: {detail})",
            PoseGapWarning,
            stacklevel=2,
        )
    if not np.isfinite(poses).all():  # a bug, not a data problem
        raise AssertionError("pose_to_pt left a non-finite value")
    return PTImport(poses.astype(np.float32), layout_name, source_fps, fps, filled)


def _map_layout(
    header, layout: SourceLayout, xyz, valid, swap_sides, max_gap, use_z, counts
) -> np.ndarray:
    n_frames = len(xyz)
    arm_idx = {
        s: [_index(header, layout.body, p) for p in layout.arms[s]]
        for s in ("left", "right")
    }
    hand_idx = {}
    for s in ("left", "right"):
        size = _component_size(header, layout.hands[s])
        if size != JOINTS_PER_HAND:
            raise PoseImportError(
                f"hand component {layout.hands[s]!r} has {size} points, expected "
                f"{JOINTS_PER_HAND}"
            )
        hand_idx[s] = [_index(header, layout.hands[s], local=k) for k in range(size)]
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

    head = _index(header, layout.body, layout.head)
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
    body = _fill_body(body, body_ok, counts)
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
            # hand z is relative to the hand's own wrist: hang it on the body wrist
            h[..., 2] = -(h[..., 2] - h[:, :1, 2]) + body[:, wrist, None, 2]
        elif not use_z:
            h[..., 2] = 0.0
        poses[:, root : root + JOINTS_PER_HAND] = _fill_hand(
            h, ok, body[:, wrist], max_gap, group, counts
        )
    if not use_z:
        poses[..., 2] = 0.0
    neck = poses[:, 1:2].copy()  # (T, 1, K)
    poses = poses - neck
    width = np.linalg.norm(poses[:, 2, :2] - poses[:, 5, :2], axis=-1)  # (T,)
    return poses * (PT_SHOULDER_WIDTH / np.median(width))
