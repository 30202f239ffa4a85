"""``.pose`` export/import (nar_slp.data.pose_io, pose_layout, gap_filling) with
pose-format."""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pytest
from numpy import ma

pose_format = pytest.importorskip("pose_format")

from pose_format.numpy import NumPyPoseBody  # noqa: E402
from pose_format.pose import Pose  # noqa: E402
from pose_format.pose_header import (  # noqa: E402
    PoseHeader,
    PoseHeaderComponent,
    PoseHeaderDimensions,
)

from nar_slp.data.gap_filling import PT_MEAN_BODY, PT_SHOULDER_WIDTH  # noqa: E402
from nar_slp.data.pose_io import (  # noqa: E402
    PoseGapWarning,
    pose_to_pt,
    pt50_header,
    pt_to_pose,
    read_pose,
    write_pose,
)
from nar_slp.data.pose_layout import PoseImportError  # noqa: E402
from nar_slp.skeleton import BONES, GROUPS, NUM_JOINTS  # noqa: E402

MP_BODY = (
    "NOSE LEFT_EYE_INNER LEFT_EYE LEFT_EYE_OUTER RIGHT_EYE_INNER RIGHT_EYE "
    "RIGHT_EYE_OUTER LEFT_EAR RIGHT_EAR MOUTH_LEFT MOUTH_RIGHT LEFT_SHOULDER "
    "RIGHT_SHOULDER LEFT_ELBOW RIGHT_ELBOW LEFT_WRIST RIGHT_WRIST LEFT_PINKY "
    "RIGHT_PINKY LEFT_INDEX RIGHT_INDEX LEFT_THUMB RIGHT_THUMB LEFT_HIP RIGHT_HIP "
    "LEFT_KNEE RIGHT_KNEE LEFT_ANKLE RIGHT_ANKLE LEFT_HEEL RIGHT_HEEL "
    "LEFT_FOOT_INDEX RIGHT_FOOT_INDEX"
).split()
MP_HAND = ["WRIST"] + [
    f"{f}_{p}"
    for f, parts in (
        ("THUMB", ("CMC", "MCP", "IP", "TIP")),
        ("INDEX_FINGER", ("MCP", "PIP", "DIP", "TIP")),
        ("MIDDLE_FINGER", ("MCP", "PIP", "DIP", "TIP")),
        ("RING_FINGER", ("MCP", "PIP", "DIP", "TIP")),
        ("PINKY", ("MCP", "PIP", "DIP", "TIP")),
    )
    for p in parts
]
PX = 300.0  # pixels per PT unit in the synthetic videos
OFFSET = np.array([320.0, 200.0])


def synthetic_pt(t: int = 40, seed: int = 0) -> np.ndarray:
    """(T, 50, 3) PT poses: mean body, hands rigidly attached to the wrists (fixed
    offsets), both arms swinging; every joint distinct."""
    rng = np.random.default_rng(seed)
    poses = np.zeros((t, NUM_JOINTS, 3))
    poses[:] = np.concatenate([PT_MEAN_BODY, np.zeros((42, 3))])
    phase = np.sin(np.linspace(0, 3, t))[:, None]  # (T, 1)
    poses[:, 3:5, :2] += 0.05 * phase[:, :, None]
    poses[:, 6:8, :2] -= 0.07 * phase[:, :, None]
    for group, wrist in (("left_hand", 7), ("right_hand", 4)):
        idx = list(GROUPS[group])
        offsets = rng.uniform(-0.09, 0.09, (len(idx), 3))
        offsets[0] = (0.02, 0.03, 0.0)
        poses[:, idx] = poses[:, wrist : wrist + 1] + offsets
    return poses


def expected_pt(poses: np.ndarray) -> np.ndarray:
    """What an import should give: neck = shoulder midpoint at the origin, median
    shoulder width 0.333, z = 0 (2-D source)."""
    out = poses.copy()
    out[..., 2] = 0
    mid = (out[:, 2:3] + out[:, 5:6]) / 2
    out[:, 1:2] = mid
    out = out - mid
    width = np.linalg.norm(out[:, 2, :2] - out[:, 5, :2], axis=-1)
    return out * PT_SHOULDER_WIDTH / np.median(width)


def _to_px(pt_xy: np.ndarray) -> np.ndarray:
    return pt_xy * PX + OFFSET


