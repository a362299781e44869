"""The attention panel: window drags reuse full attention, n rebuilds it, rows, models."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from core.attention_maps import Variant, compare
from widgets import pin_maps
from widgets.attention_panel import AttentionPanel
from widgets.export import resize_view
from widgets.loaders import read_scenario
from widgets.offscreen import build_panel
from widgets.plot_room import crowding
from widgets.resources import samples
from widgets.theme import load_theme


@pytest.fixture
def panel(sample_panel):
    return sample_panel(AttentionPanel)


def test_window_drag_reuses_full_attention_and_redraws_the_maps(panel, qtbot):
    maps = panel.output().result.maps
    assert panel.reuses_prepared(panel.params)
    panel.window_w.spin.setValue(16)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.window == 16)
    res = panel.output().result
    assert res.maps is maps
    expected = compare(maps, Variant("window", 16))
    assert res.comparison.max_abs_diff == expected.max_abs_diff
    shown = panel.plots_.variant.image
    assert np.allclose(shown, np.log10(np.maximum(expected.image, 1e-6)))  # the sample uses log color
    mass = panel.plots_.mass.getData()[1]
    assert np.array_equal(mass, expected.window_mass)
    # dragging the band on the map is the same control
    line = panel.plots_.band
    line.setPos(QPointF(0, 40))
    line.sigDragged.emit(line)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.window == 40)


def test_sequence_length_rebuilds_in_the_worker_and_clamps(panel, qtbot):
    panel.n.spin.setValue(100)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.maps.n == 100, timeout=10000)
    p = panel.params
    assert p.window == 100 and p.row is None and panel.output().row == 99
    assert panel.plots_.full.image.shape == (100, 100)


def test_large_n_is_binned_and_says_so(panel, qtbot):
    panel.n.spin.setValue(4096)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.maps.n == 4096, timeout=30000)
    assert panel.plots_.full.image.shape == (1024, 1024)
    assert "shown in 4×4 blocks" in panel.plots_.full_plot.titleLabel.text


def test_clicking_a_map_picks_the_inspected_row(panel, qtbot):
    panel.row.spin.setValue(123)  # the "Query inspected" slider the map's click moves
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().row == 123)
    full = panel.plots_.row_full.getData()[1]
    assert full.sum() == pytest.approx(1.0, abs=1e-6) and np.all(full[124:] == 0)


def test_model_and_custom_shape_change_the_memory_view(panel, qtbot):
    panel.model.setCurrentIndex(panel.model.findData("DeepSeek-V3"))
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.model.name == "DeepSeek-V3")
    x, y = panel.plots_.mem["MLA"].xData, panel.plots_.mem["MLA"].yData  # raw, not log-mapped
    per = panel.params.model.bytes_per_token()
    assert per["MLA"] == 61 * (512 + 64) * 2 and np.allclose(y, x * per["MLA"])
    panel.shape["kv_heads"].setValue(300)  # more KV heads than query heads
    assert "cannot exceed heads" in panel.status.text() and panel.shape["kv_heads"].value() == 128
    panel.shape["layers"].setValue(10)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.model.layers == 10)
    assert panel.params.model.name == "custom" and panel.model.currentData() == "custom"



def _assert_names_beside_their_curves(plots):
    """Each ops curve's name is in its color at one of the last half of its points, inside
    the chart, and covers no curve (the n line may cross it: it moves with n)."""
    plots.ops_now.hide()  # not counted below
    try:
        for curve, name in ((plots.ops_full, "full"), (plots.ops_win, "windowed")):
            label = plots.ops_names[name]
            xs, ys = curve.getData()  # in log10 units, as the plot's axes are
            assert label.toPlainText() == name and label.isVisible()
            assert label.textItem.defaultTextColor() == curve.opts["pen"].color()  # in its color
            at = (label.pos().x(), label.pos().y())
            half = list(zip(xs, ys, strict=True))[len(xs) // 2:]
            assert any(at == pytest.approx(point) for point in half)
            label.updateTransform(force=True)  # where the next paint puts it
            box = plots.ops_plot.vb.mapRectFromScene(label.sceneBoundingRect())
            assert plots.ops_plot.vb.boundingRect().contains(box)
            inner = box.adjusted(1, 1, -1, -1)  # the name's corner touches its own curve
            assert crowding(plots.ops_plot, inner, skip=label, probes=64) == 0, f"{name} covers a curve"
    finally:
        plots.ops_now.show()


def test_the_operations_chart_names_its_curves_beside_them_not_in_a_legend_over_them(panel, qtbot):
    """At 1280x720 the ops legend (full, windowed, pin A) covered 68% of its 137x101 px chart;
    then the names hung under the curves' ends and the shallow windowed curve struck its name."""
    assert panel.plots_.ops_plot.legend is None
    panel.resize(1090, 690)  # the panel's share of a 1280x720 window
    for theme, window in (("dark", None), ("light", 512), ("dark", 16)):
        panel.apply_theme(load_theme(theme))
        if window is not None:
            panel.window_w.spin.setValue(window)
            qtbot.waitUntil(lambda w=window: panel.is_idle() and panel.output().result.params.window == w)
        painted = panel.view.paint_count
        qtbot.waitUntil(lambda n=painted: panel.view.paint_count > n)  # laid out for this size and font
        panel.view.settle_labels()
        _assert_names_beside_their_curves(panel.plots_)


