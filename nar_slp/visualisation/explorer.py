"""The interactive explorer: type (or pick) a sentence, generate, watch the signing.

:func:`explore` is the pure callback (text -> poses, predicted length and, for a
test-set sentence, the ground truth). :class:`ExplorerController` is the panel's logic
without widgets (which test sentence the box holds, generating, the frame count the
slider and Play run over, the info line with the generation's warnings, the frames
as PNG bytes), so it is testable without a browser; :func:`build_explorer` wires it to
an ipywidgets panel (text box, test-sentence picker, model menu, Generate, Play and a
frame slider, the generated skeleton next to the ground truth). Frames are drawn with
Agg at exactly the size they are displayed (``panel_px`` per sequence, default
:data:`PANEL_PX`): sharp, and the panel with its controls fits a laptop window; it
works in any kernel and headless under nbval. Without ipywidgets, ``build_explorer``
returns a static matplotlib strip of the first sentence instead. With no models it
explores the model shipped in the package (:func:`shipped_models`), as
:func:`explorer_models` does for a run without trained students.
"""

from __future__ import annotations

import html
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nar_slp.bundle import load_bundle
from nar_slp.data.normaliser import Normaliser
from nar_slp.inference import generate
from nar_slp.models.pose_vae import load_vae
from nar_slp.models.student import load_student
from nar_slp.students import SEED_PREFIX, STUDENT_VARIANTS, student_dir, student_dirs
from nar_slp.visualisation.draw import strip
from nar_slp.visualisation.explorer_frames import PANEL_PX, FrameRenderer
from nar_slp.weights import SHIPPED_WEIGHTS, run_test_split, verify_model

DEFAULT_TEXT = "tomorrow it will rain heavily in the north"


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


def _messages(caught) -> list[str]:
    return list(dict.fromkeys(str(w.message) for w in caught))


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
        warnings=_messages(caught),
    )


def shipped_models(
    path: str | Path | None = None, device: str = "cpu"
) -> tuple[dict[str, object], object, object, str]:
    """The bundle at ``path`` (default: the main student of the shipped weights,
    :data:`nar_slp.weights.SHIPPED_WEIGHTS`, kd seed 0) as
    ``({row name: student}, vae, normaliser, source)``."""
    if path is None:
        folder = student_dir(SHIPPED_WEIGHTS, "kd", 0)
        verify_model(SHIPPED_WEIGHTS, folder.relative_to(SHIPPED_WEIGHTS).as_posix())
        model = load_student(folder, device=device)
        vae = load_vae(SHIPPED_WEIGHTS / "vae", device=device)
        normaliser = Normaliser.load(SHIPPED_WEIGHTS / "normaliser.json")
        return (
            {STUDENT_VARIANTS["kd"].row: model},
            vae,
            normaliser,
            "the shipped weights",
        )
    path = Path(path)
    bundle = load_bundle(path, device)
    row = STUDENT_VARIANTS[bundle.info.get("system", "kd")].row
    return {row: bundle.model}, bundle.vae, bundle.normaliser, f"the bundle {path.name}"


