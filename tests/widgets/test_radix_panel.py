"""The radix panel: icicle and classic trees, labels that fit, zoom, misses explained, capacity."""

import itertools

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF

from core import radix
from widgets.export import resize_view, write_chart
from widgets.loaders import read_scenario
from widgets.offscreen import build_panel
from widgets.radix_icicle import MIN_CHARS, PAD, band_text
from widgets.radix_panel import RadixPanel, stream_from_text
from widgets.radix_plots import edge_segments
from widgets.resources import samples


@pytest.fixture
def panel(sample_panel):
    return sample_panel(RadixPanel)


def wait_step(panel, qtbot, step):
    panel.step.spin.setValue(step)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.step == step)
    return panel.output().result


def test_stepping_grows_the_tree_and_moves_the_line(panel, qtbot):
    small = wait_step(panel, qtbot, 5)
    big = wait_step(panel, qtbot, panel.step.spin.maximum())
    assert len(big.drawn.ids) > len(small.drawn.ids) and big.tree_stored > small.tree_stored
    assert big.matched is small.matched and big.curve is small.curve  # nothing re-swept
    assert float(panel.plots_.line.value()) == big.step - 0.5
    panel.view_mode.setCurrentIndex(panel.view_mode.findData("classic"))
    xs, ys = panel.plots_.edges.getData()
    ex, ey = edge_segments(big.drawn)
    assert np.array_equal(xs, ex) and np.array_equal(ys, ey)
    assert panel.plots_.node_count() == len(big.drawn.ids) - 1  # small tree: every node marked
    assert wait_step(panel, qtbot, 3).tree_stored < small.tree_stored  # back: a fresh replay


def test_icicle_bands_partition_the_requests(panel, qtbot):
    lay = wait_step(panel, qtbot, 40).drawn
    top = [i for i in range(1, len(lay.ids)) if lay.parent_index[i] == 0]
    assert sum(lay.band1[i] - lay.band0[i] for i in top) == pytest.approx(1.0)  # every request passes one
    for i in range(1, len(lay.ids)):
        p = lay.parent_index[i]
        assert lay.x0[i] == lay.x1[p]  # a child starts where its parent's edge ends
        if p:
            assert lay.band0[p] - 1e-12 <= lay.band0[i] <= lay.band1[i] <= lay.band1[p] + 1e-12


def label_boxes(panel):
    icicle = panel.plots_.icicle
    vb = panel.plots_.tree.getViewBox()
    transform = icicle.deviceTransform(panel.view.viewportTransform())
    visible = transform.mapRect(icicle.mapRectFromItem(vb, vb.boundingRect()))
    return icicle.label_boxes(transform, visible), visible


def check_labels(panel):
    boxes, visible = label_boxes(panel)
    assert boxes
    lay = panel.output().result.drawn
    for box in boxes:
        assert box.band.contains(box.rect), box.text  # inside its own band...
        assert visible.contains(box.rect)  # ...and on screen
    for a, b in itertools.combinations(boxes, 2):
        assert not a.rect.intersects(b.rect), (a.text, b.text)
    prompt_edge = int(np.argmax(lay.x1 - lay.x0))  # the long shared system prompt is labelled
    assert any(box.node == prompt_edge for box in boxes)
    # and every band with room for a readable label has one
    icicle = panel.plots_.icicle
    metrics = QFontMetricsF(icicle._font)
    labelled = {box.node for box in boxes}
    transform = icicle.deviceTransform(panel.view.viewportTransform())
    for i in range(1, len(lay.ids)):
        band = transform.mapRect(QRectF(lay.x0[i], lay.band0[i], lay.x1[i] - lay.x0[i],
                                        lay.band1[i] - lay.band0[i])).intersected(visible)
        room = max(metrics.horizontalAdvance(band_text(lay, i)[:MIN_CHARS]),
                   metrics.horizontalAdvance(band_text(lay, i, counted=False)[:MIN_CHARS])) + 2 * PAD + 1
        if band.width() >= room and band.height() >= metrics.height() + 2 and not lay.ghost[i]:
            assert i in labelled, band_text(lay, i)
    return boxes


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_labels_fit_their_bands_in_the_window(panel, qtbot, size):
    panel.resize(*size)
    wait_step(panel, qtbot, 40)
    painted = panel.view.paint_count
    qtbot.waitUntil(lambda: panel.view.paint_count > painted)
    assert len(check_labels(panel)) >= 3  # the prompt and the first branches, at least


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_labels_fit_their_bands_in_the_slide_export(qtbot, tmp_path, size):
    _lever, params = read_scenario(samples("radix")[0])
    made = build_panel("radix", {**params, "at_step": 40}, theme="slide")
    try:
        resize_view(made.view, size)
        assert made.output().result.step == 40
        check_labels(made)
        assert write_chart(made.view, tmp_path / "radix.png").stat().st_size > 10_000
    finally:
        made.shutdown()
        made.view.close()


