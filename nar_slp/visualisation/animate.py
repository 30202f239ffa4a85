"""Animations of 50-joint pose sequences: one system, or several side by side.

Sequences are (T, J, K) arrays in PT coordinates at ``fps`` frames per second (25 for
PHOENIX14T). Animations are matplotlib ``FuncAnimation`` objects with one animation
frame per pose frame; :func:`save_animation` writes GIF (Pillow, no ffmpeg needed),
MP4 (ffmpeg if matplotlib finds it, else PyAV) or HTML, and :func:`to_html` returns the
``to_jshtml`` player for notebooks.

The side-by-side view is the paper's Fig. 3 (Hwang et al. 2022): ground truth and each
system in one synchronised animation under the input sentence; a system that has
finished holds its last frame (its counter then reads "end").
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation

from nar_slp.visualisation.draw import FrameView, HandMode, _hold, auto_limits

FPS = 25
TITLE_PT = 9  # font size of the panel titles and the sentence


def wrap_title(title: str, panel_width: float, fontsize: float = TITLE_PT) -> str:
    """``title`` wrapped to lines that fit a panel ``panel_width`` inches wide (an
    average character is about 0.6 em), so a long sentence is never clipped."""
    chars = max(12, int(panel_width * 72 / (0.6 * fontsize)) - 2)
    return "\n".join(textwrap.wrap(title, chars)) or title


def _figure(n_panels: int, limits, panel_width: float, text_lines: int):
    aspect = (limits[3] - limits[2]) / (limits[1] - limits[0])
    top = 0.35 + 0.2 * text_lines
    fig, axes = plt.subplots(
        1,
        n_panels,
        figsize=(panel_width * n_panels, panel_width * aspect + top),
        squeeze=False,
    )
    return fig, list(axes[0])


def side_by_side(
    sequences: Sequence[np.ndarray],
    titles: Sequence[str],
    text: str | None = None,
    fps: float = FPS,
    hands: HandMode = "inset",
    panel_width: float = 2.6,
    dpi: int = 90,
    every: int = 1,
) -> animation.FuncAnimation:
    """One synchronised animation of several sequences (T_i, J, K), one panel each.

    The animation has ``max(T_i)`` frames; shorter sequences hold their last frame.
    ``every`` > 1 shows only frames 0, k, 2k, ... (``ceil(max(T_i) / k)`` animation
    frames played at ``fps / k``, so the signing keeps its real speed): smaller GIFs,
    while titles and counters still count the sequences' own frames.
    Every panel shares one scale (the box holding all frames). ``text`` (the input
    sentence) is the figure title; each panel is titled with ``titles[i]`` and shows
    a frame counter. Returns the animation; ``anim.show_frame(t)`` draws frame t at
    once (for stills). Its figure is ``anim._fig``: pass ``close=True`` to
    :func:`save_animation` or :func:`to_html` to free it.
    """
    seqs = [np.asarray(s, dtype=np.float32) for s in sequences]
    if every < 1:
        raise ValueError(f"every={every} must be >= 1")
    if len(seqs) != len(titles):
        raise ValueError(f"{len(seqs)} sequences but {len(titles)} titles")
    if not seqs or min(len(s) for s in seqs) == 0:
        raise ValueError("need at least one sequence, each with >= 1 frame")
    limits = auto_limits(seqs)
    if hands == "inset":  # headroom so the hand insets sit above the shoulders
        limits = (limits[0], limits[1], limits[2] - 0.15, limits[3])
    wrapped = textwrap.wrap(text, 30 * len(seqs)) if text else []
    panel_titles = [
        wrap_title(f"{title} ({len(seq)} frames)", panel_width)
        for seq, title in zip(seqs, titles, strict=True)
    ]
    title_lines = max(t.count("\n") for t in panel_titles)  # beyond the first
    fig, axes = _figure(len(seqs), limits, panel_width, len(wrapped) + title_lines)
    fig.set_dpi(dpi)
    views, counters = [], []
    for ax, seq, title in zip(axes, seqs, panel_titles, strict=True):
        views.append(FrameView(ax, seq[0], hands=hands, limits=limits))
        ax.set_title(title, fontsize=TITLE_PT)
        counters.append(
            ax.text(0.5, 0.01, "", transform=ax.transAxes, ha="center", fontsize=7)
        )
    if wrapped:
        fig.suptitle("\n".join(wrapped), fontsize=TITLE_PT)
    fig.tight_layout()
    t_max = max(len(s) for s in seqs)

    def update(i: int) -> list:
        t = i * every  # the source frame shown
        artists = []
        for view, seq, counter in zip(views, seqs, counters, strict=True):
            artists += view.set_pose(_hold(seq, t))
            counter.set_text(f"{t + 1}/{len(seq)}" if t < len(seq) else "end")
            artists.append(counter)
        return artists

    anim = animation.FuncAnimation(
        fig,
        update,
        frames=-(-t_max // every),
        interval=1000.0 * every / fps,
        blit=False,
        repeat=True,
    )
    anim.show_frame = update  # draw animation frame i now (stills, tests)
    return anim


def animate(
    poses: np.ndarray,
    fps: float = FPS,
    title: str | None = None,
    hands: HandMode = "inset",
    panel_width: float = 3.2,
    dpi: int = 90,
    every: int = 1,
) -> animation.FuncAnimation:
    """Animate one sequence ``poses`` (T, J, K): an animation of exactly T frames
    (``ceil(T / every)`` with ``every``, see :func:`side_by_side`)."""
    return side_by_side(
        [poses],
        [title or "poses"],
        fps=fps,
        hands=hands,
        panel_width=panel_width,
        dpi=dpi,
        every=every,
    )


# ------------------------------------------------------------------------- writing


class PyAVWriter(animation.AbstractMovieWriter):
    """An MP4 writer built on PyAV (installed with pose-format), for machines where
    matplotlib finds no ffmpeg binary. H.264 (yuv420p) when the codec exists, else
    MPEG-4 part 2.

    Each frame is the figure's own canvas buffer, so its size is what matplotlib drew
    (rounding figure inches times dpi is not: 3.84 in at 90 dpi draws 345 rows, not
    346). yuv420p needs even sides: the first frame is cropped to even width and
    height, and every later frame cropped or padded (white) to that size.
    """

    def __init__(self, fps: float = FPS, codec: str | None = None, bitrate=None):
        super().__init__(fps=fps, bitrate=bitrate)
        self.codec = codec

    def setup(self, fig, outfile, dpi=None):
        import av

        super().setup(fig, outfile, dpi=dpi)
        codec = self.codec or next(
            c for c in ("libx264", "h264", "mpeg4") if c in av.codecs_available
        )
        self._container = av.open(str(outfile), mode="w")
        self._stream = self._container.add_stream(codec, rate=round(self.fps))
        self._stream.pix_fmt = "yuv420p"
        self._size = None

    def grab_frame(self, **savefig_kwargs):
        import av

        rgba = self._canvas_rgba()  # (H, W, 4)
        if self._size is None:
            h, w = rgba.shape[:2]
            self._size = w - w % 2, h - h % 2
            self._stream.width, self._stream.height = self._size
        rgb = _fit(rgba[..., :3], self._size)  # (H, W, 3), even sides
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def _canvas_rgba(self) -> np.ndarray:
        """The figure drawn at the writer's dpi, as its canvas holds it."""
        fig, dpi = self.fig, self.fig.dpi
        if self.dpi != dpi:
            fig.set_dpi(self.dpi)
        try:
            fig.canvas.draw()
            return np.array(fig.canvas.buffer_rgba())  # a copy: the canvas is reused
        finally:
            if self.dpi != dpi:
                fig.set_dpi(dpi)

    def finish(self):
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()


