"""The prefix-cache panel: live calls/prefix/TTL, the floor, the prompt diff, a real session."""

import json

import numpy as np
import pytest

from core import prefix_cache as pc
from widgets.prefix_cache_panel import PrefixCachePanel


@pytest.fixture
def panel(sample_panel):
    return sample_panel(PrefixCachePanel)


def test_sample_shows_the_model_charts(panel):
    out = panel.output()
    m = out.result.money
    assert m["cache_engaged"] and m["break_even_calls"] == 2
    plots = panel.model_plots
    xs, ys = plots.cached.getData()
    assert xs[0] == 1 and xs[-1] == 1000 and ys[-1] == pytest.approx(out.cached[-1])
    ns, full = plots.no_cache.getData()
    assert np.array_equal(full, ns * (ns + 1) // 2)
    assert plots.calls_line.value() == panel.params.calls
    assert "break-even at call 2" in panel.status.text() and "identical" in panel.status.text()
    assert "line 2, column 33" in panel._html  # the sample's two prompts differ in a timestamp


def test_dragging_calls_and_prefix_derives_without_replaying(panel, qtbot):
    prepared = panel.prepared()
    with qtbot.waitSignal(panel.sig_rendered):
        panel.model_plots.calls_line.setValue(37.0)
    qtbot.waitUntil(panel.is_idle)
    assert panel.calls.value() == 37 and panel.output().result.money["calls"] == 37
    assert panel.prepared() is prepared  # calls is live: the attention replay was not rerun
    with qtbot.waitSignal(panel.sig_rendered):
        panel.model_plots.prefix_line.setValue(3000.0)
    qtbot.waitUntil(panel.is_idle)
    m = panel.output().result.money
    assert panel.params.prefix_tokens == 3000 and not m["cache_engaged"]
    assert m["cached"] == m["uncached"] and "nothing cached" in panel.status.text()
    assert panel.prepared() is prepared


def test_ttl_switch_prices_the_one_hour_write(panel, qtbot):
    panel.ttl.setCurrentIndex(panel.ttl.findData("1h"))
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.write_multiplier == pc.TTL_WRITE["1h"])
    m = panel.output().result.money
    assert m["break_even_calls"] == 3
    _x, pct_1h = panel.model_plots.pct_1h.getData()
    assert pct_1h[0] == pytest.approx(-100.0)


def test_pasted_prompts_show_the_first_divergence(panel, qtbot):
    panel.prompt_a.setPlainText("rules\nid: 41\nquestion")
    panel.prompt_b.setPlainText("rules\nid: 42\nquestion")
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.prompt_a == "rules\nid: 41\nquestion",
                    timeout=3000)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.diff["line"] == 2, timeout=5000)
    d = panel.output().result.diff
    assert d["first_divergence_byte"] == len("rules\nid: 4") and "column 6" in panel._html


def _session_lines():
    def rec(kind, msg, ts):
        return json.dumps({"type": kind, "timestamp": ts, "parentUuid": "x", "message": msg})

    def asst(mid, write, read):
        return {"id": mid, "role": "assistant", "model": "claude-sonnet-4-6",
                "content": [{"type": "text", "text": "ok"}],
                "usage": {"input_tokens": 3, "cache_creation_input_tokens": write,
                          "cache_read_input_tokens": read, "output_tokens": 20}}

    return [rec("user", {"role": "user", "content": "hi"}, "2026-02-01T08:00:00Z"),
            rec("assistant", asst("a", 5000, 0), "2026-02-01T08:00:03Z"),
            rec("user", {"role": "user", "content": "more"}, "2026-02-01T08:01:00Z"),
            rec("assistant", asst("b", 100, 5000), "2026-02-01T08:01:03Z"),
            rec("user", {"role": "user", "content": "back"}, "2026-02-01T08:20:00Z"),
            rec("assistant", asst("c", 5200, 0), "2026-02-01T08:20:03Z")]


def test_a_session_loads_on_the_worker_and_replaces_the_charts(panel, qtbot, tmp_path):
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join(_session_lines()), encoding="utf-8")
    with qtbot.waitSignal(panel.sig_rendered, timeout=10000):
        panel.open_paths([path])
    b = panel.session_bill()
    assert b is not None and b.input.size == 3 and len(b.drops) == 1
    plots = panel.session_plots
    assert plots.turns in panel.view.ci.items and plots.per_call in panel.view.ci.items
    assert panel.model_plots.tri not in panel.view.ci.items
    assert plots.stack[2].opts["height"].tolist() == [0, 5000, 0]  # cache reads
    drop_x, _y = plots.drops.getData()
    assert drop_x.tolist() == [3]
    _x, total = plots.total_actual.getData()
    assert total[-1] == pytest.approx(b.cost.sum())
    assert "expired: 19.0 min" in panel._html and "3 calls" in panel.session_label.text()
    assert "the cache read dropped at 1 call" in panel.status.text()
    assert panel.csv_rows()[0][:3] == ["call", "input", "cache_write"]
    panel.show_combo.setCurrentIndex(panel.show_combo.findData("model"))
    assert panel.model_plots.tri in panel.view.ci.items and plots.turns not in panel.view.ci.items


