"""The agent-memory panel's charts and views, made once and then updated.

Growth (history tokens against injected top-k tokens after every turn), tokens against k with
the point where the relevant facts are all in, the two token counts side by side, the chat
with fact chips, and the store table with the top-k rows lit.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from core import agent_memory as am
from core.agent_memory_rules import Change, key
from widgets.pinned_extent import pinned_end
from widgets.plots import (
    PlotView,
    budget_line,
    cache_pixmaps,
    mkcolor,
    set_category_ticks,
    set_line,
    steady_top,
)
from widgets.procedural_learning_plots import style_line
from widgets.theme import Theme, readable

CHAT_TURNS = 60
"""The chat view shows the last turns up to the scrubber (every turn is counted)."""
TABLE_ROWS = 200
ADDED, UPDATED, MISSED = "#237a23", "#a35a00", "#6e6e6e"  # white text on them reads (AA)


class MemoryPlots:
    """Growth, k sweep and token bars; ``on_until`` / ``on_k`` get dragged values."""

    def __init__(self, view: PlotView, on_until: Callable[[float], None],
                 on_k: Callable[[float], None]) -> None:
        self.growth = view.addPlot(row=0, col=0, colspan=2,
                                   title="Tokens sent after each turn (× a user turn with no fact)")
        self.growth.setLabel("bottom", "turns so far")
        self.growth.setLabel("left", "tokens")
        self.growth.setMouseEnabled(x=False, y=False)
        self.growth.addLegend(offset=(10, 2), labelTextSize="8pt", verSpacing=-6)
        self.history = self.growth.plot(name="full history")
        self.topk = self.growth.plot(name="injected top-k facts")
        cache_pixmaps(self.history, self.topk)  # they change with the conversation or k, not the scrubber
        self.missed = pg.ScatterPlotItem(symbol="x", size=8)
        self.growth.addItem(self.missed)
        self.until_line = budget_line(self.growth, on_until, label="now")
        self.ksweep = view.addPlot(row=1, col=0, title="Injected tokens against k")
        self.ksweep.setLabel("bottom", "k (facts injected)")
        self.ksweep.setLabel("left", "tokens")
        self.ksweep.setMouseEnabled(x=False, y=False)
        self.kcurve = self.ksweep.plot()
        # the star's note is in the title: on a chart this small no spot inside stays clear
        self.relevant = pg.ScatterPlotItem(symbol="star", size=16, pen=None, brush=mkcolor(ADDED))
        self.ksweep.addItem(self.relevant)
        self.k_line = budget_line(self.ksweep, on_k, label="k")
        self.bars_plot = view.addPlot(row=1, col=1, title="Tokens now")
        self.bars_plot.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=np.arange(2), height=np.zeros(2), width=0.6)
        self.bars_plot.addItem(self.bars)
        self.bar_labels = [pg.TextItem(anchor=(0.5, 1.0)) for _ in range(2)]
        for label in self.bar_labels:
            self.bars_plot.addItem(label)
        set_category_ticks(self.bars_plot.getAxis("bottom"), ["full history", "top-k facts"])
        self.bars_plot.setXRange(-0.6, 1.6, padding=0)
        self._fitted: str | None = None
        self._growth_for: object = None
        self._k_drawn: object = None
        self._bars_drawn: object = None

    def fit_axes(self, theme: Theme) -> None:
        """Give bottom axes room for their tick text and label at the theme's font size."""
        font = QFont()
        font.setPointSize(theme.font_pt)
        height = QFontMetrics(font).height()
        for plot in (self.growth, self.ksweep, self.bars_plot):
            axis = plot.getAxis("bottom")
            axis.setHeight(height + 12 + (height if axis.labelText else 0))
        small = QFont()
        small.setPointSize(max(theme.font_pt - 1, 8))
        for label in self.bar_labels:
            label.setFont(small)
        self._fitted = theme.name

    def update(self, res: am.Result, theme: Theme, force: bool = False) -> None:
        """Draw ``res``; the growth curves change only with the conversation or k."""
        if force or self._fitted != theme.name:
            self.fit_axes(theme)
            self._k_drawn = None
            self._bars_drawn = None
        g = res.growth
        if force or g is not self._growth_for:
            self._update_growth(res, theme)
            self._growth_for = g
        set_line(self.until_line, float(res.params.shown))
        style_line(self.until_line, theme)
        self._update_ksweep(res, theme)
        self._update_bars(res, theme)

    def _update_growth(self, res: am.Result, theme: Theme) -> None:
        g = res.growth
        x = g["turns"]
        self.history.setData(x, g["history_tokens"], pen=pg.mkPen(theme.muted, width=theme.line_width))
        self.topk.setData(x, g["topk_tokens"], pen=pg.mkPen(theme.color(0), width=theme.line_width))
        missed = np.asarray(res.prepared.missed, dtype=np.int64) + 1
        self.missed.setData(missed, np.zeros(missed.size), pen=pg.mkPen(MISSED, width=2), brush=None)
        top = float(g["history_tokens"][-1]) if x.size else 1.0
        self.growth.setRange(xRange=(0, max(float(x.size), 1.0)), yRange=(0, max(top, 1.0) * 1.08),
                             padding=0.01)

    def _update_ksweep(self, res: am.Result, theme: Theme) -> None:
        kt = res.k_tokens
        rk = res.relevant_k
        key = (kt.tobytes(), rk, theme.name)
        if key != self._k_drawn:  # a scrub often leaves the store (and this curve) as it was
            self._k_drawn = key
            self._draw_kcurve(res, theme)
        set_line(self.k_line, float(min(res.params.k, max(kt.size - 1, 0))))
        style_line(self.k_line, theme)

    def _draw_kcurve(self, res: am.Result, theme: Theme) -> None:
        kt, rk = res.k_tokens, res.relevant_k
        self.kcurve.setData(np.arange(kt.size), kt, pen=pg.mkPen(theme.color(0), width=theme.line_width),
                            symbol="o", symbolSize=6, symbolBrush=theme.color(0), symbolPen=None)
        star = f"<span style='color:{ADDED}'>★</span>"
        if rk is not None and rk < kt.size:
            self.relevant.setData([rk], [kt[rk]])
            note = f"{star} every matching fact in at k={rk}"
        else:
            self.relevant.setData([], [])
            note = "no fact matches the question"
        self.ksweep.setTitle(f"Injected tokens against k: {note}", color=theme.foreground,
                             size=f"{theme.title_pt}pt")
        (_x0, x1), (_y0, y1) = self.ksweep.viewRange()
        xt, yt = max(float(kt.size - 1), 1.0), steady_top(y1, float(kt.max(initial=0)) * 1.25)
        if (xt + 0.5, yt) != (x1, y1):
            self.ksweep.setRange(xRange=(-0.5, xt + 0.5), yRange=(0, yt), padding=0)

    def _update_bars(self, res: am.Result, theme: Theme) -> None:
        values = [res.history_tokens, res.topk_tokens]
        pinned = pinned_end(self.bars_plot, "y1")  # a pinned bar's top stays in view
        if (values, pinned, theme.name) == self._bars_drawn:  # a scrub that moved neither total
            return
        self._bars_drawn = (values, pinned, theme.name)
        self.bars.setOpts(height=values, brushes=[mkcolor(theme.muted), mkcolor(theme.color(0))],
                          pens=[pg.mkPen(None)] * 2)
        for i, (label, v) in enumerate(zip(self.bar_labels, values, strict=True)):
            share = f" ({v / max(values[0], 1):.0%})" if i else ""
            label.setText(f"{v:,}{share}", color=theme.foreground)
            label.setPos(i, v)
        (_x0, _x1), (_y0, y1) = self.bars_plot.viewRange()
        top = steady_top(y1, max(values[0], 1, pinned) * 1.25)
        if top != y1:
            self.bars_plot.setYRange(0, top, padding=0)


