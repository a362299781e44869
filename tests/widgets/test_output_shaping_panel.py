"""The output-shaping panel: the cap drags live, the badge, the reply view, imported replies."""

import json

import pytest

from core import model_profile
from core import output_shaping as osh
from widgets.output_shaping_panel import OutputShapingPanel


@pytest.fixture
def panel(sample_panel):
    return sample_panel(OutputShapingPanel)


def test_sample_loads_with_the_cap_cutting_the_answer(panel, qtbot):
    out = panel.output()
    assert out.cap.cap == panel.params.cap_tokens and not out.cap.answer_kept
    assert panel.badge.isVisibleTo(panel) and "cuts the answer off" in panel.status.text()
    assert panel.cap.spin.maximum() == out.baseline_tokens
    _x, heights = panel.plots_.tok_bars.opts["x"], panel.plots_.tok_bars.opts["height"]
    assert list(heights) == [out.baseline_tokens, out.terse.tokens, out.schema.tokens, out.cap.tokens]
    qtbot.waitUntil(lambda: "✂" in panel._html, timeout=3000)  # the text follows after a pause
    assert "terse drops" in panel._html and "<u>yes,</u>" in panel._html


def test_dragging_the_cap_line_derives_without_reshaping(panel, qtbot):
    prepared = panel.prepared()
    need = panel.output().sweep_caps[panel.output().sweep_kept].min()
    with qtbot.waitSignal(panel.sig_rendered):
        panel.plots_.cap_line.setValue(float(need))
    qtbot.waitUntil(panel.is_idle)
    out = panel.output()
    assert panel.prepared() is prepared  # the cap is live: nothing was reshaped
    assert panel.cap.value() == need and out.cap.answer_kept
    assert not panel.badge.isVisibleTo(panel)
    panel.cap.spin.setValue(int(need) - 1)
    qtbot.waitUntil(lambda: panel.is_idle() and not panel.output().cap.answer_kept)
    xs, ys = panel.plots_.step.getData()
    assert list(xs) == list(out.sweep_caps) and list(ys) == list(out.sweep_tokens)
    lo, hi = panel.plots_.region.getRegion()
    assert (lo, hi) == (float(need), float(out.sweep_caps.max()))


def test_calls_and_model_price_reprice_the_bars(panel, qtbot):
    panel.calls.spin.setValue(1000)
    haiku_out = model_profile.list_prices()["claude-haiku-4-5"][1]
    panel.model.setCurrentIndex(panel.model.findData(haiku_out))
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.output_rate_per_mtok == haiku_out)
    out = panel.output()
    per_token = panel.plots_.tok.getAxis("right").scale
    assert per_token == pytest.approx(1000 / 1e6 * haiku_out)
    label = panel.plots_.tok_labels[0].textItem.toPlainText()
    assert label == f"{out.baseline_tokens}\n${out.baseline_tokens * per_token:,.2f}"
    assert panel.rate.value() == pytest.approx(haiku_out)


def test_pasted_reply_fillers_and_answer(panel, qtbot):
    panel.reply.setPlainText("Okay here goes.\nStatus: amber\nCheers!")
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.verbose_text.startswith("Okay"), timeout=3000)
    panel.answer.setText("amber")
    panel.answer.editingFinished.emit()
    panel.fillers.setText("okay, cheers")
    panel.fillers.editingFinished.emit()
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.filler_prefixes == ("okay", "cheers"))
    out = panel.output()
    assert out.terse.text == "Status: amber" and out.terse.answer_kept
    assert out.schema.text == '{"finished":"amber"}'


def test_imported_replies_show_their_distribution_and_cut_counts(panel, qtbot, tmp_path):
    path = tmp_path / "log.jsonl"
    rows = [{"reply": "Sure!\nIt is: blue", "answer": "blue"}, {"reply": "blue, as asked"},
            {"type": "message", "content": [{"type": "text", "text": "no colour here at all"}]}]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    panel.answer.setText("blue")
    panel.answer.editingFinished.emit()
    panel.open_paths([path])
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().batch is not None, timeout=5000)
    b = panel.output().batch
    assert b.baseline.tolist() == [5, 4, 6] and b.min_cap.tolist() == [5, 1, -1]
    xs, ys = panel.plots_.dots.getData()
    assert len(xs) == 12 and sorted(ys[:3]) == [4, 5, 6]
    # one symbol per column, not per reply (2,000 replies rendered 8,000 symbols, seconds)
    assert len(panel.plots_.dots.fragmentAtlas._coords) == 4
    caps, cut = panel.plots_.cut_curve.getData()
    assert cut[0] == 2 and cut[int(caps.max())] == 0
    assert "3 imported replies" in panel.replies_label.text()
    panel.clear_button.click()
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().batch is None)


