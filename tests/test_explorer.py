"""The explorer (nar_slp.visualisation.explorer): its callback, frames, controller and
ipywidgets panel, tested without a browser (the widgets' values are set from Python,
as the front end would)."""

from __future__ import annotations

import io
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from helpers import drifting_pose, tiny_student_config
from PIL import Image  # noqa: E402

from nar_slp.data.normaliser import Normaliser  # noqa: E402
from nar_slp.data.pt_format import SignSequence  # noqa: E402
from nar_slp.models.pose_vae import PoseVAE, freeze  # noqa: E402
from nar_slp.models.student import build_student  # noqa: E402
from nar_slp.skeleton import NUM_COORDS, NUM_JOINTS  # noqa: E402
from nar_slp.systems import OURS_KD  # noqa: E402
from nar_slp.visualisation import explorer as explorer_module  # noqa: E402
from nar_slp.visualisation.explorer import (  # noqa: E402
    PANEL_PX,
    ExplorerController,
    ExplorerResult,
    build_explorer,
    explore,
    explorer_models,
)
from nar_slp.visualisation.explorer_frames import FrameRenderer  # noqa: E402
from nar_slp.weights import run_test_split  # noqa: E402

TEXTS = ["the sun is warm today", "rain on monday"]
LONG = " ".join(["rain"] * 300)  # beyond the encoder's token limit


def _size(png: bytes) -> tuple[int, int]:
    assert png[:4] == b"\x89PNG"
    with Image.open(io.BytesIO(png)) as im:
        return im.size


@pytest.fixture(scope="module")
def tiny_system(tiny_bert_dir):
    cfg = tiny_student_config(str(tiny_bert_dir))
    torch.manual_seed(0)
    student = build_student(cfg).eval()
    vae = freeze(PoseVAE(cfg.vae))
    rng = np.random.default_rng(0)
    normaliser = Normaliser.fit(
        [rng.normal(0.0, 0.3, (20, NUM_JOINTS, NUM_COORDS)) for _ in range(3)]
    )
    return student, vae, normaliser


@pytest.fixture
def tests():
    return [
        SignSequence("s0", TEXTS[1], "", drifting_pose(12)),
        SignSequence("s1", TEXTS[0], "", drifting_pose(9, seed=1)),
    ]


def _controller(tiny_system, tests, **kw) -> ExplorerController:
    return ExplorerController({"tiny": tiny_system[0]}, *tiny_system[1:], tests, **kw)


def _panel(tiny_system, tests, **kw):
    pytest.importorskip("ipywidgets")
    student, vae, normaliser = tiny_system
    panel = build_explorer({"tiny": student}, vae, normaliser, tests, **kw)
    text_box, picker, _, play_row, image, info = panel.children
    play, slider = play_row.children
    return panel, dict(
        text=text_box, picker=picker, info=info, play=play, slider=slider, image=image
    )


# ------------------------------------------------------------------ the callback


def test_explore_generates_poses_for_a_typed_sentence(tiny_system):
    from nar_slp.inference import generate

    student, vae, normaliser = tiny_system
    res = explore("  the sun is warm today ", student, vae, normaliser)
    assert isinstance(res, ExplorerResult) and res.gt_poses is None
    assert res.poses.shape == (res.length, NUM_JOINTS, NUM_COORDS)
    assert np.isfinite(res.poses).all() and res.warnings == []
    ref = generate(student, vae, normaliser, [TEXTS[0]])
    assert res.length == int(ref.lengths[0])
    np.testing.assert_allclose(res.poses, ref.poses[0], atol=1e-5)


def test_explore_returns_ground_truth_for_a_test_sentence(tiny_system, tests):
    res = explore(TEXTS[1], *tiny_system, test_lookup=tests)
    np.testing.assert_array_equal(res.gt_poses, tests[0].poses)
    res = explore(TEXTS[1], *tiny_system, test_lookup={TEXTS[1]: tests[0].poses})
    np.testing.assert_array_equal(res.gt_poses, tests[0].poses)
    with pytest.raises(ValueError, match="empty"):
        explore("  ", *tiny_system)


