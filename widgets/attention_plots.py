"""The attention panel's charts: three heatmaps, the row inspector, kept mass, ops and KV memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent
from PySide6.QtCore import QPointF, Qt

from core import attention
from core.attention_maps import Comparison, Maps
from widgets import pin_maps
from widgets.band_image import BandImage
from widgets.plot_room import name_curve
from widgets.plots import PlotView, mkcolor, steady_top
from widgets.theme import Theme
from widgets.value_labels import at_axis_size

LOG_FLOOR = 1e-6
"""Weights below this are drawn at the bottom of the log color scale."""
CONTEXTS = np.unique(np.logspace(3, 6, 61).astype(np.int64))
"""Context lengths of the memory chart (1k to 1M tokens)."""


@dataclass(frozen=True, slots=True)
class AttentionOutput:
    """Maps, the variant against them, and the inspected row's weights."""

    result: attention.Result
    row: int
    row_full: np.ndarray
    row_variant: np.ndarray
    note: str = ""


def _heatmap(view: PlotView, col: int, title: str, kind: type[pg.ImageItem] = pg.ImageItem,
             ) -> tuple[pg.PlotItem, Any]:
    plot = view.addPlot(row=0, col=col, title=title)
    plot.invertY(True)
    plot.disableAutoRange()
    plot.setLabel("bottom", "key j")
    plot.setLabel("left", "query i")
    image = kind(axisOrder="row-major")
    plot.addItem(image)
    pin_maps.diffable(image)  # under a pin: live - pinned weights (log10 weights on a log scale)
    return plot, image


@dataclass(slots=True)
class _Shown:
    """What the variant and difference maps show now, kept to update in a window's band."""

    variant: np.ndarray
    """The variant's weights as coloured (log10 or themselves)."""
    diff: np.ndarray
    """|full - variant|."""
    diff_colour: np.ndarray
    """|full - variant| as coloured on a log scale (empty on a linear one: ``diff`` itself)."""
    touched: tuple[tuple[int, int, int], ...]
    """Where the variant drawn may be non-zero (``Comparison.touched``)."""


