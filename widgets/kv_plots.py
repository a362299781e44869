"""The KV panel's charts: two block maps at a time step, and the stream's curves over time."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg

from core import kv_blocks
from core.kv_sim import FREE, Trace
from widgets import pin_maps
from widgets.plots import PlotView, budget_line, cache_pixmaps, category_lut, mkcolor, rgba, set_line
from widgets.theme import Theme

PADDING = 255
"""Code of grid cells past the pool's end."""


def grid_shape(capacity: int) -> tuple[int, int]:
    """Rows and columns of the block map: about twice as wide as tall."""
    cols = max(1, int(np.ceil(np.sqrt(capacity * 2))))
    return -(-capacity // cols), cols


def block_codes(trace: Trace, step: int, colors: int) -> np.ndarray:
    """Return the lookup codes of the pool at ``step`` as a grid.

    0 is a free block; ``1..colors`` a block holding tokens, colored by its owner;
    ``colors+1..2*colors`` a block reserved but empty (same owner color, faded).
    """
    snap = trace.snapshot(step)
    owner, filled = trace.owner[snap], trace.filled[snap]
    codes = np.where(owner == FREE, 0, 1 + owner % colors + np.where(filled, 0, colors)).astype(np.uint8)
    rows, cols = grid_shape(owner.size)
    grid = np.full(rows * cols, PADDING, np.uint8)
    grid[:owner.size] = codes
    return grid.reshape(rows, cols)


def _used(codes: np.ndarray) -> np.ndarray:
    """1 where a block is held (filled or reserved), 0 where free or past the pool's end."""
    return np.asarray((codes != 0) & (codes != PADDING), dtype=np.float32)


class KvPlots:
    """Plot items made once; a time step only swaps the two images and moves one line."""

    def __init__(self, view: PlotView, on_drag: Callable[[float], None]) -> None:
        self.maps: dict[str, pg.ImageItem] = {}
        self.map_plots: dict[str, pg.PlotItem] = {}
        for col, name in enumerate(("contiguous", "paged")):
            plot = view.addPlot(row=0, col=col, title=name)
            plot.invertY(True)
            plot.setAspectLocked(True)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            plot.setMouseEnabled(x=False, y=False)
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            pin_maps.diffable(image, _used, "used now, free in {pin}", "free now, used in {pin}",
                              "the same blocks used as in {pin}")
            self.maps[name], self.map_plots[name] = image, plot
        self.util = view.addPlot(row=1, col=0, title="Utilization: tokens held / token slots reserved")
        self.util.setLabel("bottom", "step")
        self.util.setYRange(0, 1.05, padding=0)
        self.util.addLegend(offset=(-10, 10))
        self.load = view.addPlot(row=1, col=1, title="Requests running (solid) and waiting (dashed)")
        self.load.setLabel("bottom", "step")
        self.load.setXLink(self.util)
        self.util_curves = {n: self.util.plot(name=n) for n in ("contiguous", "paged")}
        self.running = {n: self.load.plot() for n in ("contiguous", "paged")}
        self.waiting = {n: self.load.plot() for n in ("contiguous", "paged")}
        self.line = budget_line(self.util, on_drag, label="step")
        cache_pixmaps(*self.util_curves.values(), *self.running.values(), *self.waiting.values())
        self.load_line = pg.InfiniteLine(angle=90, movable=False)
        self.load.addItem(self.load_line)
        self._drawn: object = None
        self._titles: dict[str, tuple[str, str, float]] = {}

    def update(self, res: kv_blocks.Result, step: int, theme: Theme, force: bool = False) -> None:
        """Draw the maps at ``step``; redraw the curves only for a new simulation."""
        # a step tick derives a new result around the same traces: redraw the curves only for new ones
        if force or res.contiguous is not self._drawn:
            self._update_curves(res, theme)
            self._drawn = res.contiguous
        colors = len(theme.palette)
        for trace in (res.contiguous, res.paged):
            at = min(step, trace.running.size - 1)
            self.maps[trace.name].setImage(block_codes(trace, at, colors), autoLevels=False, levels=(0, 255))
            util = trace.utilization(res.params.block_size)[at]
            title = (f"{trace.name} · {int(trace.running[at])} running · {int(trace.waiting[at])} waiting · "
                     f"{util:.0%} used", theme.foreground, theme.title_pt)
            if title != self._titles.get(trace.name):  # a new title re-lays out the plot's header
                self._titles[trace.name] = title
                self.map_plots[trace.name].setTitle(title[0], color=title[1], size=f"{title[2]}pt")
        set_line(self.line, float(step))
        self.load_line.setPos(step)

    def _update_curves(self, res: kv_blocks.Result, theme: Theme) -> None:
        palette = [mkcolor(c) for c in theme.palette]
        faded = [mkcolor(c, theme.faded_alpha) for c in theme.palette]
        lut = category_lut(palette + faded, mkcolor(theme.empty))
        lut[PADDING] = rgba(mkcolor(theme.background))
        for image in self.maps.values():
            image.setLookupTable(lut)
        for i, trace in enumerate((res.contiguous, res.paged)):
            color = theme.color(i)
            xs = np.arange(trace.running.size)
            self.util_curves[trace.name].setData(xs, trace.utilization(res.params.block_size),
                                                 pen=pg.mkPen(color, width=1))
            self.running[trace.name].setData(xs, trace.running, pen=pg.mkPen(color, width=1))
            self.waiting[trace.name].setData(xs, trace.waiting,
                                             pen=pg.mkPen(color, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.line.setPen(pg.mkPen(theme.accent, width=theme.line_width))
        self.load_line.setPen(pg.mkPen(theme.accent))
