"""Turning a gloss sequence into a 50-joint pose sequence.

Pipeline for one sentence (all arrays vectorised over frames T):

1. Plan, in dominant space, a per-frame state for both hands: wrist target (3), hand
   shape (7), hand orientation quaternion (4). The plan starts at rest (hands low near
   the torso), then for each gloss a minimum-jerk transition whose duration grows with
   the distance to travel, followed by the sign's own movement; it ends with a
   transition back to rest. Tempo varies per sentence and per sign.
2. Coarticulation: a light Gaussian smoothing of the plan rounds off the corners
   between transitions and signs.
3. Idle motion: slow torso sway (small rotations about the neck) and head motion.
4. Arms by two-link inverse kinematics from the wrist targets (bone lengths constant),
   hands from the shape and orientation (finger bone lengths constant), mirrored for
   the non-dominant side.
5. Small measurement jitter, as in poses estimated from video (the neck stays at 0).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

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
SMOOTH_SIGMA = 1.2  # coarticulation smoothing (frames)
JITTER = 0.0012  # measurement noise std (.skels units)


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
        low = self.place(np.asarray(LOCATIONS["neutral_low"]))
        idle_pos = 0.55 * np.asarray(signer.rest) + 0.45 * low
        self.idle = self._state(idle_pos, REST_SHAPE, REST_QUAT)
        self.base_loc = np.array([-0.04, 0.18, 0.24])  # non-dominant base hand

    @staticmethod
    def _state(pos, shape, quat) -> np.ndarray:
        return np.concatenate(
            [np.asarray(pos, float), np.asarray(shape, float), np.asarray(quat, float)]
        )

    def place(self, p: np.ndarray) -> np.ndarray:
        """Canonical dominant-space position -> this signer's dominant space."""
        return self.signer.space_scale * p + np.asarray(self.signer.space_offset)

    def sign_track(self, sign: Sign, n: int, nondom_home: np.ndarray) -> np.ndarray:
        """(n, 2, STATE) dominant-space track of both hands during ``sign``."""
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
            loc = self.base_loc * MIRROR + np.array([0.0, -0.055, 0.0])
        else:
            loc = np.asarray(LOCATIONS[sign.location], float)
        path = movement_path(sign, n)
        out[:, DOM, _POS] = self.place(loc + path)
        out[:, DOM, _SHAPE] = shape
        out[:, DOM, _QUAT] = quat
        if sign.hands == "one":
            # The idle hand drifts a little with the signing hand (sympathetic motion).
            out[:, NONDOM] = nondom_home
            out[:, NONDOM, _POS] += 0.35 * self.signer.space_scale * path
        elif sign.hands == "symmetric":
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
        return out

    def transition(self, a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        """(n, 2, STATE) minimum-jerk frames from state ``a`` (excluded) to ``b``."""
        w = min_jerk(np.arange(1, n + 1) / n)[:, None, None]
        return a + w * (b - a)

    def n_transition(self, a: np.ndarray, b: np.ndarray, tempo: float) -> int:
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
    cur = np.stack([planner.rest, planner.rest])  # (2, STATE)
    chunks = [np.repeat(cur[None], max(1, round(rng.integers(2, 8) * fs)), axis=0)]
    for i, sign in enumerate(signs):
        near_two = any(
            0 <= j < len(signs) and signs[j].hands != "one" for j in (i - 1, i + 1)
        )
        home = planner.idle if near_two or rng.random() < 0.4 else planner.rest
        n = sign.duration * tempo * float(np.exp(rng.normal(0.0, SIGN_SIGMA))) * fs
        track = planner.sign_track(sign, max(3, round(n)), home)
        track = _align_quats(track, cur)
        chunks.append(
            planner.transition(
                cur, track[0], planner.n_transition(cur, track[0], tempo)
            )
        )
        chunks.append(track)
        cur = track[-1]
        if rng.random() < 0.2:  # a short hold before the next sign
            chunks.append(np.repeat(cur[None], int(rng.integers(1, 4)), axis=0))
    end = np.stack([planner.rest, planner.rest])
    end = _align_quats(end[None], cur)[0]
    n_end = max(planner.n_transition(cur, end, tempo), round(5 * fs))
    chunks.append(planner.transition(cur, end, n_end))
    chunks.append(np.repeat(end[None], max(1, round(rng.integers(2, 8) * fs)), axis=0))
    return np.concatenate(chunks, axis=0)


def _smooth_noise(
    rng: np.random.Generator, t: int, k: int, sigma: float, std
) -> np.ndarray:
    """(t, k) slowly varying Gaussian noise with per-channel std ``std``."""
    white = rng.standard_normal((t + 6 * int(sigma), k))
    smooth = gaussian_filter1d(white, sigma, axis=0, mode="wrap")[3 * int(sigma) :][:t]
    # Filtering white noise with a unit-area Gaussian of width sigma divides its std by
    # sqrt(2 sqrt(pi) sigma); undo that so ``std`` is the actual amplitude.
    return smooth * np.sqrt(2.0 * np.sqrt(np.pi) * sigma) * np.asarray(std)


def realise(
    glosses: list[str] | tuple[str, ...],
    signer: Signer,
    rng: np.random.Generator,
    fps: int = 25,
    lexicon: dict[str, Sign] | None = None,
) -> np.ndarray:
    """Poses (T, 50, 3) float32 in PT-format coordinates for one signed sentence."""
    plan = plan_sentence(glosses, signer, rng, fps, lexicon)  # (T, 2, STATE)
    plan = gaussian_filter1d(plan, SMOOTH_SIGMA * fps / 25.0, axis=0, mode="nearest")
    t = plan.shape[0]
    quat = plan[:, :, _QUAT]
    quat = quat / np.linalg.norm(quat, axis=-1, keepdims=True)  # (T, 2, 4)

    # Idle motion: torso rotations about the neck, plus the head's own motion.
    sway = signer.sway
    ang = _smooth_noise(
        rng, t, 3, 10.0 * fps / 25.0, np.array([0.02, 0.07, 0.05]) * sway
    )
    torso = rotation_xyz(ang[:, 0], ang[:, 1], ang[:, 2])  # (T, 3, 3)
    hang = _smooth_noise(
        rng, t, 3, 8.0 * fps / 25.0, np.array([0.2, 0.12, 0.14]) * sway
    )
    head_rot = torso @ rotation_xyz(hang[:, 0], hang[:, 1], hang[:, 2])

    def rotate(rot: np.ndarray, v: np.ndarray) -> np.ndarray:  # (T,3,3) x (T,...,3)
        return np.einsum("tij,t...j->t...i", rot, v)

    poses = np.zeros((t, NUM_JOINTS, 3))
    poses[:, HEAD] = rotate(head_rot, np.broadcast_to(np.asarray(signer.head), (t, 3)))
    s_nd, s_dom = shoulders(signer)
    sh_nd = rotate(torso, np.broadcast_to(s_nd, (t, 3)))
    sh_dom = rotate(torso, np.broadcast_to(s_dom, (t, 3)))
    pole = np.asarray(signer.elbow_pole)
    el_dom, wr_dom = two_link_ik(
        sh_dom,
        rotate(torso, plan[:, DOM, _POS]),
        signer.upper_arm,
        signer.forearm,
        rotate(torso, np.broadcast_to(pole, (t, 3))),
    )
    el_nd, wr_nd = two_link_ik(
        sh_nd,
        rotate(torso, plan[:, NONDOM, _POS] * MIRROR),
        signer.upper_arm,
        signer.forearm,
        rotate(torso, np.broadcast_to(pole * MIRROR, (t, 3))),
    )
    poses[:, R_SHOULDER], poses[:, R_ELBOW], poses[:, R_WRIST] = sh_nd, el_nd, wr_nd
    poses[:, L_SHOULDER], poses[:, L_ELBOW], poses[:, L_WRIST] = sh_dom, el_dom, wr_dom
    off_dom = hand_offsets(plan[:, DOM, _SHAPE], quat[:, DOM], signer.hand_scale)
    off_nd = hand_offsets(plan[:, NONDOM, _SHAPE], quat[:, NONDOM], signer.hand_scale)
    poses[:, L_HAND_ROOT : L_HAND_ROOT + 21] = wr_dom[:, None] + rotate(torso, off_dom)
    poses[:, R_HAND_ROOT : R_HAND_ROOT + 21] = wr_nd[:, None] + rotate(
        torso, off_nd * MIRROR
    )

    poses += rng.normal(0.0, JITTER, poses.shape)
    poses[:, 1] = 0.0  # the neck is the origin of PT-format data
    return poses.astype(np.float32)
