"""Live semantic cache: every question that MISSED is sent to the model through the real SDK.

Hits never call. Each miss is one ``messages.create`` (the question as the user message); its
``usage.output_tokens`` and its wall time are recorded, and their means replace the cost model's
assumed output tokens and model-call time (500 tokens and 1,500 ms in the book). At most
:data:`MAX_CALLS` misses are sent per run, in arrival order; the panel says how many.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.anthropic_service import ApiCallError, LiveClient

MAX_CALLS = 20
"""Misses sent per live run (each is a billed call)."""
MAX_TOKENS = 1024


@dataclass(frozen=True, slots=True)
class MissCall:
    """One missed question sent live: what it was billed and how long it took."""

    question: str
    output_tokens: int
    wall_ms: float


@dataclass(frozen=True, slots=True)
class Measured:
    """A live run: every miss sent, and the means that replace the cost model's assumptions."""

    calls: tuple[MissCall, ...]
    left_out: int
    """Misses not sent (over :data:`MAX_CALLS`)."""

    @property
    def mean_tokens(self) -> int:
        """Mean output tokens a call, in whole tokens."""
        return round(sum(c.output_tokens for c in self.calls) / len(self.calls))

    @property
    def mean_ms(self) -> float:
        """Mean wall time a call, in ms (to 0.1 ms)."""
        return round(sum(c.wall_ms for c in self.calls) / len(self.calls), 1)


class SemanticLive(LiveClient):
    """Send the missed questions; raise :class:`ApiCallError` with one clear line."""

    def run(self, missed: Sequence[str],
            should_stop: Callable[[], bool] | None = None) -> Measured:
        """Send the first :data:`MAX_CALLS` of ``missed`` in order and measure each."""
        if not missed:
            raise ApiCallError("no question missed the cache at this threshold: nothing to send")
        calls = []
        for i, question in enumerate(missed[:MAX_CALLS], start=1):
            kwargs = {"model": self.model, "max_tokens": MAX_TOKENS,
                      "messages": [{"role": "user", "content": question}]}
            start = time.perf_counter()
            try:
                reply = self.create(kwargs, should_stop)
            except ApiCallError as exc:
                raise ApiCallError(f"miss {i}: {exc}") from None
            wall_ms = (time.perf_counter() - start) * 1000
            calls.append(MissCall(question, self.output_tokens(reply, f"miss {i}"), wall_ms))
        return Measured(tuple(calls), max(0, len(missed) - MAX_CALLS))
