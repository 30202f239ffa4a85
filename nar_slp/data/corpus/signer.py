"""Signers of the bundled corpus: body proportions, arm inverse kinematics, 3-D hands.

Coordinates follow PT-format PHOENIX-2014T (``docs/phoenix_reference.md``): the neck is
the origin, x grows towards the image's right, y grows downward, z grows toward the
camera; units are those of the ``.skels`` files (a shoulder is ~0.17 from the neck).

The signing ("dominant") arm is the one on the image's -x side (joints 5-6-7, hand
8-28), as for a right-handed signer filmed face-on; the other arm is 2-3-4 with hand
29-49. Trajectories are planned in *dominant space*: the non-dominant hand's plan is
written as if it were the dominant hand and mirrored (x -> -x) at the very end, so a
symmetric two-handed sign simply reuses the dominant plan.

Everything here is vectorised over frames: arrays carry a leading T axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nar_slp.skeleton import JOINTS_PER_HAND

SIGNER_SEED = 20220  # signers are the same for every corpus seed
MIRROR = np.array([-1.0, 1.0, 1.0])  # x -> -x: dominant space <-> the other side

# Canonical hand, in hand-local coordinates (u along the fingers, r toward the thumb
# side, n out of the palm). Lengths from the PHOENIX measurements (root = hand root).
_FINGER_BASE_LEN = np.array([0.082, 0.076, 0.069, 0.064])  # root -> index..pinky base
_FINGER_BASE_ANGLE = np.array([0.22, 0.03, -0.15, -0.33])  # rad, radial (+) / ulnar (-)
_FINGER_SPLAY = np.array([0.14, 0.0, -0.12, -0.26])  # rad at full spread
_FINGER_BONES = np.array(  # (4 fingers, 3 phalanges)
    [
        [0.041, 0.025, 0.022],
        [0.045, 0.028, 0.023],
        [0.042, 0.026, 0.022],
        [0.032, 0.021, 0.019],
    ]
)
_FLEX_ANGLES = np.array([1.45, 1.70, 1.10])  # rad per unit flexion: MCP, PIP, DIP
# Share of that flexion each finger reaches (index..pinky): hands lifted from video
# seldom show a fully closed ring or pinky (real PHOENIX dominant hand: ring and
# pinky tip-root distance 0.126 / 0.110 on average, i.e. mostly open).
_FLEX_REACH = np.array([0.9, 0.85, 0.55, 0.5])
_THUMB_BONES = np.array([0.033, 0.041, 0.032, 0.028])
_ROOT_OFFSET = np.array([0.034, 0.0, -0.021])  # wrist -> hand root, length ~0.040

# Hand-shape parameter vector (7 values): flexion of thumb, index, middle, ring, pinky
# (0 straight .. 1 curled), finger spread (0..1), thumb abduction (0 along the palm,
# 1 sticking out as in an "L").
N_SHAPE = 7


@dataclass(frozen=True)
class Signer:
    """Body proportions and personal style of one signer (units of the .skels files)."""

    index: int
    shoulder_half_width: float  # neck -> shoulder, x component
    shoulder_drop: float  # shoulder y below the neck
    shoulder_fwd: float  # shoulder z
    upper_arm: float
    forearm: float
    hand_scale: float  # multiplies every hand bone
    head: tuple[float, float, float]  # neck -> head vector at rest
    space_scale: float  # how far this signer's signs reach (about arm length / 0.53)
    space_offset: tuple[float, float, float]  # where this signer's signing space sits
    rest: tuple[float, float, float]  # dominant-space wrist rest target
    # dominant-space elbow direction hint: down and a little outward, so elbows hang
    # below the shoulders (real PHOENIX: dominant elbow above its shoulder ~0.2 %)
    elbow_pole: tuple[float, float, float]
    tempo: float  # > 1: slower signer (durations are multiplied)
    sway: float  # amplitude factor for idle body and head motion

    @property
    def neck_shoulder(self) -> float:
        """Neck-shoulder bone length (constant over time)."""
        return float(
            np.linalg.norm(
                [self.shoulder_half_width, self.shoulder_drop, self.shoulder_fwd]
            )
        )


def make_signers(n: int, seed: int = SIGNER_SEED) -> list[Signer]:
    """``n`` signers with distinct proportions; signer i depends only on (seed, i).

    Proportions are drawn around the PHOENIX means (upper arm 0.306, forearm 0.224,
    neck-shoulder 0.170, head-neck 0.208) with between-signer spreads of a few percent.
    Signer 0 is the average body.
    """
    if n < 1:
        raise ValueError(f"n_signers must be >= 1, got {n}")
    signers = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        z = rng.standard_normal(16) if i > 0 else np.zeros(16)
        size = 1.0 + 0.045 * z[0]  # overall body size
        upper = 0.306 * size * (1.0 + 0.03 * z[1])
        fore = 0.224 * size * (1.0 + 0.04 * z[2])
        half = 0.166 * (1.0 + 0.05 * z[3])
        head_len = 0.208 * (1.0 + 0.06 * z[4])
        yaw, tilt = 0.12 * z[5], 0.12 * z[6]
        head_dir = np.array([-0.029, -0.194, -0.036])
        head_dir = head_dir / np.linalg.norm(head_dir)
        head_dir = head_dir + np.array([tilt, 0.0, yaw])
        head = head_len * head_dir / np.linalg.norm(head_dir)
        reach = (upper + fore) / 0.530
        signers.append(
            Signer(
                index=i,
                shoulder_half_width=float(half),
                shoulder_drop=float(0.008 + 0.008 * z[7]),
                shoulder_fwd=float(0.018 + 0.008 * z[8]),
                upper_arm=float(upper),
                forearm=float(fore),
                hand_scale=float(size * (1.0 + 0.06 * z[9])),
                head=tuple(float(v) for v in head),
                space_scale=float(reach * (1.0 + 0.04 * z[10])),
                space_offset=(
                    float(0.012 * z[11]),
                    float(0.015 * z[12]),
                    float(0.015 * z[13]),
                ),
                rest=(float(-0.15 + 0.015 * z[14]), float(0.34 + 0.02 * z[15]), 0.10),
                elbow_pole=(
                    float(-0.5 - 0.08 * z[11]),
                    1.0,
                    float(-0.15 + 0.08 * z[12]),
                ),
                tempo=float(np.exp(0.07 * z[13])),
                sway=float(np.exp(0.2 * z[14])),
            )
        )
    return signers


SIGNERS: list[Signer] = make_signers(8)


def shoulders(signer: Signer) -> tuple[np.ndarray, np.ndarray]:
    """Rest positions of the (non-dominant 2, dominant 5) shoulders, each (3,)."""
    s = np.array(
        [signer.shoulder_half_width, signer.shoulder_drop, signer.shoulder_fwd]
    )
    return s, s * MIRROR


def two_link_ik(
    shoulder: np.ndarray,
    target: np.ndarray,
    upper: float,
    fore: float,
    pole: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Analytic two-link inverse kinematics for an arm.

    Args:
        shoulder: (T, 3) shoulder positions.
        target: (T, 3) desired wrist positions.
        upper, fore: segment lengths (constant, so bone lengths never change).
        pole: (3,) or (T, 3) direction the elbow should point to (outward and down).

    Returns:
        elbow (T, 3) and wrist (T, 3). A target out of reach is replaced by the nearest
        reachable point on the shoulder-target line.
    """
    d_vec = target - shoulder  # (T, 3)
    d = np.linalg.norm(d_vec, axis=-1, keepdims=True)  # (T, 1)
    u = d_vec / np.maximum(d, 1e-9)
    d = np.clip(d, abs(upper - fore) + 1e-3, upper + fore - 1e-4)
    x = (upper**2 - fore**2 + d**2) / (2.0 * d)  # along the shoulder-wrist axis
    r = np.sqrt(np.maximum(upper**2 - x**2, 0.0))  # elbow distance from that axis
    pole = np.broadcast_to(pole, d_vec.shape)
    p = pole - np.sum(pole * u, axis=-1, keepdims=True) * u
    p = p / np.maximum(np.linalg.norm(p, axis=-1, keepdims=True), 1e-9)
    elbow = shoulder + x * u + r * p
    wrist = shoulder + d * u
    return elbow, wrist


