"""Maps under a pin: a difference view (live - pinned), since a faded ghost of a heatmap cannot be read.

A plot module marks each map a pin may compare with :func:`diffable`: the values compared are
the image's own (attention weights) or a ``measure`` of it (a block map's codes -> used or
free). A pin keeps a :class:`Shot` of every marked map; while the pin is the latest and its
maps are shown as differences, a :class:`Difference` covers each live map with live - pinned in
a diverging colour map (red: higher now, blue: lower, the background colour: unchanged) and
names the pin and the scale in the map's corner. Where the live map has another shape than the
pinned one, or covers another extent of its axes (attention at another n shown in as many
cells), no difference is drawn and the corner says why.
"""

from __future__ import annotations

import base64
import contextlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF

from core import fields
from core.errors import InputError
from widgets.band_image import BandImage, Cells
from widgets.plots import colour_bars, rgba, steady_top

MAX_MAP_CELLS = 8192 * 8192
"""Cells a saved map may stand for (the largest map a panel draws: attention at n = 8,192)."""
SAVED_CELLS = 256 * 256
"""A map saved in a session keeps at most this many cells (block means of a larger one); a
difference of a continuous map is drawn in as many (the blocks hold the same cells)."""
LOWER, HIGHER = "#2166ac", "#b2182b"
"""The diverging colour map's ends: blue where the live value is lower, red where higher."""


@dataclass(frozen=True, slots=True)
class Kind:
    """How a map is compared: its values, and what a positive or negative difference means."""

    measure: Callable[[np.ndarray], np.ndarray] | None
    more: str
    """For a two-valued measure: what +1 means, with ``{pin}`` for the pin's name."""
    less: str
    same: str
    """What an unchanged map is said to be (a two-valued one: the same in what it measures)."""


def diffable(image: pg.ImageItem, measure: Callable[[np.ndarray], np.ndarray] | None = None,
             more: str = "", less: str = "", same: str = "") -> None:
    """Mark ``image`` as a map a pin compares as live - pinned (``measure`` of its image, if given)."""
    image.pin_map = Kind(measure, more, less, same or "no change vs {pin}")


def values(image: pg.ImageItem) -> np.ndarray | None:
    """Return the compared values of a marked map now (``None`` without data)."""
    kind = getattr(image, "pin_map", None)
    if kind is None or image.image is None:
        return None
    raw = np.asarray(image.image)
    return np.asarray(kind.measure(raw) if kind.measure is not None else raw, dtype=np.float32)


def maps_of(plot: pg.PlotItem) -> list[pg.ImageItem]:
    """Return the marked maps of ``plot``, in the order they were added."""
    return [i for i in plot.items if isinstance(i, pg.ImageItem) and getattr(i, "pin_map", None) is not None]


