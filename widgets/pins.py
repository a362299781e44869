"""Pin and compare: freeze what a panel shows, then see the live result against it.

A :class:`~widgets.pin_data.Pin` keeps the headline and the curves on screen when it was made. Curves are
ghosted generically: every visible ``pg.PlotDataItem`` of every plot in the panel's view (and
of the view box behind its right axis, ``plot.twin_box``) is copied into a thin item in the
pin's colour, drawn under the live one, with one legend entry per plot (the plot's legend, or a
small label in its corner when it has none). Bars are ghosted as thin outlines; maps are kept
as :class:`~widgets.pin_maps.Shot` and drawn as a difference view (:mod:`widgets.pin_maps`);
text is not ghosted. Items a panel marks with ``pin_ghost = True`` are ghosted too: a
:class:`~widgets.rects.Rects` as outlines, a ``pg.ScatterPlotItem`` as markers, a
``pg.InfiniteLine`` (an instant dragged through time) as a dashed line.
:mod:`widgets.pin_deltas` puts the deltas to the pinned headline's numbers into the live one
("sent 682 (-154 vs A)"); :mod:`widgets.pin_data` saves pins in sessions and reads them back.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsItem

from widgets import pin_maps
from widgets.bars import GhostBars
from widgets.chart_style import fit_legend
from widgets.pin_data import CONNECT, LABELS, Bars, Curve, Line, Pin
from widgets.plot_room import crowding, texts_over
from widgets.plots import cache_pixmaps
from widgets.rects import Rects

GHOST_Z = -0.5
"""Curve ghosts sit under the live items (which default to z 0)."""
BAR_GHOST_Z = 0.5
"""Bar ghosts are outlines over the live bars (under them, a filled bar would hide them)."""


def capture(plots: list[pg.PlotItem], label: str, color: str, headline: str) -> Pin:
    """Copy every visible curve of ``plots`` (ghosts excluded) into a new pin."""
    curves: list[Curve] = []
    bars: list[Bars] = []
    lines: list[Line] = []
    for p, plot in enumerate(plots):
        twin = getattr(plot, "twin_box", None)
        found = [(i, False) for i in plot.listDataItems()]
        found += [(i, True) for i in (twin.addedItems if twin is not None else [])]
        found += [(i, False) for i in plot.items if getattr(i, "pin_ghost", False)]
        for item, on_twin in {id(i): (i, t) for i, t in found}.values():
            if getattr(item, "ghost_of", None) is not None or not item.isVisible():
                continue
            if isinstance(item, pg.InfiniteLine):
                if getattr(item, "pin_ghost", False) and item.angle % 180 in (0, 90):
                    lines.append(Line(p, float(item.angle % 180), float(item.value())))
            elif isinstance(item, pg.BarGraphItem | Rects):
                corners = _corners(item)
                if corners is not None and corners[0].size:
                    bars.append(Bars(p, *corners))
            elif isinstance(item, pg.ScatterPlotItem):
                x, y = item.getData()
                if getattr(item, "pin_ghost", False) and len(x):
                    curves.append(Curve(p, np.array(x, dtype=float), np.array(y, dtype=float), symbols=True,
                                        size=_size(item.opts.get("size"))))
            elif isinstance(item, pg.PlotDataItem) and item.xData is not None and item.yData is not None \
                    and len(item.yData):
                curves.append(_curve(p, item, on_twin))
    return Pin(label, color, headline, curves, bars, pin_maps.capture(plots), lines)


def _corners(item: pg.BarGraphItem | Rects) -> tuple[np.ndarray, ...] | None:
    """Return a bar item's x0, y0, x1, y1 (None: a bar item with no data yet)."""
    if isinstance(item, Rects):  # only ever met marked ``pin_ghost`` (it is no data item)
        x, y, w, h = item.rects().T
        return np.array(x), np.array(y), x + w, y + h
    try:  # pyqtgraph's own reading of x/x0/x1/width and y/y0/y1/height
        corners = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in item._getNormalizedCoords()[:4]))
    except Exception:
        return None
    return tuple(np.array(c.ravel()) for c in corners)


def _curve(p: int, item: pg.PlotDataItem, twin: bool) -> Curve:
    step = item.opts.get("stepMode")
    step = {True: "center", False: None}.get(step, step)
    symbols = item.opts.get("pen") is None and item.opts.get("symbol") is not None
    connect = item.opts.get("connect", "all")
    dashed = not symbols and pg.mkPen(item.opts.get("pen")).style() != Qt.PenStyle.SolidLine
    return Curve(p, np.array(item.xData, dtype=float), np.array(item.yData, dtype=float),
                 step, symbols, connect if connect in CONNECT else "finite", dashed, twin,
                 _size(item.opts.get("symbolSize")))


def _size(size: Any) -> float:
    """Return a marker's size in pixels, if one number gives it (else 5)."""
    return float(min(max(size, 1), 64)) if isinstance(size, int | float) and np.isfinite(size) else 5.0


