"""Instant compaction against the real Anthropic API: the conversation plays, memory builds behind it.

The user turns of a transcript are sent one by one; Claude answers each. Once the window passes
the soft threshold, a background thread asks Claude for a session memory (our prompt below) with
``cache_control`` on the last message, so the summarizer reads the conversation from the cache
the chat just wrote; after every ``between`` more tokens it refreshes. When the next message
would reach the limit, the memory is swapped in (waiting only if none is ready yet).

Everything the run learns goes out as plain-dict events through ``on_event`` (from the run's
threads): each call's real ``usage`` and wall time, swaps, errors. A failing background call is
reported and the run goes on; a failing chat call ends the run. The key stays in the client.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from app import logs
from app.anthropic_service import DEFAULT_MODEL, ApiCallError, CallGuard, sdk_client

SESSION_MEMORY_PROMPT = """Write the session memory for this conversation so far. It replaces the \
conversation when the context fills up, so someone continuing the work must need nothing else.

Use these headings, each with short bullet points:
1. Intent - what the user is trying to achieve, in their words where it matters.
2. Done - work completed and decisions made, with the reasons given.
3. Errors and corrections - what went wrong, what the user corrected, what not to repeat.
4. In progress - what was being worked on at the last message.
5. Still to do - open tasks and questions, in the order they were raised.
6. References - names, identifiers, numbers, dates, file names and code names, copied exactly.

Keep every proper name and number exactly as written. Do not add anything that was not said."""

MEMORY_MESSAGE = ("This conversation continues an earlier session. Its session memory:\n\n{memory}\n\n"
                  "Continue from where it left off.")
Event = dict[str, Any]


def with_cache_control(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy the messages, marking the last one as a cache breakpoint."""
    out = [dict(m) for m in messages]
    if out:
        last = out[-1]
        last["content"] = [{"type": "text", "text": last["content"], "cache_control": {"type": "ephemeral"}}]
    return out


def append(messages: list[dict[str, Any]], role: str, text: str) -> None:
    """Add a message, merging it into the last one when the role repeats (roles must alternate)."""
    if messages and messages[-1]["role"] == role:
        messages[-1] = {"role": role, "content": f"{messages[-1]['content']}\n\n{text}"}
    else:
        messages.append({"role": role, "content": text})


def usage_dict(usage: Any) -> dict[str, int]:
    """The four token counts of a response (cache fields are absent on some replies)."""
    return {"input": int(usage.input_tokens), "output": int(usage.output_tokens),
            "cache_read": int(getattr(usage, "cache_read_input_tokens", 0) or 0),
            "cache_creation": int(getattr(usage, "cache_creation_input_tokens", 0) or 0)}


