"""Live prompt caching through the real SDK against 127.0.0.1: breakpoints, TTL, usage parsing."""

import json
import re

import pytest

from app.anthropic_service import ApiCallError
from app.cache_live import CacheLive
from core.prefix_cache_session import bill, parse_session
from tests.fake_api import FakeAnthropic

pytestmark = pytest.mark.sdk  # loads the Anthropic SDK: run last (see conftest.py)

KEY = "sk-test-cache-live"
PREFIX = "You answer billing questions for a freight company. " * 40  # 320 words


@pytest.mark.parametrize(("ttl", "control"), [("5m", {"type": "ephemeral"}),
                                              ("1h", {"type": "ephemeral", "ttl": "1h"})])
def test_breakpoint_on_the_prefix_and_the_question_after_it(ttl, control):
    with FakeAnthropic() as fake:
        live = CacheLive(KEY, base_url=fake.url)
        records = live.run(PREFIX, ["Why is invoice 7 late?", "Can I get a credit note?"], ttl)
        live.close()
        bodies = [b for path, _h, b in fake.requests if path.endswith("/v1/messages")]
    assert len(bodies) == 2
    for body, question in zip(bodies, ["Why is invoice 7 late?", "Can I get a credit note?"], strict=True):
        first, second = body["messages"][0]["content"]
        assert first == {"type": "text", "text": PREFIX, "cache_control": control}
        assert second == {"type": "text", "text": question}  # the volatile tail: no breakpoint
    # the saved records read back as a session: call 1 writes the prefix, call 2 reads it
    session = parse_session("\n".join(json.dumps(r) for r in records), "live")
    assert [c.write for c in session.calls] == [320, 0]
    assert [c.read for c in session.calls] == [0, 320]
    d = session.calls[1].divergence  # the rendered requests part only at the question
    assert d["a_after"].startswith("Why") and d["b_after"].startswith("Can")
    assert d["common_prefix_bytes"] > len(PREFIX)
    assert bill(session).hit_ratio == pytest.approx(320 / sum(
        c.input + c.write + c.read for c in session.calls))


@pytest.mark.parametrize(("setup", "message"), [
    ({"script": [401]}, "call 1: the API key was rejected (401)"),
    ({"script": [200, 529, 529, 529]}, "call 2: the API is overloaded (529)"),
    ({"delay_s": 1.5}, "call 1: the API did not answer in time"),
])
def test_faults_name_the_call(setup, message):
    with FakeAnthropic() as fake:
        for name, value in setup.items():
            setattr(fake, name, value)
        live = CacheLive(KEY, base_url=fake.url, timeout=0.6)
        with pytest.raises(ApiCallError, match=re.escape(message)) as info:
            live.run(PREFIX, ["a?", "b?"])
        live.close()
    assert KEY not in str(info.value)


def test_bad_ttl_and_empty_prefix_are_not_sent():
    with FakeAnthropic() as fake:
        live = CacheLive(KEY, base_url=fake.url)
        with pytest.raises(ApiCallError, match="ttl: must be one of 5m, 1h"):
            live.run(PREFIX, ["a?"], ttl="2h")
        with pytest.raises(ApiCallError, match="paste the stable prefix"):
            live.run("  ", ["a?"])
        live.close()
        assert fake.requests == []
