"""The radix panel's charts: the tree (one item for edges, one for nodes) and the stream curves."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg

from core import radix
from widgets.plots import PlotView, budget_line, cache_pixmaps, mkcolor, place_labels, set_line, steady_top
from widgets.rects import Rects
from widgets.theme import Theme

LABELS_MAX = 60
"""Edge labels are drawn only on trees this small (and only for short edges)."""
_SHADES = 6
LEAF_MARKERS_MAX = 1500
"""Above this many nodes only internal (shared) nodes get a marker; every edge is still drawn."""


def edge_segments(lay: radix.Layout) -> tuple[np.ndarray, np.ndarray]:
    """Return x, y point pairs: each node's edge, and one upright per parent to its children.

    A child's edge starts where its parent's ends, so all of a parent's elbows stand on one
    x: drawn as a single segment spanning the parent's and its children's rows (a third fewer
    segments than one elbow per child, and the same picture).
    """
    child = np.arange(1, len(lay.ids))
    par = lay.parent_index[child]
    low = lay.y.copy()
    high = lay.y.copy()
    np.minimum.at(low, par, lay.y[child])
    np.maximum.at(high, par, lay.y[child])
    parents = np.unique(par)
    xs = np.concatenate([np.column_stack([lay.x0[child], lay.x1[child]]).ravel(),
                         np.repeat(lay.x1[parents], 2)])
    ys = np.concatenate([np.repeat(lay.y[child], 2), np.column_stack([low[parents], high[parents]]).ravel()])
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
        # Node markers: small rectangles in one item, one drawRects per shade. Scatter items
        # (one per shade) cost as much per step as every edge together on a 4,000-node tree.
        self.nodes = Rects()
        self.tree.addItem(self.nodes)
        self._marked = np.zeros(0, np.int64)
        self._drawn: radix.Layout | None = None
        self._on_node = on_node
        self.tree.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self._colors: list = []
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
            # pens only here: a pen handed to setData on every step is rebuilt and re-applied
            # 1-pixel: Qt draws thousands of wide lines several times slower
            self.edges.setPen(pg.mkPen(theme.muted, width=1))
            self.store_line.setPen(pg.mkPen(theme.accent))
        lay = res.drawn
        xs, ys = edge_segments(lay)
        self.edges.setData(xs, ys)
        shade = shade_index(lay.refs)
        shade[0] = -1  # the root is not drawn
        if len(lay.ids) > LEAF_MARKERS_MAX:  # rows are thinner than a pixel: mark shared nodes only
            leaves = np.ones(len(lay.ids), dtype=bool)
            leaves[lay.parent_index[1:]] = False
            shade[leaves] = -1
        # A steady frame instead of auto-ranging: as deep as the longest request, and rows that
        # change only in 1-2-5 steps, so the view does not re-range (and repaint twice) on
        # every step while the tree still fills it, growing downwards from the top.
        rows = int(lay.y.max(initial=0)) + 1
        frame = (res.frame[0], int(steady_top(float(self._frame[1]), float(rows))))
        if force or frame != self._frame:
            self._frame = frame
            self.tree.setRange(xRange=(0, frame[0]), yRange=(-1.5, frame[1] - 0.5), padding=0.02)
        marked = np.flatnonzero(shade >= 0)
        half_w, half_h = max(self._frame[0], 1) * 0.005, 0.3
        self.nodes.set_rects(lay.x1[marked] - half_w, lay.y[marked] - half_h, lay.x1[marked] + half_w,
                             lay.y[marked] + half_h, shade[marked], self._colors)
        self._marked, self._drawn = marked, lay
        self._update_labels(lay, theme)
        set_line(self.line, res.step - 0.5)
        self.store_line.setPos(res.step - 0.5)

    def _update_labels(self, lay: radix.Layout, theme: Theme) -> None:
        small = len(lay.ids) <= LABELS_MAX
        wanted = [i for i in range(1, len(lay.ids)) if small and lay.x1[i] - lay.x0[i] <= 3] if small else []
        items = []
        for i in wanted:
            text = radix.label(lay, i)
            items.append((text if len(text) <= 24 else text[:22] + "…", float((lay.x0[i] + lay.x1[i]) / 2),
                          float(lay.y[i])))
        place_labels(self.tree, self.labels, items, (0.5, 1.1), theme.foreground)

    def node_count(self) -> int:
        """Return how many nodes are marked."""
        return int(self._marked.size)

    def pick(self, x: float, y: float) -> int | None:
        """Return the marked node nearest to view point (x, y), if one is close (1% of the view)."""
        lay = self._drawn
        if lay is None or not self._marked.size:
            return None
        (x0, x1), (y0, y1) = self.tree.viewRange()
        dx = (lay.x1[self._marked] - x) / max(x1 - x0, 1e-9)
        dy = (lay.y[self._marked] - y) / max(y1 - y0, 1e-9)
        best = int(np.argmin(dx * dx + dy * dy))
        return int(self._marked[best]) if dx[best] ** 2 + dy[best] ** 2 < 0.02**2 else None

    def _on_scene_clicked(self, event: object) -> None:
        vb = self.tree.getViewBox()
        pos = event.scenePos()  # type: ignore[attr-defined]
        if not vb.sceneBoundingRect().contains(pos):
            return
        point = vb.mapSceneToView(pos)
        node = self.pick(point.x(), point.y())
        if node is not None:
            self._on_node(node)

    def _update_curves(self, res: radix.Result, theme: Theme) -> None:
        self._colors = [mkcolor(theme.accent, int(a)) for a in np.linspace(60, 255, _SHADES)]
        n = res.lengths.size
        edges = np.arange(n + 1) - 0.5
        self.length_curve.setData(edges, res.lengths, pen=pg.mkPen(theme.muted))
        self.matched_curve.setData(edges, res.matched, pen=pg.mkPen(theme.color(2), width=1))
        xs = np.arange(n)
        # One-pixel pens here too: a 2-pixel pen made these two curves half of every repaint.
        self.no_share.setData(xs, np.cumsum(res.lengths), pen=pg.mkPen(theme.color(0), width=1))
        self.stored.setData(xs, res.stored, pen=pg.mkPen(theme.color(1), width=1))
        self.line.setPen(pg.mkPen(theme.accent, width=theme.line_width))
