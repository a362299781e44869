"""Live output shaping through the real SDK against 127.0.0.1: request bodies, usage, faults."""

import re

import pytest

from app.anthropic_service import ApiCallError
from app.shaping_live import ShapingLive
from tests.fake_api import FakeAnthropic

pytestmark = pytest.mark.sdk  # loads the Anthropic SDK: run last (see conftest.py)

KEY = "sk-test-shaping-live"
PROMPT = "Did the nightly export finish? Answer yes or no."


def reply(body):
    if body["max_tokens"] == 16:
        return '{"finished":"yes"'  # the server stops before the "}" stop sequence
    return "Sure! I looked into the nightly export for you. Yes, it finished at 02:10 without errors."


def test_loose_and_stacked_request_bodies_and_measured_usage():
    with FakeAnthropic() as fake:
        fake.reply = reply
        live = ShapingLive(KEY, base_url=fake.url)
        loose, stacked = live.run(PROMPT, "finished")
        live.close()
        bodies = [body for path, _h, body in fake.requests if path.endswith("/v1/messages")]
    assert len(bodies) == 2
    first, second = bodies
    assert first["max_tokens"] == 1024 and first["output_config"] == {"effort": "high"}
    assert "stop_sequences" not in first
    assert first["messages"] == [{"role": "user", "content": PROMPT}]
    assert second["max_tokens"] == 16 and second["stop_sequences"] == ["}"]
    fmt = second["output_config"]["format"]
    assert second["output_config"]["effort"] == "low" and fmt["type"] == "json_schema"
    assert fmt["schema"]["properties"] == {"finished": {"type": "string"}}
    assert fmt["schema"]["required"] == ["finished"] and fmt["schema"]["additionalProperties"] is False
    # the fake bills one output token per whitespace word of its reply
    assert loose.output_tokens == len(reply({"max_tokens": 1024}).split()) == 16
    assert stacked.output_tokens == 1 and stacked.text == '{"finished":"yes"'
    assert loose.dollars(25.0, calls=100_000) == pytest.approx(16 * 100_000 / 1e6 * 25.0)


@pytest.mark.parametrize(("setup", "message"), [
    ({"script": [400]}, "loose call: the API refused the request (400): scripted"),
    ({"script": [401]}, "loose call: the API key was rejected (401)"),
    ({"script": [429] * 3}, "loose call: rate limited by the API (429)"),
    ({"script": [200, 529, 529, 529]}, "stacked call: the API is overloaded (529)"),
    ({"delay_s": 1.5}, "loose call: the API did not answer in time"),
])
def test_faults_become_one_clear_line(setup, message):
    with FakeAnthropic() as fake:
        fake.reply = reply
        for name, value in setup.items():
            setattr(fake, name, value)
        live = ShapingLive(KEY, base_url=fake.url, timeout=0.6)
        with pytest.raises(ApiCallError, match=re.escape(message)) as info:
            live.run(PROMPT, "finished")
        live.close()
    assert KEY not in str(info.value)


def test_an_empty_prompt_is_not_sent():
    with FakeAnthropic() as fake:
        live = ShapingLive(KEY, base_url=fake.url)
        with pytest.raises(ApiCallError, match="type a prompt"):
            live.run("   ", "answer")
        live.close()
        assert fake.requests == []
