"""The live headline with its deltas to a pinned one: "sent 682 (-154 vs A) of 1,000"."""

from __future__ import annotations

import difflib
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

    Headlines are compared part by part (parts end at " · " or a line break), lined up by what
    they say with their numbers left out: a part that says the same thing with other numbers
    gets the deltas, a part only the live headline has is left as it is, and the parts only the
    pinned one had are quoted at the end ("│ pin A: ⚠ the cap cuts the answer off"). When no
    part lines up, the whole pinned headline is quoted after the live one.
    """
    if not pinned or live == pinned:
        return f"{live}   (= pin {label})" if live else live
    a, b = _PART.split(live), _PART.split(pinned)
    shape = [_NUMBER.sub("#", x) for x in a]
    lined = difflib.SequenceMatcher(None, shape, [_NUMBER.sub("#", y) for y in b], autojunk=False)
    out, gone, matched = list(a), [], False
    for op, i1, i2, j1, j2 in lined.get_opcodes():
        if op == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                if _NUMBER.search(a[i]):
                    out[i], matched = _deltas(a[i], b[j], label), True
        else:  # a part only one of them has (or each has its own): quote the pinned one
            gone += [y.strip() for y in b[j1:j2] if not _PART.fullmatch(y) and y.strip()]
    if not matched:
        return f"{live}   │ pin {label}: {pinned}"
    return "".join(out) + (f"   │ pin {label}: {' · '.join(gone)}" if gone else "")


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
