"""Replaying a request stream into a radix tree, one request at a time (see :mod:`core.radix`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from core.radix_layout import Layout
from core.radix_table import LayoutTable
from core.radix_tree import RadixTree


class Replay:
    """A tree fed the stream in order; moving forward inserts, moving back starts over.

    Per request it records the blocks matched, the blocks stored and evicted so far, and (with a
    capacity) ``seen``: the leading blocks some earlier request had, what an unbounded cache
    would have matched; when a request matched less than that, ``evicted_by`` names the request
    whose insert evicted its first missing block.
    """

    def __init__(self, stream: list[tuple[str, ...]], capacity: int | None, hold: int,
                 eviction: str = "lru", trace: bool = True) -> None:
        self.stream, self.capacity, self.hold, self.eviction = stream, capacity, hold, eviction
        self._traced = trace and capacity is not None
        self._table = LayoutTable()
        self._reset()

    def layout(self) -> Layout:
        """Return the layout of the tree at the current step (only what changed since the last is read)."""
        return self._table.layout(self.tree, self.step)

    def _reset(self) -> None:
        self.tree = RadixTree(self.capacity, self.eviction)
        self.step = 0
        self.matched: list[int] = []
        self.stored: list[int] = []
        self.evicted: list[int] = []
        self.seen: list[int] = []
        self.evicted_by: list[int] = []
        self._held: deque[tuple[str, ...]] = deque()
        self._kids: list[dict[str, int]] = [{}]
        """A plain trie of every prefix seen: prefix id -> its children's ids by next block."""

    def _trace(self, seq: tuple[str, ...]) -> tuple[list[int], int]:
        """Name each prefix of ``seq`` with an integer; return the names and how many existed."""
        kids, gid, seen, out = self._kids, 0, -1, []
        for i, block in enumerate(seq):
            nxt = kids[gid].get(block)
            if nxt is None:
                seen = i if seen < 0 else seen
                nxt = kids[gid][block] = len(kids)
                kids.append({})
            gid = nxt
            out.append(gid)
        return out, len(seq) if seen < 0 else seen

    def advance(self, step: int, should_stop: Callable[[], bool] = lambda: False) -> RadixTree:
        """Return the tree after the first ``step`` requests."""
        step = min(step, len(self.stream))
        if step < self.step:
            self._reset()
        tree, hold = self.tree, self.hold
        while self.step < step and not should_stop():
            seq = self.stream[self.step]
            if hold and len(self._held) >= hold:
                tree.release(self._held.popleft())  # the oldest running request finished
            by = -1
            if self._traced:
                gids, seen = self._trace(seq)
                cached = tree.match_prefix(seq)
                if cached < seen:  # seen before and not stored now: evicted (read before it is re-evicted)
                    by = tree.evicted_at.get(gids[cached], -1)
                matched, _path = tree.insert(seq, self.step, hold=hold > 0, gids=gids)
            else:
                matched, _path = tree.insert(seq, self.step, hold=hold > 0)
                seen = matched
            if hold:
                self._held.append(seq)
            self.matched.append(matched)
            self.seen.append(seen)
            self.evicted_by.append(by)
            self.stored.append(tree.stored)
            self.evicted.append(tree.evicted)
            self.step += 1
        return self.tree
