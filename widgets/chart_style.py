"""Chart text that reads on a slide: titles, legends, line labels and axes.

Titles wrap, legends are docked below their plot, line labels sit on an opaque ground at the
view's edge, and axes keep room between tick labels and their title.

pyqtgraph draws legends and line labels over the data and lets a long title set its plot's
minimum width; these helpers change that for every plot through ``style_plot``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QSizeF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QTextOption
from PySide6.QtWidgets import QSizePolicy
from shiboken6 import isValid

from widgets.theme import Theme

HINTS_HELD_MS = 600
"""How long a title keeps size hints its text no longer needs (see ``WrappingTitle._steady``)."""
TITLE_MAX_MIN_WIDTH = 300
"""A title may hold its plot at most this wide (pixels); a longer one takes three lines or more."""


class WrappingTitle(pg.LabelItem):
    """A plot title that wraps onto more lines rather than hold its plot (and grid) wide.

    pyqtgraph's title makes the whole title's width the plot's minimum width and fixes its row
    at 30 px, so one long title decides how many plots fit side by side.
    """

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__(" ", parent=plot, size="11pt")
        self._plot = plot
        option = QTextOption(Qt.AlignmentFlag.AlignHCenter)
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        self.item.document().setDefaultTextOption(option)
        self._kept: tuple[object, float, float, float] | None = None
        """The font size, min width, preferred width and height last set (see :meth:`_steady`)."""
        self._lapse = QTimer(self)
        self._lapse.setSingleShot(True)
        self._lapse.setInterval(HINTS_HELD_MS)
        self._lapse.timeout.connect(self._fit_afresh)

    def _natural(self) -> QSizeF:
        self.item.setTextWidth(-1)
        size: QSizeF = self.item.boundingRect().size()  # pyqtgraph's item is untyped
        return size

    def updateMin(self) -> None:  # noqa: N802 (pyqtgraph override)
        """Allow half the one-line width (two lines; more for very long titles), at least the longest word."""
        if not hasattr(self, "_plot"):
            super().updateMin()
            return
        if not self._alive():  # an exception here, inside Qt's resize, would crash the process
            return
        natural = self._natural()
        words = [w for w in re.split(r"\s+", self.item.toPlainText()) if w]  # the words, not the markup
        metrics = QFontMetricsF(self.item.document().defaultFont())
        longest = max((metrics.horizontalAdvance(w) for w in words), default=0.0)
        width = min(natural.width(), max(min(natural.width() / 2 + 12, TITLE_MAX_MIN_WIDTH), longest + 12))
        self._wrap(max(self.width(), width))
        width, preferred, height = self._steady(width, natural.width(), self.item.boundingRect().height())
        self.setMinimumSize(width, height)
        self.setMaximumHeight(height)
        self._plot.layout.setRowFixedHeight(0, height if self.isVisible() else 0)
        self._sizeHint = {Qt.SizeHint.MinimumSize: (width, height),
                          Qt.SizeHint.PreferredSize: (preferred, height),
                          Qt.SizeHint.MaximumSize: (-1, -1), Qt.SizeHint.MinimumDescent: (0, 0)}
        self.updateGeometry()

    def _steady(self, width: float, preferred: float, height: float) -> tuple[float, float, float]:
        """Return the size hints to set: while the text changes quickly, they only grow.

        A title that shows a dragged value changed its hints on most ticks (a digit more, a
        line fewer), and each change moved the grid's rows or columns by a few pixels: every
        plot re-laid out and repainted (20 ms a tick). Hints held above what the text needs are
        fitted afresh once the text has kept still for :data:`HINTS_HELD_MS` (the drag ended),
        and on every new width or font size.
        """
        size = self.opts.get("size")
        need = (width, preferred, height)
        if self._kept is not None and self._kept[0] == size:
            width, preferred, height = (max(now, was) for now, was in zip(need, self._kept[1:], strict=True))
        self._kept = (size, width, preferred, height)
        if (width, preferred, height) != need or self._lapse.isActive():
            self._lapse.start()  # again on every change: fitted afresh only once the text keeps still
        return width, preferred, height

    def _fit_afresh(self) -> None:
        if self._alive():
            self._kept = None
            self.updateMin()

    def _wrap(self, width: float) -> None:
        natural = self._natural()
        self.item.setTextWidth(width if width + 0.5 < natural.width() else -1)

    def _alive(self) -> bool:
        """Whether the plot's layout still exists (a resize can arrive while a panel is deleted)."""
        return hasattr(self, "_plot") and isValid(self._plot) and isValid(self._plot.layout)

    def resizeEvent(self, ev: object) -> None:  # noqa: N802 (pyqtgraph override)
        """Re-wrap for the new width, then center the text."""
        if not isValid(self):
            return
        if self._alive():
            before = self.item.boundingRect().height()
            self._wrap(self.width())
            if self.item.boundingRect().height() != before:
                self._kept = None  # a new width: the hints fit the text as it wraps now
                self.updateMin()
        super().resizeEvent(ev)


