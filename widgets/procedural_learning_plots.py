"""Plot items of the procedural-learning panel: tag histogram, file diff, held-out marks, curve.

Every item is created once in :class:`LearningPlots`; ``update`` only sets data, texts and
ranges, so a threshold drag redraws without re-creating anything.
"""

from __future__ import annotations

import html
import textwrap
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QGraphicsItem

from core import procedural_learning as pl
from widgets.plots import (
    PlotView,
    cache_pixmaps,
    mkcolor,
    place_labels,
    set_category_ticks,
    set_line,
    steady_top,
)
from widgets.theme import Theme

MAX_BARS = 16
"""Most tags drawn in the histogram (the rest are counted in the title)."""
MAX_ROWS = 12
"""Most held-out tags drawn as rows of marks."""
MAX_MARKS = 30
"""Most marks in one held-out row (the rest are counted at the row's end)."""
_TAG_CHARS = 24
"""Longest tag shown whole on an axis (the sample's longest is 23: at 18, five of its twelve
were cut, even on a 1920x1080 slide)."""


def short(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _threshold_line(plot: pg.PlotItem, on_drag: Callable[[float], None]) -> pg.InfiniteLine:
    line = pg.InfiniteLine(angle=90, movable=True, label="threshold {value:.0f}",
                           labelOpts={"position": 0.96, "movable": False})
    line.sigPositionChanged.connect(lambda item: on_drag(float(item.value())))
    plot.addItem(line)
    return line


def set_title(plot: pg.PlotItem, text: str) -> None:
    """Set a plot's title only when it changed (a new title re-lays out the whole grid)."""
    if plot.titleLabel.text != text:
        plot.setTitle(text)


def set_ticks(axis: pg.AxisItem, labels: list[str]) -> None:
    """Label positions 0..n-1 of ``axis`` only when the labels changed (ticks repaint the axis)."""
    if getattr(axis, "_ctxlab_labels", None) != labels:
        axis._ctxlab_labels = labels
        set_category_ticks(axis, labels)


def label_font(theme: Theme) -> QFont:
    """Return the font of in-chart labels: a little smaller than the axes (grows on slides)."""
    font = QFont()
    font.setPointSize(max(theme.font_pt - 2, 8))
    return font


def styled_labels(plot: pg.PlotItem, pool: list[pg.TextItem], items: list[tuple[str, float, float]],
                  anchor: tuple[float, float], theme: Theme) -> None:
    """:func:`~widgets.plots.place_labels` in the theme's label font.

    The same labels as last time are left alone: setting a text or a font re-lays it out,
    which a slider tick that changes no label should not pay for.
    """
    shown: dict[int, object] = plot.__dict__.setdefault("_ctxlab_shown_labels", {})
    key = (tuple(items), anchor, theme.foreground, theme.font_pt)
    if shown.get(id(pool)) == key and len(pool) >= len(items):
        return
    place_labels(plot, pool, items, anchor, theme.foreground)
    font = label_font(theme)
    for label in pool:
        if label.textItem.font() != font:
            label.setFont(font)
    shown[id(pool)] = key


def style_line(line: pg.InfiniteLine, theme: Theme) -> None:
    """Draw a draggable line in the theme's accent (its label is styled with the plot)."""
    pen = pg.mkPen(theme.accent, width=theme.line_width)
    if line.pen != pen:
        line.setPen(pen)


def set_label(plot: pg.PlotItem, side: str, text: str) -> None:
    """Set an axis label only when it changed (a new label re-lays out the axis)."""
    if plot.getAxis(side).labelText != text:
        plot.setLabel(side, text)


def set_bars(item: pg.BarGraphItem, brushes: list[Any], pens: list[Any], **opts: Any) -> None:
    """Set a bar item's data and per-bar colors; no bars at all is fine (pyqtgraph trips on it)."""
    if brushes:
        item.setOpts(brushes=brushes, pens=pens, **opts)
    else:
        item.setOpts(brush=None, pen=None, **opts)


def twin_axis(plot: pg.PlotItem, label: str) -> pg.ViewBox:
    """Give ``plot`` a right axis with its own y range; return the view box to add items to."""
    plot.showAxis("right")
    plot.setLabel("right", label)
    box = pg.ViewBox()
    plot.scene().addItem(box)
    plot.getAxis("right").linkToView(box)
    box.setXLink(plot)
    box.setMouseEnabled(x=False, y=False)
    plot.twin_box = box  # where a pin finds (and ghosts) the right axis's curves

    def follow() -> None:
        box.setGeometry(plot.vb.sceneBoundingRect())

    plot.vb.sigResized.connect(follow)
    return box


class LearningPlots:
    """The four plots of the panel; ``on_drag`` gets the threshold a line was dragged to."""

    def __init__(self, view: PlotView, on_drag: Callable[[float], None]) -> None:
        self.hist = view.addPlot(row=0, col=0, title="Failure tags in the training log")
        self.bars = pg.BarGraphItem(x0=[0], y=[0], height=0.7, width=[0])
        self.hist.addItem(self.bars)
        self.hist.invertY(True)
        self.hist.setLabel("bottom", "failures")
        self.hist_line = _threshold_line(self.hist, on_drag)
        self.rule_labels: list[pg.TextItem] = []
        self.hist.vb.sigResized.connect(self._refit_hist)

        self.diff = view.addPlot(row=0, col=1, title="Instruction file: before → after")
        for name in ("left", "bottom"):
            self.diff.hideAxis(name)
        self.diff.setMouseEnabled(x=False, y=False)
        self.diff.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.diff_text = pg.TextItem(anchor=(0, 0))
        self.diff.addItem(self.diff_text)
        self.diff_text.setPos(0, 1)
        self._diff_shown: tuple[str, int] | None = None
        self.diff.vb.sigResized.connect(self._layout_diff)

        self.held = view.addPlot(row=1, col=0, title="Held-out failures")
        self.caught_marks = pg.ScatterPlotItem(size=14, pxMode=True)
        self.missed_marks = pg.ScatterPlotItem(size=14, pxMode=True)
        self.held.addItem(self.caught_marks)
        self.held.addItem(self.missed_marks)
        self._held_key: object = None
        self._held_rows_for: pl.Prepared | None = None
        self._held_rows_cache: tuple[list[str], dict[str, int], dict[str, int]] = ([], {}, {})
        self.held.invertY(True)
        self.held.setLabel("bottom", "occurrence")
        self.more_labels: list[pg.TextItem] = []

        self.curve = view.addPlot(row=1, col=1, title="Prevented against rule tokens")
        self.curve.setLabel("bottom", "threshold")
        self.curve.setLabel("left", "failures prevented")
        self.prevented = pg.BarGraphItem(x=[0], height=[0], width=0.6)
        self.curve.addItem(self.prevented)
        self.tokens_vb = twin_axis(self.curve, "rule tokens per call")
        self.tokens_curve = pg.PlotDataItem(symbolSize=8)
        self._curve_key: object = None
        self.tokens_vb.addItem(self.tokens_curve)
        # the curve does not move with the threshold: repaint it from a cached pixmap
        self.prevented.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        cache_pixmaps(self.tokens_curve)
        self.curve_line = _threshold_line(self.curve, on_drag)
        for plot in (self.hist, self.held, self.curve):
            plot.setMouseEnabled(x=False, y=False)

    # ---- updates ------------------------------------------------------------------------------
    def update(self, res: pl.Result, theme: Theme) -> None:
        """Draw ``res`` in ``theme``."""
        self._update_hist(res, theme)
        style_line(self.hist_line, theme)
        set_line(self.hist_line, float(res.threshold))
        self._update_diff(res, theme)
        self._update_held(res, theme)
        self._update_curve(res, theme)

    def _update_hist(self, res: pl.Result, theme: Theme) -> None:
        self._hist_args = (res, theme)
        counts = res.prepared.tag_counts[:MAX_BARS]
        n = len(counts)
        rules = dict(zip(res.recurring, _rules_by_tag(res), strict=True))
        widths = np.array([c for _, c in counts], dtype=float)
        needed = max(float(widths.max(initial=0)), res.threshold) * 2.6 + 1
        x1 = steady_top(self.hist.viewRange()[0][1], needed)
        # a free row above the first bar holds the threshold line's label
        self.hist.setRange(xRange=(0, x1), yRange=(-1.5, max(n, 3) - 0.4), padding=0)
        metrics = QFontMetricsF(label_font(theme))
        px_per_unit = self.hist.vb.width() / x1 if x1 else 0.0
        brushes, labels = [], []
        for i, (tag, count) in enumerate(counts):
            room = int(0.85 * (x1 - count) * px_per_unit / metrics.averageCharWidth()) - 2
            if count < res.threshold:
                brushes.append(mkcolor(theme.muted, 140))
                continue
            text = rules.get(tag) or "(no rule text)"
            brushes.append(mkcolor(theme.color(2) if rules.get(tag) else theme.color(1)))
            if room >= 6:
                labels.append((" " + short(text, room), float(count), float(i)))
        set_bars(self.bars, brushes, [pg.mkPen(None)] * n, x0=np.zeros(n),
                 y=np.arange(n, dtype=float), width=widths, height=0.7)
        set_ticks(self.hist.getAxis("left"), [short(t, _TAG_CHARS) for t, _ in counts])
        styled_labels(self.hist, self.rule_labels, labels, (0, 0.5), theme)
        more = len(res.prepared.tag_counts) - n
        set_title(self.hist, f"Failure tags ({res.prepared.n_train_failures} failures in "
                             f"{res.prepared.n_train} sessions" + (f"; {more} not shown)" if more else ")"))

    def _refit_hist(self) -> None:
        # labels only: moving the line here would report a stale threshold as a drag
        if hasattr(self, "_hist_args"):
            self._update_hist(*self._hist_args)

    def _update_diff(self, res: pl.Result, theme: Theme) -> None:
        before = res.before_file.split("\n")
        added = res.after_file.split("\n")[len(before):]
        rows = [("  " + ln, theme.muted, False) for ln in before]
        rows += [("+ " + ln, theme.color(2), True) for ln in added]
        if not added:
            rows.append(("  (no tag reaches the threshold: the file is unchanged)", theme.muted, False))
        self._diff_rows = (rows, len(before), theme)
        self._layout_diff()
        set_title(self.diff, f"Instruction file: {res.before_tokens:,} → {res.after_tokens:,} tokens "
                             f"(+{res.rule_tokens:,} per call, ${res.yearly_cost:,.0f} a year)")

    def _layout_diff(self) -> None:
        """Fit the diff to the plot: one line per file line, long lines cut, old lines elided."""
        if not hasattr(self, "_diff_rows"):
            return
        rows, n_before, theme = self._diff_rows
        size = max(theme.font_pt - 2, 9)
        font = QFont("monospace")
        font.setPointSize(size)
        metrics = QFontMetricsF(font)
        chars = max(int((self.diff.vb.width() - 12) / metrics.horizontalAdvance("m")), 20)
        fit = max(int((self.diff.vb.height() - 8) / metrics.lineSpacing()), 4)
        # the learned rules are what the chart is about: they wrap where the chart has the lines
        # for it (the old lines are cut; a chart too short for the wrapped rules cuts them too)
        wrapped = [(part, c, b) for t, c, b in rows[n_before:]
                   for part in (textwrap.wrap(t, chars, subsequent_indent="    ") if b else [t]) or [t]]
        if len(wrapped) < fit:
            rows = rows[:n_before] + wrapped
        keep_before = max(min(n_before, fit - (len(rows) - n_before) - 1), 0)  # room: the rules first
        shown = rows[n_before - keep_before:]
        head = []
        if keep_before < n_before:
            head = [(f"  … {n_before - keep_before} unchanged lines", theme.muted, False)]
        lines = head + shown
        if len(lines) > fit:
            lines = [*lines[:fit - 1], (f"  … {len(lines) - fit + 1} more lines", theme.muted, False)]
        text = "<br>".join(_line(short(t, chars), c, b) for t, c, b in lines)
        if (text, size) != self._diff_shown:  # a new text re-lays out the whole block
            self._diff_shown = (text, size)
            self.diff_text.setFont(font)
            self.diff_text.setHtml(text)

    def _update_held(self, res: pl.Result, theme: Theme) -> None:
        caught = set(res.caught)
        tags, row, seen = self._held_rows(res.prepared)
        marks: dict[bool, tuple[list[int], list[int]]] = {True: ([], []), False: ([], [])}
        for tag, count in seen.items():
            xs, ys = marks[tag in caught]
            xs += range(1, min(count, MAX_MARKS) + 1)
            ys += [row[tag]] * min(count, MAX_MARKS)
        key = (tuple(tags), frozenset(caught), theme)
        if key != self._held_key:  # one uniform item per kind of mark: cheap to redraw
            self._held_key = key
            self.caught_marks.setData(*marks[True], brush=mkcolor(theme.color(2)), symbol="o",
                                      pen=pg.mkPen(None))
            self.missed_marks.setData(*marks[False], brush=mkcolor(theme.color(3)), symbol="x",
                                      pen=pg.mkPen(None))
        set_ticks(self.held.getAxis("left"), [short(t, _TAG_CHARS) for t in tags])
        extra = [(f" +{c - MAX_MARKS}", float(MAX_MARKS), float(row[t]))
                 for t, c in seen.items() if c > MAX_MARKS]
        styled_labels(self.held, self.more_labels, extra, (0, 0.5), theme)
        width = min(max(seen.values(), default=1), MAX_MARKS)
        bottom = self.held.getAxis("bottom")
        if getattr(bottom, "_ctxlab_width", None) != width:  # new ticks re-generate the axis
            bottom._ctxlab_width = width
            step = 1 if width <= 10 else 5 if width <= 50 else 10  # 30 labels side by side ran together
            bottom.setTicks([[(i, str(i)) for i in range(1, width + 1) if i == 1 or i % step == 0],
                             [(i, "") for i in range(1, width + 1)]])
        self.held.setRange(xRange=(0.4, width + 1.6), yRange=(-0.6, max(len(tags), 3) - 0.4),
                           padding=0)
        total = len(res.prepared.held_out_tags)
        set_title(self.held, f"Held-out failures: {total} → {total - len(res.caught)} "
                           f"(● caught {len(res.caught)}, ✕ missed {len(res.missed)})")

    def _held_rows(self, prepared: pl.Prepared) -> tuple[list[str], dict[str, int], dict[str, int]]:
        """Return the held-out tags shown (first seen first), their rows and counts (kept per log)."""
        if self._held_rows_for is not prepared:
            tags = list(dict.fromkeys(prepared.held_out_tags))[:MAX_ROWS]
            counts = Counter(prepared.held_out_tags)
            self._held_rows_for = prepared
            self._held_rows_cache = (tags, {t: i for i, t in enumerate(tags)}, {t: counts[t] for t in tags})
        return self._held_rows_cache

    def _update_curve(self, res: pl.Result, theme: Theme) -> None:
        s = res.sweep
        ts = s["threshold"].astype(float)
        key = (s["threshold"].tobytes(), s["prevented"].tobytes(), s["rule_tokens"].tobytes(), theme)
        if key != self._curve_key:  # the curve does not move with the threshold: redraw on change
            self._curve_key = key
            self.prevented.setOpts(x=ts, height=s["prevented"].astype(float), width=0.6,
                                   brush=mkcolor(theme.color(2), 170), pen=pg.mkPen(None))
            few = ts.size <= 60
            self.tokens_curve.setData(ts, s["rule_tokens"].astype(float),
                                      pen=pg.mkPen(theme.color(0), width=theme.line_width),
                                      symbol="o" if few else None, symbolBrush=theme.color(0),
                                      symbolPen=None)
            top = float(max(s["prevented"].max(initial=0), 1)) * 1.25
            self.curve.setRange(xRange=(0.4, float(ts.max(initial=1)) + 0.6), yRange=(0, top), padding=0)
            self.tokens_vb.setRange(yRange=(0, float(max(s["rule_tokens"].max(initial=0), 1)) * 1.25),
                                    padding=0)
            self.tokens_vb.setGeometry(self.curve.vb.sceneBoundingRect())
        for side, color in (("left", theme.color(2)), ("right", theme.color(0))):
            axis = self.curve.getAxis(side)  # a theme switch re-inks every axis in the foreground
            if axis.textPen().color() != mkcolor(color):
                axis.setTextPen(pg.mkPen(color))
        style_line(self.curve_line, theme)
        set_line(self.curve_line, float(res.threshold))
        set_title(self.curve, "Failures prevented (bars) vs rule tokens per call (line)")


def _rules_by_tag(res: pl.Result) -> list[str]:
    """Return the rule text of each recurring tag ("" when it has none), in recurring order."""
    texts = iter(res.rules)
    unphrased = set(res.unphrased)
    return ["" if t in unphrased else next(texts) for t in res.recurring]


def _line(text: str, color: str, bold: bool = False) -> str:
    weight = "font-weight: bold; " if bold else ""
    return f'<span style="{weight}color: {color}; white-space: pre-wrap">{html.escape(text)}</span>'
