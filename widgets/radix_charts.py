"""The radix panel's stream charts: blocks per request, stored blocks, and the capacity curve.

Per-request bars are drawn as explicit step outlines (two points per request) rather than
``stepMode="center"``: plain x/y data downsample and clip cleanly at any stream length.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSignalBlocker

from core import radix
from core.radix_tree import POLICIES
from widgets.plots import PlotView, budget_line, cache_pixmaps, log_ticks, set_line
from widgets.theme import Theme


def steps(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return x, y of a step outline: request ``r`` is flat at ``values[r]`` from r-0.5 to r+0.5."""
    n = values.size
    xs = np.repeat(np.arange(n + 1, dtype=float) - 0.5, 2)[1:-1]
    return xs, np.repeat(values.astype(float), 2)


def _key(color: str, text: str, mark: str = "■") -> str:
    """Return ``text`` colored like its curve (a title that doubles as the legend)."""
    return f"<span style='color:{color}'>{mark} {text}</span>"


class RadixCharts:
    """Per-request blocks (click a request to explain it), stored blocks, hit rate vs capacity."""

    def __init__(self, view: PlotView, on_drag: Callable[[float], None], on_request: Callable[[int], None],
                 on_capacity: Callable[[int], None]) -> None:
        self.hits = view.addPlot(row=1, col=0, title="Blocks per request")
        self.hits.setLabel("bottom", "request")
        self.hits.setLabel("left", "blocks")
        self.length_curve = self.hits.plot()  # keyed in the title, like the charts beside it
        self.matched_curve = self.hits.plot()
        self.evicted_marks = self.hits.plot(pen=None, symbol="x", symbolSize=8)
        self.store = view.addPlot(row=1, col=1, title="Stored vs unshared")
        self.store.setLabel("bottom", "request")
        self.no_share = self.store.plot()  # named in the title: a legend would cost a column
        self.stored = self.store.plot()
        self.store.setXLink(self.hits)
        for plot in (self.hits, self.store):  # thousands of requests: draw what the pixels show
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
        cache_pixmaps(self.length_curve, self.matched_curve, self.no_share, self.stored)
        self.line = budget_line(self.hits, on_drag, label="step")
        self.store_line = pg.InfiniteLine(angle=90, movable=False)  # its pen: with the step line's
        self.store.addItem(self.store_line)
        self.curve_plot = view.addPlot(row=1, col=2, title="Hit rate vs capacity")
        self.curve_plot.setLabel("bottom", "capacity (blocks, log scale)")
        self.curve_plot.setLabel("left", "share of blocks served")
        self.curve_plot.setYRange(0, 1, padding=0.02)
        self.policy_curves = {p: self.curve_plot.plot(symbol="o", symbolSize=5) for p in POLICIES}
        self.capacity_line = budget_line(self.curve_plot, self._on_capacity_dragged, label="capacity")
        self._on_capacity, self._on_request = on_capacity, on_request
        self._curves_of: object = None
        self._curve_of: object = None
        self._requests = 0

    def update(self, res: radix.Result, theme: Theme, force: bool = False) -> None:
        """Redraw what changed: stream curves per stream, the lines on every step."""
        if force or res.matched is not self._curves_of:
            self._update_curves(res, theme)
            self._curves_of = res.matched
        if force or res.curve is not self._curve_of:
            self._update_capacity_curve(res, theme)
            self._curve_of = res.curve
        cap = res.params.capacity_blocks
        caps = [p["capacity"] for p in res.curve]
        where = cap if cap is not None else (max(caps) if caps else None)
        if where is not None:
            with QSignalBlocker(self.capacity_line):  # moved by the params, not by a drag
                set_line(self.capacity_line, float(np.log10(where)))
            name = "capacity" if cap is not None else "unbounded"
            if self.capacity_line.label.format != name:  # a new format re-lays out the label's text
                self.capacity_line.label.setFormat(name)
        set_line(self.line, res.step - 0.5)
        set_line(self.store_line, res.step - 0.5)

    def _update_curves(self, res: radix.Result, theme: Theme) -> None:
        n = res.lengths.size
        self._requests = n
        self.length_curve.setData(*steps(res.lengths), pen=pg.mkPen(theme.muted))
        self.matched_curve.setData(*steps(res.matched), pen=pg.mkPen(theme.color(2), width=1))
        evicted = np.flatnonzero(res.matched < res.seen)
        self.evicted_marks.setData(evicted.astype(float), res.matched[evicted].astype(float),
                                   symbolPen=pg.mkPen(theme.color(3)), symbolBrush=theme.color(3))
        xs = np.arange(n)
        self.no_share.setData(xs, np.cumsum(res.lengths), pen=pg.mkPen(theme.color(0), width=1))
        self.stored.setData(xs, res.stored, pen=pg.mkPen(theme.color(1), width=1))
        self.line.setPen(pg.mkPen(theme.accent, width=theme.line_width))
        self.store_line.setPen(pg.mkPen(theme.accent, width=1))
        self.store.setTitle(f"Blocks {_key(theme.color(0), 'unshared')} vs {_key(theme.color(1), 'stored')}")
        self.hits.setTitle(f"Per request: {_key(theme.muted, 'needed')} {_key(theme.color(2), 'cached')} "
                           f"{_key(theme.color(3), 'evicted', '×')}")
        self.hits.setXRange(-0.5, max(n, 1) - 0.5, padding=0.01)
        # fixed ranges (what auto-range found: 0 to the top): the step lines moving on every tick
        # would otherwise make both views re-measure every curve before each paint
        self.hits.setYRange(0.0, float(max(res.lengths.max(initial=0), 1)))
        top = max(self.no_share.yData.max(initial=0), self.stored.yData.max(initial=0), 1)
        self.store.setYRange(0.0, float(top))
        self.store.disableAutoRange()

    def _update_capacity_curve(self, res: radix.Result, theme: Theme) -> None:
        keys = " ".join(_key(theme.color(k), p.upper()) for k, p in enumerate(POLICIES))
        self.curve_plot.setTitle(f"Hit rate vs capacity: {keys}")
        for k, policy in enumerate(POLICIES):  # widest first: curves that coincide stay visible
            pts = [p for p in res.curve if p["eviction"] == policy]
            color = theme.color(k)
            xs = np.log10([p["capacity"] for p in pts])
            self.policy_curves[policy].setData(xs, [p["hit_rate"] for p in pts],
                                               pen=pg.mkPen(color, width=theme.line_width + 1.5 * (2 - k)),
                                               symbolBrush=color, symbolPen=color)
        self.capacity_line.setPen(pg.mkPen(theme.accent, width=theme.line_width))
        caps = [p["capacity"] for p in res.curve]
        if caps:
            low, high = np.log10(min(caps)), np.log10(max(caps))
            self.curve_plot.setXRange(low, high, padding=0.05)
            self.curve_plot.getAxis("bottom").setTicks([log_ticks(min(caps), max(caps)), []])

    def _on_capacity_dragged(self, value: float) -> None:
        self._on_capacity(max(1, round(10 ** value)))

    def clicked(self, pos: QPointF) -> None:
        """Explain the request clicked in the per-request chart, or move the capacity to a click."""
        curve_vb = self.curve_plot.getViewBox()
        if curve_vb.sceneBoundingRect().contains(pos) and self._curve_of:
            self._on_capacity_dragged(curve_vb.mapSceneToView(pos).x())
            return
        vb = self.hits.getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            return
        r = round(vb.mapSceneToView(pos).x())
        if 0 <= r < self._requests:
            self._on_request(r)
