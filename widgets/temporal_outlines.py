"""Outlines of many rectangles in one pen, filled from arrays: the facts held at the as-of instant.

They change on every as-of tick (one per key, 1,000 keys in the benchmark), so making a
``QRectF`` per rectangle in Python and filling each with a transparent brush, as
:class:`~widgets.rects.Rects` does for colored bars, was a fifth of a tick. Here NumPy writes
the rectangles straight into one array Qt draws (pyqtgraph's ``BarGraphItem`` does the same),
with no brush.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget


class Outlines(pg.GraphicsObject):
    """Axis-aligned rectangle outlines in data coordinates, one cosmetic pen for all."""

    def __init__(self) -> None:
        super().__init__()
        self._rects = PrimitiveArray(QRectF, 4)
        self._pen = QPen()
        self._bounds = QRectF()

    def set_outlines(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
                     color: QColor, width: float) -> None:
        """Replace the rectangles (corners ``x0, y0`` to ``x1, y1``) and the pen."""
        self.prepareGeometryChange()
        x0, y0 = np.asarray(x0, float), np.asarray(y0, float)
        x1, y1 = np.asarray(x1, float), np.asarray(y1, float)
        self._rects.resize(x0.size)
        corners = self._rects.ndarray()
        corners[:, 0], corners[:, 1] = x0, y0
        corners[:, 2], corners[:, 3] = x1 - x0, y1 - y0
        self._pen = QPen(color)
        self._pen.setWidthF(width)
        self._pen.setCosmetic(True)
        self._bounds = (QRectF(float(x0.min()), float(y0.min()), float(x1.max() - x0.min()),
                               float(y1.max() - y0.min())) if x0.size else QRectF())
        self.update()

    def rects(self) -> np.ndarray:
        """Return the rectangles as rows of x, y, width, height."""
        return np.array(self._rects.ndarray(), copy=True)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        """Return the rectangle holding every outline."""
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        """Draw every outline with one ``drawRects`` call."""
        painter.setPen(self._pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRects(*self._rects.drawargs())
