"""Pin and compare: ghosts of the pinned curves, deltas in the status line, exports, sessions."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from app.sessions import load_session
from app.window import MainWindow
from core.errors import InputError
from tests.widgets.open_files import open_in
from widgets import pin_data, pin_deltas, pins
from widgets.bpe_panel import BpePanel
from widgets.export import write_chart


def _curves(panel):
    return [(p, i) for p, plot in enumerate(panel.plots()) for i in plot.listDataItems()
            if isinstance(i, pg.PlotDataItem) and getattr(i, "ghost_of", None) is None and i.isVisible()
            and i.yData is not None
            and len(i.yData)]


def test_pin_then_change_leaves_ghosts_and_deltas(sample_panel, qtbot):
    panel = sample_panel(BpePanel)
    before = {id(item): (np.array(item.xData), np.array(item.yData)) for _p, item in _curves(panel)}
    assert before, "the BPE panel draws curves"
    headline = panel.status.text()

    panel.activateWindow()
    qtbot.keyClick(panel, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert [p.label for p in panel.pin_bar.pins] == ["A"]
    assert "(= pin A)" in panel.status.text()

    flip = {"whitespace": "regex", "regex": "whitespace"}
    panel.change(pretokenizer=flip[panel.params.pretokenizer])  # retrains: other curves
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    ghosts = pins.ghosts(panel.plots())
    assert len(ghosts) == len(before)
    pinned = [(np.array(g.xData), np.array(g.yData)) for g in ghosts]
    for x, y in before.values():
        assert any(np.array_equal(x, gx) and np.array_equal(y, gy) for gx, gy in pinned)
    assert any(not np.array_equal(item.yData, before[id(item)][1]) for _p, item in _curves(panel)), \
        "the live curves moved away from the pinned ones"
    assert all(g.zValue() < 0 for g in ghosts)
    status = panel.status.text()
    assert "vs A)" in status and status != headline

    panel.pin()
    panel.pin()
    panel.pin()  # a fourth pin drops the oldest
    assert [p.label for p in panel.pin_bar.pins] == ["B", "C", "A"]
    panel.pin_bar.unpin("B")
    panel.pin_bar.unpin("C")
    panel.pin_bar.unpin("A")
    assert pins.ghosts(panel.plots()) == [] and panel.status.text() == panel.headline(panel.output())


def test_svg_export_contains_the_ghost_and_its_label(sample_panel, qtbot, tmp_path):
    panel = sample_panel(BpePanel)
    panel.pin()
    panel.merges.slider.setValue(panel.merges.slider.value() // 2)
    qtbot.waitUntil(panel.is_idle)
    svg = write_chart(panel.view, tmp_path / "pinned.svg").read_text()
    assert pin_data.PIN_COLORS[0].lower() in svg.lower(), "the ghost's grey stroke is in the SVG"
    assert "pin A" in svg


def test_session_with_pins_reopens_with_them(qtbot, tmp_path):
    window = MainWindow()
    qtbot.addWidget(window)
    try:
        panel = window.show_panel("bpe")
        qtbot.waitUntil(panel.is_idle, timeout=20000)
        panel.pin()
        pinned = [np.array(g.yData) for g in pins.ghosts(panel.plots())]
        panel.merges.slider.setValue(panel.merges.slider.value() // 2)
        qtbot.waitUntil(panel.is_idle)
        path = tmp_path / "pins.ctxlab.json"
        assert window.save_session_to(path)
        saved = next(sc for sc in load_session(path).scenarios if sc["lever"] == "bpe")
        assert [p["label"] for p in saved["pins"]] == ["A"]
    finally:
        window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    try:
        assert open_in(again, qtbot, path), again.last_error
        panel = again.panel("bpe")
        qtbot.waitUntil(panel.is_idle, timeout=20000)
        assert [p.label for p in panel.pin_bar.pins] == ["A"]
        reopened = [np.array(g.yData) for g in pins.ghosts(panel.plots())]
        assert len(reopened) == len(pinned)
        for a, b in zip(pinned, reopened, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5)
        assert "vs A" in panel.status.text()
    finally:
        again.close()


def test_annotate_and_bad_saved_pins():
    assert pin_deltas.annotate("sent 682 of 1,000 (68.2%)", "sent 836 of 1,000 (83.6%)", "A") == \
        "sent 682 (-154 vs A) of 1,000 (68.2% (-15.4 vs A))"
    assert pin_deltas.annotate("new words here 3", "other 4", "B") == "new words here 3   │ pin B: other 4"
    # a part the pin had and the live headline lost is quoted; the parts that line up get deltas
    assert pin_deltas.annotate("cap 66 (23% smaller) · schema 1", "cap 16 (81% smaller) · schema 1 · "
                               "⚠ the cap cuts the answer off", "A") == \
        "cap 66 (+50 vs A) (23% (-58 vs A) smaller) · schema 1   │ pin A: ⚠ the cap cuts the answer off"
    assert pin_deltas.annotate("cap 16 · ⚠ cut · schema 1", "cap 66 · schema 1", "A") == \
        "cap 16 (-50 vs A) · ⚠ cut · schema 1"
    assert pin_deltas.annotate("as of 2023-03-14: top-1 12 tokens, −38%",
                               "as of 2023-08-20: top-1 22 tokens, −52%", "A") == \
        "as of 2023-03-14: top-1 12 (-10 vs A) tokens, −38% (+14 vs A)"
    with pytest.raises(InputError, match=r"pins\[0\]\.color"):
        pin_data.pin_from_dict({"label": "A", "color": "red", "headline": "", "curves": []}, "pins[0]")
    with pytest.raises(InputError, match="3 x values for 2 y values"):
        pin_data.pin_from_dict({"label": "A", "color": "#aabbcc", "headline": "",
                            "curves": [{"plot": 0, "x": [1, 2, 3], "y": [1, 2]}]}, "pins[0]")


def test_bars_are_ghosted_as_outlines_and_saved(sample_panel, qtbot):
    from widgets.packer_panel import PackerPanel

    panel = sample_panel(PackerPanel)
    live = [i for plot in panel.plots() for i in plot.listDataItems()
            if isinstance(i, pg.BarGraphItem) and i.isVisible()]
    assert live, "the packer draws bars"
    corners = [np.broadcast_arrays(*i._getNormalizedCoords()[:4]) for i in live]
    panel.pin()
    panel.change(budget=panel.params.budget // 2)
    qtbot.waitUntil(panel.is_idle)
    pin = panel.pin_bar.pins[0]
    outlines = [i for _p, i in pin.items if isinstance(i, pg.BarGraphItem)]
    assert len(outlines) == len(pin.bars) == sum(1 for c in corners if c[0].size)
    for item, want in zip(outlines, [c for c in corners if c[0].size], strict=True):
        got = np.broadcast_arrays(*item._getNormalizedCoords()[:4])
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g.ravel(), w.ravel())
        assert item.opts["brush"] is None and item.zValue() > 0, "an outline over the live bars"
    again = pin_data.pin_from_dict(pin.to_dict(), "pins[0]")
    np.testing.assert_allclose(again.bars[0].x1, pin.bars[0].x1, rtol=1e-5)


@pytest.mark.parametrize("crowded", ["left", "right"])
def test_the_pin_tag_of_a_plot_without_legend_goes_where_it_hides_no_text_or_bar(qtbot, crowded):
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    view.resize(500, 300)
    plot = view.addPlot()
    plot.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    plot.disableAutoRange()
    left = crowded == "left"
    bars = pg.BarGraphItem(x0=[0.2 if left else 8.2], x1=[1.8 if left else 9.8], y0=[0], y1=[10])
    plot.addItem(bars)
    label = pg.TextItem("350 (100%)", anchor=(0, 0))
    plot.addItem(label)
    label.setPos(1.0 if left else 7.5, 9.9)
    plot.addItem(pg.PlotDataItem([0, 10], [1, 1]))
    view.show()
    qtbot.waitExposed(view)
    pin = pins.capture([plot], "A", pin_data.PIN_COLORS[0], "headline")
    assert pin.bars, "the bars are ghosted"
    pins.draw(pin, [plot])
    tags = [item for _plot, item in pin.items if isinstance(item, pg.TextItem)]
    assert len(tags) == 1 and tags[0].toPlainText() == "— pin A"
    tag = tags[0].sceneBoundingRect()
    assert not tag.intersects(label.sceneBoundingRect()), "the tag hides no value label"
    assert not plot.vb.childGroup.mapRectFromScene(tag).normalized().intersects(
        bars.shape().boundingRect()), "nor the crowded corner's bar"
    assert (tag.center().x() > plot.vb.sceneBoundingRect().center().x()) is left
    view.resize(700, 300)  # a resize keeps it in its corner
    qtbot.waitUntil(lambda: abs(tags[0].sceneBoundingRect().right() - plot.vb.sceneBoundingRect().right())
                    < 10 if left else tags[0].pos().x() == 4.0)
    pins.remove(pin)
    assert tags[0].scene() is None


def test_a_dashed_line_is_ghosted_dashed_and_saved_so(sample_panel):
    """KV's 'waiting' lines are dashed and 'running' solid: a solid ghost under a dashed line
    made it read as solid."""
    from widgets.kv_blocks_panel import KvBlocksPanel

    panel = sample_panel(KvBlocksPanel)
    live = [(item.xData.size, pg.mkPen(item.opts["pen"]).style() == Qt.PenStyle.DashLine)
            for plot in panel.plots() for item in plot.listDataItems()
            if item.opts.get("pen") is not None and item.yData is not None and item.yData.size]
    assert {dashed for _n, dashed in live} == {True, False}
    pin = panel.pin_bar.pin(panel.status.text())
    assert sorted((c.x.size, c.dashed) for c in pin.curves) == sorted(live)
    ghosts = [item for _plot, item in pin.items if isinstance(item, pg.PlotDataItem)]
    assert sorted(pg.mkPen(g.opts["pen"]).style() == Qt.PenStyle.DashLine for g in ghosts) \
        == sorted(dashed for _n, dashed in live)
    again = pin_data.pin_from_dict(pin.to_dict(), "pin")
    assert [c.dashed for c in again.curves] == [c.dashed for c in pin.curves]