@dataclass(slots=True)
class Shot:
    """One pinned map: its plot, its place among that plot's marked maps, its values."""

    plot: int
    index: int
    values: np.ndarray
    extent: tuple[float, ...] | None = None
    """Where the map lay on its plot's axes: x, y, width, height (``None``: not checked)."""

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data: shape, block size and the (block-mean) cells, packed."""
        rows, cols = self.values.shape
        f = block_size(rows, cols)
        padded = np.full((-(-rows // f) * f, -(-cols // f) * f), np.nan, np.float32)
        padded[:rows, :cols] = self.values
        blocks = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f)
        with np.errstate(invalid="ignore"):
            reduced = np.nanmean(blocks, axis=(1, 3)).astype("<f4") if f > 1 else padded.astype("<f4")
        packed = base64.b64encode(zlib.compress(reduced.tobytes(), 6)).decode("ascii")
        return {"plot": self.plot, "index": self.index, "shape": [rows, cols], "block": f,
                "cells": packed, "extent": None if self.extent is None else list(self.extent)}


def block_size(rows: int, cols: int) -> int:
    """Return the block edge that brings a rows x cols map to at most :data:`SAVED_CELLS` cells."""
    return max(1, int(np.ceil(np.sqrt(rows * cols / SAVED_CELLS))))


def block_means(a: np.ndarray, f: int) -> np.ndarray:
    """Return the means of ``a``'s f x f blocks (edge blocks: the mean of the cells they hold).

    Summed as f strided slices a side, rows first (whole rows at a time): numpy's sum over a
    reshaped block axis took nine times as long (3.8 ms for 1,024 x 1,024 cells, now 0.44).
    """
    if f == 1:
        return a
    rows, cols = a.shape
    if rows % f or cols % f:
        padded = np.zeros((-(-rows // f) * f, -(-cols // f) * f), a.dtype)
        padded[:rows, :cols] = a
        a = padded
    down = a[0::f].copy()
    for k in range(1, f):
        down += a[k::f]
    sums = down[:, 0::f].copy()
    for k in range(1, f):
        sums += down[:, k::f]
    held = np.minimum(f, rows - np.arange(0, rows, f))[:, None] * np.minimum(f, cols - np.arange(0, cols, f))
    means: np.ndarray = sums / held.astype(a.dtype)
    return means


def shot_from_dict(raw: Any, where: str) -> Shot:
    """Read a saved map; raises :class:`InputError` naming the field."""
    d = fields.mapping(raw, where)
    plot, index = fields.integer(d, "plot", where, minimum=0), fields.integer(d, "index", where, minimum=0)
    block = fields.integer(d, "block", where, minimum=1)
    shape = d.get("shape")
    if (not isinstance(shape, list) or len(shape) != 2
            or not all(isinstance(v, int) and 0 < v <= 1 << 16 for v in shape)):
        raise InputError(f"{where}.shape: expected [rows, columns] of positive integers, got {shape!r}")
    rows, cols = shape
    if rows * cols > MAX_MAP_CELLS:
        raise InputError(f"{where}.shape: {rows:,}x{cols:,} cells; a saved map stands for at most "
                         f"{MAX_MAP_CELLS:,}")
    if block != block_size(rows, cols):  # what saving writes: at most SAVED_CELLS packed cells
        raise InputError(f"{where}.block: a {rows:,}x{cols:,} map is saved in blocks of "
                         f"{block_size(rows, cols)}, got {block}")
    small = (-(-rows // block), -(-cols // block))
    try:
        data = zlib.decompress(base64.b64decode(str(d.get("cells", "")), validate=True))
        reduced = np.frombuffer(data, dtype="<f4").reshape(small)
    except (ValueError, zlib.error):
        raise InputError(f"{where}.cells: not {small[0]}x{small[1]} packed cells") from None
    full = np.repeat(np.repeat(reduced, block, axis=0), block, axis=1)[:rows, :cols]
    extent = d.get("extent")
    if extent is not None and (not isinstance(extent, list) or len(extent) != 4 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and abs(v) <= 1e100 for v in extent)):
        raise InputError(f"{where}.extent: expected [x, y, width, height] (finite numbers), got {extent!r}")
    return Shot(plot, index, np.array(full, dtype=np.float32),
                None if extent is None else tuple(float(v) for v in extent))


def extent(image: pg.ImageItem) -> tuple[float, ...]:
    """Return where ``image`` lies on its plot's axes (x, y, width, height, 6 significant digits)."""
    rect = image.mapRectToParent(image.boundingRect())
    return tuple(float(f"{v:.6g}") for v in (rect.x(), rect.y(), rect.width(), rect.height()))


def capture(plots: list[pg.PlotItem]) -> list[Shot]:
    """Return a shot of every marked map with data in ``plots``."""
    shots = []
    for p, plot in enumerate(plots):
        for k, image in enumerate(maps_of(plot)):
            now = values(image)
            if now is not None and now.ndim == 2:
                shots.append(Shot(p, k, now.copy(), extent(image)))
    return shots


def _lut(middle: QColor) -> np.ndarray:
    ends = (QColor(LOWER), middle, QColor(HIGHER))
    cmap = pg.ColorMap([0.0, 0.5, 1.0], [rgba(c)[:3] for c in ends])
    return np.asarray(cmap.getLookupTable(0.0, 1.0, 255, alpha=False), dtype=np.uint8)


def background(plot: pg.PlotItem) -> QColor:
    """Return the colour behind ``plot`` (its view's background; white when transparent)."""
    scene = plot.scene()
    views = scene.views() if scene is not None else []
    color = views[0].backgroundBrush().color() if views else QColor("white")
    return color if color.alpha() else QColor("white")


def note_font(plot: pg.PlotItem) -> QFont:
    """Return the font of a note written in ``plot``: 2 pt under its axes' (at least 9 pt).

    Names written in a chart are sized so; the note grows with them on a slide.
    """
    font = QFont(plot.getAxis("bottom").style.get("tickFont") or QFont())
    font.setPointSize(max(font.pointSize() - 2, 9))
    return font


