"""Every API fault, through the real SDK against 127.0.0.1: a clear message, a bounded retry, nothing lost."""

import threading
import time

import pytest

from app.anthropic_service import ExactCounter
from app.compaction_live import LiveRun
from core.tokens import CounterError
from tests.fake_api import FakeAnthropic

pytestmark = pytest.mark.sdk  # loads the Anthropic SDK: run last (see conftest.py)

KEY = "sk-test-fault-matrix"
FAULTS = [
    ("401", {"script": [401] * 5}, "the API key was rejected (401)"),
    ("403", {"script": [403] * 5}, "(403)"),
    ("500", {"script": [500] * 5}, "the API answered with an error (500)"),
    ("529", {"script": [529] * 5}, "the API is overloaded (529)"),
    ("slow", {"delay_s": 1.5}, "the API did not answer in time"),
    ("malformed", {"malformed": True}, "could not be read (malformed JSON)"),
    ("nested", {"raw_body": b"[" * 100_000 + b"]" * 100_000},
     "could not be read (JSON nested too deeply)"),
]


def configure(fake, setup):
    for name, value in setup.items():
        setattr(fake, name, value)


@pytest.mark.parametrize(("name", "setup", "message"), FAULTS, ids=[f[0] for f in FAULTS])
def test_exact_counter_faults(name, setup, message):
    with FakeAnthropic() as fake:
        configure(fake, setup)
        counter = ExactCounter(KEY, base_url=fake.url, max_retries=0, timeout=0.5)
        with pytest.raises(CounterError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
            counter.count("a few words")
        assert KEY not in str(info.value)
        counter.close()


@pytest.mark.parametrize(("name", "setup", "message"), FAULTS, ids=[f[0] for f in FAULTS])
def test_live_run_faults_end_the_run_with_the_message(name, setup, message):
    events, done = [], threading.Event()

    def on_event(event):
        events.append(event)
        if event["kind"] in ("done", "error"):
            done.set()

    with FakeAnthropic() as fake:
        configure(fake, setup)
        run = LiveRun(KEY, on_event, limit=1000, soft=500, between=100, base_url=fake.url,
                      max_retries=0, timeout=0.5)
        start = time.perf_counter()
        run.start(["first question", "second question"])
        assert done.wait(10)
        run.close()
    assert events[-1]["kind"] == "error" and message in events[-1]["message"], events
    assert KEY not in str(events) and time.perf_counter() - start < 10


def test_a_429_with_retry_after_is_retried_and_then_succeeds():
    with FakeAnthropic() as fake:
        fake.script = [429]  # the fake sends retry-after-ms: 5
        counter = ExactCounter(KEY, base_url=fake.url, max_retries=2)
        assert counter.count("three little words") > 0
        assert fake.count_requests() == 2  # one refusal, one retry: bounded by max_retries
        counter.close()


def test_connection_refused_ends_a_live_run_cleanly():
    events, done = [], threading.Event()

    def on_event(event):
        events.append(event)
        done.set()

    run = LiveRun(KEY, on_event, limit=1000, soft=500, between=100, base_url="http://127.0.0.1:9",
                  max_retries=0, timeout=2)
    run.start(["hello"])
    assert done.wait(10)
    run.close()
    assert events == [{"kind": "error", "where": "chat", "turn": 0,
                       "message": "cannot reach the API (offline?)"}]
