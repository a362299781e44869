"""Radix prefix sharing lever (book chapter 8): replay a request stream into a radix tree.

Requests are block-id sequences, or text prompts cut into blocks of ``block_words`` words
(a block's id is its text, so a shared system prompt becomes a shared path). The stream is
replayed in order; the tree shown is the one after ``at_step`` requests, the curves cover the
whole stream. With ``capacity_blocks`` set, unreferenced least-recently-used leaves are
evicted; the last ``hold`` requests keep their paths referenced.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core import fields
from core.errors import InputError
from core.radix_tree import Node, RadixTree

_WHERE = "params"
_KEYS = ("requests", "prompts", "block_words", "capacity_blocks", "hold", "at_step")
MAX_BLOCKS = 2_000_000


@dataclass(frozen=True, slots=True)
class Params:
    """The stream, the cache bound, and the step shown."""

    requests: tuple[tuple[str, ...], ...] = ()
    prompts: tuple[str, ...] = ()
    block_words: int = 8
    capacity_blocks: int | None = None
    hold: int = 1
    """Requests running at once: the latest ``hold`` keep their paths from eviction."""
    at_step: int | None = None
    """Requests replayed into the tree shown; ``None``: all of them."""

    @classmethod
    def from_dict(cls, data: object) -> Params:
        """Validate loose JSON; raise :class:`InputError` naming the bad field."""
        d = fields.mapping(data, _WHERE)
        fields.only_keys(d, _KEYS, _WHERE)
        requests = []
        for i, req in enumerate(fields.items(d, "requests", _WHERE, [])):
            ok = isinstance(req, list | tuple) and all(
                isinstance(b, str | int) and not isinstance(b, bool) for b in req)
            if not ok:
                raise InputError(f"{_WHERE}.requests[{i}]: expected a list of block ids "
                                 "(strings or integers)")
            requests.append(tuple(str(b) for b in req))
        prompts = fields.items(d, "prompts", _WHERE, [])
        for i, text in enumerate(prompts):
            if not isinstance(text, str):
                raise InputError(f"{_WHERE}.prompts[{i}]: expected a string")
        cap, at = d.get("capacity_blocks"), d.get("at_step")
        params = cls(
            requests=tuple(requests), prompts=tuple(prompts),
            block_words=fields.integer(d, "block_words", _WHERE, 8, minimum=1),
            capacity_blocks=None if cap is None else fields.integer(d, "capacity_blocks", _WHERE, minimum=1),
            hold=fields.integer(d, "hold", _WHERE, 1, minimum=0),
            at_step=None if at is None else fields.integer(d, "at_step", _WHERE, minimum=0),
        )
        params.check()
        return params

    def check(self) -> None:
        """Raise :class:`InputError` unless exactly one non-empty stream is given."""
        if bool(self.requests) == bool(self.prompts):
            raise InputError(f"{_WHERE}.requests: give either requests (block ids) or prompts (text)")
        if sum(len(r) for r in self.stream()) > MAX_BLOCKS:
            raise InputError(f"{_WHERE}.requests: more than {MAX_BLOCKS:,} blocks in all")

    def stream(self) -> list[tuple[str, ...]]:
        """Return the requests as block sequences (prompts cut into ``block_words``-word blocks)."""
        if self.requests:
            return list(self.requests)
        out = []
        for text in self.prompts:
            words = text.split()
            out.append(tuple(" ".join(words[i:i + self.block_words])
                             for i in range(0, len(words), self.block_words)))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the params as JSON-safe data."""
        return {"requests": [list(r) for r in self.requests], "prompts": list(self.prompts),
                "block_words": self.block_words, "capacity_blocks": self.capacity_blocks,
                "hold": self.hold, "at_step": self.at_step}


class Replay:
    """A tree fed the stream in order; moving forward inserts, moving back starts over."""

    def __init__(self, stream: list[tuple[str, ...]], capacity: int | None, hold: int) -> None:
        self.stream, self.capacity, self.hold = stream, capacity, hold
        self._reset()

    def _reset(self) -> None:
        self.tree = RadixTree(self.capacity)
        self.step = 0
        self.matched: list[int] = []
        self.stored: list[int] = []
        self._held: list[tuple[str, ...]] = []

    def advance(self, step: int, should_stop: Callable[[], bool] = lambda: False) -> RadixTree:
        """Return the tree after the first ``step`` requests."""
        step = min(step, len(self.stream))
        if step < self.step:
            self._reset()
        while self.step < step and not should_stop():
            if self.hold and len(self._held) >= self.hold:
                self.tree.release(self._held.pop(0))  # the oldest running request finished
            matched, _path = self.tree.insert(self.stream[self.step], self.step, hold=self.hold > 0)
            if self.hold:
                self._held.append(self.stream[self.step])
            self.matched.append(matched)
            self.stored.append(self.tree.stored)
            self.step += 1
        return self.tree


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each node is drawn and what it holds.

    Node ``i``'s edge spans ``x0..x1`` blocks deep at row ``y``; everything is copied out of
    the tree so a later replay cannot change it under a viewer.
    """

    ids: list[int]
    parents: list[int | None]
    edges: list[tuple[Hashable, ...]]
    """Each node's edge (tuples are immutable, so sharing them with the live tree is safe)."""
    refs: np.ndarray
    active: np.ndarray
    x0: np.ndarray
    x1: np.ndarray
    y: np.ndarray
    parent_index: np.ndarray