# --------------------------------------------------------------------------- rotations
def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) as (w, x, y, z) -> rotation matrices (..., 3, 3)."""
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    m = np.stack(
        [
            1 - 2 * (y * y + z * z),
            2 * (x * y - w * z),
            2 * (x * z + w * y),
            2 * (x * y + w * z),
            1 - 2 * (x * x + z * z),
            2 * (y * z - w * x),
            2 * (x * z - w * y),
            2 * (y * z + w * x),
            1 - 2 * (x * x + y * y),
        ],
        axis=-1,
    )
    return m.reshape(q.shape[:-1] + (3, 3))


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """One rotation matrix (3, 3) -> unit quaternion (4,) with w >= 0."""
    tr = np.trace(m)
    if tr > 0:
        s = 2.0 * np.sqrt(tr + 1.0)
        q = [
            0.25 * s,
            (m[2, 1] - m[1, 2]) / s,
            (m[0, 2] - m[2, 0]) / s,
            (m[1, 0] - m[0, 1]) / s,
        ]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = np.zeros(4)
        q[0] = (m[k, j] - m[j, k]) / s
        q[1 + i] = 0.25 * s
        q[1 + j] = (m[j, i] + m[i, j]) / s
        q[1 + k] = (m[k, i] + m[i, k]) / s
    q = np.asarray(q, dtype=float)
    return q * (1.0 if q[0] >= 0 else -1.0) / np.linalg.norm(q)


def frame_quat(
    fingers: tuple[float, float, float], palm: tuple[float, float, float]
) -> np.ndarray:
    """Quaternion (4,) of a dominant hand whose fingers point along ``fingers`` and
    whose palm faces ``palm`` (dominant space; ``palm`` is orthogonalised)."""
    u = np.asarray(fingers, float)
    u = u / np.linalg.norm(u)
    n = np.asarray(palm, float)
    n = n - (n @ u) * u
    n = n / np.linalg.norm(n)
    r = np.cross(n, u)  # thumb side of a right hand
    return matrix_to_quat(np.stack([u, r, n], axis=1))


def rotation_xyz(pitch: np.ndarray, yaw: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Rotation matrices (T, 3, 3) from angles (T,) about x, y and z (radians)."""
    cx, sx = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(yaw), np.sin(yaw)
    cz, sz = np.cos(roll), np.sin(roll)
    o, z = np.ones_like(pitch), np.zeros_like(pitch)
    rx = np.stack([o, z, z, z, cx, -sx, z, sx, cx], -1).reshape(-1, 3, 3)
    ry = np.stack([cy, z, sy, z, o, z, -sy, z, cy], -1).reshape(-1, 3, 3)
    rz = np.stack([cz, -sz, z, sz, cz, z, z, z, o], -1).reshape(-1, 3, 3)
    return rz @ ry @ rx


