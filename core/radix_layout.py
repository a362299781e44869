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
from itertools import repeat
from operator import attrgetter

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

    One depth-first pass (this runs on every step of a replay) records each node's parent, end
    depth and last child. Then: leaves on consecutive rows, each parent midway between its first
    and last child (in depth-first order the first child directly follows its parent); and each
    band stacked under its earlier siblings inside its parent's band.
    """
    ghosts = _ghosts_by_parent(tree, step) if tree.ghosts else {}
    order: list[Node] = []
    up: list[int] = []
    stack: list[tuple[Node, int]] = [(tree.root, -1)]
    while stack:  # depth first, children in insertion order (then this node's recent ghosts)
        node, parent = stack.pop()
        here = len(order)
        order.append(node)
        up.append(parent)
        if ghosts and id(node) in ghosts:
            stack.extend(zip(reversed([*node.children.values(), *ghosts[id(node)]]), repeat(here)))
        elif node.children:
            stack.extend(zip(reversed(node.children.values()), repeat(here)))
    edges = list(map(attrgetter("edge"), order))
    lengths = np.fromiter(map(len, edges), np.int64, len(edges))
    return assemble(_column(order, "id"), np.array(up), edges, lengths,
                    [_column(order, name) for name in ("refs", "active", "last_used", "evicted_by")], step)


def assemble(ids: np.ndarray, parent_index: np.ndarray, edges: list[tuple[Hashable, ...]],
             lengths: np.ndarray, columns: list[np.ndarray], step: int) -> Layout:
    """Place nodes given in depth-first order (root first), each with its parent's position in it.

    ``columns``: per node, ``refs``, ``active``, ``last_used`` and ``evicted_by``.
    """
    refs, active, last_used, evicted_by = columns
    x1 = _path_sums(lengths.astype(np.float64), parent_index)
    band0, band1 = _bands(refs, parent_index, max(step, 1))
    parents: list[int | None] = [None, *ids[parent_index[1:]].tolist()]
    return Layout(ids=ids.tolist(), parents=parents, edges=edges, refs=refs, active=active,
                  last_used=last_used, ghost=evicted_by >= 0, evicted_by=evicted_by, x0=x1 - lengths, x1=x1,
                  y=_rows(parent_index), band0=band0, band1=band1, parent_index=parent_index, step=step)


def _path_sums(values: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Return, per node, the sum of ``values`` from the root down to it (the root's is 0).

    Pointer jumping: each round adds the sum up to the current ancestor and jumps to that
    ancestor's ancestor, so a tree ``d`` nodes deep takes about log2(d) vectorized rounds.
    """
    total = values.astype(np.float64)
    total[0] = 0.0
    up = parent.copy()
    up[0] = 0
    while up.any():
        total, up = total + total[up], up[up]
    return total


def _rows(parent: np.ndarray) -> np.ndarray:
    """Classic rows: leaves one apart in depth-first order, each parent midway between its children."""
    n = parent.size
    last = np.full(n, -1)
    np.maximum.at(last, parent[1:], np.arange(1, n))  # each node's last child (depth first)
    leaf = last < 0
    y = np.zeros(n)
    y[leaf] = np.arange(int(leaf.sum()))[::-1]  # counted from the last leaf up
    depth = _path_sums(np.ones(n), parent)
    inner = np.flatnonzero(~leaf)
    for d in range(int(depth.max(initial=0)), -1, -1):  # children before their parents
        sel = inner[depth[inner] == d]
        y[sel] = (y[sel + 1] + y[last[sel]]) / 2  # the first child directly follows its parent
    flipped: np.ndarray = y.max(initial=0.0) - y  # the first leaf on top
    return flipped


def _column(nodes: list[Node], name: str) -> np.ndarray:
    return np.fromiter(map(attrgetter(name), nodes), dtype=np.int64, count=len(nodes))


def _bands(refs: np.ndarray, parent: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack each node's share (refs / total) under its earlier siblings, inside its parent's band."""
    n = refs.size
    height = np.minimum(refs / total, 1.0)
    height[0] = 1.0
    order = np.argsort(parent[1:], kind="stable") + 1  # siblings together, in depth-first order
    h = height[order]
    before = np.cumsum(h) - h
    first = np.ones(order.size, dtype=bool)
    first[1:] = parent[order][1:] != parent[order][:-1]
    offset = np.empty(n)
    offset[0] = 0.0
    offset[order] = before - np.maximum.accumulate(np.where(first, before, 0.0))
    band0 = _path_sums(offset, parent)
    band1 = np.minimum(band0 + height, band0[np.maximum(parent, 0)] + height[np.maximum(parent, 0)])
    band1[0] = 1.0
    return band0, np.maximum(band1, band0)


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
