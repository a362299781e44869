"""The live headline with its deltas to a pinned one: "sent 682 (-154 vs A) of 1,000"."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(?<![\w.\-−])(?:\d{4}-\d\d(?:-\d\d)?(?![\d.])|[-−]?\d[\d,]*(?:\.\d+)?%?)")
"""A number in a headline: a trailing % belongs to it (the delta goes after it), a leading - or
− is its sign; a date (2024-03-14) is one token and gets no delta; digits inside a word
("top-1", "v2") are not numbers."""
_DATE = re.compile(r"\d{4}-\d\d(?:-\d\d)?")
_PART = re.compile(r"(\s·\s|\n)")
"""Where a headline's parts end (kept by the split, so they join back unchanged)."""


def annotate(live: str, pinned: str, label: str) -> str:
    """Return the live headline with each number's delta to the pinned headline's.

    Headlines are compared part by part (parts end at " · " or a line break): a part that says
    the same thing with other numbers gets the deltas; a part whose words changed is left as
    it is. When no part lines up, the pinned headline is quoted after the live one.
    """
    if not pinned or live == pinned:
        return f"{live}   (= pin {label})" if live else live
    a, b = _PART.split(live), _PART.split(pinned)
    if len(a) == len(b):
        matched = [_NUMBER.sub("#", x) == _NUMBER.sub("#", y) and bool(_NUMBER.search(x))
                   for x, y in zip(a, b, strict=True)]
        if any(matched):
            return "".join(_deltas(x, y, label) if ok else x for x, y, ok in zip(a, b, matched, strict=True))
    return f"{live}   │ pin {label}: {pinned}"


def _deltas(live: str, pinned: str, label: str) -> str:
    pieces, last = [], 0
    for match, old in zip(_NUMBER.finditer(live), _NUMBER.findall(pinned), strict=True):
        pieces.append(live[last:match.end()])
        last = match.end()
        if _DATE.fullmatch(match.group()):
            continue
        new_v, old_v = _value(match.group()), _value(old)
        if new_v != old_v:
            decimals = len(match.group().rstrip("%").partition(".")[2])
            pieces.append(f" ({new_v - old_v:+,.{decimals}f} vs {label})")
    pieces.append(live[last:])
    return "".join(pieces)


def _value(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-").rstrip("%"))
