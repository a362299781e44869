"""A bar item that draws all bars of one style with one call, for many side-by-side bars."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPen, QPolygonF

_PLAIN_BRUSHES = {Qt.BrushStyle.NoBrush, Qt.BrushStyle.SolidPattern, *(
    getattr(Qt.BrushStyle, f"{name}Pattern") for name in
    ("Dense1", "Dense2", "Dense3", "Dense4", "Dense5", "Dense6", "Dense7", "Hor", "Ver", "Cross",
     "BDiag", "FDiag", "DiagCross"))}
"""Brushes that a color and a style describe (no gradient, no texture)."""


def _style_key(pen: QPen, brush: QBrush) -> tuple[Any, ...] | None:
    """Return what makes two bars look the same (by value, not by object); None: not comparable."""
    if brush.style() not in _PLAIN_BRUSHES or pen.brush().style() not in _PLAIN_BRUSHES:
        return None
    return (pen.style(), pen.color().rgba(), pen.widthF(), pen.isCosmetic(), tuple(pen.dashPattern()),
            pen.dashOffset(), pen.capStyle(), pen.joinStyle(), brush.style(), brush.color().rgba())


class StyledBars(pg.BarGraphItem):
    """``pg.BarGraphItem`` with per-bar pens and brushes, painted one style group at a time.

    pyqtgraph records bars of several styles into a ``QPicture`` with a pen and a brush
    change per bar and replays it on every paint; 500 stacked bars cost milliseconds on each
    repaint. Here the bars are grouped by style once per ``setOpts`` and each group is one
    ``drawRects``. Groups are painted in order of their first bar, so bars that overlap may
    stack differently than in pyqtgraph: use it for bars that sit side by side or stacked.
    """

    def __init__(self, **opts: Any) -> None:
        self._groups: list[tuple[QPen, QBrush, PrimitiveArray]] | None = None
        self._as_pyqtgraph = False
        super().__init__(**opts)

    def setOpts(self, **opts: Any) -> None:  # noqa: N802 (pyqtgraph's name)
        """Set pyqtgraph's options; the style groups are rebuilt at the next paint."""
        self._groups = None
        super().setOpts(**opts)

    def _grouped(self) -> list[tuple[QPen, QBrush, PrimitiveArray]] | None:
        """Return the bars by style, in order of first use; None: draw them as pyqtgraph does."""
        rects = self._rectarray.ndarray()
        n = len(rects)  # options may hold more pens or brushes than bars (a data-only update)
        pens = self._pens[:n] if self._pens is not None else [self._sharedPen] * n
        brushes = self._brushes[:n] if self._brushes is not None else [self._sharedBrush] * n
        if len(pens) < n or len(brushes) < n:
            return None
        if n == 0:
            return []
        # bars share a few pen and brush objects: find the distinct pairs at C speed, read the
        # style of one bar each (hashing a style per bar cost ~2 ms a repaint for 1,000 bars)
        _, pen_of = np.unique(np.fromiter(map(id, pens), np.uint64, n), return_inverse=True)
        _, brush_of = np.unique(np.fromiter(map(id, brushes), np.uint64, n), return_inverse=True)
        _, first, pair_of = np.unique(pen_of * n + brush_of, return_index=True, return_inverse=True)
        group_of_key: dict[tuple[Any, ...], int] = {}
        styles: list[tuple[QPen, QBrush]] = []
        group_of_pair = np.empty(len(first), np.intp)
        for pair in np.argsort(first):  # in order of first use, so groups are too
            i = int(first[pair])
            key = _style_key(pens[i], brushes[i])
            if key is None:
                return None
            if key not in group_of_key:
                group_of_key[key] = len(styles)
                styles.append((pens[i], brushes[i]))
            group_of_pair[pair] = group_of_key[key]
        group = group_of_pair[pair_of.ravel()]
        order = np.argsort(group, kind="stable")
        bounds = np.cumsum(np.bincount(group, minlength=len(styles)))[:-1]
        groups = []
        for (pen, brush), idx in zip(styles, np.split(order, bounds), strict=True):
            part = PrimitiveArray(QRectF, 4)
            part.resize(len(idx))
            part.ndarray()[:] = rects[idx]
            groups.append((pen, brush, part))
        return groups

    def paint(self, p: QPainter, *args: Any) -> None:
        """Draw each style group with one ``drawRects`` (a single style: pyqtgraph's own path)."""
        if self._singleColor:
            super().paint(p, *args)
            return
        if self._groups is None:
            grouped = self._grouped()
            self._groups = grouped if grouped is not None else []
            self._as_pyqtgraph = grouped is None
        if self._as_pyqtgraph:
            super().paint(p, *args)
            return
        for pen, brush, part in self._groups:
            p.setPen(pen)
            p.setBrush(brush)
            p.drawRects(*part.drawargs())


