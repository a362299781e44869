"""The compaction lab: live budget drags, strategies, imports, and a live run via the real SDK."""

import functools
import json

import numpy as np
import pytest

from app.compaction_live import LiveRun
from core import compaction
from tests.app.test_compaction_live import answer, is_memory_call
from tests.fake_api import FakeAnthropic
from tests.widgets.open_files import open_files
from tests.widgets.pinning import pin_then_move
from widgets.compaction_panel import CompactionPanel


@pytest.fixture
def panel(sample_panel):
    return sample_panel(CompactionPanel)


def test_dragging_the_budget_replays_on_cached_counts(panel, qtbot):
    prepared = panel.prepared()
    assert panel.reuses_prepared(panel.params)
    line = panel.plots_.budget
    line.setValue(500.0)
    line.sigDragged.emit(line)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.budget == 500)
    res = panel.output().result
    assert panel.prepared() is prepared  # counted once
    tiered = panel.plots_.curves["tiered"].yData
    assert np.array_equal(tiered, res.book["tiered"].in_window) and tiered.max() <= 500
    expected = compaction.compute(panel.params)
    assert np.array_equal(res.cookbook["instant"].wait_s, expected.cookbook["instant"].wait_s)
    xs, _ = panel.plots_.marks.getData()
    assert sorted(set(xs.astype(int).tolist())) == sorted(panel.output().view.marks)


def test_soft_threshold_line_moves_when_instant_starts_its_memory(panel, qtbot):
    first = panel.output().result.cookbook["instant"].summarizer_calls
    line = panel.plots_.soft
    line.setValue(100.0)
    line.sigDragged.emit(line)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.soft == 100)
    assert panel.output().result.cookbook["instant"].summarizer_calls > first


def test_shown_strategy_changes_the_cards_and_the_diff(panel, qtbot):
    panel.shown_combo.setCurrentIndex(panel.shown_combo.findData("drop_oldest"))
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().view.name == "drop_oldest")
    view = panel.output().view
    assert view.answerable is False and (view.state == 2).sum() > 0
    text = panel.cards.data(panel.cards.index(0), 0)
    assert "dropped" in text and text.startswith("#0 user")
    # the summary view refreshes on a timer once drawing pauses: wait for it
    qtbot.waitUntil(lambda: "Nothing is summarized" in panel.summary.toPlainText())
    assert "Nothing is summarized" in panel.summary.toPlainText()
    panel.shown_combo.setCurrentIndex(panel.shown_combo.findData("tiered"))
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().view.name == "tiered")
    qtbot.waitUntil(lambda: "Nothing is summarized" not in panel.summary.toPlainText())
    text = panel.summary.toPlainText()
    assert "Kestrel" in text and "Dropped from the summary" in text


def test_claude_code_jsonl_imports_and_bad_lines_are_named(panel, qtbot, tmp_path):
    lines = [{"type": "summary", "summary": "old"},
             {"type": "user", "message": {"role": "user", "content": "Rename the module to Larch."}},
             {"type": "assistant", "message": {"role": "assistant", "content": [
                 {"type": "thinking", "thinking": "private"}, {"type": "text", "text": "Renamed."},
                 {"type": "tool_use", "name": "Edit", "input": {"path": "a.py"}}]}},
             {"type": "user", "message": {"role": "user", "content": [
                 {"type": "tool_result", "content": "ok, 1 file changed"}]}}]
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    panel.open_paths([path])
    qtbot.waitUntil(lambda: panel.is_idle() and len(panel.output().result.params.turns) == 3)
    turns = panel.params.turns
    assert [t.role for t in turns] == ["user", "assistant", "user"]
    assert "private" not in turns[1].text and "[tool_use Edit]" in turns[1].text
    before = panel.params
    path.write_text(json.dumps(lines[1]) + "\n{not json")
    open_files(panel, qtbot, [path])
    assert "session.jsonl line 2: not valid JSON" in panel.status.text() and panel.params == before