def test_clicking_a_band_zooms_and_back_returns(panel, qtbot):
    lay = wait_step(panel, qtbot, 40).drawn
    i = int(np.argmax(lay.x1 - lay.x0))
    vb = panel.plots_.tree.getViewBox()
    assert panel.plots_.pick((lay.x0[i] + lay.x1[i]) / 2, (lay.band0[i] + lay.band1[i]) / 2) == i
    child = next(j for j in range(1, len(lay.ids)) if lay.parent_index[j] == i)
    at = panel.plots_.icicle.mapToScene(QPointF((lay.x0[child] + lay.x1[child]) / 2,
                                                (lay.band0[child] + lay.band1[child]) / 2))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=panel.view.mapFromScene(at))
    qtbot.waitUntil(lambda: panel.plots_.zoomed == [lay.ids[child]])
    (x0, _x1), (y0, y1) = vb.viewRange()
    assert (x0, y0, y1) == pytest.approx((lay.x0[child], lay.band0[child], lay.band1[child]))
    assert f"shared by {lay.refs[child]} request(s)" in panel.status.text()
    qtbot.mouseClick(panel.zoom_back, Qt.MouseButton.LeftButton)
    (x0, x1), (y0, y1) = vb.viewRange()
    assert (x0, x1, y0, y1) == pytest.approx((0, panel.output().result.frame[0], 0, 1))


def test_clicking_a_node_lists_the_requests_sharing_it(panel):
    lay = panel.output().result.drawn
    top = int(np.argmax(lay.refs[1:])) + 1
    panel._on_node_clicked(top)
    assert f"shared by {lay.refs[top]} request(s)" in panel.status.text()


def test_hover_describes_a_band(panel):
    lay = panel.output().result.drawn
    i = int(np.argmax(lay.x1 - lay.x0))
    text = panel.describe(i)
    assert f"{int(lay.refs[i])} of {panel.output().result.step} requests" in text
    assert radix.label(lay, i)[:40] in text


def test_capacity_evicts_ghosts_and_user_streams_load(panel, qtbot, tmp_path, click):
    panel.capacity.spin.setValue(30)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.capacity_blocks == 30)
    res = panel.output().result
    d = res.to_dict()
    assert d["blocks_stored"] <= 30 + max(res.lengths) and d["blocks_evicted"] > 0
    assert d["blocks_saved"] == d["blocks_hit"] <= compute_unbounded_hits(panel)
    step = next(s for s in range(2, len(res.lengths)) if res.evicted[s - 1] > res.evicted[s - 2])
    lay = wait_step(panel, qtbot, step).drawn
    assert lay.ghost.any() and len(panel.plots_.icicle._ghost_rects) == int(lay.ghost.sum())
    path = tmp_path / "stream.txt"
    path.write_text("s1 s2 a\ns1 s2 b\ns1 c\n", encoding="utf-8")
    panel.mode.setCurrentIndex(0)
    panel.open_paths([path])
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.lengths.tolist() == [3, 3, 2])
    assert panel.output().result.matched.tolist() == [0, 2, 1]
    assert panel.requests.toPlainText().splitlines()[1].startswith("#1    [2 shared] b")
    panel.text.setPlainText("  \n ")
    click(panel, "Replay this stream")
    assert "no requests" in panel.status.text() and panel.params.requests[0] == ("s1", "s2", "a")


def compute_unbounded_hits(panel):
    import dataclasses

    unbounded = dataclasses.replace(panel.params, capacity_blocks=None)
    return radix.compute(unbounded, curve=()).summary()["blocks_hit"]


def test_policy_combo_and_capacity_line_drive_the_params(panel, qtbot):
    panel.eviction.setCurrentIndex(panel.eviction.findData("fifo"))
    assert panel.params.eviction == "fifo"
    curve = panel.output().result.curve
    panel.plots_.charts.capacity_line.setValue(np.log10(25))
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.capacity_blocks == 25)
    assert panel.output().result.curve is curve  # the sweep is kept across capacity and policy
    assert {p["eviction"] for p in curve} == {"lru", "lfu", "fifo"}
    vb = panel.plots_.charts.curve_plot.getViewBox()  # a click on the curve moves the capacity there
    at = panel.view.mapFromScene(vb.mapViewToScene(QPointF(np.log10(40), 0.5)))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.capacity_blocks is not None
                    and abs(panel.params.capacity_blocks - 40) <= 2)
    panel.capacity.spin.setValue(0)  # back to an unbounded cache
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.capacity_blocks is None)
    assert panel.output().result.to_dict()["blocks_evicted"] == 0


