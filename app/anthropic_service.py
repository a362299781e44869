"""Exact token counts from the Anthropic ``count_tokens`` endpoint, behind core's protocol.

The key comes from ``ANTHROPIC_API_KEY`` or is typed in for this run. It lives only in this
object's client: never in sessions, exports, settings or logs, and never in error messages.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from app import logs
from core.tokens import CounterError, stop_check

if TYPE_CHECKING:
    from app.api_transport import GuardedTransport

T = TypeVar("T")

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
    from app.api_transport import AnswerRefusedError

    anthropic = sdk()
    for cause in (exc, exc.__cause__):  # the SDK wraps what the transport raises
        if isinstance(cause, AnswerRefusedError):
            return str(cause)
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
    if isinstance(exc, RecursionError):  # json.loads of a body like [[[[...]]]] 100,000 deep
        return "the API's answer could not be read (JSON nested too deeply)"
    return f"the API call failed ({type(exc).__name__})"


def api_errors() -> tuple[type[Exception], ...]:
    """What an API call can raise: the SDK's errors, and ValueError or RecursionError (a body
    nested too deeply for ``json.loads``) for an unreadable body."""
    from app.api_transport import AnswerRefusedError

    return (sdk().AnthropicError, ValueError, RecursionError, AnswerRefusedError)


def sdk_client(api_key: str, base_url: str | None, timeout: float) -> tuple[Any, GuardedTransport]:
    """An SDK client (its own retries off) over a :class:`GuardedTransport`, and the transport:
    pass ``transport.abort`` to the :class:`CallGuard` so a call given up on really ends."""
    from app.api_transport import guarded_client

    http_client, transport = guarded_client(base_url, timeout)
    client = sdk().Anthropic(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0,
                             http_client=http_client)
    return client, transport


class ApiCallError(RuntimeError):
    """An API call failed, timed out, was cancelled or is not tried (recent failure): one line."""


def retry_after(exc: Exception) -> float | None:
    """Seconds a 429/529 answer asks us to wait (``retry-after-ms`` or ``retry-after``)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue  # an HTTP date: treat as "a long time"
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
        return None
    return None


def _retryable(exc: Exception) -> bool:
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status in (408, 409, 429) or status >= 500)


class CallGuard:
    """Every API call through one door: a total deadline, capped waits, cancellation, and a
    failed endpoint remembered for a while.

    The SDK retries on its own and honours any ``retry-after`` (an hour, if a server says so),
    and its timeout only bounds the gap between two bytes (a server dripping a byte a second
    never times out). So the SDK's own retries are off; each attempt runs on a daemon thread
    and the caller waits at most ``deadline_s`` in all, polling ``should_stop`` and
    :meth:`close`; a ``retry-after`` over ``max_wait_s`` is not waited for (the message says
    so). After a failure, calls fail at once with the same message for ``cool_down_s`` (or as
    long as the server asked, up to ten minutes) instead of waiting again on every tick.
    An attempt given up on (deadline, cancel, close) is handed to ``abort``, which ends it
    (:meth:`GuardedTransport.abort` shuts its socket down), so no thread keeps reading.
    """

    def __init__(self, deadline_s: float = 30.0, max_retries: int = 2, max_wait_s: float = 10.0,
                 cool_down_s: float = 30.0,
                 abort: Callable[[threading.Thread], None] | None = None) -> None:
        self.deadline_s, self.max_retries = deadline_s, max_retries
        self.abort = abort
        self.max_wait_s, self.cool_down_s = max_wait_s, cool_down_s
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._failed_until = 0.0
        self._failure = ""

    def close(self) -> None:
        """Make every call in flight (and every later one) give up at once."""
        self._closed.set()

    def call(self, fn: Callable[[], T], should_stop: Callable[[], bool] | None = None) -> T:
        """Run ``fn`` (one SDK request) under the guard; raise :class:`ApiCallError` on failure."""
        stop = should_stop or (lambda: False)
        with self._lock:
            left = self._failed_until - time.monotonic()
            if left > 0:
                raise ApiCallError(f"{self._failure} (not asked again for {left:.0f} s)")
        end = time.monotonic() + self.deadline_s
        attempt = 0
        while True:
            try:
                return self._attempt(fn, end, stop)
            except ApiCallError:
                raise
            except api_errors() as exc:
                message = describe(exc)
                wait = retry_after(exc)
                if _retryable(exc) and attempt < self.max_retries:
                    pause = wait if wait is not None else 0.5 * 2**attempt
                    if pause > self.max_wait_s:
                        self._remember(f"{message}; it asks to wait {pause:,.0f} s, more than the "
                                       f"{self.max_wait_s:g} s ctxlab waits", pause)
                    if time.monotonic() + pause < end:
                        self._sleep(pause, stop)
                        attempt += 1
                        continue
                    if wait is not None:
                        message += (f"; it asks to wait {pause:,.0f} s, past this call's "
                                    f"{self.deadline_s:g} s deadline")
                self._remember(message, wait or 0.0)
        raise AssertionError("unreachable")

    def _attempt(self, fn: Callable[[], T], end: float, stop: Callable[[], bool]) -> T:
        values: list[T] = []
        errors: list[BaseException] = []
        done = threading.Event()

        def run() -> None:
            try:
                values.append(fn())
            except BaseException as exc:  # handed to the caller's thread
                errors.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=run, daemon=True, name="api-call")
        thread.start()
        try:
            while not done.wait(0.05):
                if self._closed.is_set() or stop():
                    raise ApiCallError("cancelled")
                if time.monotonic() > end:
                    self._remember(f"the API did not answer in time (no complete answer within "
                                   f"{self.deadline_s:g} s)", 0.0)
        finally:
            if not done.is_set() and self.abort is not None:
                self.abort(thread)  # given up on: end its reading, not only our waiting
        if errors:
            raise errors[0]
        return values[0]

    def _sleep(self, seconds: float, stop: Callable[[], bool]) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self._closed.wait(min(0.05, max(0.0, end - time.monotonic()))) or stop():
                raise ApiCallError("cancelled")

    def _remember(self, message: str, asked_wait: float) -> NoReturn:
        if self.cool_down_s > 0:  # 0: every call tries afresh (a live run's own retry logic)
            hold = min(max(self.cool_down_s, asked_wait), 600.0)
            with self._lock:
                self._failed_until = time.monotonic() + hold
                self._failure = message
        raise ApiCallError(message)


