"""The plan of one signed sentence: a per-frame state of both hands, unsmoothed.

Steps 1 and 2 of the pipeline of :mod:`nar_slp.data.corpus.motion`, in dominant space:

1. For each hand a per-frame state: wrist target (3), hand shape (7), hand
   orientation quaternion (4), laid out as :data:`STATE` with the slices
   :data:`POS`, :data:`SHAPE`, :data:`QUAT`. Each hand starts and ends in a posture
   drawn per sequence (:data:`POSTURES`); for each gloss a minimum-jerk transition
   whose duration grows with the distance to travel is followed by the sign's own
   movement (:func:`movement_path`). Tempo varies per sentence and per sign. Sign
   locations are mapped into the signer's signing space (:meth:`_Planner.space`).
2. The non-dominant hand has its own idle track (:func:`idle_track`) and joins the
   plan only around two-handed signs.

:func:`plan_sentence` returns the plan; ``motion.realise`` smooths it and builds the
skeleton from it.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import distance_transform_edt, gaussian_filter1d

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
from nar_slp.data.corpus.signer import Signer

STATE = 14  # per hand and frame: wrist target 3, shape 7, quaternion 4
POS, SHAPE, QUAT = slice(0, 3), slice(3, 10), slice(10, 14)
DOM, NONDOM = 0, 1

# Timing (frames at 25 fps; scaled by fps / 25 and by the tempo factors).
TRANSITION_BASE = 1.5  # frames of a transition of zero length
TRANSITION_PER_UNIT = 18.0  # extra frames per .skels unit travelled
TRANSITION_PER_SHAPE = 2.0  # extra frames for a full hand-shape change
TEMPO_SIGMA = 0.15  # per-sentence log-tempo spread
SIGN_SIGMA = 0.12  # per-sign log-duration spread

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
        out[:, DOM, POS] = self.place(loc + path)
        out[:, DOM, SHAPE] = shape
        out[:, DOM, QUAT] = quat
        if sign.hands == "one":
            out[:, NONDOM] = out[:, DOM]
            out[:, NONDOM, POS] = SYMPATHY * self.signer.space_scale * path
            return out, False
        if sign.hands == "symmetric":
            out[:, NONDOM] = out[:, DOM]
        elif sign.hands == "alternating":
            out[:, NONDOM] = out[:, DOM]
            out[:, NONDOM, POS] = self.place(loc + movement_path(sign, n, phase=0.5))
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
        dist = np.linalg.norm(b[:, POS] - a[:, POS], axis=-1).max()
        dshape = np.abs(b[:, SHAPE] - a[:, SHAPE]).max()
        frames = (
            TRANSITION_BASE
            + TRANSITION_PER_UNIT * dist / self.signer.space_scale
            + TRANSITION_PER_SHAPE * dshape
        )
        return int(np.clip(round(frames * tempo * self.frame_scale), 2, 18))


def _align_quats(track: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Flip quaternion signs of ``track`` (n, 2, STATE) to the hemisphere of ``ref``."""
    flip = np.sum(track[0, :, QUAT] * ref[:, QUAT], axis=-1) < 0  # (2,)
    track = track.copy()
    track[:, flip, QUAT] *= -1.0
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
        if np.dot(nxt[QUAT], cur[QUAT]) < 0:
            nxt[QUAT] *= -1.0
        move = max(2, round(rng.integers(8, 16) * fs))
        chunks.append(planner.transition(cur, nxt, move))
        cur, n = nxt, n + hold + move
    track = np.concatenate(chunks, axis=0)[:t]
    drift = smooth_noise(rng, t, 3, 8.0 * fs, 0.03 * planner.signer.space_scale)
    track[:, POS] += drift
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
        echo.append(np.zeros((len(track), 3)) if two_handed else track[:, NONDOM, POS])
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
    idle[:, POS] += np.concatenate(echo)
    end_idle = max(1, round(rng.integers(6, 20) * fs))  # settle into the end posture
    idle[-end_idle:] = planner.transition(idle[-end_idle - 1], end[NONDOM], end_idle)
    if mask.any():
        dist, (near,) = distance_transform_edt(~mask, return_indices=True)
        target = plan[near, NONDOM]  # (T, STATE)
        flip = np.sum(idle[:, QUAT] * target[:, QUAT], axis=-1) < 0
        idle[flip, QUAT] *= -1.0
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


def smooth_noise(
    rng: np.random.Generator, t: int, k: int, sigma: float, std
) -> np.ndarray:
    """(t, k) slowly varying Gaussian noise with per-channel std ``std``."""
    white = rng.standard_normal((t + 6 * int(sigma), k))
    smooth = gaussian_filter1d(white, sigma, axis=0, mode="wrap")[3 * int(sigma) :][:t]
    # Filtering white noise with a unit-area Gaussian of width sigma divides its std by
    # sqrt(2 sqrt(pi) sigma); undo that so ``std`` is the actual amplitude.
    return smooth * np.sqrt(2.0 * np.sqrt(np.pi) * sigma) * np.asarray(std)