def test_explore_records_the_truncation_warning(tiny_system):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # recorded, not raised nor printed
        res = explore(LONG, *tiny_system)
    assert len(res.warnings) == 1 and "truncated" in res.warnings[0]


# -------------------------------------------------------------------- the frames


@pytest.mark.parametrize("panel_px", [PANEL_PX, (200, 240)])
def test_frames_are_rendered_at_the_panel_size_with_titles_inside(panel_px):
    for n in (1, 2):
        seqs = [drifting_pose(5 + k, seed=k) for k in range(n)]
        renderer = FrameRenderer(seqs, [f"s{k}" for k in range(n)], panel_px)
        assert renderer.size == (n * panel_px[0], panel_px[1])
        assert _size(renderer.png(0)) == renderer.size
        assert renderer.png(0) != renderer.png(4)  # frames differ; t=4 holds on
        draw = renderer.canvas.get_renderer()
        assert len(renderer.fig.axes) == n  # the hand insets are the axes' children
        for ax in renderer.fig.axes:
            box = ax.title.get_window_extent(draw)
            assert box.y1 <= renderer.size[1] and box.x0 >= 0  # not cut off
    with pytest.raises(ValueError, match="no room"):
        FrameRenderer([drifting_pose(3)], ["s"], (8, 20))


def test_the_default_size_fits_a_laptop_window():
    w, h = PANEL_PX
    assert 2 * w <= 800  # truth + generated beside each other, with JupyterLab's bars
    assert h <= 400  # + ~180 px of controls < a 1366x768 laptop's notebook area


# ---------------------------------------------------------------- the controller


def test_controller_picker_value_follows_the_text(tiny_system, tests):
    ctrl = _controller(tiny_system, tests)
    assert ctrl.text0 == TEXTS[1] and ctrl.pick_for(ctrl.text0) == TEXTS[1]
    assert ctrl.pick_for(f"  {TEXTS[0]}\n") == TEXTS[0]  # whitespace is no edit
    assert ctrl.pick_for("rain on monday!") == ""
    assert _controller(tiny_system, tests, default_text="typed").text0 == "typed"
    assert _controller(tiny_system, None).pick_for("anything") == ""


def test_controller_ground_truth_only_for_an_unchanged_test_sentence(
    tiny_system, tests
):
    ctrl = _controller(tiny_system, tests)
    assert ctrl.generate(TEXTS[1]) and len(ctrl.renderer.sequences) == 2
    np.testing.assert_array_equal(ctrl.renderer.sequences[0], tests[0].poses)
    assert "ground truth 12 frames" in ctrl.info
    assert ctrl.generate(TEXTS[1] + " and snow")
    assert len(ctrl.renderer.sequences) == 1 and ctrl.result.gt_poses is None
    assert "ground truth" not in ctrl.info


def test_controller_frame_count_follows_the_generation(tiny_system, tests):
    ctrl = _controller(tiny_system, tests)
    with pytest.raises(RuntimeError, match="generate"):
        ctrl.frame(0)
    ctrl.generate(TEXTS[0])  # test sentence 1: ground truth of 9 frames
    assert ctrl.n_frames == max(9, ctrl.result.length)
    ctrl.generate("a typed sentence")
    assert ctrl.n_frames == ctrl.result.length
    last = ctrl.frame(ctrl.n_frames - 1)
    assert ctrl.frame(10_000) == last and ctrl.frame(-3) == ctrl.frame(0)
    assert _size(last) == ctrl.size == PANEL_PX


