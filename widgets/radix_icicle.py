"""The radix tree as an icicle (partition) chart: one band per node, labels only where they fit.

x is the node's block span (where its edge starts and ends in the prompt), height the share of
requests that passed through it, children stacked inside their parent's band. Bands are drawn
in data coordinates (one ``drawRects`` per shade); labels in device pixels, each elided to the
visible part of its own band, so no label can overlap another or leave its band. Evicted nodes
kept as ghosts are hatched. Hovering a band shows everything the label leaves out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import HoverEvent
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QStaticText, QTransform
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from core import radix

SHADES = 6
PAD = 3.0
"""Pixels between a band's edge and its label."""
MAX_LABELS = 300
"""Labels tried per paint (the widest bands first); the rest are on hover."""
WORDS_FIRST = 40
"""Bands narrower than this many average characters are labelled with their words only."""
MIN_CHARS = 10
"""An elided label shorter than this is not drawn."""
COLOR_MODES = (("refs", "requests through it"), ("age", "last use (LRU age)"))


@dataclass(frozen=True, slots=True)
class LabelBox:
    """One label: the node, its band and the text's rectangle (device pixels), the text drawn."""

    node: int
    band: QRectF
    rect: QRectF
    text: str


def shade_of(lay: radix.Layout, mode: str) -> np.ndarray:
    """Return a shade 0 (faint) .. SHADES-1 (strong) per node: by sharing or by recency."""
    if mode == "age":
        age = np.maximum(lay.step - lay.last_used, 0).astype(float)
        top = max(float(age.max(initial=0)), 1.0)
        strength = 1 - np.log1p(age) / np.log1p(top)  # used by the latest request: strongest
    else:
        top = max(int(lay.refs.max(initial=1)), 1)
        strength = np.log1p(np.maximum(lay.refs, 0)) / np.log1p(top) if top > 1 else np.ones(lay.refs.shape)
    shade: np.ndarray = np.minimum((strength * (SHADES - 1)).round().astype(int), SHADES - 1)
    return shade


def band_text(lay: radix.Layout, i: int, counted: bool = True) -> str:
    """Return a band's label: its block count (unless not ``counted``) and the start of its edge."""
    n = len(lay.edges[i])
    return f"{n} block{'s' * (n != 1)}: {radix.label(lay, i)}" if counted else radix.label(lay, i)


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(round(a.red() * (1 - t) + b.red() * t), round(a.green() * (1 - t) + b.green() * t),
                  round(a.blue() * (1 - t) + b.blue() * t))


def _rects(lay: radix.Layout, sel: np.ndarray) -> list[QRectF]:
    x0, y0 = lay.x0[sel].tolist(), lay.band0[sel].tolist()
    w, h = (lay.x1[sel] - lay.x0[sel]).tolist(), (lay.band1[sel] - lay.band0[sel]).tolist()
    return [QRectF(*r) for r in zip(x0, y0, w, h, strict=True)]


def _thin_blocks(lay: radix.Layout, small: np.ndarray) -> list[QRectF]:
    """One rectangle per parent around its too-thin children (their block span and bands)."""
    par = lay.parent_index[small]
    n = len(lay.ids)
    left, right = np.full(n, np.inf), np.full(n, -np.inf)
    top, bottom = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(left, par, lay.x0[small])
    np.maximum.at(right, par, lay.x1[small])
    np.minimum.at(top, par, lay.band0[small])
    np.maximum.at(bottom, par, lay.band1[small])
    used = np.unique(par)
    return [QRectF(*r) for r in zip(left[used].tolist(), top[used].tolist(), (right - left)[used].tolist(),
                                    (bottom - top)[used].tolist(), strict=True)]