class LiveRun:
    """One live play of a transcript's user turns with instant compaction."""

    def __init__(self, api_key: str, on_event: Callable[[Event], None], limit: int, soft: int, between: int,
                 model: str = DEFAULT_MODEL, base_url: str | None = None, max_tokens: int = 800,
                 timeout: float = 60.0, max_retries: int = 2,
                 system: str = "You are a helpful assistant.") -> None:
        logs.hide_in_logs(api_key)
        self._client, transport = sdk_client(api_key, base_url, timeout)
        # every call has a total deadline and capped waits, and stops (its socket shut) when the
        # run is cancelled or the deadline passes; answers over the transport's cap are refused
        self._guard = CallGuard(timeout, max_retries, cool_down_s=0.0, abort=transport.abort)
        self._emit = on_event
        self.limit, self.soft, self.between = limit, soft, between
        self.model, self.max_tokens, self.system = model, max_tokens, system
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._memory: str | None = None
        self._memory_upto = 0  # messages the memory covers
        self._memory_tokens_at = 0
        self._generation = 0  # bumped by every swap: a memory built before it is stale
        self._background: threading.Thread | None = None
        self._thread: threading.Thread | None = None

    # ---- control ----------------------------------------------------------------------------
    def start(self, user_turns: Sequence[str]) -> None:
        """Play the turns on a thread of its own."""
        self._thread = threading.Thread(target=self._play, args=(list(user_turns),), daemon=True,
                                        name="ctxlab-live-chat")
        self._thread.start()

    def cancel(self) -> None:
        """Stop after the call in flight; nothing more is sent."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> None:
        """Join the run (and its background call)."""
        for thread in (self._thread, self._background):
            if thread is not None:
                thread.join(timeout)

    def close(self) -> None:
        """Cancel (calls in flight give up at once), wait briefly, close the HTTP client."""
        self.cancel()
        self._guard.close()
        self.wait(1.0)
        self._client.close()

    # ---- the conversation ---------------------------------------------------------------------
    def _play(self, user_turns: list[str]) -> None:
        messages: list[dict[str, Any]] = []
        context = 0
        for i, text in enumerate(user_turns):
            if self._cancel.is_set():
                self._emit({"kind": "cancelled", "turn": i})
                break
            if messages and context + len(text) // 4 >= self.limit:
                swapped, context = self._swap(messages, i)
                if swapped is None:
                    break
                messages = swapped
            append(messages, "user", text)
            try:
                reply, usage, seconds = self._call(with_cache_control(messages))
            except ApiCallError as exc:
                if self._cancel.is_set():
                    self._emit({"kind": "cancelled", "turn": i})
                else:
                    self._emit({"kind": "error", "where": "chat", "turn": i, "message": str(exc)})
                break
            messages.append({"role": "assistant", "content": reply})
            context = usage["input"] + usage["cache_read"] + usage["cache_creation"] + usage["output"]
            self._emit({"kind": "reply", "turn": i, "text": reply, "usage": usage, "seconds": seconds,
                        "context_tokens": context, "messages": len(messages)})
            self._maybe_refresh(messages, context)
        else:
            self._emit({"kind": "done", "turns": len(user_turns)})
        self.wait_background()

    def wait_background(self) -> None:
        """Wait for a background call still running."""
        if self._background is not None:
            self._background.join()

    def _call(self, messages: list[dict[str, Any]]) -> tuple[str, dict[str, int], float]:
        t = time.perf_counter()

        def request() -> Any:
            return self._client.messages.create(model=self.model, max_tokens=self.max_tokens,
                                                system=self.system, messages=messages)

        response = self._guard.call(request, self._cancel.is_set)
        try:
            text = "".join(b.text for b in response.content if getattr(b, "type", "") == "text")
            usage = usage_dict(response.usage)
        except (AttributeError, TypeError, ValueError):
            raise ApiCallError("the API's answer could not be read (no text or usage)") from None
        return text, usage, time.perf_counter() - t

    # ---- session memory ----------------------------------------------------------------------
    def _maybe_refresh(self, messages: list[dict[str, Any]], context: int) -> None:
        with self._lock:
            have = self._memory is not None
            since = context - self._memory_tokens_at
        due = (not have and context >= self.soft) or (have and since >= self.between)
        running = self._background is not None and self._background.is_alive()
        if due and not running and not self._cancel.is_set():
            snapshot = [dict(m) for m in messages]
            self._background = threading.Thread(target=self._build_memory, args=(snapshot, context),
                                                 daemon=True, name="ctxlab-live-memory")
            self._background.start()

    def _build_memory(self, snapshot: list[dict[str, Any]], context: int) -> None:
        with self._lock:
            previous, generation = self._memory, self._generation
        prompt = SESSION_MEMORY_PROMPT + (f"\n\nThe session memory so far, to update:\n{previous}"
                                          if previous else "")
        # the conversation goes first, marked for the cache the chat call just wrote
        request = with_cache_control(snapshot)
        if request[-1]["role"] == "user":  # keep roles alternating
            request[-1]["content"].append({"type": "text", "text": prompt})
        else:
            request.append({"role": "user", "content": prompt})
        try:
            memory, usage, seconds = self._call(request)
        except ApiCallError as exc:
            if self._cancel.is_set():
                return  # the run was stopped: nothing to report
            self._emit({"kind": "error", "where": "memory", "message": str(exc),
                        "messages": len(snapshot)})
            return
        with self._lock:
            if generation != self._generation:
                # built from the conversation before a swap: its message count means nothing
                # in the swapped list (it would drop turns it never summarized); discard it
                stale = True
            else:
                stale = False
                self._memory, self._memory_upto = memory, len(snapshot)
                self._memory_tokens_at = context
        if stale:
            self._emit({"kind": "discarded", "messages": len(snapshot),
                        "message": "a session memory finished after a swap and was discarded"})
            return
        self._emit({"kind": "memory", "text": memory, "usage": usage, "seconds": seconds,
                    "messages": len(snapshot), "updated": previous is not None})

    def _swap(self, messages: list[dict[str, Any]], turn: int) -> tuple[list[dict[str, Any]] | None, int]:
        """Replace the summarized messages with the memory; build one now if none is ready.

        Each memory is used by one swap only, and only one built from the current list.
        """
        t = time.perf_counter()
        with self._lock:
            ready = self._memory is not None
        if not ready and self._background is not None:
            self._background.join()  # the first memory is on its way: the user waits for it
        with self._lock:
            memory, upto = self._memory, self._memory_upto
        if memory is None:  # no memory at all: summarize now, as traditional compaction does
            self._build_memory([dict(m) for m in messages], 0)
            with self._lock:
                memory, upto = self._memory, self._memory_upto
            if memory is None:
                self._emit({"kind": "error", "where": "swap", "turn": turn,
                            "message": "no session memory could be built; the run stops here"})
                return None, 0
        swapped: list[dict[str, Any]] = []
        append(swapped, "user", MEMORY_MESSAGE.format(memory=memory))
        for m in messages[upto:]:
            append(swapped, m["role"], m["content"])
        with self._lock:
            # the memory is used up: it now opens the conversation (merged with the next user
            # turn, which it does not cover), so the next swap needs a memory of this new list;
            # one still being built from the old list is stale (see _build_memory)
            self._memory, self._memory_upto, self._memory_tokens_at = None, 0, 0
            self._generation += 1
        wait = time.perf_counter() - t
        self._emit({"kind": "swap", "turn": turn, "wait_s": wait, "messages_before": len(messages),
                    "messages_after": len(swapped)})
        return swapped, sum(len(m["content"]) for m in swapped) // 4
