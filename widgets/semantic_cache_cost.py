"""The semantic-cache panel's running-cost chart, with the wait told in its legend.

Dollars with and without the cache, question by question; the legend, which also tells the
total wait either way, is kept clear of the two lines.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from core import semantic_cache as sc
from widgets.plots import PlotView, cache_pixmaps
from widgets.theme import Theme

CURVE_POINTS = 600
"""Running totals are drawn through at most this many questions (every step is a pixel or less)."""
LEGEND_GAP = 4
"""Pixels kept between the legend and the no-cache line."""


class RunningCost:
    """The running totals; the legend entries say the wait with and without the cache."""

    def __init__(self, view: PlotView, row: int, col: int) -> None:
        self.plot = view.addPlot(row=row, col=col, title="Running cost")
        self.plot.setLabel("bottom", "question")
        self.plot.setLabel("left", "$")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.legend = self.plot.addLegend(offset=(5, 5), labelTextSize="8pt")
        self.base_curve = self.plot.plot(name="no cache")
        cache_pixmaps(self.base_curve)
        self.cache_curve = self.plot.plot(name="with cache")
        self.wait_labels: tuple[pg.LabelItem, pg.LabelItem] = (
            self.legend.getLabel(self.base_curve), self.legend.getLabel(self.cache_curve))
        self._span: tuple[int, float] | None = None
        self._base_key: object = None
        self.plot.vb.sigResized.connect(lambda _vb: self._fit())

    def update(self, res: sc.Result, theme: Theme) -> None:
        """Draw both running totals and say the waits."""
        n, p = res.n, res.params
        x = np.unique(np.linspace(1, n, min(n, CURVE_POINTS)).round().astype(np.int64))
        if (n, p.cost_per_call, theme) != self._base_key:  # the no-cache line ignores the threshold
            self._base_key = (n, p.cost_per_call, theme)
            self.base_curve.setData(x, x * p.cost_per_call,
                                    pen=pg.mkPen(theme.muted, width=theme.line_width))
        self.cache_curve.setData(x, np.cumsum(res.cost())[x - 1],
                                 pen=pg.mkPen(theme.color(0), width=theme.line_width))
        t = res.totals()
        texts = (f"no cache · wait {t['baseline']['latency_ms'] / 1000:,.1f} s",
                 f"with cache · wait {t['cache']['latency_ms'] / 1000:,.1f} s")
        if texts != tuple(label.text for label in self.wait_labels):
            for label, text in zip(self.wait_labels, texts, strict=True):
                label.setText(text)
            self.legend.layout.activate()  # the labels' new widths, for the box and the room
            self.legend.updateSize()  # floating on screen; docked below on a slide it is laid out
        self._span = (n, n * p.cost_per_call)
        self._fit()

    def _fit(self) -> None:
        """Show every question, and room above the no-cache line for a legend floating over it."""
        if self._span is None:
            return
        n, end = self._span
        (_x0, x1), (_y0, y1) = self.plot.viewRange()
        needed = end * self._legend_room()
        if needed <= 0:  # free calls: nothing to show but the axis
            needed = y1 if y1 > 0 else 1.0
        # steady while the legend's width moves by a digit (steady_top's 1-2-5 steps would
        # squash the lines under the legend)
        top = y1 if needed <= y1 <= needed * 1.25 else needed * 1.1
        if (top, float(n)) != (y1, x1):
            self.plot.setRange(xRange=(0, n), yRange=(0, top), padding=0)

    def _legend_room(self) -> float:
        """How far above the no-cache line's end the y axis must reach for the legend to clear it.

        Both lines start at 0 and the cached one never rises above the no-cache one, straight
        from the origin; a top-left legend spanning the fractions ``fx`` of the width and ``fy``
        of the height clears it when the top is ``fx / (1 - fy)`` times the line's end. Docked
        below the plot (slides) it needs no room.
        """
        vb, legend = self.plot.vb, self.legend
        width, height = vb.width(), vb.height()
        if legend.parentItem() is not vb or not legend.isVisible() or width <= 0 or height <= 0:
            return 1.05
        box = legend.mapRectToItem(vb, legend.boundingRect())
        fx = min((box.right() + LEGEND_GAP) / width, 1.0)
        fy = (box.bottom() + LEGEND_GAP) / height
        return max(1.05, float(fx / max(1.0 - fy, 0.25)))
