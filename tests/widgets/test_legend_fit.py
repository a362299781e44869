"""On screen a legend sits in its plot's corner: it takes as many columns as the plot is wide for."""

import pyqtgraph as pg

from widgets.plots import style_plot
from widgets.theme import load_theme

NAMES = ("traditional, cached", "traditional, uncached", "instant, cached", "instant, uncached")


def _plot(qtbot, width):
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    view.resize(width, 400)
    plot = view.addPlot()
    plot.addLegend(offset=(10, 5))
    for k, name in enumerate(NAMES):
        plot.plot([0, 1], [k, k + 1], name=name)
    style_plot(plot, load_theme("light"))
    view.show()
    qtbot.waitExposed(view)
    return view, plot


def test_a_legend_too_wide_for_its_plot_takes_fewer_columns_and_more_when_there_is_room(qtbot):
    view, plot = _plot(qtbot, 1400)
    legend = plot.legend
    assert legend.columnCount == 3, "a wide plot: short rows"
    view.resize(330, 400)
    qtbot.waitUntil(lambda: legend.columnCount < 3)
    assert legend.width() <= plot.vb.width(), "nothing of the legend is cut off at the side"
    view.resize(1400, 400)
    qtbot.waitUntil(lambda: legend.columnCount == 3)


def test_the_slide_theme_keeps_its_legend_docked_below(qtbot):
    _view, plot = _plot(qtbot, 330)
    style_plot(plot, load_theme("slide"))
    assert plot.legend.docked is not None and plot.legend.parentItem() is plot


def test_a_slide_legend_with_a_pins_entry_stays_on_one_row_where_the_plot_is_wide_enough(qtbot):
    from widgets import pins
    from widgets.chart_style import LEGEND_COLUMNS

    view, plot = _plot(qtbot, 1280)
    style_plot(plot, load_theme("slide"))
    legend = plot.legend
    assert legend.columnCount == LEGEND_COLUMNS == len(NAMES)
    pins.draw(pins.capture([plot], "A", "#8c8c8c", ""), [plot])  # a fifth entry: "pin A"
    assert len(legend.items) == 5 and legend.columnCount == 5, "one row, not a second one"
    assert legend.layout.preferredWidth() <= plot.width()
    view.resize(640, 400)  # the same plot made narrow: back to rows of four (or fewer)
    qtbot.waitUntil(lambda: legend.columnCount <= LEGEND_COLUMNS)
    _narrow, small = _plot(qtbot, 500)  # a plot too narrow for five: rows of four
    style_plot(small, load_theme("slide"))
    pins.draw(pins.capture([small], "A", "#8c8c8c", ""), [small])
    assert small.legend.columnCount <= LEGEND_COLUMNS
