"""The book's two strategies replayed turn by turn on per-turn token counts (``core.compaction``).

``drop_oldest`` is NumPy. ``tiered`` archives turns oldest first, so after archiving turns
0..k its summary is the running memory folded over turns 0..k: with that memory folded once
per transcript (:class:`Running`), a replay at a new budget only moves the window's start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from core.tokens import TokenCounter

if TYPE_CHECKING:
    from core.compaction import Facts, Turn

HEADER = "Summary of earlier conversation:"


def fold(summary: list[tuple[int, str]], new: Sequence[tuple[int, str]],
         max_facts: int) -> list[tuple[int, str]]:
    """Add a turn's new facts, stable-sort by priority (high first), keep ``max_facts``.

    With two priorities the stable sort is a merge: decisions (old, then new), then the rest.
    """
    have = {s for _, s in summary}
    added = [f for f in new if f[1] not in have]
    if not added:
        return summary
    merged = ([f for f in summary if f[0] == 2] + [f for f in added if f[0] == 2]
              + [f for f in summary if f[0] != 2] + [f for f in added if f[0] != 2])
    return merged[:max_facts]


def render(summary: Sequence[tuple[int, str]]) -> str:
    """Render the summary as sent: the header, then one ``- fact`` line each (nothing when empty)."""
    return "\n".join([HEADER, *(f"- {s}" for _, s in summary)]) if summary else ""


# ---- the book's replay -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Replay:
    """One strategy replayed turn by turn."""

    strategy: str
    in_window: NDArray[np.int64]
    """Tokens in the window after each turn's compaction."""
    archived_at: NDArray[np.int64]
    """The turn after which each turn left the window (-1: still in it)."""
    compactions: int
    summary: tuple[tuple[int, str], ...]
    first_kept: int
    """Index of the oldest turn still in the window at the end."""
    folded: tuple[tuple[int, str], ...] = ()
    """Every fact that reached the summary at some point (for the kept-versus-dropped diff)."""


class TokenTable:
    """Per-turn and per-fact token counts, counted once per transcript and counter."""

    def __init__(self, turns: Sequence[Turn], facts: Facts, counter: TokenCounter) -> None:
        self.counter = counter
        self.turns = np.array(counter.count_many([t.text for t in turns]), np.int64)
        self._summary: dict[tuple[tuple[int, str], ...], int] = {}

    def summary(self, summary: Sequence[tuple[int, str]]) -> int:
        """Return the tokens of the rendered summary (memoized: the same summaries recur)."""
        key = tuple(summary)
        found = self._summary.get(key)
        if found is None:
            found = self._summary[key] = self.counter.count(render(summary)) if summary else 0
        return found


def drop_oldest(budget: int, table: TokenTable) -> Replay:
    """Replay drop-oldest in NumPy: the oldest turn kept only ever moves forward.

    After turn t the window starts at the first turn from which the tokens up to t fit the
    budget (but never past t itself): a running maximum of one ``searchsorted`` per turn.
    """
    n = table.turns.size
    prefix = np.concatenate([[0], np.cumsum(table.turns)])
    fits = np.searchsorted(prefix, prefix[1:] - budget, side="left")
    first = np.minimum(np.maximum.accumulate(fits), np.arange(n))
    first = np.maximum.accumulate(first)
    in_window = prefix[1:] - prefix[first]
    archived_at = np.full(n, -1, np.int64)
    gone = int(first[-1]) if n else 0
    archived_at[:gone] = np.searchsorted(first, np.arange(gone), side="right")
    return Replay("drop_oldest", in_window.astype(np.int64), archived_at, gone, (), gone)


@dataclass(frozen=True, slots=True)
class Running:
    """The tiered summary after archiving turns 0..j, for every j, folded once per transcript.

    Archiving goes oldest first, so whatever the budget, the summary after ``k`` archived turns
    is ``summaries[k - 1]`` and the facts that reached it are ``facts[:seen[k]]``.
    """

    max_facts: int
    summaries: tuple[tuple[tuple[int, str], ...], ...]
    tokens: tuple[int, ...]
    """Tokens of each rendered summary (as counted, whatever ``summary_tokens`` says)."""
    facts: tuple[tuple[int, str], ...]
    """Every fact of the transcript once, by its first turn (the priority first seen)."""
    seen: tuple[int, ...]
    """``seen[k]``: how many of :attr:`facts` turns 0..k-1 hold."""

    @classmethod
    def fold_all(cls, facts: Facts, table: TokenTable, max_facts: int) -> Running:
        """Fold every turn's facts in order, counting each summary once."""
        summaries: list[tuple[tuple[int, str], ...]] = []
        summary: list[tuple[int, str]] = []
        first_seen: dict[str, int] = {}
        seen = [0]
        for found in facts.per_turn:
            summary = fold(summary, found, max_facts)
            summaries.append(tuple(summary))
            for p, s in found:
                first_seen.setdefault(s, p)
            seen.append(len(first_seen))
        return cls(max_facts, tuple(summaries), tuple(table.summary(m) for m in summaries),
                   tuple((p, s) for s, p in first_seen.items()), tuple(seen))


def replay(strategy: str, budget: int, keep_recent: int, max_facts: int, facts: Facts,
           table: TokenTable, running: Running | None = None) -> Replay:
    """Replay the turns under ``strategy``: the book's rules, linear in the turns.

    ``running`` (for the same transcript, counter and ``max_facts``) saves folding the summary
    again at each budget; without it the memory is folded here.
    """
    if strategy == "drop_oldest":
        return drop_oldest(budget, table)
    if running is None or running.max_facts != max_facts:
        running = Running.fold_all(facts, table, max_facts)
    return _tiered(strategy, budget, keep_recent, table, running)


def _tiered(strategy: str, budget: int, keep_recent: int, table: TokenTable, running: Running) -> Replay:
    """Archive the oldest turn while over budget and more than ``keep_recent`` remain.

    The summary after archiving turns ..k is the running memory's, so it is read, not folded.
    """
    n = table.turns.size
    in_window: list[int] = []
    archived_at: list[int] = []
    first, tokens, head = 0, 0, 0
    counts, summary_tokens = table.turns.tolist(), running.tokens
    for t in range(n):
        tokens += counts[t]
        while tokens + head > budget and t + 1 - first > keep_recent:
            tokens -= counts[first]
            archived_at.append(t)
            head = summary_tokens[first]
            first += 1
        in_window.append(tokens + head)
    gone = np.full(n, -1, np.int64)
    gone[:first] = archived_at
    summary = running.summaries[first - 1] if first else ()
    return Replay(strategy, np.array(in_window, np.int64), gone, first, summary, first,
                  running.facts[:running.seen[first]])
