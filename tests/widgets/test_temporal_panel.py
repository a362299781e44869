"""The temporal panel: as-of drags reuse the graph, known-at replays belief, user events."""

import numpy as np
import pyqtgraph as pg
import pytest

from core import temporal
from widgets.temporal_panel import TemporalPanel


@pytest.fixture
def panel(sample_panel):
    return sample_panel(TemporalPanel)


def drawn_rows(panel):
    """Rows and x-spans of the drawn bars, read back from the item's rectangles."""
    return sorted((y, x, x + w) for x, y, w, _h in panel.plots_.bars.rects().tolist())


def test_dragging_as_of_reuses_the_graph_and_moves_the_overlays(panel, qtbot):
    graph = panel.output().result.graph
    assert panel.reuses_prepared(panel.params)
    panel.as_of.spin.setValue(40)  # early on: most keys still hold their first value
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.as_of == panel.params.as_of)
    out = panel.output()
    assert out.result.graph is graph
    at = temporal.to_seconds(panel.params.as_of, "as_of")
    assert float(panel.plots_.as_of.value()) == at
    # the outlined bars are exactly the facts holding at the instant
    outlined = {(round(y - 0.08), int(x)) for x, y, _w, _h in panel.plots_.current.rects()}
    t = out.result.tiling
    holding = {(int(graph.key[t.seen[i]]), int(graph.start[t.seen[i]])) for i in range(t.seen.size)
               if graph.start[t.seen[i]] <= at < t.end[i]}
    assert outlined == holding and holding
    # the table's naive column disagrees exactly on the rows the crosses mark
    xs, ys = panel.plots_.wrong.getData()
    cell = panel.facts.data
    wrong_rows = [r for r in range(panel.facts.rowCount())
                  if cell(panel.facts.index(r, 1), 0) != cell(panel.facts.index(r, 2), 0)]
    assert sorted((ys - 0.5).astype(int).tolist()) == wrong_rows
    assert np.all(xs == at)


def test_known_at_hides_later_facts_and_reopens_intervals(panel, qtbot):
    before = drawn_rows(panel)
    panel.replay.setChecked(True)
    panel.known.spin.setValue(panel._days("2024-04-20"))
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.known_at == "2024-04-20")
    res = panel.output().result
    plan = res.graph.keys.index(("lumen-co", "plan"))
    values = [res.graph.objects[int(p)] for p in res.tiling.seen if res.graph.key[p] == plan]
    assert values == ["Trial", "Team", "Enterprise"]  # the April downgrade was recorded in May
    assert res.tiling.end[-1] == temporal.NEVER
    assert len(drawn_rows(panel)) == len(before) - 2  # the May corrections are not drawn
    assert "known at 2024-04-20" in panel.status.text()
    panel.replay.setChecked(False)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.known_at is None)
    assert drawn_rows(panel) == before


def test_picking_a_row_draws_that_keys_history(panel, qtbot):
    from PySide6.QtCore import Qt

    rect = panel.table.visualRect(panel.facts.index(0, 0))  # the first row, clicked in the table
    assert rect.isValid()
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().focus == 0)
    assert "harbor-api · owner" in panel.plots_.belief.titleLabel.text
    versions = panel.output().history
    assert {v["object"] for v in versions} == {"Payments", "Platform", "Checkout"}


def test_typed_events_replace_the_graph_and_bad_lines_are_named(panel, qtbot, click):
    before = panel.params
    panel.editor.setPlainText("a,stage,draft,2025-01-01\na,stage,sent,2025/02/01\n")
    click(panel, "Use these events")
    assert "line 2.valid_from" in panel.status.text() and panel.params == before
    panel.editor.setPlainText("a,stage,draft,2025-01-01\na,stage,sent,2025-02-01\n")
    click(panel, "Use these events")
    qtbot.waitUntil(lambda: panel.is_idle() and len(panel.output().result.graph.keys) == 1)
    assert panel.facts.rowCount() == 1
    assert panel.params.as_of is None and panel.output().result.as_of == temporal.to_seconds("2025-02-01", "")


def test_a_csv_file_opens_as_events(panel, qtbot, tmp_path):
    path = tmp_path / "facts.csv"
    path.write_text("subject,predicate,object,valid_from,ingested_on\nx,y,1,2020-01-01,\nx,y,2,2020-06-01,2020-09-01\n")
    panel.open_paths([path])
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.graph.key.size == 2)
    assert panel.csv_rows()[1:] == [["x", "y", "1", "2020-01-01", "2020-06-01", "2020-01-01"],
                                    ["x", "y", "2", "2020-06-01", None, "2020-09-01"]]


def test_dragging_the_line_on_the_chart_sets_as_of(panel, qtbot):
    line = panel.plots_.as_of
    line.setValue(float(temporal.to_seconds("2023-05-02", "")))
    line.sigDragged.emit(line)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.as_of == "2023-05-02")
    assert panel.as_of.value() == panel._days("2023-05-02")


