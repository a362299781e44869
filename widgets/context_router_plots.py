"""Plot items of the context-router panel: the route graph, per-query bars, sweep and totals.

Every item is created once in :class:`RouterPlots`; ``update`` only sets data and texts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont, QFontMetricsF, QPen

from core import context_router as cr
from widgets.bars import StyledBars
from widgets.pinned_extent import pinned_end
from widgets.plots import PlotView, cache_pixmaps, mkcolor, set_line, steady_top
from widgets.procedural_learning_plots import (
    set_bars,
    set_label,
    set_ticks,
    set_title,
    short,
    style_line,
    styled_labels,
    twin_axis,
)
from widgets.theme import Theme

MAX_BARS = 24
"""Most queries drawn as bar pairs (the rest are in the totals)."""


def source_colors(names: Sequence[str], theme: Theme) -> dict[str, str]:
    """One palette color per source, in declared order."""
    return {n: theme.color(i) for i, n in enumerate(names)}


class RouterPlots:
    """The panel's plots; ``on_budget`` gets the budget a line was dragged to."""

    def __init__(self, view: PlotView, on_budget: Callable[[float], None]) -> None:
        self.bars_plot = view.addPlot(row=0, col=0, colspan=2, title="Tokens per query")
        self.bars = StyledBars(x=[0], y0=[0], height=[0], width=0.35)
        self.bars_plot.addItem(self.bars)
        self.bars_plot.setLabel("left", "tokens")
        self._ticks: list[tuple[str, str]] = []
        self.bars_plot.vb.sigResized.connect(self._fit_ticks)
        self.bar_budget = pg.InfiniteLine(angle=0, movable=True, label="budget {value:.0f}",
                                          labelOpts={"position": 0.06, "movable": False,
                                                     "anchors": [(0, 1), (0, 1)]})
        self.bar_budget.sigPositionChanged.connect(lambda item: on_budget(float(item.value())))
        self.bars_plot.addItem(self.bar_budget)

        self.graph = view.addPlot(row=0, col=2, title="classify → route → assemble")
        for name in ("left", "bottom"):
            self.graph.hideAxis(name)
        self.edges = pg.PlotDataItem(connect="pairs")
        self.lit = pg.PlotDataItem(connect="pairs")
        self.starved = pg.PlotDataItem(connect="pairs")
        self.nodes = pg.ScatterPlotItem(size=16, pxMode=True)
        for item in (self.edges, self.lit, self.starved, self.nodes):
            self.graph.addItem(item)
        self.nodes.setZValue(_NODES_Z)  # over the names' grounds, which are over the edges
        self.node_labels: list[pg.TextItem] = []
        self.source_labels: list[pg.TextItem] = []
        self._sweep_key: object = None
        self._graph_key: object = None
        self._branch_key: object = None
        self._bars_key: object = None
        self._totals_key: object = None
        self._styles: dict[tuple[str, bool], tuple[QBrush, QPen]] = {}
        self._styles_key: object = None
        self._pos: dict[str, tuple[float, float]] = {}
        self._node_brushes: dict[str, QBrush] = {}
        """One brush object per color: the scatter's symbol cache knows a brush by its identity."""

        self.sweep_plot = view.addPlot(row=1, col=0, colspan=2, title="Total tokens against budget")
        self.sweep_plot.setLabel("bottom", "budget per turn (tokens)")
        self.sweep_plot.setLabel("left", "tokens, all turns")
        self.legend = self.sweep_plot.addLegend(offset=(10, 5))
        self.sink_curve = self.sweep_plot.plot(name="kitchen sink")
        self.routed_curve = self.sweep_plot.plot(name="routed")
        self.dropped_box = twin_axis(self.sweep_plot, "needed sources dropped")
        self.dropped_curve = pg.PlotDataItem(stepMode="left")
        self.dropped_box.addItem(self.dropped_curve)
        cache_pixmaps(self.sink_curve, self.routed_curve, self.dropped_curve)  # fixed while dragging
        self.sweep_line = pg.InfiniteLine(angle=90, movable=True, label="budget {value:.0f}",
                                          labelOpts={"position": 0.92, "movable": False})
        self.sweep_line.sigPositionChanged.connect(lambda item: on_budget(float(item.value())))
        self.sweep_plot.addItem(self.sweep_line)

        self.totals = view.addPlot(row=1, col=2, title="Totals")
        self.total_bars = pg.BarGraphItem(x0=[0, 0], y=[0, 1], height=0.6, width=[0, 0])
        self.totals.addItem(self.total_bars)
        self.totals.invertY(True)
        set_ticks(self.totals.getAxis("left"), ["sink", "routed"])
        self.totals.hideAxis("bottom")
        self.total_labels: list[pg.TextItem] = []
        for plot in (self.graph, self.bars_plot, self.sweep_plot, self.totals):
            plot.setMouseEnabled(x=False, y=False)

    # ---- updates ------------------------------------------------------------------------------
    def update(self, res: cr.Result, params: cr.Params, selected: int, theme: Theme) -> None:
        """Draw ``res``; ``selected`` is the query whose branch is lit."""
        colors = source_colors([s.name for s in params.sources], theme)
        self._update_graph(res, params, selected, colors, theme)
        self._update_bars(res, params, selected, colors, theme)
        self._update_sweep(res, theme)
        self._update_totals(res, theme)

    def _update_graph(self, res: cr.Result, params: cr.Params, selected: int,
                      colors: dict[str, str], theme: Theme) -> None:
        turn = res.turns[selected] if 0 <= selected < len(res.turns) else None
        key = (tuple(params.routes.items()), tuple(res.source_tokens.items()), theme)
        if key != self._graph_key:  # the graph itself: routes, sources or sizes changed
            self._graph_key = key
            self._branch_key = None
            self._draw_graph(res, params, theme)
        branch = (turn.query, turn.label, turn.declared, turn.routed) if turn else None
        if (branch, colors) == self._branch_key:  # a budget tick that leaves the lit branch as it was
            return
        self._branch_key = (branch, colors)
        pos = self._pos
        lit: list[tuple[str, str]] = []
        cut: list[tuple[str, str]] = []
        if turn is not None:
            lit = [("classify", "L:" + turn.label)]
            lit += [("L:" + turn.label, "S:" + s) for s in turn.routed.included]
            lit += [("S:" + s, "assemble") for s in turn.routed.included]
            cut = [("L:" + turn.label, "S:" + s) for s in turn.routed.skipped]
        self.lit.setData(*_segments(lit, pos), pen=pg.mkPen(theme.accent, width=theme.line_width + 1))
        self.starved.setData(*_segments(cut, pos), pen=pg.mkPen(
            theme.accent, width=theme.line_width, style=Qt.PenStyle.DotLine))
        on = {a for a, _ in lit} | {b for _, b in lit}
        brushes = [self._node_brush(colors.get(k[2:], theme.foreground) if k.startswith("S:") else
                                    (theme.accent if k in on else theme.muted)) for k in pos]
        self.nodes.setBrush(brushes)
        query = short(turn.query, 48) if turn else "(no query)"
        how = "declared" if turn and turn.declared else "classified"
        set_title(self.graph, f"“{query}” → {how} {turn.label if turn else ''}")

    def _node_brush(self, color: str) -> QBrush:
        brush = self._node_brushes.get(color)
        if brush is None:
            brush = self._node_brushes[color] = QBrush(mkcolor(color))
        return brush

    def _draw_graph(self, res: cr.Result, params: cr.Params, theme: Theme) -> None:
        """Place the nodes, edges and node labels (the lit branch is drawn over them)."""
        labels = list(params.routes)
        sources = [s.name for s in params.sources]
        pos: dict[str, tuple[float, float]] = {"classify": (0.0, 0.5), "assemble": (3.7, 0.5)}
        for i, label in enumerate(labels):
            pos["L:" + label] = (1.0, _spread(i, len(labels)))
        for i, name in enumerate(sources):
            pos["S:" + name] = (2.0, _spread(i, len(sources)))
        self._pos = pos
        edges = [("classify", "L:" + lb) for lb in labels]
        edges += [("L:" + lb, "S:" + s) for lb in labels for s in params.routes[lb]]
        edges += [("S:" + s, "assemble") for s in sources]
        self.edges.setData(*_segments(edges, pos), pen=pg.mkPen(theme.muted, width=1))
        self.nodes.setData(pos=list(pos.values()), brush=self._node_brush(theme.muted),
                           pen=pg.mkPen(theme.background))
        nodes, names = [], []
        for k, (x, y) in pos.items():
            name = k.split(":", 1)[-1]
            if k.startswith("S:"):  # sources: name and size to the right of the node
                names.append((f" {short(name, 14)} {res.source_tokens[name]:,}", x, y))
            else:
                nodes.append((name, x, y))
        styled_labels(self.graph, self.node_labels, nodes, (0.5, -0.4), theme)
        styled_labels(self.graph, self.source_labels, names, (0, 0.5), theme)
        ground = QBrush(mkcolor(theme.background, 225))  # edges pass under a name, not through it
        for label in self.node_labels + self.source_labels:
            label.fill = ground
            label.setZValue(_NAMES_Z)
            label.update()
        self.graph.setRange(xRange=(-0.55, 4.3), yRange=(-0.16, 1.1), padding=0)

    def _update_bars(self, res: cr.Result, params: cr.Params, selected: int,
                      colors: dict[str, str], theme: Theme) -> None:
        turns = res.turns[:MAX_BARS]
        sizes = res.source_tokens
        if colors != self._styles_key:
            self._styles_key = dict(colors)
            self._styles = {(n, skip): _segment_style(c, skip)
                            for n, c in colors.items() for skip in (False, True)}
        key = ([(t.sink, t.routed) for t in turns], sizes, self._styles_key)
        if key != self._bars_key:  # the packings moved: a budget tick inside one leaves the bars
            self._bars_key = key
            self._set_bars(turns, sizes)
        ticks = [(f"{i + 1}{'•' if i == selected else ''}", short(t.label, 9))
                 for i, t in enumerate(turns)]
        if ticks != self._ticks:
            self._ticks = ticks
            self._fit_ticks()
        top_needed = max([sum(sizes.values()), res.budget, 1]) * 1.08
        top = steady_top(self.bars_plot.viewRange()[1][1], top_needed)
        self.bars_plot.setRange(xRange=(-0.6, max(len(turns), 1) - 0.4), yRange=(0, top), padding=0)
        style_line(self.bar_budget, theme)
        set_line(self.bar_budget, float(res.budget))
        word = "step" if turns and all(t.declared for t in turns) else "query"
        set_label(self.bars_plot, "bottom", f"{word} (• = lit in the graph)")
        more = f" (first {MAX_BARS} of {len(res.turns)})" if len(res.turns) > MAX_BARS else ""
        set_title(self.bars_plot, f"Per {word}: kitchen sink (left) vs routed (right); "
                                  f"hatched = did not fit{more}")

    def _set_bars(self, turns: Sequence[cr.Turn], sizes: dict[str, int]) -> None:
        """Stack each turn's sources, packed then skipped, as a bar pair (one stack per packing)."""
        stacks: dict[cr.Packing, tuple[list[float], list[float], list[QBrush], list[QPen]]] = {}
        xs: list[float] = []
        y0s: list[float] = []
        hs: list[float] = []
        brushes: list[QBrush] = []
        pens: list[QPen] = []
        for i, turn in enumerate(turns):
            for dx, packing in ((-0.2, turn.sink), (0.2, turn.routed)):
                stack = stacks.get(packing)
                if stack is None:
                    stack = stacks[packing] = self._stack(packing, sizes)
                xs += [i + dx] * len(stack[0])
                y0s += stack[0]
                hs += stack[1]
                brushes += stack[2]
                pens += stack[3]
        set_bars(self.bars, brushes, pens, x=np.array(xs, dtype=float), y0=np.array(y0s, dtype=float),
                 height=np.array(hs, dtype=float), width=0.36)

    def _stack(self, packing: cr.Packing, sizes: dict[str, int]
               ) -> tuple[list[float], list[float], list[QBrush], list[QPen]]:
        y0s: list[float] = []
        hs: list[float] = []
        brushes: list[QBrush] = []
        pens: list[QPen] = []
        y = 0.0
        for name, skipped in ([(n, False) for n in packing.included]
                              + [(n, True) for n in packing.skipped]):
            y0s.append(y)
            hs.append(float(sizes[name]))
            y += sizes[name]
            brush, pen = self._styles[(name, skipped)]
            brushes.append(brush)
            pens.append(pen)
        return y0s, hs, brushes, pens

    def _fit_ticks(self) -> None:
        """Label each bar pair with its number and label, or the number alone when crowded."""
        ticks = [f"{n} {label}" for n, label in self._ticks]
        slot = self.bars_plot.vb.width() / max(len(ticks), 1)
        metrics = QFontMetricsF(self.bars_plot.getAxis("bottom").style.get("tickFont") or QFont())
        if max((metrics.horizontalAdvance(t) for t in ticks), default=0) > 0.9 * slot:
            ticks = [n for n, _label in self._ticks]
        set_ticks(self.bars_plot.getAxis("bottom"), ticks)

    def _update_sweep(self, res: cr.Result, theme: Theme) -> None:
        s = res.sweep
        key = (*(s[k].tobytes() for k in ("budget", "sink_total", "routed_total", "routed_skipped")),
               res.budget > s["budget"].max(initial=0), theme)
        if key != self._sweep_key:  # the curves do not move with the budget: redraw on change
            self._sweep_key = key
            xs = s["budget"].astype(float)
            self.sink_curve.setData(xs, s["sink_total"].astype(float),
                                    pen=pg.mkPen(theme.muted, width=theme.line_width))
            self.routed_curve.setData(xs, s["routed_total"].astype(float),
                                      pen=pg.mkPen(theme.color(2), width=theme.line_width))
            dropped = s["routed_skipped"].astype(float)
            self.dropped_curve.setData(xs, dropped, pen=pg.mkPen(theme.color(3), width=2,
                                                                 style=Qt.PenStyle.DashLine))
            self.legend.setLabelTextColor(theme.foreground)
            self.legend.setLabelTextSize(f"{max(theme.font_pt - 2, 8)}pt")
            x1 = float(max(xs.max(initial=1), res.budget))
            y1 = float(max(s["sink_total"].max(initial=1), 1)) * 1.1
            self.sweep_plot.setRange(xRange=(0, x1), yRange=(0, y1), padding=0)
            self.dropped_box.setRange(yRange=(0, float(max(dropped.max(initial=0), 1)) * 1.1), padding=0)
        style_line(self.sweep_line, theme)
        set_line(self.sweep_line, float(res.budget))
        full = _full_coverage(s)
        set_title(self.sweep_plot, "Tokens vs budget (dashes: needed sources dropped"
                                   + (f"; none from {full:,})" if full is not None else ")"))

    def _update_totals(self, res: cr.Result, theme: Theme) -> None:
        t = res.totals()
        vals = [float(t["sink"]), float(t["routed"])]
        # a pinned total stays in view: with no axis under these bars, a pinned sink bar cut at
        # the edge (6,774 pinned against 2,412 live) hid the very change the pin was made for
        pinned = pinned_end(self.totals, "x1")
        if (vals, pinned, theme) == self._totals_key:
            return
        self._totals_key = (vals, pinned, theme)
        self.total_bars.setOpts(x0=[0, 0], y=[0, 1], width=vals, height=0.6,
                                brushes=[mkcolor(theme.muted), mkcolor(theme.color(2))],
                                pens=[pg.mkPen(None)] * 2)
        top = max(max(vals[0], vals[1], 1.0) * 1.9, pinned * 1.05)
        self.totals.setRange(xRange=(0, top), yRange=(-0.6, 1.6), padding=0)
        styled_labels(self.totals, self.total_labels,
                      [(f" {vals[0]:,.0f}", vals[0], 0.0),
                       (f" {vals[1]:,.0f} (−{t['pct_smaller']:.0f}%)", vals[1], 1.0)],
                      (0, 0.5), theme)
        set_title(self.totals, f"Saved {t['saved']:,} tokens")


