"""Shared pyqtgraph pieces: the plot view every panel draws in, and small item helpers."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QGraphicsItem

from widgets.chart_style import (
    MIN_DATA_HEIGHT,
    MIN_DATA_WIDTH,
    dock_legend,
    readable_axis,
    style_line_labels,
    wrap_title,
)
from widgets.plot_room import place_curve_labels, place_legend, place_line_labels
from widgets.reflow import Reflow
from widgets.theme import Theme
from widgets.value_labels import at_point_size

_configured = False
LEGENDS_SETTLE_MS = 300
"""A legend is placed this long after the data or the size last changed, not in mid-drag."""
MIN_VIEW_HEIGHT = 380
"""Most height (pixels) a plot view claims from a splitter beside a text view or table."""


def configure_pyqtgraph() -> None:
    """Set pyqtgraph's global options once, before any item exists (STYLE.md)."""
    global _configured
    if not _configured:
        pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, useOpenGL=False)
        _configured = True


class PlotView(pg.GraphicsLayoutWidget):
    """A layout of plots that reflows to fit and counts its paints (benchmarks time value -> pixels).

    Panels place plots for a wide view; when the view is too narrow (or too short) for that
    grid, :class:`~widgets.reflow.Reflow` re-places the same items on fewer columns.
    """

    def __init__(self) -> None:
        configure_pyqtgraph()
        super().__init__()
        self.paint_count = 0
        self.last_paint_end = 0.0
        self.reflow = Reflow(self.ci)
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self.refit)
        self._legends = QTimer(self)  # legends move once a drag or a resize has settled
        self._legends.setSingleShot(True)
        self._legends.setInterval(LEGENDS_SETTLE_MS)
        self._legends.timeout.connect(self.place_legends)

    def schedule_legends(self) -> None:
        """Place the on-screen legends :data:`LEGENDS_SETTLE_MS` after the last call (new data, a resize)."""
        self._legends.start()

    def place_legends(self) -> None:
        """Put each legend over its plot in the corner where it covers the least (see plot_room)."""
        if not self.closed:
            for item in self.ci.items:
                if isinstance(item, pg.PlotItem):
                    place_legend(item)
                    place_line_labels(item)
                    place_curve_labels(item)

    def settle_labels(self) -> None:
        """Place legends and hide crowded labels now, for the size the view has (an export)."""
        if not self.closed:
            for item in self.ci.items:
                declutter = getattr(item, "declutter", None)
                if declutter is not None:
                    declutter()
            self.place_legends()

    def refit(self) -> bool:
        """Choose the column count for the current size; return whether the plots fit."""
        if self.closed:  # the scene is cleared; its items are gone
            return True
        size = self.viewport().size()
        before = self.reflow.columns
        fits = self.reflow.fit(size.width(), size.height())
        if self.reflow.columns != before:  # re-placing items lets the grid shrink to its hint
            self.ci.setGeometry(self.range)
            self.updateGeometry()
        return fits

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """Ask a splitter for the grid's height (up to :data:`MIN_VIEW_HEIGHT`), no width.

        The width is left to the reflow: a minimum width taken from the current column count
        would hold the window too wide to ever reflow.
        """
        need = self.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()
        return QSize(0, round(min(need, MIN_VIEW_HEIGHT)))

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 (Qt override)
        """Resize the plot grid, then reflow it if it no longer fits (or a wider one would)."""
        super().resizeEvent(event)
        if hasattr(self, "reflow"):  # pyqtgraph calls this once from its own __init__
            self.refit()
            self.schedule_legends()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """Paint, then record when painting finished; a grid that outgrew the view reflows next."""
        super().paintEvent(event)
        self.paint_count += 1
        self.last_paint_end = time.perf_counter()
        need = self.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize)
        size = self.viewport().size()
        if need.width() > size.width() + 0.5 or need.height() > size.height() + 0.5:
            self._refit.start()


def mkcolor(hex_color: str, alpha: int = 255) -> QColor:
    """Return a QColor from ``#rrggbb`` with an alpha."""
    color = QColor(hex_color)
    color.setAlpha(alpha)
    return color


def rgba(color: QColor) -> tuple[int, int, int, int]:
    """Return ``color``'s red, green, blue and alpha (0-255), as ``QColor.getRgb`` does."""
    return color.red(), color.green(), color.blue(), color.alpha()


def colour_bars(plot: pg.PlotItem) -> list[pg.ColorBarItem]:
    """Return the colour bars inserted into ``plot``'s own layout (``insert_in=plot``)."""
    layout = plot.layout
    return [item for item in (layout.itemAt(i) for i in range(layout.count()))
            if isinstance(item, pg.ColorBarItem)]


