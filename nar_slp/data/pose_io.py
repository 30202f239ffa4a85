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
    Files written here are inverted exactly (to float32). MediaPipe holistic and
    OpenPose (BODY_25 + hands) files are mapped to the PT skeleton, neck at the
    origin and rescaled, by :mod:`nar_slp.data.pose_layout`; :func:`detect_layout`
    tells the three apart from the component names.

    Gaps: a point is missing where its confidence is 0, it is masked, not finite, or
    at (0, 0) in pixels; missing points are filled by :mod:`nar_slp.data.gap_filling`
    (body joints interpolated or held, hands interpolated relative to their wrist or
    collapsed onto it). A :class:`PoseGapWarning` says how many frames were filled;
    the counts are also in :attr:`PTImport.filled`. No joint is ever left NaN or at a
    pixel-origin.

    Finally the sequence is resampled linearly in time to ``fps`` (25).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nar_slp.data.gap_filling import fill_body, fill_hand
from nar_slp.data.pose_layout import LAYOUTS, PoseImportError, map_layout, point_index
from nar_slp.skeleton import (
    BONES,
    GROUPS,
    JOINT_NAMES,
    L_WRIST,
    NUM_COORDS,
    NUM_JOINTS,
    R_WRIST,
)

FPS = 25.0
POSE_FRAME_PX = 512  # width = height of the pixel frame written to .pose headers
FRAME_UNITS = 1.28  # .skels units across that frame: 400 px per unit at 512 px
NECK_Y_FRACTION = 0.32  # the neck's height in the frame (y in -0.41..0.87 fits)

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


class PoseGapWarning(UserWarning):
    """Missing points were filled while importing a ``.pose`` file."""


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
    """Map a pose-format ``Pose`` onto the PT skeleton (as in the module doc; mapping
    and scaling: :mod:`nar_slp.data.pose_layout`, gap filling:
    :mod:`nar_slp.data.gap_filling`).

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
            point_index(header, c, JOINT_NAMES[j])
            for c, g in COMPONENTS.items()
            for j in GROUPS[g]
        ]
        scale, origin = _pixel_transform(
            header.dimensions.width, header.dimensions.height
        )
        poses = (xyz[:, idx] - origin) / scale  # (T, J, K)
        ok = valid[:, idx]
        if not ok.all():
            body = fill_body(poses[:, :8], ok[:, :8], counts)
            poses[:, :8] = body
            for group, wrist in (("left_hand", L_WRIST), ("right_hand", R_WRIST)):
                g = list(GROUPS[group])
                poses[:, g] = fill_hand(
                    poses[:, g], ok[:, g], body[:, wrist], max_gap, group, counts
                )
    else:
        poses = map_layout(
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
