"""The call graph keeps its names readable in a small window: no name over another, none cut off."""

import pytest

from widgets.callgraph_panel import CallgraphPanel
from widgets.export import resize_view
from widgets.loaders import read_scenario
from widgets.offscreen import build_panel
from widgets.resources import samples


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


def test_a_slide_names_every_node_of_the_slide_it_has_room_for(qtbot):
    """Laid out small first (built hidden), then at the slide's size: the names hidden while the
    nodes were close show again, measured at the new size (a hidden label kept its old size)."""
    lever, params = read_scenario(samples("callgraph")[0])[:2]
    panel = build_panel(lever, params, "slide")
    try:
        resize_view(panel.view, (1280, 720))
        labels = panel.plots_.labels[:len(panel.output().result.members)]
        hidden = [label.toPlainText() for label in labels if not label.isVisible()]
        assert hidden == []
    finally:
        panel.shutdown()
        panel.deleteLater()