def wrap_title(plot: pg.PlotItem) -> None:
    """Replace the plot's title label by a :class:`WrappingTitle` (once)."""
    old = plot.titleLabel
    if isinstance(old, WrappingTitle):
        return
    title = WrappingTitle(plot)
    title.opts.update(old.opts)
    plot.layout.removeItem(old)
    old.setParentItem(None)
    if old.scene() is not None:
        old.scene().removeItem(old)
    plot.layout.addItem(title, 0, 1)
    plot.titleLabel = title
    title.setVisible(old.isVisible())
    title.setText(old.text)


MIN_DATA_WIDTH, MIN_DATA_HEIGHT = 80, 60
"""The smallest data area (pixels) a plot may get before its grid reflows to fewer columns."""
LEGEND_COLUMNS = 4
"""Legend entries per row below a plot (more entries wrap onto further rows)."""


def dock_legend(plot: pg.PlotItem, theme: Theme) -> None:
    """Style the plot's legend: opaque ground, tick-sized text; on slides, docked below the plot.

    pyqtgraph anchors a legend inside the view box, over the curves. With the theme's
    ``legends_below`` the legend becomes a cell of the plot's own layout instead, so the layout
    (and the grid's reflow) counts its size; otherwise it goes back to its corner.
    """
    legend = plot.legend
    if legend is None:
        return
    docked = getattr(legend, "docked", None)
    if theme.legends_below and docked is None:
        _dock(plot, legend)
    elif not theme.legends_below and docked is not None:
        _undock(plot, legend, docked)
    if not hasattr(legend, "most_columns"):  # once: its rows follow the plot's size from now on
        legend.most_columns = max(legend.columnCount, 3 if len(legend.items) > 3 else 1)
        plot.vb.sigResized.connect(lambda *_: fit_legend(plot))
    ground = QColor(theme.background)
    if not theme.legends_below:  # on screen: short rows, and the curves show through a little
        ground.setAlpha(205)
        fit_legend(plot)
    legend.setBrush(pg.mkBrush(ground))
    legend.setPen(pg.mkPen(theme.muted if not theme.legends_below else None))
    legend.setLabelTextColor(theme.foreground)
    legend.setLabelTextSize(f"{theme.font_pt}pt")
    for _sample, label in legend.items:  # the two setters above only reach new entries
        label.setText(label.text)


def fit_legend(plot: pg.PlotItem) -> None:
    """On screen, give the legend as many columns (up to its most) as its view box is wide for.

    Three columns of long names are wider than a narrow plot, and the view box cuts off what
    sticks out; fewer columns make it taller instead. A docked (slide) legend takes a row of up
    to six entries where the plot is wide enough (:func:`_fit_docked`).
    """
    legend = plot.legend
    if legend is None or not legend.items:
        return
    if getattr(legend, "docked", None) is not None:
        _fit_docked(plot, legend)
        return
    room = plot.vb.width() - 2 * abs(float(legend.opts["offset"][0] if legend.opts["offset"] else 0)) - 4
    for columns in range(min(getattr(legend, "most_columns", 3), len(legend.items)), 0, -1):
        legend.setColumnCount(columns)
        if legend.width() <= room:
            break