def chat_html(res: am.Result, theme: Theme) -> str:
    """Return the chat up to the scrubber with a chip per extracted fact (the last turns)."""
    p, shown = res.params, res.params.shown
    first = max(0, shown - CHAT_TURNS)
    by_turn: dict[int, list[str]] = {}
    for i, _pattern, c in res.prepared.changes:
        if first <= i < shown:
            by_turn.setdefault(i, []).append(_chip(c))
    missed = set(res.prepared.missed)
    out = [f"<p style='color:{theme.muted}'><i>… {first:,} earlier turns (counted, not shown)</i></p>"
           if first else ""]
    for i in range(first, shown):
        turn = p.turns[i]
        color = theme.foreground if turn.role == "user" else theme.muted
        chips = " ".join(by_turn.get(i, []))
        if turn.role == "user" and i in missed:
            missed_color = readable(MISSED, theme.background)
            chips = f"<span style='color:{missed_color}'><i>⊘ no fact extracted</i></span>"
        out.append(f"<p style='margin:2px'><b style='color:{color}'>{turn.role}:</b> "
                   f"<span style='color:{color}'>{html.escape(turn.text)}</span>"
                   + (f"<br>&nbsp;&nbsp;{chips}" if chips else "") + "</p>")
    out.append(_updates_html(res, theme))
    return f"<div style='color:{theme.foreground}'>" + "".join(out) + "</div>"


def _chip(c: object) -> str:
    assert isinstance(c, Change)
    key = html.escape(c.key.strip())
    if c.status == "updated":
        old = html.escape(c.old or "")
        return (f"<span style='background:{UPDATED};color:white'>&nbsp;↻ {html.escape(c.fact)}&nbsp;</span>"
                f" <s>{old}</s> <small>(same key “{key}”)</small>")
    return (f"<span style='background:{ADDED};color:white'>&nbsp;+ {html.escape(c.fact)}&nbsp;</span>"
            f" <small>key “{key}”</small>")


def _updates_html(res: am.Result, theme: Theme) -> str:
    up = res.update
    if not up["events"]:
        return ""
    rows = []
    for e in up["events"]:
        said = html.escape(e["utterance"])
        if e["status"] == "missed":
            rows.append(f"“{said}” <span style='color:{readable(MISSED, theme.background)}'>"
                        "<i>⊘ no fact extracted</i></span>")
        else:
            rows.append(f"“{said}” → {_chip(Change(e['fact'], key(e['fact']), e['status'], e['old']))}")
    before = html.escape(str(up["before_best"]))
    after = html.escape(str(up["after_best"]))
    return (f"<hr><b>Corrections</b> (then “{html.escape(up['query'])}”: before <i>{before}</i>, "
            f"after <i>{after}</i>)<br>" + "<br>".join(rows))


def fill_table(table: QTableWidget, res: am.Result, theme: Theme) -> None:
    """Show the store (key, fact, score), best first; the injected rows lit."""
    order = res.order[:TABLE_ROWS]
    table.setRowCount(order.size)
    lit = QColor(theme.color(0))
    lit.setAlpha(60)
    for row, i in enumerate(order.tolist()):
        fact = res.facts[i]
        cells = (key(fact).strip(), fact, f"{res.scores[i]:.3f}")
        for col, text in enumerate(cells):
            item = table.item(row, col)
            if item is None:
                item = QTableWidgetItem()
                table.setItem(row, col, item)
            item.setText(text)
            item.setBackground(lit if row < res.params.k else QColor(0, 0, 0, 0))