def test_controller_shows_every_warning_in_the_info_line(
    tiny_system, tests, monkeypatch
):
    ctrl = _controller(tiny_system, tests)
    assert ctrl.generate(LONG)
    assert "&#9888;" in ctrl.info and "truncated" in ctrl.info
    assert ctrl.n_frames == ctrl.result.length  # and it still generated

    class Warns(FrameRenderer):
        def png(self, t):
            warnings.warn("a <drawing> warning", UserWarning, stacklevel=1)
            return super().png(t)

    monkeypatch.setattr(explorer_module, "FrameRenderer", Warns)
    ctrl.generate(TEXTS[0])
    assert "a &lt;drawing&gt; warning" in ctrl.info  # escaped, from the rendering
    assert "truncated" not in ctrl.info  # this generation's warnings only


def test_controller_drops_the_old_frames_when_the_text_is_empty(tiny_system, tests):
    ctrl = _controller(tiny_system, tests)
    ctrl.generate(TEXTS[0])
    assert not ctrl.generate("   ")
    assert "empty" in ctrl.info and ctrl.n_frames == 0 and ctrl.result is None
    with pytest.raises(RuntimeError, match="nothing generated"):
        ctrl.frame(0)  # the previous sentence's frames are not shown as this one's
    assert not ctrl.stale("   ")
    assert ctrl.generate(TEXTS[0]) and ctrl.n_frames > 0


def test_panel_hides_the_figure_after_an_error(tiny_system, tests):
    panel, w = _panel(tiny_system, tests)
    assert w["image"].layout.display is None and w["image"].value
    w["text"].value = "  "
    panel.generate()
    assert w["image"].layout.display == "none" and "empty" in w["info"].value
    assert w["slider"].max == w["play"].max == 0
    w["text"].value = TEXTS[0]
    panel.generate()
    assert w["image"].layout.display is None and w["slider"].max > 0


def test_panel_info_line_sits_below_the_figure(tiny_system, tests):
    panel, w = _panel(tiny_system, tests)
    kids = list(panel.children)
    assert kids.index(w["image"]) < kids.index(w["info"])  # a warning never moves it


# --------------------------------------------------------------------- the panel


def test_build_explorer_widget_and_static_fallback(tiny_system, tests, monkeypatch):
    student, vae, normaliser = tiny_system
    fig = build_explorer({"tiny": student}, vae, normaliser, tests, use_widgets=False)
    assert len(fig.axes) >= 2  # ground truth row + generated row
    plt.close(fig)
    monkeypatch.setattr(explorer_module, "_widgets", lambda: None)  # no ipywidgets
    fig = build_explorer({"tiny": student}, vae, normaliser, tests)
    assert isinstance(fig, plt.Figure)
    plt.close(fig)
    with pytest.raises(ImportError, match="ipywidgets"):
        build_explorer({"tiny": student}, vae, normaliser, use_widgets=True)
    with pytest.raises(ValueError, match="normaliser"):
        build_explorer({"tiny": student}, vae)
    with pytest.raises(ValueError, match="models"):
        build_explorer(vae=vae, normaliser=normaliser)


@pytest.mark.parametrize("panel_px", [None, (240, 280)])
def test_panel_image_is_shown_at_the_size_it_is_drawn(tiny_system, tests, panel_px):
    kw = {} if panel_px is None else {"panel_px": panel_px}
    panel, w = _panel(tiny_system, tests, **kw)
    panel_px = panel_px or PANEL_PX
    image = w["image"]
    size = _size(image.value)
    assert size == (2 * panel_px[0], panel_px[1])  # truth + generated
    assert (image.layout.width, image.layout.height) == tuple(f"{n}px" for n in size)
    w["text"].value = "a sentence that is not in the test set"
    panel.generate()
    assert _size(image.value) == panel_px
    assert (image.layout.width, image.layout.height) == tuple(
        f"{n}px" for n in panel_px
    )


def test_panel_slider_and_play_follow_the_generated_length(tiny_system, tests):
    panel, w = _panel(tiny_system, tests)
    slider, play, image, ctrl = w["slider"], w["play"], w["image"], panel.controller
    length = explore(TEXTS[1], *tiny_system).length
    assert slider.max == play.max == max(12, length) - 1  # truth is 12 frames
    assert slider.min == play.min == 0 and play.interval == 40  # 25 fps
    first = image.value
    slider.value = slider.max
    assert image.value != first and image.value == ctrl.frame(slider.max)
    w["text"].value = "a typed sentence"
    panel.generate()
    assert slider.max == play.max == ctrl.result.length - 1
    assert slider.value == play.value == 0 and image.value == ctrl.frame(0)