def layout(tree: RadixTree) -> Layout:
    """Lay the tree out left to right: depth in blocks across, leaves one row apart.

    One depth-first pass records each node's parent, end depth and last child; one backward
    pass puts leaves on consecutive rows and each parent midway between its first and last
    child (in depth-first order the first child directly follows its parent).
    """
    ids: list[int] = []
    parents: list[int | None] = []
    edges: list[tuple[Hashable, ...]] = []
    refs: list[int] = []
    active: list[int] = []
    parent: list[int] = []
    x1: list[int] = []
    last: list[int] = []
    stack: list[tuple[Node, int, int]] = [(tree.root, -1, 0)]
    while stack:  # one pass collects everything: this runs on every step of a replay
        node, up, depth = stack.pop()
        i = len(ids)
        ids.append(node.id)
        parents.append(None if up < 0 else ids[up])
        edges.append(node.edge)
        refs.append(node.refs)
        active.append(node.active)
        parent.append(up)
        end = depth + len(node.edge)
        x1.append(end)
        last.append(-1)  # no child yet; a child seen later overwrites it
        if up >= 0:
            last[up] = i
        stack.extend((child, i, end) for child in reversed(node.children.values()))
    y = [0.0] * len(ids)
    row = 0
    for i in range(len(ids) - 1, -1, -1):
        if last[i] < 0:
            y[i] = row
            row += 1
        else:
            y[i] = (y[i + 1] + y[last[i]]) / 2
    ends = np.array(x1, dtype=np.float64)
    lengths = np.fromiter(map(len, edges), dtype=np.float64, count=len(edges))
    return Layout(ids=ids, parents=parents, edges=edges, refs=np.array(refs, dtype=np.int64),
                  active=np.array(active, dtype=np.int64), x0=ends - lengths, x1=ends,
                  y=max(y, default=0.0) - np.array(y), parent_index=np.array(parent))


def label(lay: Layout, i: int) -> str:
    """Return node ``i``'s edge as text."""
    return " ".join(map(str, lay.edges[i]))


def prefix(lay: Layout, i: int) -> tuple[Hashable, ...]:
    """Return the blocks from the root to the end of node ``i``'s edge."""
    parts = []
    while i > 0:
        parts.append(lay.edges[i])
        i = int(lay.parent_index[i])
    return tuple(b for edge in reversed(parts) for b in edge)


def sharers(stream: list[tuple[str, ...]], lay: Layout, i: int, step: int) -> list[int]:
    """Return the indices of the first ``step`` requests that begin with node ``i``'s prefix."""
    want = prefix(lay, i)
    return [r for r, seq in enumerate(stream[:step]) if seq[:len(want)] == want]


@dataclass(frozen=True, slots=True)
class Result:
    """The tree after ``at_step`` requests, and the whole stream's sharing curves."""

    params: Params
    lengths: np.ndarray
    matched: np.ndarray
    stored: np.ndarray
    step: int
    tree_stored: int
    tree_evicted: int
    drawn: Layout
    frame: tuple[int, int]
    """Depth in blocks and leaf rows of the whole stream's tree: a fixed frame to grow into."""

    def summary(self) -> dict[str, Any]:
        """Return the headline numbers (cheap: no per-node data)."""
        total = int(self.lengths.sum())
        stored = int(self.stored[-1]) if self.stored.size else 0
        return {
            "blocks_no_share": total,
            "blocks_stored": stored,
            "blocks_saved": total - stored,
            "hit_rate": float(self.matched.sum() / total) if total else 0.0,
            "at_step": {"step": self.step, "blocks_stored": self.tree_stored, "evicted": self.tree_evicted,
                        "nodes": len(self.drawn.ids) - 1},
        }

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (field names are DESIGN.md's contract)."""
        lay = self.drawn
        return {
            **self.summary(),
            "matched": self.matched.tolist(),
            "nodes": [{"id": lay.ids[i], "parent": lay.parents[i], "label": label(lay, i),
                       "refs": int(lay.refs[i]), "active": int(lay.active[i]),
                       "x0": float(lay.x0[i]), "x1": float(lay.x1[i]), "y": float(lay.y[i])}
                      for i in range(len(lay.ids))],
        }


def compute(params: Params, counter: object = None, replay: Replay | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> Result:
    """Replay the whole stream (for the curves), then the first ``at_step`` requests (the tree)."""
    stream = params.stream()
    full = Replay(stream, params.capacity_blocks, params.hold)
    full.advance(len(stream), should_stop)
    step = len(stream) if params.at_step is None else min(params.at_step, len(stream))
    shown = replay or Replay(stream, params.capacity_blocks, params.hold)
    tree = shown.advance(step, should_stop)
    lengths = np.array([len(r) for r in stream], dtype=np.int64)
    return Result(params, lengths, np.array(full.matched, np.int64), np.array(full.stored, np.int64),
                  step, tree.stored, tree.evicted, layout(tree),
                  frame=(max(map(len, stream), default=1), sum(not n.children for n in full.tree.nodes())))