def style_plot(plot: pg.PlotItem, theme: Theme) -> None:
    """Apply a theme to a plot: axes, title, legend (docked below the plot) and line labels."""
    wrap_title(plot)
    # a plot smaller than this shows no data worth reading: the grid reflows before that
    plot.vb.setMinimumSize(MIN_DATA_WIDTH, MIN_DATA_HEIGHT)
    font = QFont()
    font.setPointSize(theme.font_pt)
    # color bars inserted into the plot are plots themselves, with axes of their own
    owners = [plot, *colour_bars(plot)]
    for axis in [owner.getAxis(name) for owner in owners for name in ("left", "bottom", "right", "top")]:
        axis.setPen(pg.mkPen(theme.foreground))
        axis.setTextPen(pg.mkPen(theme.foreground))
        axis.setTickFont(font)
        axis.label.setFont(font)
        axis.setLabel(axis.labelText, units=axis.labelUnits, color=theme.foreground)
        readable_axis(axis, theme.font_pt)
    if getattr(plot.vb, "label_room", 0):  # category labels: their room in this theme's font
        levels = getattr(plot.getAxis("bottom"), "_tickLevels", None) or [[]]
        _hold_label_room(plot.getAxis("bottom"), [text for _value, text in levels[0]])
    plot.titleLabel.setText(plot.titleLabel.text, color=theme.foreground, size=f"{theme.title_pt}pt")
    dock_legend(plot, theme)
    style_line_labels(plot, theme)


def budget_line(
    plot: pg.PlotItem, on_drag: Callable[[float], None], label: str = "budget"
) -> pg.InfiniteLine:
    """Add a vertical draggable line to ``plot`` that reports its position while dragged."""
    line = pg.InfiniteLine(
        angle=90,
        movable=True,
        label=label,
        labelOpts={"position": 0.95, "movable": False},
    )
    line.sigPositionChanged.connect(lambda item: on_drag(float(item.value())))
    plot.addItem(line)
    return line


def set_line(line: pg.InfiniteLine, value: float) -> None:
    """Move a line to ``value``; the drag handler sees an unchanged value and does nothing."""
    if float(line.value()) != value:
        line.setValue(value)


def in_chart_pt(theme: Theme) -> int:
    """Return the point size of names written in a chart (bars, nodes): 9 on screen, larger on slides."""
    return max(theme.font_pt - 2, 9)


def place_labels(plot: pg.PlotItem, pool: list[pg.TextItem],
                 items: Sequence[tuple[str, float, float] | tuple[str, float, float, str]],
                 anchor: tuple[float, float], color: str, point_size: int | None = None,
                 declutter: bool = False) -> None:
    """Show one text item per (text, x, y[, colour]), reusing ``pool`` (it only grows; extras are hidden).

    Text items are created on demand and kept, never re-created per update. ``point_size``
    sets their font (else they keep the application's 9 pt); an item's own colour overrides
    ``color``. With ``declutter``, a label that would overlap one earlier in ``items`` is
    hidden, again whenever the plot is resized or zoomed (hovering a point names it instead).
    """
    while len(pool) < len(items):
        label = pg.TextItem(anchor=anchor)
        plot.addItem(label)
        pool.append(label)
    if point_size is not None:
        at_point_size(pool[:len(items)], point_size)
    for label, (text, x, y, *ink) in zip(pool, items, strict=False):
        label.setText(text, color=ink[0] if ink else color)
        label.setPos(x, y)
        label.setVisible(True)
    for label in pool[len(items):]:
        label.setVisible(False)
    if declutter:
        shown = pool[:len(items)]
        if not hasattr(plot, "declutter"):  # once per plot: a zoom or a resize frees or crowds labels
            later = QTimer(plot.vb)  # once per burst of pan or resize events, not per event
            later.setSingleShot(True)
            later.setInterval(0)
            later.timeout.connect(lambda: plot.declutter())
            plot.vb.sigResized.connect(later.start)
            plot.vb.sigRangeChanged.connect(later.start)
        plot.declutter = lambda: hide_overlaps(plot, shown)
        plot.declutter()


def hide_overlaps(plot: pg.PlotItem, labels: Sequence[pg.TextItem]) -> None:
    """Show each of ``plot``'s labels unless it would overlap one before it (the first ones win)."""
    plot.vb.updateMatrix()  # data -> pixels as the next paint will have them (a range just set)
    taken: list[QRectF] = []
    for label in labels:
        label.setVisible(True)  # a hidden label keeps the transform of the size it was hidden at
        label.updateTransform(force=True)  # placed as the next paint will place it
        box = label.sceneBoundingRect().adjusted(1, 1, -1, -1)  # labels may touch
        free = not any(box.intersects(other) for other in taken)
        label.setVisible(free)
        if free:
            taken.append(box)