def holistic_pose(poses: np.ndarray, fps: float = 25.0, mirror_labels=False) -> Pose:
    """A MediaPipe-holistic ``Pose`` of a front-facing signer: the signer's LEFT arm
    is on the image's +x side, i.e. PT joints 2-4 and hand 29-49 (swapped labels with
    ``mirror_labels``, as a selfie video would have them)."""
    components = [
        PoseHeaderComponent(
            "POSE_LANDMARKS", MP_BODY, [(11, 12)], [(255, 0, 0)], "XYZC"
        ),
        PoseHeaderComponent("FACE_LANDMARKS", ["0", "1"], [], [(0, 0, 0)], "XYZC"),
        PoseHeaderComponent("LEFT_HAND_LANDMARKS", MP_HAND, [], [(0, 0, 255)], "XYZC"),
        PoseHeaderComponent("RIGHT_HAND_LANDMARKS", MP_HAND, [], [(0, 255, 0)], "XYZC"),
    ]
    header = PoseHeader(0.1, PoseHeaderDimensions(640, 480, 640), components)
    t = len(poses)
    n = header.total_points()
    data = np.random.default_rng(1).uniform(50, 400, (t, 1, n, 3))  # other points
    left, right = ("RIGHT", "LEFT") if mirror_labels else ("LEFT", "RIGHT")
    body_map = {
        "NOSE": 0,
        f"{left}_SHOULDER": 2,
        f"{left}_ELBOW": 3,
        f"{left}_WRIST": 4,
        f"{right}_SHOULDER": 5,
        f"{right}_ELBOW": 6,
        f"{right}_WRIST": 7,
    }
    for name, j in body_map.items():
        data[:, 0, MP_BODY.index(name), :2] = _to_px(poses[:, j, :2])
    starts = {"LEFT_HAND_LANDMARKS": 33 + 2, "RIGHT_HAND_LANDMARKS": 33 + 2 + 21}
    hand_of = {f"{left}_HAND_LANDMARKS": 29, f"{right}_HAND_LANDMARKS": 8}
    for comp, root in hand_of.items():
        s = starts[comp]
        data[:, 0, s : s + 21, :2] = _to_px(poses[:, root : root + 21, :2])
    conf = np.ones((t, 1, n), dtype=np.float32)
    return Pose(header, NumPyPoseBody(fps, data.astype(np.float32), conf))


def openpose_pose(poses: np.ndarray, fps: float = 25.0) -> Pose:
    """An OpenPose BODY_25 + hands ``Pose`` (pose-format's own header) of the same
    front-facing signer: LShoulder etc. on the image's +x side."""
    from pose_format.utils.openpose import BODY_POINTS, OpenPose_Components

    header = PoseHeader(0.1, PoseHeaderDimensions(640, 480), OpenPose_Components)
    t, n = len(poses), header.total_points()
    data = np.zeros((t, 1, n, 2))
    conf = np.zeros((t, 1, n), dtype=np.float32)  # everything else undetected
    body_map = {
        "Nose": 0,
        "LShoulder": 2,
        "LElbow": 3,
        "LWrist": 4,
        "RShoulder": 5,
        "RElbow": 6,
        "RWrist": 7,
    }
    for name, j in body_map.items():
        data[:, 0, BODY_POINTS.index(name)] = _to_px(poses[:, j, :2])
        conf[:, 0, BODY_POINTS.index(name)] = 0.9
    face = len(OpenPose_Components[1].points)
    for k, root in enumerate((29, 8)):  # hand_left -> 29-49, hand_right -> 8-28
        s = 25 + face + 21 * k
        data[:, 0, s : s + 21] = _to_px(poses[:, root : root + 21, :2])
        conf[:, 0, s : s + 21] = 0.8
    return Pose(header, NumPyPoseBody(fps, data.astype(np.float32), conf))


def _roundtrip_bytes(pose: Pose) -> Pose:
    buf = io.BytesIO()
    pose.write(buf)
    return Pose.read(buf.getvalue())


# --------------------------------------------------------------------------- tests


