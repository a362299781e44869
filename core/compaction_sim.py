"""The cookbook's two ways to compact, simulated turn by turn with a clock and a bill.

**Traditional**: when a user message arrives and the window is at the limit, summarize the
whole conversation first; the user waits for that call. **Instant**: once the window passes a
soft threshold, build session memory in the background (and refresh it after every
``between`` new tokens); at the limit swap it in, and the user waits only if the background
call has not finished yet.

The model: an assistant reply takes ``overhead + input / input_tps + output / output_tps``
seconds, a summary call the same with the memory as output, and the user pauses
``user_pause_s`` before each message. The main chat caches its prompt (the cookbook puts
``cache_control`` on the last message): what the previous call already sent is read at 0.1x
the input price and the rest written at 1.25x. A summarizer call with caching reads the
conversation from that cache and pays full price for its prompt and the old memory; without
caching, the traditional call pays for the whole conversation and the instant update sends
only the messages since the last update.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from core.model_profile import CACHE_READ
from core.model_profile import CACHE_WRITE_5M as CACHE_WRITE

PROMPT_TOKENS = 250
"""Tokens of the session-memory instructions sent with every summarizer call."""


@dataclass(frozen=True, slots=True)
class Clock:
    """Seconds for a call, and dollars per million tokens."""

    overhead_s: float
    input_tps: float
    output_tps: float
    input_price: float
    output_price: float

    def seconds(self, tokens_in: int, tokens_out: int) -> float:
        """Wall time of one call."""
        return self.overhead_s + tokens_in / self.input_tps + tokens_out / self.output_tps

    def dollars(self, fresh: float, cached: float, written: float, out: float) -> float:
        """Cost of one call: fresh input, cache reads, cache writes, output (tokens)."""
        return (self.input_price * (fresh + CACHE_READ * cached + CACHE_WRITE * written)
                + self.output_price * out) / 1e6


@dataclass(slots=True)
class Trace:
    """Per-turn outcome of one simulated strategy."""

    name: str
    n: int
    in_window: NDArray[np.int64] = field(init=False)
    wait_s: NDArray[np.float64] = field(init=False)
    """Seconds the user waited for compaction before this turn's reply could start."""
    cost: NDArray[np.float64] = field(init=False)
    """Cumulative dollars after each turn (chat and summarizer calls)."""
    compacted_at: list[int] = field(default_factory=list)
    summarizer_calls: int = 0
    summarizer_cost: float = 0.0
    alt_cost: NDArray[np.float64] | None = None
    """Traditional only: the cumulative cost had the summarizer's caching been the other way
    (the compactions and waits are the same either way: the whole window is sent)."""
    alt_summarizer_cost: float = 0.0
    memory_upto: int = -1
    """Last turn the final session memory covers (-1: none)."""
    first_kept: int = 0
    """Oldest turn still in the window as a message at the end."""

    def __post_init__(self) -> None:
        self.in_window = np.zeros(self.n, np.int64)
        self.wait_s = np.zeros(self.n)
        self.cost = np.zeros(self.n)


def simulate(kind: str, tokens: NDArray[np.int64], is_user: NDArray[np.bool_], memory: NDArray[np.int64],
             limit: int, soft: int, between: int, clock: Clock, caching: bool, pause_s: float) -> Trace:
    """Replay the turns under ``traditional`` or ``instant`` compaction.

    ``memory[j]`` is the size in tokens of a session memory covering turns 0..j. New tokens
    toward the next background update are counted from the latest update or swap, so the
    memory keeps up after the first compaction too.
    """
    tr = Trace(kind, tokens.size)
    s = _State(tokens.tolist(), np.concatenate([[0], np.cumsum(tokens)]).tolist(), memory.tolist(), clock,
               caching)
    user = is_user.tolist()
    instant = kind == "instant"
    # the assistant turn is the hot path (a budget drag replays 4 x 2,000 turns): inlined, with
    # the clock's rates as locals
    price_in, price_out = clock.input_price / 1e6, clock.output_price / 1e6
    per_in, per_out = 1.0 / clock.input_tps, 1.0 / clock.output_tps
    window: list[int] = []
    spent: list[float] = []
    alt: list[float] = []
    for t, size in enumerate(s.tokens):
        if not user[t]:
            prompt = s.head + s.window
            reused = prompt if s.prev_prompt > prompt else s.prev_prompt
            s.spent += price_in * (CACHE_READ * reused + CACHE_WRITE * (prompt - reused)) + price_out * size
            s.now += clock.overhead_s + prompt * per_in + size * per_out
            s.window += size
            s.prev_prompt = prompt
            due = soft if s.mem_upto < 0 else s.mem_mark + between
            if instant and s.run_upto < 0 and s.head + s.window >= due:
                s.maybe_refresh(t, soft, between, tr)
        else:
            s.now += pause_s if t else 0.0
            s.collect()
            context = s.head + s.window
            due = context >= limit if not instant else context + size >= limit
            if due and t > s.first:
                wait, cost = s.compact_instant(t, limit - size) if instant else s.compact_now(t)
                tr.wait_s[t] = wait
                tr.summarizer_cost += cost
                tr.summarizer_calls += cost > 0
                tr.compacted_at.append(t)
            s.window += size
        window.append(s.head + s.window)
        spent.append(s.spent)
        alt.append(s.spent + s.alt_delta)
    tr.in_window, tr.cost = np.array(window, np.int64), np.array(spent)
    if not instant:
        tr.alt_cost, tr.alt_summarizer_cost = np.array(alt), tr.summarizer_cost + s.alt_delta
    tr.memory_upto = s.mem_upto if instant else s.first - 1
    tr.first_kept = s.first
    return tr


