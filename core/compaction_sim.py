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

    A budget drag replays 3 x 2,000 turns per tick, so the whole state lives in local
    variables (attribute lookups cost more than the arithmetic) and the rare events --
    a compaction, a background update -- are written out where they happen.
    """
    tr = Trace(kind, tokens.size)
    sizes, mem, user = tokens.tolist(), memory.tolist(), is_user.tolist()
    prefix = np.concatenate([[0], np.cumsum(tokens)]).tolist()
    instant = kind == "instant"
    price_in, price_out = clock.input_price / 1e6, clock.output_price / 1e6
    per_in, per_out, overhead = 1.0 / clock.input_tps, 1.0 / clock.output_tps, clock.overhead_s
    head = first = window = prev_prompt = 0  # head: tokens of the memory message (0 before any)
    now = spent = alt_delta = summarizer_cost = 0.0
    mem_upto, mem_mark = -1, 0  # the finished memory covers turns ..mem_upto; window size then
    run_upto, run_ready = -1, 0.0  # the background call in flight (-1: none), and when it is done
    calls = 0
    waits = tr.wait_s
    compacted_at = tr.compacted_at
    in_window: list[int] = []
    spent_at: list[float] = []
    alt: list[float] = []
    for t, size in enumerate(sizes):
        if not user[t]:
            prompt = head + window
            reused = prompt if prev_prompt > prompt else prev_prompt
            spent += price_in * (CACHE_READ * reused + CACHE_WRITE * (prompt - reused)) + price_out * size
            now += overhead + prompt * per_in + size * per_out
            window += size
            prev_prompt = prompt
            if instant and run_upto < 0:
                context = head + window
                first_time = mem_upto < 0
                if context >= (soft if first_time else mem_mark + between):
                    # a background memory: the first past the soft threshold, then every ``between``
                    a = mem_upto + 1 if mem_upto + 1 > first else first
                    new = prefix[max(t + 1, a)] - prefix[a]
                    old = mem[mem_upto] if mem_upto >= 0 else 0
                    cost, secs = _summarizer_call(context, new, old, mem[t], clock, caching, first_time)
                    spent += cost
                    summarizer_cost += cost
                    calls += 1
                    run_upto, run_ready, mem_mark = t, now + secs, context
        else:
            now += pause_s if t else 0.0
            if run_upto >= 0 and run_ready <= now:  # the background memory has arrived
                mem_upto, run_upto = run_upto, -1
            context = head + window
            if (context + size >= limit if instant else context >= limit) and t > first:
                swap, upto, wait, cost = False, 0, 0.0, 0.0  # swap in the memory of turns ..upto
                if instant:  # the freshest memory that fits; wait for one in flight
                    room = limit - size
                    if mem_upto >= 0 and mem[mem_upto] + prefix[max(t, mem_upto + 1)] - prefix[mem_upto + 1] \
                            < room:
                        swap, upto = True, mem_upto
                    elif run_upto > mem_upto:
                        wait = max(0.0, run_ready - now)
                        now += wait
                        if run_upto >= 0 and run_ready <= now:
                            mem_upto, run_upto = run_upto, -1
                        if mem[mem_upto] + prefix[max(t, mem_upto + 1)] - prefix[mem_upto + 1] < room:
                            swap, upto = True, mem_upto
                if not swap:  # no usable memory: summarize the whole window while the user waits
                    # _summarizer_call(context, context, 0, mem[t - 1], clock, caching, True) and its
                    # other caching, written out (the same operations): hundreds per replay
                    bill = clock.output_price * mem[t - 1]
                    read = (clock.input_price * (PROMPT_TOKENS + CACHE_READ * context + CACHE_WRITE * 0)
                            + bill) / 1e6
                    sent = (clock.input_price * ((context + PROMPT_TOKENS) + CACHE_READ * 0 + CACHE_WRITE * 0)
                            + bill) / 1e6
                    cost, other = (read, sent) if caching else (sent, read)
                    wait = overhead + (context + PROMPT_TOKENS) / clock.input_tps \
                        + mem[t - 1] / clock.output_tps
                    alt_delta += other - cost
                    spent += cost
                    now += wait
                    upto = t - 1
                    if instant:
                        mem_upto = upto
                head = mem[upto]  # swap: turns ..upto leave, their memory comes in
                window = prefix[max(t, upto + 1)] - prefix[upto + 1]
                first, prev_prompt = upto + 1, 0
                mem_mark = head + window
                waits[t] = wait
                summarizer_cost += cost
                calls += cost > 0
                compacted_at.append(t)
            window += size
        in_window.append(head + window)
        spent_at.append(spent)
        if not instant:
            alt.append(spent + alt_delta)
    tr.in_window, tr.cost = np.array(in_window, np.int64), np.array(spent_at)
    tr.summarizer_cost, tr.summarizer_calls = summarizer_cost, calls
    if not instant:
        tr.alt_cost, tr.alt_summarizer_cost = np.array(alt), summarizer_cost + alt_delta
    tr.memory_upto = mem_upto if instant else first - 1
    tr.first_kept = first
    return tr


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