def test_header_describes_50_points_and_49_bones_minus_the_two_crossings():
    header = pt50_header()
    assert header.total_points() == NUM_JOINTS
    assert [c.name for c in header.components] == [
        "PT50_BODY",
        "PT50_LEFT_HAND",
        "PT50_RIGHT_HAND",
    ]
    limbs = sum(len(c.limbs) for c in header.components)
    assert limbs == len(BONES) - 2  # wrist -> hand-root bones cross components
    for c in header.components:
        assert len(c.colors) == len(c.points)
        assert all(
            0 <= a < len(c.points) and 0 <= b < len(c.points) for a, b in c.limbs
        )


def test_write_read_round_trip_within_float32(tmp_path):
    poses = synthetic_pt(30).astype(np.float32)
    path = write_pose(tmp_path / "x.pose", poses)
    raw = Pose.read(path.read_bytes())
    assert raw.body.fps == 25 and raw.body.data.shape == (30, 1, 50, 3)
    assert np.all(raw.body.confidence == 1)
    px = np.asarray(raw.body.data.data)[:, 0]
    # inside the header's pixel frame, so pose-format's visualiser draws it all
    assert px[..., 0].min() > 0 and px[..., 0].max() < raw.header.dimensions.width
    assert px[..., 1].min() > 0 and px[..., 1].max() < raw.header.dimensions.height
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to fill
        back = read_pose(path)
    assert back.layout == "pt50" and back.filled == {}
    np.testing.assert_allclose(back.poses, poses, rtol=0, atol=2e-6)


def test_pt_to_pose_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(T, 50, 3\)"):
        pt_to_pose(np.zeros((3, 49, 3)))


@pytest.mark.parametrize("mirror_labels", [False, True])
def test_holistic_mapping_puts_each_joint_where_expected(mirror_labels):
    poses = synthetic_pt()
    pose = _roundtrip_bytes(holistic_pose(poses, mirror_labels=mirror_labels))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = pose_to_pt(pose)
    assert out.layout == "holistic"
    np.testing.assert_allclose(out.poses, expected_pt(poses), atol=1e-4)
    assert np.all(out.poses[:, 1] == 0)


def test_holistic_forced_sides_follow_the_labels():
    poses = synthetic_pt()
    out = pose_to_pt(holistic_pose(poses, mirror_labels=True), swap_sides=False)
    # the source's LEFT arm is now the -x one: joints 2-4 land on the -x side
    assert np.median(out.poses[:, 2, 0]) < 0


def test_openpose_mapping_puts_each_joint_where_expected():
    poses = synthetic_pt()
    out = pose_to_pt(_roundtrip_bytes(openpose_pose(poses)))
    assert out.layout == "openpose"
    np.testing.assert_allclose(out.poses, expected_pt(poses), atol=1e-4)


def test_gaps_are_filled_with_a_warning_and_no_origin_or_nan():
    poses = synthetic_pt(40)
    pose = openpose_pose(poses)
    conf = pose.body.confidence
    face = 70
    hand_left, hand_right = 25 + face, 25 + face + 21  # -> PT 29-49, 8-28
    # frames 5-7 + 10-39 (frame 20's elbow is among them): 33 frames in all
    conf[5:8, 0, hand_left : hand_left + 21] = 0  # short gap: interpolated
    conf[10:40, 0, hand_right : hand_right + 21] = 0  # to the end: collapses
    pose.body.data[20, 0, 3] = 0.0  # RElbow (PT 6) at the pixel origin
    conf[20, 0, 3] = 0.7  # ... with confidence, as some exporters write it
    with pytest.warns(PoseGapWarning) as record:
        out = pose_to_pt(pose, max_gap=5)
    message = str(record[0].message)
    assert re.search(r"filled missing points in 33 of 40 frames", message), message
    assert out.filled == {
        "body": 1,
        "right_hand interpolated": 3,
        "left_hand collapsed": 30,
    }
    assert np.isfinite(out.poses).all()
    not_neck = np.delete(out.poses, 1, axis=1)
    assert np.linalg.norm(not_neck[..., :2], axis=-1).min() > 1e-3
    want = expected_pt(poses)
    # interpolated frames: hands are rigid on the wrist, so interpolation is exact
    np.testing.assert_allclose(out.poses[5:8, 29:50], want[5:8, 29:50], atol=1e-4)
    # collapsed: every point of hand 8-28 sits on wrist 7
    np.testing.assert_allclose(
        out.poses[10:, 8:29], np.broadcast_to(out.poses[10:, 7:8], (30, 21, 3))
    )
    np.testing.assert_allclose(out.poses[:10, 8:29], want[:10, 8:29], atol=1e-4)
    # the elbow: halfway between its neighbours
    np.testing.assert_allclose(
        out.poses[20, 6], (out.poses[19, 6] + out.poses[21, 6]) / 2, atol=1e-6
    )


