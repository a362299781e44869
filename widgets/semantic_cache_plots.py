"""The semantic-cache panel's charts, made once and then updated.

Best scores with HIT/MISS chips, the sweep, the running totals, the similarity heatmap and the
probe gauge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QPointF
from PySide6.QtGui import QCursor, QFont, QFontMetrics
from PySide6.QtWidgets import QToolTip

from core import semantic_cache as sc
from widgets.plots import (
    PlotView,
    budget_line,
    mkcolor,
    place_labels,
    rgba,
    set_line,
)
from widgets.procedural_learning_plots import style_line
from widgets.semantic_cache_cost import RunningCost
from widgets.theme import Theme

GRID = np.round(np.arange(101) * 0.01, 2)
"""The slider's thresholds: walked once on the worker, so a tick is a lookup."""
HEAT_MAX = 300
"""The heatmap shows at most this many questions a side (evenly picked) — more pixels than that
would not be seen."""
DOTS_MAX = 400
"""Up to this many questions are hoverable dots; more are drawn as short dashes (one path)."""
CHIPS_MAX = 16
"""Up to this many questions get a HIT/MISS text chip; more show colored chips only."""
FALSE_HIT = "#d62728"
FALSE_MISS = "#ff7f0e"


@dataclass(frozen=True, slots=True)
class CacheOutput:
    """The result at the threshold and the fine sweep for the chart."""

    result: sc.Result
    fine: dict[str, NDArray[Any]]
    zero: tuple[float, float] | None
    """The widest threshold range with no false hit and no false miss (None: there is none)."""
    other: str = ""
    other_table: dict[str, NDArray[Any]] | None = None
    """The other embedder's sweep on the same workload (drawn dotted), if it could be made."""
    note: str = ""


@dataclass(frozen=True, slots=True)
class CachePrepared:
    """The panel's prepared state: this embedder's, and the other one's sweep for comparison."""

    main: sc.Prepared
    other: str
    other_table: dict[str, NDArray[Any]] | None


def heat_order(prep: sc.Prepared, n: int) -> NDArray[np.int64]:
    """Return the questions shown in the heatmap: grouped by intent (blocks), else arrival."""
    pick = np.unique(np.linspace(0, n - 1, min(n, HEAT_MAX)).round().astype(np.int64))
    if prep.codes is None:
        return pick
    return pick[np.argsort(prep.codes[pick], kind="stable")]


