"""The call graph keeps its names readable in a small window: no name over another, none cut off."""

import pytest

from widgets.callgraph_panel import CallgraphPanel


@pytest.mark.parametrize("size", [(960, 560), (1600, 1000)])
def test_node_names_never_overlap_and_token_labels_fit_their_chart(make_panel, qtbot, size):
    panel = make_panel(CallgraphPanel)
    panel.load_sample()
    panel.resize(*size)  # the panel's share of a 1280x720 window, then a large one
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output() is not None, timeout=20000)
    qtbot.wait(50)
    plots = panel.plots_
    res = panel.output().result
    names = [label for label in plots.labels if label.isVisible()]
    boxes = [label.sceneBoundingRect().adjusted(1, 1, -1, -1) for label in names]
    assert names, "some names show"
    assert names[0].toPlainText() == res.graph.names[res.target].split(":")[-1], "the target's name shows"
    for i, box in enumerate(boxes):
        assert not any(box.intersects(other) for other in boxes[:i]), names[i].toPlainText()
    area = plots.tokens.vb.sceneBoundingRect()
    for label in plots.token_text:  # the bars' labels end inside the chart (they ran past its right edge)
        box = label.sceneBoundingRect()
        assert area.left() <= box.left() and box.right() <= area.right(), label.toPlainText()
    plots.graph.vb.scaleBy((0.25, 0.25))  # zoomed in: the nodes spread apart, more names fit
    qtbot.waitUntil(lambda: sum(label.isVisible() for label in plots.labels) >= len(names), timeout=3000)
