"""Frames of the explorer: skeleton panels rendered to PNG at the size they are shown.

:class:`FrameRenderer` draws one panel per sequence (ground truth, generated), all on
one scale with the hand insets of :class:`~nar_slp.visualisation.draw.FrameView`, into
an Agg canvas of exactly ``panel_px`` pixels per panel, and encodes each frame as PNG.
The explorer displays the PNG at that pixel size, so nothing is stretched (a blurry,
window-high image otherwise) and the panel's size is known before it is shown.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from nar_slp.visualisation.draw import FrameView, _hold, auto_limits

# Pixels (width, height) of one sequence's panel, drawn and displayed at this size.
# Two panels (ground truth + generated) are 640 px wide; 360 px high plus the ~180 px
# of controls above (box, picker, model row, info, Play row) is ~550 px, what a
# 1366x768 laptop shows of a notebook under the browser's and JupyterLab's bars, so
# Play and the slider stay in view with the hands.
PANEL_PX = (320, 360)
DPI = 100
TITLE_PX = 24  # the band above each panel for its title
MARGIN_PX = 4


def _fill(limits, aspect: float) -> tuple[float, float, float, float]:
    """``limits`` grown about their centre to width / height = ``aspect``, so an
    equal-aspect panel fills its box instead of shrinking inside it."""
    x0, x1, y0, y1 = limits
    w, h = x1 - x0, y1 - y0
    if w / h < aspect:
        d = (h * aspect - w) / 2
        return x0 - d, x1 + d, y0, y1
    d = (w / aspect - h) / 2
    return x0, x1, y0 - d, y1 + d


class FrameRenderer:
    """One ``panel_px`` panel per sequence (all on one scale, hand insets), rendered
    to PNG bytes per frame at exactly :attr:`size` pixels, the size it is shown at."""

    def __init__(self, sequences, titles, panel_px: tuple[int, int] = PANEL_PX):
        self.sequences = [np.asarray(s) for s in sequences]
        w, h = (int(n) for n in panel_px)
        if w <= 2 * MARGIN_PX or h <= TITLE_PX + MARGIN_PX:
            raise ValueError(f"panel_px={panel_px} leaves no room for the skeleton")
        n = len(self.sequences)
        self.size = (w * n, h)
        self.fig = Figure(figsize=(w * n / DPI, h / DPI), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        aw, ah = w - 2 * MARGIN_PX, h - TITLE_PX - MARGIN_PX
        x0, x1, y0, y1 = auto_limits(self.sequences)
        limits = _fill((x0, x1, y0 - 0.15, y1), aw / ah)  # headroom for the insets
        self.views = []
        for k, (seq, title) in enumerate(zip(self.sequences, titles, strict=True)):
            rect = ((k * w + MARGIN_PX) / (w * n), MARGIN_PX / h, aw / (w * n), ah / h)
            ax = self.fig.add_axes(rect)
            self.views.append(FrameView(ax, seq[0], hands="inset", limits=limits))
            ax.set_title(f"{title} ({len(seq)} frames)", fontsize=10, pad=4)

    def png(self, t: int) -> bytes:
        """Frame ``t`` of every sequence (a shorter one holds its last frame)."""
        for view, seq in zip(self.views, self.sequences, strict=True):
            view.set_pose(_hold(seq, t))
        self.canvas.draw()
        rgb = np.asarray(self.canvas.buffer_rgba())[..., :3]
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="png", compress_level=1)  # fast
        return buf.getvalue()