class GhostBars(pg.BarGraphItem):
    """A pinned bar set drawn as outlines; where bars are denser than pixels, as their envelope.

    10,000 bars in a 350-pixel plot would be 10,000 outlines, each a pixel or less apart: a
    solid blot over the live bars that took 40 ms to stroke. Bars that share a baseline and
    are more than one to a pixel column are drawn as one line over the highest bar of each
    column (what the outlines' upper edge would show), in one ``drawPolyline``. With a ``halo``
    pen each outline is first stroked wider in it (the plot's ground), so a grey outline still
    shows on a grey or dark bar.
    """

    halo: QPen | None = None

    def paint(self, p: QPainter, *args: Any) -> None:
        """Draw the outlines, or the envelope of dense bars sharing a baseline."""
        if self._sharedPen is None:  # a pen per bar: pyqtgraph's own drawing (no halo)
            super().paint(p, *args)
            return
        line = self._envelope(p)
        p.save()
        p.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        if line is not None:
            p.resetTransform()
        rects = self._rectarray.drawargs() if line is None else ()
        for pen in (self.halo, self._sharedPen):
            if pen is None:
                continue
            p.setPen(pen)
            if line is not None:
                p.drawPolyline(line)
            else:
                p.drawRects(*rects)
        p.restore()

    def _envelope(self, p: QPainter) -> QPolygonF | None:
        t = p.transform()
        rects = self._rectarray.ndarray()
        rects = rects[np.isfinite(rects).all(axis=1)]  # a NaN or infinite bar is not drawn
        if self._pens is not None or t.isRotating() or len(rects) < 2:
            return None
        # pyqtgraph's rectangles are normalized: y is the lower edge, the height is positive
        x0 = rects[:, 0] * t.m11() + t.dx()
        x1 = (rects[:, 0] + rects[:, 2]) * t.m11() + t.dx()
        base = rects[:, 1] * t.m22() + t.dy()
        width = float(np.ptp(np.concatenate([x0, x1])))
        thin = bool((np.abs(x1 - x0) <= 1.5).all())  # every bar at most about a pixel wide
        if np.ptp(base) > 0.5 or len(rects) <= width or not thin:
            return None  # not on one baseline, or not denser than pixels: outlines
        col = np.floor((x0 + x1) / 2).astype(np.int64)
        first = int(col.min())
        cols = np.arange(first, int(col.max()) + 1)
        y0 = float(base[0])
        # the tallest bar of each pixel column, drawn away from the baseline the way y grows
        reach = np.zeros(cols.size)
        np.maximum.at(reach, col - first, rects[:, 3] * abs(t.m22()))
        ys = y0 + np.sign(t.m22()) * np.repeat(reach, 2)
        xs = np.repeat(cols.astype(float), 2)
        xs[1::2] += 1.0
        xs = np.concatenate([[xs[0]], xs, [xs[-1]]])
        ys = np.concatenate([[y0], ys, [y0]])
        line: QPolygonF = pg.functions.arrayToQPolygonF(xs, ys)
        return line
