"""The interactive explorer: type (or pick) a sentence, generate, watch the signing.

:func:`explore` is the pure callback (text -> poses, predicted length and, for a
test-set sentence, the ground truth); :func:`build_explorer` wraps it in an ipywidgets
panel (text box, test-sentence picker, model choice, Generate button, a frame slider
with a Play button, the generated skeleton next to the ground truth). Frames are
rendered with the Agg backend into an ``ipywidgets.Image``, so the panel works in any
kernel (and headless under nbval). Without ipywidgets, :func:`build_explorer` returns
a static matplotlib figure (a frame strip) for the first sentence instead.
"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from nar_slp.inference import generate
from nar_slp.visualisation.draw import FrameView, _hold, auto_limits, strip


@dataclass
class ExplorerResult:
    """poses: (T, J, K) float32 generated poses (PT coordinates); length: T, the
    regulator's predicted frame count; gt_poses: the reference (T', J, K) when the
    text is a test sentence, else None; seconds: wall time of the generation."""

    poses: np.ndarray
    length: int
    gt_poses: np.ndarray | None
    seconds: float = 0.0


def _lookup(test_lookup, text: str) -> np.ndarray | None:
    if test_lookup is None:
        return None
    if isinstance(test_lookup, Mapping):
        gt = test_lookup.get(text.strip())
    else:  # a sequence of SignSequence
        gt = next(
            (s.poses for s in test_lookup if s.text.strip() == text.strip()), None
        )
    return None if gt is None else np.asarray(gt, dtype=np.float32)


def explore(
    text: str,
    model,
    vae,
    normaliser,
    test_lookup: Mapping[str, np.ndarray] | Sequence | None = None,
) -> ExplorerResult:
    """Generate the signing of one sentence.

    Args:
        text: the input (spoken text, or glosses for a gloss-input student).
        model: a trained student; vae: the pose VAE (its PGM decodes); normaliser:
            maps the decoded poses back to PT coordinates.
        test_lookup: ``{text: gt poses (T, J, K)}`` or a list of ``SignSequence``;
            the ground truth is returned when ``text`` is one of them.
    """

    text = text.strip()
    if not text:
        raise ValueError("text is empty: type a sentence")
    start = time.perf_counter()
    gen = generate(model, vae, normaliser, [text], batch_size=1)
    seconds = time.perf_counter() - start
    return ExplorerResult(
        poses=gen.poses[0],
        length=int(gen.lengths[0]),
        gt_poses=_lookup(test_lookup, text),
        seconds=seconds,
    )


def _widgets():
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


class _FrameRenderer:
    """A figure with one panel per sequence, re-rendered to PNG bytes per frame."""

    def __init__(self, sequences, titles, dpi: int = 80):
        self.sequences = [np.asarray(s) for s in sequences]
        limits = auto_limits(self.sequences)
        limits = (limits[0], limits[1], limits[2] - 0.15, limits[3])
        self.fig = Figure(figsize=(3.0 * len(sequences), 3.3), dpi=dpi)
        self.views = []
        for k, (seq, title) in enumerate(zip(self.sequences, titles, strict=True)):
            ax = self.fig.add_subplot(1, len(sequences), k + 1)
            self.views.append(FrameView(ax, seq[0], hands="inset", limits=limits))
            ax.set_title(f"{title} ({len(seq)} frames)", fontsize=9)
        self.fig.tight_layout()

    def png(self, t: int) -> bytes:
        for view, seq in zip(self.views, self.sequences, strict=True):
            view.set_pose(_hold(seq, t))
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        return buf.getvalue()


def build_explorer(
    models: Mapping[str, object],
    vae,
    normaliser,
    test_sequences: Sequence | None = None,
    default_text: str | None = None,
    use_widgets: bool | None = None,
    fps: int = 25,
):
    """The explorer panel, or a static figure when widgets are unavailable.

    Args:
        models: ``{name: student}`` offered in the model menu (first = default).
        vae, normaliser: as for :func:`explore`.
        test_sequences: ``SignSequence`` list; their texts fill the picker and give
            the ground truth.
        default_text: the sentence shown first (default: the first test sentence).
        use_widgets: None = ipywidgets if importable; False forces the fallback.

    Returns:
        An ``ipywidgets.VBox`` (display it), or a matplotlib ``Figure``: the strip of
        the generated sequence (and ground truth) for ``default_text``.
    """
    if not models:
        raise ValueError("models is empty: pass {name: student}")
    tests = list(test_sequences or [])
    lookup = {s.text.strip(): s.poses for s in tests}
    text0 = default_text or (tests[0].text if tests else "am montag regnet es")
    widgets = _widgets() if use_widgets in (None, True) else None
    if use_widgets and widgets is None:
        raise ImportError("use_widgets=True but ipywidgets is not installed")
    names = list(models)

    def run(text: str, name: str):
        res = explore(text, models[name], vae, normaliser, lookup)
        seqs, titles = [res.poses], [f"{name}"]
        if res.gt_poses is not None:
            seqs, titles = [res.gt_poses, res.poses], ["ground truth", name]
        return res, seqs, titles

    if widgets is None:
        res, seqs, titles = run(text0, names[0])
        fig = strip(seqs, titles, every=max(1, max(map(len, seqs)) // 8), text=text0)
        return fig

    text_box = widgets.Textarea(
        value=text0, description="Sentence", layout=widgets.Layout(width="95%")
    )
    picker = widgets.Dropdown(
        options=[""] + [s.text for s in tests],
        description="Test set",
        layout=widgets.Layout(width="95%"),
    )
    model_menu = widgets.Dropdown(options=names, value=names[0], description="Model")
    button = widgets.Button(description="Generate", button_style="primary")
    info = widgets.HTML()
    image = widgets.Image(format="png")
    slider = widgets.IntSlider(min=0, max=0, description="Frame")
    play = widgets.Play(min=0, max=0, interval=int(1000 / fps))
    widgets.jslink((play, "value"), (slider, "value"))
    state: dict = {}

    def on_pick(change):
        if change["new"]:
            text_box.value = change["new"]

    def on_frame(change):
        if "renderer" in state:
            image.value = state["renderer"].png(int(change["new"]))

    def on_generate(_=None):
        try:
            res, seqs, titles = run(text_box.value, model_menu.value)
        except ValueError as exc:
            info.value = f"<b>{exc}</b>"
            return
        state["renderer"] = _FrameRenderer(seqs, titles)
        t_max = max(len(s) for s in seqs) - 1
        slider.max = play.max = t_max
        gt = (
            "" if res.gt_poses is None else f"; ground truth {len(res.gt_poses)} frames"
        )
        info.value = (
            f"predicted length <b>{res.length}</b> frames "
            f"({res.length / fps:.2f} s at {fps} fps){gt}; "
            f"generated in {1000 * res.seconds:.0f} ms"
        )
        slider.value = 0
        image.value = state["renderer"].png(0)

    picker.observe(on_pick, names="value")
    slider.observe(on_frame, names="value")
    button.on_click(on_generate)
    on_generate()
    panel = widgets.VBox(
        [
            text_box,
            picker,
            widgets.HBox([model_menu, button]),
            info,
            widgets.HBox([play, slider]),
            image,
        ]
    )
    panel.generate = on_generate  # for tests and scripted use
    return panel
