"""Plot items and the marked-up reply of the output-shaping panel (created once, then updated)."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QBrush, QFont, QFontMetrics

from core import output_shaping as osh
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
from widgets.theme import Theme, readable

SHAPERS = ("verbose", "terse", "schema", "cap")
CUT_COLOR = "#d62728"


def shaper_colors(theme: Theme, cap_kept: bool) -> list[str]:
    """Colors of the four bars: the verbose baseline muted, the cap red when it cut the answer."""
    return [theme.muted, theme.color(0), theme.color(1), theme.color(2) if cap_kept else CUT_COLOR]


def money(value: float) -> str:
    """Dollars as a slide shows them: cents below $1,000, whole dollars above."""
    return f"${value:,.2f}" if abs(value) < 1000 else f"${value:,.0f}"


def marked_html(res: osh.Result, theme: Theme) -> str:
    """Return the reply as rich text: lines terse drops shaded, ✂ at the cap, the answer underlined."""
    cut = res.cap.kept_words if res.cap.kept_words is not None else 0
    shade = mkcolor(theme.muted, 60).name(mkcolor(theme.muted).NameFormat.HexArgb)
    out, index = [], 0
    for text, filler in res.lines:
        words = []
        for word in text.split():
            piece = html.escape(word)
            if index == res.answer_word:
                piece = f"<b><u>{piece}</u></b>"
            if index == cut:
                words.append(f"<span style='color:{readable(CUT_COLOR, theme.background)}'><b>✂</b></span>")
            if index >= cut:
                piece = f"<span style='color:{theme.muted}'><s>{piece}</s></span>"
            words.append(piece)
            index += 1
        line = " ".join(words) or "&nbsp;"
        if filler is not None:
            why = f"filler “{html.escape(filler)}”" if filler else "blank"
            line = (f"<span style='background:{shade}'>{line}</span> "
                    f"<span style='color:{theme.muted}'><i>— terse drops ({why})</i></span>")
        out.append(line)
    schema = html.escape(res.schema.text)
    return (f"<div style='color:{theme.foreground}'>{'<br>'.join(out)}"
            f"<hr><b>schema</b> <code>{schema}</code></div>")


def label_font(theme: Theme) -> QFont:
    """Return the font of value and line labels: the axes' size, so a slide can read them."""
    font = QFont()
    font.setPointSize(theme.font_pt)
    return font


def fit_axes(plots: Sequence[pg.PlotItem], theme: Theme) -> None:
    """Give bottom axes room for one line of tick text at the theme's size (slides clip it)."""
    height = QFontMetrics(label_font(theme)).height()
    for plot in plots:
        plot.getAxis("bottom").setHeight(height + 12 + (height if plot.getAxis("bottom").labelText else 0))


def _bars(plot: pg.PlotItem, n: int) -> pg.BarGraphItem:
    bars = pg.BarGraphItem(x=np.arange(n), height=np.zeros(n), width=0.6)
    plot.addItem(bars)
    plot.setMouseEnabled(x=False, y=False)
    plot.setXRange(-0.6, n - 0.4, padding=0)
    plot.setYRange(0, 1, padding=0)
    plot.hideButtons()
    return bars