def test_a_bad_session_names_the_line_and_keeps_the_model(panel, qtbot, tmp_path):
    path = tmp_path / "broken.jsonl"
    lines = _session_lines()
    lines[3] = lines[3].replace('"output_tokens": 20', '"output_tokens": -1')
    path.write_text("\n".join(lines), encoding="utf-8")
    with qtbot.waitSignal(panel.sig_failed, timeout=10000) as failed:
        panel.open_paths([path])
    assert "broken.jsonl line 4.message.usage.output_tokens: must be >= 0" in failed.args[0]
    assert panel.session_bill() is None and panel.model_plots.tri in panel.view.ci.items


@pytest.mark.sdk
def test_live_run_sends_two_cached_calls_and_shows_them_as_a_session(panel, qtbot):
    from app.cache_live import CacheLive
    from tests.fake_api import FakeAnthropic

    assert not panel.live_button.isEnabled()  # no key: nothing to send
    panel.ttl.setCurrentIndex(panel.ttl.findData("1h"))
    qtbot.waitUntil(panel.is_idle)
    prefix = panel.prompt_a.toPlainText()
    with FakeAnthropic() as fake:
        panel.set_live_factory(lambda: CacheLive("sk-test-panel", base_url=fake.url))
        with qtbot.waitSignal(panel._session_bridge.sig_loaded, timeout=15000):
            panel.live_button.click()
        bodies = [b for path, _h, b in fake.requests if path.endswith("/v1/messages")]
    assert len(bodies) == 2
    marked = [b["messages"][0]["content"][0] for b in bodies]
    assert all(m["text"] == prefix and m["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
               for m in marked)
    b = panel.session_bill()
    words = len(prefix.split())
    assert b.write.tolist() == [words, 0] and b.read.tolist() == [0, words]
    assert panel.session_plots.turns in panel.view.ci.items
    assert "live run: 2 calls" in panel.session_label.text() and panel.live_button.isEnabled()


@pytest.mark.sdk
def test_live_run_failure_keeps_the_model_and_says_why(panel, qtbot):
    from app.cache_live import CacheLive
    from tests.fake_api import FakeAnthropic

    with FakeAnthropic() as fake:
        fake.script = [429, 429, 429]
        panel.set_live_factory(lambda: CacheLive("sk-test-panel", base_url=fake.url))
        with qtbot.waitSignal(panel.sig_failed, timeout=15000) as failed:
            panel.live_button.click()
    assert failed.args[0].startswith("call 1: rate limited by the API (429)")
    assert panel.session_bill() is None and panel.model_plots.tri in panel.view.ci.items


def test_a_pin_is_drawn_and_compared_only_in_the_charts_it_was_made_in(panel, qtbot, tmp_path):
    from widgets.pin_data import pin_from_dict

    def ghosts():
        return {(plot, i.ghost_of) for plot in panel.plots() for i in plot.items
                if getattr(i, "ghost_of", None)}

    panel.pin()  # A: the model charts
    assert {label for _p, label in ghosts()} == {"A"}
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join(_session_lines()), encoding="utf-8")
    with qtbot.waitSignal(panel.sig_rendered, timeout=10000):
        panel.open_paths([path])
    assert panel.session_plots.turns in panel.view.ci.items
    assert ghosts() == set(), "the model pin's plot numbers mean other plots here: not drawn"
    assert "vs A" not in panel.status.text() and "= pin A" not in panel.status.text()
    panel.pin()  # B: the session charts, holding the session's headline
    b = panel.pin_bar.pins[-1]
    assert b.view == "session" and "calls billed" in b.headline
    assert {label for _p, label in ghosts()} == {"B"}
    panel.show_combo.setCurrentIndex(panel.show_combo.findData("model"))
    assert {label for _p, label in ghosts()} == {"A"}
    assert "(= pin A)" in panel.status.text()
    again = pin_from_dict(b.to_dict(), "pins[1]")
    assert again.view == "session"
