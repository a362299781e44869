r"""The BPE regex pre-tokenizer: which patterns are refused, and how text is fed to ``re``.

Python's ``re`` holds the interpreter lock for a whole call, so a pattern that backtracks
freezes the window even when it runs on the worker. Two kinds of cost are kept bounded:

- Refused up front (:func:`check_pattern`): constructs whose cost grows exponentially or with
  a high power of the text -- a repeat nested in a repeat, an alternation in a repeat, a
  back-reference, and two unbounded repeats in a row that can match the same characters
  (``\w+\w+x`` on 2,000 letters: 20 s in one call; each more repeat multiplies by the length).
- Bounded by feeding ``re`` at most :data:`CHUNK` characters per call (:func:`word_spans`): any
  pattern that passes the check tries each start position against the rest of the text, so on
  a long run that never matches (``\w+x`` on 200,000 letters) one call over the whole text was
  quadratic (minutes); over chunks it is linear in the text, and each call is short.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

from core.errors import InputError

_sre_parser: Any = importlib.import_module("re._parser")
"""The standard library's own reading of a pattern (what ``re.compile`` parses with)."""
_sre_compiler: Any = importlib.import_module("re._compiler")

CHUNK = 1000
"""Characters the regex pre-tokenizer gives ``re`` per call. Text is cut at a line start (else
after whitespace) at most this far apart, so a word or whitespace run crossing a cut becomes
two, and a run of more than this many characters without whitespace is cut into words of
this length."""
MANY = 16
"""A repeat allowing more than this many matches counts as unbounded in the check."""
_PROBE = [chr(c) for c in range(0x250)] + list(
    "\u0391\u03b1\u0410\u0430\u05d0\u0627\u0915\u0e01\u3042\u30a2\u4e00\uac00\u0660\u0966"
    "\u00a0\u2003\u2028\u3000\u200b\uff21\U0001f600")
"""Characters the check tries to see whether two repeats can match the same character."""
_SLOW = ("can take exponential time on a long run of text (and Python's regex engine cannot "
         "be interrupted)")
_POLY = ("can take time growing with a power of the text's length (and Python's regex engine "
         "cannot be interrupted)")


def word_spans(text: str, pretokenizer: str, pattern: str) -> list[tuple[int, int]]:
    """Return the (start, end) of every word of ``text`` under the pre-tokenizer."""
    if pretokenizer == "whitespace":
        return [m.span() for m in re.finditer(r"\S+", text)]
    check_pattern(pattern)
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise InputError(f"params.pattern: not a valid regular expression ({exc})") from None
    spans = []
    for start, end in chunks(text):
        spans += [(start + a, start + b) for a, b in (m.span() for m in compiled.finditer(text[start:end]))
                  if b > a]
    return spans