class ExactCounter:
    """Counts tokens with ``messages.count_tokens``; each distinct text is asked once.

    A text is counted as the content of one user message, which is how a part would be
    sent; the count includes the few tokens of message framing. Every request goes through a
    :class:`CallGuard`: ``timeout`` is the most one count may take in all, retries included.
    """

    name = "exact"
    cheap = False

    def __init__(self, api_key: str, model: str = DEFAULT_MODEL, base_url: str | None = None,
                 timeout: float = 20.0, max_retries: int = 2, cool_down_s: float = 30.0) -> None:
        self.model = model
        logs.hide_in_logs(api_key)
        self._sdk = sdk()
        self._client, transport = sdk_client(api_key, base_url, timeout)
        self.guard = CallGuard(timeout, max_retries, cool_down_s=cool_down_s,
                               abort=transport.abort)
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
        def request() -> Any:
            return self._client.messages.count_tokens(
                model=self.model, messages=[{"role": "user", "content": text}])

        try:
            reply = self.guard.call(request, stop_check())
        except ApiCallError as exc:
            raise CounterError(str(exc)) from None
        n = getattr(reply, "input_tokens", None)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 2**53:
            raise CounterError("the API's answer had no usable token count "
                               f"(input_tokens: {n!r:.40})")
        return n

    def close(self) -> None:
        """Stop every count in flight (at once) and close the HTTP client."""
        self.guard.close()
        self._client.close()


class LiveClient:
    """Base of the panels' live runs: one SDK client (its own retries off) behind a
    :class:`CallGuard` with no cool-down, so a user's next click tries afresh. The key stays
    in the client; subclasses add ``run``."""

    def __init__(self, api_key: str, base_url: str | None = None, model: str = DEFAULT_MODEL,
                 timeout: float = 30.0) -> None:
        logs.hide_in_logs(api_key)
        self.model = model
        self._client, transport = sdk_client(api_key, base_url, timeout)
        self.guard = CallGuard(timeout, cool_down_s=0, abort=transport.abort)

    def create(self, kwargs: dict[str, Any], should_stop: Callable[[], bool] | None = None) -> Any:
        """``messages.create(**kwargs)`` under the guard."""
        return self.guard.call(lambda: self._client.messages.create(**kwargs), should_stop)

    @staticmethod
    def output_tokens(reply: Any, name: str) -> int:
        """``usage.output_tokens`` of a reply; a wrong-shaped answer is one clear line."""
        n = getattr(getattr(reply, "usage", None), "output_tokens", None)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ApiCallError(f"{name}: the answer had no usable output_tokens ({n!r:.40})")
        return n

    def close(self) -> None:
        """Stop any call in flight and close the HTTP client."""
        self.guard.close()
        self._client.close()
