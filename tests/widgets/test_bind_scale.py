"""A fraction shown on an integer slider (bind(..., scale=)) reaches its whole declared range."""

import pytest
from PySide6.QtCore import Qt

from core import fields
from widgets.attention_panel import AttentionPanel
from widgets.semantic_cache_panel import SemanticCachePanel


@pytest.mark.parametrize(("cls", "name", "control", "scale"), [
    (AttentionPanel, "slope", "slope", 1000),  # the ALiBi slope in thousandths
    (SemanticCachePanel, "threshold", "threshold", 100),  # the threshold in hundredths
])
def test_a_scaled_slider_pages_to_the_declared_top_and_bottom(cls, name, control, scale, make_panel, qtbot):
    panel = make_panel(cls)
    panel.load_sample()
    qtbot.waitUntil(panel.is_idle, timeout=60_000)
    declared = fields.spec(type(panel.params), name)
    slider = getattr(panel, control)
    for _ in range(11):  # ten pages span the travel
        qtbot.keyClick(slider.slider, Qt.Key.Key_PageUp)
    assert getattr(panel.params, name) == declared.maximum
    assert slider.value() == declared.maximum * scale
    for _ in range(11):
        qtbot.keyClick(slider.slider, Qt.Key.Key_PageDown)
    assert getattr(panel.params, name) == declared.minimum
    panel.set_params(panel.params.__class__.from_dict({**panel.params.to_dict(), name: 0.37}))
    assert slider.value() == round(0.37 * scale), "a loaded value shows in the slider's units"
    qtbot.waitUntil(panel.is_idle, timeout=60_000)
