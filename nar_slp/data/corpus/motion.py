"""Turning a gloss sequence into a 50-joint pose sequence.

Pipeline for one sentence (all arrays vectorised over frames T); steps 1 and 2 are
:func:`~nar_slp.data.corpus.motion_plan.plan_sentence`, the others :func:`realise`:

1. Plan, in dominant space, a per-frame state for both hands: wrist target (3), hand
   shape (7), hand orientation quaternion (4). Each hand starts and ends in a posture
   drawn per sequence (arm hanging, hands in the lap, at table height, ready to sign;
   sometimes the clip opens or closes mid-movement). For each gloss a minimum-jerk
   transition whose duration grows with the distance to travel is followed by the
   sign's own movement. Tempo varies per sentence and per sign. Sign locations are
   mapped into the signer's signing space (``motion_plan._Planner.space``): lateral,
   in front of the body, head-height signs lowered.
2. The non-dominant hand has its own idle track (``motion_plan.idle_track``): it
   rests in varied places, drifts and moves between rests at its own times, with its
   own relaxed hand shapes; it joins the plan only around two-handed signs.
3. Coarticulation: Gaussian smoothing rounds off the corners between transitions and
   signs; hand-shape channels are smoothed more, finger by finger, so a shape change
   spreads over time.
4. Body: slow torso sway and head motion (rotations about the neck), and each
   shoulder girdle rotating about the neck (raised with the hand, forward with reach).
5. Arms by two-link inverse kinematics from the wrist targets with a downward and
   outward elbow preference (bone lengths constant), hands from shape and orientation
   (finger bone lengths constant), mirrored for the non-dominant side.
6. Optionally (``noise=True``, the default) the estimation noise of lifted video pose
   estimates (:class:`EstimationNoise`), drawn from its own random stream, so switching
   it off leaves exactly the clean signing. The neck stays at the origin.

Reference figures for the targets of every step: ``docs/phoenix_reference.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import lfilter

from nar_slp.data.corpus.lexicon import Sign
from nar_slp.data.corpus.motion_plan import (
    DOM,
    NONDOM,
    POS,
    QUAT,
    SHAPE,
    STATE,
    plan_sentence,
    smooth_noise,
)
from nar_slp.data.corpus.signer import (
    MIRROR,
    Signer,
    hand_offsets,
    rotation_xyz,
    shoulders,
    two_link_ik,
)
from nar_slp.skeleton import (
    HEAD,
    L_ELBOW,
    L_HAND_ROOT,
    L_SHOULDER,
    L_WRIST,
    NUM_JOINTS,
    R_ELBOW,
    R_HAND_ROOT,
    R_SHOULDER,
    R_WRIST,
)

# Step 3, coarticulation (frames at 25 fps; scaled by fps / 25).
SMOOTH_SIGMA = 1.2  # coarticulation smoothing of positions and orientations (frames)
# Hand-shape smoothing per channel (thumb..pinky flexion, spread, thumb abduction):
# wider than the positions' and different per finger, so a shape change is spread
# over ~0.3 s with the fingers not moving in lock-step.
SHAPE_SIGMA = (3.0, 1.8, 2.3, 2.8, 3.3, 2.5, 3.5)


@dataclass(frozen=True)
class EstimationNoise:
    """Noise of poses estimated from video (OpenPose 2-D + lifting to 3-D), as in
    PT-format PHOENIX-2014T; see ``docs/phoenix_reference.md``.

    Every component is a stationary AR(1) process x_t = phi x_{t-1} + e_t (std the
    stationary standard deviation; lag-1 autocorrelation phi at 25 fps) added to the
    clean motion *before* inverse kinematics and hand building, so bone lengths stay
    constant, and then one global scale per frame multiplies every joint (neck at the
    origin): every bone varies by the same ~2 % and bone-length ratios stay constant,
    as in the real data (independent per-joint noise would make finger bones vary
    far more than arm bones).

    Values are set so that the statistics of ``nar_slp.data.realism`` on the default
    corpus match the real figures: wrist-velocity energy above 4 Hz ~0.22 and lag-1
    autocorrelation of wrist velocity ~0.62 (clean signing: ~0.03 and ~0.9), bone
    lengths ~2 % CV, thumb tip-root distance std ~0.02, shoulder std y/z ~0.014/0.021.
    """

    wrist_std: float = 0.0055  # wrist target, per coordinate (.skels units)
    wrist_phi: float = 0.35
    hand_rot_std: float = 0.10  # hand orientation, radians per axis
    hand_rot_phi: float = 0.5
    flex_std: float = 0.08  # finger flexion (0 straight .. 1 curled)
    thumb_std: float = 0.2  # thumb flexion and abduction
    flex_phi: float = 0.6
    shoulder_std: float = 0.03  # shoulder girdle angles about the neck (radians)
    shoulder_phi: float = 0.7
    head_std: float = 0.04  # head angles (radians)
    head_phi: float = 0.6
    scale_cv: float = 0.02  # global scale per frame (coefficient of variation)
    scale_phi: float = 0.5


ESTIMATION_NOISE = EstimationNoise()


def ar1(
    rng: np.random.Generator, t: int, shape: tuple[int, ...], phi: float, std: float
) -> np.ndarray:
    """(t, *shape) stationary AR(1) noise x_t = phi x_{t-1} + e_t with std ``std``
    and lag-1 autocorrelation ``phi`` (the first frame is drawn stationary)."""
    e = rng.standard_normal((t,) + shape) * std * np.sqrt(1.0 - phi**2)
    x0 = rng.standard_normal(shape) * std
    zi = (phi * x0)[None]  # (1, *shape): the filter state before frame 0
    return lfilter([1.0], [1.0, -phi], e, axis=0, zi=zi)[0]


def _rotvec_quat(q: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Quaternions (T, 4) rotated by small rotation vectors ``angles`` (T, 3)."""
    theta = np.linalg.norm(angles, axis=-1, keepdims=True)  # (T, 1)
    axis = angles / np.maximum(theta, 1e-12)
    dq = np.concatenate([np.cos(theta / 2), np.sin(theta / 2) * axis], axis=-1)
    w1, v1 = dq[:, :1], dq[:, 1:]
    w2, v2 = q[:, :1], q[:, 1:]
    w = w1 * w2 - np.sum(v1 * v2, axis=-1, keepdims=True)
    v = w1 * v2 + w2 * v1 + np.cross(v1, v2)
    return np.concatenate([w, v], axis=-1)


