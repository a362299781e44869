"""Where in a plot a box (a pin's corner tag, a legend) covers the least: labels, bars, data.

A box is scored by what it would cover, in view-box pixels: each label (and the legend) most,
then bars, then each point of a curve, a scatter or a line that falls inside it. On screen a
legend sits over the view box (on slides it is docked below the plot, see ``chart_style``);
:func:`place_legend` puts it in the corner where it covers the least, and
:func:`place_line_labels` moves a vertical line's label (a budget, a step) to the end of its
line where it covers the least.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsItem

LEGEND_MARGIN = 10.0
"""Pixels between an on-screen legend and the corner of its view box (pyqtgraph's offset)."""


def crowding(plot: pg.PlotItem, box: QRectF, skip: QGraphicsItem | None = None, probes: int = 9) -> float:
    """Return how much ``box`` (view box pixels) covers: labels most, then bars, then data points.

    Curves are probed at ``probes`` points across the box; ``skip`` (the item being placed) and
    hidden items do not count.
    """
    vb = plot.vb
    where = vb.childGroup.mapRectFromParent(box).normalized()
    x0, x1, y0, y1 = where.left(), where.right(), where.top(), where.bottom()
    score = 100.0 * texts_over(plot, skip, box)
    for item in plot.items:
        if item is skip or not item.isVisible():
            continue
        if isinstance(item, pg.BarGraphItem):
            score += 10 * item.shape().intersects(where)
        elif isinstance(item, pg.ScatterPlotItem):  # a marker reaches half its size around its point
            half = float(item.opts.get("size", 0) or 0) / 2
            grown = vb.childGroup.mapRectFromParent(box.adjusted(-half, -half, half, half)).normalized()
            xs, ys = item.getData()
            score += int(np.count_nonzero((xs >= grown.left()) & (xs <= grown.right())
                                          & (ys >= grown.top()) & (ys <= grown.bottom())))
        elif isinstance(item, pg.InfiniteLine):
            at = item.value()
            if isinstance(at, int | float):
                vertical = item.angle % 180 == 90
                score += 3 * ((x0 <= at <= x1) if vertical else (y0 <= at <= y1))
        elif isinstance(item, pg.PlotDataItem | pg.PlotCurveItem):
            xs, ys = item.getData()
            if xs is None or ys is None or len(ys) < 2:
                continue
            if item.opts.get("connect") == "pairs":  # separate segments (ticks): their ends count
                score += int(np.count_nonzero((xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)))
                continue
            xs = xs[:len(ys)]  # a step curve has one x more than it has levels
            if len(xs) != len(ys) or not np.all(np.diff(xs) >= 0):
                continue
            probe = np.interp(np.linspace(x0, x1, probes), xs, ys, left=np.nan, right=np.nan)
            score += int(np.count_nonzero((probe >= y0) & (probe <= y1)))
    return float(score)


def texts_over(plot: pg.PlotItem, skip: QGraphicsItem | None, box: QRectF, exact: bool = True) -> int:
    """Return how many labels (and the legend) ``box`` (view box pixels) would cover.

    ``exact`` first brings each label's transform up to date (a label is placed lazily at its
    next paint); without it a label's own position counts, not a zoom since its last paint.
    """
    vb = plot.vb
    seen = vb.mapRectToScene(box)
    texts = [i for i in vb.allChildItems() if isinstance(i, pg.TextItem) and i is not skip and i.isVisible()]
    if plot.legend is not None and plot.legend is not skip and plot.legend.isVisible():
        texts.append(plot.legend)
    if exact:
        for text in texts:
            if isinstance(text, pg.TextItem):
                text.updateTransform(force=True)
    return sum(text.sceneBoundingRect().intersects(seen) for text in texts)


def place_legend(plot: pg.PlotItem) -> bool:
    """Move an on-screen legend to the corner of its view box where it covers the least.

    Its own corner wins a tie, then the one the panel chose. Return whether it moved.
    """
    legend = plot.legend
    if legend is None or not legend.isVisible() or getattr(legend, "docked", None) is not None \
            or legend.opts["offset"] is None or not legend.items:
        return False
    vb = plot.vb
    vb.updateMatrix()  # data -> pixels as the next paint will have it
    size = legend.boundingRect().size()
    if size.width() >= vb.width() or size.height() >= vb.height():
        return False
    ox, oy = legend.opts["offset"]
    now = (float(ox), float(oy))
    chosen: tuple[float, float] | None = getattr(legend, "chosen_offset", None)
    if chosen is None:
        chosen = legend.chosen_offset = now
    mx, my = abs(chosen[0]) or LEGEND_MARGIN, abs(chosen[1]) or LEGEND_MARGIN

    def corner(offset: tuple[float, float]) -> tuple[bool, bool]:
        return offset[0] > 0, offset[1] > 0  # pyqtgraph: a positive offset is from the left / top

    corners = [(sx * mx, sy * my) for sy in (1, -1) for sx in (1, -1)]
    order = sorted(corners, key=lambda c: (corner(c) != corner(now), corner(c) != corner(chosen)))
    probes = max(9, int(size.width() // 4))

    def box(offset: tuple[float, float]) -> QRectF:
        x = offset[0] if offset[0] > 0 else vb.width() - size.width() + offset[0]
        y = offset[1] if offset[1] > 0 else vb.height() - size.height() + offset[1]
        return QRectF(x, y, size.width(), size.height())

    best = min(order, key=lambda c: crowding(plot, box(c), skip=legend, probes=probes))  # first of ties
    if corner(best) == corner(now):
        return False
    legend.setOffset(best)
    for tag in vb.allChildItems():  # a pin's corner tag that the legend now covers moves on
        place = getattr(tag, "place", None)
        if callable(place) and tag.isVisible() and tag.sceneBoundingRect().intersects(
                legend.sceneBoundingRect()):
            place()
    return True


def _inside(vb: pg.ViewBox) -> QRectF:
    """Return the view box's rectangle to test boxes against (one at an edge may be 1e-13 out)."""
    rect: QRectF = vb.boundingRect().adjusted(-1e-6, -1e-6, 1e-6, 1e-6)
    return rect


def place_line_labels(plot: pg.PlotItem) -> None:
    """Move each line's label to the end of its line where it covers least.

    A vertical line's label hangs from the top or stands on the bottom, turning toward the
    middle of the view (pyqtgraph's pair of anchors); a level line's label sits above or below
    it at its right or left end. A place where it would stick out of the view box is never
    taken, and a label stays where it is unless another place covers less (a label over a
    curve faded it, one over a value label hid words, one over markers hid them).
    """
    vb = plot.vb
    vb.updateMatrix()
    inverted = bool(vb.state.get("yInverted"))
    inside = _inside(vb)
    for line in plot.items:
        label = getattr(line, "label", None)
        if not isinstance(line, pg.InfiniteLine) or label is None or not label.isVisible() \
                or not line.isVisible() or len(label.anchors) != 2:
            continue
        now = (label.orthoPos, list(label.anchors))
        if line.angle % 180 == 90:
            places = [([(anchor[0], 0.0 if top else 1.0) for anchor in now[1]],
                       1.0 if top != inverted else 0.0) for top in (now[1][0][1] == 0.0, now[1][0][1] != 0.0)]
        else:  # right end above, then the other places
            places = [([(1.0 - end, 1.0 - below)] * 2, 1.0 - end) for below in (0, 1) for end in (0, 1)]
            places.sort(key=lambda place: place != (now[1], now[0]))

        def score(place: tuple[list[Any], float], label: pg.TextItem = label) -> float:
            label.anchors, at = place
            label.setPosition(at)
            label.updateTransform(force=True)
            box = vb.mapRectFromScene(label.sceneBoundingRect())
            return crowding(plot, box, skip=label) if inside.contains(box) else float("inf")

        scores = [score(place) for place in places]
        best = places[scores.index(min(scores))]  # the first of ties: where it is now
        label.anchors, at = best
        label.setPosition(at)


CURVE_LABEL_ANCHORS = {"above": ((1.0, 1.0), (0.0, 1.0)), "below": ((0.0, 0.0), (1.0, 0.0))}
"""Where a curve's name may sit beside one of its points: above it (left, then right of the
point: clear of a rising curve) or below it (right, then left)."""


def name_curve(plot: pg.PlotItem, label: pg.TextItem, xs: Any, ys: Any, side: str = "above") -> None:
    """Keep ``label`` beside the curve ``xs`` / ``ys`` (item coordinates: log10 on a log axis).

    ``side`` says which side of the curve it names it from: the side away from the curves it
    could be confused with (a name between two curves reads as either's). It stays at its old
    place along the curve now and is moved by :func:`place_curve_labels` once the view settles
    (that takes milliseconds a label: too slow for every tick of a drag).
    """
    named: dict[pg.TextItem, tuple[Any, Any, str]] = plot.__dict__.setdefault("curve_labels", {})
    named[label] = (xs, ys, side)
    n = min(len(xs), len(ys))
    if n:
        back = min(getattr(label, "steps_back", 0), n - 1)
        label.setPos(float(xs[n - 1 - back]), float(ys[n - 1 - back]))


def place_curve_labels(plot: pg.PlotItem) -> None:
    """Put each curve's name (see :func:`name_curve`) beside it where it covers least.

    The candidates are the curve's last point and a few more back along its last half, each
    with the name left or right of it on its side of the curve, inside the view box; the first
    of equally good places wins, so a name stays at its curve's end while that end is free.
    """
    vb = plot.vb
    vb.updateMatrix()
    inside = _inside(vb)
    named = list(getattr(plot, "curve_labels", {}).items())
    for label, (xs, ys, side) in named * min(len(named), 2):  # again, now that the others have moved
        n = min(len(xs), len(ys))
        if n == 0 or not label.isVisible():
            continue
        best: tuple[float, int, tuple[float, float]] | None = None
        for back in sorted({round(i * (n - 1) / 10) for i in range(6)}):
            for anchor in CURVE_LABEL_ANCHORS[side]:
                label.setAnchor(anchor)
                label.setPos(float(xs[n - 1 - back]), float(ys[n - 1 - back]))
                label.updateTransform(force=True)
                box = vb.mapRectFromScene(label.sceneBoundingRect())
                if inside.contains(box):
                    score = crowding(plot, box, skip=label, probes=max(9, int(box.width() // 4)))
                    if best is None or score < best[0]:
                        best = (score, back, anchor)
        back, anchor = (0, CURVE_LABEL_ANCHORS[side][0]) if best is None else best[1:]
        label.steps_back = back
        label.setAnchor(anchor)
        label.setPos(float(xs[n - 1 - back]), float(ys[n - 1 - back]))
        label.updateTransform(force=True)  # where the next paint puts it
