"""Every registered panel keeps the panel contract."""

import xml.etree.ElementTree as ET

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QGraphicsPixmapItem, QSpinBox

from widgets import PANELS
from widgets.controls import SliderSpin
from widgets.export import write_chart


@pytest.mark.parametrize("spec", PANELS, ids=[s.lever for s in PANELS])
def test_panel_contract(spec, make_panel, qtbot, tmp_path):
    panel = make_panel(spec)
    assert panel.lever and panel.title and panel.chapter and panel.group and panel.explain
    panel.load_sample()
    panel.resize(1200, 800)
    panel.show()
    qtbot.waitUntil(panel.is_idle)
    errors = []
    panel.sig_failed.connect(errors.append)
    rendered = []
    panel.sig_rendered.connect(rendered.append)

    sliders = panel.findChildren(SliderSpin)
    assert sliders, "a panel has at least one slider"
    for control in sliders:
        for tick in (0, control.slider.maximum()):
            control.slider.setValue(tick)
            qtbot.waitUntil(panel.is_idle)
    for combo in panel.findChildren(QComboBox):
        for i in range(combo.count()):
            if combo.model().item(i).isEnabled():
                combo.setCurrentIndex(i)
                qtbot.waitUntil(panel.is_idle)
    for spin in panel.findChildren(QSpinBox):
        for value in (spin.minimum(), spin.maximum()):
            spin.setValue(value)
            qtbot.waitUntil(panel.is_idle)
    assert errors == []
    assert rendered, "moving the controls redrew the panel"

    png = write_chart(panel.view, tmp_path / "chart.png", scale=2)
    image = QImage(str(png))
    assert image.width() == 2 * panel.view.viewport().width()
    svg = write_chart(panel.view, tmp_path / "chart.svg")
    elements = list(ET.parse(svg).getroot().iter())
    assert [e.text for e in elements if e.tag.endswith("text")]
    # heatmaps and the gradients of their color bars are the only pictures allowed
    heatmaps = [i for i in panel.view.scene().items()
                if isinstance(i, pg.ImageItem | QGraphicsPixmapItem) and i.isVisible()]
    pictures = [e for e in elements if e.tag.endswith("image")]
    assert len(pictures) <= len(heatmaps), "only heatmaps are pictures; curves export as vectors"

    panel.shutdown()
    assert panel.is_idle()
