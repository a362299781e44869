"""Horizontal axes are tall enough for their tick labels at slide sizes (every sample).

pyqtgraph sizes a bottom axis to 0.8 of its labels' height but draws them whole; in slide
exports the lower part of category labels ("input output cache") fell under the next row.
"""

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QFont, QFontMetricsF

from widgets import PANELS
from widgets.export import resize_view
from widgets.loaders import read_scenario
from widgets.offscreen import build_panel
from widgets.resources import samples


def _short_axes(panel):
    for item in panel.view.scene().items():
        if isinstance(item, pg.AxisItem) and item.isVisible() and item.orientation in ("top", "bottom") \
                and item.style["showValues"] and item.fixedHeight is None:
            line = QFontMetricsF(item.style.get("tickFont") or QFont()).height()
            need = line + item.style["tickTextOffset"][1] + max(0, item.style["tickLength"])
            if item.height() + 0.5 < need:
                yield f"{item.orientation} axis {item.height():.0f} px < {need:.0f} px for its labels"


@pytest.mark.parametrize("sample", [s for cls in PANELS for s in samples(cls.lever)], ids=lambda p: p.stem)
def test_tick_labels_fit_their_axis_in_the_slide_theme(sample, qapp):
    lever, params = read_scenario(sample)
    panel = build_panel(lever, params, theme="slide")
    try:
        resize_view(panel.view, (1280, 720))
        assert list(_short_axes(panel)) == []
    finally:
        panel.shutdown()
        panel.view.close()
        panel.view.deleteLater()
        panel.deleteLater()
