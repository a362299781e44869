"""Live prompt caching: two calls sharing a stable prefix marked ``cache_control``.

The prefix is the first content block of the user message, with the breakpoint on it
(``{"type": "ephemeral"}`` for the 5-minute TTL, ``"ttl": "1h"`` for the hour); each question
follows the breakpoint, so only the volatile tail differs. Each call comes back as a saved
``{"request", "response", "timestamp"}`` record: the panel reads them with the same parser as
any saved session. Every call goes through :class:`~app.anthropic_service.CallGuard`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from app.anthropic_service import DEFAULT_MODEL, ApiCallError, LiveClient

MAX_TOKENS = 128
TTLS = ("5m", "1h")


def cache_control(ttl: str) -> dict[str, str]:
    """The breakpoint marker for ``ttl`` (the 5-minute one is the API's default)."""
    if ttl not in TTLS:
        raise ApiCallError(f"ttl: must be one of {', '.join(TTLS)}, got {ttl!r}")
    return {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": "1h"}


def cached_request(prefix: str, question: str, model: str, ttl: str) -> dict[str, Any]:
    """Keyword arguments of one call: the stable prefix (breakpoint on it), then the question."""
    blocks = [{"type": "text", "text": prefix, "cache_control": cache_control(ttl)},
              {"type": "text", "text": question}]
    return {"model": model, "max_tokens": MAX_TOKENS,
            "messages": [{"role": "user", "content": blocks}]}


class CacheLive(LiveClient):
    """Send one call per question with the same cached prefix; return saved-call records."""

    def __init__(self, api_key: str, base_url: str | None = None, model: str = DEFAULT_MODEL,
                 timeout: float = 60.0) -> None:
        super().__init__(api_key, base_url, model, timeout)

    def run(self, prefix: str, questions: Sequence[str], ttl: str = "5m",
            should_stop: Callable[[], bool] | None = None) -> list[dict[str, Any]]:
        """Send the calls in order; raise :class:`ApiCallError` with one clear line."""
        if not prefix.strip():
            raise ApiCallError("paste the stable prefix (system prompt) to cache")
        records = []
        for i, question in enumerate(questions, start=1):
            kwargs = cached_request(prefix, question, self.model, ttl)
            try:
                reply = self.create(kwargs, should_stop)
            except ApiCallError as exc:
                raise ApiCallError(f"call {i}: {exc}") from None
            records.append({"request": kwargs, "response": reply.model_dump(mode="json"),
                            "timestamp": time.time()})
        return records
