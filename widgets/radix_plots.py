"""The radix panel's tree chart: an icicle (default) or the classic tree, with zoom into subtrees.

The per-request, stored and capacity charts are in :mod:`widgets.radix_charts`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem

from core import radix
from widgets.plots import PlotView, mkcolor, place_labels, steady_top
from widgets.radix_charts import RadixCharts
from widgets.radix_icicle import SHADES, IcicleItem, shade_of
from widgets.rects import Rects
from widgets.theme import Theme

LABELS_MAX = 12
"""Classic view: edge labels only on trees with at most this many leaves (rows far enough apart)."""
LEAF_MARKERS_MAX = 1500
"""Classic view: above this many nodes only internal (shared) nodes get a marker."""
VIEWS = (("icicle", "icicle (share of requests)"), ("classic", "classic tree"))


def edge_segments(lay: radix.Layout) -> tuple[np.ndarray, np.ndarray]:
    """Return x, y point pairs: each node's edge, and one upright per parent to its children.

    A child's edge starts where its parent's ends, so all of a parent's elbows stand on one
    x: drawn as a single segment spanning the parent's and its children's rows.
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


class RadixPlots:
    """Items made once; a step replaces their data."""

    def __init__(self, view: PlotView, on_drag: Callable[[float], None], on_node: Callable[[int], None],
                 on_request: Callable[[int], None], on_capacity: Callable[[int], None],
                 describe: Callable[[int | None], str]) -> None:
        self.tree = view.addPlot(row=0, col=0, colspan=3, title="Radix tree")
        self.tree.setLabel("bottom", "position in the prompt (blocks)")
        self.tree.hideAxis("left")
        self.tree.disableAutoRange()
        self.tree.invertY(True)
        self.tree.setMenuEnabled(False)
        self.tree.getViewBox().setMouseEnabled(x=False, y=False)
        self.icicle = IcicleItem(describe)
        self.tree.addItem(self.icicle)
        # Classic view: edges as independent segments (one drawLines call), node markers as
        # small rectangles in one item (one drawRects per shade).
        self.edges = pg.PlotCurveItem(connect="pairs", segmentedLineMode="on", skipFiniteCheck=True)
        self.tree.addItem(self.edges)
        self.nodes = Rects()
        self.tree.addItem(self.nodes)
        self._marked = np.zeros(0, np.int64)
        self._marked_shade = np.zeros(0, np.int64)
        self._drawn: radix.Layout | None = None
        self._on_node = on_node
        self._colors: list[QColor] = []
        self.labels: list[pg.TextItem] = []
        self.mode = "icicle"
        self.color_by = "refs"
        self.zoomed: list[int] = []
        """Node ids zoomed into, outermost first (the icicle view)."""
        self.charts = RadixCharts(view, on_drag, on_request, on_capacity)
        view.ci.layout.setRowStretchFactor(0, 3)  # the tree gets the room its labels need
        view.ci.layout.setRowStretchFactor(1, 2)
        self.line = self.charts.line
        for plot in (self.tree, self.charts.hits, self.charts.store, self.charts.curve_plot):
            for name in ("left", "bottom"):  # a step redraws the plots beside unchanged axes: blit them
                plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.tree.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self._frame = (0, 0)
        self._result: radix.Result | None = None
        self._theme: Theme | None = None

    # ---- options ------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """Show the ``icicle`` or the ``classic`` tree."""
        self.mode = mode
        self._redraw()

    def set_color_by(self, color_by: str) -> None:
        """Shade icicle bands and classic markers by ``refs`` (sharing) or ``age`` (last use)."""
        self.color_by = color_by
        self._redraw()

    def zoom_into(self, index: int) -> None:
        """Zoom the icicle into node ``index``'s subtree."""
        lay = self._drawn
        if lay is None or index <= 0 or index >= len(lay.ids):
            return
        if not self.zoomed or self.zoomed[-1] != lay.ids[index]:
            self.zoomed.append(lay.ids[index])
        self._redraw()  # thin bands are thicker now

    def zoom_out(self, everything: bool = False) -> None:
        """Go back one zoom level (or all the way)."""
        if everything:
            self.zoomed.clear()
        elif self.zoomed:
            self.zoomed.pop()
        self._redraw()

    def _redraw(self) -> None:
        if self._result is not None and self._theme is not None:
            self.update(self._result, self._theme, force=True)

    # ---- drawing ------------------------------------------------------------------------
    def update(self, res: radix.Result, theme: Theme, force: bool = False) -> None:
        """Draw the tree at the result's step; the stream charts only when they changed."""
        if force or self._theme is not theme:
            self._colors = [mkcolor(theme.accent, int(a)) for a in np.linspace(60, 255, SHADES)]
            self.edges.setPen(pg.mkPen(theme.muted, width=1))
            self.icicle.set_style(theme.background, theme.accent, theme.muted, theme.font_pt)
        self._result, self._theme = res, theme
        self.charts.update(res, theme, force)
        lay = res.drawn
        self._drawn = lay
        icicle = self.mode == "icicle"
        self.icicle.setVisible(icicle)
        for item in (self.edges, self.nodes):
            item.setVisible(not icicle)
        if icicle:
            self.icicle.set_layout(lay, shade_of(lay, self.color_by), self._pixel_height())
            place_labels(self.tree, self.labels, [], (0.5, 1.1), theme.foreground)
            self._marked = self._marked_shade = np.zeros(0, np.int64)
        else:
            self._update_classic(lay, theme)
        self._set_tree_range(force)

    def _pixel_height(self) -> float:
        """Return the icicle's data height of one screen pixel (bands thinner are drawn together)."""
        lay = self._drawn
        index = self._zoom_index(lay) if lay is not None else None
        span = 1.0 if index is None or lay is None else float(lay.band1[index] - lay.band0[index])
        return span / max(float(self.tree.getViewBox().height()), 1.0)

    def _update_classic(self, lay: radix.Layout, theme: Theme) -> None:
        xs, ys = edge_segments(lay)
        self.edges.setData(xs, ys)
        shade = shade_of(lay, self.color_by)
        shade[0] = -1  # the root is not drawn
        if len(lay.ids) > LEAF_MARKERS_MAX:  # rows are thinner than a pixel: mark shared nodes only
            leaves = np.ones(len(lay.ids), dtype=bool)
            leaves[lay.parent_index[1:]] = False
            shade[leaves] = -1
        marked = np.flatnonzero(shade >= 0)
        half_w, half_h = max(self._frame[0], 1) * 0.005, 0.3
        self.nodes.set_rects(lay.x1[marked] - half_w, lay.y[marked] - half_h, lay.x1[marked] + half_w,
                             lay.y[marked] + half_h, shade[marked], self._colors)
        self._marked, self._marked_shade = marked, shade[marked]
        small = int(lay.y.max(initial=0)) + 1 <= LABELS_MAX
        items = []
        for i in range(1, len(lay.ids)) if small else ():
            if lay.x1[i] - lay.x0[i] <= 3:
                text = radix.label(lay, i)
                text = text if len(text) <= 24 else text[:22] + "…"
                items.append((text, float((lay.x0[i] + lay.x1[i]) / 2), float(lay.y[i])))
        place_labels(self.tree, self.labels, items, (0.5, 1.1), theme.foreground)

    def _set_tree_range(self, force: bool = False) -> None:
        """Keep a steady frame (as deep as the longest request); zoomed, the subtree's extent."""
        res, lay = self._result, self._drawn
        if res is None or lay is None:
            return
        if self.mode == "icicle":
            index = self._zoom_index(lay)
            if index is None:
                frame = (res.frame[0], -1)
                if force or frame != self._frame:
                    self._frame = frame
                    self.tree.setRange(xRange=(0, frame[0]), yRange=(0, 1), padding=0.0)
                return
            inside = radix.subtree(lay, index)
            self._frame = (0, -2)
            self.tree.setRange(xRange=(float(lay.x0[index]), float(lay.x1[inside].max())),
                               yRange=(float(lay.band0[index]), float(lay.band1[index])), padding=0.0)
            return
        rows = int(lay.y.max(initial=0)) + 1
        frame = (res.frame[0], int(steady_top(float(max(self._frame[1], 0)), float(rows))))
        if force or frame != self._frame:
            self._frame = frame
            self.tree.setRange(xRange=(0, frame[0]), yRange=(-1.5, frame[1] - 0.5), padding=0.02)

    def _zoom_index(self, lay: radix.Layout) -> int | None:
        while self.zoomed:
            try:
                return lay.ids.index(self.zoomed[-1])
            except ValueError:  # that node is gone at this step (or this stream): zoom out
                self.zoomed.pop()
        return None

    # ---- picking ------------------------------------------------------------------------
    def node_count(self) -> int:
        """Return how many nodes are marked (classic view)."""
        return int(self._marked.size)

    def marked(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the marked nodes (classic view) and each one's shade (0 faint .. SHADES-1)."""
        return self._marked, self._marked_shade

    def pick(self, x: float, y: float) -> int | None:
        """Return the node at view point (x, y): the band under it, or the nearest marker (classic)."""
        lay = self._drawn
        if lay is None:
            return None
        if self.mode == "icicle":
            return self.icicle.node_at(x, y)
        if not self._marked.size:
            return None
        (x0, x1), (y0, y1) = self.tree.viewRange()
        dx = (lay.x1[self._marked] - x) / max(x1 - x0, 1e-9)
        dy = (lay.y[self._marked] - y) / max(y1 - y0, 1e-9)
        best = int(np.argmin(dx * dx + dy * dy))
        return int(self._marked[best]) if dx[best] ** 2 + dy[best] ** 2 < 0.02**2 else None

    def _on_scene_clicked(self, event: MouseClickEvent) -> None:
        pos = event.scenePos()
        vb = self.tree.getViewBox()
        if vb.sceneBoundingRect().contains(pos):
            point = vb.mapSceneToView(pos)
            node = self.pick(point.x(), point.y())
            if node is not None:
                if self.mode == "icicle":
                    self.zoom_into(node)
                self._on_node(node)
            return
        self.charts.clicked(pos)