def test_facts_at_years_1_and_9999_draw_with_dated_axes(panel, qtbot):
    """Issue 28: offset datetimes at the calendar's ends. The drawn span was padded past year 1
    and 9999 (no axis ticks, and an as-of slider whose first days cannot be named)."""
    panel.set_events(temporal.parse_events(
        "acme, plan, Trial, 0001-01-01T05:00:00+04:00\n"
        "acme, plan, Team, 9999-12-31T20:00:00-03:00\n"
        "zeta, owner, Ann, 0001-01-01\n", "ends.csv"))
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.graph.key.size == 3)
    assert "error" not in panel.status.text()
    panel.grab()  # paint every axis
    for plot in (panel.plots_.timeline, panel.plots_.belief):
        axis = plot.getAxis("bottom")
        lo, hi = plot.viewRange()[0]
        assert temporal.FIRST <= lo < hi <= temporal.LAST
        ticks = [v for _spacing, values in axis.tickValues(lo, hi, axis.width()) for v in values]
        assert len(ticks) >= 3
        assert all(s for s in axis.tickStrings(ticks, 1, 365 * 86_400))
    # every day the sliders can reach has a name, both ends included
    def settle():
        qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params == panel.params)
        assert panel.status.property("error") is False, panel.status.text()

    for value in (panel.as_of.spin.minimum(), panel.as_of.spin.maximum()):
        panel.as_of.spin.setValue(value)
        settle()
    panel.replay.setChecked(True)
    for value in (panel.known.spin.maximum(), panel.known.spin.minimum()):
        panel.known.spin.setValue(value)
        settle()
    assert panel.params.known_at.startswith("0001-01-01")


def test_held_fact_outlines_draw_what_one_rect_at_a_time_draws(qtbot):
    """Rects filled from arrays, outline only, paint the same pixels as a QRectF per outline."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter, QPen

    from widgets.rects import Rects

    rng = np.random.default_rng(3)
    x0 = rng.uniform(0, 80, 300)
    x1 = x0 + rng.uniform(0.5, 30, 300)
    rows = rng.integers(0, 40, 300).astype(float)
    item = Rects()
    item.set_rects(x0, rows + 0.08, x1, rows + 0.92, np.zeros(300, int), [QColor(0, 0, 0, 0)],
                   outline=QColor("#223344"), width=2.0)
    pen = QPen(QColor("#223344"))
    pen.setWidthF(2.0)
    pen.setCosmetic(True)

    def one_by_one(painter):
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for a, y, b in zip(x0, rows + 0.08, x1, strict=True):
            painter.drawRect(QRectF(a, y, b - a, 0.84))

    images = []
    for draw in (lambda p: item.paint(p, None), one_by_one):
        image = QImage(400, 300, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.scale(4.0, 7.0)
        draw(painter)
        painter.end()
        images.append(image)
    blank = QImage(400, 300, QImage.Format.Format_ARGB32_Premultiplied)
    blank.fill(QColor("white"))
    assert images[0] != blank  # something was drawn
    assert images[0] == images[1]
    assert item.rects().shape == (300, 4)


@pytest.mark.parametrize("size", [(1280, 420), (1300, 900)])
def test_the_as_of_label_sits_above_the_first_row_not_over_it(panel, qtbot, size):
    panel.resize(*size)
    qtbot.wait(50)
    plots = panel.plots_
    plots.timeline.vb.updateMatrix()
    label = plots.as_of.label
    assert label.isVisible() and label.toPlainText().startswith("as of")
    first_row = plots.timeline.vb.mapViewToScene(pg.QtCore.QPointF(0, 0.15)).y()  # its bar's top
    assert label.sceneBoundingRect().bottom() <= first_row + 1  # it covered the bar and its cross


def test_names_on_bars_are_black_or_white_whichever_reads_on_their_bar(panel, qtbot):
    """One ink for every bar left black names on the darkest bars hard to read on a slide."""
    from widgets.temporal_plots import BAR_ALPHA
    from widgets.theme import contrast, load_theme, mix

    inks = set()
    for theme in ("slide", "dark", "light"):
        panel.apply_theme(load_theme(theme))
        qtbot.waitUntil(panel.is_idle)
        graph = panel.output().result.graph
        shown = [label for label in panel.plots_.labels if label.isVisible()]
        assert shown
        for label in shown:
            text, ink = label.textItem.toPlainText(), label.color.name()
            inks.add(ink)
            other = "#ffffff" if ink == "#000000" else "#000000"
            bars = [mix(panel.theme.color(int(graph.value[e])), panel.theme.background,  # as drawn
                        1 - BAR_ALPHA / 255) for e, name in enumerate(graph.objects) if name == text]
            assert any(contrast(ink, bar) >= contrast(other, bar) for bar in bars), (theme, text, ink)
    assert inks == {"#000000", "#ffffff"}, "the sample has bars dark and light enough for each"


def test_both_charts_put_an_instant_at_the_same_x(panel, qtbot):
    """The two charts share valid time but started at their own left edges, so the 'as of'
    line stood at another x on each (129 px apart on the 1280x720 slide)."""
    at = temporal.to_seconds(panel.params.as_of, "as_of")
    plots = panel.plots_
    for width in (1300, 900):
        panel.resize(width, 800)
        qtbot.wait(50)
        xs = [plot.vb.mapViewToScene(pg.Point(at, 0)).x() for plot in (plots.timeline, plots.belief)]
        assert abs(xs[0] - xs[1]) < 1, (width, xs)
