"""The radix panel: stepping grows the tree, clicks name the sharers, user streams, capacity."""

import numpy as np
import pytest

from widgets.radix_panel import RadixPanel, stream_from_text
from widgets.radix_plots import edge_segments


@pytest.fixture
def panel(sample_panel):
    return sample_panel(RadixPanel)


def test_stepping_grows_the_tree_and_moves_the_line(panel, qtbot):
    small = panel.output().result
    panel.step.spin.setValue(panel.step.spin.maximum())
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.step == panel.step.spin.maximum())
    big = panel.output().result
    assert len(big.drawn.ids) > len(small.drawn.ids) and big.tree_stored > small.tree_stored
    assert big.matched is small.matched  # the stream curves were not recomputed
    xs, ys = panel.plots_.edges.getData()
    ex, ey = edge_segments(big.drawn)
    assert np.array_equal(xs, ex) and np.array_equal(ys, ey)
    assert panel.plots_.node_count() == len(big.drawn.ids) - 1  # small tree: every node marked
    assert float(panel.plots_.line.value()) == big.step - 0.5
    panel.step.spin.setValue(3)  # back: a fresh replay gives the smaller tree again
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.step == 3)
    assert panel.output().result.tree_stored < small.tree_stored


def test_clicking_a_node_lists_the_requests_sharing_it(panel):
    lay = panel.output().result.drawn
    top = int(np.argmax(lay.refs[1:])) + 1
    panel._on_node_clicked(top)
    assert f"shared by {lay.refs[top]} request(s)" in panel.status.text()


def test_capacity_evicts_and_user_streams_load(panel, qtbot, tmp_path):
    panel.capacity.spin.setValue(30)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.capacity_blocks == 30)
    d = panel.output().result.to_dict()
    assert d["blocks_stored"] <= 30 + max(panel.output().result.lengths)
    path = tmp_path / "stream.txt"
    path.write_text("s1 s2 a\ns1 s2 b\ns1 c\n", encoding="utf-8")
    panel.mode.setCurrentIndex(0)
    panel.open_paths([path])
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.lengths.tolist() == [3, 3, 2])
    assert panel.output().result.matched.tolist() == [0, 2, 1]
    panel.text.setPlainText("  \n ")
    panel._on_stream_applied()
    assert "no requests" in panel.status.text() and panel.params.requests[0] == ("s1", "s2", "a")


def test_stream_from_text_modes():
    assert stream_from_text("a b\nc", "blocks")["requests"] == (("a", "b"), ("c",))
    assert stream_from_text("hello there\n", "prompts")["prompts"] == ("hello there",)


def test_clicking_a_drawn_node_reports_it(panel):
    lay = panel.output().result.drawn
    i = int(np.argmax(lay.refs[1:])) + 1
    assert panel.plots_.pick(float(lay.x1[i]), float(lay.y[i])) == i  # a click at its marker
    (x0, x1), (y0, _y1) = panel.plots_.tree.viewRange()
    assert panel.plots_.pick(x0 - (x1 - x0), y0) is None  # far from every node
    panel.plots_._on_node(panel.plots_.pick(float(lay.x1[i]), float(lay.y[i])))
    assert f"node {lay.ids[i]} " in panel.status.text()