def _fit_docked(plot: pg.PlotItem, legend: pg.LegendItem) -> None:
    """Below the plot: one row more than :data:`LEGEND_COLUMNS` entries if the plot is wide enough.

    A pin's entry made a fifth one, and a second row took the height of a short plot on a slide.
    """
    room = _share_of_view(plot) - 8
    for columns in range(min(len(legend.items), LEGEND_COLUMNS + 2), 0, -1):
        legend.setColumnCount(columns)
        if columns <= LEGEND_COLUMNS or legend.layout.preferredWidth() <= room:
            break


def _share_of_view(plot: pg.PlotItem) -> float:
    """Return the width the view gives ``plot``'s grid columns.

    Not the plot's own width: a wide legend below it holds that wider than the window.
    """
    grid = plot.parentItem()
    cells = getattr(grid, "items", {}).get(plot) if grid is not None else None
    views = plot.scene().views() if plot.scene() is not None else []
    if not cells or not views or not hasattr(grid, "layout"):
        return float(plot.width())
    columns = max(int(grid.layout.columnCount()), 1)
    return float(views[0].width()) * len({col for _row, col in cells}) / columns


def _dock(plot: pg.PlotItem, legend: pg.LegendItem) -> None:
    # the anchor would move the legend back over the view box on every resize
    parent = legend._GraphicsWidgetAnchor__parent
    if parent is not None:
        parent.geometryChanged.disconnect(legend._GraphicsWidgetAnchor__geometryChanged)
        legend._GraphicsWidgetAnchor__parent = None
    legend.docked = (legend.opts["offset"], legend.columnCount)
    legend.opts["offset"] = None
    legend.size = (0, 0)  # updateSize() would set a geometry the layout owns
    legend.setParentItem(plot)
    legend.layout.setHorizontalSpacing(14)
    legend.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
    plot.layout.addItem(legend, 4, 1, alignment=Qt.AlignmentFlag.AlignHCenter)
    _fit_docked(plot, legend)


def _undock(plot: pg.PlotItem, legend: pg.LegendItem, docked: tuple[object, int]) -> None:
    offset, columns = docked
    plot.layout.removeItem(legend)
    legend.docked = None
    legend.size = None
    legend.opts["offset"] = offset
    legend.setColumnCount(columns)
    legend.setParentItem(plot.vb)  # re-anchors at the old offset
    legend.updateSize()


def style_line_labels(plot: pg.PlotItem, theme: Theme) -> None:
    """Put every line label of the plot at an edge of the view, on the background, tick-sized.

    Vertical lines take turns: the first label hangs from the top edge, the next stands on the
    bottom edge, and so on; each sits beside its line, toward the middle of the view.
    Horizontal lines take the right end, then the left end, above the line.
    """
    font = QFont()
    font.setPointSize(theme.font_pt)
    ground = QColor(theme.background)
    ground.setAlpha(150)  # the data under a label shows through (an opaque box hid it)
    inverted = bool(plot.vb.state.get("yInverted"))
    upright = 0
    level = 0
    for item in plot.items:
        label = getattr(item, "label", None)
        if not isinstance(item, pg.InfiniteLine) or label is None:
            continue
        label.fill = pg.mkBrush(ground)
        label.border = pg.mkPen(None)
        label.setColor(theme.foreground)
        label.setFont(font)
        if item.angle % 180 == 90:
            top = upright % 2 == 0
            upright += 1
            y_anchor = 0 if top else 1
            label.anchors = [(0, y_anchor), (1, y_anchor)]
            label.setPosition(1.0 if top != inverted else 0.0)
        else:
            right = level % 2 == 0
            level += 1
            label.anchors = [(1 if right else 0, 1)] * 2
            label.setPosition(1.0 if right else 0.0)


LABEL_MARGIN = 8
"""Margin (px) around an axis title; pyqtgraph reserves 0.8 of the title's box, so the default
margin of 4 lets a slide-sized title touch its tick labels."""