# ----------------------------------------------------------------------------- hands
def hand_local(shape: np.ndarray, scale: float) -> np.ndarray:
    """Hand joints in hand-local (u, r, n) coordinates from shape parameters.

    Args:
        shape: (T, 7) flexion of thumb..pinky, spread, thumb abduction.
        scale: the signer's hand size factor.

    Returns:
        (T, 21, 3): the wrist -> root offset for joint 0 is *not* included (root at 0);
        OpenPose order root, thumb 1-4, index 1-4, middle, ring, pinky.
        Each bone is built with a fixed length, so hand bone lengths never change.
    """
    t = shape.shape[0]
    flex = np.clip(shape[:, :5], 0.0, 1.0)  # (T, 5)
    spread = np.clip(shape[:, 5:6], 0.0, 1.0)  # (T, 1)
    abd = np.clip(shape[:, 6:7], 0.0, 1.0)  # (T, 1)
    out = np.zeros((t, JOINTS_PER_HAND, 3))

    # Four fingers: base on an arc around the root, then a planar flexion chain that
    # curls toward the palm (+n) in the plane of the finger's splay direction.
    base = _FINGER_BASE_LEN * scale  # (4,)
    out[:, 5::4, 0] = base * np.cos(_FINGER_BASE_ANGLE)
    out[:, 5::4, 1] = base * np.sin(_FINGER_BASE_ANGLE)
    splay = _FINGER_SPLAY * (0.25 + 1.0 * spread)  # (T, 4)
    cum = np.cumsum(
        (flex[:, 1:] * _FLEX_REACH)[..., None] * _FLEX_ANGLES, axis=-1
    )  # (T, 4, 3)
    ca = np.cos(cum)
    d = np.stack(  # (T, 4, 3 phalanges, 3 coords)
        [
            ca * np.cos(splay)[..., None],
            ca * np.sin(splay)[..., None],
            np.sin(cum),
        ],
        axis=-1,
    )
    seg = d * (_FINGER_BONES * scale)[None, :, :, None]
    joints = out[:, 5::4, None, :] + np.cumsum(seg, axis=2)  # (T, 4, 3, 3)
    for k in range(3):
        out[:, 6 + k :: 4] = joints[:, :, k]  # PIP, DIP, tip of the four fingers

    # Thumb: a fixed carpometacarpal bone, then three bones whose direction swings out
    # with abduction and across/into the palm with flexion.
    first = np.array([np.cos(0.95), np.sin(0.95), 0.30])
    first = first / np.linalg.norm(first)
    out[:, 1] = _THUMB_BONES[0] * scale * first
    ft = flex[:, :1]  # (T, 1)
    # a fully flexed thumb folds across the palm (tip-root ~0.075 instead of ~0.13)
    gam = 0.25 + 0.85 * abd - ft * np.array([0.6, 2.2, 2.4])  # (T, 3)
    zeta = 0.45 * (1.0 - abd) + ft * np.array([0.1, 0.3, 0.6])  # (T, 3)
    dt = np.stack([np.cos(gam), np.sin(gam), zeta], axis=-1)  # (T, 3, 3)
    dt = dt / np.linalg.norm(dt, axis=-1, keepdims=True)
    out[:, 2:5] = out[:, 1:2] + np.cumsum(
        dt * (_THUMB_BONES[1:] * scale)[:, None], axis=1
    )
    return out


def hand_offsets(shape: np.ndarray, quat: np.ndarray, scale: float) -> np.ndarray:
    """Dominant-space hand joints relative to the wrist.

    Args:
        shape: (T, 7) shape parameters; quat: (T, 4) hand orientation; scale: hand size.

    Returns:
        (T, 21, 3) offsets from the wrist (root included, ~0.040 from the wrist).
    """
    local = hand_local(shape, scale) + _ROOT_OFFSET * scale  # (T, 21, 3)
    rot = quat_to_matrix(quat)  # (T, 3, 3), columns u, r, n
    return np.einsum("tij,tkj->tki", rot, local)
