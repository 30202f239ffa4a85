"""The interactive explorer: type (or pick) a sentence, generate, watch the signing.

:func:`explore` is the pure callback (text -> poses, predicted length and, for a
test-set sentence, the ground truth); :func:`build_explorer` wraps it in an ipywidgets
panel (text box, test-sentence picker, model choice, Generate button, a frame slider
with a Play button, the generated skeleton next to the ground truth). Frames are
rendered with the Agg backend into an ``ipywidgets.Image`` at exactly the size it is
displayed (:data:`PANEL_PX` per sequence, so it is sharp and the panel with its
controls fits a laptop window), so the panel works in any kernel (and headless under
nbval). Warnings raised while generating (a sentence truncated to the encoder's
token limit, ...) appear in the panel's info line. Without ipywidgets,
:func:`build_explorer` returns a static matplotlib figure (a frame strip) for the
first sentence instead. :func:`explorer_models` finds what to explore: a run's
trained students, else the model shipped in ``bundles/``.
"""

from __future__ import annotations

import html
import io
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from nar_slp.bundle import SHIPPED_BUNDLE, load_bundle
from nar_slp.data.normaliser import Normaliser
from nar_slp.inference import generate
from nar_slp.students import SEED_PREFIX, STUDENT_VARIANTS, load_student, student_dirs
from nar_slp.training.vae_trainer import load_vae
from nar_slp.visualisation.draw import FrameView, _hold, auto_limits, strip

# Pixels (width, height) of one sequence's panel, drawn and displayed at this size:
# two panels (ground truth + generated) are 720 px wide, and 400 px high leave room
# for the controls above them in an ~850-px-high browser window.
PANEL_PX = (360, 400)
DPI = 100


@dataclass
class ExplorerResult:
    """poses: (T, J, K) float32 generated poses (PT coordinates); length: T, the
    regulator's predicted frame count; gt_poses: the reference (T', J, K) when the
    text is a test sentence, else None; seconds: wall time of the generation;
    warnings: the messages of the warnings raised while generating."""

    poses: np.ndarray
    length: int
    gt_poses: np.ndarray | None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gen = generate(model, vae, normaliser, [text], batch_size=1)
    seconds = time.perf_counter() - start
    return ExplorerResult(
        poses=gen.poses[0],
        length=int(gen.lengths[0]),
        gt_poses=_lookup(test_lookup, text),
        seconds=seconds,
        warnings=list(dict.fromkeys(str(w.message) for w in caught)),
    )


def explorer_models(
    run: str | Path | None, seed: int = 0, device: str = "cpu"
) -> tuple[dict[str, object], object, object, str]:
    """What to explore: ``({row name: student}, vae, normaliser, source)``.

    The trained students of ``run`` (seed ``seed`` of each system, else its first
    seed), with the run's VAE and normaliser; when the run has no trained student
    (or ``run`` is None), the model shipped in the repository
    (:data:`nar_slp.bundle.SHIPPED_BUNDLE`). ``source`` says which, for display.
    """
    found = student_dirs(run) if run is not None and Path(run).is_dir() else {}
    if found:
        run = Path(run)
        models: dict[str, object] = {}
        for key, folders in found.items():
            folder = next(
                (f for f in folders if f.name == f"{SEED_PREFIX}{seed}"), folders[0]
            )
            models[STUDENT_VARIANTS[key].row] = load_student(folder, device=device)
        normaliser = Normaliser.load(run / "normaliser.json")
        return models, load_vae(run / "vae", device=device), normaliser, str(run)
    bundle = load_bundle(SHIPPED_BUNDLE, device)
    row = STUDENT_VARIANTS[bundle.info.get("system", "kd")].row
    source = f"the shipped model {SHIPPED_BUNDLE.name} (no trained student in {run})"
    return {row: bundle.model}, bundle.vae, bundle.normaliser, source


def _widgets():
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


class _FrameRenderer:
    """A figure with one :data:`PANEL_PX` panel per sequence, re-rendered to PNG
    bytes per frame at exactly ``size`` pixels (the size it is displayed at)."""

    def __init__(self, sequences, titles, panel_px: tuple[int, int] = PANEL_PX):
        self.sequences = [np.asarray(s) for s in sequences]
        limits = auto_limits(self.sequences)
        limits = (limits[0], limits[1], limits[2] - 0.15, limits[3])
        w, h = panel_px
        self.size = (w * len(self.sequences), h)
        self.fig = Figure(figsize=(self.size[0] / DPI, h / DPI), dpi=DPI)
        self.views = []
        for k, (seq, title) in enumerate(zip(self.sequences, titles, strict=True)):
            ax = self.fig.add_subplot(1, len(sequences), k + 1)
            self.views.append(FrameView(ax, seq[0], hands="inset", limits=limits))
            ax.set_title(f"{title} ({len(seq)} frames)", fontsize=10)
        self.fig.tight_layout()

    def png(self, t: int) -> bytes:
        for view, seq in zip(self.views, self.sequences, strict=True):
            view.set_pose(_hold(seq, t))
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=DPI)
        return buf.getvalue()


def _info_line(res: ExplorerResult, fps: int) -> str:
    """The panel's info line: length, timing and any warning of the generation."""
    gt = "" if res.gt_poses is None else f"; ground truth {len(res.gt_poses)} frames"
    line = (
        f"predicted length <b>{res.length}</b> frames "
        f"({res.length / fps:.2f} s at {fps} fps){gt}; "
        f"generated in {1000 * res.seconds:.0f} ms"
    )
    for message in res.warnings:
        line += f"<br><span style='color:#b45309'>&#9888; {html.escape(message)}</span>"
    return line


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

    test_texts = [s.text for s in tests]
    text_box = widgets.Textarea(
        value=text0, description="Sentence", layout=widgets.Layout(width="95%")
    )
    picker = widgets.Dropdown(
        options=[""] + test_texts,
        value=text0 if text0 in test_texts else "",
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

    def on_text(change):
        # the picker shows the test sentence the box holds, or nothing
        picker.value = change["new"] if change["new"] in test_texts else ""

    def on_frame(change):
        if "renderer" in state:
            image.value = state["renderer"].png(int(change["new"]))

    def on_generate(_=None):
        try:
            res, seqs, titles = run(text_box.value, model_menu.value)
        except ValueError as exc:
            info.value = f"<b>{html.escape(str(exc))}</b>"
            return
        renderer = state["renderer"] = _FrameRenderer(seqs, titles)
        # displayed at the size it is drawn: sharp, never stretched to the cell
        image.layout.width, image.layout.height = (f"{n}px" for n in renderer.size)
        t_max = max(len(s) for s in seqs) - 1
        slider.max = play.max = t_max
        info.value = _info_line(res, fps)
        slider.value = 0
        image.value = renderer.png(0)

    picker.observe(on_pick, names="value")
    text_box.observe(on_text, names="value")
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