@pytest.mark.sdk
def test_live_run_through_the_sdk_survives_a_529_and_saves_without_the_key(panel, qtbot, tmp_path):
    with FakeAnthropic() as fake:
        fake.reply = answer
        calls = []

        def status(body):
            calls.append(is_memory_call(body))
            return 529 if is_memory_call(body) and calls.count(True) == 1 else 200

        fake.status_for = status
        key = "sk-secret-for-this-test"
        panel.set_live_factory(functools.partial(LiveRun, key, base_url=fake.url, max_retries=0, timeout=5))
        panel.change(budget=400, soft_threshold=150, min_between=60)
        qtbot.waitUntil(panel.is_idle)
        turns_before = panel.params.turns
        panel.run_live.click()
        qtbot.waitUntil(lambda: panel._live_run is None, timeout=30000)
    kinds = [e["kind"] for e in panel.live_log.events]
    users = sum(t.role == "user" for t in turns_before)
    assert kinds.count("reply") == users and "memory" in kinds and "swap" in kinds
    assert any(e["kind"] == "error" and "529" in e["message"] for e in panel.live_log.events)
    assert panel.params.turns is turns_before  # the transcript is intact
    live = panel.plots_.live.xData
    assert live is not None and live.size == users
    path = tmp_path / "run.json"
    panel.save_live(path)
    saved = path.read_text()
    assert key not in saved and json.loads(saved)["kind"] == "ctxlab-live-compaction"
    panel.live_log.events = []
    open_files(panel, qtbot, [path])
    assert len(panel.live_log.events) == len(kinds) and "replaying a saved live run" in panel.status.text()


def test_without_a_key_run_live_is_off(panel):
    assert not panel.run_live.isEnabled() and "ANTHROPIC_API_KEY" in panel.run_live.toolTip()


def test_a_live_run_whose_first_event_is_not_a_reply_draws(panel, qtbot):
    """Before any reply the live series are empty; they must still index turns (CI caught a float array)."""
    qtbot.waitUntil(panel.is_idle)
    panel._on_live_event({"kind": "error", "where": "memory", "message": "529 overloaded"})
    assert "529 overloaded" in panel.status.text()
    live = panel.plots_.live.xData
    assert live is None or live.size == 0


def test_the_legends_name_the_live_run_only_while_one_is_drawn(panel, qtbot):
    """At 1280x720 a fifth cost legend line for an undrawn live series was cut off the chart."""
    qtbot.waitUntil(panel.is_idle)
    plots = panel.plots_

    def names():
        return [[label.text for _sample, label in legend.items] for legend, _item in plots._live_keys]

    assert not any("instant (live)" in n for n in names())
    panel._on_live_event({"kind": "reply", "turn": 0, "context_tokens": 50})
    assert all(n[-1] == "instant (live)" for n in names())
    panel.live_log.events = []
    panel.draw(panel.output())
    assert not any("instant (live)" in n for n in names())


def test_compaction_marks_are_sized_for_the_axis_drawn_after_a_budget_move(panel, qtbot):
    plots = panel.plots_
    before = plots._top
    setter, values = panel.bench_steps()
    setter(values[len(values) // 3])  # a small budget: the window chart's axis comes down
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    assert plots._top != before
    _xs, ys = plots.marks.getData()
    ticks = ys[1::2] - ys[0::2]
    assert ticks.size and np.allclose(ticks, plots._top * 0.05)  # not 5% of the axis before


def test_the_small_charts_legends_stay_inside_them_at_1280x720_with_a_pin(panel, qtbot):
    """The cost legend's four lines (faded and solid per strategy) ran off its ~100 px chart."""
    panel.resize(1090, 690)  # the panel's share of a 1280x720 window
    pin_then_move(panel, qtbot)
    qtbot.wait(50)
    for plot in (panel.plots_.wait, panel.plots_.cost):
        legend = plot.legend
        assert legend.sceneBoundingRect().bottom() <= plot.vb.sceneBoundingRect().bottom()
    names = [label.text for _sample, label in panel.plots_.cost.legend.items]
    assert names == ["traditional", "instant", "pin A"]
