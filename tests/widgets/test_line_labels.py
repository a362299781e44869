"""On a slide, a line's label takes the end of its line where it covers nothing it need not."""

from PySide6.QtCore import QPointF

from widgets.export import resize_view
from widgets.loaders import read_scenario
from widgets.offscreen import build_panel
from widgets.plot_room import crowding
from widgets.resources import samples


def _slide(lever):
    _lever, params = read_scenario(samples(lever)[0])
    panel = build_panel(lever, params, "slide")
    resize_view(panel.view, (1280, 720))
    return panel


def _box(plot, text_item):
    text_item.updateTransform(force=True)  # where the next paint puts it
    return plot.vb.mapRectFromScene(text_item.sceneBoundingRect())


def test_a_level_lines_label_leaves_the_compaction_ticks_alone(qtbot):
    """'budget 900' sat at the right end, where the compaction ticks stand above the line."""
    panel = _slide("compaction")
    try:
        plot, budget = panel.plots_.window, panel.plots_.budget
        box = _box(plot, budget.label)
        assert plot.vb.boundingRect().adjusted(-1e-6, 0, 0, 0).contains(box)  # x may be -1e-13
        assert crowding(plot, box.adjusted(0, 1, 0, -1), skip=budget.label) == 0  # (it stands on its line)
    finally:
        panel.shutdown()


def test_the_zero_error_note_keeps_off_the_threshold_line(qtbot):
    """The note sat centred on the sweep, and the threshold line at 0.70 struck it."""
    panel = _slide("semantic_cache")
    try:
        plots = panel.plots_
        note = plots.none_label
        assert note.toPlainText() == "no zero-error threshold"
        (x0, x1), _ = plots.sweep.viewRange()
        left, line, right = (plots.sweep.vb.mapViewToScene(QPointF(x, 0.5)).x()
                             for x in (x0, panel.params.threshold, x1))
        shown = note.sceneBoundingRect()
        assert not shown.left() <= line <= shown.right()
        assert left <= shown.left() and shown.right() <= right
    finally:
        panel.shutdown()
