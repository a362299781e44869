"""The temporal panel's charts: the valid-time timeline and the bi-temporal view of one key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

from core import temporal
from widgets.date_axis import date_axis
from widgets.plots import PlotView, in_chart_pt, mkcolor, place_labels, set_line
from widgets.rects import Rects
from widgets.theme import Theme, ink_on, mix

BAR_ALPHA = 200
"""The bars' opacity (0-255): the background shows a little through them."""
LABELS_MAX = 160
"""Bars get their value written on them only when there are this few."""
ROW_TICKS_MAX = 40
"""Rows get their (subject, predicate) tick labels only when there are this few."""


@dataclass(frozen=True, slots=True)
class TemporalOutput:
    """A result and what its instants pick: per key, the fact true at as-of and the naive one."""

    result: temporal.Result
    at: np.ndarray
    """Tiling position true at as_of per key (-1: nothing yet)."""
    naive: np.ndarray
    """Tiling position a latest-value store holds per key."""
    focus: int
    history: tuple[dict[str, Any], ...]
    note: str = ""

    @property
    def wrong(self) -> np.ndarray:
        """Keys where the naive store's answer differs from the true one at as_of."""
        # position -1 (no fact) picks the appended -1: "no value"
        value = np.append(self.result.graph.value[self.result.tiling.seen], -1)
        wrong: np.ndarray = value[self.at] != value[self.naive]
        return wrong