def test_hand_absent_throughout_collapses_onto_the_wrist():
    poses = synthetic_pt(20)
    pose = holistic_pose(poses)
    pose.body.confidence[:, 0, 33 + 2 + 21 :] = 0  # RIGHT hand -> PT 8-28
    with pytest.warns(PoseGapWarning, match="20 of 20 frames"):
        out = pose_to_pt(pose)
    np.testing.assert_allclose(
        out.poses[:, 8:29], np.broadcast_to(out.poses[:, 7:8], (20, 21, 3))
    )


def test_resampling_to_25_fps():
    poses = synthetic_pt(21)
    fine = np.repeat(poses, 2, axis=0)[:-1]  # 41 frames
    fine[1::2] = (poses[:-1] + poses[1:]) / 2  # a 50 fps recording of the same motion
    out = pose_to_pt(holistic_pose(fine, fps=50.0))
    assert out.source_fps == 50 and out.poses.shape[0] == 21
    np.testing.assert_allclose(out.poses, expected_pt(poses), atol=1e-4)
    out30 = pose_to_pt(holistic_pose(synthetic_pt(31), fps=30.0))
    assert out30.poses.shape[0] == round(30 * 25 / 30) + 1


def test_pose_formats_own_fake_openpose_data():
    from pose_format.utils.generic import fake_openpose_pose

    np.random.seed(0)
    pose = _roundtrip_bytes(fake_openpose_pose(30, fps=30.0))
    with pytest.warns(PoseGapWarning, match=r"filled missing points in \d+ of 30"):
        out = pose_to_pt(pose)
    assert out.poses.shape == (25, 50, 3)
    assert np.isfinite(out.poses).all()
    assert np.all(out.poses[:, 1] == 0)
    assert np.linalg.norm(np.delete(out.poses, 1, axis=1)[..., :2], axis=-1).min() > 0


def test_unknown_layout_and_missing_shoulders_raise():
    comp = PoseHeaderComponent("SOMETHING", ["a", "b"], [], [(0, 0, 0)], "XYC")
    header = PoseHeader(0.1, PoseHeaderDimensions(10, 10), [comp])
    body = NumPyPoseBody(25, ma.zeros((2, 1, 2, 2)), np.ones((2, 1, 2)))
    with pytest.raises(PoseImportError, match="unknown .pose layout"):
        pose_to_pt(Pose(header, body))
    pose = openpose_pose(synthetic_pt(5))
    pose.body.confidence[:, 0, 2] = 0  # RShoulder never detected
    with pytest.raises(PoseImportError, match="both shoulders"):
        pose_to_pt(pose)


def test_use_z_with_a_hand_whose_wrist_is_missing_in_some_frames():
    # MediaPipe hand z is relative to the hand's WRIST landmark: where only that
    # landmark is missing, the other points keep their x, y and sit at the body
    # wrist's depth (they used to become NaN and fail an internal assertion)
    poses = synthetic_pt(20)
    pose = holistic_pose(poses)
    pose.body.data[:, 0, :, 2] = np.linspace(-0.1, 0.1, pose.body.data.shape[2])
    right_wrist = 33 + 2 + 21  # RIGHT_HAND_LANDMARKS WRIST -> PT 8
    pose.body.confidence[4:7, 0, right_wrist] = 0
    out = pose_to_pt(pose, use_z=True)
    assert np.isfinite(out.poses).all()
    want = expected_pt(poses)
    np.testing.assert_allclose(out.poses[4:7, 9:29, :2], want[4:7, 9:29, :2], atol=1e-4)
    np.testing.assert_allclose(
        out.poses[4:7, 9:29, 2], np.broadcast_to(out.poses[4:7, 7:8, 2], (3, 20))
    )
    # frames with the wrist keep their relative depth
    assert not np.allclose(out.poses[0, 9:29, 2], out.poses[0, 7, 2])
