"""Where a radix tree's nodes are drawn: a classic tree and an icicle (partition) layout.

Both come out of one depth-first pass. Classic: depth in blocks across, leaves one row apart,
each parent midway between its first and last child. Icicle: x is still the edge's block span,
and the vertical axis is split among requests: each node gets a band whose height is the share
of the requests replayed so far that passed through it, children stacked inside their
parent's band in insertion order (so bands do not jump as the stream grows). Nodes evicted in
the last few steps are laid out as ghosts in the place they held.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from core.radix_tree import Node, RadixTree

GHOST_STEPS = 3
"""Evicted nodes stay in the layout (flagged) for this many steps after their eviction."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each node is drawn and what it holds.

    Node ``i``'s edge spans ``x0..x1`` blocks deep; classic row ``y``; icicle band
    ``band0..band1`` (fractions of the requests). Everything is copied out of the tree so a
    later replay cannot change it under a viewer.
    """

    ids: list[int]
    parents: list[int | None]
    edges: list[tuple[Hashable, ...]]
    """Each node's edge (tuples are immutable, so sharing them with the live tree is safe)."""
    refs: np.ndarray
    active: np.ndarray
    last_used: np.ndarray
    """The step (1-based request count) at which each node was last on a request's path."""
    ghost: np.ndarray
    """True for a node evicted in the last :data:`GHOST_STEPS` steps (not stored any more)."""
    evicted_by: np.ndarray
    x0: np.ndarray
    x1: np.ndarray
    y: np.ndarray
    band0: np.ndarray
    band1: np.ndarray
    parent_index: np.ndarray
    step: int = 0


def _ghosts_by_parent(tree: RadixTree, step: int) -> dict[int, list[Node]]:
    out: dict[int, list[Node]] = {}
    for node in tree.ghosts:
        if node.evicted_by >= step - GHOST_STEPS and node.parent is not None:
            out.setdefault(id(node.parent), []).append(node)
    return out


def layout(tree: RadixTree, step: int = 0) -> Layout:
    """Lay the tree (and its recent ghosts) out; ``step`` is the number of requests replayed.

    One depth-first pass records each node's parent, end depth, band and last child; one
    backward pass puts leaves on consecutive rows and each parent midway between its first and
    last child (in depth-first order the first child directly follows its parent).
    """
    ghosts = _ghosts_by_parent(tree, step)
    total = max(step, 1)
    ids: list[int] = []
    parents: list[int | None] = []
    edges: list[tuple[Hashable, ...]] = []
    names = ("refs", "active", "last", "ghost", "by", "parent", "x1", "child")
    cols: dict[str, list[int]] = {k: [] for k in names}
    bands: list[float] = []
    heights: list[float] = []
    stack: list[tuple[Node, int, int, float, float]] = [(tree.root, -1, 0, 0.0, 1.0)]
    while stack:  # one pass collects everything: this runs on every step of a replay
        node, up, depth, b0, room = stack.pop()
        i = len(ids)
        ids.append(node.id)
        parents.append(None if up < 0 else ids[up])
        edges.append(node.edge)
        for key, value in (("refs", node.refs), ("active", node.active), ("last", node.last_used),
                           ("ghost", node.evicted_by >= 0), ("by", node.evicted_by), ("parent", up),
                           ("x1", depth + len(node.edge)), ("child", -1)):
            cols[key].append(value)
        if up >= 0:
            cols["child"][up] = i  # the last child seen wins
        bands.append(b0)
        heights.append(room)
        kids = list(node.children.values()) + ghosts.get(id(node), [])
        placed, offset, end = [], b0, b0 + room
        for kid in kids:
            h = min(kid.refs / total, end - offset)  # never out of the parent's band
            placed.append((kid, i, depth + len(node.edge), offset, max(h, 0.0)))
            offset += max(h, 0.0)
        stack.extend(reversed(placed))
    n = len(ids)
    last = cols["child"]
    y = [0.0] * n
    row = 0
    for i in range(n - 1, -1, -1):
        if last[i] < 0:
            y[i] = row
            row += 1
        else:
            y[i] = (y[i + 1] + y[last[i]]) / 2
    ends = np.array(cols["x1"], dtype=np.float64)
    lengths = np.fromiter(map(len, edges), dtype=np.float64, count=n)
    band0 = np.array(bands)
    return Layout(ids=ids, parents=parents, edges=edges, refs=np.array(cols["refs"], dtype=np.int64),
                  active=np.array(cols["active"], dtype=np.int64),
                  last_used=np.array(cols["last"], dtype=np.int64),
                  ghost=np.array(cols["ghost"], dtype=bool), evicted_by=np.array(cols["by"], dtype=np.int64),
                  x0=ends - lengths, x1=ends, y=max(y, default=0.0) - np.array(y),
                  band0=band0, band1=band0 + np.array(heights), parent_index=np.array(cols["parent"]),
                  step=step)


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


def subtree(lay: Layout, i: int) -> np.ndarray:
    """Return the indices of node ``i`` and every node under it (depth-first order: contiguous)."""
    inside = np.zeros(len(lay.ids), dtype=bool)
    inside[i] = True
    for j in range(i + 1, len(lay.ids)):
        if not inside[lay.parent_index[j]]:
            break
        inside[j] = True
    return np.flatnonzero(inside)
