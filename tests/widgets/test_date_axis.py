"""A date axis two years wide in a small window names quarters between the years, not one year."""

from datetime import datetime

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage, QPainter

from widgets.date_axis import date_axis


def _at(*date):
    return (datetime(*date) - datetime(1970, 1, 1)).total_seconds()


def _drawn_labels(axis):
    """The tick labels the axis draws at its size (pyqtgraph drops a level whose labels do not fit)."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _axis, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in sorted(texts, key=lambda t: t[0].left())]


@pytest.mark.parametrize(("make", "expected"), [
    (date_axis, ["Apr", "Jul", "Oct", "2024", "Apr", "Jul", "Oct"]),
    (lambda: pg.DateAxisItem(utcOffset=0), ["2024"]),  # pyqtgraph's own: one label for two years
])
def test_two_years_in_400_pixels_read_by_quarter(qtbot, make, expected):
    view = pg.PlotWidget(axisItems={"bottom": make()})
    qtbot.addWidget(view)
    view.resize(440, 200)
    view.show()
    qtbot.waitExposed(view)
    view.setXRange(_at(2023, 2, 10), _at(2024, 12, 1), padding=0)
    axis = view.getPlotItem().getAxis("bottom")
    qtbot.waitUntil(lambda: _drawn_labels(axis) == expected, timeout=3000)