@dataclass(slots=True)
class _State:
    """The window, the clock and the background call of one simulation."""

    tokens: list[int]
    prefix: list[int]
    memory: list[int]
    clock: Clock
    caching: bool
    head: int = 0
    """Tokens of the memory message at the start of the window (0 before any compaction)."""
    first: int = 0
    """First turn still in the window as itself."""
    window: int = 0
    now: float = 0.0
    spent: float = 0.0
    prev_prompt: int = 0
    mem_upto: int = -1
    """Last turn the finished session memory covers."""
    mem_mark: int = 0
    """Window tokens when the memory was last updated or swapped in."""
    run_upto: int = -1
    run_ready: float = 0.0
    alt_delta: float = 0.0
    """Summarizer dollars with the other caching choice, minus those with this one."""

    def span(self, a: int, b: int) -> int:
        """Tokens of turns a..b-1."""
        return self.prefix[max(b, a)] - self.prefix[a]

    def collect(self) -> None:
        """Take the background result if its call has finished by now."""
        if self.run_upto >= 0 and self.run_ready <= self.now:
            self.mem_upto, self.run_upto = self.run_upto, -1

    def swap(self, upto: int, t: int) -> None:
        """Replace turns ..upto with the memory covering them."""
        self.head = self.memory[upto]
        self.window = self.span(upto + 1, t)
        self.first, self.prev_prompt = upto + 1, 0
        self.mem_mark = self.head + self.window

    def compact_now(self, t: int) -> tuple[float, float]:
        """Summarize everything before turn ``t`` while the user waits."""
        context = self.head + self.window
        memory = self.memory[t - 1]
        cost, secs = _summarizer_call(context, context, 0, memory, self.clock, self.caching, True)
        other, _ = _summarizer_call(context, context, 0, memory, self.clock, not self.caching, True)
        self.alt_delta += other - cost
        self.spent += cost
        self.now += secs
        self.swap(t - 1, t)
        return secs, cost

    def compact_instant(self, t: int, room: int) -> tuple[float, float]:
        """Swap in the freshest memory that fits; wait for one in flight, or make one now."""
        for _ in range(2):
            if self.mem_upto >= 0 and self.memory[self.mem_upto] + self.span(self.mem_upto + 1, t) < room:
                self.swap(self.mem_upto, t)
                return 0.0, 0.0
            if self.run_upto > self.mem_upto:  # a fresher memory is on its way: wait for it
                wait = max(0.0, self.run_ready - self.now)
                self.now += wait
                self.collect()
                if self.memory[self.mem_upto] + self.span(self.mem_upto + 1, t) < room:
                    self.swap(self.mem_upto, t)
                    return wait, 0.0
            break
        wait, cost = self.compact_now(t)  # no usable memory: the traditional path
        self.mem_upto = t - 1
        return wait, cost

    def maybe_refresh(self, t: int, soft: int, between: int, tr: Trace) -> None:
        """Start the first background memory past the soft threshold, then every ``between``."""
        context = self.head + self.window
        first_time = self.mem_upto < 0 and context >= soft
        if not (first_time or (self.mem_upto >= 0 and context - self.mem_mark >= between)):
            return
        new = self.span(max(self.mem_upto + 1, self.first), t + 1)
        old = self.memory[self.mem_upto] if self.mem_upto >= 0 else 0
        cost, secs = _summarizer_call(context, new, old, self.memory[t], self.clock, self.caching, first_time)
        self.spent += cost
        tr.summarizer_cost += cost
        tr.summarizer_calls += 1
        self.run_upto, self.run_ready, self.mem_mark = t, self.now + secs, context


def _summarizer_call(context: int, new: int, old_memory: int, out: int, clock: Clock, caching: bool,
                     full: bool) -> tuple[float, float]:
    """Dollars and seconds of one summarizer call over a window of ``context`` tokens."""
    extra = PROMPT_TOKENS + old_memory
    if caching:  # the conversation is read from the chat's cache; the instructions are new
        cost = clock.dollars(extra, context, 0, out)
    else:
        cost = clock.dollars((context if full else new) + extra, 0, 0, out)
    sent = context + extra if caching or full else new + extra
    return cost, clock.seconds(sent, out)
