"""The radix panel's charts: the tree (one item for edges, one for nodes) and the stream curves."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg

from core import radix
from widgets.plots import PlotView, budget_line, cache_pixmaps, mkcolor, set_line, steady_top
from widgets.theme import Theme

LABELS_MAX = 60
"""Edge labels are drawn only on trees this small (and only for short edges)."""
_SHADES = 6
LEAF_MARKERS_MAX = 1500
"""Above this many nodes only internal (shared) nodes get a marker; every edge is still drawn."""


def edge_segments(lay: radix.Layout) -> tuple[np.ndarray, np.ndarray]:
    """Return x, y point pairs: each node's edge, and the elbow from its parent's row."""
    child = np.arange(1, len(lay.ids))
    par = lay.parent_index[child]
    xs = np.column_stack([lay.x0[child], lay.x1[child], lay.x0[child], lay.x0[child]]).ravel()
    ys = np.column_stack([lay.y[child], lay.y[child], lay.y[par], lay.y[child]]).ravel()
    return xs, ys


def shade_index(refs: np.ndarray) -> np.ndarray:
    """Bin reference counts into a few shades on a log scale (1 request ... the most shared)."""
    top = max(int(refs.max(initial=1)), 1)
    scaled = np.log1p(np.maximum(refs, 0)) / np.log1p(top) if top > 1 else np.zeros(refs.shape)
    return np.minimum((scaled * (_SHADES - 1)).round().astype(int), _SHADES - 1)


class RadixPlots:
    """Items made once; a step replaces their data."""

    def __init__(self, view: PlotView, on_drag: Callable[[float], None],
                 on_node: Callable[[int], None]) -> None:
        self.tree = view.addPlot(row=0, col=0, colspan=2, title="Radix tree")
        self.tree.setLabel("bottom", "depth (blocks)")
        self.tree.hideAxis("left")
        self.tree.disableAutoRange()
        self.tree.invertY(True)
        # Drawn as independent segments (one drawLines call) rather than a painter path:
        # building and stroking an 8,000-segment path was half of every step.
        self.edges = pg.PlotCurveItem(connect="pairs", segmentedLineMode="on", skipFiniteCheck=True)
        self.tree.addItem(self.edges)
        # One scatter per shade, each with a single brush: per-point brushes cost more than the
        # whole rest of a step on a 5,000-node tree.
        self.shades = [pg.ScatterPlotItem(size=8, pen=None) for _ in range(_SHADES)]
        for item in self.shades:
            item.sigClicked.connect(lambda _item, points, _ev: on_node(int(points[0].data())))
            self.tree.addItem(item)
        self.labels: list[pg.TextItem] = []
        self.hits = view.addPlot(row=1, col=0, title="Blocks found in the cache, per request")
        self.hits.setLabel("bottom", "request")
        self.hits.setLabel("left", "blocks")
        self.hits.addLegend(offset=(10, 10))
        self.length_curve = self.hits.plot(name="request length", stepMode="center")
        self.matched_curve = self.hits.plot(name="matched prefix", stepMode="center")
        self.store = view.addPlot(row=1, col=1, title="Blocks: without sharing vs stored")
        self.store.setLabel("bottom", "request")
        self.store.addLegend(offset=(10, 10))
        self.no_share = self.store.plot(name="without sharing")
        self.stored = self.store.plot(name="stored in the tree")
        self.store.setXLink(self.hits)
        for plot in (self.hits, self.store):  # thousands of requests: draw what the pixels show
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
        cache_pixmaps(self.length_curve, self.matched_curve, self.no_share, self.stored)
        self.line = budget_line(self.hits, on_drag, label="step")
        self.store_line = pg.InfiniteLine(angle=90, movable=False)
        self.store.addItem(self.store_line)
        self._curves_of: object = None
        self._frame = (0, 0)

    def update(self, res: radix.Result, theme: Theme, force: bool = False) -> None:
        """Draw the tree at the result's step; the stream curves only when they changed."""
        if force or res.matched is not self._curves_of:
            self._update_curves(res, theme)
            self._curves_of = res.matched
        lay = res.drawn
        xs, ys = edge_segments(lay)
        # 1-pixel pens: Qt draws thousands of wide lines several times slower.
        self.edges.setData(xs, ys, pen=pg.mkPen(theme.muted, width=1))
        shade = shade_index(lay.refs)
        shade[0] = -1  # the root is not drawn
        if len(lay.ids) > LEAF_MARKERS_MAX:  # rows are thinner than a pixel: mark shared nodes only
            leaves = np.ones(len(lay.ids), dtype=bool)
            leaves[lay.parent_index[1:]] = False
            shade[leaves] = -1
        for k, item in enumerate(self.shades):
            pick = np.flatnonzero(shade == k)
            item.setData(lay.x1[pick], lay.y[pick], data=pick)
        # A steady frame instead of auto-ranging: as deep as the longest request, and rows that
        # change only in 1-2-5 steps, so the view does not re-range (and repaint twice) on
        # every step while the tree still fills it, growing downwards from the top.
        rows = int(lay.y.max(initial=0)) + 1
        frame = (res.frame[0], int(steady_top(float(self._frame[1]), float(rows))))
        if force or frame != self._frame:
            self._frame = frame
            self.tree.setRange(xRange=(0, frame[0]), yRange=(-1.5, frame[1] - 0.5), padding=0.02)
        self._update_labels(lay, theme)
        set_line(self.line, res.step - 0.5)
        self.store_line.setPos(res.step - 0.5)
        self.store_line.setPen(pg.mkPen(theme.accent))

    def _update_labels(self, lay: radix.Layout, theme: Theme) -> None:
        small = len(lay.ids) <= LABELS_MAX
        wanted = [i for i in range(1, len(lay.ids)) if small and lay.x1[i] - lay.x0[i] <= 3] if small else []
        while len(self.labels) < len(wanted):
            label = pg.TextItem(anchor=(0.5, 1.1))
            self.tree.addItem(label)
            self.labels.append(label)
        for label, i in zip(self.labels, wanted, strict=False):
            full = radix.label(lay, i)
            text = full if len(full) <= 24 else full[:22] + "…"
            label.setText(text, color=theme.foreground)
            label.setPos((lay.x0[i] + lay.x1[i]) / 2, lay.y[i])
            label.setVisible(True)
        for label in self.labels[len(wanted):]:
            label.setVisible(False)

    def node_count(self) -> int:
        """Return how many nodes are drawn."""
        return sum(len(item.data) for item in self.shades)

    def _update_curves(self, res: radix.Result, theme: Theme) -> None:
        for k, alpha in enumerate(np.linspace(60, 255, _SHADES).astype(int)):
            self.shades[k].setBrush(mkcolor(theme.accent, alpha))
        n = res.lengths.size
        edges = np.arange(n + 1) - 0.5
        self.length_curve.setData(edges, res.lengths, pen=pg.mkPen(theme.muted))
        self.matched_curve.setData(edges, res.matched, pen=pg.mkPen(theme.color(2), width=1))
        xs = np.arange(n)
        # One-pixel pens here too: a 2-pixel pen made these two curves half of every repaint.
        self.no_share.setData(xs, np.cumsum(res.lengths), pen=pg.mkPen(theme.color(0), width=1))
        self.stored.setData(xs, res.stored, pen=pg.mkPen(theme.color(1), width=1))
        self.line.setPen(pg.mkPen(theme.accent, width=theme.line_width))
