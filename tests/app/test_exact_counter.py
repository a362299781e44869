"""Exact token counting through the real anthropic SDK against a local HTTP server."""

import pytest

from app.anthropic_service import ExactCounter
from core.tokens import CounterError
from tests.fake_api import FakeAnthropic, fake_count
from widgets.packer_panel import PackerPanel

pytestmark = pytest.mark.sdk  # loads the Anthropic SDK: run last (see conftest.py)

KEY = "sk-ant-test-key-never-written"


@pytest.fixture
def api():
    with FakeAnthropic() as server:
        yield server


def test_counts_come_from_count_tokens_once_per_text(api):
    counter = ExactCounter(KEY, base_url=api.url)
    texts = ["hello there", "one two three four", "hello there", ""]
    assert counter.count_many(texts) == [fake_count(texts[0]), fake_count(texts[1]),
                                         fake_count(texts[0]), 0]
    assert counter.count("one two three four") == fake_count("one two three four")
    assert api.count_requests() == 2  # cached, and empty text never asked
    _path, headers, body = api.requests[0]
    assert body["model"] == "claude-opus-4-8"
    assert headers.get("authorization") == f"Bearer {KEY}" or headers.get("x-api-key") == KEY
    counter.close()


@pytest.mark.parametrize(("status", "message"), [
    (401, "API key was rejected"), (429, "rate limited"), (529, "overloaded")])
def test_api_faults_become_clear_messages(api, status, message):
    api.script = [status] * 3
    counter = ExactCounter(KEY, base_url=api.url, max_retries=0)
    with pytest.raises(CounterError, match=message) as info:
        counter.count("some text")
    assert KEY not in str(info.value)
    counter.close()


def test_unreachable_api_is_reported():
    counter = ExactCounter(KEY, base_url="http://127.0.0.1:9", max_retries=0, timeout=2)
    with pytest.raises(CounterError, match="cannot reach the API"):
        counter.count("text")
    counter.close()


def test_panel_shows_exact_beside_estimate_off_the_ui_thread(api, make_panel, qtbot):
    panel = make_panel(PackerPanel)
    panel.load_sample()
    qtbot.waitUntil(panel.is_idle)
    counter = ExactCounter(KEY, base_url=api.url)
    panel.set_exact_counter(counter)
    assert panel.estimator.model().item(2).isEnabled()
    panel.estimator.setCurrentIndex(2)
    assert not panel.is_cheap(panel.params)  # network work goes to the worker
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.estimator == "exact",
                    timeout=10000)
    out = panel.output()
    texts = [p.text for p in panel.params.parts]
    assert out.result.tokens.tolist() == [fake_count(t) for t in texts]
    assert out.estimates.tolist() == [round(len(t.split()) * 1.3) for t in texts]
    assert not panel.editor.table.isColumnHidden(4)
    counter.close()


def test_panel_falls_back_to_estimates_when_the_api_fails(api, make_panel, qtbot):
    panel = make_panel(PackerPanel)
    panel.load_sample()
    qtbot.waitUntil(panel.is_idle)
    api.script = [401] * 20
    counter = ExactCounter(KEY, base_url=api.url, max_retries=0)
    panel.set_exact_counter(counter)
    panel.estimator.setCurrentIndex(2)
    qtbot.waitUntil(lambda: panel.is_idle() and "unavailable" in panel.status.text(),
                    timeout=10000)
    assert "API key was rejected" in panel.status.text()
    assert panel.output().result.estimator == "words"
    counter.close()
