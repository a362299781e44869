"""Token counting: the protocol every counter satisfies, and the book's estimates.

The app adds an exact counter backed by the Anthropic ``count_tokens`` endpoint; it lives in
``app`` because core never talks to the network, but it satisfies the same protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol, runtime_checkable

from core.errors import InputError


class CounterError(RuntimeError):
    """A counter could not count (for the exact counter: the API was unreachable or refused)."""


_STOP: ContextVar[Callable[[], bool] | None] = ContextVar("ctxlab_stop", default=None)


@contextmanager
def cancellable(should_stop: Callable[[], bool]) -> Iterator[None]:
    """Let slow counters called inside this block (on this thread) notice ``should_stop``.

    A panel's worker wraps its job in it, so an exact count waiting on the network gives up
    as soon as a control changes, instead of finishing a result nobody will see.
    """
    token = _STOP.set(should_stop)
    try:
        yield
    finally:
        _STOP.reset(token)


def stop_check() -> Callable[[], bool]:
    """Return the stop test of the enclosing :func:`cancellable` block (never true outside)."""
    return _STOP.get() or (lambda: False)


@runtime_checkable
class TokenCounter(Protocol):
    """Anything that turns text into a token count."""

    name: str

    def count(self, text: str) -> int:
        """Return the number of tokens in ``text``."""
        ...

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """Return the token count of each text, in order."""
        ...


WORD_PIECE = 1 << 16
"""Characters split at a time: one ``str.split`` of a whole 11 MB text holds the GIL ~1 s."""


def count_words(text: str, piece: int = WORD_PIECE) -> int:
    """Return ``len(text.split())``, splitting long texts piece by piece.

    Between pieces other threads (the window) get to run. A word cut by a piece boundary is
    counted in both pieces, so each boundary with no whitespace on either side takes one off.
    """
    if len(text) <= piece:
        return len(text.split())
    words = 0
    for start in range(0, len(text), piece):
        words += len(text[start:start + piece].split())
        if start and not text[start - 1].isspace() and not text[start].isspace():
            words -= 1
    return words


class WordEstimate:
    """The book's rule of thumb: whitespace words times 1.3, rounded half to even."""

    name = "words"
    cheap = True

    def count(self, text: str) -> int:
        """Return ``round(words * 1.3)``."""
        return round(count_words(text) * 1.3)

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """Return the estimate of each text."""
        return [self.count(t) for t in texts]


class CharEstimate:
    """The other rule of thumb: characters divided by four, rounded half to even."""

    name = "chars"
    cheap = True

    def count(self, text: str) -> int:
        """Return ``round(chars / 4)``."""
        return round(len(text) / 4)

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """Return the estimate of each text."""
        return [self.count(t) for t in texts]


class CachingCounter:
    """Wrap a counter with a text -> count memo, so a slider drag never recounts a part.

    Python caches a string's hash on the object, so looking up an unchanged part costs
    the same whether it holds ten words or fifty thousand.
    """

    cheap = True

    def __init__(self, inner: TokenCounter, max_entries: int = 4096) -> None:
        self.inner = inner
        self.name = inner.name
        self._memo: dict[str, int] = {}
        self._max = max_entries

    def count(self, text: str) -> int:
        """Return the memoised count of ``text``."""
        return self.count_many([text])[0]

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """Count only the texts not seen before, in one call to the inner counter."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if not missing:
            return [self._memo[t] for t in texts]
        counted = dict(zip(missing, self.inner.count_many(missing), strict=True))
        found = [counted[t] if t in counted else self._memo[t] for t in texts]  # before a clear
        if len(self._memo) + len(missing) > self._max:
            self._memo.clear()
        self._memo.update(counted)
        return found


ESTIMATORS: dict[str, TokenCounter] = {"words": WordEstimate(), "chars": CharEstimate()}
"""The counters core can build by name; ``exact`` is supplied by the app when a key is set."""

COUNTER_NAMES = ("words", "chars", "exact")


def counter_for(name: str, given: TokenCounter | None = None) -> TokenCounter:
    """Return the counter to use for ``estimator=name``.

    Parameters
    ----------
    name
        ``words``, ``chars`` or ``exact``.
    given
        A counter handed in by the caller (the app's exact counter, or a cached one);
        it wins when its name matches ``name``.

    Raises
    ------
    InputError
        ``exact`` was asked for but no exact counter is available.
    """
    if given is not None and given.name == name:
        return given
    if name in ESTIMATORS:
        return ESTIMATORS[name]
    if name == "exact":
        raise InputError(
            "params.estimator: 'exact' needs the Anthropic token counter "
            "(set ANTHROPIC_API_KEY); use 'words' or 'chars' offline"
        )
    raise InputError(f"params.estimator: must be one of {', '.join(COUNTER_NAMES)}, got {name!r}")