class IcicleItem(pg.GraphicsObject):
    """Every band of one layout, painted by one item."""

    def __init__(self, on_hover: Callable[[int | None], str] | None = None) -> None:
        super().__init__()
        self.setAcceptHoverEvents(True)
        self._lay: radix.Layout | None = None
        self._shade = np.zeros(0, int)
        self._fills: list[QColor] = []
        self._inks: list[QColor] = []
        self._ghost = QColor("#888888")
        self._line = QColor("#ffffff")
        self._font = QFont()
        self._rects: list[tuple[int, list[QRectF]]] = []
        self._ghost_rects: list[QRectF] = []
        self._thin: list[QRectF] = []
        self._bounds = QRectF()
        self._on_hover = on_hover
        self._texts: dict[str, QStaticText] = {}
        self._elided: dict[tuple[str, float], tuple[str, float]] = {}

    def set_style(self, background: str, accent: str, muted: str, font_pt: int) -> None:
        """Colors: shades blend the background into the accent; labels pick a readable ink."""
        bg, ac = QColor(background), QColor(accent)
        self._fills = [_blend(bg, ac, 0.18 + 0.82 * k / (SHADES - 1)) for k in range(SHADES)]
        dark_bg = bg.lightnessF() < 0.5
        dark = QColor("#111111" if dark_bg else "#000000")
        self._inks = [QColor("#ffffff") if c.lightnessF() < 0.55 else dark for c in self._fills]
        self._ghost, self._line = QColor(muted), bg
        self._font = QFont()
        self._font.setPointSize(font_pt)
        self._texts, self._elided = {}, {}
        self.update()

    def set_layout(self, lay: radix.Layout, shade: np.ndarray, thin: float = 0.0) -> None:
        """Show ``lay`` (root excluded) with one shade per node.

        Bands less than ``thin`` tall (about a pixel) are not drawn one by one: each parent's
        thin children are drawn as one faint block covering them (a 100,000-block stream has
        thousands of one-request leaves, each a fraction of a pixel). Hover still finds each.
        """
        self.prepareGeometryChange()
        self._lay, self._shade = lay, shade
        height = lay.band1 - lay.band0
        live = ~lay.ghost & (height >= thin)
        live[0] = False
        self._rects = [(k, _rects(lay, np.flatnonzero(live & (shade == k)))) for k in range(SHADES)]
        self._rects = [(k, r) for k, r in self._rects if r]
        small = np.flatnonzero(~lay.ghost & (height < thin))
        small = small[small > 0]
        self._thin = _thin_blocks(lay, small) if small.size else []
        self._ghost_rects = _rects(lay, np.flatnonzero(lay.ghost))
        right = float(lay.x1.max(initial=1.0))
        self._bounds = QRectF(0.0, 0.0, max(right, 1.0), 1.0)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        """Return the whole partition: depth 0..deepest, share 0..1."""
        return self._bounds

    def node_at(self, x: float, y: float) -> int | None:
        """Return the band (node index) under data point (x, y), ghosts included."""
        lay = self._lay
        if lay is None:
            return None
        hit = np.flatnonzero((lay.x0 <= x) & (x < lay.x1) & (lay.band0 <= y) & (y < lay.band1))
        hit = hit[hit > 0]
        return int(hit[0]) if hit.size else None

    def label_boxes(self, transform: QTransform, visible: QRectF | None = None) -> list[LabelBox]:
        """Return the labels that fit for this data-to-device ``transform`` (device pixels).

        Each label sits inside the visible part of its band (``visible``: the viewport in device
        pixels), one line high, elided to the band's width; bands too small get none.
        """
        lay = self._lay
        if lay is None or len(lay.ids) < 2:
            return []
        metrics = QFontMetricsF(self._font)
        line = metrics.height()
        # only bands a line tall can hold a label: the few shared ones (most are one request thin)
        tall = np.flatnonzero(abs(transform.m22()) * (lay.band1 - lay.band0) >= line + 1)
        tall = tall[(tall > 0) & ~lay.ghost[tall]]
        px0 = transform.m11() * lay.x0[tall] + transform.m31()
        px1 = transform.m11() * lay.x1[tall] + transform.m31()
        py0 = transform.m22() * lay.band0[tall] + transform.m32()
        py1 = transform.m22() * lay.band1[tall] + transform.m32()
        left, right = np.minimum(px0, px1), np.maximum(px0, px1)
        top, bottom = np.minimum(py0, py1), np.maximum(py0, py1)
        if visible is not None:
            left, right = np.maximum(left, visible.left()), np.minimum(right, visible.right())
            top, bottom = np.maximum(top, visible.top()), np.minimum(bottom, visible.bottom())
        room_w, room_h = right - left - 2 * PAD, bottom - top
        fits = np.flatnonzero((room_w >= 3 * metrics.averageCharWidth()) & (room_h >= line + 2))
        fits = fits[np.argsort(-(room_w[fits] * room_h[fits]), kind="stable")][:MAX_LABELS]
        out = []
        for k in fits.tolist():
            i = int(tall[k])
            # a narrow band spends its room on the words, not on "1 block:" (that is on hover)
            full = band_text(lay, i, counted=room_w[k] >= WORDS_FIRST * metrics.averageCharWidth())
            text, width = self._elide(metrics, full, float(room_w[k]))
            if len(text) < MIN_CHARS and text != full:
                continue  # "1 bl…" says nothing: leave it to the tooltip
            mid = (top[k] + bottom[k]) / 2
            band = QRectF(QPointF(left[k], top[k]), QPointF(right[k], bottom[k]))
            out.append(LabelBox(i, band, QRectF(left[k] + PAD, mid - line / 2, width, line), text))
        return out

    def _elide(self, metrics: QFontMetricsF, full: str, room: float) -> tuple[str, float]:
        """Return ``full`` elided to ``room`` pixels, and its width.

        Kept: a band keeps its width from step to step, so the same labels come back every tick.
        """
        key = (full, room)
        done = self._elided.get(key)
        if done is None:
            if len(self._elided) > 8 * MAX_LABELS:
                self._elided.clear()
            text = metrics.elidedText(full, Qt.TextElideMode.ElideRight, room)
            done = self._elided[key] = (text, min(metrics.horizontalAdvance(text), room))
        return done

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        """Bands in data coordinates, then labels in device pixels."""
        if self._lay is None:
            return
        if self._thin:  # no outline: a 1-pixel edge would hide blocks a few pixels tall
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(self._fills[1]))
            painter.drawRects(self._thin)
        edge = QPen(self._line)
        edge.setCosmetic(True)
        edge.setWidthF(1.0)
        painter.setPen(edge)
        for k, rects in self._rects:
            painter.setBrush(QBrush(self._fills[k]))
            painter.drawRects(rects)
        if self._ghost_rects:
            ghost_pen = QPen(self._ghost)
            ghost_pen.setCosmetic(True)
            ghost_pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(ghost_pen)
            painter.setBrush(QBrush(self._ghost, Qt.BrushStyle.BDiagPattern))
            painter.drawRects(self._ghost_rects)
        transform = painter.transform()
        view = self.getViewBox()
        visible = None
        if view is not None:
            visible = transform.mapRect(self.mapRectFromItem(view, view.boundingRect()))
        boxes = self.label_boxes(transform, visible)
        painter.save()
        painter.resetTransform()
        painter.setFont(self._font)
        if len(self._texts) > 4 * MAX_LABELS:
            self._texts.clear()
        for box in boxes:
            painter.setPen(QPen(self._inks[int(self._shade[box.node])]))
            static = self._texts.get(box.text)
            if static is None:  # laid out once, drawn on every later paint (labels repeat per step)
                static = self._texts[box.text] = QStaticText(box.text)
                static.prepare(QTransform(), self._font)
            painter.drawStaticText(box.rect.topLeft(), static)
        painter.restore()

    def hoverEvent(self, ev: HoverEvent) -> None:  # noqa: N802 (pyqtgraph hook)
        """Show the hovered band's details as a tooltip."""
        if self._on_hover is None:
            return
        if ev.isExit():
            self.setToolTip("")
            return
        pos = ev.pos()
        self.setToolTip(self._on_hover(self.node_at(pos.x(), pos.y())))
