"""Turning a gloss sequence into a 50-joint pose sequence.

Pipeline for one sentence (all arrays vectorised over frames T):

1. Plan, in dominant space, a per-frame state for both hands: wrist target (3), hand
   shape (7), hand orientation quaternion (4). Each hand starts and ends in a posture
   drawn per sequence (arm hanging, hands in the lap, at table height, ready to sign;
   sometimes the clip opens or closes mid-movement). For each gloss a minimum-jerk
   transition whose duration grows with the distance to travel is followed by the
   sign's own movement. Tempo varies per sentence and per sign. Sign locations are
   mapped into the signer's signing space (:meth:`_Planner.space`): lateral, in
   front of the body, head-height signs lowered.
2. The non-dominant hand has its own idle track (:func:`idle_track`): it rests in
   varied places, drifts and moves between rests at its own times, with its own
   relaxed hand shapes; it joins the plan only around two-handed signs.
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
from scipy.ndimage import distance_transform_edt, gaussian_filter1d
from scipy.signal import lfilter

from nar_slp.data.corpus.lexicon import (
    DIRECTIONS,
    HANDSHAPES,
    LEXICON,
    LOCATIONS,
    ORIENTATIONS,
    REST_QUAT,
    REST_SHAPE,
    Sign,
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

STATE = 14  # per hand and frame: wrist target 3, shape 7, quaternion 4
_POS, _SHAPE, _QUAT = slice(0, 3), slice(3, 10), slice(10, 14)
DOM, NONDOM = 0, 1

# Timing (frames at 25 fps; scaled by fps / 25 and by the tempo factors).
TRANSITION_BASE = 1.5  # frames of a transition of zero length
TRANSITION_PER_UNIT = 18.0  # extra frames per .skels unit travelled
TRANSITION_PER_SHAPE = 2.0  # extra frames for a full hand-shape change
TEMPO_SIGMA = 0.15  # per-sentence log-tempo spread
SIGN_SIGMA = 0.12  # per-sign log-duration spread
SMOOTH_SIGMA = 1.2  # coarticulation smoothing of positions and orientations (frames)
# Hand-shape smoothing per channel (thumb..pinky flexion, spread, thumb abduction):
# wider than the positions' and different per finger, so a shape change is spread
# over ~0.3 s with the fingers not moving in lock-step.
SHAPE_SIGMA = (3.0, 1.8, 2.3, 2.8, 3.3, 2.5, 3.5)

# Signing space (dominant space, canonical body): lexicon locations are mapped so the
# dominant wrist sits mostly lateral to the shoulder (real PHOENIX: mean x -0.184,
# std 0.047, only ~37 % of frames between the shoulders, none past the midline) and
# head-height locations are lowered (real mean wrist y 0.12; elbow almost never above
# the shoulder).
SPACE_X = (-0.190, 0.45)  # x' = SPACE_X[0] + SPACE_X[1] * (x - (-0.13))
SPACE_HEAD_Y = (0.06, 0.4)  # y' = 0.06 + 0.4 * (y - 0.06) above y = 0.06
SPACE_Z = (0.05, 0.85)  # z' = SPACE_Z[0] + SPACE_Z[1] * z: less far in front
SYMPATHY = 0.12  # share of the signing hand's path the idle hand echoes

# Postures of a hand at rest (dominant space, canonical body; x < 0 own side, y down,
# z forward): where clips start and end and where the non-dominant hand waits.
POSTURES: dict[str, tuple[float, float, float]] = {
    "hanging": (-0.24, 0.41, 0.06),  # arm hanging by the side
    "lap": (-0.12, 0.39, 0.18),
    "thigh": (-0.21, 0.37, 0.13),
    "waist": (-0.11, 0.33, 0.20),
    "table": (-0.17, 0.28, 0.26),  # forearm level, as on a table
    "ready": (-0.19, 0.22, 0.22),  # held in front, ready to sign
}
_POSTURE_P = np.array([0.22, 0.2, 0.16, 0.16, 0.14, 0.12])
POSTURE_JITTER = 0.03  # per-coordinate std around a posture (.skels units)
LOWEST_WRIST = 0.42  # canonical y below which a resting wrist never goes (seated)
MID_MOVEMENT_P = 0.3  # chance that a clip opens (closes) while the hands move


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


def min_jerk(s: np.ndarray) -> np.ndarray:
    """Minimum-jerk time profile 10s^3 - 15s^4 + 6s^5 on s in [0, 1]."""
    return s**3 * (10.0 - 15.0 * s + 6.0 * s**2)


def _perpendicular(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors orthogonal to the unit vector ``d`` and to each other."""
    ref = np.array([0.0, 0.0, 1.0]) if abs(d[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(d, ref)
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(d, e1)


def movement_path(sign: Sign, n: int, phase: float = 0.0) -> np.ndarray:
    """Offsets (n, 3) from the sign's location along its movement (canonical units).

    ``phase`` = 0.5 gives the other hand of an alternating sign (half a cycle later, or
    the opposite direction for non-cyclic movements).
    """
    s = np.linspace(0.0, 1.0, n)[:, None]  # (n, 1)
    d = np.asarray(DIRECTIONS[sign.direction], float)
    d = d / np.linalg.norm(d)
    sign_dir = -1.0 if phase else 1.0
    amp = sign.amplitude
    mj = min_jerk(s)
    m = sign.movement
    if m in ("hold", "wiggle"):
        return sign_dir * amp * d * (mj - 0.5)
    if m == "straight":
        return sign_dir * amp * d * (mj - 0.5)
    if m == "arc":
        e1, _ = _perpendicular(d)
        return sign_dir * amp * d * (mj - 0.5) + 0.35 * amp * e1 * np.sin(np.pi * mj)
    if m == "circle":
        e1, e2 = _perpendicular(d)
        theta = 2.0 * np.pi * (sign.repeats * (0.5 * s + 0.5 * mj) + phase)
        return amp * (np.cos(theta) * e1 + np.sin(theta) * e2)
    if m == "repeated":
        wave = 0.5 * (1.0 - np.cos(2.0 * np.pi * (sign.repeats * s + phase)))
        return amp * d * (wave - 0.5)
    raise ValueError(f"unknown movement {m!r} of sign {sign.gloss!r}")


class _Planner:
    """Builds the dominant-space plan (T, 2, STATE) of one sentence for one signer."""

    def __init__(self, signer: Signer, fps: int) -> None:
        self.signer = signer
        self.frame_scale = fps / 25.0
        self.rest = self._state(np.asarray(signer.rest), REST_SHAPE, REST_QUAT)
        # the non-dominant hand of a "base" sign: a platform in front, away from the
        # signing hand (real hands almost never come closer than half a shoulder
        # width), which works above it
        self.base_loc = np.array([-0.17, 0.24, 0.22])

    @staticmethod
    def _state(pos, shape, quat) -> np.ndarray:
        return np.concatenate(
            [np.asarray(pos, float), np.asarray(shape, float), np.asarray(quat, float)]
        )

    def place(self, p: np.ndarray) -> np.ndarray:
        """Canonical dominant-space position -> this signer's dominant space."""
        return self.signer.space_scale * p + np.asarray(self.signer.space_offset)

    @staticmethod
    def space(loc: np.ndarray) -> np.ndarray:
        """A lexicon location -> where it is signed (canonical dominant space)."""
        x, y, z = np.asarray(loc, float)
        x = SPACE_X[0] + SPACE_X[1] * (x + 0.13)
        if y < SPACE_HEAD_Y[0]:
            y = SPACE_HEAD_Y[0] + SPACE_HEAD_Y[1] * (y - SPACE_HEAD_Y[0])
        return np.array([x, y, SPACE_Z[0] + SPACE_Z[1] * z])

    def posture(self, rng: np.random.Generator) -> np.ndarray:
        """A random resting state (STATE,): posture, relaxed shape, orientation."""
        name = list(POSTURES)[int(rng.choice(len(POSTURES), p=_POSTURE_P))]
        pos = np.asarray(POSTURES[name]) + rng.normal(0.0, POSTURE_JITTER, 3)
        pos[1] = min(pos[1], LOWEST_WRIST)
        shape = np.clip(np.asarray(REST_SHAPE) + rng.normal(0.0, 0.15, 7), 0.0, 1.0)
        quat = REST_QUAT + rng.normal(0.0, 0.25, 4)
        quat = quat / np.linalg.norm(quat)
        return self._state(self.signer.space_scale * pos, shape, quat)

    def sign_track(self, sign: Sign, n: int) -> tuple[np.ndarray, bool]:
        """(n, 2, STATE) dominant-space track of both hands during ``sign``, and
        whether the non-dominant hand takes part (False: its track is a placeholder
        that :func:`idle_track` replaces)."""
        s = min_jerk(np.linspace(0.0, 1.0, n))[:, None]  # (n, 1)
        shape0 = np.asarray(HANDSHAPES[sign.handshape])
        shape1 = np.asarray(HANDSHAPES[sign.handshape_end])
        shape = shape0 + s * (shape1 - shape0)  # (n, 7)
        if sign.movement == "wiggle":
            t = np.linspace(0.0, 1.0, n)[:, None]
            phases = np.array([0.0, 0.0, 0.6, 1.2, 1.8, 0.0, 0.0])
            gain = np.array([0.15, 0.35, 0.35, 0.35, 0.35, 0.0, 0.0])
            shape = shape + gain * np.sin(2.0 * np.pi * 3.0 * t + phases)
        quat = np.broadcast_to(ORIENTATIONS[sign.orientation], (n, 4))
        out = np.empty((n, 2, STATE))
        if sign.hands == "base":
            loc = self.base_loc + np.array([0.0, -0.06, 0.02])
        else:
            loc = self.space(LOCATIONS[sign.location])
        path = movement_path(sign, n)
        out[:, DOM, _POS] = self.place(loc + path)
        out[:, DOM, _SHAPE] = shape
        out[:, DOM, _QUAT] = quat
        if sign.hands == "one":
            out[:, NONDOM] = out[:, DOM]
            out[:, NONDOM, _POS] = SYMPATHY * self.signer.space_scale * path
            return out, False
        if sign.hands == "symmetric":
            out[:, NONDOM] = out[:, DOM]
        elif sign.hands == "alternating":
            out[:, NONDOM] = out[:, DOM]
            out[:, NONDOM, _POS] = self.place(loc + movement_path(sign, n, phase=0.5))
        else:  # base: the non-dominant hand is a static platform
            base_shape = sign.base_shape
            orient = "fwd_up" if base_shape in ("B", "5") else "fwd_in"
            out[:, NONDOM] = self._state(
                self.place(self.base_loc), HANDSHAPES[base_shape], ORIENTATIONS[orient]
            )
        return out, True

    def transition(self, a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        """(n, ..., STATE) minimum-jerk frames from state ``a`` (excluded) to ``b``."""
        w = min_jerk(np.arange(1, n + 1) / n).reshape((n,) + (1,) * a.ndim)
        return a + w * (b - a)

    def n_transition(self, a: np.ndarray, b: np.ndarray, tempo: float) -> int:
        a, b = np.atleast_2d(a), np.atleast_2d(b)
        dist = np.linalg.norm(b[:, _POS] - a[:, _POS], axis=-1).max()
        dshape = np.abs(b[:, _SHAPE] - a[:, _SHAPE]).max()
        frames = (
            TRANSITION_BASE
            + TRANSITION_PER_UNIT * dist / self.signer.space_scale
            + TRANSITION_PER_SHAPE * dshape
        )
        return int(np.clip(round(frames * tempo * self.frame_scale), 2, 18))


def _align_quats(track: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Flip quaternion signs of ``track`` (n, 2, STATE) to the hemisphere of ``ref``."""
    flip = np.sum(track[0, :, _QUAT] * ref[:, _QUAT], axis=-1) < 0  # (2,)
    track = track.copy()
    track[:, flip, _QUAT] *= -1.0
    return track


def idle_track(
    planner: _Planner, rng: np.random.Generator, t: int, start: np.ndarray
) -> np.ndarray:
    """(t, STATE) dominant-space track of a hand that is not signing.

    The hand holds a resting posture for 0.12-0.6 s, then moves (minimum jerk,
    0.3-0.6 s) to another posture with another relaxed shape, at times of its own; a
    slow drift (~0.03) keeps it from freezing. Starts at ``start`` (STATE,).
    """
    fs = planner.frame_scale
    chunks, cur, n = [start[None]], start, 1
    while n < t:
        hold = max(1, round(rng.integers(3, 16) * fs))
        chunks.append(np.repeat(cur[None], hold, axis=0))
        nxt = planner.posture(rng)
        if np.dot(nxt[_QUAT], cur[_QUAT]) < 0:
            nxt[_QUAT] *= -1.0
        move = max(2, round(rng.integers(8, 16) * fs))
        chunks.append(planner.transition(cur, nxt, move))
        cur, n = nxt, n + hold + move
    track = np.concatenate(chunks, axis=0)[:t]
    drift = _smooth_noise(rng, t, 3, 8.0 * fs, 0.03 * planner.signer.space_scale)
    track[:, _POS] += drift
    lowest = LOWEST_WRIST * planner.signer.space_scale
    track[:, 1] = np.minimum(track[:, 1], lowest)  # a seated signer's hand stops here
    return track


def plan_sentence(
    glosses: list[str] | tuple[str, ...],
    signer: Signer,
    rng: np.random.Generator,
    fps: int = 25,
    lexicon: dict[str, Sign] | None = None,
) -> np.ndarray:
    """Dominant-space plan (T, 2, STATE) for ``glosses`` (gloss IDs), unsmoothed."""
    lexicon = LEXICON if lexicon is None else lexicon
    try:
        signs = [lexicon[g] for g in glosses]
    except KeyError as err:
        raise KeyError(f"gloss {err.args[0]!r} has no sign in the lexicon") from None
    planner = _Planner(signer, fps)
    tempo = signer.tempo * float(np.exp(rng.normal(0.0, TEMPO_SIGMA)))
    fs = planner.frame_scale
    start = np.stack([planner.posture(rng), planner.posture(rng)])  # (2, STATE)
    cur = start
    chunks = [np.repeat(cur[None], max(1, round(rng.integers(2, 8) * fs)), axis=0)]
    active = [np.zeros(len(chunks[0]), bool)]  # frames where the non-dominant signs
    echo = [np.zeros((len(chunks[0]), 3))]  # the idle hand's sympathetic motion

    def skip(k: int) -> None:
        active.append(np.zeros(k, bool))
        echo.append(np.zeros((k, 3)))

    for sign in signs:
        n = sign.duration * tempo * float(np.exp(rng.normal(0.0, SIGN_SIGMA))) * fs
        track, two_handed = planner.sign_track(sign, max(3, round(n)))
        track = _align_quats(track, cur)
        n_tr = planner.n_transition(cur[:1], track[0, :1], tempo)
        if two_handed:
            n_tr = max(n_tr, planner.n_transition(cur, track[0], tempo))
        chunks.append(planner.transition(cur, track[0], n_tr))
        skip(n_tr)
        chunks.append(track)
        active.append(np.full(len(track), two_handed))
        echo.append(np.zeros((len(track), 3)) if two_handed else track[:, NONDOM, _POS])
        cur = track[-1]
        if rng.random() < 0.2:  # a short hold before the next sign
            k = int(rng.integers(1, 4))
            chunks.append(np.repeat(cur[None], k, axis=0))
            skip(k)
    end = np.stack([planner.posture(rng), planner.posture(rng)])
    end = _align_quats(end[None], cur)[0]
    n_end = max(planner.n_transition(cur, end, tempo), round(5 * fs))
    chunks.append(planner.transition(cur, end, n_end))
    chunks.append(np.repeat(end[None], max(1, round(rng.integers(2, 8) * fs)), axis=0))
    skip(n_end + len(chunks[-1]))
    plan = np.concatenate(chunks, axis=0)  # (T, 2, STATE)
    mask = np.concatenate(active)  # (T,)

    # The non-dominant hand follows its own idle track, joining the plan around
    # two-handed signs with a minimum-jerk blend of ~0.4 s on either side (toward
    # the state of the nearest two-handed frame).
    t = plan.shape[0]
    idle = idle_track(planner, rng, t, start[NONDOM])
    idle[:, _POS] += np.concatenate(echo)
    end_idle = max(1, round(rng.integers(6, 20) * fs))  # settle into the end posture
    idle[-end_idle:] = planner.transition(idle[-end_idle - 1], end[NONDOM], end_idle)
    if mask.any():
        dist, (near,) = distance_transform_edt(~mask, return_indices=True)
        target = plan[near, NONDOM]  # (T, STATE)
        flip = np.sum(idle[:, _QUAT] * target[:, _QUAT], axis=-1) < 0
        idle[flip, _QUAT] *= -1.0
        w = 1.0 - min_jerk(np.clip(dist / (10.0 * fs), 0.0, 1.0))[:, None]  # (T, 1)
        plan[:, NONDOM] = w * target + (1.0 - w) * idle
    else:
        plan[:, NONDOM] = idle

    # Sometimes the clip opens or closes while the hands are still moving.
    lo, hi = 0, t
    if rng.random() < MID_MOVEMENT_P:
        lo = len(chunks[0]) + int(rng.integers(2, 8) * fs)
    if rng.random() < MID_MOVEMENT_P:
        hi = t - len(chunks[-1]) - int(rng.integers(2, 6) * fs)
    return plan[lo:hi] if hi - lo >= max(40 * fs, 0.8 * t) else plan


def _smooth_noise(
    rng: np.random.Generator, t: int, k: int, sigma: float, std
) -> np.ndarray:
    """(t, k) slowly varying Gaussian noise with per-channel std ``std``."""
    white = rng.standard_normal((t + 6 * int(sigma), k))
    smooth = gaussian_filter1d(white, sigma, axis=0, mode="wrap")[3 * int(sigma) :][:t]
    # Filtering white noise with a unit-area Gaussian of width sigma divides its std by
    # sqrt(2 sqrt(pi) sigma); undo that so ``std`` is the actual amplitude.
    return smooth * np.sqrt(2.0 * np.sqrt(np.pi) * sigma) * np.asarray(std)


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
    sigma[_SHAPE] = np.asarray(SHAPE_SIGMA) * fs
    for c in range(STATE):
        plan[:, :, c] = gaussian_filter1d(
            plan[:, :, c], sigma[c], axis=0, mode="nearest"
        )
    t = plan.shape[0]

    # Idle motion: torso rotations about the neck, plus the head's own motion.
    sway = signer.sway
    ang = _smooth_noise(rng, t, 3, 10.0 * fs, np.array([0.03, 0.10, 0.07]) * sway)
    hang = _smooth_noise(rng, t, 3, 8.0 * fs, np.array([0.2, 0.12, 0.14]) * sway)
    # Shoulder girdles (non-dominant, dominant): raised (about z) as the hand rises,
    # forward (about y) as it reaches forward, plus a slow wander of their own.
    sh_ang = _smooth_noise(rng, t, 4, 9.0 * fs, np.array([0.05, 0.07, 0.05, 0.07]))
    noise_seed = int(rng.integers(2**63))  # last draw of the clean motion

    pos = plan[:, :, _POS].copy()  # (T, 2, 3), dominant space
    shape = plan[:, :, _SHAPE].copy()  # (T, 2, 7)
    quat = plan[:, :, _QUAT]
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
