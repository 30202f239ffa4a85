"""The 50-joint skeleton layout of Progressive Transformers (PT) and its successors.

Joints (indices into the J = 50 axis of a pose array of shape (T, J, K)):

- 0 head, 1 neck (the origin of PT-format data; y grows downward)
- 2, 3, 4: shoulder, elbow, wrist of the arm whose hand is joints 29-49
- 5, 6, 7: shoulder, elbow, wrist of the arm whose hand is joints 8-28
- 8-28: hand attached to wrist 7; 29-49: hand attached to wrist 4.
  Each hand is a root followed by thumb, index, middle, ring and pinky, four joints each
  (base to tip, OpenPose order).

In PT-format PHOENIX data the arm 2-3-4 is on the image's +x side and 5-6-7 on the -x
side (see ``docs/phoenix_reference.md``); we call them "right" and "left" from the
viewer's point of view only as names, nothing depends on handedness.
"""

from __future__ import annotations

import numpy as np

NUM_JOINTS = 50
NUM_COORDS = 3
FRAME_SIZE = NUM_JOINTS * NUM_COORDS  # 150 values per frame (without the counter)

HEAD, NECK = 0, 1
R_SHOULDER, R_ELBOW, R_WRIST = 2, 3, 4
L_SHOULDER, L_ELBOW, L_WRIST = 5, 6, 7
L_HAND_ROOT = 8  # hand attached to wrist 7
R_HAND_ROOT = 29  # hand attached to wrist 4
FINGERS = ("thumb", "index", "middle", "ring", "pinky")
JOINTS_PER_FINGER = 4
JOINTS_PER_HAND = 1 + len(FINGERS) * JOINTS_PER_FINGER  # 21


def _hand_names(side: str) -> list[str]:
    names = [f"{side}_hand_root"]
    for finger in FINGERS:
        names += [f"{side}_{finger}_{k}" for k in range(1, JOINTS_PER_FINGER + 1)]
    return names


JOINT_NAMES: tuple[str, ...] = tuple(
    ["head", "neck"]
    + ["r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist"]
    + _hand_names("l")
    + _hand_names("r")
)
assert len(JOINT_NAMES) == NUM_JOINTS


def _hand_bones(root: int) -> list[tuple[int, int]]:
    bones = []
    for f in range(len(FINGERS)):
        base = root + 1 + f * JOINTS_PER_FINGER
        bones.append((root, base))
        bones += [(base + k, base + k + 1) for k in range(JOINTS_PER_FINGER - 1)]
    return bones


BODY_BONES: tuple[tuple[int, int], ...] = (
    (HEAD, NECK),
    (NECK, R_SHOULDER),
    (R_SHOULDER, R_ELBOW),
    (R_ELBOW, R_WRIST),
    (NECK, L_SHOULDER),
    (L_SHOULDER, L_ELBOW),
    (L_ELBOW, L_WRIST),
    (L_WRIST, L_HAND_ROOT),
    (R_WRIST, R_HAND_ROOT),
)
BONES: tuple[tuple[int, int], ...] = (
    BODY_BONES + tuple(_hand_bones(L_HAND_ROOT)) + tuple(_hand_bones(R_HAND_ROOT))
)

GROUPS: dict[str, tuple[int, ...]] = {
    "body": tuple(range(0, 8)),
    "left_hand": tuple(range(L_HAND_ROOT, L_HAND_ROOT + JOINTS_PER_HAND)),
    "right_hand": tuple(range(R_HAND_ROOT, R_HAND_ROOT + JOINTS_PER_HAND)),
}

# A finer split of the same joints for error reports: the head and shoulders move little
# (sway, nods and lifting noise), the arms carry the signing, the neck is the origin.
BODY_PARTS: dict[str, tuple[int, ...]] = {
    "head": (0,),
    "shoulders": (2, 5),
    "arms": (3, 4, 6, 7),
    "left_hand": GROUPS["left_hand"],
    "right_hand": GROUPS["right_hand"],
}


def finger_joints(root: int, finger: str) -> tuple[int, ...]:
    """Indices of the 4 joints (base to tip) of ``finger`` of the hand at ``root``."""
    f = FINGERS.index(finger)
    base = root + 1 + f * JOINTS_PER_FINGER
    return tuple(range(base, base + JOINTS_PER_FINGER))


def bone_lengths(poses: np.ndarray) -> np.ndarray:
    """Lengths of every bone in ``BONES``: poses (..., J, K) -> (..., n_bones)."""
    a = np.array([b[0] for b in BONES])
    b = np.array([b[1] for b in BONES])
    return np.linalg.norm(poses[..., a, :] - poses[..., b, :], axis=-1)


def group_of_joint(j: int) -> str:
    for name, joints in GROUPS.items():
        if j in joints:
            return name
    raise ValueError(f"joint index {j} outside 0..{NUM_JOINTS - 1}")
