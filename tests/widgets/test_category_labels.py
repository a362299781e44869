"""Category labels under bars never run together: a plot too narrow for them reflows the grid."""

from itertools import pairwise

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QFont, QFontMetricsF

from widgets import PANELS
from widgets.theme import load_theme

PANELS_WITH_CATEGORIES = ["economy", "bpe", "compression", "agent_memory", "output_shaping"]


def _crowded(plot):
    """Return the pairs of neighbouring category labels under ``plot`` that touch or overlap."""
    axis = plot.getAxis("bottom")
    levels = getattr(axis, "_tickLevels", None)
    if not levels or not levels[0]:
        return []
    metrics = QFontMetricsF(axis.style.get("tickFont") or QFont())
    spans = []
    for value, text in sorted(levels[0]):
        x = plot.vb.mapViewToScene(pg.Point(value, 0)).x()
        half = metrics.horizontalAdvance(text) / 2
        spans.append((x - half, x + half, text))
    return [(a[2], b[2]) for a, b in pairwise(spans) if b[0] - a[1] < 4]


@pytest.mark.parametrize("lever", PANELS_WITH_CATEGORIES)
def test_category_labels_keep_apart_at_1280x720(make_panel, qtbot, lever):
    panel = make_panel(next(s for s in PANELS if s.lever == lever))
    panel.load_sample()
    panel.resize(1090, 640)  # the panel's share of a 1280x720 window
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output() is not None, timeout=20000)
    plots = [item for item in panel.view.ci.items if isinstance(item, pg.PlotItem)]
    qtbot.waitUntil(lambda: all(not _crowded(plot) for plot in plots), timeout=3000)


def test_a_theme_with_larger_text_asks_for_more_room(make_panel, qtbot):

    panel = make_panel(next(s for s in PANELS if s.lever == "economy"))
    panel.load_sample()
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output() is not None, timeout=20000)
    vb = panel.split_plot.vb
    before = vb.minimumWidth()
    panel.apply_theme(load_theme("slide"))  # larger tick text, the same labels
    axis = panel.split_plot.getAxis("bottom")
    metrics = QFontMetricsF(axis.style["tickFont"])
    widest = max(metrics.horizontalAdvance(text) for _value, text in axis._tickLevels[0])
    assert vb.minimumWidth() > before
    assert vb.minimumWidth() == min(3 * (widest + 12), 420)
