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
    for label in labels:
        font = label.textItem.font()
        if font.pointSize() != theme.font_pt:
            font = QFont(font)
            font.setPointSize(theme.font_pt)
            label.setFont(font)
