"""Axis categories set again unchanged are not laid out again (that cost ~2 ms a tick per axis)."""

import pyqtgraph as pg
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

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



def test_a_coloured_title_is_as_narrow_as_its_words(qtbot):
    """Markup in a title (a coloured word) is not a word: it must not hold the plot wide."""
    from widgets.chart_style import wrap_title

    widths = []
    for title in ("window 512 keeps 93% of the mass",
                  'window <span style="color:#d62728;font-weight:bold">512</span> keeps 93% of the mass'):
        view = pg.GraphicsLayoutWidget()
        qtbot.addWidget(view)
        plot = view.addPlot()
        wrap_title(plot)
        plot.setTitle(title)
        widths.append(plot.titleLabel.minimumWidth())
    assert widths[1] <= widths[0] + 5, widths  # the bold word is a little wider; markup was 130 px


def _two_plots(qtbot, left_title):
    from widgets.chart_style import wrap_title

    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    plots = view.addPlot(row=0, col=0), view.addPlot(row=0, col=1)
    for plot, title in zip(plots, (left_title, "a short title"), strict=True):
        wrap_title(plot)
        plot.setTitle(title)
    qtbot.waitExposed(view)
    return view, plots


def _boxes(plots):
    QApplication.processEvents()
    return tuple(p.vb.sceneBoundingRect().getRect() for p in plots)


def test_a_title_that_changes_while_dragging_keeps_the_grid_still_then_fits_its_text(qtbot):
    """A title showing a dragged value moved the grid's rows and columns by a few pixels on
    most ticks (a digit more, a line fewer): every plot re-laid out and repainted. Once the
    text keeps still, the grid is the one a fresh view with that title gets."""
    from widgets.chart_style import HINTS_HELD_MS

    long = "held-out failures: 12,090 → 1,055 (caught 11,035, missed 1,055 of them) at this threshold"
    view, plots = _two_plots(qtbot, "12 → 3 (caught 9)")
    geometry = []
    for text in (long, "1 → 0", long, "12 → 3 (caught 9)"):
        plots[0].setTitle(text)
        qtbot.wait(1)
        geometry.append(_boxes(plots))
    assert len(set(geometry)) == 1, geometry
    _fresh_view, fresh = _two_plots(qtbot, "12 → 3 (caught 9)")
    assert _boxes(fresh) != geometry[-1], "the long title held the grid while the text changed"
    qtbot.wait(HINTS_HELD_MS + 100)
    assert _boxes(plots) == _boxes(fresh)
    view.resize(700, 400)  # another width: fitted to the text at once
    _fresh_view.resize(700, 400)
    qtbot.waitUntil(lambda: _boxes(plots) == _boxes(fresh))
