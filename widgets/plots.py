"""Shared pyqtgraph pieces: the plot view every panel draws in, and small item helpers."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtGui import QColor, QFont, QPaintEvent
from PySide6.QtWidgets import QGraphicsItem

from widgets.theme import Theme

_configured = False


def configure_pyqtgraph() -> None:
    """Set pyqtgraph's global options once, before any item exists (STYLE.md)."""
    global _configured
    if not _configured:
        pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, useOpenGL=False)
        _configured = True


class PlotView(pg.GraphicsLayoutWidget):
    """A layout of plots that counts its paints, so benchmarks can time value -> pixels."""

    def __init__(self) -> None:
        configure_pyqtgraph()
        super().__init__()
        self.paint_count = 0
        self.last_paint_end = 0.0

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """Paint, then record when painting finished."""
        super().paintEvent(event)
        self.paint_count += 1
        self.last_paint_end = time.perf_counter()


def mkcolor(hex_color: str, alpha: int = 255) -> QColor:
    """Return a QColor from ``#rrggbb`` with an alpha."""
    color = QColor(hex_color)
    color.setAlpha(alpha)
    return color


def style_plot(plot: pg.PlotItem, theme: Theme) -> None:
    """Apply a theme's foreground color and font sizes to a plot's axes and title."""
    font = QFont()
    font.setPointSize(theme.font_pt)
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(theme.foreground))
        axis.setTextPen(pg.mkPen(theme.foreground))
        axis.setTickFont(font)
        axis.label.setFont(font)
        axis.setLabel(axis.labelText, units=axis.labelUnits, color=theme.foreground)
    plot.titleLabel.setText(plot.titleLabel.text, color=theme.foreground, size=f"{theme.title_pt}pt")


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


def place_labels(plot: pg.PlotItem, pool: list[pg.TextItem], items: Sequence[tuple[str, float, float]],
                 anchor: tuple[float, float], color: str) -> None:
    """Show one text item per (text, x, y), reusing ``pool`` (it only grows; extras are hidden).

    Text items are created on demand and kept, never re-created per update.
    """
    while len(pool) < len(items):
        label = pg.TextItem(anchor=anchor)
        plot.addItem(label)
        pool.append(label)
    for label, (text, x, y) in zip(pool, items, strict=False):
        label.setText(text, color=color)
        label.setPos(x, y)
        label.setVisible(True)
    for label in pool[len(items):]:
        label.setVisible(False)


def cache_pixmaps(*items: pg.PlotDataItem) -> None:
    """Keep curves that do not change while a slider moves as cached pixmaps.

    The whole scene repaints on every tick; a cached curve costs a blit instead of thousands of
    line segments (its cache is redrawn when its data or the view range changes).
    """
    for item in items:
        item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def steady_top(current: float, needed: float) -> float:
    """Return an axis top for ``needed`` that moves rarely.

    ``current`` is kept while it fits and is not more than 2.5x too tall; otherwise ``needed``
    is rounded up to 1, 2 or 5 x 10^k. A range that changes on every slider tick re-lays out
    the axis and repaints twice.
    """
    if needed <= 0:
        return current if current > 0 else 1.0
    if needed <= current <= needed * 2.5:
        return current
    scale = 10.0 ** np.floor(np.log10(needed))
    return float(next(m * scale for m in (1, 2, 5, 10) if m * scale >= needed))


def set_category_ticks(axis: pg.AxisItem, labels: Sequence[str]) -> None:
    """Label integer positions 0..n-1 of ``axis`` with ``labels``."""
    axis.setTicks([[(i, label) for i, label in enumerate(labels)], []])


def category_lut(colors: Sequence[QColor], empty: QColor) -> NDArray[np.uint8]:
    """Return a 256-entry RGBA lookup table: 0 is ``empty``, k is ``colors[k-1]``."""
    lut = np.zeros((256, 4), dtype=np.uint8)
    lut[:] = empty.getRgb()
    for k, color in enumerate(colors[:255], start=1):
        lut[k] = color.getRgb()
    return lut