def readable_axis(axis: pg.AxisItem, font_pt: int, base_pt: int = 9) -> None:
    """Keep an axis's title clear of its tick labels and label log axes by readable decades.

    Widths and heights a panel fixed for the base font size grow with the theme's font.
    """
    axis.label.document().setDocumentMargin(LABEL_MARGIN)
    if axis.logMode:
        axis.logTickValues = _decade_ticks(axis)
    elif not isinstance(axis, pg.DateAxisItem):
        axis.tickSpacing = _roomy_spacing(axis, type(axis).tickSpacing.__get__(axis))
    if "setTicks" not in axis.__dict__:
        axis.setTicks = _category_ticks(axis, axis.setTicks)
    axis.setTicks(axis._tickLevels)
    for name, setter in (("fixedWidth", axis.setWidth), ("fixedHeight", axis.setHeight)):
        base = axis.__dict__.setdefault(f"base_{name}", getattr(axis, name))
        if base is not None:
            setter(round(base * max(font_pt, base_pt) / base_pt))
    if axis.orientation in ("top", "bottom"):
        # pyqtgraph sizes a horizontal axis to 0.8 of its labels' height, but draws them whole:
        # at slide sizes their lower part fell under the next row of plots
        line = math.ceil(QFontMetricsF(axis.style.get("tickFont") or QFont()).height())
        if axis.textHeight < line:
            axis.textHeight = line
            axis._updateHeight()


def _decade_ticks(axis: pg.AxisItem) -> Callable[..., list[tuple[float | None, list[float]]]]:
    """Return a log-tick generator for ``axis``: decades, every k-th when they would crowd."""

    def ticks(low: float, high: float, size: float, _std: object) -> list[tuple[float | None, list[float]]]:
        metrics = QFontMetricsF(axis.style.get("tickFont") or QFont())
        upright = axis.orientation in ("left", "right")
        room = (metrics.height() if upright else metrics.horizontalAdvance("10¹⁰")) + 8
        decades = list(range(math.ceil(low - 1e-9), math.floor(high + 1e-9) + 1))
        if len(decades) >= 2:
            per_decade = size / max(high - low, 1e-9)
            step = max(1, math.ceil(room / max(per_decade, 1e-9)))
            return [(float(step), [float(d) for d in decades if d % step == 0])]
        marks = [d + math.log10(m) for d in range(math.floor(low), math.ceil(high) + 1) for m in (1, 2, 5)]
        return [(None, [v for v in marks if low <= v <= high])]

    return ticks


CATEGORY_ROWS = 12
"""Category labels an upright axis shows at most (more are thinned to every k-th)."""


def _text_room(axis: pg.AxisItem, sample: str = "0000") -> float:
    """Pixels one tick label needs along the axis, with a gap."""
    metrics = QFontMetricsF(axis.style.get("tickFont") or QFont())
    if axis.orientation in ("left", "right"):
        return metrics.height() + 4
    return metrics.horizontalAdvance(sample) + 16


def _roomy_spacing(axis: pg.AxisItem, spacing: Callable[..., Any]) -> Callable[..., Any]:
    """Widen the labelled tick spacing until labels of the axis's font no longer crowd.

    pyqtgraph always labels its major ticks, spaced for small fonts; slide fonts overlapped.
    """

    def levels(low: float, high: float, size: float) -> Any:
        found = spacing(low, high, size)
        if not found or size <= 0 or high <= low:
            return found
        major = float(found[0][0])
        widest = max((str(s) for s in axis.tickStrings([low, high], 1.0, major)), key=len, default="0")
        room = _text_room(axis, widest)
        step = major
        per_unit = size / (high - low)
        while step * per_unit < room:
            step *= 2.5 if str(step / major).startswith("2") else 2.0
        return found if step == major else [(step, 0.0), *found[:1]]

    return levels


def _category_ticks(axis: pg.AxisItem, set_ticks: Callable[[Any], None]) -> Callable[[Any], None]:
    """Wrap ``axis.setTicks``: an upright axis keeps its view tall enough for its labels."""

    def apply(ticks: Any) -> None:
        if ticks and axis.orientation in ("left", "right") and ticks[0]:
            major = list(ticks[0])
            every = -(-len(major) // CATEGORY_ROWS)
            if every > 1:
                ticks = [major[::every], [(v, "") for v, _ in major], *ticks[2:]]
            view = axis.linkedView()
            if view is not None:
                rows = min(len(major), CATEGORY_ROWS)
                view.setMinimumHeight(max(MIN_DATA_HEIGHT, rows * _text_room(axis)))
        set_ticks(ticks)

    return apply