class AttentionPlots:
    """Items made once; a window drag re-images the variant and difference maps only."""

    def __init__(self, view: PlotView, on_window: Callable[[float], None],
                 on_row: Callable[[int], None]) -> None:
        # BandImage: the colours of each cell are worked out once, not on every paint; a window
        # drag changes a band of the two maps after the first, and they re-colour only that band
        self.full_plot, self.full = _heatmap(view, 0, "Full attention", BandImage)
        self.var_plot, self.variant = _heatmap(view, 1, "Variant", BandImage)
        self.diff_plot, self.diff = _heatmap(view, 2, "|full − variant|", BandImage)
        self._follow_rows([p.vb for p in (self.full_plot, self.var_plot, self.diff_plot)])
        cmap = pg.colormap.get("viridis")
        self.bar = pg.ColorBarItem(colorMap=cmap, interactive=False, width=12)
        self.bar.setImageItem([self.full, self.variant], insert_in=self.var_plot)
        self.diff_bar = pg.ColorBarItem(colorMap=pg.colormap.get("magma"), interactive=False, width=12)
        self.diff_bar.setImageItem(self.diff, insert_in=self.diff_plot)
        # the window's lower edge, j = i - w: a 45-degree line through (0, w), dragged on the map
        self.band = pg.InfiniteLine(pos=QPointF(0, 64), angle=45, movable=True)
        self.band.sigDragged.connect(lambda line: on_window(float(line.pos().y() - line.pos().x())))
        self.var_plot.addItem(self.band)
        self.row_line = pg.InfiniteLine(angle=0, movable=False)
        self.full_plot.addItem(self.row_line)
        for image in (self.full, self.variant, self.diff):
            image.mouseClickEvent = self._clicker(image, on_row)

        self.row_plot = view.addPlot(row=1, col=0, colspan=2, title="Weights of one query")
        self.row_plot.setLabel("bottom", "key j")
        self.row_plot.addLegend(offset=(10, 5))
        self.row_plot.disableAutoRange(axis="y")
        self.row_full = self.row_plot.plot(name="full", stepMode="center")
        self.row_var = self.row_plot.plot(name="variant", stepMode="center")
        self.mass_plot = view.addPlot(row=1, col=2, title="Full-attention mass on the kept keys")
        self.mass_plot.setLabel("bottom", "query i")
        self.mass_plot.disableAutoRange()
        self.mass = self.mass_plot.plot()

        self.ops_plot = view.addPlot(row=2, col=0, title="Operations against sequence length")
        self.ops_plot.setLogMode(x=True, y=True)
        self.ops_plot.setLabel("bottom", "sequence length n")
        self.ops_plot.setLabel("left", "multiply-adds")
        # no legend: in this small chart (137x101 px at 1280x720) its three lines covered 68% of
        # it; each curve is named at its right end, in its color (see restyle)
        self.ops_full = self.ops_plot.plot()
        self.ops_win = self.ops_plot.plot()
        self.ops_names = {"full": pg.TextItem("full", anchor=(1, 1)),
                          "windowed": pg.TextItem("windowed", anchor=(0, 0))}
        for name in self.ops_names.values():
            self.ops_plot.addItem(name)
        self.ops_now = pg.InfiniteLine(angle=90, movable=False)
        self.ops_plot.addItem(self.ops_now)
        self.mem_plot = view.addPlot(row=2, col=1, colspan=2, title="KV cache for a whole context")
        self.mem_plot.setLogMode(x=True, y=True)
        self.mem_plot.setLabel("bottom", "context tokens")
        self.mem_plot.setLabel("left", "bytes")
        self.mem_plot.addLegend(offset=(10, 5))
        self.mem = {s: self.mem_plot.plot(name=s) for s in attention.SCHEMES}
        self.mem_ghost = self.mem_plot.plot()  # a second model profile, dashed
        self._ghost: tuple[str, Any] = ("", None)
        self.mem_now = pg.InfiniteLine(angle=90, movable=False)
        self.mem_plot.addItem(self.mem_now)
        for plot in (self.ops_plot, self.mem_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)
        # fixed axis widths: plots share layout columns, so one axis widening for longer tick
        # labels (0.5 -> 0.05) would resize its neighbours, heatmaps included, on a slider tick
        for plot in (self.full_plot, self.var_plot, self.diff_plot, self.row_plot, self.mass_plot,
                     self.ops_plot, self.mem_plot):
            plot.getAxis("left").setWidth(58)
        self._maps: Maps | None = None
        self._log: bool | None = None
        self._cells: _Shown | None = None
        self._titles: dict[int, str] = {}
        self._diff_top = 0.0
        self._row_shown = -1
        self._row_top = 0.0
        self._memory_of: object = None
        self.ops_plot.disableAutoRange()
        self._ops_range: tuple[float, float] = (0.0, 0.0)
        self._ops_of: tuple[int, bytes] = (0, b"")
        self.mem_plot.disableAutoRange()
        # the maps are the panel's subject: at 1280x720 equal rows left them 90 px tall under
        # their titles and notes, while the row and mass charts read as well when shorter
        for row, stretch in enumerate((3, 2, 2)):
            view.ci.layout.setRowStretchFactor(row, stretch)

    @staticmethod
    def _follow_rows(boxes: list[pg.ViewBox]) -> None:
        """Show the same keys and queries on every map (a zoom or pan of one moves them all).

        Not ``setXLink``/``setYLink``: side by side, pyqtgraph lines linked views up on screen,
        so a map under a two-line title showed queries from 150 on instead of from 0.
        """
        busy = [False]

        def follow(source: pg.ViewBox) -> None:
            if busy[0]:
                return
            busy[0] = True
            try:
                xs, ys = source.viewRange()
                for box in boxes:
                    if box is not source and box.viewRange() != [xs, ys]:
                        box.setRange(xRange=xs, yRange=ys, padding=0)
            finally:
                busy[0] = False

        for box in boxes:
            box.sigRangeChanged.connect(lambda box, *_: follow(box))

    def _title(self, plot: pg.PlotItem, text: str) -> None:
        """Set a title only when it changed (each set re-lays out the plot's header)."""
        if self._titles.get(id(plot)) != text:
            self._titles[id(plot)] = text
            plot.setTitle(text)

    @staticmethod
    def _clicker(image: pg.ImageItem, on_row: Callable[[int], None]) -> Callable[[MouseClickEvent], None]:
        def clicked(event: MouseClickEvent) -> None:
            y = event.pos().y()
            scale = image.property("bin") or 1
            on_row(int(y * scale))
        return clicked

    def update(self, out: AttentionOutput, theme: Theme, force: bool = False) -> None:
        """Draw ``out``; the full map is re-imaged only for new maps or a new color scale."""
        res = out.result
        p, maps, c = res.params, res.maps, res.comparison
        fresh = force or maps is not self._maps or p.log_color != self._log
        if fresh:
            self._maps, self._log = maps, p.log_color
            self._diff_top, self._row_shown, self._memory_of = 0.0, -1, None
            self._update_full(maps, p.log_color)
        self._update_variant(maps, c, p, fresh)
        if fresh:
            for plot in (self.full_plot, self.var_plot, self.diff_plot):
                plot.setLimits(xMin=0, xMax=maps.n, yMin=0, yMax=maps.n)
            self.full_plot.setRange(xRange=(0, maps.n), yRange=(0, maps.n), padding=0)
            self.mass_plot.setRange(xRange=(0, maps.n), yRange=(0, 1.02), padding=0.01)
        self._update_row(out, theme)
        self.mass.setData(np.arange(maps.n), c.window_mass)
        self._update_ops(p, theme)
        self._update_memory(p, theme)

    def _shown(self, image: np.ndarray, log: bool) -> np.ndarray:
        return np.log10(np.maximum(image, LOG_FLOOR)) if log else image

    def _update_full(self, maps: Maps, log: bool) -> None:
        n, f = maps.n, maps.bin
        # linear scale: the first rows put all weight on a handful of keys, so the top is the
        # 99.9th percentile, not the maximum (1.0), or every other weight would look black
        top = float(np.quantile(maps.image[maps.image > 0], 0.999)) if (maps.image > 0).any() else 1.0
        levels = (np.log10(LOG_FLOOR), 0.0) if log else (0.0, top)
        self.full.setImage(self._shown(maps.image, log), autoLevels=False, levels=levels)
        self.bar.setLevels(levels)
        self.bar.setLabel("left", "log10 weight" if log else "weight")
        self.diff_bar.setLabel("left", "log10 |difference|" if log else "|difference|")
        shown = f", shown in {f}×{f} blocks)" if f > 1 else ")"
        self._title(self.full_plot, f"Full attention (n = {n:,}{shown}")

    def _changed(self, c: Comparison, fresh: bool) -> list[tuple[int, int, int, int]] | None:
        """Return the cells where the variant drawn last or ``c`` may be non-zero (None: all)."""
        if fresh or self._cells is None or self._cells.variant.shape != c.image.shape:
            return None
        was = self._cells.touched
        if len(was) != len(c.touched) or any(a[:2] != b[:2] for a, b in zip(was, c.touched, strict=True)):
            return None
        return [(r0, r1, min(c0, w[2]), r1) for (r0, r1, c0), w in zip(c.touched, was, strict=True)]

    def _update_variant(self, maps: Maps, c: Comparison, p: attention.Params, fresh: bool) -> None:
        log = p.log_color
        changed = self._changed(c, fresh)
        cells = self._cells
        if changed is None or cells is None:
            shown = self._shown(c.image, log)
            diff = np.abs(maps.image - c.image)
            cells = _Shown(shown if log else shown.copy(), diff, np.empty(0), c.touched)
        else:
            cells.touched = c.touched
            for r0, r1, c0, c1 in changed:  # outside them both variants are 0
                now = c.image[r0:r1, c0:c1]
                cells.variant[r0:r1, c0:c1] = self._shown(now, log)
                np.abs(maps.image[r0:r1, c0:c1] - now, out=cells.diff[r0:r1, c0:c1])
        self._cells = cells
        self.variant.set_cells(cells.variant, changed, levels=self.bar.levels())
        # a color scale that moved on every tick would redraw the bar's axis each time
        top = steady_top(self._diff_top, float(cells.diff.max()) or 1e-12)
        if top != self._diff_top:
            self._diff_top, changed = top, None
        if log:
            floor = np.float32(np.log10(top) - 6)
            levels = (float(floor), float(np.log10(top)))
            if changed is None or cells.diff_colour.shape != cells.diff.shape:
                cells.diff_colour = np.log10(np.maximum(cells.diff, 10**floor))
            else:
                for r0, r1, c0, c1 in changed:
                    part = np.maximum(cells.diff[r0:r1, c0:c1], 10**floor)
                    np.log10(part, out=cells.diff_colour[r0:r1, c0:c1])
            self.diff.set_cells(cells.diff_colour, changed, levels=levels)
        else:
            levels = (0.0, top)
            self.diff.set_cells(cells.diff, changed, levels=levels)
        if tuple(self.diff_bar.levels()) != tuple(levels):
            self.diff_bar.setLevels(levels)
        if fresh:  # the same maps keep their shape, so the scale set here holds on later ticks
            for image in (self.full, self.variant, self.diff):
                image.setProperty("bin", maps.bin)
                image.setRect(0, 0, maps.n, maps.n)  # after setImage: the scale comes from its size
        names = {"window": f"Sliding window (w = {p.window})", "topk": f"Top-{p.k} per query",
                 "sinks": f"Window {p.window} + {p.sinks} sinks"}
        self._title(self.var_plot, names[p.variant])
        self.band.setVisible(p.variant != "topk")
        if float(self.band.pos().y() - self.band.pos().x()) != p.window:
            self.band.setPos(QPointF(0, p.window))

    def _update_row(self, out: AttentionOutput, theme: Theme) -> None:
        keys = np.arange(out.row_full.size + 1)
        if out.row != self._row_shown:  # full attention's row does not move with the window
            self.row_full.setData(keys, out.row_full)
        self.row_var.setData(keys, out.row_variant)
        top = steady_top(self._row_top, float(max(out.row_full.max(), out.row_variant.max())))
        if top != self._row_top or out.row != self._row_shown:
            self._row_top = top
            self.row_plot.setYRange(0, top, padding=0.02)
        # a slide has nothing to click
        hint = "" if theme.name == "slide" else " (click a map to pick another)"
        self._title(self.row_plot, f"Weights of query {out.row:,}{hint}")
        if out.row != self._row_shown:  # re-framed only for a new row, not on every window tick
            self._row_shown = out.row
            reach = max(3 * out.result.params.window, 32)
            self.row_plot.setXRange(max(0, out.row - reach), out.row + 2, padding=0.02)
        self.row_line.setValue(out.row + 0.5)

    def _update_ops(self, p: attention.Params, theme: Theme) -> None:
        ns = np.unique(np.concatenate([np.logspace(1, 6, 51).astype(np.int64), p.ops_ns]))
        table = attention.ops(ns, p.d, p.window)
        if (p.d, ns.tobytes()) != self._ops_of:  # full attention's curve does not move with the window
            self._ops_of = (p.d, ns.tobytes())
            self.ops_full.setData(ns, table["full"])
        some = table["windowed"] > 0  # the book's count is 0 at w = 0; a log axis cannot show it
        self.ops_win.setData(ns[some], table["windowed"][some])
        span = (float(np.log10(table["full"].min())), float(np.log10(table["full"].max())))
        if span != self._ops_range:  # does not depend on the window: set once per d
            self._ops_range = span
            self.ops_plot.setRange(xRange=(1, 6), yRange=span, padding=0.03)
        self.ops_now.setValue(np.log10(p.n))
        every = np.ones(ns.size, dtype=bool)
        for name, ys, shown in (("full", table["full"], every), ("windowed", table["windowed"], some)):
            self.ops_names[name].setVisible(bool(shown.any()))  # (log axes: items sit in log10 units)
            name_curve(self.ops_plot, self.ops_names[name], np.log10(ns[shown]), np.log10(ys[shown]),
                       "above" if name == "full" else "below")  # full attention's curve is the upper one

    def set_ghost(self, name: str, shape: Any) -> None:
        """Draw a second model's KV cache (a ``core.model_shape.KvShape``; None: none) dashed."""
        self._ghost = (name, shape)
        self._memory_of = None

    def _update_memory(self, p: attention.Params, theme: Theme) -> None:
        if (p.model, p.context, theme.name) == self._memory_of:
            return
        self._memory_of = (p.model, p.context, theme.name)
        name, shape = self._ghost
        ghost = shape.kv_bytes_many(CONTEXTS) if shape is not None else np.empty(0)
        self.mem_ghost.setData(CONTEXTS[:ghost.size], ghost)
        per = p.model.bytes_per_token()
        held = p.model.bytes_at(CONTEXTS)  # sliding-window layers stop growing at their window
        for scheme in attention.SCHEMES:
            self.mem[scheme].setData(CONTEXTS, held[scheme])
        versus = f"; dashed: {name} ({shape.attention.upper()})" if shape is not None else ""
        self._title(self.mem_plot, f"KV cache, {p.model.name} ({p.model.bytes_per_elem} bytes/value){versus}")
        low, high = min(per.values()) * CONTEXTS[0], max(per.values()) * CONTEXTS[-1]
        if ghost.size:
            low, high = min(low, ghost.min()), max(high, ghost.max())
        self.mem_plot.setRange(xRange=(3, 6), yRange=(np.log10(low), np.log10(high)), padding=0.05)
        self.mem_now.setValue(np.log10(p.context))
        self.mem_now.setPen(pg.mkPen(theme.muted, width=1))

    def restyle(self, theme: Theme) -> None:
        """Recolor the lines and curves.

        Pens are set here only: a pen passed with every ``setData`` makes the legends
        re-render their labels on every tick.
        """
        self.band.setPen(pg.mkPen(mkcolor(theme.accent), width=2))
        self.row_line.setPen(pg.mkPen(theme.accent, width=1))
        self.ops_now.setPen(pg.mkPen(theme.muted, width=1))
        self.mass.setPen(pg.mkPen(theme.color(0), width=1))
        self.row_full.setPen(pg.mkPen(theme.muted, width=1))
        self.row_var.setPen(pg.mkPen(theme.accent, width=1))
        self.ops_full.setPen(pg.mkPen(theme.accent, width=2))
        self.ops_win.setPen(pg.mkPen(theme.color(0), width=2))
        self.ops_names["full"].setColor(theme.accent)
        self.ops_names["windowed"].setColor(theme.color(0))
        at_axis_size(self.ops_names.values(), theme)
        for i, scheme in enumerate(attention.SCHEMES):
            self.mem[scheme].setPen(pg.mkPen(theme.color(i), width=2))
        self.mem_ghost.setPen(pg.mkPen(theme.muted, width=2, style=Qt.PenStyle.DashLine))
        self._memory_of = None