def test_clicking_a_request_explains_its_miss(panel, qtbot):
    panel.capacity.spin.setValue(20)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.capacity_blocks == 20)
    res = panel.output().result
    r = next(m["request"] for m in res.misses() if m["reason"] == "evicted")
    vb = panel.plots_.charts.hits.getViewBox()
    at = panel.view.mapFromScene(vb.mapViewToScene(QPointF(r, 1.0)))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: f"Request #{r}</b>" in panel.why.text())
    assert f"Request #{r}</b>" in panel.why.text() and "<b>evicted</b>" in panel.why.text()
    assert f"request #{res.evicted_by[r]} pushed it out" in panel.why.text()
    assert panel.requests.textCursor().blockNumber() == r  # the list follows the click
    new = next(m["request"] for m in res.misses() if m["reason"] == "new" and m["request"] > 0)
    panel.requests.select_request(new)
    rect = panel.requests.cursorRect()
    qtbot.mouseClick(panel.requests.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(rect.x() + 30, rect.center().y()))
    assert f"Request #{new}</b>" in panel.why.text() and "<b>new</b>" in panel.why.text()
    assert "Diverged at block" in panel.why.text() and "Matched prefix: " in panel.why.text()


def test_stream_from_text_modes():
    assert stream_from_text("a b\nc", "blocks")["requests"] == (("a", "b"), ("c",))
    assert stream_from_text("hello there\n", "prompts")["prompts"] == ("hello there",)


@pytest.mark.slow  # its point is scale (6,000 requests): `make slow`
def test_per_request_chart_is_drawn_for_thousands_of_requests(qtbot, tmp_path, capfd):
    stream = [["sys", f"t{i % 50}", f"u{i}"] for i in range(6000)]
    made = build_panel("radix", {"requests": stream}, theme="slide")
    try:
        resize_view(made.view, (1280, 720))
        for fmt in ("png", "svg"):
            assert write_chart(made.view, tmp_path / f"radix.{fmt}").stat().st_size > 5_000
        curve = made.plots_.charts.matched_curve
        assert curve.xData.size == 2 * 6000 and np.nanmax(curve.yData) == 2
        shown = made.plots_.charts.matched_curve.curve.getData()[0]
        assert shown is not None and shown.size > 0
    finally:
        made.shutdown()
        made.view.close()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err


def test_a_step_back_cut_short_on_the_worker_does_not_show_the_wrong_tree(panel, qtbot):
    res = wait_step(panel, qtbot, 40)
    panel.prepared().replay.advance(10)  # where a step back cancelled mid-replay leaves the kept replay
    rendered = []
    panel.sig_rendered.connect(rendered.append)
    panel.schedule()  # the same params again: served from the kept state
    qtbot.waitUntil(lambda: panel.is_idle() and bool(rendered))
    again = panel.output().result
    assert again.step == 40 and again.tree_stored == res.tree_stored and again.drawn.ids == res.drawn.ids


def test_hovering_a_band_shows_its_details(panel, qtbot):
    lay = wait_step(panel, qtbot, 40).drawn
    i = int(np.argmax(lay.x1 - lay.x0))
    icicle = panel.plots_.icicle
    scene = icicle.mapToScene(QPointF((lay.x0[i] + lay.x1[i]) / 2, (lay.band0[i] + lay.band1[i]) / 2))
    where = panel.view.mapFromScene(scene)
    qtbot.mouseMove(panel.view.viewport(), where + QPoint(1, 0))
    qtbot.mouseMove(panel.view.viewport(), where)
    qtbot.waitUntil(lambda: "passed through it" in icicle.toolTip())
    assert icicle.toolTip() == panel.describe(i)


def test_controls_show_every_count_a_scenario_may_hold(panel, qtbot):
    base = panel.scenario()["params"]
    panel.load_scenario_dict({**base, "hold": 5000, "block_words": 1000, "capacity_blocks": 2**31 - 1})
    assert (panel.hold.value(), panel.block_words.value(), panel.capacity.value()) == (5000, 1000, 2**31 - 1)
    qtbot.waitUntil(panel.is_idle)
    panel.capacity.spin.setValue(0)
    assert panel.params.capacity_blocks is None


def test_steps_derive_from_the_one_prepared_state(panel, qtbot):
    import dataclasses

    wait_step(panel, qtbot, 10)
    prepared = panel.prepared()
    at = lambda **c: dataclasses.replace(panel.params, **c)  # noqa: E731
    assert panel.reuses_prepared(at(at_step=30)) and panel.reuses_prepared(at(at_step=2))  # few inserts
    assert not panel.reuses_prepared(at(capacity_blocks=9)) and not panel.reuses_prepared(at(hold=2))
    assert wait_step(panel, qtbot, 30).step == 30 and wait_step(panel, qtbot, 2).step == 2
    assert panel.prepared() is prepared  # the step never prepared anew
    long = [["sys", f"t{i % 50}", f"u{i}"] for i in range(600)]  # a step back to 450: on the worker
    panel.set_stream({"requests": tuple(map(tuple, long)), "prompts": ()})
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.lengths.size == 600)
    prepared = panel.prepared()
    assert not panel.reuses_prepared(at(at_step=450))
    res = wait_step(panel, qtbot, 450)
    assert panel.prepared() is prepared and res.matched is prepared.matched
    assert res.to_dict() == radix.compute(at(at_step=450)).to_dict()