def _fit(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``rgb`` (H, W, 3) cropped at the bottom/right, or padded there with white, to
    ``size`` (W, H); contiguous, as PyAV wants it."""
    w, h = size
    out = np.full((h, w, 3), 255, dtype=np.uint8)
    crop = rgb[:h, :w]
    out[: crop.shape[0], : crop.shape[1]] = crop
    return out


def has_ffmpeg() -> bool:
    """Whether matplotlib finds an ffmpeg binary (else MP4 goes through PyAV)."""
    return animation.writers.is_available("ffmpeg")


def mp4_writer(fps: float = FPS) -> animation.AbstractMovieWriter:
    """matplotlib's ffmpeg writer when the binary exists, else :class:`PyAVWriter`."""
    if has_ffmpeg():
        return animation.FFMpegWriter(fps=fps)
    return PyAVWriter(fps=fps)


def _fps(anim: animation.FuncAnimation) -> float:
    return 1000.0 / anim._interval


def save_animation(
    anim: animation.FuncAnimation,
    path: str | Path,
    dpi: int | None = None,
    close: bool = False,
) -> Path:
    """Write ``anim`` by suffix: ``.gif`` (Pillow), ``.mp4`` (see :func:`mp4_writer`)
    or ``.html`` (the ``to_jshtml`` player). Frame rate: the animation's own."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fps = _fps(anim)
    suffix = path.suffix.lower()
    try:
        if suffix == ".gif":
            anim.save(path, writer=animation.PillowWriter(fps=fps), dpi=dpi)
        elif suffix == ".mp4":
            anim.save(path, writer=mp4_writer(fps), dpi=dpi)
        elif suffix in (".html", ".htm"):
            path.write_text(anim.to_jshtml(fps=fps), encoding="utf-8")
        else:
            raise ValueError(
                f"unknown animation suffix {suffix!r}; valid: .gif .mp4 .html"
            )
    finally:
        if close:
            plt.close(anim._fig)
    return path


def to_html(anim: animation.FuncAnimation, close: bool = True) -> str:
    """The animation as a self-contained HTML player (``to_jshtml``: play, pause and
    a frame slider) for ``IPython.display.HTML``; closes the figure by default so the
    notebook does not also show its first frame."""
    try:
        return anim.to_jshtml(fps=_fps(anim))
    finally:
        if close:
            plt.close(anim._fig)
