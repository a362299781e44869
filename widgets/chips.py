"""A text shown as colored token chips, painted directly so thousands of chips stay cheap.

Only the chips inside the visible rows are painted; layout is a single pass over cached piece
widths, redone when the chips or the width change. Hovering a chip shows its piece, its
vocabulary id and the merge rank that made it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractScrollArea, QToolTip

from core.bpe import Chip
from widgets.theme import Theme, mix

_PAD = 3
_GAP = 7
_LINE_GAP = 4


def _shown(text: str) -> str:
    """Make whitespace inside a piece visible (a chip of spaces would look empty)."""
    return text.replace(" ", "·").replace("\t", "→").replace("\n", "↵") or "∅"


class ChipView(QAbstractScrollArea):
    """Token chips laid out like running text, with line breaks where the text has them."""

    def __init__(self) -> None:
        super().__init__()
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self._chips: list[Chip] = []
        self._rects: list[QRect] = []
        self._row_tops: list[int] = []
        self._row_first: list[int] = []
        self._widths: dict[str, int] = {}
        self._colors: list[QColor] = [QColor("#cccccc")]
        self._text = QColor("#000000")
        self._unknown = QColor("#ffffff")

    def set_theme(self, theme: Theme) -> None:
        """Use tints of the theme's palette on its background for chips, its foreground for text."""
        self._colors = [QColor(mix(theme.background, c, 0.3)) for c in theme.palette]
        self._text = QColor(theme.foreground)
        self._unknown = QColor(theme.background)
        self.viewport().update()

    def set_chips(self, chips: Sequence[Chip]) -> None:
        """Show ``chips`` (in text order) and lay them out for the current width."""
        self._chips = list(chips)
        self._layout()

    def chip_colors(self) -> tuple[list[QColor], QColor]:
        """Return the chip grounds and the text color drawn on them."""
        return list(self._colors), QColor(self._text)

    def chips(self) -> list[Chip]:
        """Return the chips shown."""
        return self._chips

    def _width(self, text: str, metrics: QFontMetrics) -> int:
        width = self._widths.get(text)
        if width is None:
            width = self._widths[text] = metrics.horizontalAdvance(_shown(text)) + 2 * _PAD
        return width

    def _layout(self) -> None:
        metrics = self.fontMetrics()
        height = metrics.height() + 2 * _PAD
        limit = max(self.viewport().width() - _GAP, 50)
        x, y = _GAP, _GAP
        rects, tops, first = [], [y], [0]
        for i, chip in enumerate(self._chips):
            w = self._width(chip.text, metrics)
            if i and chip.space:
                x += _GAP
            if i and (chip.newline or x + w > limit):
                x, y = _GAP, y + height + _LINE_GAP
                tops.append(y)
                first.append(i)
            rects.append(QRect(x, y, w, height))
            x += w
        self._rects, self._row_tops, self._row_first = rects, tops, first
        total = y + height + _GAP
        self.verticalScrollBar().setRange(0, max(0, total - self.viewport().height()))
        self.verticalScrollBar().setPageStep(self.viewport().height())
        self.verticalScrollBar().setSingleStep(height)
        self.viewport().update()

    def _visible(self, top: int, bottom: int) -> range:
        lo = max(bisect_right(self._row_tops, top - 40) - 1, 0)
        hi = bisect_left(self._row_tops, bottom)
        start = self._row_first[lo] if self._row_first else 0
        end = self._row_first[hi] if hi < len(self._row_first) else len(self._chips)
        return range(start, end)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """Paint the chips of the visible rows only."""
        painter = QPainter(self.viewport())
        dy = self.verticalScrollBar().value()
        painter.translate(0, -dy)
        painter.setPen(Qt.PenStyle.NoPen)
        rows = self._visible(dy, dy + self.viewport().height())
        for i in rows:
            chip, rect = self._chips[i], self._rects[i]
            token = chip.token_id
            color = self._unknown if token is None else self._colors[token % len(self._colors)]
            painter.setBrush(color)
            painter.drawRoundedRect(rect, 3, 3)
        painter.setPen(self._text)
        for i in rows:
            painter.drawText(self._rects[i], Qt.AlignmentFlag.AlignCenter, _shown(self._chips[i].text))
        painter.end()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 (Qt override)
        """Repaint on scroll (painting reads the scroll bar's value)."""
        self.viewport().update()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        """Re-wrap the chips to the new width."""
        super().resizeEvent(event)
        self._layout()

    def chip_at(self, pos: QPoint) -> int | None:
        """Return the index of the chip under viewport position ``pos``."""
        y = pos.y() + self.verticalScrollBar().value()
        for i in self._visible(y, y + 1):
            if self._rects[i].contains(pos.x(), y):
                return i
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """Show what the hovered chip is."""
        i = self.chip_at(event.position().toPoint())
        if i is None:
            QToolTip.hideText()
            return
        QToolTip.showText(event.globalPosition().toPoint(), describe(self._chips[i]), self.viewport())


def describe(chip: Chip) -> str:
    """Return the hover text of a chip."""
    ident = "not in the vocabulary (unseen in the corpus)" if chip.token_id is None else f"id {chip.token_id}"
    made = "a starting symbol" if chip.rank is None else f"made by merge rank {chip.rank}"
    return f"{chip.text!r} · {ident} · {made}"