def explorer_models(
    run: str | Path | None, seed: int = 0, device: str = "cpu"
) -> tuple[dict[str, object], object, object, str]:
    """What to explore: ``({row name: student}, vae, normaliser, source)``.

    The trained students of ``run`` (seed ``seed`` of each system, else its first
    seed), with the run's VAE and normaliser; when the run has no trained student
    (or ``run`` is None), the main student of the shipped weights
    (:data:`nar_slp.weights.SHIPPED_WEIGHTS`). ``source`` says which, for display.
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
    models, vae, normaliser, _ = shipped_models(device=device)
    source = f"the shipped main student, kd seed 0 (no trained student in {run})"
    return models, vae, normaliser, source


class ExplorerController:
    """The explorer's state and logic, without widgets (the panel's callbacks call
    these methods; tests call them directly).

    Args:
        models: ``{name: student}`` (first = default); vae, normaliser: as for
            :func:`explore`.
        test_sequences: ``SignSequence`` list: their texts are the picker's options
            and give the ground truth, shown for a test sentence's unchanged text.
        default_text: the sentence in the box at start (default: test sentence 0).
        panel_px: (width, height) of one sequence's panel in pixels.
        fps: frames per second (the info line's seconds; Play's speed).
        source: where the models come from, for the info line (None: not shown).
    """

    def __init__(
        self,
        models: Mapping[str, object],
        vae,
        normaliser,
        test_sequences: Sequence | None = None,
        default_text: str | None = None,
        panel_px: tuple[int, int] = PANEL_PX,
        fps: int = 25,
        source: str | None = None,
    ):
        if not models:
            raise ValueError("models is empty: pass {name: student}")
        self.models, self.names = dict(models), list(models)
        self.vae, self.normaliser = vae, normaliser
        self.panel_px, self.fps, self.source = tuple(panel_px), fps, source
        tests = list(test_sequences or [])
        self.test_texts = [s.text for s in tests]
        self.lookup: dict[str, np.ndarray] = {}
        self._option: dict[str, str] = {}  # stripped text -> its picker option
        for s in tests:  # the first of repeated texts wins, as in the picker
            self.lookup.setdefault(s.text.strip(), s.poses)
            self._option.setdefault(s.text.strip(), s.text)
        if default_text is None:
            default_text = tests[0].text if tests else DEFAULT_TEXT
        self.text0 = default_text
        self.result: ExplorerResult | None = None
        self.renderer: FrameRenderer | None = None
        self.shown_text: str | None = None  # the text of the frames on display
        self.info = ""
        self._frames: dict[int, bytes] = {}

    def pick_for(self, text: str) -> str:
        """The picker's value for a box holding ``text``: its test sentence, else
        "" (the blank option: a typed sentence, which has no ground truth)."""
        return self._option.get(text.strip(), "")

    def sequences(self, res: ExplorerResult, name: str):
        """(sequences, titles) to draw: ground truth first when there is one."""
        if res.gt_poses is None:
            return [res.poses], [name]
        return [res.gt_poses, res.poses], ["ground truth", name]

    @property
    def n_frames(self) -> int:
        """Frames the slider and Play run over: the longest sequence shown."""
        return 0 if self.renderer is None else max(map(len, self.renderer.sequences))

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) in pixels of the frames (None before a generation)."""
        return None if self.renderer is None else self.renderer.size

    def generate(self, text: str, name: str | None = None) -> bool:
        """Generate ``text`` with model ``name`` (default: the first) and draw frame
        0; :attr:`info` says how it went (length, timing, ground truth, warnings).
        False, with the reason in :attr:`info` and nothing on display (the previous
        sentence's frames are dropped, never shown as if they were this one's), when
        the text is not usable (empty)."""
        name = name or self.names[0]
        try:
            res = explore(
                text, self.models[name], self.vae, self.normaliser, self.lookup
            )
        except ValueError as exc:
            self.info = f"<b>{html.escape(str(exc))}</b>"
            self.result = self.renderer = self.shown_text = None
            self._frames = {}
            return False
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.renderer = FrameRenderer(*self.sequences(res, name), self.panel_px)
            self._frames = {0: self.renderer.png(0)}
        res.warnings = list(dict.fromkeys(res.warnings + _messages(caught)))
        self.result, self.shown_text = res, text.strip()
        self.info = self._info_line(res)
        return True

    def frame(self, t: int) -> bytes:
        """PNG bytes of frame ``t`` (clipped to the frames there are), cached."""
        if self.renderer is None:
            raise RuntimeError("nothing generated yet: call generate() first")
        t = int(min(max(t, 0), self.n_frames - 1))
        if t not in self._frames:
            self._frames[t] = self.renderer.png(t)
        return self._frames[t]

    def stale(self, text: str) -> bool:
        """Whether the box's ``text`` is not the sentence on display."""
        return self.shown_text is not None and text.strip() != self.shown_text

    def _info_line(self, res: ExplorerResult) -> str:
        gt = res.gt_poses
        line = (
            f"predicted length <b>{res.length}</b> frames "
            f"({res.length / self.fps:.2f} s at {self.fps} fps)"
            + ("" if gt is None else f"; ground truth {len(gt)} frames")
            + f"; generated in {1000 * res.seconds:.0f} ms"
            + ("" if self.source is None else f" by {html.escape(self.source)}")
        )
        for message in res.warnings:
            line += (
                f"<br><span style='color:#b45309'>&#9888; {html.escape(message)}</span>"
            )
        return line


def _widgets():
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


