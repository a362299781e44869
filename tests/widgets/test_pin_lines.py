"""Pins of charts that are not curves: the temporal timeline's instants, a right-axis curve."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QPushButton

from core.errors import InputError
from widgets import pin_data
from widgets.export import write_chart
from widgets.procedural_learning_panel import ProceduralLearningPanel
from widgets.temporal_panel import TemporalPanel


def _ghosts(plot, kind):
    return [i for i in plot.items if isinstance(i, kind) and getattr(i, "ghost_of", None)]


def test_a_temporal_pin_ghosts_the_instant_and_what_was_true_then(sample_panel, qtbot, tmp_path):
    panel = sample_panel(TemporalPanel)
    charts = panel.plots_
    timeline, belief = charts.timeline, charts.belief
    pinned_at = float(charts.as_of.value())
    held = charts.current.rects().copy()
    wrong_rows = np.sort(charts.wrong.getData()[1])
    assert held.size and wrong_rows.size, "the sample holds values and the naive store gets some wrong"
    panel.activateWindow()
    qtbot.keyClick(panel, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert [p.label for p in panel.pin_bar.pins] == ["A"]

    panel.as_of.slider.setFocus()
    for _ in range(40):  # a user paging the as-of slider back until the wrong answers change
        qtbot.keyClick(panel.as_of.slider, Qt.Key.Key_PageDown)
        qtbot.waitUntil(lambda: panel.is_idle() and float(charts.as_of.value()) != pinned_at, timeout=20000)
        if charts.wrong.getData()[1].size != wrong_rows.size:
            break
    assert charts.wrong.getData()[1].size != wrong_rows.size

    lines = _ghosts(timeline, pg.InfiniteLine)
    assert [line.value() for line in lines] == [pinned_at], "a dashed line at the pinned instant"
    assert lines[0].pen.style() == Qt.PenStyle.DashLine and lines[0].zValue() > 0, "over the bars"
    assert pinned_at in [line.value() for line in _ghosts(belief, pg.InfiniteLine)]
    outlines = _ghosts(timeline, pg.BarGraphItem)
    assert len(outlines) == 1
    x0, y0, x1, y1 = (np.ravel(c) for c in outlines[0]._getNormalizedCoords()[:4])
    np.testing.assert_allclose(np.c_[x0, y0, x1 - x0, y1 - y0], held)  # what was true then
    marks = [i for _p, i in panel.pin_bar.pins[0].items
             if isinstance(i, pg.PlotDataItem) and i.opts["symbol"] is not None]
    assert len(marks) == 1 and np.array_equal(np.sort(marks[0].yData), wrong_rows)
    assert np.all(marks[0].xData == pinned_at)
    assert marks[0].opts["symbolSize"] == charts.wrong.opts["size"], "rings as large as the crosses"
    assert charts.bars.zValue() < marks[0].zValue() < 0, "over the bars, under the live crosses"
    assert "vs A)" in panel.status.text()
    chip = panel.findChild(QPushButton, "pinChip")
    assert f"{len(panel.pin_bar.pins[0].lines)} line(s) ghosted" in chip.toolTip()

    svg = write_chart(panel.view, tmp_path / "temporal.svg").read_text()
    assert pin_data.PIN_COLORS[0].lower() in svg.lower() and "pin A" in svg

    saved = panel.pin_bar.to_list()
    again = pin_data.pin_from_dict(saved[0], "pins[0]")
    assert [(ln.plot, ln.angle, ln.value) for ln in again.lines] == \
        [(ln.plot, ln.angle, ln.value) for ln in panel.pin_bar.pins[0].lines]
    panel.pin_bar.unpin("A")
    assert not _ghosts(timeline, pg.InfiniteLine) and not _ghosts(belief, pg.InfiniteLine)
    panel.pin_bar.set_pins([again])  # a session reopening
    assert [line.value() for line in _ghosts(timeline, pg.InfiniteLine)] == [pinned_at]


def test_a_saved_line_that_is_not_a_number_or_not_upright_or_level_is_refused():
    base = {"label": "A", "color": "#8c8c8c", "headline": "", "curves": []}
    with pytest.raises(InputError, match=r"pins\[0\]\.lines\[0\]\.angle: expected 0 \(horizontal\) or 90"):
        pin_data.pin_from_dict({**base, "lines": [{"plot": 0, "angle": 45, "value": 1}]}, "pins[0]")
    turned = pin_data.pin_from_dict({**base, "lines": [{"plot": 0, "angle": 270, "value": 1}]}, "pins[0]")
    assert turned.lines[0].angle == 90, "270 degrees is a vertical line too"
    with pytest.raises(InputError, match=r"pins\[0\]\.lines\[0\]\.value: expected a finite number"):
        pin_data.pin_from_dict({"label": "A", "color": "#8c8c8c", "headline": "", "curves": [],
                            "lines": [{"plot": 0, "angle": 90, "value": "noon"}]}, "pins[0]")


def test_a_curve_on_the_right_axis_is_ghosted_on_that_axis(sample_panel):
    panel = sample_panel(ProceduralLearningPanel)
    box = panel.plots_.tokens_vb
    live = panel.plots_.tokens_curve
    pin = panel.pin_bar.pin(panel.status.text())
    twins = [c for c in pin.curves if c.twin]
    assert len(twins) == 1 and np.array_equal(twins[0].y, live.yData)
    ghost = [i for i in box.addedItems if getattr(i, "ghost_of", None) == "A"]
    assert len(ghost) == 1 and np.array_equal(ghost[0].yData, live.yData), "in the right axis's units"
    legend = panel.plots_.curve.legend
    if legend is not None:
        assert "pin A" in [label.text for _sample, label in legend.items]
    again = pin_data.pin_from_dict(pin.to_dict(), "pins[0]")
    assert [c.twin for c in again.curves] == [c.twin for c in pin.curves]
    panel.pin_bar.unpin("A")
    assert not [i for i in box.addedItems if getattr(i, "ghost_of", None)]


def test_a_pin_that_cannot_be_drawn_is_not_kept_half_drawn(sample_panel):
    """Pins are checked as they are read; one that still fails to draw (here built by hand with a
    slanted line) leaves the pins before it drawn and listed, and nothing of itself behind."""
    panel = sample_panel(TemporalPanel)
    good = panel.pin_bar.pin(panel.status.text())
    panel.pin_bar.set_pins([])
    bad = pin_data.Pin("B", pin_data.PIN_COLORS[1], "x", [], lines=[pin_data.Line(0, 45.0, 1.0)])
    with pytest.raises(Exception, match="non-orthogonal"):
        panel.pin_bar.set_pins([good, bad])
    assert [p.label for p in panel.pin_bar.pins] == ["A"]
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the chips replaced
    assert [c.text() for c in panel.findChildren(QPushButton, "pinChip")] == ["A ✕"]
    assert {i.ghost_of for plot in panel.plots() for i in plot.items if getattr(i, "ghost_of", None)} == {"A"}
