"""Live semantic cache through the real SDK against 127.0.0.1: misses call, hits never do."""

import re

import pytest

from app.anthropic_service import ApiCallError
from app.semantic_live import MAX_CALLS, SemanticLive
from tests.fake_api import FakeAnthropic

pytestmark = pytest.mark.sdk  # loads the Anthropic SDK: run last (see conftest.py)

KEY = "sk-test-semantic-live"


def test_each_miss_is_one_call_measured_in_order():
    questions = ["How do I reset my password?", "Where is my invoice?", "Can I pay by card?"]
    with FakeAnthropic() as fake:
        fake.reply = lambda body: "word " * (3 * len(body["messages"][0]["content"].split()))
        fake.delay_s = 0.05
        live = SemanticLive(KEY, base_url=fake.url)
        measured = live.run(questions)
        live.close()
        bodies = [body for path, _h, body in fake.requests if path.endswith("/v1/messages")]
    assert [b["messages"] for b in bodies] == [[{"role": "user", "content": q}] for q in questions]
    assert all(b["model"] == "claude-opus-4-8" and b["max_tokens"] == 1024 for b in bodies)
    # the fake bills one output token per whitespace word of its reply
    assert [c.output_tokens for c in measured.calls] == [18, 12, 15]
    assert measured.mean_tokens == 15 and measured.left_out == 0
    assert all(c.wall_ms >= 50 for c in measured.calls) and measured.mean_ms >= 50


def test_at_most_max_calls_are_sent_and_the_rest_are_counted():
    with FakeAnthropic() as fake:
        live = SemanticLive(KEY, base_url=fake.url)
        measured = live.run([f"question {i}" for i in range(MAX_CALLS + 7)])
        live.close()
        sent = [b for path, _h, b in fake.requests if path.endswith("/v1/messages")]
    assert len(sent) == len(measured.calls) == MAX_CALLS and measured.left_out == 7


@pytest.mark.parametrize(("setup", "message"), [
    ({"script": [401]}, "miss 1: the API key was rejected (401)"),
    ({"script": [200, 529, 529, 529]}, "miss 2: the API is overloaded (529)"),
    ({"delay_s": 1.5}, "miss 1: the API did not answer in time"),
])
def test_faults_become_one_clear_line(setup, message):
    with FakeAnthropic() as fake:
        for name, value in setup.items():
            setattr(fake, name, value)
        live = SemanticLive(KEY, base_url=fake.url, timeout=0.6)
        with pytest.raises(ApiCallError, match=re.escape(message)) as info:
            live.run(["first question", "second question"])
        live.close()
    assert KEY not in str(info.value)


def test_no_miss_sends_nothing():
    with FakeAnthropic() as fake:
        live = SemanticLive(KEY, base_url=fake.url)
        with pytest.raises(ApiCallError, match="nothing to send"):
            live.run([])
        live.close()
        assert fake.requests == []
