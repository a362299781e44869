import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from core import context_router as cr
from tests.widgets.pinning import ghost_bars, pin_then_move
from widgets.context_router_panel import ContextRouterPanel, parse_queries
from widgets.loaders import read_scenario
from widgets.resources import samples


@pytest.fixture
def panel(sample_panel):
    return sample_panel(ContextRouterPanel)


def test_sample_loads_and_the_first_query_branch_is_lit(panel):
    res = panel.output()
    turn = res.turns[0]
    xs, _ys = panel.plots_.lit.getData()
    assert len(xs) == 2 * (1 + 2 * len(turn.routed.included))  # classify->label, label->s, s->assemble
    assert turn.query in panel.plots_.graph.titleLabel.text
    t = res.totals()
    assert f"kitchen sink {t['sink']:,} → routed {t['routed']:,}" in panel.status.text()


def test_budget_slider_repacks_without_recounting_and_moves_both_lines(panel, qtbot):
    prepared = panel.prepared()
    panel.budget.spin.setValue(300)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().budget == 300)
    res = panel.output()
    assert panel.prepared() is prepared
    assert float(panel.plots_.sweep_line.value()) == float(panel.plots_.bar_budget.value()) == 300.0
    assert all(t.routed.tokens <= 300 and t.sink.tokens <= 300 for t in res.turns)
    assert any(t.routed.skipped for t in res.turns)
    heights = panel.plots_.bars.opts["height"]
    sizes = res.source_tokens
    drawn = sum(sizes[n] for t in res.turns for p in (t.sink, t.routed) for n in p.included + p.skipped)
    assert float(np.sum(heights)) == drawn  # every packed and every skipped source is drawn


def test_dragging_the_sweep_line_sets_the_budget(panel, qtbot):
    panel.plots_.sweep_line.setValue(640.6)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.budget == 641)
    assert panel.budget.value() == 641


def test_selecting_a_query_and_overriding_its_label(panel, qtbot):
    panel.queries.setCurrentCell(2, 0)
    qtbot.waitUntil(lambda: panel.selected == 2)
    assert panel.output().turns[2].query in panel.plots_.graph.titleLabel.text
    index = panel.queries.model().index(2, 1)
    panel.queries.edit(index)  # what a click on the label does
    combo = panel.queries.indexWidget(index)
    assert isinstance(combo, QComboBox) and combo.currentText() == "auto"
    assert [combo.itemText(k) for k in range(combo.count())] == ["auto", *panel.params.routes]
    combo.setCurrentText("coding")
    combo.activated.emit(combo.currentIndex())  # the user picks it from the list
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().turns[2].label == "coding")
    assert panel.params.queries[2].label == "coding" and panel.output().turns[2].declared
    assert panel.queries.item(2, 1).text() == "coding"
    assert panel.queries.indexWidget(index) is None  # the editor closed


def test_thousands_of_queries_make_no_widget_per_row(make_panel, qtbot):
    from app.bench_loads import context_router_bench_params

    panel = make_panel(ContextRouterPanel)
    panel.set_params(context_router_bench_params())  # 5,000 queries: one combo each froze the window
    qtbot.waitUntil(panel.is_idle, timeout=20_000)
    assert panel.queries.rowCount() == 5000
    assert panel.queries.findChildren(QComboBox) == []
    labels = [panel.queries.item(i, 1).text() for i in range(5000)]
    assert labels == [q.label or "auto" for q in panel.params.queries]


def test_a_budget_tick_builds_only_the_turns_it_draws():
    from app.bench_loads import context_router_bench_params

    params = context_router_bench_params()
    prepared = cr.prepare(params)
    res = cr.derive(prepared, params)
    assert isinstance(res.turns, cr.Turns) and len(res.turns) == 5000
    assert res.turns == tuple(res.turns)  # the same turns, made when read
    again = cr.derive(prepared, params)
    assert again.sweep is res.sweep  # the sweep does not move with the budget: made once
    hungry = max(res.turns, key=lambda t: t.needed_tokens)
    assert res.turns.hungriest() == hungry