def chunks(text: str, size: int = CHUNK) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of consecutive pieces of ``text`` of at most ``size`` characters.

    A piece ends before a line start when there is one in its last ``size`` characters, else
    before a character following whitespace, else exactly ``size`` characters in.
    """
    start, n = 0, len(text)
    while n - start > size:
        end = start + size
        cut = _cut(text, start, end, "\n") or _cut(text, start, end, None) or end
        yield start, cut
        start = cut
    if start < n:
        yield start, n


def _cut(text: str, start: int, end: int, sep: str | None) -> int:
    """Return the last i in (start, end] after ``sep`` (any whitespace: None) before a non-space."""
    for i in range(end, start, -1):
        before = text[i - 1]
        if (before == sep if sep else before.isspace()) and not text[i].isspace():
            return i
    return 0


def check_pattern(pattern: str) -> None:
    r"""Refuse a pre-tokenizer regex whose matching can take exponential or polynomial time.

    Refused: a repeat inside a repeat, an alternation inside a repeat, back-references, and two
    unbounded repeats that can match the same characters with nothing between them that only
    one of them can match (``\w+\w+``, ``\s*\s*$``, ``\w+a\w+``). Atomic groups and possessive
    repeats (``(?>...)``, ``a++``) never backtrack into themselves and are fine.
    """
    try:
        parsed = _sre_parser.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise InputError(f"params.pattern: not a valid regular expression ({exc})") from None
    _check_items(list(parsed), repeated=False)
    _Adjacent(parsed.state).run(list(parsed), [])


def _check_items(items: list[tuple[Any, Any]], repeated: bool) -> None:
    for op, arg in items:
        name = str(op)
        if name.startswith("GROUPREF"):
            raise InputError(f"params.pattern: a back-reference {_SLOW}; not allowed")
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            _low, high, sub = arg
            many = high > 1
            if many and repeated:
                raise InputError(f"params.pattern: a repeat nested in a repeat, like (a+)+, {_SLOW}; "
                                 "use one repeat, or an atomic group (?>...)")
            _check_items(list(sub), repeated or many)
        elif name == "BRANCH":
            if repeated:
                raise InputError(f"params.pattern: an alternation inside a repeat, like (a|ab)+, "
                                 f"{_SLOW}; use a character class or an atomic group (?>...)")
            for alternative in arg[1]:
                _check_items(list(alternative), repeated)
        elif name == "SUBPATTERN":
            _check_items(list(arg[3]), repeated)
        elif name in ("ASSERT", "ASSERT_NOT"):
            _check_items(list(arg[1]), repeated)
        elif name == "ATOMIC_GROUP":
            _check_items(list(arg), False)
        elif name == "POSSESSIVE_REPEAT":
            _check_items(list(arg[2]), False)


class _Adjacent:
    """Finds two unbounded repeats in a row whose characters overlap (run after the nesting check).

    Walks each sequence keeping the character sets of the unbounded repeats that could still be
    extending (``open``); a required item none of them can match closes them.
    """

    def __init__(self, state: Any) -> None:
        self.state = state
        self.memo: dict[str, frozenset[str]] = {}

    def chars(self, items: list[tuple[Any, Any]]) -> frozenset[str]:
        """Return the probe characters any single-character part of ``items`` can match."""
        found: set[str] = set()
        for item in _leaves(items):
            key = repr(item)
            if key not in self.memo:
                compiled = _sre_compiler.compile(_sre_parser.SubPattern(self.state, [item]), self.state.flags)
                self.memo[key] = frozenset(c for c in _PROBE if compiled.match(c))
            found |= self.memo[key]
        return frozenset(found)

    def run(self, items: list[tuple[Any, Any]], open_: list[frozenset[str]]) -> list[frozenset[str]]:
        """Check ``items`` in sequence after repeats ``open_``; return those still open after."""
        for item in items:
            open_ = self.step(item, open_)
        return open_

    def step(self, item: tuple[Any, Any], open_: list[frozenset[str]]) -> list[frozenset[str]]:
        op, arg = item
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            low, high, sub = arg
            if high > MANY:
                mine = self.chars(list(sub))
                if any(mine & other for other in open_):
                    raise InputError(f"params.pattern: two repeats in a row that can match the same "
                                     f"characters, like \\w+\\w+ or \\s*\\s*, {_POLY}; merge them into one "
                                     "repeat, or make the first possessive (\\w++\\w+)")
                inner = self.run(list(sub), [])
                return [*open_, mine, *inner] if low == 0 else [mine, *inner]
            inner = self.run(list(sub), list(open_))
            return inner if low > 0 else _union(open_, inner)
        if name == "SUBPATTERN":
            return self.run(list(arg[3]), open_)
        if name == "BRANCH":
            outs = [self.run(list(alt), list(open_)) for alt in arg[1]]
            return _union(*outs)
        if name in ("ASSERT", "ASSERT_NOT"):  # a look-ahead re-scans after each give-back
            self.run(list(arg[1]), list(open_))
            return open_
        if name == "AT":  # ^ $ \b: no character
            return open_
        if name == "ATOMIC_GROUP":
            return self.run(list(arg), open_)
        if name == "POSSESSIVE_REPEAT":  # gives nothing back, but a repeat before it still can
            low, high, sub = arg
            mine = self.chars(list(sub))
            if high > MANY and any(mine & other for other in open_):
                raise InputError(f"params.pattern: two repeats in a row that can match the same "
                                 f"characters, like \\w+\\w++, {_POLY}; merge them into one repeat")
            self.run(list(sub), [])
            return [other for other in open_ if other & mine] if low > 0 else open_
        mine = self.chars([item])  # one required character: repeats that cannot match it end here
        return [other for other in open_ if other & mine]


def _union(*groups: list[frozenset[str]]) -> list[frozenset[str]]:
    out: list[frozenset[str]] = []
    for group in groups:
        out += [s for s in group if s not in out]
    return out


def _leaves(items: list[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    """Yield the single-character items inside ``items`` (at any depth, assertions left out)."""
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            yield from _leaves(list(arg[2]))
        elif name == "SUBPATTERN":
            yield from _leaves(list(arg[3]))
        elif name == "BRANCH":
            for alternative in arg[1]:
                yield from _leaves(list(alternative))
        elif name == "ATOMIC_GROUP":
            yield from _leaves(list(arg))
        elif name not in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF", "GROUPREF_EXISTS"):
            yield op, arg
