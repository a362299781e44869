"""Value labels (a bar's count, a bar's price) at the size of their chart's axes.

A ``pg.TextItem`` keeps the application font (9 pt) whatever the theme: in the slide theme,
whose axes are 14 pt, the numbers a speaker points at were the smallest text on the slide.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtGui import QFont

from widgets.theme import Theme


def at_axis_size(labels: Iterable[pg.TextItem], theme: Theme) -> None:
    """Set each label's font to the theme's axis size (only where it differs: a new font re-lays it out)."""
    at_point_size(labels, theme.font_pt)


def at_point_size(labels: Iterable[pg.TextItem], point_size: int) -> None:
    """Set each label's font to ``point_size`` (only where it differs)."""
    for label in labels:
        font = label.textItem.font()
        if font.pointSize() != point_size:
            font = QFont(font)
            font.setPointSize(point_size)
            label.setFont(font)
