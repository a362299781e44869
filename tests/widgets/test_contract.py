"""Every registered panel keeps the panel contract."""

import dataclasses
import xml.etree.ElementTree as ET

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QGraphicsPixmapItem, QSpinBox

from core import fields
from widgets import PANELS
from widgets.controls import SliderSpin
from widgets.export import write_chart

# Waiting for a result, not timing it: attention at its largest n takes seconds on a loaded 2-core CI.
IDLE_MS = 60_000


# attention at its largest n (8,192 queries, all keys) is a scale case: the slow tier runs it
@pytest.mark.parametrize("spec", [pytest.param(s, marks=pytest.mark.slow) if s.lever == "attention" else s
                                  for s in PANELS], ids=[s.lever for s in PANELS])
def test_panel_contract(spec, make_panel, qtbot, tmp_path):
    panel = make_panel(spec)
    assert panel.lever and panel.title and panel.chapter and panel.group and panel.explain
    panel.load_sample()
    panel.resize(1200, 800)
    panel.show()
    qtbot.waitUntil(panel.is_idle, timeout=IDLE_MS)
    errors = []
    panel.sig_failed.connect(errors.append)
    rendered = []
    panel.sig_rendered.connect(rendered.append)

    def each(values, get, put):
        """Put every value in turn, then the one the control had, waiting for each result: every
        control's extremes are computed from the sample (not from where the controls before it
        were left, which made attention compute its largest n for every later control)."""
        start = get()
        for value in [*values, start]:
            put(value)
            qtbot.waitUntil(panel.is_idle, timeout=IDLE_MS)

    sliders = panel.findChildren(SliderSpin)
    assert sliders, "a panel has at least one slider"
    for control in sliders:
        each((0, control.slider.maximum()), control.slider.value, control.slider.setValue)
    for combo in panel.findChildren(QComboBox):
        each([i for i in range(combo.count()) if combo.model().item(i).isEnabled()],
             combo.currentIndex, combo.setCurrentIndex)
    for spin in panel.findChildren(QSpinBox):
        each((spin.minimum(), spin.maximum()), spin.value, spin.setValue)
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


def _reader(control):
    """How to read what a control shows (None: a text field, edited by typing in its panel's tests)."""
    if isinstance(control, SliderSpin | QAbstractSpinBox):
        return control.value
    if isinstance(control, QComboBox):
        return control.currentIndex
    if isinstance(control, QCheckBox):
        return control.isChecked
    return None


def _nudge(control):
    """Move a control to another value, as a user would; return whether it moved."""
    if isinstance(control, SliderSpin):
        if control.spin.maximum() == control.spin.minimum():
            return False
        control.slider.setValue(0 if control.value() > control.spin.minimum() else control.slider.maximum())
    elif isinstance(control, QComboBox):
        others = [i for i in range(control.count())
                  if i != control.currentIndex() and control.model().item(i).isEnabled()]
        if not others:
            return False
        control.setCurrentIndex(others[0])
    elif isinstance(control, QAbstractSpinBox):
        if control.maximum() == control.minimum():
            return False
        control.setValue(control.minimum() if control.value() > control.minimum() else control.maximum())
    else:
        control.click()
    return True


@pytest.mark.parametrize("spec", PANELS, ids=[s.lever for s in PANELS])
def test_bound_controls_follow_the_params_both_ways(spec, make_panel, qtbot):
    panel = make_panel(spec)
    panel.load_sample()
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    params_cls = type(panel.params)
    for name, control in panel.bindings():
        declared = fields.spec(params_cls, name)
        optional = "None" in str(next(f.type for f in dataclasses.fields(params_cls) if f.name == name))
        if isinstance(control, SliderSpin) and declared.minimum is not None and not optional:
            # (an optional field may use the slider's bottom for None: "all", "no bound")
            assert control.spin.minimum() >= declared.minimum, f"{name}: range below the declared minimum"
        if isinstance(control, QComboBox) and declared.choices and control.itemData(0) is None:
            assert [control.itemText(i) for i in range(control.count())] == list(declared.choices)
        read = _reader(control)
        if read is None or not control.isEnabled():
            continue
        before, shown = panel.params, read()
        if not _nudge(control) or panel.params == before:  # clamped back to the same value
            continue
        assert getattr(panel.params, name) != getattr(before, name), f"{name}: the control set another field"
        qtbot.waitUntil(panel.is_idle, timeout=20000)
        with qtbot.waitSignal(panel.sig_params_changed):
            panel.set_params(before)  # a loaded scenario or session puts the value back
        assert read() == shown, f"{spec.lever}.{name}: the control did not follow the params"
        qtbot.waitUntil(panel.is_idle, timeout=20000)
    panel.shutdown()