def note_ground(plot: pg.PlotItem) -> QColor:
    """Return the fill of a note drawn over ``plot``'s data: its background, a little see-through."""
    fill = QColor(background(plot))
    fill.setAlpha(215)
    return fill


def _span(box: tuple[float, ...]) -> str:
    return f"{box[2]:,.6g}×{box[3]:,.6g}"


def _swatch(color: str) -> str:
    return f'<span style="color:{color}">■</span>'


class Difference:
    """A pinned map drawn as live - pinned over its live map, kept current as the live one changes."""

    def __init__(self, plot: pg.PlotItem, live: pg.ImageItem, shot: Shot, label: str, slot: int) -> None:
        self.plot, self.live, self.shot, self.label = plot, live, shot, label
        self.why = ""
        """Why no difference is drawn ('' while one is)."""
        ground = background(plot)
        self.overlay = BandImage(axisOrder=live.axisOrder)
        self.overlay.setLookupTable(_lut(ground))
        self.overlay.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks reach the live map
        self.overlay.ghost_of = label
        self.overlay.setParentItem(live)  # its pixels lie on the live map's pixels, dimmed with it
        font = note_font(plot)
        self.tag = pg.TextItem(anchor=(0, 0), fill=pg.mkBrush(note_ground(plot)))
        self.tag.setFont(font)
        self.tag.ghost_of = label
        self.tag.setParentItem(plot.vb)  # fixed in the corner, not in data coordinates
        self.tag.setPos(4, 2 + (QFontMetricsF(font).height() + 6) * slot)
        self._top = 0.0
        self._text = ""
        self._seen: tuple[float, ...] = ()
        self._blocks: tuple[int, np.ndarray] | None = None
        """The block edge a continuous map's difference is drawn in, and the pinned block means."""
        self._now: tuple[int, np.ndarray, np.ndarray] = (-1, np.empty(0), np.empty(0))
        """The image version (a ``BandImage``'s) the live map's block means and the difference
        below are of."""
        self._rect: tuple[int, ...] = ()
        live.sigImageChanged.connect(self.refresh)
        plot.vb.sigResized.connect(self._fit)
        self._fit()
        self.refresh()

    def _fit(self, *_args: Any) -> None:
        """Wrap the corner note to the map's width (a narrow map would cut it off)."""
        room = max(60.0, self.plot.vb.width() - 8)
        self.tag.setTextWidth(-1)  # its own width first: a short note keeps a short box
        if self.tag.boundingRect().width() > room:
            self.tag.setTextWidth(room)

    def check(self) -> None:
        """Refresh if the live map moved on its axes since it was last compared (a new extent)."""
        if extent(self.live) != self._seen:
            self.refresh()

    def refresh(self) -> None:
        """Draw live - pinned again (the live map changed)."""
        now = values(self.live)
        pinned = self.shot.values
        name = f"pin {self.label}"
        self._seen = extent(self.live)
        was = self.shot.extent
        if now is None or now.shape != pinned.shape:
            got = "no data" if now is None else "×".join(map(str, now.shape))
            self._none(f"{name}: no difference shown, the map is {got} cells now and "
                       f"{'×'.join(map(str, pinned.shape))} pinned")
            return
        if was is not None and was != self._seen:
            self._none(f"{name}: no difference shown, the map covers {_span(self._seen)} now and "
                       f"{_span(was)} pinned")
            return
        self.why = ""
        kind: Kind = self.live.pin_map
        diff, f, changed = self._difference(now, kind)  # f: the block edge (the Δ maps button says so)
        largest = float(max(diff.max(), -diff.min())) if diff.size else 0.0
        if not np.isfinite(largest):  # NaN or inf cells (rare): measure and draw the finite ones
            np.copyto(diff, np.float32(0), where=~np.isfinite(diff))
            largest, changed = float(np.abs(diff).max()), None
        if kind.more:
            top = 1.0
            text = (f"{_swatch(HIGHER)} {kind.more.format(pin=name)}<br>"
                    f"{_swatch(LOWER)} {kind.less.format(pin=name)}")
        else:
            top = self._top = steady_top(self._top, largest)
            text = f"live − {name}<br>{_swatch(LOWER)} −{top:.3g} … {_swatch(HIGHER)} +{top:.3g}"
        # set even when hidden: the overlay keeps count of the cells changed since it was drawn
        self.overlay.set_cells(diff, changed, levels=(-top, top))
        if largest == 0:  # nothing to show: the live map stays readable under its note
            self._show(False)
            self._say(kind.same.format(pin=name))
            return
        rect = (diff.shape[1] * f, diff.shape[0] * f)
        if rect != self._rect:  # each cell covers f x f live cells (the last ones may hang over)
            self._rect = rect
            self.overlay.setRect(0, 0, *rect)
        self._show(True)
        self._say(text)

    def _difference(self, now: np.ndarray, kind: Kind) -> tuple[np.ndarray, int, list[Cells] | None]:
        """Return live - pinned, its block edge, and the cells of it that changed (None: any).

        A continuous map of more than :data:`SAVED_CELLS` cells is compared in block means, as
        a session keeps it: a screen shows fewer pixels anyway, and the difference of
        1,024 x 1,024 cells cost 2.7 ms a tick to draw. After a change in a band of the live
        map (a ``BandImage``'s), the blocks and the difference are worked out in the band only.
        """
        if kind.more:  # a two-valued map: a block mean would no longer say which of the two
            return now - self.shot.values, 1, None
        if self._blocks is None:
            f = block_size(*now.shape)
            self._blocks = (f, block_means(self.shot.values, f))
        f, pinned = self._blocks
        version = getattr(self.live, "version", None)
        cells = getattr(self.live, "changed_cells", None)
        done, blocks, diff = self._now
        kept = version is not None and f > 1 and blocks.shape == diff.shape == pinned.shape
        if kept and done == version:
            return diff, f, []
        if not kept or version is None or cells is None or done != version - 1:
            blocks = block_means(now, f)
            diff = blocks - pinned
            changed = None
        else:
            changed = []
            for r0, r1, c0, c1 in cells:  # whole blocks around each changed rectangle
                b0, b1, d0, d1 = r0 // f, -(-r1 // f), c0 // f, -(-c1 // f)
                blocks[b0:b1, d0:d1] = block_means(now[b0 * f:b1 * f, d0 * f:d1 * f], f)
                np.subtract(blocks[b0:b1, d0:d1], pinned[b0:b1, d0:d1], out=diff[b0:b1, d0:d1])
                changed.append((b0, b1, d0, d1))
        if f > 1 and version is not None:
            self._now = (version, blocks, diff)
        return diff, f, changed

    def _none(self, why: str) -> None:
        self.why = why
        self._show(False)
        self._say(why)

    def _show(self, shown: bool) -> None:
        """Show or hide the overlay.

        While it shows, its plot's colour scale (of the live map under it) is not drawn: the
        note in the corner gives the difference's scale. Transparent, not hidden: a hidden bar
        gave its width back to the map, and re-laying out the grid cost a 40-80 ms tick each
        time a drag crossed the pinned value.
        """
        self.overlay.setVisible(shown)
        for bar in colour_bars(self.plot):
            if (bar.opacity() == 1.0) == shown:
                bar.setOpacity(0.0 if shown else 1.0)

    def _say(self, text: str) -> None:
        if text != self._text:  # a new text re-lays out the item: only when it changed
            self._text = text
            self.tag.setHtml(f'<span style="color:{self._ink()}">{text}</span>')
            self._fit()

    def _ink(self) -> str:
        return "#f0f0f0" if background(self.plot).lightness() < 128 else "#202020"

    def lost(self, plots: list[pg.PlotItem]) -> bool:
        """Whether the panel rebuilt or dropped the plot or map this was drawn on."""
        return self.plot not in plots or self.live not in self.plot.items

    def remove(self) -> None:
        """Take the overlay and its corner note out of the scene (the colour scale comes back)."""
        with contextlib.suppress(RuntimeError):  # the plot went first
            self._show(False)
        with contextlib.suppress(RuntimeError, TypeError):  # already gone with its map
            self.live.sigImageChanged.disconnect(self.refresh)
        with contextlib.suppress(RuntimeError, TypeError):
            self.plot.vb.sigResized.disconnect(self._fit)
        for item in (self.overlay, self.tag):
            item.setParentItem(None)
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)


def draw(shots: list[Shot], plots: list[pg.PlotItem], label: str) -> list[Difference]:
    """Draw each shot as a difference over its live map (those the panel still has)."""
    drawn: list[Difference] = []
    slots: dict[int, int] = {}
    for shot in shots:
        if shot.plot >= len(plots):
            continue
        plot = plots[shot.plot]
        maps = maps_of(plot)
        if shot.index >= len(maps):
            continue
        slot = slots[shot.plot] = slots.get(shot.plot, -1) + 1
        drawn.append(Difference(plot, maps[shot.index], shot, label, slot))
    return drawn
