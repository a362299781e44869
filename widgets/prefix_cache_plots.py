"""Plot items of the prefix-cache panel: the model's four charts and a real session's three.

Both sets are created once; the panel shows one set at a time by moving them in and out of
the grid (never on a drag tick).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray

from core import prefix_cache as pc
from core.prefix_cache_session import Bill
from widgets.output_shaping_plots import CUT_COLOR, fit_axes, label_font, money
from widgets.plot_room import name_curve
from widgets.plots import (
    PlotView,
    budget_line,
    mkcolor,
    place_labels,
    set_category_ticks,
    set_line,
    style_plot,
)
from widgets.reflow import Reflow
from widgets.theme import Theme

CALLS_AXIS = 1000
"""The dollar charts span at least this many calls, so dragging calls does not rescale them."""


@dataclass(frozen=True, slots=True)
class CacheOutput:
    """The lever's result plus the panel's fixed-range curves."""

    result: pc.Result
    params: pc.Params
    calls: NDArray[np.int64]
    uncached: NDArray[np.float64]
    cached: NDArray[np.float64]
    pct_5m: NDArray[np.float64]
    pct_1h: NDArray[np.float64]
    note: str = ""


def curves(result: pc.Result, p: pc.Params) -> CacheOutput:
    """Bills over 1..max(1000, calls) calls at the params' TTL, and percent cheaper for both TTLs."""
    calls = np.arange(1, max(CALLS_AXIS, p.calls) + 1, dtype=np.int64)
    engaged = bool(result.money["cache_engaged"])
    args = (p.prefix_tokens, calls, p.input_rate_per_mtok)
    uncached, cached = pc.bill(*args, p.write_multiplier, p.read_multiplier, engaged)
    pct = {ttl: pc.pct_cheaper(*pc.bill(*args, w, p.read_multiplier, engaged))
           for ttl, w in pc.TTL_WRITE.items()}
    return CacheOutput(result, p, calls, uncached, cached, pct["5m"], pct["1h"])


def _plot(title: str, bottom: str, left: str) -> pg.PlotItem:
    plot = pg.PlotItem(title=title)
    plot.setLabel("bottom", bottom)
    plot.setLabel("left", left)
    return plot


def _name(plot: pg.PlotItem, pool: list[pg.TextItem], names: list[tuple[str, float, float, str]],
          theme: Theme, anchor: tuple[float, float] = (0, 1),
          anchors: list[tuple[float, float]] | None = None) -> None:
    """Label curves in place (legends would widen the plots' minimum size)."""
    while len(pool) < len(names):
        item = pg.TextItem(anchor=(anchors or [anchor] * len(names))[len(pool)])
        plot.addItem(item)
        pool.append(item)
    for item, (text, x, y, color) in zip(pool, names, strict=False):
        item.setText(text, color=color)
        item.setFont(label_font(theme))
        item.setPos(x, y)