def test_a_pasted_plan_declares_labels(panel, qtbot, click):
    panel.paste.setPlainText("coding: run the failing test again\nWhere is the invoice policy?\n\n")
    click(panel, "Use these queries")
    qtbot.waitUntil(panel.is_idle)
    assert [(q.query, q.label) for q in panel.params.queries] == [
        ("run the failing test again", "coding"), ("Where is the invoice policy?", None)]
    assert parse_queries("nolabel: text", ["coding"])[0] == cr.Query("nolabel: text")


def test_ticking_and_raising_a_route_source(panel, qtbot, click):
    labels = list(panel.params.routes)
    names = [s.name for s in panel.params.sources]
    row, col = labels.index("chitchat"), names.index("handbook")
    panel.routes.item(row, col).setCheckState(Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: panel.is_idle() and "handbook" in panel.params.routes["chitchat"])
    assert panel.params.routes["chitchat"][-1] == "handbook"
    panel.routes.setCurrentCell(row, col)
    click(panel, "↑ Raise the selected source's priority")
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.routes["chitchat"][0] == "handbook")
    panel.routes.item(row, col).setCheckState(Qt.CheckState.Unchecked)
    qtbot.waitUntil(lambda: panel.is_idle() and "handbook" not in panel.params.routes["chitchat"])


def test_sizes_can_be_typed_and_text_sources_added(panel, qtbot, tmp_path):
    panel.sources.item(0, 1).setText("2,000")
    first = panel.params.sources[0].name
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().source_tokens[first] == 2000)
    panel.sources.item(1, 1).setText("lots")
    assert "sources[1].tokens: expected a whole number" in panel.status.text()
    notes = tmp_path / "release_notes.txt"
    notes.write_text("Version 4 ships streaming exports and a new SSO flow. " * 3)
    before = len(panel.params.sources)
    panel.open_paths([notes])
    qtbot.waitUntil(lambda: panel.is_idle() and "release_notes" in panel.output().source_tokens)
    assert len(panel.params.sources) == before + 1
    assert panel.output().source_tokens["release_notes"] == round(30 * 1.3)  # 10 words x 3
    assert not any("release_notes" in r for r in panel.params.routes.values())


def test_the_plan_sample_shows_steps(make_panel, qtbot):
    panel = make_panel(ContextRouterPanel)
    path = next(p for p in samples("context_router") if "plan" in p.name)
    panel.load_scenario_dict(read_scenario(path)[1])
    panel.resize(1280, 720)
    panel.show()
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output() is not None
                    and panel.output().turns[0].declared)
    assert panel.plots_.bars_plot.titleLabel.text.startswith("Per step")
    assert "starves first below" in panel.status.text()


@pytest.mark.sdk
def test_live_counts_size_the_text_sources(panel, qtbot):
    from app.anthropic_service import ExactCounter
    from tests.fake_api import FakeAnthropic, fake_count

    with FakeAnthropic() as api:
        counter = ExactCounter("sk-ant-test-key-never-written", base_url=api.url, max_retries=0)
        panel.set_exact_counter(counter)
        panel.estimator.setCurrentIndex(panel.estimator.findData("exact"))
        texts = {s.name: s.text * s.repeat for s in panel.params.sources if s.tokens is None}
        given = {s.name: s.tokens for s in panel.params.sources if s.tokens is not None}
        qtbot.waitUntil(lambda: panel.is_idle() and all(
            panel.output().source_tokens[n] == fake_count(t) for n, t in texts.items()), timeout=10_000)
        assert all(panel.output().source_tokens[n] == v for n, v in given.items())
        asked = api.count_requests()
        panel.budget.spin.setValue(700)  # the budget only re-packs
        qtbot.waitUntil(lambda: panel.is_idle() and panel.output().budget == 700)
        assert api.count_requests() == asked
        counter.close()


def test_a_pinned_total_stays_in_view_after_the_budget_comes_down(panel, qtbot):
    """The totals have no axis: a pinned bar cut at the plot's edge hid how far the total fell."""
    pin_then_move(panel, qtbot)
    plot = panel.plots_.totals
    live = panel.plots_.total_bars.opts["width"]
    pinned = max(float(np.max(g.opts["x1"])) for g in ghost_bars(plot))
    assert pinned > max(live) * 1.9  # the case: the live bars alone would leave it cut off
    assert pinned <= plot.viewRange()[0][1]