def test_classic_markers_follow_the_shade_choice_like_the_bands(panel, qtbot):
    from widgets.radix_icicle import shade_of

    lay = wait_step(panel, qtbot, 40).drawn
    panel.view_mode.setCurrentIndex(panel.view_mode.findData("classic"))
    shades = {}
    for mode in ("refs", "age"):
        panel.color_by.setCurrentIndex(panel.color_by.findData(mode))
        marked, shades[mode] = panel.plots_.marked()
        assert marked.size and np.array_equal(shades[mode], shade_of(lay, mode)[marked])
    assert not np.array_equal(shades["refs"], shades["age"])


def test_a_stream_file_is_read_on_the_worker_and_a_bad_one_changes_nothing(panel, qtbot, tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("You are terse. Answer in French. What is 2+2?\n"
                    "You are terse. Answer in French. Name a river.\n", encoding="utf-8")
    before = panel.params
    assert panel.mode.currentData() == "prompts"  # the shipped sample: text prompts
    panel.open_paths([path])
    # nothing is read on the UI thread: the file is applied only once the worker hands it back
    assert panel.params == before and panel.opener.active() and "reading prompts.txt" in panel.status.text()
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.lengths.size == 2)
    assert panel.params.prompts == tuple(path.read_text(encoding="utf-8").splitlines())
    assert panel.output().result.matched.tolist() == [0, 1]  # the first 8-word block is shared
    shown = panel.output()
    for name, data, why in (("empty.txt", b"\n  \n", "empty.txt: stream: no requests"),
                            ("blob.bin", b"\x00\x01binary", "blob.bin: looks like a binary file"),
                            ("latin.txt", "café\n".encode("latin-1"), "latin.txt: not UTF-8")):
        bad = tmp_path / name
        bad.write_bytes(data)
        kept = panel.params
        panel.open_paths([bad])
        qtbot.waitUntil(lambda why=why: panel.is_idle() and why in panel.status.text())
        assert panel.params == kept and panel.output() is shown  # nothing the user had is lost
    too_big = tmp_path / "huge.txt"
    too_big.write_text(("b " * 1000 + "\n") * (radix.MAX_BLOCKS // 1000 + 1), encoding="utf-8")
    panel.mode.setCurrentIndex(panel.mode.findData("blocks"))
    panel.open_paths([too_big])
    qtbot.waitUntil(lambda: panel.is_idle() and "huge.txt" in panel.status.text())
    assert f"more than {radix.MAX_BLOCKS:,} blocks" in panel.status.text() and panel.output() is shown


def test_a_step_moves_the_lines_without_re_measuring_the_stream_charts(panel, qtbot):
    # issue 20: the step lines move on every tick; auto-ranged views would re-measure every curve
    # before each paint, so the stream charts hold fixed ranges: 0 to the top, as auto-range found
    res = wait_step(panel, qtbot, 7)
    charts = panel.plots_.charts
    for plot, top in ((charts.hits, res.lengths.max()), (charts.store, np.cumsum(res.lengths)[-1])):
        assert not any(plot.getViewBox().state["autoRange"])
        low, high = plot.viewRange()[1]
        assert low < 0 <= top < high <= top * 1.15
    before = [plot.viewRange() for plot in (charts.hits, charts.store)]
    wait_step(panel, qtbot, 20)
    assert [plot.viewRange() for plot in (charts.hits, charts.store)] == before
    assert float(charts.store_line.value()) == float(charts.line.value()) == 19.5


def test_log_axis_ticks_are_round_values_as_many_as_fit():
    """1-2-5 ticks alone left capacities 12-85 with two labels, and 1-1,000 at 1, 5, 20, 100, 500."""
    from widgets.plots import log_ticks

    def labels(low, high):
        return [label for _pos, label in log_ticks(low, high)]

    assert labels(12, 85) == ["20", "30", "50", "70"]
    assert labels(1, 1000) == ["1", "10", "100", "1,000"]
    assert labels(5, 5000) == ["10", "30", "100", "300", "1,000", "3,000"]
    for low, high in ((12, 85), (1, 1000), (3, 9), (2, 7_000_000), (100, 120)):
        ticks = log_ticks(low, high)
        assert 1 <= len(ticks) <= 6
        assert all(np.log10(low) <= pos <= np.log10(high) for pos, _label in ticks)