class CachePlots:
    """Every chart of the panel; ``on_threshold`` gets a dragged threshold (0..1)."""

    def __init__(self, view: PlotView, on_threshold: Callable[[float], None]) -> None:
        self.scores = view.addPlot(row=0, col=0, colspan=2, title="Each question's best match")
        self.scores.setLabel("left", "similarity")
        self.scores.setLabel("bottom", "question (arrival order)")
        self.scores.setYRange(-0.16, 1.05, padding=0)
        self.scores.setMouseEnabled(x=False, y=False)
        self._res: sc.Result | None = None
        self.dots = {kind: pg.ScatterPlotItem(size=9, hoverable=True, tip=self._tip)
                     for kind in ("hit", "miss", "false_hit", "false_miss")}
        for item in self.dots.values():
            self.scores.addItem(item)
        self.hline = pg.InfiniteLine(angle=0, movable=True, label="threshold {value:.2f}",
                                     labelOpts={"position": 0.93, "movable": False,
                                                "anchors": [(1, 1), (1, 1)]})
        self.hline.sigPositionChanged.connect(lambda line: on_threshold(float(line.value())))
        self.scores.addItem(self.hline)
        self.chips: list[pg.TextItem] = []
        self.density = pg.ImageItem()  # many questions: one pixel column per bin, not one item each
        self.scores.addItem(self.density)
        self._hover = pg.SignalProxy(view.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved)
        self.strip = pg.ImageItem()
        self.scores.addItem(self.strip)
        self._n = -1
        self._probe_key: object = None
        self._sweep_key: object = None
        self.sweep = view.addPlot(row=1, col=0, title="Sweep")
        self.sweep.setLabel("bottom", "threshold")
        self.sweep.setLabel("left", "share")
        self.sweep.setXRange(0, 1, padding=0.02)
        self.sweep.setYRange(0, 1.18, padding=0)
        self.sweep.setMouseEnabled(x=False, y=False)
        self.zero = pg.LinearRegionItem(movable=False)
        self.sweep.addItem(self.zero)
        self.curves = {key: self.sweep.plot() for key in ("hit_rate", "false_hits", "false_misses", "cost")}
        self.twins = {key: self.sweep.plot() for key in ("hit_rate", "false_hits", "false_misses")}
        self.vline = budget_line(self.sweep, on_threshold, label="")
        self.none_label = pg.TextItem(anchor=(0.5, 0))
        self.sweep.addItem(self.none_label)
        self.cost = RunningCost(view, row=1, col=1)
        self.heat = view.addPlot(row=2, col=0, title="Similarity (grouped by intent)")
        self.heat.setMouseEnabled(x=False, y=False)
        self.heat.invertY(True)
        self.image = pg.ImageItem()
        self.heat.addItem(self.image)
        # a scale beside the map: without it a slide showed colours no one could read as numbers
        self.heat_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"),
                                        interactive=False, width=12, label="similarity")
        self.heat_bar.setImageItem(self.image, insert_in=self.heat)
        self.probe = view.addPlot(row=2, col=1, title="Probe")
        self.probe.setMouseEnabled(x=False, y=False)
        self.probe.hideAxis("left")
        self.probe.setXRange(0, 1, padding=0.02)
        self.probe.setYRange(-0.6, 1.2, padding=0)
        self.gauge = pg.BarGraphItem(x0=[0], y=[0], height=[0.5], width=[0])
        self.probe.addItem(self.gauge)
        self.probe_lines: list[pg.InfiniteLine] = []
        self.probe_labels: list[pg.TextItem] = []
        self.probe_text = pg.TextItem(anchor=(0, 0))
        self.probe.addItem(self.probe_text)
        self._heat_for: object = None
        self._fitted: str | None = None
        self._font = QFont()

    def fit_axes(self, theme: Theme) -> None:
        """Give bottom axes room for their tick text and label at the theme's font size."""
        font = QFont()
        font.setPointSize(theme.font_pt)
        height = QFontMetrics(font).height()
        for plot in (self.scores, self.sweep, self.cost.plot, self.heat, self.probe):
            axis = plot.getAxis("bottom")
            axis.setHeight(height + 12 + (height if axis.labelText else 0))
        small = QFont()
        small.setPointSize(max(theme.font_pt - 1, 8))
        self._font = small
        for label in (self.none_label, self.probe_text, *self.probe_labels, *self.chips):
            label.setFont(small)
        self._fitted = theme.name

    # ---- drawing --------------------------------------------------------------------------
    def update(self, out: CacheOutput, theme: Theme, force: bool = False) -> None:
        """Draw ``out``; the heatmap is redrawn only when the workload changed."""
        res = self._res = out.result
        if force or self._fitted != theme.name:
            self.fit_axes(theme)
            self._sweep_key = None
        self._update_scores(res, theme)
        self._update_sweep(out, theme, force)
        self.cost.update(res, theme)
        if force or res.prepared is not self._heat_for:
            self._update_heat(res)
            self._heat_for = res.prepared
        probe_key = (res.prepared.probe_similarity, res.params.probe_thresholds, res.params.probe_new,
                     res.params.probe_cached, theme.name)
        if force or probe_key != self._probe_key:
            self._update_probe(res, theme, force)
            self._probe_key = probe_key

    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        """With many questions (no hoverable dots) describe the question under the mouse."""
        res = self._res
        pos = event[0]
        if res is None or res.n <= DOTS_MAX or not self.scores.sceneBoundingRect().contains(pos):
            return
        i = round(self.scores.vb.mapSceneToView(pos).x())
        if 0 <= i < res.n:
            QToolTip.showText(QCursor.pos(), describe(res, i))

    def _tip(self, x: float, y: float, data: object) -> str:
        i = round(x)
        return "" if self._res is None or not 0 <= i < self._res.n else describe(self._res, i)

    def _update_scores(self, res: sc.Result, theme: Theme) -> None:
        w, n = res.walk, res.n
        x = np.arange(n, dtype=float)
        y = np.where(np.isnan(w.score), 0.0, w.score)
        fh = res.false_hit if res.false_hit is not None else np.zeros(n, bool)
        fm = res.false_miss if res.false_miss is not None else np.zeros(n, bool)
        kinds = {"hit": w.hit & ~fh, "miss": ~w.hit & ~fm, "false_hit": fh, "false_miss": fm}
        colors = {"hit": theme.color(2), "miss": theme.muted, "false_hit": FALSE_HIT,
                  "false_miss": FALSE_MISS}
        few = n <= DOTS_MAX
        for kind, mask in kinds.items():
            self.dots[kind].setVisible(few)
            if few:
                self.dots[kind].setData(x[mask], y[mask], size=9, symbol="s" if "hit" in kind else "o",
                                        brush=mkcolor(colors[kind]), pen=None)
        self.density.setVisible(not few)
        if not few:
            rank = np.where(fh, 4, np.where(fm, 3, np.where(w.hit, 2, 1))).astype(np.uint8)
            lut = np.array([(0, 0, 0, 0), *(rgba(mkcolor(colors[k])) for k in
                                             ("miss", "hit", "false_miss", "false_hit"))], dtype=np.uint8)
            self.density.setImage(lut[density(rank, y)], autoLevels=False)
            self.density.setRect(-0.5, 0.0, n, 1.0)
        if self._n != n:
            self.scores.setXRange(-1, max(n, 2), padding=0.01)
            self._n = n
        set_line(self.hline, res.params.threshold)
        style_line(self.hline, theme)
        self._update_chips(res, fh, fm, theme)

    def _update_chips(self, res: sc.Result, fh: NDArray[np.bool_], fm: NDArray[np.bool_],
                      theme: Theme) -> None:
        """HIT/MISS words for a few questions, a colored strip of chips for many."""
        w, n = res.walk, res.n
        codes = np.where(fh, 3, np.where(fm, 4, np.where(w.hit, 1, 2))).astype(np.uint8)
        lut = np.array([(0, 0, 0, 0), *(rgba(mkcolor(c)) for c in (
            theme.color(2), theme.muted, FALSE_HIT, FALSE_MISS))], dtype=np.uint8)
        self.strip.setImage(lut[codes][None, :, :], autoLevels=False)
        self.strip.setRect(-0.5, -0.14, n, 0.07)
        self.strip.setVisible(n > CHIPS_MAX)
        chips = []
        if n <= CHIPS_MAX:
            chips = [("HIT" if h else "MISS", float(i), -0.02) for i, h in enumerate(w.hit.tolist())]
        fresh = len(self.chips)
        place_labels(self.scores, self.chips, chips, (0.5, 0), theme.foreground)
        for label in self.chips[fresh:]:
            label.setFont(self._font)
        for label, (_t, i, _y) in zip(self.chips, chips, strict=False):
            k = int(i)
            label.setColor(FALSE_HIT if fh[k] else FALSE_MISS if fm[k]
                           else theme.color(2) if w.hit[k] else theme.muted)

    def _update_sweep(self, out: CacheOutput, theme: Theme, force: bool = False) -> None:
        set_line(self.vline, out.result.params.threshold)
        style_line(self.vline, theme)
        key = (id(out.result.prepared), id(out.other_table), out.result.params.cost_per_call, theme.name)
        if key == self._sweep_key:  # the curves depend on the workload and prices, not the threshold
            return
        self._sweep_key = key
        table, n = out.fine, out.result.n
        base = max(n * out.result.params.cost_per_call, 1e-300)
        ts = table["threshold"]
        ys = {"hit_rate": table["hit_rate"], "false_hits": table["false_hits"] / n,
              "false_misses": table["false_misses"] / n, "cost": table["cost"] / base}
        colors = {"hit_rate": theme.color(2), "false_hits": FALSE_HIT, "false_misses": FALSE_MISS,
                  "cost": theme.color(0)}
        names = {"hit_rate": "hit rate", "false_hits": "false hits", "false_misses": "false misses",
                 "cost": "cost ÷ no-cache cost (dashed)"}
        title = " · ".join(f"<span style='color:{colors[k]}'>{v}</span>" for k, v in names.items())
        if out.other_table is not None:
            title += f" · dotted: {out.other}"
        self._update_twins(out, colors, theme)
        if force or self.sweep.titleLabel.text != title:  # force: a theme restyled it at title_pt
            self.sweep.setTitle(title, size=f"{max(theme.title_pt - 3, 8)}pt")
        for name, curve in self.curves.items():
            y = ys[name]
            ok = ~np.isnan(y)
            dash = pg.QtCore.Qt.PenStyle.DashLine if name == "cost" else pg.QtCore.Qt.PenStyle.SolidLine
            style = pg.mkPen(colors[name], width=theme.line_width, style=dash)
            curve.setData(ts[ok], y[ok], pen=style)
        zero = out.zero
        self.zero.setVisible(zero is not None)
        if zero is not None:
            self.zero.setRegion(zero)
            self.zero.setBrush(mkcolor(theme.color(2), 40))
        text = "" if out.result.prepared.codes is None else (
            "no zero-error threshold" if zero is None
            else f"zero errors: {zero[0]:.2f}–{zero[1]:.2f}")
        if force or text != self.none_label.toPlainText():  # force: a new theme's ink
            self.none_label.setText(text, color=theme.foreground)
        right = out.result.params.threshold < 0.5  # on the side the threshold line is not
        self.none_label.setPos(0.98 if right else 0.02, 1.17)
        self.none_label.setAnchor((1, 0) if right else (0, 0))

    def _update_twins(self, out: CacheOutput, colors: dict[str, str], theme: Theme) -> None:
        """Draw the other embedder's hit rate and errors, dotted, for comparison."""
        table, n = out.other_table, out.result.n
        for key, curve in self.twins.items():
            curve.setVisible(table is not None)
            if table is None:
                continue
            y = table[key] if key == "hit_rate" else table[key] / n
            ok = ~np.isnan(y)
            dots = pg.mkPen(colors[key], width=max(theme.line_width - 1, 1),
                            style=pg.QtCore.Qt.PenStyle.DotLine)
            curve.setData(table["threshold"][ok], y[ok], pen=dots)

    def _update_heat(self, res: sc.Result) -> None:
        order = heat_order(res.prepared, res.n)
        block = res.prepared.sim[np.ix_(order, order)]
        self.image.setImage(block, levels=(0.0, 1.0), autoLevels=False)
        self.heat.setRange(xRange=(0, order.size), yRange=(0, order.size), padding=0)

    def _update_probe(self, res: sc.Result, theme: Theme, force: bool = False) -> None:
        probe = res.probe()
        s = float(probe["similarity"])
        self.gauge.setOpts(x0=[0], y=[0], height=[0.5], width=[s], brushes=[mkcolor(theme.color(0))],
                           pens=[pg.mkPen(None)])
        decisions = probe["decisions"]
        while len(self.probe_lines) < len(decisions):
            line = pg.InfiniteLine(angle=90, movable=False)
            label = pg.TextItem(anchor=(1.0, 1))
            label.setFont(self._font)
            self.probe.addItem(line)
            self.probe.addItem(label)
            self.probe_lines.append(line)
            self.probe_labels.append(label)
        for i, (line, label) in enumerate(zip(self.probe_lines, self.probe_labels, strict=True)):
            visible = i < len(decisions)
            line.setVisible(visible)
            label.setVisible(visible)
            if visible:
                d = decisions[i]
                color = FALSE_HIT if d["hit"] else theme.muted
                line.setPen(pg.mkPen(color, width=2, style=pg.QtCore.Qt.PenStyle.DashLine))
                line.setValue(d["threshold"])
                label.setText(f"{d['threshold']:.2f}: {'HIT' if d['hit'] else 'MISS'}", color=color)
                label.setPos(d["threshold"] - 0.01, 0.85)
        self.probe_text.setText(f"similarity {s:.2f}", color=theme.foreground)
        self.probe_text.setPos(0.0, -0.3)
        title = ("Probe: “" + _short(probe["new_question"]) + "” vs the cached “"
                 + _short(probe["cached_question"]) + "”")
        if force or self.probe.titleLabel.text != title:  # force: a theme restyled it at title_pt
            self.probe.setTitle(title, color=theme.foreground, size=f"{max(theme.title_pt - 2, 8)}pt")


