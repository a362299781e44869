"""The compaction lab's charts: tokens in the window per turn, and what traditional vs instant cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from core import compaction
from core.model_profile import CACHE_READ
from core.model_profile import CACHE_WRITE_5M as CACHE_WRITE
from widgets.compaction_views import Shown
from widgets.pinned_extent import pinned_top
from widgets.plots import PlotView, mkcolor, set_line, steady_top
from widgets.theme import Theme

STRATEGY_COLORS = {"tiered": 0, "drop_oldest": 5, "traditional": 1, "instant": 2}
"""Palette index per strategy, the same on every chart (none grey: pin A's ghosts are)."""
STRATEGY_MARKERS = {"tiered": "o", "drop_oldest": "t"}
"""A marker for each of the book's strategies, which run together just under the budget: markers
at staggered turns, a few per curve, keep both visible (the cookbook's two differ in color and
shape; markers on them too cost ~1.5 ms more per slider tick)."""
MARKS_PER_CURVE = 14
SAME = 0.9
"""Share of turns two strategies must agree on for the legend to say they coincide."""


def coincides(a: np.ndarray, b: np.ndarray) -> float:
    """Return the share of turns on which two in-window series are equal."""
    return float(np.mean(a == b)) if a.size and a.size == b.size else 0.0


@dataclass(frozen=True, slots=True)
class CompactionOutput:
    """The lab's result and the strategy view it shows."""

    result: compaction.Result
    view: Shown
    note: str = ""


def live_series(events: list[dict[str, Any]], prices: dict[str, float]) -> dict[str, np.ndarray]:
    """Per live reply: its turn, tokens in the window, the wait before it, cumulative dollars."""
    turns, tokens, waits, cost = [], [], [], []
    spent, pending_wait = 0.0, 0.0
    for e in events:
        if "usage" in e:
            u = e["usage"]
            billed_in = u["input"] + CACHE_READ * u["cache_read"] + CACHE_WRITE * u["cache_creation"]
            spent += (prices["input"] * billed_in + prices["output"] * u["output"]) / 1e6
        if e["kind"] == "swap":
            pending_wait += e["wait_s"]
        if e["kind"] == "reply":
            turns.append(e["turn"])
            tokens.append(e["context_tokens"])
            waits.append(pending_wait)
            cost.append(spent)
            pending_wait = 0.0
    return {"turn": np.array(turns, dtype=np.int64), "tokens": np.array(tokens, dtype=float),
            "wait": np.array(waits, dtype=float), "cost": np.array(cost, dtype=float)}


class CompactionPlots:
    """Items made once; a dragged budget or threshold replaces their data."""

    def __init__(self, view: PlotView, on_budget: Callable[[float], None],
                 on_soft: Callable[[float], None]) -> None:
        self.window = view.addPlot(row=0, col=0, colspan=2, title="Tokens in the window after each turn")
        self.window.setLabel("bottom", "turn")
        self.window.setLabel("left", "tokens")
        self.legend = self.window.addLegend(offset=(10, 5))
        self.legend.setColumnCount(3)  # two short rows, clear of the soft threshold's label
        # legend entries carry line and marker; the curves and their sparse markers are unnamed
        self.keys = {name: pg.PlotDataItem(symbol=STRATEGY_MARKERS.get(name), symbolSize=8)
                     for name in STRATEGY_COLORS}
        for name, key in self.keys.items():
            self.legend.addItem(key, name)
        self._key_text = dict.fromkeys(STRATEGY_COLORS, "")
        self.curves = {name: self.window.plot() for name in STRATEGY_COLORS}
        self.markers = {name: pg.ScatterPlotItem(symbol=symbol, size=8)
                        for name, symbol in STRATEGY_MARKERS.items()}
        for scatter in self.markers.values():
            self.window.addItem(scatter)
        self.live = self.window.plot(symbol="o", symbolSize=5)  # in the legends only with a live run
        # compaction points as short ticks above the curve: one segment list, cheap to replace
        # on every tick (a scatter of hundreds of symbols costs more than all the curves)
        self.marks = pg.PlotCurveItem(connect="pairs", skipFiniteCheck=True)
        self.window.addItem(self.marks)
        self.budget = pg.InfiniteLine(angle=0, movable=True, label="budget {value:.0f}",
                                      labelOpts={"position": 0.06, "movable": False})
        self.soft = pg.InfiniteLine(angle=0, movable=True, label="soft threshold {value:.0f}",
                                    labelOpts={"position": 0.3, "movable": False})
        self.budget.sigDragged.connect(lambda line: on_budget(float(line.value())))
        self.soft.sigDragged.connect(lambda line: on_soft(float(line.value())))
        self.window.addItem(self.budget)
        self.window.addItem(self.soft)
        for line in (self.budget, self.soft):
            line.setZValue(-1)  # behind the curves that run along the budget

        self.wait = view.addPlot(row=1, col=0, title="User waits for compaction")
        self.wait.setLabel("bottom", "turn")
        self.wait.setLabel("left", "seconds")
        wait_legend = self.wait.addLegend(offset=(10, 5))
        self.waits = {name: self.wait.plot(name=name) for name in ("traditional", "instant")}
        self.wait_live = self.wait.plot(symbol="o", symbolSize=5, pen=None)
        # the uncached runs are the same colors faded, said once in the title: four legend lines
        # (five with a pin) ran off the bottom of this ~100 px chart at 1280x720
        self.cost = view.addPlot(row=1, col=1, title="Cumulative cost (faded: no prompt cache)")
        self.cost.setLabel("bottom", "turn")
        self.cost.setLabel("left", "dollars")
        cost_legend = self.cost.addLegend(offset=(10, 5))
        self.costs = {(kind, cached): self.cost.plot(name=kind if cached else None)
                      for kind in ("traditional", "instant") for cached in (True, False)}
        self.cost_live = self.cost.plot(symbol="o", symbolSize=5)
        # a legend line for the live run only while there is one: at 1280x720 the cost chart is
        # ~90 px tall, and a fifth line for a series not drawn pushed its legend off the bottom
        self._live_keys = ((self.legend, self.live), (wait_legend, self.wait_live),
                           (cost_legend, self.cost_live))
        self._live_keyed = False
        for plot in (self.window, self.wait, self.cost):
            plot.getAxis("left").setWidth(60)
        self.cost.getAxis("left").enableAutoSIPrefix(False)
        # long transcripts: at most ~2 points per pixel column are drawn (peaks kept)
        for curve in [*self.curves.values(), *self.costs.values()]:
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        view.ci.layout.setRowStretchFactor(0, 3)
        view.ci.layout.setRowStretchFactor(1, 2)
        self._top = 0.0
        self._n = -1
        self._wait_top = self._cost_top = 0.0
        for plot in (self.window, self.wait, self.cost):
            plot.disableAutoRange()  # steady ranges, set below: no re-ranging (and repaint) per tick

    def restyle(self, theme: Theme) -> None:
        """Set every pen once per theme (a pen per setData re-renders the legends each tick)."""
        for name, curve in self.curves.items():
            width = 1  # 1-pixel pens: wider ones cost several ms per paint over 2,000 points
            color = theme.color(STRATEGY_COLORS[name])
            curve.setPen(pg.mkPen(color, width=width))
            if name in self.markers:
                self.markers[name].setPen(pg.mkPen(theme.background, width=1))
                self.markers[name].setBrush(pg.mkBrush(color))
            self.keys[name].setPen(pg.mkPen(color, width=2))
            self.keys[name].setSymbolBrush(pg.mkBrush(color))
            self.keys[name].setSymbolPen(pg.mkPen(theme.background, width=1))
        live = theme.color(STRATEGY_COLORS["instant"])
        self.live.setPen(pg.mkPen(live, width=1, style=Qt.PenStyle.DashLine))
        self.live.setSymbolBrush(mkcolor(live))
        self.marks.setPen(pg.mkPen(theme.accent, width=2))
        self.budget.setPen(pg.mkPen(theme.accent, width=2))
        self.soft.setPen(pg.mkPen(theme.muted, width=2, style=Qt.PenStyle.DashLine))
        for line in (self.budget, self.soft):
            line.label.setColor(theme.foreground)
        for name, curve in self.waits.items():
            curve.setPen(pg.mkPen(theme.color(STRATEGY_COLORS[name]), width=1))
        self.wait_live.setSymbolBrush(mkcolor(live))
        for (kind, cached), curve in self.costs.items():
            # uncached: the same color, faded (dashed pens over 2,000 points cost ~2 ms a paint)
            shade = mkcolor(theme.color(STRATEGY_COLORS[kind]), 255 if cached else 110)
            curve.setPen(pg.mkPen(shade, width=1))
        self.cost_live.setPen(pg.mkPen(live, width=1, style=Qt.PenStyle.DotLine))
        self.cost_live.setSymbolBrush(mkcolor(live))

    def update(self, out: CompactionOutput, live: dict[str, np.ndarray] | None) -> None:
        """Draw the four strategies, the shown one's compaction marks, and the live run if any."""
        res, p = out.result, out.result.params
        n = len(p.turns)
        turns = np.arange(n)
        windows = {name: res.book[name].in_window if name in res.book else res.cookbook[name].in_window
                   for name in self.curves}
        step = max(1, n // MARKS_PER_CURVE)
        for i, (name, curve) in enumerate(self.curves.items()):
            curve.setData(turns, windows[name])
            if name in self.markers:
                at = np.arange(i * step // len(self.markers), n, step)
                self.markers[name].setData(at, windows[name][at])
        self._update_keys(windows)
        set_line(self.budget, float(p.budget))
        set_line(self.soft, float(p.soft))
        every = [r.in_window for r in res.book.values()] + [t.in_window for t in res.cookbook.values()]
        peak = max(int(counts.max(initial=0)) for counts in every)
        top = steady_top(self._top, max(peak, p.budget, p.soft, pinned_top(self.window)) * 1.1)
        if top != self._top or n != self._n:
            self._top, self._n = top, n
            self.window.setRange(xRange=(0, max(n - 1, 1)), yRange=(0, top), padding=0.02)
            # the same turns on every chart (setXLink would align them by screen position instead)
            for plot in (self.wait, self.cost):
                plot.setXRange(0, max(n - 1, 1), padding=0.02)
        # after the range: a tick is 5% of this draw's axis, not of the one before the move
        marks = np.array(sorted(out.view.marks), dtype=np.int64)
        series = res.book[p.shown].in_window if p.shown in res.book else res.cookbook[p.shown].in_window
        tick = max(self._top, 1.0) * 0.05
        ys = series[marks].astype(float) if marks.size else np.zeros(0)
        self.marks.setData(np.repeat(marks, 2).astype(float), np.column_stack([ys, ys + tick]).ravel())
        longest = max(float(res.cookbook[k].wait_s.max(initial=0)) for k in self.waits)
        wait_top = steady_top(self._wait_top, max(longest, pinned_top(self.wait)))
        cost_top = steady_top(self._cost_top, max(max(float(tr.cost[-1]) for tr in res.cookbook.values()),
                                                  pinned_top(self.cost)))
        if (wait_top, cost_top) != (self._wait_top, self._cost_top):
            self._wait_top, self._cost_top = wait_top, cost_top
            self.wait.setYRange(0, wait_top * 1.05, padding=0)
            self.cost.setYRange(0, cost_top * 1.05, padding=0)
        for name, curve in self.waits.items():
            tr = res.cookbook[name]
            hit = np.flatnonzero(tr.wait_s > 0)
            xs = np.repeat(hit, 2).astype(float)
            ys = np.column_stack([np.zeros(hit.size), tr.wait_s[hit]]).ravel()
            curve.setData(xs, ys, connect="pairs")
        for (kind, cached), curve in self.costs.items():
            curve.setData(turns, res.simulated(kind, cached).cost)
        self._update_live(live)

    def _update_keys(self, series: dict[str, np.ndarray]) -> None:
        """Say in the legend which strategy runs on top of an earlier one."""
        names = list(series)
        for i, name in enumerate(names):
            text = name
            for other in names[:i]:
                share = coincides(series[name], series[other])
                if share >= SAME:
                    text = f"{name} (= {other} on {share:.0%} of turns)"
                    break
            if text != self._key_text[name]:
                self._key_text[name] = text
                label = self.legend.getLabel(self.keys[name])
                if label is not None:
                    label.setText(text)

    def _update_live(self, live: dict[str, np.ndarray] | None) -> None:
        empty = np.zeros(0)
        running = live is not None and bool(live["turn"].size)
        if running != self._live_keyed:
            self._live_keyed = running
            for legend, item in self._live_keys:
                if running:
                    legend.addItem(item, "instant (live)")
                else:
                    legend.removeItem(item)
        if live is None or not running:
            for item in (self.live, self.wait_live, self.cost_live):
                item.setData(empty, empty)
            return
        self.live.setData(live["turn"], live["tokens"])
        self.wait_live.setData(live["turn"], live["wait"])
        self.cost_live.setData(live["turn"], live["cost"])
