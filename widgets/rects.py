"""One pyqtgraph item for many rectangles (timeline bars), drawn with one call per color."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget


class Rects(pg.GraphicsObject):
    """Axis-aligned rectangles in data coordinates, grouped by color.

    ``QGraphicsRectItem`` per bar would make the scene index itself walk 100,000 items on
    every repaint; here a repaint is one ``drawRects`` per color, and ``cached=True`` keeps
    the result as a pixmap while nothing but an overlay moves. NumPy writes the rectangles
    straight into the arrays Qt draws (no ``QRectF`` per bar in Python), and a fully
    transparent color draws outlines only, with no brush (a transparent fill still costs).
    """

    def __init__(self, cached: bool = False) -> None:
        super().__init__()
        self._groups: list[tuple[QBrush, QPen, PrimitiveArray]] = []
        self._bounds = QRectF()
        if cached:
            self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_rects(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
                  group: np.ndarray, colors: Sequence[QColor], outline: QColor | None = None,
                  width: float = 0.0) -> None:
        """Replace the rectangles; ``group[i]`` indexes ``colors`` (a transparent color: outline only)."""
        self.prepareGeometryChange()
        x0, y0 = np.asarray(x0, float), np.asarray(y0, float)
        w, h = np.asarray(x1, float) - x0, np.asarray(y1, float) - y0
        self._groups = []
        for g, color in enumerate(colors):
            sel = np.flatnonzero(group == g)
            if not sel.size:
                continue
            pen = QPen(outline or color)
            pen.setWidthF(width)
            pen.setCosmetic(True)
            rects = PrimitiveArray(QRectF, 4)
            rects.resize(sel.size)
            corners = rects.ndarray()
            corners[:, 0], corners[:, 1], corners[:, 2], corners[:, 3] = x0[sel], y0[sel], w[sel], h[sel]
            brush = QBrush(color) if color.alpha() else QBrush(Qt.BrushStyle.NoBrush)
            self._groups.append((brush, pen, rects))
        if x0.size:
            self._bounds = QRectF(float(x0.min()), float(y0.min()), float((x0 + w).max() - x0.min()),
                                  float((y0 + h).max() - y0.min()))
        else:
            self._bounds = QRectF()
        self.update()

    def rects(self) -> np.ndarray:
        """Return every rectangle as rows of x, y, width, height (group by group)."""
        return np.concatenate([r.ndarray() for _b, _p, r in self._groups]) if self._groups \
            else np.zeros((0, 4))

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        """Return the rectangle holding every bar."""
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        """Draw each color group with one ``drawRects`` call."""
        for brush, pen, rects in self._groups:
            painter.setBrush(brush)
            painter.setPen(pen)
            painter.drawRects(*rects.drawargs())
