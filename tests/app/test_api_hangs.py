"""Issue 28, hangs: every API call has a total deadline, waits are capped, counts cancel, a
failed endpoint is remembered, closing returns fast; live compaction never applies a stale memory."""

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.anthropic_service import ExactCounter
from app.compaction_live import SESSION_MEMORY_PROMPT, LiveRun
from core.tokens import CounterError, cancellable
from tests.cli_run import child_env
from tests.fake_api import FakeAnthropic

pytestmark = pytest.mark.sdk  # loads the Anthropic SDK: run last (see conftest.py)

KEY = "sk-test-hangs"


class Hostile:
    """A server on 127.0.0.1 that drips a byte every 0.2 s forever, or answers 429 with a
    retry-after of an hour, or a 200 whose body has the wrong shape."""

    def __init__(self, mode):
        self.mode, self.hits = mode, 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers["content-length"]))
                owner.hits += 1
                if owner.mode == "retry-after":
                    body = b'{"type":"error","error":{"type":"rate_limit_error","message":"x"}}'
                    self.send_response(429)
                    self.send_header("retry-after", "3600")
                elif owner.mode == "shape":
                    body = b'{"input_tokens": "many"}'
                    self.send_response(200)
                else:
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", "100000")
                    self.end_headers()
                    try:
                        while owner.running:
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.2)
                    except OSError:
                        pass
                    return
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.running = True
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},  # fast close
                         daemon=True).start()

    def close(self):
        self.running = False
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile(request):
    server = Hostile(request.param)
    yield server
    server.close()


@pytest.mark.parametrize("hostile", ["drip"], indirect=True)
def test_a_dripping_server_cannot_outlast_the_deadline_and_is_remembered(hostile):
    counter = ExactCounter(KEY, base_url=hostile.url, timeout=1.0)
    start = time.monotonic()
    with pytest.raises(CounterError, match="did not answer in time"):
        counter.count("some words")
    assert time.monotonic() - start < 2.5
    start = time.monotonic()
    with pytest.raises(CounterError, match="not asked again"):
        counter.count("other words")  # the next tick does not wait again
    assert time.monotonic() - start < 0.2 and hostile.hits == 1
    counter.close()


@pytest.mark.parametrize("hostile", ["retry-after"], indirect=True)
def test_an_hour_of_retry_after_is_not_waited_for_and_is_said(hostile):
    counter = ExactCounter(KEY, base_url=hostile.url, timeout=30.0)
    start = time.monotonic()
    with pytest.raises(CounterError, match=r"rate limited .* asks to wait 3,600 s, more than the 10 s"):
        counter.count("some words")
    assert time.monotonic() - start < 2 and hostile.hits == 1
    counter.close()


@pytest.mark.parametrize("hostile", ["shape"], indirect=True)
def test_a_wrong_shaped_answer_is_a_clear_counter_error(hostile):
    counter = ExactCounter(KEY, base_url=hostile.url, timeout=5.0)
    with pytest.raises(CounterError, match="no usable token count"):
        counter.count("some words")
    counter.close()


@pytest.mark.parametrize("hostile", ["drip"], indirect=True)
def test_a_count_in_flight_stops_when_its_job_is_cancelled_or_the_counter_closed(hostile):
    counter = ExactCounter(KEY, base_url=hostile.url, timeout=60.0)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    start = time.monotonic()
    with cancellable(stop.is_set), pytest.raises(CounterError, match="cancelled"):
        counter.count("some words")
    assert time.monotonic() - start < 1.0
    other = ExactCounter(KEY, base_url=hostile.url, timeout=60.0)
    threading.Timer(0.3, other.close).start()
    start = time.monotonic()
    with pytest.raises(CounterError, match="cancelled"):
        other.count("more words")
    assert time.monotonic() - start < 1.0
    counter.close()