_NAMES_Z, _NODES_Z = 0.5, 1.0
"""Stacking in the graph: edges (0), then the names on their grounds, then the nodes."""


def _segment_style(color: str, skipped: bool) -> tuple[QBrush, QPen]:
    """Return a source's bar style: solid when packed, hatched and outlined when it did not fit."""
    if skipped:
        return QBrush(mkcolor(color, 110), Qt.BrushStyle.BDiagPattern), pg.mkPen(color, width=1)
    return QBrush(mkcolor(color)), pg.mkPen(None)


def _spread(i: int, n: int) -> float:
    return 0.5 if n <= 1 else 1.0 - i / (n - 1)


def _segments(edges: Sequence[tuple[str, str]], pos: dict[str, tuple[float, float]]
              ) -> tuple[list[float], list[float]]:
    xs: list[float] = []
    ys: list[float] = []
    for a, b in edges:
        xs += [pos[a][0], pos[b][0]]
        ys += [pos[a][1], pos[b][1]]
    return xs, ys


def _full_coverage(sweep: dict[str, np.ndarray]) -> int | None:
    """Return the smallest swept budget at which routing drops no needed source.

    Nothing dropped means every route fits whole, so every larger budget drops nothing too.
    """
    ok = np.flatnonzero(sweep["routed_skipped"] == 0)
    return int(sweep["budget"][ok[0]]) if ok.size else None
