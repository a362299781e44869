"""Plot grids that reflow: fewer columns when the view is narrow, never silent clipping.

Panels lay their plots out for a wide view (``view.addPlot(row=..., col=..., colspan=...)``).
:class:`Reflow` records that grid once and, when the view is too narrow for it, re-places the
same items with fewer columns: each row of the wide grid wraps into several rows, an item keeps
its column span (at most the column count) and the last item of a wrapped row widens to fill
it. Items are moved, never re-created, so curves, caches and links survive.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QSize, QSizeF, Qt
from PySide6.QtWidgets import QGraphicsWidget, QScrollArea, QWidget


@dataclass(frozen=True, slots=True)
class Cell:
    """Where one item sits in a grid."""

    item: QGraphicsWidget
    row: int
    col: int
    colspan: int


def wrap(rows: list[list[Cell]], columns: int) -> list[Cell]:
    """Place the wide grid's ``rows`` (cells in column order) on at most ``columns`` columns."""
    placed: list[Cell] = []
    out_row = 0
    for row in rows:
        line: list[Cell] = []
        used = 0
        for cell in row:
            span = min(cell.colspan, columns)
            if line and used + span > columns:
                placed += _widen_last(line, columns)
                out_row, line, used = out_row + 1, [], 0
            line.append(Cell(cell.item, out_row, used, span))
            used += span
        placed += _widen_last(line, columns)
        out_row += 1
    return placed


def _widen_last(line: list[Cell], columns: int) -> list[Cell]:
    if not line:
        return line
    last = line[-1]
    return [*line[:-1], Cell(last.item, last.row, last.col, columns - last.col)]


class Reflow:
    """Re-places the items of a pyqtgraph ``GraphicsLayout`` to fit a given size."""

    def __init__(self, layout: pg.GraphicsLayout) -> None:
        self._ci = layout
        self._rows: list[list[Cell]] | None = None
        self._stretch: list[int] = []
        self.columns = 0
        """The column count in use (0 until the first :meth:`fit`)."""
        self.widest = 0
        """The wide grid's column count."""

    def _record(self) -> bool:
        """Read the wide grid from the layout; False when it has no items or spans rows."""
        ci = self._ci
        cells: list[Cell] = []
        for item, occupied in ci.items.items():
            rows = {r for r, _ in occupied}
            cols = [c for _, c in occupied]
            if len(rows) != 1:
                return False
            cells.append(Cell(item, rows.pop(), min(cols), max(cols) - min(cols) + 1))
        if not cells:
            return False
        by_row: dict[int, list[Cell]] = {}
        for cell in sorted(cells, key=lambda c: (c.row, c.col)):
            by_row.setdefault(cell.row, []).append(cell)
        grid = ci.layout
        self._rows = [by_row[r] for r in sorted(by_row)]
        # a stretch of 0 set on purpose caps a row at its preferred height; rows of a grid that
        # set none grow alike, so they get 1 each once rows are re-placed
        stretch = [grid.rowStretchFactor(r) for r in sorted(by_row)]
        self._stretch = stretch if any(stretch) else [1] * len(stretch)
        self.widest = max(c.col + c.colspan for c in cells)
        self.columns = self.widest
        return True

    def minimum(self) -> QSizeF:
        """Return the layout's minimum size as now placed."""
        size: QSizeF = self._ci.effectiveSizeHint(Qt.SizeHint.MinimumSize)  # pyqtgraph is untyped
        return size

    def fit(self, width: float, height: float) -> bool:
        """Use the most columns whose minimum size fits ``width`` x ``height``.

        Return whether the layout now fits (at one column it may still be too tall or too wide).
        """
        if self._rows is None and not self._record():
            return self.fits(width, height)
        if self.fits(width, height) and (self.columns == self.widest or not self._wider_fits(width, height)):
            return True
        for columns in range(self.widest, 0, -1):
            self._place(columns)
            if self.fits(width, height):
                return True
        # nothing fits both ways: keep the most columns whose width fits
        for columns in range(self.widest, 0, -1):
            self._place(columns)
            if self.minimum().width() <= width:
                break
        return False

    def fits(self, width: float, height: float) -> bool:
        """Whether the layout's minimum size fits ``width`` x ``height``."""
        need = self.minimum()
        return need.width() <= width + 0.5 and need.height() <= height + 0.5

    def _wider_fits(self, width: float, height: float) -> bool:
        current = self.columns
        self._place(current + 1)
        if self.fits(width, height):
            return True
        self._place(current)
        return False

    def _place(self, columns: int) -> None:
        if columns == self.columns or self._rows is None:
            return
        ci, grid = self._ci, self._ci.layout
        placed = wrap(self._rows, columns)
        for cell in placed:
            grid.removeItem(cell.item)
        ci.rows = {}
        row_of = {id(cell.item): i for i, row in enumerate(self._rows) for cell in row}
        for r in range(grid.rowCount()):
            grid.setRowStretchFactor(r, 0)
        for cell in placed:
            grid.addItem(cell.item, cell.row, cell.col, 1, cell.colspan)
            spots = [(cell.row, c) for c in range(cell.col, cell.col + cell.colspan)]
            ci.items[cell.item] = spots
            for r, c in spots:
                ci.rows.setdefault(r, {})[c] = cell.item
            grid.setRowStretchFactor(cell.row, self._stretch[row_of[id(cell.item)]])
        self.columns = columns
        grid.invalidate()


class ControlsScroll(QScrollArea):
    """A scroll area for a controls column: scrolls up and down, never sideways.

    It is exactly as wide as its controls need (their minimum width plus the scroll bar), so
    the splitter beside it can give the plots everything else.
    """

    def __init__(self, content: QWidget) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(content)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """Return the controls' minimum width plus the vertical scroll bar and frame."""
        widget = self.widget()
        content = widget.minimumSizeHint().width() if widget is not None else 0
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(content + bar + 2 * self.frameWidth(), super().minimumSizeHint().height())