def build_explorer(
    models: Mapping[str, object] | None = None,
    vae=None,
    normaliser=None,
    test_sequences: Sequence | None = None,
    default_text: str | None = None,
    use_widgets: bool | None = None,
    fps: int = 25,
    panel_px: tuple[int, int] = PANEL_PX,
    bundle: str | Path | None = None,
    device: str = "cpu",
):
    """The explorer panel, or a static figure when widgets are unavailable.

    Args:
        models: ``{name: student}`` offered in the model menu (first = default);
            None: the bundle ``bundle`` (default: the shipped model), on ``device``.
        vae, normaliser: as for :func:`explore` (with ``models``; None without).
        test_sequences: ``SignSequence`` list; their texts fill the picker and give
            the ground truth. None with the shipped model: the shipped run's test
            split, regenerated (:func:`nar_slp.weights.run_test_split`).
        default_text: the sentence shown first (default: the first test sentence).
        use_widgets: None = ipywidgets if importable; False forces the fallback.
        panel_px: (width, height) of each sequence's panel, drawn and shown at it.

    Returns:
        An ``ipywidgets.VBox`` (display it; ``.controller`` is its
        :class:`ExplorerController`, ``.generate()`` presses Generate), or a
        matplotlib ``Figure``: the strip of the generated sequence (and ground
        truth) for the first sentence.
    """
    source = None
    if models is None:
        if vae is not None or normaliser is not None:
            raise ValueError("vae and normaliser come with models: pass all three")
        models, vae, normaliser, source = shipped_models(bundle, device)
        if bundle is None and test_sequences is None:  # the shipped run's test set
            test_sequences, why = run_test_split(SHIPPED_WEIGHTS)
            if why:
                warnings.warn(f"{why}; the test-set picker is empty", stacklevel=2)
    elif vae is None or normaliser is None:
        raise ValueError("pass the vae and the normaliser with the models")
    ctrl = ExplorerController(
        models, vae, normaliser, test_sequences, default_text, panel_px, fps, source
    )
    widgets = _widgets() if use_widgets in (None, True) else None
    if use_widgets and widgets is None:
        raise ImportError("use_widgets=True but ipywidgets is not installed")
    if widgets is None:
        res = explore(ctrl.text0, models[ctrl.names[0]], vae, normaliser, ctrl.lookup)
        seqs, titles = ctrl.sequences(res, ctrl.names[0])
        every = max(1, max(map(len, seqs)) // 8)
        return strip(seqs, titles, every=every, text=ctrl.text0)
    return _panel(widgets, ctrl)


def _panel(widgets, ctrl: ExplorerController):
    """The ipywidgets panel around ``ctrl``; the callbacks only move values between
    the widgets and the controller."""
    text_box = widgets.Textarea(
        value=ctrl.text0,
        rows=2,
        description="Sentence",
        layout=widgets.Layout(width="95%"),
    )
    picker = widgets.Dropdown(
        options=[""] + ctrl.test_texts,
        value=ctrl.pick_for(ctrl.text0),
        description="Test set",
        layout=widgets.Layout(width="95%"),
    )
    model_menu = widgets.Dropdown(options=ctrl.names, description="Model")
    button = widgets.Button(description="Generate", button_style="primary")
    info = widgets.HTML()
    image = widgets.Image(format="png")
    slider = widgets.IntSlider(min=0, max=0, description="Frame")
    play = widgets.Play(min=0, max=0, interval=int(1000 / ctrl.fps))
    widgets.jslink((play, "value"), (slider, "value"))
    quiet = [False]  # set while generate() resets the slider: no stale redraws

    def on_pick(change):
        if change["new"] and ctrl.pick_for(text_box.value) != change["new"]:
            text_box.value = change["new"]

    def on_text(change):
        picker.value = ctrl.pick_for(change["new"])
        note = "<br><i>the sentence changed: press Generate</i>"
        info.value = ctrl.info + (note if ctrl.stale(change["new"]) else "")

    def on_frame(change):
        if not quiet[0] and ctrl.renderer is not None:
            image.value = ctrl.frame(change["new"])

    def on_generate(_=None):
        try:
            ok = ctrl.generate(text_box.value, model_menu.value)
        except Exception as exc:  # shown in the panel, and raised for the log
            info.value = f"<b>generation failed: {html.escape(repr(exc))}</b>"
            raise
        info.value = ctrl.info
        image.layout.display = None if ok else "none"  # no figure of another sentence
        quiet[0] = True
        try:
            slider.value = play.value = 0
            slider.max = play.max = max(ctrl.n_frames - 1, 0)
        finally:
            quiet[0] = False
        if not ok:
            return
        # shown at the size it is drawn: sharp, never stretched to the cell's width
        image.layout.width, image.layout.height = (f"{n}px" for n in ctrl.size)
        image.value = ctrl.frame(0)

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
            widgets.HBox([play, slider]),
            image,
            info,  # below the figure: a warning line never pushes it out of view
        ]
    )
    panel.controller = ctrl  # for tests and scripted use
    panel.generate = on_generate
    return panel