def draw(pin: Pin, plots: list[pg.PlotItem]) -> None:
    """Put the pin's ghosts (and one legend entry per plot) into ``plots``."""
    remove(pin)
    pen = pg.mkPen(pin.color, width=1.5)
    dashed = pg.mkPen(pin.color, width=1.5, style=Qt.PenStyle.DashLine)
    name = f"pin {pin.label}"
    named: set[int] = set()
    for curve in pin.curves:
        if curve.plot >= len(plots):
            continue  # the panel now has fewer plots than when the pin was made
        plot = plots[curve.plot]
        legend = plot.legend if curve.plot not in named else None
        opts: dict[str, Any] = {"stepMode": curve.step, "connect": curve.connect}
        if curve.symbols:
            # rings as large as the live markers (larger ones ran together into a grey smear)
            ring = pg.mkPen(pin.color, width=2 if curve.size >= 9 else 1.5)
            opts.update(pen=None, symbol="o", symbolSize=curve.size, symbolPen=ring, symbolBrush=None)
        else:
            opts.update(pen=dashed if curve.dashed else pen)
        box = getattr(plot, "twin_box", None) if curve.twin else None
        ghost = pg.PlotDataItem(curve.x, curve.y, name=name if legend is not None and box is None else None,
                                **opts)
        ghost.ghost_of = pin.label
        ghost.setZValue(GHOST_Z)
        cache_pixmaps(ghost)  # a ghost never changes: a blit per repaint, not its segments
        if box is not None:  # the right axis's own view box: its own y range
            ghost.twin_box = box
            box.addItem(ghost)
            if legend is not None:
                legend.addItem(ghost, name)
        else:
            plot.addItem(ghost)
        pin.items.append((plot, ghost))
        if curve.plot not in named and legend is None:
            pin.items.append((plot, _tag(plot, pin, name)))
        named.add(curve.plot)
    # solid, like the ghost curves: Qt strokes dashes segment by segment, and 300 dashed bar
    # outlines took 13-15 ms to redraw each time the axes moved (solid: about 1 ms)
    outline = pg.mkPen(pin.color, width=1.5)
    for bar in pin.bars:
        if bar.plot >= len(plots):
            continue
        plot = plots[bar.plot]
        ghost = GhostBars(x0=bar.x0, y0=bar.y0, x1=bar.x1, y1=bar.y1, brush=None, pen=outline)
        ghost.halo = pg.mkPen(pin_maps.background(plot), width=3.5)  # seen on a grey bar too
        ghost.ghost_of = pin.label
        ghost.setZValue(BAR_GHOST_Z)
        ghost.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # outlines: a blit
        plot.addItem(ghost)
        pin.items.append((plot, ghost))
        if bar.plot not in named:
            if plot.legend is not None:
                plot.legend.addItem(ghost, name)
            else:
                pin.items.append((plot, _tag(plot, pin, name)))
        named.add(bar.plot)
    for line in pin.lines:
        if line.plot >= len(plots):
            continue
        plot = plots[line.plot]
        ghost = pg.InfiniteLine(pos=line.value, angle=line.angle, pen=dashed, movable=False)
        ghost.ghost_of = pin.label
        ghost.setZValue(BAR_GHOST_Z)  # over bars that fill the plot (the temporal timeline)
        plot.addItem(ghost, ignoreBounds=True)
        pin.items.append((plot, ghost))
        if line.plot not in named:
            pin.items.append((plot, _tag(plot, pin, name)))
        named.add(line.plot)
    for plot in {id(p): p for p, _item in pin.items}.values():
        fit_legend(plot)  # a legend with one entry more may need another row


def _tag(plot: pg.PlotItem, pin: Pin, name: str) -> pg.TextItem:
    """Name the pin in a plot without a legend: in the top corner its data and labels crowd least."""
    fill = pg.mkBrush(pin_maps.note_ground(plot))
    tag = pg.TextItem(f"— {name}", color=pin.color, anchor=(0, 0), fill=fill)
    tag.setFont(pin_maps.note_font(plot))  # as large as the chart's names (a slide's too)
    tag.setParentItem(plot.vb)  # fixed in a corner, not in data coordinates
    tag.ghost_of = pin.label
    slot = LABELS.index(pin.label)
    tag.place = lambda *_: _place(tag, plot, slot)
    plot.vb.sigResized.connect(tag.place)
    tag.place()
    return tag


def _place(tag: pg.TextItem, plot: pg.PlotItem, slot: int) -> None:
    vb = plot.vb
    vb.updateMatrix()  # data -> pixels as the next paint will have it (a pin may come before it)
    size = tag.boundingRect()
    step = (size.height() + 2) * slot
    spots = [QRectF(x, y, size.width(), size.height())
             for y in (2.0 + step, vb.height() - size.height() - 2 - step)  # top corners first
             for x in (4.0, vb.width() - size.width() - 4)]
    tag.setPos(min(spots, key=lambda box: crowding(plot, box, skip=tag)).topLeft())


def keep_clear(pin: Pin) -> None:
    """Move a pin's corner tag that a label now covers (a line's label follows its line)."""
    for plot, item in pin.items:
        place = getattr(item, "place", None)
        if place is not None and item.isVisible() \
                and texts_over(plot, item, QRectF(item.pos(), item.boundingRect().size()), exact=False):
            place()


def remove(pin: Pin) -> None:
    """Take the pin's ghosts (and legend entries) out of the scene."""
    for plot, item in pin.items:
        if isinstance(item, pg.TextItem):
            with contextlib.suppress(RuntimeError, TypeError):  # the plot went first
                plot.vb.sigResized.disconnect(item.place)
            item.setParentItem(None)
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)
            continue
        if plot.legend is not None:
            plot.legend.removeItem(item)
        box = getattr(item, "twin_box", None)
        (box or plot).removeItem(item)
    pin.items.clear()


def ghosts(plots: list[pg.PlotItem]) -> list[pg.PlotDataItem]:
    """Return the ghost curves now in ``plots`` (for tests and exports)."""
    return [i for p in plots for i in p.listDataItems()
            if isinstance(i, pg.PlotDataItem) and getattr(i, "ghost_of", None) is not None]
