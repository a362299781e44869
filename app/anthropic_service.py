"""Exact token counts from the Anthropic ``count_tokens`` endpoint, behind core's protocol.

The key comes from ``ANTHROPIC_API_KEY`` or is typed in for this run. It lives only in this
object's client: never in sessions, exports, settings or logs, and never in error messages.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from types import ModuleType

from core.tokens import CounterError

DEFAULT_MODEL = "claude-opus-4-8"


def sdk() -> ModuleType:
    """Import the Anthropic SDK on first use: it takes over a second, and most runs never call it."""
    import anthropic

    return anthropic


def key_from_env() -> str | None:
    """Return the API key from the environment, if one is set."""
    key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
    return key or None


def describe(exc: Exception) -> str:
    """Turn an SDK error into one sentence a user can act on (never echoing the key)."""
    anthropic = sdk()
    if isinstance(exc, anthropic.AuthenticationError):
        return "the API key was rejected (401); check ANTHROPIC_API_KEY"
    if isinstance(exc, anthropic.PermissionDeniedError):
        return "this API key is not allowed to use that model or endpoint (403)"
    if isinstance(exc, anthropic.RateLimitError):
        return "rate limited by the API (429); try again in a moment"
    if isinstance(exc, anthropic.APIStatusError) and exc.status_code == 529:
        return "the API is overloaded (529); try again shortly"
    if isinstance(exc, anthropic.APITimeoutError):
        return "the API did not answer in time"
    if isinstance(exc, anthropic.APIConnectionError):
        return "cannot reach the API (offline?)"
    if isinstance(exc, anthropic.APIStatusError):
        return f"the API answered with an error ({exc.status_code})"
    if isinstance(exc, ValueError):  # the SDK lets a malformed body through as a JSON error
        return "the API's answer could not be read (malformed JSON)"
    return f"the API call failed ({type(exc).__name__})"


def api_errors() -> tuple[type[Exception], ...]:
    """What an API call can raise: the SDK's errors, and ValueError for an unreadable body."""
    return (sdk().AnthropicError, ValueError)


class ExactCounter:
    """Counts tokens with ``messages.count_tokens``; each distinct text is asked once.

    A text is counted as the content of one user message, which is how a part would be
    sent; the count includes the few tokens of message framing.
    """

    name = "exact"
    cheap = False

    def __init__(self, api_key: str, model: str = DEFAULT_MODEL, base_url: str | None = None,
                 timeout: float = 20.0, max_retries: int = 2) -> None:
        self.model = model
        self._sdk = sdk()
        self._client = self._sdk.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout,
                                           max_retries=max_retries)
        self._memo: dict[str, int] = {}
        self._lock = threading.Lock()

    def count(self, text: str) -> int:
        """Return the exact token count of ``text`` as one user message."""
        return self.count_many([text])[0]

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """Return exact counts, asking the API only for texts it has not counted before."""
        for text in dict.fromkeys(texts):
            with self._lock:
                if text in self._memo:
                    continue
            n = self._ask(text) if text.strip() else 0
            with self._lock:
                self._memo[text] = n
        with self._lock:
            return [self._memo[t] for t in texts]

    def _ask(self, text: str) -> int:
        try:
            reply = self._client.messages.count_tokens(
                model=self.model, messages=[{"role": "user", "content": text}])
        except api_errors() as exc:
            raise CounterError(describe(exc)) from None
        return int(reply.input_tokens)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