def test_a_bad_replies_file_names_the_line_and_keeps_the_result(panel, qtbot, tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text('{"reply": "fine, blue"}\n{"reply": "blue"}\n', encoding="utf-8")
    panel.open_paths([good])
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().batch is not None, timeout=20000)
    path = tmp_path / "bad.jsonl"
    path.write_text('{"reply": "fine"}\n{"reply": "also fine"}\n{broken\n', encoding="utf-8")
    before, params = panel.output(), panel.params
    panel.open_paths([path])
    qtbot.waitUntil(lambda: not panel.opener.active(), timeout=20000)
    assert "bad.jsonl line 3: not valid JSON" in panel.status.text()
    assert panel.output() is before and panel.params == params and len(params.replies) == 2
    assert "2 imported replies" in panel.replies_label.text()


def test_opened_replies_are_read_off_the_ui_thread_then_applied(panel, qtbot, tmp_path):
    """Issue 28: the file was read and parsed inside open_paths, on the UI thread."""
    path = tmp_path / "log.jsonl"
    rows = [{"reply": f"Sure! Reply {i} follows.\nThe answer: yes", "answer": "yes"}
            for i in range(osh.MAX_REPLIES)]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    panel.open_paths([path])
    assert panel.opener.active() and panel.params.replies == ()  # still reading: nothing changed yet
    assert panel.status.text().startswith("reading log.jsonl")
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().batch is not None, timeout=60000)
    assert [r.reply for r in panel.params.replies] == [r["reply"] for r in rows]
    assert f"{osh.MAX_REPLIES:,} imported replies" in panel.replies_label.text()


def test_a_json_list_of_replies_opens_and_a_wrong_scenario_is_named(panel, qtbot, tmp_path):
    as_list = tmp_path / "replies.json"
    as_list.write_text(json.dumps([{"reply": "blue it is", "answer": "blue"}, "also blue"]), encoding="utf-8")
    panel.open_paths([as_list])
    assert panel.opener.active() and panel.params.replies == ()  # .json data too: on the worker
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().batch is not None, timeout=20000)
    assert [r.reply for r in panel.params.replies] == ["blue it is", "also blue"]
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"lever": "semantic_cache", "params": {}}), encoding="utf-8")
    params = panel.params
    panel.open_paths([other])
    qtbot.waitUntil(lambda: not panel.opener.active(), timeout=20000)
    assert "a 'semantic_cache' scenario, not 'output_shaping'" in panel.status.text()
    assert panel.params == params


def test_csv_is_the_cap_sweep(panel):
    rows = panel.csv_rows()
    assert rows[0] == ["cap", "tokens", "dollars", "answer_kept"]
    assert len(rows) == panel.output().baseline_tokens + 2


@pytest.mark.sdk
def test_live_run_measures_both_calls_and_marks_them_on_the_bars(panel, qtbot):
    from app.shaping_live import ShapingLive
    from tests.fake_api import FakeAnthropic

    def reply(body):
        return '{"finished":"yes"' if body["max_tokens"] == 16 else "Sure, it finished fine. " * 10

    assert not panel.live_button.isEnabled()  # no key: nothing to send
    with FakeAnthropic() as fake:
        fake.reply = reply
        panel.set_live_factory(lambda: ShapingLive("sk-test-panel", base_url=fake.url))
        panel.live_prompt.setText("Did it finish?")
        with qtbot.waitSignal(panel.live_section.sig_measured, timeout=15000):
            panel.live_button.click()
        bodies = [b for path, _h, b in fake.requests if path.endswith("/v1/messages")]
    assert [b["max_tokens"] for b in bodies] == [1024, 16]
    assert bodies[1]["output_config"]["format"]["schema"]["required"] == ["finished"]
    assert panel._measured == (40, 1)
    xs, ys = panel.plots_.measured.getData()
    assert list(xs) == [0, 2] and list(ys) == [40, 1]
    assert "loose 40" in panel.live_label.text() and panel.live_button.isEnabled()


@pytest.mark.sdk
def test_live_run_failure_is_one_line_in_the_status(panel, qtbot):
    from app.shaping_live import ShapingLive
    from tests.fake_api import FakeAnthropic

    with FakeAnthropic() as fake:
        fake.script = [401]
        panel.set_live_factory(lambda: ShapingLive("sk-test-panel", base_url=fake.url))
        with qtbot.waitSignal(panel.sig_failed, timeout=15000) as failed:
            panel.live_button.click()
    assert failed.args[0] == "loose call: the API key was rejected (401); check ANTHROPIC_API_KEY"
    assert "sk-test-panel" not in panel.live_label.text() and panel._measured is None
