"""Agent memory panel: k and the conversation scrubber, chips, the store table, imports."""

import json

import pytest

from core import agent_memory as am
from tests.widgets.open_files import open_files
from tests.widgets.pinning import ghost_bars, pin_then_move
from widgets.agent_memory_panel import AgentMemoryPanel, read_turns, turns_text
from widgets.agent_memory_plots import ADDED


@pytest.fixture
def panel(sample_panel, qtbot):
    made = sample_panel(AgentMemoryPanel)
    qtbot.waitUntil(made.text_current)
    return made


@pytest.fixture
def shown(shared_sample_panel, qtbot):
    """The sample's panel for tests that only read it: one for the module (see conftest.py)."""
    made = shared_sample_panel(AgentMemoryPanel)
    qtbot.waitUntil(made.text_current)
    return made


def settled(panel):
    return panel.is_idle() and panel.text_current()


def test_sample_shows_overwrites_misses_and_collisions(shown):
    res = shown.output()
    assert res.params.shown == len(res.params.turns) == 19
    html = shown.chat_view.toHtml()
    assert "no fact extracted" in html  # "Call me Nes" is not caught
    assert "prefers aisle seats" in html and "same key" in html  # overwritten by "prefers small hotels"
    assert "Hash collisions" in shown.injected.text() and "seat" in shown.injected.text()
    assert shown.table.rowCount() == len(res.facts)
    assert "overwritten by key" in shown.status.text()


def test_scrubbing_replays_the_store_without_re_extracting(panel, qtbot):
    prepared = panel.prepared()
    panel.until.spin.setValue(5)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().params.shown == 5)
    res = panel.output()
    assert panel.prepared() is prepared and panel.params.until == 5
    assert "prefers aisle seats" in res.facts  # not yet overwritten at turn 5
    assert res.history_tokens == res.growth["history_tokens"][4]
    assert float(panel.plots_.until_line.value()) == 5.0
    assert res.to_dict() == am.compute(res.params).to_dict()
    panel.until.spin.setValue(panel.until.spin.maximum())
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.until is None)


def test_k_slider_and_line_light_the_top_rows(panel, qtbot):
    panel.k.spin.setValue(1)
    qtbot.waitUntil(lambda: settled(panel) and panel.output().params.k == 1)
    res = panel.output()
    assert res.topk_tokens == res.k_tokens[1]
    assert panel.injected.text().count("<br>- ") == 0 and "- " + res.retrieved[0] in panel.injected.text()
    lit = [panel.table.item(r, 0).background().color().alpha() > 0 for r in range(panel.table.rowCount())]
    assert lit == [True] + [False] * (len(lit) - 1)
    panel.plots_.k_line.setValue(4)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.k == 4)
    _kx, ky = panel.plots_.kcurve.getData()
    assert list(ky) == list(panel.output().k_tokens)


def test_a_pasted_conversation_and_a_question(panel, qtbot):
    panel.chat.setPlainText("user: My cat is Mochi and I live in Faro.\nassistant: Lovely.\n"
                            "user: I prefer tea.")
    qtbot.waitUntil(lambda: panel.is_idle() and len(panel.output().params.turns) == 3, timeout=5000)
    assert panel.output().facts == ["cat is mochi", "lives in faro", "prefers tea"]
    panel.query.setText("what do I prefer to drink, tea?")
    panel.query.editingFinished.emit()
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().retrieved[0] == "prefers tea")


def test_transcripts_open_and_bad_ones_keep_the_data(panel, qtbot, tmp_path):
    text = [{"type": "text", "text": "I work at Orbit."}]
    record = {"type": "user", "message": {"role": "user", "content": text}}
    path = tmp_path / "session.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps({"type": "summary"}) + "\n")
    panel.open_paths([path])
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().facts == ["works at orbit"])
    before = panel.params
    bad = tmp_path / "bad.txt"
    bad.write_text("hello with no speaker")
    open_files(panel, qtbot, [bad])
    assert "start each turn with 'user:'" in panel.status.text() and panel.params == before


def test_corrections_show_before_and_after(panel, qtbot):
    panel.updates.setPlainText("My budget is 900 euros.")
    qtbot.waitUntil(lambda: settled(panel) and panel.params.updates == ("My budget is 900 euros.",),
                    timeout=5000)
    up = panel.output().update
    assert up["after_best"] == "budget is 900 euros" and up["events"][0]["status"] == "updated"
    assert "budget is 900 euros" in panel.chat_view.toHtml()


def test_turns_round_trip_as_text():
    turns = (am.Turn("user", "hi there"), am.Turn("assistant", "hello"))
    assert read_turns(turns_text(turns), "x") == turns


def test_csv_rows_follow_growth(shown):
    rows = shown.csv_rows()
    assert rows[0] == ["turns", "history_tokens", "facts", "topk_tokens"] and len(rows) == 20


@pytest.mark.sdk
def test_exact_counts_through_count_tokens(make_panel, qtbot):
    from app.anthropic_service import ExactCounter
    from tests.fake_api import FakeAnthropic, fake_count

    with FakeAnthropic() as api:
        counter = ExactCounter("sk-ant-test-key-never-written", base_url=api.url)
        panel = make_panel(AgentMemoryPanel)
        panel.load_sample()
        qtbot.waitUntil(panel.is_idle, timeout=20_000)
        panel.set_exact_counter(counter)
        panel.estimator.setCurrentIndex(panel.estimator.findData("exact"))
        qtbot.waitUntil(lambda: panel.is_idle() and panel.output().params.estimator == "exact",
                        timeout=30_000)
        res = panel.output()
        assert res.history_tokens == sum(fake_count(t.text) for t in res.params.turns)
        assert res.topk_tokens == fake_count(am.block(res.retrieved))
        assert api.count_requests() > 0
        panel.shutdown()
        counter.close()


def test_the_stars_note_is_in_the_k_charts_title(panel, qtbot):
    """'every matching fact in at k=2' ran off the chart's right edge, then sat on the k line
    and the curve; the chart's title says it, with the star in its color."""
    panel.resize(1090, 690)  # the panel's share of a 1280x720 window
    setter, values = panel.bench_steps()
    setter(values[len(values) // 3])
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    plots = panel.plots_
    rk = panel.output().relevant_k
    assert rk is not None and plots.relevant.getData()[0].tolist() == [rk]
    title = plots.ksweep.titleLabel
    note = f"Injected tokens against k: ★ every matching fact in at k={rk}"
    assert title.isVisible() and title.item.toPlainText() == note
    assert ADDED in title.text, "the star in the title has the star's color"


def test_a_pinned_bar_stays_in_view_after_the_conversation_is_cut(panel, qtbot):
    """Pinned at 230 tokens, then 7 turns (103): the 0-200 range cut the pinned bar's top off."""
    pin_then_move(panel, qtbot)
    plot = panel.plots_.bars_plot
    pinned = max(float(max(g.opts["y1"])) for g in ghost_bars(plot))
    assert pinned > max(panel.plots_.bars.opts["height"])  # the pinned total was higher
    assert pinned <= plot.viewRange()[1][1]