DENSITY_COLS, DENSITY_ROWS = 800, 100


def density(rank: NDArray[np.uint8], score: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Return a rows x columns image of category ranks, one cell per (question bin, score).

    The most telling category wins a shared cell: false hit > false miss > hit > miss.
    """
    n = rank.size
    cols = min(n, DENSITY_COLS)
    c = (np.arange(n) * cols // max(n, 1)).astype(np.int64)
    r = np.clip((score * DENSITY_ROWS).astype(np.int64), 0, DENSITY_ROWS - 1)
    image = np.zeros((DENSITY_ROWS, cols), dtype=np.uint8)
    order = np.argsort(rank, kind="stable")  # written last, the higher rank wins a shared cell
    image[r[order], c[order]] = rank[order]
    return image


def zero_window(table: dict[str, NDArray[Any]]) -> tuple[float, float] | None:
    """Return the widest run of thresholds with no false hit and no false miss, if any."""
    fh, fm, ts = table["false_hits"], table["false_misses"], table["threshold"]
    ok = (fh == 0) & (fm == 0)
    best: tuple[float, float] | None = None
    start = None
    for i, good in enumerate([*ok.tolist(), False]):
        if good and start is None:
            start = i
        elif not good and start is not None:
            lo, hi = float(ts[start]), float(ts[i - 1])
            if best is None or hi - lo > best[1] - best[0]:
                best = (lo, hi)
            start = None
    return best


def describe(res: sc.Result, i: int) -> str:
    """Return the hover text of question ``i``: decision, score and the matched question."""
    w, p = res.walk, res.params
    head = f"#{i + 1} {'HIT' if w.hit[i] else 'MISS'}: {p.workload[i]}"
    m = int(w.match[i])
    if m < 0:
        return head + "\n(empty cache)"
    flag = ""
    if res.false_hit is not None and res.false_hit[i]:
        flag = "\nfalse hit: another intent's answer was served"
    elif res.false_miss is not None and res.false_miss[i]:
        flag = "\nfalse miss: a same-intent question was already cached"
    return f"{head}\nbest {w.score[i]:.3f} vs #{m + 1}: {p.workload[m]}{flag}"


def _short(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"