class ModelPlots:
    """Triangle vs line, two requests sharing a prefix, the floor, and the two dollar charts."""

    def __init__(self, on_calls: Callable[[float], None], on_prefix: Callable[[float], None]) -> None:
        self.tri = _plot("One generation", "tokens generated n", "K/V projections")
        self.no_cache = self.tri.plot()
        self.with_cache = self.tri.plot()
        self.table = pg.ScatterPlotItem(size=8)
        self.tri.addItem(self.table)
        self.n_line = budget_line(self.tri, self._on_n_dragged, label="n")
        self.req = _plot("Two requests sharing a prefix", "projections", "")
        self.req.setMouseEnabled(x=False, y=False)
        self.req_prefix = pg.BarGraphItem(x0=np.zeros(3), y=np.arange(3), height=0.6, width=np.zeros(3))
        self.req_tail = pg.BarGraphItem(x0=np.zeros(3), y=np.arange(3), height=0.6, width=np.zeros(3))
        self.req.addItem(self.req_prefix)
        self.req.addItem(self.req_tail)
        set_category_ticks(self.req.getAxis("left"), ["A", "B, no cache", "B, cached"])
        self.req.getAxis("left").setStyle(tickLength=0)  # a tick beside a thin bar read as a minus
        self.req_labels: list[pg.TextItem] = []
        self.floor = _plot("Prefix vs the minimum", "", "prefix tokens")
        self.floor.setMouseEnabled(x=False, y=False)
        self.floor.getAxis("bottom").setTicks([[]])
        self.floor_region = pg.LinearRegionItem(orientation="horizontal", movable=False)
        self.floor.addItem(self.floor_region)
        self.prefix_line = pg.InfiniteLine(angle=0, movable=True, label="prefix",
                                           labelOpts={"position": 0.5})
        self.prefix_line.sigPositionChanged.connect(lambda item: on_prefix(float(item.value())))
        self.floor.addItem(self.prefix_line)
        self.floor_text = pg.TextItem(anchor=(0.5, 1))
        self.floor.addItem(self.floor_text)
        self.money = _plot("Prompt dollars as calls grow", "calls within the TTL", "$ cumulative")
        self.uncached = self.money.plot()
        self.cached = self.money.plot()
        self.even = pg.ScatterPlotItem(size=11, symbol="o")
        self.money.addItem(self.even)
        self.calls_line = budget_line(self.money, on_calls, label="calls")
        self.pct = _plot("Percent cheaper with the cache", "calls within the TTL", "% cheaper")
        self.pct_5m = self.pct.plot()
        self.pct_1h = self.pct.plot()
        self.pct.addLine(y=0, pen=pg.mkPen("#999999"))
        self.pct_even = pg.ScatterPlotItem(size=10)
        self.pct.addItem(self.pct_even)
        self.names: dict[str, list[pg.TextItem]] = {"tri": [], "money": [], "pct": []}
        self._gen: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None
        self._curves_key: object = None
        self._parts_key: object = None
        self._theme: Theme | None = None

    def items(self) -> list[tuple[pg.PlotItem, int, int, int]]:
        """(plot, row, col, colspan) of this set in the grid."""
        return [(self.tri, 0, 0, 1), (self.req, 0, 1, 1), (self.floor, 0, 2, 1),
                (self.money, 1, 0, 1), (self.pct, 1, 1, 2)]

    def _on_n_dragged(self, value: float) -> None:
        if self._gen is not None and self._theme is not None:
            self._n_readout(max(1, round(value)), self._theme)

    def _n_readout(self, n: int, theme: Theme) -> None:
        full, cached = pc.projections(n)
        self.tri.setTitle(f"One generation, n = {n:,}: {int(full):,} vs {int(cached):,} "
                          f"projections ({(n + 1) / 2:,.1f}x)", color=theme.foreground,
                          size=f"{theme.title_pt}pt")

    def update(self, out: CacheOutput, theme: Theme, force: bool) -> None:
        """Redraw from ``out``; the projection chart only when the lengths changed."""
        res, p = out.result, out.params
        self._theme = theme
        if force or self._gen is None or not np.array_equal(self._gen[0], res.gen_n):
            self._generation(res, theme)
        if force:
            self._curves_key = None
        parts = ((p.prefix_len, p.tail_len), (p.prefix_tokens, p.min_cacheable_tokens))
        if force or parts != self._parts_key:  # a calls drag leaves these two charts alone
            self._parts_key = parts
            self._requests(res, theme)
            self._floor(p, bool(res.money["cache_engaged"]), theme)
        self._dollars(out, theme)

    def _generation(self, res: pc.Result, theme: Theme) -> None:
        top = int(res.gen_n.max(initial=1))
        ns = np.unique(np.linspace(1, top, min(top, 400)).round().astype(np.int64))
        full, cached = pc.projections(ns)
        self.no_cache.setData(ns, full, pen=pg.mkPen(theme.color(3), width=theme.line_width),
                              fillLevel=0, brush=mkcolor(theme.color(3), 50))
        self.with_cache.setData(ns, cached, pen=pg.mkPen(theme.color(0), width=theme.line_width))
        self.table.setData(res.gen_n, res.gen_no_cache, brush=mkcolor(theme.color(3)), pen=None)
        self._gen = (res.gen_n, res.gen_no_cache)
        self.tri.setRange(xRange=(0, top), yRange=(0, float(full.max(initial=1)) * 1.1), padding=0.02)
        peak = float(full.max(initial=1))
        _name(self.tri, self.names["tri"], [("no cache: n(n+1)/2", top, peak, theme.color(3)),
                                            ("KV cache: n", top, top, theme.color(0))], theme)
        for label, ys in zip(self.names["tri"], (full, cached), strict=True):  # clear of the n line
            name_curve(self.tri, label, ns, ys)
        n = int(res.gen_n[len(res.gen_n) // 2]) if res.gen_n.size else 1
        set_line(self.n_line, float(n))
        self._n_readout(n, theme)
        self.n_line.setPen(pg.mkPen(theme.accent, width=2))

    def _requests(self, res: pc.Result, theme: Theme) -> None:
        pr = res.prefix
        prefix = np.array([pr["prefix_len"], pr["prefix_len"], 0], dtype=float)
        tail = np.full(3, float(pr["tail_len"]))
        self.req_prefix.setOpts(x0=np.zeros(3), width=prefix, brush=mkcolor(theme.color(0)), pen=None)
        self.req_tail.setOpts(x0=prefix, width=tail, brush=mkcolor(theme.color(1)), pen=None)
        total = float(max(pr["prefix_len"] + pr["tail_len"], 1))
        texts = [(f"{pr['a_projections']:,}", total, 0.0), (f"{pr['b_uncached']:,}", total, 1.0),
                 (f" {pr['b_cached']:,} ({pr['pct_saved']:.0f}% saved)",  # apart from the thin bar
                  float(pr["tail_len"]), 2.0)]
        place_labels(self.req, self.req_labels, texts, (0, 0.5), theme.foreground)
        for label in self.req_labels:
            label.setFont(label_font(theme))
        self.req.setRange(xRange=(0, total * 2.2), yRange=(-0.6, 2.6), padding=0)

    def _floor(self, p: pc.Params, engaged: bool, theme: Theme) -> None:
        top = max(float(p.prefix_tokens), float(p.min_cacheable_tokens), 1.0) * 1.3
        self.floor_region.setRegion((0, float(p.min_cacheable_tokens)))
        self.floor_region.setBrush(mkcolor(CUT_COLOR, 35))
        for edge in self.floor_region.lines:
            edge.setPen(pg.mkPen(CUT_COLOR))
        set_line(self.prefix_line, float(p.prefix_tokens))
        color = theme.color(0) if engaged else CUT_COLOR
        self.prefix_line.setPen(pg.mkPen(color, width=3))
        self.prefix_line.label.setFormat(f"prefix {p.prefix_tokens:,}")
        self.prefix_line.label.setColor(color)
        self.floor_text.setText(f"min {p.min_cacheable_tokens:,}" + ("" if engaged else ": not cached"),
                                color=CUT_COLOR)
        self.floor_text.setPos(0.5, float(p.min_cacheable_tokens))
        self.floor_text.setFont(label_font(theme))
        self.prefix_line.label.setFont(label_font(theme))
        if abs(self.floor.viewRange()[1][1] - top) > 0.2 * top:
            self.floor.setRange(xRange=(0, 1), yRange=(0, top), padding=0)

    def _dollars(self, out: CacheOutput, theme: Theme) -> None:
        m, p = out.result.money, out.params
        # a calls drag moves only the line: the curves change with the prefix, prices and TTL
        key = (p.prefix_tokens, p.input_rate_per_mtok, p.write_multiplier, p.read_multiplier,
               m["cache_engaged"], out.calls.size, theme)
        if key != self._curves_key:
            self._curves_key = key
            self._curves(out, theme)
        set_line(self.calls_line, float(p.calls))
        self.calls_line.setPen(pg.mkPen(theme.accent, width=2))
        self.calls_line.label.setFormat(f"{p.calls:,} calls: save {money(m['saved'])}")

    def _curves(self, out: CacheOutput, theme: Theme) -> None:
        m = out.result.money
        self.uncached.setData(out.calls, out.uncached, pen=pg.mkPen(theme.muted, width=theme.line_width))
        self.cached.setData(out.calls, out.cached, pen=pg.mkPen(theme.color(0), width=theme.line_width))
        be = m["break_even_calls"]
        self.even.setData([be] if be else [], [float(out.cached[be - 1])] if be else [],
                          brush=mkcolor(theme.accent), pen=None)
        x_top = float(out.calls[-1])
        y_top = float(out.uncached[-1]) * 1.05 or 1.0
        _name(self.money, self.names["money"],
              [("uncached", x_top * 0.5, float(out.uncached[len(out.calls) // 2]) * 1.1, theme.muted),
               ("cached", x_top * 0.97, float(out.cached[-1]), theme.color(0))],
              theme, anchors=[(1, 1), (1, 1)])
        (_x0, x1), (_y0, y1) = self.money.viewRange()
        if abs(x1 - x_top) > 1e-9 or abs(y1 - y_top) > 1e-9 * y_top:
            self.money.setRange(xRange=(1, x_top), yRange=(0, y_top), padding=0)
        self.pct_5m.setData(out.calls, out.pct_5m, pen=pg.mkPen(theme.color(0), width=theme.line_width))
        self.pct_1h.setData(out.calls, out.pct_1h, pen=pg.mkPen(theme.color(1), width=theme.line_width))
        evens = [(b, out.pct_5m if t == "5m" else out.pct_1h) for t, b in m["break_even_by_ttl"].items() if b]
        self.pct_even.setData([b for b, _ in evens], [float(c[b - 1]) for b, c in evens],
                              brush=mkcolor(theme.accent), pen=None)
        self.pct.setRange(xRange=(1, min(x_top, 60.0)), yRange=(-105, 118), padding=0)
        _name(self.pct, self.names["pct"], [("5-min TTL (write 1.25x)", 25.0, float(out.pct_5m[24]) + 2,
                                             theme.color(0)),
                                            ("1-hour TTL (write 2x)", 25.0, float(out.pct_1h[24]) - 6,
                                             theme.color(1))], theme, anchors=[(0, 1), (0, 0)])


class SessionPlots:
    """A real session: tokens per call by kind, and the bill per call and cumulative."""

    KINDS = ("uncached input", "cache write", "cache read", "output")

    def __init__(self) -> None:
        self.turns = _plot("Your session: tokens per call (▼ the cache read dropped)", "call",
                           "tokens")
        self.stack = [pg.BarGraphItem(x=[], height=[], width=0.8) for _ in self.KINDS]
        for bars in self.stack:
            self.turns.addItem(bars)
        self.drops = pg.ScatterPlotItem(size=12, symbol="t", pen=None)
        self.turns.addItem(self.drops)
        self.per_call = _plot("Bill per call", "call", "$")
        self.actual = self.per_call.plot()
        self.plain = self.per_call.plot()
        self.total = _plot("Bill, cumulative", "call", "$")
        self.total_actual = self.total.plot()
        self.total_plain = self.total.plot()
        self.names: dict[str, list[pg.TextItem]] = {"per_call": [], "total": []}

    def items(self) -> list[tuple[pg.PlotItem, int, int, int]]:
        """(plot, row, col, colspan) of this set in the grid."""
        return [(self.turns, 0, 0, 2), (self.per_call, 1, 0, 1), (self.total, 1, 1, 1)]

    def update(self, bill: Bill, theme: Theme) -> None:
        """Draw the session's bill."""
        x = np.arange(1, bill.input.size + 1)
        base = np.zeros(x.size)
        colors = (theme.color(3), theme.color(1), theme.color(0), theme.muted)
        for bars, part, color in zip(self.stack, (bill.input, bill.write, bill.read, bill.output),
                                     colors, strict=True):
            bars.setOpts(x=x, y0=base.copy(), height=part.astype(float), brush=mkcolor(color), pen=None)
            base = base + part
        idx = np.array([i for i, _ in bill.drops], dtype=np.int64)
        self.drops.setData(idx + 1, base[idx] * 1.04 if idx.size else [], brush=mkcolor(CUT_COLOR))
        self.turns.setRange(xRange=(0.4, x.size + 0.6), yRange=(0, float(base.max(initial=1)) * 1.12),
                            padding=0)
        key = " ".join(f"<span style='color:{c}'>■ {k}</span>"
                       for k, c in zip(self.KINDS, colors, strict=True))
        self.turns.setTitle(f"Your session, tokens per call ({key}; <span style='color:{CUT_COLOR}'>▼</span> "
                            "cache read dropped)", color=theme.foreground, size=f"{theme.title_pt}pt")
        pen = pg.mkPen(theme.color(0), width=theme.line_width)
        muted = pg.mkPen(theme.muted, width=theme.line_width)
        self.actual.setData(x, bill.cost, pen=pen)
        self.plain.setData(x, bill.cost_uncached, pen=muted)
        self.total_actual.setData(x, np.cumsum(bill.cost), pen=pen)
        self.total_plain.setData(x, np.cumsum(bill.cost_uncached), pen=muted)
        mid = max(x.size // 2, 1)
        for key, plot, ys in (("per_call", self.per_call, bill.cost_uncached),
                              ("total", self.total, np.cumsum(bill.cost_uncached))):
            top = float(ys[mid - 1]) if ys.size else 0.0
            _name(plot, self.names[key], [("if nothing were cached", float(mid), top, theme.muted),
                                          ("as billed", float(mid), top * 0.45, theme.color(0))], theme)
        self.total.setTitle(f"Bill, cumulative: {money(float(bill.cost.sum()))} vs "
                            f"{money(float(bill.cost_uncached.sum()))} uncached · hit ratio "
                            f"{bill.hit_ratio:.0%}", color=theme.foreground, size=f"{theme.title_pt}pt")


def place(view: PlotView, items: list[tuple[pg.PlotItem, int, int, int]], theme: Theme) -> None:
    """Put one set of plots into the (emptied) grid, style them, and let the grid reflow anew."""
    view.ci.clear()
    for plot, row, col, span in items:
        view.addItem(plot, row=row, col=col, colspan=span)
    restyle(items, theme)
    regrid(view)


def restyle(items: list[tuple[pg.PlotItem, int, int, int]], theme: Theme) -> None:
    """Apply the theme to a set of plots, shown or not."""
    for plot, *_ in items:
        style_plot(plot, theme)
    fit_axes([p for p, *_ in items], theme)


def regrid(view: PlotView) -> None:
    """Forget the grid the view recorded for reflowing (its items changed) and fit the new one."""
    view.reflow = Reflow(view.ci)
    view.refit()
