"""A heatmap whose next render re-colours only the cells its owner says changed.

pyqtgraph colours every cell of an image on each ``setImage``: 1.3 ms for attention's
1,024 x 1,024 maps, twice a tick, while a window drag changes a band of a tenth of them.
:class:`BandImage` keeps the colour indices of the last render and redoes only the changed
rectangles, with pyqtgraph's own rule (``(value - low) * colours / (high - low)``, clipped, cut
to an integer). A map coloured whole is converted to colours once, since Qt converts an indexed
image on every paint. It draws the same pixels as ``pg.ImageItem`` for finite row-major 2-D
float32 data with a lookup table of at most 256 colours (pyqtgraph works float64 data out in
float64); anything else takes pyqtgraph's own render, and any other change (levels, colours,
shape) re-colours every cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from PySide6.QtGui import QImage, qRgb, qRgba

Cells = tuple[int, int, int, int]
"""A rectangle of cells: first row, row stop, first column, column stop."""


class BandImage(pg.ImageItem):
    """An image item told which cells changed (:meth:`set_cells`); renders only those."""

    def __init__(self, **kwargs: Any) -> None:
        self._changed: list[Cells] | None = None
        """Rectangles changed since the last render (``None``: every cell)."""
        self._by_cells: list[Cells] | None = None
        self.version = 0
        """Counts the images set; with :attr:`changed_cells`, lets a reader update what it
        derived from the image (a pin's block means) only where the last one changed."""
        self.changed_cells: list[Cells] | None = None
        """The cells the latest image changed from the one before (``None``: any)."""
        self._codes: np.ndarray | None = None
        self._coded_for: tuple[Any, ...] = ()
        self._table: tuple[np.ndarray | None, list[int]] = (None, [])
        super().__init__(**kwargs)

    def set_cells(self, image: np.ndarray, changed: Sequence[Cells] | None, **kwargs: Any) -> None:
        """Show ``image``, in which only the ``changed`` rectangles differ from what was shown.

        ``image`` may be a new array or the last one changed in place; ``None``: any cell may
        have changed.
        """
        if changed is None or self._changed is None:
            self._changed = None
        else:
            self._changed.extend(changed)
        self._by_cells = None if changed is None else list(changed)
        try:
            self.setImage(image, autoLevels=False, **kwargs)
        finally:
            self._by_cells = None

    def setImage(self, image: Any = None, autoLevels: Any = None, **kwargs: Any) -> None:  # noqa: N802, N803 (pyqtgraph override)
        """Set the image as pyqtgraph does; called other than through :meth:`set_cells`, all cells changed."""
        cells = getattr(self, "_by_cells", None)
        if cells is None:
            self._changed = None
        if image is not None:  # pyqtgraph's setImage(None, levels=...) only restyles
            self.version = getattr(self, "version", 0) + 1
            self.changed_cells = cells
        super().setImage(image, autoLevels, **kwargs)

    def render(self) -> None:
        """Re-colour the changed cells (all of them when levels, colours or shape changed)."""
        image, lut = self.image, self.lut
        if (image is None or image.ndim != 2 or image.dtype != np.float32 or self.axisOrder != "row-major"
                or not isinstance(lut, np.ndarray) or lut.dtype != np.uint8 or lut.ndim != 2
                or not 0 < lut.shape[0] <= 256 or self.autoDownsample):
            self._codes = None
            super().render()
            return
        low, high = (float(v) for v in self.levels)
        key = (image.shape, low, high, id(lut))  # _table keeps that lut alive: its id is not reused
        codes, changed = self._codes, self._changed
        if codes is None or changed is None or key != self._coded_for:  # every cell
            codes = self._codes = np.empty(image.shape, np.uint8)
            self._coded_for, changed = key, None
        colours = lut.shape[0]
        scale = colours / ((high - low) or 1.0)
        for r0, r1, c0, c1 in changed if changed is not None else [(0, image.shape[0], 0, image.shape[1])]:
            cells = (image[r0:r1, c0:c1] - np.float32(low)) * np.float32(scale)
            np.clip(cells, 0, colours - 1, out=cells)
            codes[r0:r1, c0:c1] = cells  # the cast cuts to an integer, as pyqtgraph's does
        self._changed = []
        qimage = fn.ndarray_to_qimage(codes, QImage.Format.Format_Indexed8)
        qimage.setColorTable(self._colour_table(lut))
        # a map coloured whole (a new map, not a drag) is converted to colours once: Qt converted
        # an indexed image on every paint (the full-attention map, drawn each tick, 0.2-1 ms);
        # one re-coloured in bands is drawn again next tick, converting it each render cost more
        self.qimage = qimage if changed is not None else qimage.convertToFormat(
            QImage.Format.Format_ARGB32_Premultiplied if lut.shape[1] == 4 else QImage.Format.Format_RGB32)
        self._renderRequired = False
        self._unrenderable = False

    def _colour_table(self, lut: np.ndarray) -> list[int]:
        if self._table[0] is not lut:
            rows = lut.tolist()
            table = [qRgba(*c) for c in rows] if lut.shape[1] == 4 else [qRgb(*c[:3]) for c in rows]
            self._table = (lut, table)
        return self._table[1]