@pytest.mark.slow
@pytest.mark.parametrize("hostile", ["drip"], indirect=True)
def test_cli_compute_with_exact_counts_ends_with_one_line(hostile, tmp_path):
    import json
    import subprocess
    import sys

    scenario = tmp_path / "exact.json"
    scenario.write_text(json.dumps({"lever": "packer", "params": {
        "parts": [{"name": "a", "text": "hello there"}], "budget": 100, "estimator": "exact"}}))
    env = child_env(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=hostile.url)
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "app.main", "compute", str(scenario)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "did not answer in time" in out.stderr and KEY not in out.stderr
    assert time.monotonic() - start < 45  # the 20 s deadline once, then the endpoint is remembered


def test_closing_the_window_returns_fast_while_a_count_hangs(qtbot):
    from app.window import MainWindow

    server = Hostile("drip")
    try:
        window = MainWindow(api_key=KEY, base_url=server.url)
        qtbot.addWidget(window)
        panel = window.show_panel("packer")
        qtbot.waitUntil(panel.is_idle)
        panel.change(estimator="exact")
        qtbot.waitUntil(lambda: server.hits > 0, timeout=5000)
        start = time.monotonic()
        window.close()
        assert time.monotonic() - start < 2.0
    finally:
        server.close()


# ---- live compaction: a memory built before a swap is never applied after it ----------------
TURNS = [f"Message {i}: crate {i} for the courier." for i in range(16)]


def mentioned(body):
    text = str(body["messages"])
    seen = {int(n) for n in re.findall(r"Message (\d+):", text)}
    for covered in re.findall(r"covered: ([\d,]*)", text):
        seen |= {int(n) for n in covered.split(",") if n}
    return seen


def test_live_compaction_never_loses_a_turn_to_a_stale_memory():
    calls = {"memory": 0}

    def answer(body):
        last = body["messages"][-1]["content"]
        texts = [last] if isinstance(last, str) else [b.get("text", "") for b in last]
        if any(SESSION_MEMORY_PROMPT[:40] in t for t in texts):
            calls["memory"] += 1
            if calls["memory"] > 1:
                time.sleep(0.6)  # refreshes are slow: they finish after the next swap
            return "covered: " + ",".join(map(str, sorted(mentioned(body))))
        return "ok"

    events, done = [], threading.Event()

    def on_event(event):
        events.append(event)
        if event["kind"] in ("done", "cancelled") or (event["kind"] == "error"
                                                      and event["where"] != "memory"):
            done.set()

    with FakeAnthropic() as fake:
        fake.reply = answer
        run = LiveRun(KEY, on_event, limit=70, soft=20, between=10, base_url=fake.url,
                      max_retries=0, timeout=5)
        run.start(TURNS)
        assert done.wait(30)
        run.close()
        chats = [b for path, _, b in fake.requests
                 if path.endswith("/v1/messages") and "covered:" not in str(b["messages"][-1])
                 and SESSION_MEMORY_PROMPT[:40] not in str(b["messages"][-1])]
    swaps = [e for e in events if e["kind"] == "swap"]
    assert len(swaps) >= 2, events
    for body in chats:  # every turn so far is in what is sent, verbatim or in the memory
        latest = max(int(n) for n in re.findall(r"Message (\d+):", str(body["messages"][-1])))
        assert mentioned(body) >= set(range(latest + 1)), (latest, sorted(mentioned(body)))
    assert all(s["messages_after"] < s["messages_before"] for s in swaps)


def test_changing_a_control_cancels_a_hanging_exact_count(make_panel, qtbot):
    from widgets.packer_panel import PackerPanel

    server = Hostile("drip")
    counter = ExactCounter(KEY, base_url=server.url, timeout=60.0)
    try:
        panel = make_panel(PackerPanel)
        panel.load_sample()
        qtbot.waitUntil(panel.is_idle)
        panel.set_exact_counter(counter)
        panel.change(estimator="exact")
        qtbot.waitUntil(lambda: server.hits > 0, timeout=5000)
        start = time.monotonic()
        panel.change(estimator="words")  # the user gives up on exact counts
        qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.estimator == "words",
                        timeout=5000)
        assert time.monotonic() - start < 2.0
    finally:
        counter.close()
        server.close()