def log_ticks(low: float, high: float, most: int = 6) -> list[tuple[float, str]]:
    """Return (log10 position, label) ticks between ``low`` and ``high``.

    As many as fit in ``most``: at decades, 1-3, 1-2-5, 1-2-3-5-7 or every digit. Always
    1-2-5 labelled capacities from 12 to 85 at 20 and 50 only, and 1 to 1,000 at 1, 5, 20,
    100 and 500.
    """
    best: list[int] = []
    for digits in ((1,), (1, 3), (1, 2, 5), (1, 2, 3, 5, 7), tuple(range(1, 10))):
        inside = [m * 10**k for k in range(0, 10) for m in digits if low <= m * 10**k <= high]
        if len(inside) > most:
            break
        best = inside
    if not best:  # even the decades are too many: every other one
        best = [10**k for k in range(0, 10) if low <= 10**k <= high][::2]
    return [(float(np.log10(v)), f"{v:,}") for v in best or [round(low)]]


def cache_pixmaps(*items: pg.PlotDataItem) -> None:
    """Keep curves that do not change while a slider moves as cached pixmaps.

    The whole scene repaints on every tick; a cached curve costs a blit instead of thousands of
    line segments (its cache is redrawn when its data or the view range changes).
    """
    for item in items:
        item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


STEADY_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
"""Axis tops ``steady_top`` rounds up to, times a power of ten (at most 4/3 of the data)."""
STEADY_SLACK = 1.6
"""A kept axis top may be at most this many times the data (more looks half empty on a slide)."""


def steady_top(current: float, needed: float) -> float:
    """Return an axis top for ``needed`` that moves rarely.

    ``current`` is kept while it fits and is not more than :data:`STEADY_SLACK` times too tall;
    otherwise ``needed`` is rounded up to the next of :data:`STEADY_STEPS` x 10^k. A range that
    changes on every slider tick re-lays out the axis and repaints twice; one rounded to 1, 2
    or 5 left charts up to 2.5x taller than their data.
    """
    if needed <= 0:
        return current if current > 0 else 1.0
    if needed <= current <= needed * STEADY_SLACK:
        return current
    scale = 10.0 ** np.floor(np.log10(needed))
    return float(next(m * scale for m in STEADY_STEPS if m * scale >= needed))


def set_category_ticks(axis: pg.AxisItem, labels: Sequence[str]) -> None:
    """Label integer positions 0..n-1 of ``axis`` with ``labels`` (unchanged labels: nothing to do).

    ``setTicks`` drops the axis's drawn picture and lays it out again; a panel that sets the
    same labels on every slider tick would pay that each time.
    """
    ticks = [[(i, label) for i, label in enumerate(labels)], []]
    if getattr(axis, "_tickLevels", None) != ticks:
        axis.setTicks(ticks)
    _hold_label_room(axis, labels)


CATEGORY_GAP = 12
"""Pixels between two category labels side by side."""
MOST_LABEL_ROOM = 420
"""The widest a plot asks to be for its category labels; longer labels are the panel's to shorten."""


def _hold_label_room(axis: pg.AxisItem, labels: Sequence[str]) -> None:
    """Ask a bottom axis's plot to be wide enough to print its labels side by side.

    A narrower view then reflows the grid onto fewer columns (``widgets/reflow.py``), rather
    than running the labels together ("inputoutputcache" at 1280x720).
    """
    vb = axis.linkedView()
    if axis.orientation != "bottom" or vb is None or not labels:
        return
    metrics = QFontMetricsF(axis.style.get("tickFont") or QFont())
    need = len(labels) * (max(metrics.horizontalAdvance(label) for label in labels) + CATEGORY_GAP)
    vb.label_room = min(need, MOST_LABEL_ROOM)  # style_plot keeps it too
    need = max(MIN_DATA_WIDTH, vb.label_room)
    if vb.minimumWidth() != need:
        vb.setMinimumWidth(need)


def category_lut(colors: Sequence[QColor], empty: QColor) -> NDArray[np.uint8]:
    """Return a 256-entry RGBA lookup table: 0 is ``empty``, k is ``colors[k-1]``."""
    lut = np.zeros((256, 4), dtype=np.uint8)
    lut[:] = rgba(empty)
    for k, color in enumerate(colors[:255], start=1):
        lut[k] = rgba(color)
    return lut