def realise(
    glosses: list[str] | tuple[str, ...],
    signer: Signer,
    rng: np.random.Generator,
    fps: int = 25,
    lexicon: dict[str, Sign] | None = None,
    noise: bool | EstimationNoise = True,
) -> np.ndarray:
    """Poses (T, 50, 3) float32 in PT-format coordinates for one signed sentence.

    ``noise``: True adds :data:`ESTIMATION_NOISE`, an :class:`EstimationNoise` adds
    that noise, False gives the clean signing. The noise is drawn from a generator
    seeded by ``rng`` *after* all clean motion is drawn, so the clean motion (and
    the length) is the same with and without it.
    """
    plan = plan_sentence(glosses, signer, rng, fps, lexicon)  # (T, 2, STATE)
    fs = fps / 25.0
    sigma = np.full(STATE, SMOOTH_SIGMA * fs)
    sigma[SHAPE] = np.asarray(SHAPE_SIGMA) * fs
    for c in range(STATE):
        plan[:, :, c] = gaussian_filter1d(
            plan[:, :, c], sigma[c], axis=0, mode="nearest"
        )
    t = plan.shape[0]

    # Idle motion: torso rotations about the neck, plus the head's own motion.
    sway = signer.sway
    ang = smooth_noise(rng, t, 3, 10.0 * fs, np.array([0.03, 0.10, 0.07]) * sway)
    hang = smooth_noise(rng, t, 3, 8.0 * fs, np.array([0.2, 0.12, 0.14]) * sway)
    # Shoulder girdles (non-dominant, dominant): raised (about z) as the hand rises,
    # forward (about y) as it reaches forward, plus a slow wander of their own.
    sh_ang = smooth_noise(rng, t, 4, 9.0 * fs, np.array([0.05, 0.07, 0.05, 0.07]))
    noise_seed = int(rng.integers(2**63))  # last draw of the clean motion

    pos = plan[:, :, POS].copy()  # (T, 2, 3), dominant space
    shape = plan[:, :, SHAPE].copy()  # (T, 2, 7)
    quat = plan[:, :, QUAT]
    quat = quat / np.linalg.norm(quat, axis=-1, keepdims=True)  # (T, 2, 4)
    scale = np.ones(t)
    if noise is not False:
        par = ESTIMATION_NOISE if noise is True else noise
        nrng = np.random.default_rng(noise_seed)
        pos += ar1(nrng, t, (2, 3), par.wrist_phi, par.wrist_std)
        for h in range(2):
            rot = ar1(nrng, t, (3,), par.hand_rot_phi, par.hand_rot_std)
            quat[:, h] = _rotvec_quat(quat[:, h], rot)
        shape[:, :, 1:5] += ar1(nrng, t, (2, 4), par.flex_phi, par.flex_std)
        shape[:, :, [0, 6]] += ar1(nrng, t, (2, 2), par.flex_phi, par.thumb_std)
        sh_ang += ar1(nrng, t, (4,), par.shoulder_phi, par.shoulder_std)
        hang += ar1(nrng, t, (3,), par.head_phi, par.head_std)
        scale = np.exp(ar1(nrng, t, (), par.scale_phi, par.scale_cv))

    torso = rotation_xyz(ang[:, 0], ang[:, 1], ang[:, 2])  # (T, 3, 3)
    head_rot = torso @ rotation_xyz(hang[:, 0], hang[:, 1], hang[:, 2])

    def rotate(rot: np.ndarray, v: np.ndarray) -> np.ndarray:  # (T,3,3) x (T,...,3)
        return np.einsum("tij,t...j->t...i", rot, v)

    poses = np.zeros((t, NUM_JOINTS, 3))
    poses[:, HEAD] = rotate(head_rot, np.broadcast_to(np.asarray(signer.head), (t, 3)))
    s_nd, s_dom = shoulders(signer)
    raise_ = np.clip((0.2 - pos[:, :, 1]) / 0.3, 0.0, 1.0) * 0.12  # (T, 2) radians
    reach = np.clip(pos[:, :, 2] - 0.15, -0.1, 0.2) * 0.6  # (T, 2) radians
    # dominant shoulder on the -x side: raising it is a positive roll, forward a
    # negative yaw; mirrored for the other side
    roll_nd, yaw_nd = (
        -(raise_[:, NONDOM] + sh_ang[:, 0]),
        reach[:, NONDOM] + sh_ang[:, 1],
    )
    roll_d, yaw_d = raise_[:, DOM] + sh_ang[:, 2], -(reach[:, DOM] + sh_ang[:, 3])
    zero = np.zeros(t)
    sh_nd = rotate(
        torso @ rotation_xyz(zero, yaw_nd, roll_nd), np.broadcast_to(s_nd, (t, 3))
    )
    sh_dom = rotate(
        torso @ rotation_xyz(zero, yaw_d, roll_d), np.broadcast_to(s_dom, (t, 3))
    )
    pole = np.asarray(signer.elbow_pole)
    el_dom, wr_dom = two_link_ik(
        sh_dom,
        rotate(torso, pos[:, DOM]),
        signer.upper_arm,
        signer.forearm,
        rotate(torso, np.broadcast_to(pole, (t, 3))),
    )
    el_nd, wr_nd = two_link_ik(
        sh_nd,
        rotate(torso, pos[:, NONDOM] * MIRROR),
        signer.upper_arm,
        signer.forearm,
        rotate(torso, np.broadcast_to(pole * MIRROR, (t, 3))),
    )
    poses[:, R_SHOULDER], poses[:, R_ELBOW], poses[:, R_WRIST] = sh_nd, el_nd, wr_nd
    poses[:, L_SHOULDER], poses[:, L_ELBOW], poses[:, L_WRIST] = sh_dom, el_dom, wr_dom
    off_dom = hand_offsets(shape[:, DOM], quat[:, DOM], signer.hand_scale)
    off_nd = hand_offsets(shape[:, NONDOM], quat[:, NONDOM], signer.hand_scale)
    poses[:, L_HAND_ROOT : L_HAND_ROOT + 21] = wr_dom[:, None] + rotate(torso, off_dom)
    poses[:, R_HAND_ROOT : R_HAND_ROOT + 21] = wr_nd[:, None] + rotate(
        torso, off_nd * MIRROR
    )

    poses *= scale[:, None, None]  # one global scale per frame (neck stays at 0)
    poses[:, 1] = 0.0  # the neck is the origin of PT-format data
    return poses.astype(np.float32)