def horizon(graph: temporal.Graph) -> tuple[int, int]:
    """Return the time span drawn: the first instant, and "now" a little after the last.

    The margins stop at the calendar's ends (years 1 and 9999): a date axis past them has no
    ticks to show, and an instant there has no date to name.
    """
    instants = np.concatenate([graph.start, graph.ingested])
    lo, hi = int(instants.min()), int(instants.max())
    pad = max((hi - lo) // 12, 86_400)
    return max(lo - pad // 4, temporal.FIRST), min(hi + pad, temporal.LAST)


LABEL_HEIGHT = 0.06
"""Share of the time span a version's recorded interval needs for its 9 pt label to fit above
it (a larger label, on a slide, needs proportionally more)."""
CHAR_WIDTH = 0.009
"""Share of the time span one character of a bar label takes (slide text on a 1280 px chart)."""


def fits_text(text: str, extent: float, span: float) -> bool:
    """Whether a bar ``extent`` long on a ``span``-wide axis has room for ``text``."""
    return extent > 0 and extent >= (len(text) + 1) * CHAR_WIDTH * span


LABEL_AT = 0.03
"""Where the as-of label sits down the timeline (a share of its height from the top)."""


class TemporalPlots:
    """Items made once; a new as-of instant only moves the line and the overlays."""

    def __init__(self, view: PlotView, on_as_of: Callable[[float], None],
                 on_known: Callable[[float], None], on_row: Callable[[int], None]) -> None:
        self.timeline = view.addPlot(row=0, col=0, title="Facts over valid time",
                                     axisItems={"bottom": date_axis()})
        self.timeline.invertY(True)
        self.timeline.setMenuEnabled(False)
        self.bars = Rects(cached=True)
        self.current = Rects()
        self.wrong = pg.ScatterPlotItem(symbol="x", size=11)
        self.labels: list[pg.TextItem] = []
        for item in (self.bars, self.current, self.wrong):
            self.timeline.addItem(item)
        # the y axis is inverted: label position 0.03 is the top of the plot
        self.as_of = pg.InfiniteLine(angle=90, movable=True, label="as of",
                                     labelOpts={"position": LABEL_AT, "movable": False})
        self.as_of.sigDragged.connect(lambda line: on_as_of(float(line.value())))
        self.known = pg.InfiniteLine(angle=90, movable=True, label="known at",
                                     labelOpts={"position": 0.97, "movable": False})
        self.known.sigDragged.connect(lambda line: on_known(float(line.value())))
        self.timeline.addItem(self.as_of)
        self.timeline.addItem(self.known)
        # a pin ghosts the instants and what was true at them (the bars are the data itself)
        for item in (self.current, self.wrong, self.as_of, self.known):
            item.pin_ghost = True
        self.bars.setZValue(-1)  # under a pin's rings (ghosts lie under the live items, over this)
        self.timeline.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self._span: tuple[float, float, int] | None = None
        self._band = -1.0
        self.timeline.vb.sigResized.connect(self._fit_band)
        self._on_row = on_row

        self.belief = view.addPlot(row=1, col=0, title="What was believed when",
                                   axisItems={"bottom": date_axis(), "left": date_axis(orientation="left")})
        self.belief.setLabel("bottom", "valid time")
        self.belief.setLabel("left", "recorded")  # longer, it outgrows a short plot
        # valid time at the same x on both charts: the "as of" lines line up (pyqtgraph's link
        # lines stacked views up on screen; the belief chart shows a little more time at its left)
        self.belief.setXLink(self.timeline)
        self.versions = Rects()
        self.belief.addItem(self.versions)
        self.version_labels: list[pg.TextItem] = []
        self.cross_v = pg.InfiniteLine(angle=90, movable=False)
        self.cross_h = pg.InfiniteLine(angle=0, movable=False)
        self.belief.addItem(self.cross_v)
        self.belief.addItem(self.cross_h)
        self.cross_v.pin_ghost = self.cross_h.pin_ghost = True
        view.ci.layout.setRowStretchFactor(0, 3)
        view.ci.layout.setRowStretchFactor(1, 2)
        self._graph: temporal.Graph | None = None
        self._tiling: temporal.Tiling | None = None
        self._belief_of: tuple[object, int] = (None, -1)

    # ---- updates ----------------------------------------------------------------------------
    def update(self, out: TemporalOutput, theme: Theme, force: bool = False) -> None:
        """Draw ``out``; bars are rebuilt only when the graph or the known-at tiling changed."""
        res = out.result
        lo, hi = horizon(res.graph)
        if force or res.tiling is not self._tiling:
            self._update_bars(res, theme, lo, hi)
        self._update_current(out, theme, hi)
        if force or (res.graph, out.focus) != self._belief_of:
            self._update_belief(out, theme, lo, hi)
        known = res.params.known_at
        self.cross_v.setValue(float(res.as_of))
        self.cross_h.setValue(float(temporal.to_seconds(known, "known_at")) if known else float(hi))
        set_line(self.as_of, float(res.as_of))
        self.as_of.label.setFormat(f"as of {temporal.to_iso(res.as_of)}")
        known = res.params.known_at
        self.known.setVisible(known is not None)
        if known is not None:
            set_line(self.known, float(temporal.to_seconds(known, "known_at")))

    def _colors(self, theme: Theme, n: int) -> list[QColor]:
        return [mkcolor(theme.color(i), BAR_ALPHA) for i in range(n)]

    @staticmethod
    def _ink(theme: Theme, value: int) -> str:
        """Return black or white, whichever reads on the bar of ``value``.

        One ink for every bar left black text on the darkest bars hard to read on a slide.
        """
        return ink_on(mix(theme.color(value), theme.background, 1 - BAR_ALPHA / 255))

    def _update_bars(self, res: temporal.Result, theme: Theme, lo: int, hi: int) -> None:
        g, t = res.graph, res.tiling
        self._graph, self._tiling = g, t
        rows = g.key[t.seen].astype(float)
        x0 = g.start[t.seen]
        x1 = np.minimum(t.end, hi)
        color = g.value[t.seen]
        self.bars.set_rects(x0, rows + 0.15, x1, rows + 0.85, color,
                            self._colors(theme, int(color.max(initial=0)) + 1))
        n_keys = len(g.keys)
        self._span = (float(lo), float(hi), n_keys)
        self._band = -1.0
        self._fit_band()
        self.timeline.setXRange(lo, hi, padding=0.01)
        axis = self.timeline.getAxis("left")
        if n_keys <= ROW_TICKS_MAX:
            axis.setTicks([[(i + 0.5, f"{s} · {p}") for i, (s, p) in enumerate(g.keys)], []])
            axis.setLabel("")
        else:
            axis.setTicks(None)
            axis.setLabel(f"{n_keys:,} keys (subject · predicate)")
        self._update_labels(res, theme, x0, rows, x1)

    def _fit_band(self, *_args: object) -> None:
        """Keep an empty band above the first row as tall as the as-of label needs.

        Over the first row the label hid that row's value and its red cross (the answer the
        line is dragged to show). The band is in rows, so it is worked out from the view's
        height in pixels, again when the chart is resized.
        """
        if self._span is None:
            return
        lo, hi, n_keys = self._span
        height = self.timeline.vb.height()
        needed = LABEL_AT * height + self.as_of.label.boundingRect().height() + 2
        band = n_keys * needed / max(height - needed, 1.0) if height > 2 * needed else 1.0
        band = max(round(band, 2), 0.5)
        if band == self._band:
            return
        self._band = band  # rows only: a resize keeps the time span the user zoomed to
        self.timeline.setLimits(xMin=lo, xMax=hi, yMin=-band - 0.5, yMax=n_keys + 0.5)
        self.timeline.setYRange(-band, n_keys, padding=0.01)

    def _update_labels(self, res: temporal.Result, theme: Theme, x0: np.ndarray, rows: np.ndarray,
                       x1: np.ndarray) -> None:
        g, t = res.graph, res.tiling
        span = float(x1.max() - x0.min()) if x0.size else 1.0
        shown = ([i for i in range(t.seen.size) if fits_text(g.objects[int(t.seen[i])], x1[i] - x0[i], span)]
                 if t.seen.size <= LABELS_MAX else [])
        place_labels(self.timeline, self.labels,
                     [(g.objects[int(t.seen[i])], float(x0[i]), float(rows[i]) + 0.5,
                       self._ink(theme, int(g.value[t.seen[i]]))) for i in shown],
                     (0, 0.5), theme.foreground, in_chart_pt(theme))

    def _update_current(self, out: TemporalOutput, theme: Theme, hi: int) -> None:
        t = out.result.tiling
        held = out.at[out.at >= 0]
        rows = out.result.graph.key[t.seen[held]].astype(float)
        self.current.set_rects(out.result.graph.start[t.seen[held]], rows + 0.08,
                               np.minimum(t.end[held], hi), rows + 0.92, np.zeros(held.size, int),
                               [QColor(0, 0, 0, 0)], outline=QColor(theme.foreground), width=2.0)
        wrong = np.flatnonzero(out.wrong)
        self.wrong.setData(np.full(wrong.size, float(out.result.as_of)), wrong + 0.5,
                           pen=pg.mkPen(theme.accent, width=2), brush=None)

    def _update_belief(self, out: TemporalOutput, theme: Theme, lo: int, hi: int) -> None:
        res = out.result
        self._belief_of = (res.graph, out.focus)
        subject, predicate = res.graph.keys[out.focus]
        self.belief.setTitle(f"What was believed when: {subject} · {predicate}", color=theme.foreground)
        vs = [v for v in out.history if v["valid_to"] > v["valid_from"]]
        group = np.array([v["value"] for v in vs], np.int64)
        def column(name: str) -> np.ndarray:
            return np.minimum(np.array([v[name] for v in vs], np.int64), hi)

        self.versions.set_rects(column("valid_from"), column("recorded"), column("valid_to"),
                                column("superseded"), group,
                                self._colors(theme, int(res.graph.value.max(initial=0)) + 1),
                                outline=QColor(theme.background), width=1.0)
        need = LABEL_HEIGHT * in_chart_pt(theme) / 9 * (hi - lo)
        tall = [v for v in vs if fits_text(v["object"], min(v["valid_to"], hi) - v["valid_from"], hi - lo)
                and min(v["superseded"], hi) - v["recorded"] >= need]
        place_labels(self.belief, self.version_labels,
                     [(v["object"], float(v["valid_from"]), float(v["recorded"]),
                       self._ink(theme, v["value"])) for v in tall[:60]]
                     if len(tall) <= 60 else [], (0, 1), theme.foreground, in_chart_pt(theme))
        self.belief.setYRange(lo, hi, padding=0.01)  # x: the timeline's
        for line in (self.cross_v, self.cross_h):
            line.setPen(pg.mkPen(theme.accent, width=1, style=Qt.PenStyle.DashLine))

    def restyle(self, theme: Theme) -> None:
        """Recolor the lines that do not follow the axes."""
        self.as_of.setPen(pg.mkPen(theme.accent, width=2))
        self.known.setPen(pg.mkPen(theme.muted, width=2, style=Qt.PenStyle.DashLine))
        for line in (self.as_of, self.known):
            line.label.setColor(theme.foreground)

    def _on_scene_clicked(self, event: MouseClickEvent) -> None:
        vb = self.timeline.getViewBox()
        pos = event.scenePos()
        if self._graph is None or not vb.sceneBoundingRect().contains(pos):
            return
        row = int(np.floor(vb.mapSceneToView(QPointF(pos)).y()))
        if 0 <= row < len(self._graph.keys):
            self._on_row(row)

