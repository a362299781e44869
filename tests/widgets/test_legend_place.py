"""On screen a legend goes to the corner of its plot where it covers the least, once data settles."""

import numpy as np
import pyqtgraph as pg

from widgets.plot_room import place_legend
from widgets.plots import LEGENDS_SETTLE_MS, PlotView, style_plot
from widgets.theme import load_theme


def _view(qtbot):
    view = PlotView()
    qtbot.addWidget(view)
    view.resize(700, 420)
    plot = view.addPlot()
    plot.addLegend(offset=(10, 10))  # the panel's choice: top left
    plot.setRange(xRange=(0, 100), yRange=(0, 100), padding=0)
    plot.disableAutoRange()
    style_plot(plot, load_theme("light"))
    view.show()
    qtbot.waitExposed(view)
    return view, plot


def _corner(plot):
    x, y = plot.legend.opts["offset"]
    return ("left" if x > 0 else "right", "top" if y > 0 else "bottom")


def test_a_legend_over_data_moves_to_the_emptiest_corner_after_the_data_settles(qtbot):
    view, plot = _view(qtbot)
    xs = np.linspace(0, 100, 200)
    plot.plot(xs, 95 - 0.1 * xs, name="along the top")  # under both top corners
    plot.plot(xs, np.where(xs < 50, 20.0, np.nan), name="low on the left")
    qtbot.wait(50)
    assert _corner(plot) == ("left", "top"), "nothing moves before the data has settled"
    view.schedule_legends()
    qtbot.waitUntil(lambda: _corner(plot) == ("right", "bottom"), timeout=LEGENDS_SETTLE_MS + 2000)
    box = plot.vb.mapRectFromScene(plot.legend.sceneBoundingRect())
    assert box.right() <= plot.vb.width() and box.bottom() <= plot.vb.height(), "inside its view box"


def test_a_label_weighs_more_than_a_curve_and_a_tie_keeps_the_corner(qtbot):
    _shown, plot = _view(qtbot)
    assert not place_legend(plot), "an empty plot: every corner ties, the legend stays"
    xs = np.linspace(0, 100, 50)
    plot.plot(xs, np.full(50, 8.0), name="a line along the bottom")
    for x, anchor in ((3, (0, 0)), (97, (1, 0))):  # a label in each top corner
        label = pg.TextItem("budget 900", anchor=anchor)
        plot.addItem(label)
        label.setPos(x, 97)
    assert place_legend(plot)
    assert _corner(plot)[1] == "bottom", "over the line rather than over the label"


def test_a_docked_slide_legend_is_never_moved(qtbot):
    _shown, plot = _view(qtbot)
    plot.plot([0, 100], [100, 100], name="top")
    style_plot(plot, load_theme("slide"))
    assert not place_legend(plot)
    assert plot.legend.parentItem() is plot


def test_a_line_label_moves_off_the_curve_it_covers_and_stays_when_nothing_is_better(qtbot):
    from widgets.plot_room import crowding, place_line_labels

    _shown, plot = _view(qtbot)
    xs = np.linspace(0, 100, 400)
    plot.plot(xs, np.where(xs > 50, 96.0, np.nan))  # along the top, right of the line
    line = pg.InfiniteLine(50, angle=90, label="step 50")
    plot.addItem(line)
    style_plot(plot, load_theme("light"))
    line.label.anchors = [(0, 0), (0, 0)]  # hanging from the top, right of the line: on the curve
    line.label.setPosition(1.0)
    qtbot.wait(20)

    def box():
        line.label.updateTransform(force=True)
        return plot.vb.mapRectFromScene(line.label.sceneBoundingRect())

    before = crowding(plot, box(), skip=line.label)
    assert before > 3, "the label starts over the curve (3: its own line)"
    place_line_labels(plot)
    assert crowding(plot, box(), skip=line.label) < before
    where = (line.label.orthoPos, list(line.label.anchors))
    place_line_labels(plot)  # nothing better now: it stays
    assert (line.label.orthoPos, list(line.label.anchors)) == where


def test_a_line_label_near_the_edge_is_never_moved_out_of_its_plot(qtbot):
    from widgets.plot_room import place_line_labels

    _shown, plot = _view(qtbot)
    xs = np.linspace(0, 100, 400)
    plot.plot(xs, np.full(xs.size, 97.0))
    plot.plot(xs, np.full(xs.size, 3.0))  # both ends of every line are crowded
    lines = [pg.InfiniteLine(x, angle=90, label="budget 900 tokens") for x in (1, 92, 99)]
    for line in lines:
        plot.addItem(line)
    style_plot(plot, load_theme("slide"))
    qtbot.wait(20)
    place_line_labels(plot)
    inside = plot.vb.boundingRect()
    for line in lines:
        line.label.updateTransform(force=True)
        box = plot.vb.mapRectFromScene(line.label.sceneBoundingRect())
        assert inside.contains(box), (line.value(), box)
