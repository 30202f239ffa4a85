"""Drawing and animation (nar_slp.visualisation); the explorer: test_explorer.py."""

from __future__ import annotations

import gc

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import drifting_pose
from matplotlib.collections import LineCollection  # noqa: E402
from PIL import Image  # noqa: E402

from nar_slp.skeleton import BONES  # noqa: E402
from nar_slp.visualisation.animate import (  # noqa: E402
    PyAVWriter,
    animate,
    save_animation,
    side_by_side,
    to_html,
)
from nar_slp.visualisation.draw import draw_frame, strip  # noqa: E402


def _segments(ax) -> list[np.ndarray]:
    segs = []
    for coll in ax.collections:
        if isinstance(coll, LineCollection):
            segs += [np.asarray(s) for s in coll.get_segments()]
    return segs


def _bones_drawn(ax, pose) -> list[int]:
    """How many times each bone of BONES appears among the axes' segments."""
    segs = _segments(ax)
    counts = []
    for a, b in BONES:
        want = pose[[a, b], :2]
        counts.append(
            sum(
                np.allclose(s, want, atol=1e-6) or np.allclose(s, want[::-1], atol=1e-6)
                for s in segs
            )
        )
    return counts


@pytest.mark.parametrize("hands", ["plain", "inset"])
def test_frame_draws_every_bone_exactly_once(hands):
    pose = drifting_pose(1)[0]
    fig, ax = plt.subplots()
    view = draw_frame(ax, pose, hands=hands)
    assert len(_segments(ax)) == len(BONES)
    assert _bones_drawn(ax, pose) == [1] * len(BONES)
    for iax, _ in view.insets.values():  # each inset is a full skeleton too
        assert _bones_drawn(iax, pose) == [1] * len(BONES)
    assert ax.yaxis_inverted()  # y down, as in the data
    assert ax.get_aspect() == 1.0
    plt.close(fig)


def test_zoom_enlarges_hands_about_their_roots():
    pose = drifting_pose(1)[0]
    fig, ax = plt.subplots()
    draw_frame(ax, pose, hands="zoom", hand_zoom=2.0)
    segs = _segments(ax)
    root, tip = 8, 12  # hand on wrist 7: root and thumb tip
    want = pose[root, :2] + 2.0 * (pose[tip, :2] - pose[root, :2])
    assert any(np.allclose(s[1], want, atol=1e-6) for s in segs)
    plt.close(fig)


def test_bad_hand_mode_lists_the_valid_ones():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="inset, zoom, plain"):
        draw_frame(ax, drifting_pose(1)[0], hands="big")
    plt.close(fig)


def test_animation_has_t_frames_and_gif_too(tmp_path):
    poses = drifting_pose(7)
    anim = animate(poses, hands="plain", dpi=30)
    assert sum(1 for _ in anim.new_frame_seq()) == 7
    path = save_animation(anim, tmp_path / "a.gif", close=True)
    with Image.open(path) as im:
        assert im.n_frames == 7
        assert im.info["duration"] == 40  # 25 fps


def test_mp4_with_pyav_writer(tmp_path):
    import av

    anim = animate(drifting_pose(6), hands="plain", dpi=30)
    anim.save(tmp_path / "a.mp4", writer=PyAVWriter(fps=25))
    plt.close(anim._fig)
    with av.open(str(tmp_path / "a.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 6


def test_html_player():
    html = to_html(animate(drifting_pose(3), hands="plain", dpi=30))
    assert "<script" in html and "animation" in html.lower()


@pytest.mark.filterwarnings("ignore:Animation was deleted")
def test_side_by_side_holds_the_last_frame_of_shorter_sequences():
    short, long_ = drifting_pose(4, seed=1), drifting_pose(9, seed=2)
    anim = side_by_side([short, long_], ["A", "B"], text="a sentence", hands="plain")
    assert sum(1 for _ in anim.new_frame_seq()) == 9
    anim.show_frame(8)
    ax_a, ax_b = anim._fig.axes[:2]
    assert _bones_drawn(ax_a, short[-1]) == [1] * len(BONES)
    assert _bones_drawn(ax_b, long_[8]) == [1] * len(BONES)
    counters = [t.get_text() for t in ax_a.texts]
    assert "end" in counters
    assert "9/9" in [t.get_text() for t in ax_b.texts]
    assert "a sentence" in anim._fig._suptitle.get_text()
    plt.close(anim._fig)
    del anim  # never saved: matplotlib warns when it is collected, here not later
    gc.collect()


def test_strip_every_kth_frame_with_unequal_lengths():
    fig = strip([drifting_pose(5), drifting_pose(11)], ["A", "B"], every=3, text="x")
    axes = np.array(fig.axes).reshape(2, -1)
    assert axes.shape == (2, 4)  # t = 0, 3, 6, 9
    assert [ax.get_title() for ax in axes[0]] == ["t=0", "t=3", "t=6", "t=9"]
    assert "end" in [t.get_text() for t in axes[0, 3].texts]
    plt.close(fig)