class ShapingPlots:
    """Bars of tokens (dollars on the right axis), the cap sweep, the imported replies' charts."""

    def __init__(self, view: PlotView, on_cap_drag: Callable[[float], None]) -> None:
        self.view = view
        self.tok = view.addPlot(row=0, col=0, title="Output tokens per call, and their cost")
        self.tok.showAxis("right")
        self.tok.setLabel("left", "tokens per call")
        self.sweep = view.addPlot(row=1, col=0,
                                  title="max_tokens cap: tokens kept (shaded: answer survives)")
        # the replies' charts join the grid only once replies are imported
        self.dist = pg.PlotItem(title="Your replies: tokens each")
        self.cut = pg.PlotItem(title="Your replies: answers cut off")
        self.tok_bars = _bars(self.tok, 4)
        self.measured = pg.ScatterPlotItem(size=14, symbol="d")
        self.tok.addItem(self.measured)
        self.measured_labels: list[pg.TextItem] = []
        self.measured_top = 0.0
        for plot in (self.tok, self.dist):
            set_category_ticks(plot.getAxis("bottom"), SHAPERS)
        self.tok_labels: list[pg.TextItem] = []
        self.dist.setXRange(-0.6, 3.4, padding=0)
        self.dist.setMouseEnabled(x=False, y=True)
        self.dots = pg.ScatterPlotItem(size=6, pen=None)
        self.medians = pg.PlotDataItem(connect="pairs")
        self.dist.addItem(self.dots)
        self.dist.addItem(self.medians)
        self.sweep.setLabel("bottom", "max_tokens cap")
        self.sweep.setLabel("left", "output tokens")
        self.region = pg.LinearRegionItem(movable=False)
        self.sweep.addItem(self.region)
        self.step = self.sweep.plot()
        self.terse_ref = pg.InfiniteLine(angle=0, movable=False)
        self.schema_ref = pg.InfiniteLine(angle=0, movable=False)
        # labels at the right end, above their lines: the step curve is high there
        self.ref_labels = [pg.TextItem(anchor=(1, 1)), pg.TextItem(anchor=(1, 1))]
        for item in (self.terse_ref, self.schema_ref, *self.ref_labels):
            self.sweep.addItem(item)
        self.cap_line = budget_line(self.sweep, on_cap_drag, label="cap")
        self.cut.setLabel("bottom", "max_tokens cap")
        self.cut_curve = self.cut.plot()
        self.cut_line = pg.InfiniteLine(angle=90, movable=False)
        self.cut.addItem(self.cut_line)
        self._drawn_prepared: object = None

    # ---- per tick -----------------------------------------------------------------------------
    def update(self, res: osh.Result, theme: Theme, prepared: object, force: bool = False) -> None:
        """Redraw for ``res``; the sweep and the distribution only when ``prepared`` changed."""
        colors = shaper_colors(theme, res.cap.answer_kept)
        tokens = [res.baseline_tokens, res.terse.tokens, res.schema.tokens, res.cap.tokens]
        dollars = [float(res.dollars(t)) for t in tokens]
        self._bars(self.tok, self.tok_bars, self.tok_labels, tokens, colors, theme,
                   [f"{t:,}\n{money(d)}" for t, d in zip(tokens, dollars, strict=True)])
        # the right axis reads the same bars in dollars for the whole workload
        per_token = float(res.dollars(1))
        right = self.tok.getAxis("right")
        if right.scale != per_token:
            right.setScale(per_token)
            right.setLabel(f"$ for {res.n_calls:,} calls", color=theme.foreground)
        cap = float(res.cap.cap or 0)
        set_line(self.cap_line, cap)
        text = f"cap {int(cap)}" + ("" if res.cap.answer_kept else ": answer cut")
        if self.cap_line.label.format != text:  # a new text re-lays out the label
            self.cap_line.label.setFormat(text)
        set_line(self.cut_line, cap)
        if force or prepared is not self._drawn_prepared:
            self._drawn_prepared = prepared
            self._fonts(theme)
            self._sweep(res, theme)
            self._replies(res, theme)
        color = theme.accent if res.cap.answer_kept else CUT_COLOR
        pen = pg.mkPen(color, width=2)
        if self.cap_line.pen != pen:
            self.cap_line.setPen(pen)
        if self.cap_line.label.color != mkcolor(color):  # a theme restyles the label too
            self.cap_line.label.setColor(color)

    def show_measured(self, loose: int, stacked: int, theme: Theme) -> None:
        """Mark the live run's measured output tokens on the verbose and schema bars."""
        self.measured.setData([0, 2], [loose, stacked], brush=mkcolor(theme.foreground), pen=None)
        place_labels(self.tok, self.measured_labels,
                     [(f"live {loose:,}", 0.32, float(loose)), (f"live {stacked:,}", 2.32, float(stacked))],
                     (0, 0.5), theme.foreground)
        self.measured_top = float(max(loose, stacked))
        self.tok.setYRange(0, max(float(self.tok.viewRange()[1][1]), self.measured_top * 1.3), padding=0)

    def _fonts(self, theme: Theme) -> None:
        font = label_font(theme)
        self.cap_line.label.setFont(font)
        fit_axes((self.tok, self.sweep, self.dist, self.cut), theme)

    def _bars(self, plot: pg.PlotItem, bars: pg.BarGraphItem, pool: list[pg.TextItem],
              values: Sequence[float], colors: Sequence[str], theme: Theme, texts: Sequence[str]) -> None:
        heights = np.asarray(values, dtype=float)
        bars.setOpts(height=heights, brushes=[mkcolor(c) for c in colors],
                     pens=[pg.mkPen(None)] * len(colors))
        if len(pool) != len(texts):
            place_labels(plot, pool, [(t, i, v) for i, (t, v) in enumerate(zip(texts, heights, strict=True))],
                         (0.5, 1.0), theme.foreground)
        font = label_font(theme)
        for i, (label, text, v) in enumerate(zip(pool, texts, heights, strict=True)):
            if label.textItem.toPlainText() != text or label.color != mkcolor(theme.foreground):
                label.setText(text, color=theme.foreground)  # only the cap's label moves on a drag
            if label.textItem.font() != font:
                label.setFont(font)
            if label.pos().y() != v:
                label.setPos(i, v)
        # the tallest bar is the verbose reply, which a cap drag never changes: no axis jumps
        top = max(float(heights.max(initial=0)) * 1.5, 1e-9)  # room for two-line labels
        if plot is self.tok:
            top = max(top, self.measured_top * 1.3)
        if abs(top - plot.viewRange()[1][1]) > 1e-9 * top:
            plot.setYRange(0, top, padding=0)

    # ---- when the reply or the replies change ---------------------------------------------------
    def _sweep(self, res: osh.Result, theme: Theme) -> None:
        caps, toks = res.sweep_caps, res.sweep_tokens
        self.step.setData(caps, toks, pen=pg.mkPen(theme.color(2), width=theme.line_width))
        kept = caps[res.sweep_kept]
        self.region.setVisible(kept.size > 0)
        if kept.size:
            self.region.setRegion((float(kept.min()), float(caps.max())))
        self.region.setBrush(mkcolor(theme.color(2), 45))
        for edge in self.region.lines:
            edge.setPen(pg.mkPen(mkcolor(theme.color(2), 90)))
        top = float(max(caps.max(initial=1), 1))
        refs = ((self.terse_ref, res.terse.tokens, "terse", theme.color(0)),
                (self.schema_ref, res.schema.tokens, "schema", theme.color(1)))
        for (line, value, name, color), label in zip(refs, self.ref_labels, strict=True):
            line.setValue(value)
            line.setPen(pg.mkPen(color, width=2, style=pg.QtCore.Qt.PenStyle.DashLine))
            label.setText(f"{name} {value:,}", color=color)
            label.setFont(label_font(theme))
            label.setPos(top, value)
        self.sweep.setRange(xRange=(0, top), yRange=(0, max(float(toks.max(initial=1)), 1) * 1.1),
                            padding=0.02)

    def _show_replies(self, on: bool, theme: Theme) -> None:
        shown = self.dist in self.view.ci.items
        if on and not shown:
            self.view.addItem(self.dist, row=0, col=1)
            self.view.addItem(self.cut, row=1, col=1)
        elif shown and not on:
            self.view.removeItem(self.dist)
            self.view.removeItem(self.cut)
        if on:
            style_plot(self.dist, theme)
            style_plot(self.cut, theme)
        if on != shown:  # the grid's items changed: let it reflow from the new grid
            self.view.reflow = Reflow(self.view.ci)
            self.view.refit()

    def _replies(self, res: osh.Result, theme: Theme) -> None:
        b = res.batch
        self._show_replies(b is not None, theme)
        if b is None:
            return
        cols = (b.baseline, b.terse, b.schema, b.cap)
        jitter = (np.arange(b.baseline.size) * 0.618) % 1.0 * 0.5 - 0.25
        xs = np.concatenate([i + jitter for i in range(4)])
        ys = np.concatenate(cols).astype(float)
        # one brush object per column: the symbol cache knows a brush by its identity, and a
        # brush per reply rendered 8,000 symbols (seconds) for 2,000 replies
        brushes = [QBrush(mkcolor(c, 150)) for c in shaper_colors(theme, True)]
        self.dots.setData(xs, ys, brush=[br for br in brushes for _ in range(b.baseline.size)])
        med = [float(np.median(c)) for c in cols]
        self.medians.setData(np.ravel([[i - 0.35, i + 0.35] for i in range(4)]), np.repeat(med, 2),
                             pen=pg.mkPen(theme.foreground, width=3))
        self.dist.setYRange(0, max(float(ys.max(initial=1)), 1) * 1.1, padding=0)
        self.dist.setTitle(f"Your {b.baseline.size:,} replies: tokens each (bar: median)",
                           color=theme.foreground, size=f"{theme.title_pt}pt")
        top = int(max(b.baseline.max(initial=0), res.sweep_caps.max(initial=0), 1))
        caps = np.arange(top + 1, dtype=np.int64)
        cut = b.cut_at(caps)
        self.cut_curve.setData(caps, cut, pen=pg.mkPen(CUT_COLOR, width=theme.line_width))
        self.cut.setRange(xRange=(0, float(top)),
                          yRange=(0, max(int(cut.max(initial=1)), 1) * 1.1), padding=0.02)
        self.cut_line.setPen(pg.mkPen(theme.accent))