def test_panel_info_line_shows_the_truncation_warning(tiny_system, tests):
    panel, w = _panel(tiny_system, tests)
    assert "&#9888;" not in w["info"].value
    w["text"].value = LONG
    assert "press Generate" in w["info"].value  # the frames are of the old text
    panel.generate()
    assert "&#9888;" in w["info"].value and "truncated" in w["info"].value
    assert "press Generate" not in w["info"].value


def test_panel_picker_and_sentence_box_agree(tiny_system, tests):
    panel, w = _panel(tiny_system, tests)
    text, picker = w["text"], w["picker"]
    assert text.value == TEXTS[1] and picker.value == TEXTS[1]  # test sentence 0
    picker.value = TEXTS[0]
    assert text.value == TEXTS[0]
    text.value = TEXTS[0] + " and wind"  # edited: no longer a test sentence
    assert picker.value == ""
    panel.generate()
    assert len(panel.controller.renderer.sequences) == 1  # no ground truth
    text.value = f" {TEXTS[1]} "
    assert picker.value == TEXTS[1] and text.value == f" {TEXTS[1]} "
    panel.generate()
    assert len(panel.controller.renderer.sequences) == 2
    picker.value = ""  # the blank option leaves the box as it is
    assert text.value == f" {TEXTS[1]} "
    _, w = _panel(tiny_system, tests, default_text="typed")
    assert w["text"].value == "typed" and w["picker"].value == ""


# ------------------------------------------------------- without a run: the bundle


@pytest.fixture(scope="module")
def shipped_panel():
    pytest.importorskip("ipywidgets")
    return build_explorer()  # no run folder: the shipped bundle


def test_explorer_models_fall_back_to_the_shipped_model(tmp_path):
    models, vae, normaliser, source = explorer_models(tmp_path / "no-run")
    assert list(models) == [OURS_KD] and "shipped" in source
    res = explore("rain in the north tomorrow", models[OURS_KD], vae, normaliser)
    assert res.poses.shape[1:] == (NUM_JOINTS, NUM_COORDS) and res.length > 0


def test_build_explorer_without_models_explores_the_shipped_bundle(shipped_panel):
    panel = shipped_panel
    ctrl = panel.controller
    text, picker, model_row, play_row, image, info = panel.children
    assert ctrl.names == [OURS_KD] and model_row.children[0].value == OURS_KD
    # the picker holds the shipped run's test sentences, regenerated, with truth
    test, why = run_test_split()
    assert why is None and len(test) == len(picker.options) - 1 > 0
    assert picker.options[1:] == tuple(s.text for s in test)
    assert text.value == ctrl.text0 == test[0].text and picker.value == text.value
    assert len(ctrl.renderer.sequences) == 2  # ground truth and the student
    assert "shipped" in info.value
    assert ctrl.n_frames == max(ctrl.result.length, len(test[0].poses)) > 1
    assert play_row.children[1].max == ctrl.n_frames - 1
    assert _size(image.value) == (2 * PANEL_PX[0], PANEL_PX[1])
    text.value = "in the south it will be mostly sunny tomorrow"
    panel.generate()
    assert ctrl.shown_text == text.value and ctrl.n_frames == ctrl.result.length
    assert ctrl.frame(ctrl.n_frames - 1) != ctrl.frame(0)  # it signs


def test_shipped_model_truncation_warning_reaches_the_panel(shipped_panel):
    text, info = shipped_panel.children[0], shipped_panel.children[-1]
    text.value = " ".join(["rain"] * 300)  # the 300-word sentence
    shipped_panel.generate()
    assert "max_tokens=128" in info.value and "truncated" in info.value
