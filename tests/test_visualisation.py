"""Drawing, animation and the explorer (nar_slp.visualisation)."""

from __future__ import annotations

import gc
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from PIL import Image  # noqa: E402

from nar_slp.data.normaliser import Normaliser  # noqa: E402
from nar_slp.data.pt_format import SignSequence  # noqa: E402
from nar_slp.skeleton import BONES, NUM_COORDS, NUM_JOINTS  # noqa: E402
from nar_slp.systems import OURS_KD  # noqa: E402
from nar_slp.visualisation.animate import (  # noqa: E402
    PyAVWriter,
    animate,
    save_animation,
    side_by_side,
    to_html,
)
from nar_slp.visualisation.draw import draw_frame, strip  # noqa: E402
from nar_slp.visualisation.explorer import (  # noqa: E402
    PANEL_PX,
    ExplorerResult,
    build_explorer,
    explore,
    explorer_models,
)


def _moving(t: int, seed: int = 0) -> np.ndarray:
    """(T, J, K): random distinct joints drifting right by 0.01 per frame."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-0.4, 0.5, (NUM_JOINTS, NUM_COORDS))
    drift = np.zeros((t, 1, NUM_COORDS))
    drift[:, 0, 0] = 0.01 * np.arange(t)
    return (base[None] + drift).astype(np.float32)


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
    pose = _moving(1)[0]
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
    pose = _moving(1)[0]
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
        draw_frame(ax, _moving(1)[0], hands="big")
    plt.close(fig)


def test_animation_has_t_frames_and_gif_too(tmp_path):
    poses = _moving(7)
    anim = animate(poses, hands="plain", dpi=30)
    assert sum(1 for _ in anim.new_frame_seq()) == 7
    path = save_animation(anim, tmp_path / "a.gif", close=True)
    with Image.open(path) as im:
        assert im.n_frames == 7
        assert im.info["duration"] == 40  # 25 fps


def test_mp4_with_pyav_writer(tmp_path):
    import av

    anim = animate(_moving(6), hands="plain", dpi=30)
    anim.save(tmp_path / "a.mp4", writer=PyAVWriter(fps=25))
    plt.close(anim._fig)
    with av.open(str(tmp_path / "a.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 6


def test_html_player():
    html = to_html(animate(_moving(3), hands="plain", dpi=30))
    assert "<script" in html and "animation" in html.lower()


@pytest.mark.filterwarnings("ignore:Animation was deleted")
def test_side_by_side_holds_the_last_frame_of_shorter_sequences():
    short, long_ = _moving(4, seed=1), _moving(9, seed=2)
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
    fig = strip([_moving(5), _moving(11)], ["A", "B"], every=3, text="x")
    axes = np.array(fig.axes).reshape(2, -1)
    assert axes.shape == (2, 4)  # t = 0, 3, 6, 9
    assert [ax.get_title() for ax in axes[0]] == ["t=0", "t=3", "t=6", "t=9"]
    assert "end" in [t.get_text() for t in axes[0, 3].texts]
    plt.close(fig)


# ---------------------------------------------------------------------- explorer


TEXTS = ["the sun is warm today", "rain on monday"]


@pytest.fixture(scope="module")
def tiny_system(tiny_bert_dir):
    from nar_slp.config import get_config
    from nar_slp.models.pose_vae import PoseVAE, freeze
    from nar_slp.models.student import build_student

    cfg = get_config(
        "smoke",
        **{
            "student.text_encoder": str(tiny_bert_dir),
            "data.max_frames": 16,
            "vae.latent_dim": 8,
            "vae.hidden": (16, 16),
        },
    )
    torch.manual_seed(0)
    student = build_student(cfg).eval()
    vae = freeze(PoseVAE(cfg.vae))
    rng = np.random.default_rng(0)
    normaliser = Normaliser.fit(
        [rng.normal(0.0, 0.3, (20, NUM_JOINTS, NUM_COORDS)) for _ in range(3)]
    )
    return student, vae, normaliser


def test_explore_generates_poses_for_a_typed_sentence(tiny_system):
    from nar_slp.inference import generate

    student, vae, normaliser = tiny_system
    res = explore("  the sun is warm today ", student, vae, normaliser)
    assert isinstance(res, ExplorerResult) and res.gt_poses is None
    assert res.poses.shape == (res.length, NUM_JOINTS, NUM_COORDS)
    assert np.isfinite(res.poses).all()
    ref = generate(student, vae, normaliser, [TEXTS[0]])
    assert res.length == int(ref.lengths[0])
    np.testing.assert_allclose(res.poses, ref.poses[0], atol=1e-5)


def test_explore_returns_ground_truth_for_a_test_sentence(tiny_system):
    gt = _moving(12)
    tests = [SignSequence("s0", TEXTS[1], "", gt)]
    res = explore(TEXTS[1], *tiny_system, test_lookup=tests)
    np.testing.assert_array_equal(res.gt_poses, gt)
    res = explore(TEXTS[1], *tiny_system, test_lookup={TEXTS[1]: gt})
    np.testing.assert_array_equal(res.gt_poses, gt)
    with pytest.raises(ValueError, match="empty"):
        explore("  ", *tiny_system)


def test_build_explorer_widget_and_static_fallback(tiny_system):
    student, vae, normaliser = tiny_system
    tests = [SignSequence("s0", TEXTS[1], "", _moving(12))]
    fig = build_explorer({"tiny": student}, vae, normaliser, tests, use_widgets=False)
    assert len(fig.axes) >= 2  # ground truth row + generated row
    plt.close(fig)
    pytest.importorskip("ipywidgets")
    panel = build_explorer({"tiny": student}, vae, normaliser, tests)
    image = panel.children[-1]
    assert image.value[:4] == b"\x89PNG"
    slider = panel.children[-2].children[1]
    length = explore(TEXTS[1], student, vae, normaliser).length
    assert slider.max == max(12, length) - 1  # the longer of generated and truth
    first = image.value
    slider.value = slider.max
    assert image.value != first


def _panel(tiny_system, tests, **kw):
    pytest.importorskip("ipywidgets")
    student, vae, normaliser = tiny_system
    panel = build_explorer({"tiny": student}, vae, normaliser, tests, **kw)
    text_box, picker, _, info, _, image = panel.children
    return panel, text_box, picker, info, image


def test_explorer_image_is_drawn_at_the_size_it_is_displayed(tiny_system):
    tests = [SignSequence("s0", TEXTS[1], "", _moving(12))]
    panel, text_box, _, _, image = _panel(tiny_system, tests)
    png = Image.open(io.BytesIO(image.value))
    # two panels (truth + generated), each PANEL_PX, and the widget shows exactly that
    assert png.size == (2 * PANEL_PX[0], PANEL_PX[1])
    assert (image.layout.width, image.layout.height) == tuple(
        f"{n}px" for n in png.size
    )
    assert png.size[1] <= 480  # leaves room for the controls in a laptop window
    text_box.value = "a sentence that is not in the test set"
    panel.generate()
    png = Image.open(io.BytesIO(image.value))
    assert png.size == PANEL_PX and image.layout.width == f"{PANEL_PX[0]}px"


def test_explorer_shows_generation_warnings_in_its_info_line(tiny_system):
    tests = [SignSequence("s0", TEXTS[1], "", _moving(12))]
    panel, text_box, _, info, _ = _panel(tiny_system, tests)
    assert "&#9888;" not in info.value
    text_box.value = " ".join(["rain"] * 300)  # beyond the encoder's 128 tokens
    panel.generate()
    assert "&#9888;" in info.value and "truncated" in info.value


def test_explorer_picker_follows_the_sentence_box(tiny_system):
    tests = [
        SignSequence("s0", TEXTS[1], "", _moving(12)),
        SignSequence("s1", TEXTS[0], "", _moving(9, seed=1)),
    ]
    _, text_box, picker, _, _ = _panel(tiny_system, tests)
    assert text_box.value == TEXTS[1] and picker.value == TEXTS[1]  # test sentence 0
    picker.value = TEXTS[0]
    assert text_box.value == TEXTS[0]
    text_box.value = "something else"
    assert picker.value == ""
    text_box.value = TEXTS[1]
    assert picker.value == TEXTS[1]
    _, text_box, picker, _, _ = _panel(tiny_system, tests, default_text="typed")
    assert text_box.value == "typed" and picker.value == ""


def test_explorer_models_fall_back_to_the_shipped_model(tmp_path):
    models, vae, normaliser, source = explorer_models(tmp_path / "no-run")
    assert list(models) == [OURS_KD] and "shipped" in source
    res = explore("rain in the north tomorrow", models[OURS_KD], vae, normaliser)
    assert res.poses.shape[1:] == (NUM_JOINTS, NUM_COORDS) and res.length > 0
