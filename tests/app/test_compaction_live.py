"""Instant compaction live, through the real anthropic SDK against a local server on 127.0.0.1."""

import threading

import pytest

from app.compaction_live import SESSION_MEMORY_PROMPT, LiveRun
from tests.fake_api import FakeAnthropic, gzip_bomb

pytestmark = pytest.mark.sdk  # loads the Anthropic SDK: run last (see conftest.py)

USER_TURNS = [f"Message {i}: the courier Ostrava must deliver crate {i} before noon." for i in range(12)]


def is_memory_call(body):
    last = body["messages"][-1]["content"]
    texts = [last] if isinstance(last, str) else [b.get("text", "") for b in last]
    return any(SESSION_MEMORY_PROMPT[:40] in t for t in texts)


def answer(body):
    if is_memory_call(body):
        return "Intent: deliveries. References: courier Ostrava."
    return "Noted, crate logged for the courier. " * 3


def play(fake, events, **kwargs):
    done = threading.Event()

    def on_event(event):
        events.append(event)
        fatal = event["kind"] == "error" and event["where"] != "memory"
        if event["kind"] in ("done", "cancelled") or fatal:
            done.set()

    run = LiveRun("sk-test-not-a-real-key", on_event, base_url=fake.url, max_retries=0, timeout=5, **kwargs)
    run.start(USER_TURNS)
    assert done.wait(20)
    run.wait(10)
    run.close()
    return run


def test_memory_builds_in_the_background_with_the_cache_and_swaps_in(tmp_path):
    with FakeAnthropic() as fake:
        fake.reply = answer
        events = []
        play(fake, events, limit=160, soft=60, between=40)
    kinds = [e["kind"] for e in events]
    # the run ends with "done"; a memory still building then may finish after it, and one built
    # before a swap is discarded (under load that can come last)
    assert kinds.count("reply") == len(USER_TURNS) and "done" in kinds
    assert set(kinds[kinds.index("done") + 1:]) <= {"memory", "discarded"}
    memories = [e for e in events if e["kind"] == "memory"]
    swaps = [e for e in events if e["kind"] == "swap"]
    assert memories and swaps
    assert memories[0]["usage"]["cache_read"] > 0  # the summarizer read the chat's cached prefix
    assert all(s["messages_after"] < s["messages_before"] for s in swaps)
    # chat calls carry the breakpoint on their last message; the summarizer marks the same place
    # (the conversation's end) and asks after it; the key went as a header only
    bodies = [b for path, _, b in fake.requests if path.endswith("/v1/messages")]
    chats = [b for b in bodies if not is_memory_call(b)]
    assert all("cache_control" in str(b["messages"][-1]) for b in chats)
    assert all("cache_control" in str(b["messages"][-2]) for b in bodies if is_memory_call(b))
    assert all("sk-test-not-a-real-key" not in str(b) for b in bodies)
    swapped = [b for b in bodies if "session memory" in str(b["messages"][0]["content"])]
    assert swapped and "courier Ostrava" in str(swapped[0]["messages"][0]["content"])


def test_a_529_on_the_background_summarizer_keeps_the_conversation_going():
    with FakeAnthropic() as fake:
        fake.reply = answer
        fake.status_for = lambda body: 529 if is_memory_call(body) else 200
        events = []
        play(fake, events, limit=10_000, soft=60, between=40)
    errors = [e for e in events if e["kind"] == "error"]
    assert errors and all(e["where"] == "memory" for e in errors)
    assert "overloaded (529)" in errors[0]["message"]
    assert [e["kind"] for e in events].count("reply") == len(USER_TURNS)  # nothing lost


def test_a_401_stops_the_run_with_a_clear_message():
    with FakeAnthropic() as fake:
        fake.script = [401]
        events = []
        play(fake, events, limit=1000, soft=500, between=100)
    assert events == [{"kind": "error", "where": "chat", "turn": 0,
                       "message": "the API key was rejected (401); check ANTHROPIC_API_KEY"}]


def test_a_gzip_bomb_answer_stops_the_run_with_the_cap_named():
    """The live compaction client goes through the guarded transport like every other client."""
    with FakeAnthropic() as fake:
        fake.raw_body, fake.raw_headers = gzip_bomb(256), {"content-encoding": "gzip"}  # 256 MiB
        events = []
        play(fake, events, limit=1000, soft=500, between=100)
    assert events[-1]["kind"] == "error" and events[-1]["where"] == "chat"
    assert "larger than 16 MiB once decoded; refused" in events[-1]["message"]
