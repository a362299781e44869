"""Axis categories set again unchanged are not laid out again (that cost ~2 ms a tick per axis)."""

import pyqtgraph as pg
from PySide6.QtGui import QImage, QPainter

from widgets.plots import set_category_ticks


def _paint(plot):
    image = QImage(400, 300, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    plot.scene().render(painter)
    painter.end()


def test_the_same_labels_again_keep_the_axis_picture_and_new_ones_replace_it(qtbot):
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    view.resize(400, 300)
    plot = view.addPlot()
    axis = plot.getAxis("bottom")
    set_category_ticks(axis, ["input", "output", "cache"])
    _paint(plot)
    drawn = axis.picture
    assert drawn is not None
    set_category_ticks(axis, ["input", "output", "cache"])
    assert axis.picture is drawn
    set_category_ticks(axis, ["input", "output"])
    assert axis.picture is None  # changed labels: laid out again
    _paint(plot)
    assert [label for _pos, label in axis._tickLevels[0]] == ["input", "output"]

