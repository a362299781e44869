"""Issue 28: a call given up on really ends (its thread and socket), and an answer that inflates
past a sane size is refused with the cap named; real SDK, real HTTP server on 127.0.0.1."""

import os
import threading
import time

import pytest

from app.anthropic_service import ExactCounter
from app.cache_live import CacheLive
from app.shaping_live import ShapingLive
from core.tokens import CounterError
from tests.fake_api import FakeAnthropic, gzip_bomb

pytestmark = pytest.mark.sdk  # loads the Anthropic SDK: run last (see conftest.py)

KEY = "sk-test-abandon"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class PeakRss:
    """The most this process's resident memory rose while the block ran (sampled every 10 ms)."""

    def __enter__(self):
        self.base, self.peak, self._stop = rss(), 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss() - self.base)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


_EARLIER: set[threading.Thread] = set()
"""API threads alive when the running test started: an earlier test's, not this one's."""


@pytest.fixture(autouse=True)
def _earlier_api_threads():
    """Each test judges its own calls' threads: in a shuffled order a thread left by another
    module's test (one a closed window's hanging count kept reading for its 20 s deadline) made
    these fail."""
    _EARLIER.clear()
    _EARLIER.update(t for t in threading.enumerate() if t.name == "api-call")
    yield
    _EARLIER.clear()


def api_threads_gone(within_s: float = 1.0) -> bool:
    """Whether every API thread this test started has ended (waiting up to ``within_s``)."""
    end = time.monotonic() + within_s
    mine = [t for t in threading.enumerate() if t.name == "api-call" and t not in _EARLIER]
    for thread in mine:
        thread.join(max(0.0, end - time.monotonic()))
    return not any(t.is_alive() for t in mine)


@pytest.fixture
def fake():
    with FakeAnthropic() as server:
        yield server


def test_a_gzip_bomb_is_refused_with_the_cap_named_and_memory_stays_bounded(fake):
    fake.raw_body, fake.raw_headers = gzip_bomb(1024), {"content-encoding": "gzip"}  # 1 GiB
    counter = ExactCounter(KEY, base_url=fake.url, timeout=3.0, max_retries=0)
    start = time.monotonic()
    with PeakRss() as memory:
        with pytest.raises(CounterError, match=r"larger than 16 MiB once decoded; refused"):
            counter.count("some words")
        took = time.monotonic() - start
        assert api_threads_gone()
        time.sleep(0.5)  # nothing keeps inflating after the call ended
    assert took < 3.0 + 0.5
    assert memory.peak < 200 * 2**20, f"RSS rose {memory.peak / 2**20:.0f} MiB"
    counter.close()


def test_a_gzip_bomb_ends_a_live_run_call_too(fake):
    fake.raw_body, fake.raw_headers = gzip_bomb(256), {"content-encoding": "gzip"}
    live = CacheLive(KEY, base_url=fake.url, timeout=3.0)
    with pytest.raises(Exception, match=r"larger than 16 MiB"):
        live.create({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})
    assert api_threads_gone()
    live.close()


def test_an_ordinary_gzip_answer_still_reads(fake):
    import gzip
    import json

    fake.raw_body = gzip.compress(json.dumps({"input_tokens": 42}).encode())
    fake.raw_headers = {"content-encoding": "gzip"}
    counter = ExactCounter(KEY, base_url=fake.url, timeout=3.0)
    assert counter.count("some words") == 42
    counter.close()


def test_a_drip_abandoned_at_its_deadline_leaves_no_thread_reading(fake):
    fake.drip_s = 0.2
    counter = ExactCounter(KEY, base_url=fake.url, timeout=1.0, max_retries=0)
    start = time.monotonic()
    with pytest.raises(CounterError, match="did not answer in time"):
        counter.count("some words")
    assert time.monotonic() - start < 1.0 + 0.5
    assert api_threads_gone(), "the abandoned call's thread is still reading the drip"
    counter.close()


def test_a_drip_cancelled_or_closed_mid_call_ends_its_thread(fake):
    fake.drip_s = 0.2
    stop = threading.Event()
    for close in (stop.set, None):  # the job is cancelled; then a live run is closed
        live = ShapingLive(KEY, base_url=fake.url, timeout=60.0)
        threading.Timer(0.3, close or live.close).start()
        with pytest.raises(Exception, match="cancelled"):
            live.create({"model": "m", "max_tokens": 5,
                         "messages": [{"role": "user", "content": "x"}]}, stop.is_set)
        assert api_threads_gone(), "the cancelled call's thread is still reading the drip"
        live.close()