def test_the_operations_curves_names_on_a_slide(qtbot):
    _lever, params = read_scenario(samples("attention")[0])
    slide = build_panel("attention", params, "slide")
    try:
        resize_view(slide.view, (1280, 720))
        _assert_names_beside_their_curves(slide.plots_)
    finally:
        slide.shutdown()


def test_maps_changed_in_bands_tick_after_tick_equal_maps_drawn_afresh(panel, qtbot):
    """The variant and difference maps are re-coloured only where a window changes them; after
    drags that shrink, grow, switch variant and colour scale, they hold what a fresh draw holds."""
    plots = panel.plots_
    pinned = [pin_maps.values(image).copy() for image in (plots.variant, plots.diff)]
    panel.pin()
    steps = [dict(window=200), dict(window=40), dict(window=41), dict(window=700), dict(window=3),
             dict(variant="topk"), dict(variant="window", window=90), dict(log_color=False),
             dict(window=30), dict(window=300)]
    for step in steps:
        panel.change(**step)
        qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params == panel.params)
        res = panel.output().result
        weights = res.comparison.image
        diff = np.abs(res.maps.image - weights)
        top = float(plots.diff.levels[1])
        if panel.params.log_color:
            expected_v = np.log10(np.maximum(weights, 1e-6))
            expected_d = np.log10(np.maximum(diff, 10 ** np.float32(top - 6)))
        else:
            expected_v, expected_d = weights, diff
        assert np.array_equal(plots.variant.image, expected_v), step
        assert np.array_equal(plots.diff.image, expected_d), step
        # a pin's difference over them: block means updated in the band, as if worked out afresh
        for difference, before in zip(panel.pin_bar.differences[1:], pinned, strict=True):
            if difference.overlay.isVisible():
                fresh = pin_maps.block_means(pin_maps.values(difference.live) - before, 4)
                np.testing.assert_allclose(difference.overlay.image, fresh, atol=1e-4, err_msg=str(step))
                if set(step) == {"window"} and difference.live is plots.variant:  # a drag: the band only
                    assert difference.overlay.changed_cells, step
    assert plots.variant.image is not res.comparison.image, "drawn in a copy, not in the result"


def test_the_three_maps_show_the_same_queries_whatever_their_titles(panel, qtbot):
    """pyqtgraph's linked views line up on screen: under a two-line title a map showed queries
    from 150 on while its neighbours started at 0."""
    plots = panel.plots_
    boxes = [p.vb for p in (plots.full_plot, plots.var_plot, plots.diff_plot)]
    plots.var_plot.setTitle("a title long enough to wrap onto a second and a third line here")
    panel.resize(900, 700)
    qtbot.waitUntil(lambda: plots.var_plot.vb.sceneBoundingRect().top()
                    != plots.full_plot.vb.sceneBoundingRect().top())
    n = panel.output().result.maps.n
    for box in boxes:
        assert box.viewRange() == boxes[0].viewRange()
        assert box.viewRange()[1] == pytest.approx([0, n])
    boxes[1].setRange(xRange=(100, 300), yRange=(400, 600), padding=0)  # a zoom on one map
    for box in boxes:
        assert np.allclose(box.viewRange(), [[100, 300], [400, 600]])
