"""On a slide, the names written in a chart (bars, call-graph nodes) are larger and still fit."""

import itertools

import pyqtgraph as pg

from widgets.export import resize_view
from widgets.loaders import read_scenario
from widgets.offscreen import build_panel
from widgets.plots import in_chart_pt
from widgets.resources import samples
from widgets.theme import load_theme

SLIDE_PT = in_chart_pt(load_theme("slide"))


def _slide(lever):
    _lever, params = read_scenario(samples(lever)[0])
    panel = build_panel(lever, params, "slide")
    resize_view(panel.view, (1280, 720))
    return panel


def _shown(pool):
    return [label for label in pool if label.isVisible()]


def test_slide_theme_writes_chart_names_larger_than_the_screen():
    assert SLIDE_PT > in_chart_pt(load_theme("light")) == 9


def test_temporal_bar_names_on_a_slide_are_larger_and_inside_their_bars(qtbot):
    panel = _slide("temporal")
    try:
        plots = panel.plots_
        labels = _shown(plots.labels)
        assert len(labels) >= 10
        rects = plots.bars.rects()  # x, y, width, height of every bar, in data units
        vb = plots.timeline.vb
        for label in labels:
            assert label.textItem.font().pointSize() == SLIDE_PT
            label.updateTransform(force=True)
            box = vb.mapSceneToView(label.sceneBoundingRect()).boundingRect()
            x, y = label.pos().x(), label.pos().y()
            bar = [r for r in rects if r[0] <= x + 1e-9 and r[0] + r[2] > x and r[1] <= y <= r[1] + r[3]]
            assert bar, label.toPlainText()
            assert box.right() <= bar[0][0] + bar[0][2], f"{label.toPlainText()!r} runs out of its bar"
        belief = _shown(plots.version_labels)
        assert belief and all(v.textItem.font().pointSize() == SLIDE_PT for v in belief)
        top = plots.belief.vb.sceneBoundingRect().top()
        for label in belief:
            label.updateTransform(force=True)
            assert label.sceneBoundingRect().top() >= top, f"{label.toPlainText()!r} is cut off at the top"
    finally:
        panel.shutdown()


def test_call_graph_node_names_on_a_slide_are_larger_and_do_not_overlap(qtbot):
    panel = _slide("callgraph")
    try:
        labels = _shown(panel.plots_.labels)
        assert len(labels) >= 5
        boxes = []
        for label in labels:
            assert label.textItem.font().pointSize() == SLIDE_PT
            label.updateTransform(force=True)
            boxes.append((label.toPlainText(), label.sceneBoundingRect()))
        clashes = [(a, b) for i, (a, ra) in enumerate(boxes) for b, rb in boxes[i + 1:]
                   if ra.intersects(rb)]
        assert clashes == []
        assert all(isinstance(label, pg.TextItem) for label in labels)
    finally:
        panel.shutdown()


def test_a_slide_asks_no_one_to_click(qtbot):
    panel = _slide("attention")
    try:
        titles = [plot.titleLabel.text for plot in panel.plots()]
        assert any(t.startswith("Weights of query") for t in titles)
        assert not any("click" in t for t in titles), titles
        panel.apply_theme(load_theme("light"))
        qtbot.waitUntil(panel.is_idle, timeout=20000)
        assert any("click a map" in plot.titleLabel.text for plot in panel.plots()), "on screen it says how"
    finally:
        panel.shutdown()


def test_held_out_occurrence_labels_thin_out_when_there_are_many(make_panel, qtbot):
    from app.bench_loads import procedural_learning_bench_params
    from widgets.procedural_learning_panel import ProceduralLearningPanel

    panel = make_panel(ProceduralLearningPanel)
    panel.set_params(procedural_learning_bench_params(sessions=20_000))
    panel.resize(1280, 720)
    panel.show()
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output() is not None, timeout=60000)
    axis = panel.plots_.held.getAxis("bottom")
    major, minor = axis._tickLevels
    width = len(minor)
    assert width > 10, "this log has tags seen more than ten times in the held-out part"
    shown = [label for _x, label in major]
    assert shown[0] == "1" and len(shown) <= 1 + width // 5
    # labels at most ~30 px apart would run together: they are at least 5 occurrences apart
    positions = [x for x, _label in major]
    assert min(b - a for a, b in itertools.pairwise(positions)) >= 4
