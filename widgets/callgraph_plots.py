"""The call-graph panel's charts: the layered graph with the slice lit, tokens, and the depth curve."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

from core import callgraph
from widgets.plots import PlotView, cache_pixmaps, in_chart_pt, log_ticks, mkcolor, place_labels, steady_top
from widgets.theme import Theme
from widgets.value_labels import at_axis_size

LABELS_MAX = 40
"""Slice members get a name label only when the slice is this small (the target always does)."""


@dataclass(frozen=True, slots=True)
class CallgraphOutput:
    """A slice and the slice size at every depth (the trade-off curve)."""

    result: callgraph.Result
    curve: dict[str, np.ndarray]
    note: str = ""


def _segments(graph: callgraph.Graph, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not edges.size:
        return np.zeros(0), np.zeros(0)
    return graph.x[edges].ravel(), graph.y[edges].ravel()


class CallgraphPlots:
    """Items made once; a new target or depth only re-colors nodes and re-draws the slice edges."""

    def __init__(self, view: PlotView, on_node: Callable[[int], None]) -> None:
        self.graph = view.addPlot(row=0, col=0, colspan=2, title="Call graph (callers left of callees)")
        self.graph.hideAxis("left")
        self.graph.hideAxis("bottom")
        self.graph.invertY(True)
        self.all_edges = pg.PlotCurveItem(connect="pairs", skipFiniteCheck=True)
        self.slice_edges = pg.PlotCurveItem(connect="pairs", skipFiniteCheck=True)
        self.nodes = pg.ScatterPlotItem(size=7, hoverable=True, tip=self._tip)
        self.nodes.sigClicked.connect(lambda _item, points, _ev: on_node(int(points[0].data())))
        self.callees = pg.ScatterPlotItem(size=10)
        self.callers = pg.ScatterPlotItem(size=10)
        self.target = pg.ScatterPlotItem(size=15, symbol="s")
        for item in (self.all_edges, self.slice_edges, self.callees, self.callers, self.target, self.nodes):
            self.graph.addItem(item)
        self.all_edges.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # static per graph
        self.labels: list[pg.TextItem] = []

        self.tokens = view.addPlot(row=1, col=0, title="Tokens sent")
        self.tokens.setLabel("bottom", "tokens")
        self.tokens.getAxis("left").setTicks([[(0, "slice"), (1, "file"), (2, "package")], []])
        self.tokens.invertY(True)
        self.token_bars = pg.BarGraphItem(x0=[0, 0, 0], y=[0, 1, 2], height=0.6, width=[0, 0, 0])
        self.tokens.addItem(self.token_bars)
        self.token_text = [pg.TextItem(anchor=(0, 0.5)) for _ in range(3)]
        for i, label in enumerate(self.token_text):
            label.setPos(0, i)
            self.tokens.addItem(label)
        self.depth = view.addPlot(row=1, col=1, title="Slice size by depth")
        self.depth.setLabel("bottom", "depth (calls away)")
        self.depth.setLabel("left", "tokens")
        self.depth.setLogMode(y=True)
        self.depth.disableAutoRange()
        self.depth_curve = self.depth.plot(symbol="o", symbolSize=6)
        self.depth_now = pg.InfiniteLine(angle=90, movable=False)
        self.depth.addItem(self.depth_now)
        cache_pixmaps(self.depth_curve)
        view.ci.layout.setRowStretchFactor(0, 4)
        view.ci.layout.setRowStretchFactor(1, 1)
        self._drawn: callgraph.Graph | None = None
        self._names: tuple[str, ...] = ()
        self._top = 0.0
        self._depth_right = self._depth_top = 0.0
        self._token_text = [""] * len(self.token_text)
        self._values = [0, 0, 0]
        self.tokens.vb.sigResized.connect(self._fit_tokens)

    def _tip(self, x: float, y: float, data: object) -> str:
        if isinstance(data, int | np.integer) and data < len(self._names):
            return self._names[int(data)]
        return ""

    def update(self, out: CallgraphOutput, theme: Theme, force: bool = False) -> None:
        """Draw ``out``; the whole graph is re-laid only when the code changed."""
        res = out.result
        g = res.graph
        if force or g is not self._drawn:
            self._update_graph(g, theme)
        self._update_slice(res, theme)
        self._update_tokens(res, theme)
        self._update_curve(out, res, theme)

    def _update_graph(self, g: callgraph.Graph, theme: Theme) -> None:
        self._drawn, self._names = g, g.names
        xs, ys = _segments(g, g.edges)
        self.all_edges.setData(xs, ys, pen=pg.mkPen(mkcolor(theme.muted, 110), width=1))
        self.nodes.setData(g.x, g.y, data=np.arange(len(g.names)), brush=mkcolor(theme.muted, 170), pen=None)
        # pens and brushes once per graph and theme: passed with every tick's data, they re-style
        # every point and curve again
        self.slice_edges.setPen(pg.mkPen(theme.color(0), width=2))
        for item, color in ((self.callees, theme.color(0)), (self.callers, theme.color(1)),
                            (self.target, theme.accent)):
            item.setBrush(mkcolor(color))
            item.setPen(None)
        bars = [mkcolor(theme.accent), mkcolor(theme.color(0)), mkcolor(theme.muted)]
        self.token_bars.setOpts(brushes=bars, pen=None)
        for label in self.token_text:
            label.setColor(theme.foreground)
        self._token_text = [""] * len(self.token_text)
        self.depth_curve.setPen(pg.mkPen(theme.color(0), width=1))
        self.depth_curve.setSymbolBrush(mkcolor(theme.color(0)))
        self.depth_curve.setSymbolPen(None)
        self.depth_now.setPen(pg.mkPen(theme.accent, width=2))
        self.tokens.setYRange(-0.5, 2.5, padding=0)
        self.zoom(None)

    def zoom(self, members: list[int] | None) -> None:
        """Frame the given nodes (None: the whole graph)."""
        g = self._drawn
        if g is None or not len(g.names):
            return
        sel = np.arange(len(g.names)) if not members else np.array(members)
        self.graph.setRange(xRange=(g.x[sel].min() - 1, g.x[sel].max() + 1),
                            yRange=(g.y[sel].min() - 2, g.y[sel].max() + 2))

    def _update_slice(self, res: callgraph.Result, theme: Theme) -> None:
        g = res.graph
        members = np.array(res.members, np.int64)
        dist = np.array([res.distance[i] for i in res.members], np.int64)
        kept = np.zeros(len(g.names), bool)
        kept[members] = True
        inside = g.edges[kept[g.edges[:, 0]] & kept[g.edges[:, 1]]] if g.edges.size else g.edges
        xs, ys = _segments(g, inside)
        self.slice_edges.setData(xs, ys)
        for item, pick in ((self.callees, dist > 0), (self.callers, dist < 0)):
            sel = members[pick]
            item.setData(g.x[sel], g.y[sel])
        t = res.target
        self.target.setData([g.x[t]] if t >= 0 else [], [g.y[t]] if t >= 0 else [])
        shown = list(res.members) if len(res.members) <= LABELS_MAX else []
        shown = ([t] if t >= 0 else []) + [i for i in shown if i != t]  # the target's name first
        place_labels(self.graph, self.labels,
                     [(g.names[i].split(":")[-1], float(g.x[i]), float(g.y[i])) for i in shown],
                     (0.5, 1.2), theme.foreground, in_chart_pt(theme), declutter=True)

    def _update_tokens(self, res: callgraph.Result, theme: Theme) -> None:
        values = [res.slice_tokens, res.target_file_tokens, res.whole_tokens]
        self.token_bars.setOpts(width=values)
        whole = max(res.whole_tokens, 1)
        at_axis_size(self.token_text, theme)
        for i, (label, v) in enumerate(zip(self.token_text, values, strict=True)):
            text = f" {v:,} ({v / whole:.1%})"
            if text != self._token_text[i]:  # the file and package bars stay put for most clicks
                self._token_text[i] = text
                label.setText(text)
                label.setPos(float(v), label.pos().y())
        self._values = values
        self._fit_tokens()

    def _fit_tokens(self, *_args: object) -> None:
        """Leave room after each bar for its label, in pixels (at 1280x720 a fixed 25% cut it)."""
        width = max(self.tokens.vb.width(), 1.0)
        needed = max(v / (1 - min((label.boundingRect().width() + 6) / width, 0.6))
                     for v, label in zip(self._values, self.token_text, strict=True))
        top = steady_top(self._top, needed)
        if top != self._top:
            self._top = top
            self.tokens.setXRange(0, top, padding=0)

    def _update_curve(self, out: CallgraphOutput, res: callgraph.Result, theme: Theme) -> None:
        c = out.curve
        some = c["slice_tokens"] > 0  # a log axis has no place for zero (an empty graph)
        self.depth_curve.setData(c["depth"][some], c["slice_tokens"][some])
        # axes that only widen while the package stays the same (depth 0 to the deepest slice
        # seen, at least 5; tokens from 1 to the whole package, log scale): a range that moved
        # with a click re-laid out the chart, and the next paint redrew the call graph's
        # thousands of edges (100 ms). A fixed depth of 15 left the sample's four depths in a
        # quarter of the chart, and a floor of 10 tokens cut a depth-0 slice of fewer
        right = max(float(c["depth"].max(initial=0)), 5.0)
        top = float(np.log10(max(res.whole_tokens, 100)))
        if top == self._depth_top:  # the same package: keep what earlier targets needed
            right = max(right, self._depth_right)
        if (right, top) != (self._depth_right, self._depth_top):
            self._depth_right, self._depth_top = right, top
            self.depth.setRange(xRange=(-0.3, right + 0.3), yRange=(0, top), padding=0.02)
            self.depth.getAxis("left").setTicks([log_ticks(1, 10**top, most=5), []])
        depth = res.params.depth
        self.depth_now.setValue(float(c["depth"][-1] if depth is None or not c["depth"].size else depth))
