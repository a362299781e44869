"""The radix tree's layout kept up to date step by step: node columns by id, ordered with NumPy.

:func:`core.radix_layout.layout` walks every node in Python, which at a few thousand nodes is
most of a step tick. A :class:`LayoutTable` keeps each node's fields in arrays indexed by node
id; after a step it rewrites only the nodes the tree logged as changed (``RadixTree.log``: the
paths of the requests inserted and released, split halves, evicted nodes) and finds the
depth-first order with array operations: subtree sizes summed level by level, each node placed
after its parent and its earlier siblings (siblings ordered by ``Node.order``, the order of the
parent's children). The result is the same :class:`~core.radix_layout.Layout` as the walk's.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

import numpy as np

from core.radix_layout import GHOST_STEPS, Layout, _path_sums, assemble, layout
from core.radix_tree import Node, RadixTree

DEEP = 256
"""Trees deeper than this many nodes are laid out by the plain walk (one array pass per level)."""
_FIELDS = ("parent_id", "length", "refs", "active", "last_used", "evicted_by", "order")
_GONE = -2
"""``evicted_by`` of an id with no row (evicted and forgotten before the columns were built)."""


def _parent_id(node: Node) -> int:
    return -1 if node.parent is None else node.parent.id


_GETTERS: dict[str, Callable[[Node], int]] = {"parent_id": _parent_id, "length": lambda n: len(n.edge), **{
    name: attrgetter(name) for name in ("refs", "active", "last_used", "evicted_by", "order")}}


class LayoutTable:
    """Node fields by id for one tree at a time; :meth:`layout` lays out the tree as it is now."""

    def __init__(self) -> None:
        self._tree: RadixTree | None = None
        self._cols: dict[str, np.ndarray] = {}
        self._edges = np.empty(0, dtype=object)

    def _grow(self, size: int) -> None:
        have = self._edges.size
        if size <= have:
            return
        size = max(size, 2 * have, 64)
        for name in _FIELDS:
            col = np.full(size, _GONE if name == "evicted_by" else -1, dtype=np.int64)
            col[:have] = self._cols[name][:have] if name in self._cols else -1
            self._cols[name] = col
        edges = np.empty(size, dtype=object)
        edges[:have] = self._edges
        self._edges = edges

    def _write(self, nodes: list[Node]) -> None:
        """Copy the current fields of ``nodes`` into the columns (a node listed twice: same values)."""
        if not nodes:
            return
        ids = np.fromiter(map(attrgetter("id"), nodes), dtype=np.int64, count=len(nodes))
        self._grow(int(ids.max()) + 1)
        for name in _FIELDS:
            self._cols[name][ids] = np.fromiter(map(_GETTERS[name], nodes), dtype=np.int64, count=len(nodes))
        edges = np.empty(len(nodes), dtype=object)
        edges[:] = list(map(attrgetter("edge"), nodes))
        self._edges[ids] = edges

    def _sync(self, tree: RadixTree) -> None:
        if tree is not self._tree or tree.log is None:  # another tree (a replay from the start)
            self._tree, self._cols, self._edges = tree, {}, np.empty(0, dtype=object)
            tree.log = []
            self._write([*tree.nodes(), *tree.ghosts])
            return
        log, tree.log = tree.log, []
        self._write(log)

    def layout(self, tree: RadixTree, step: int) -> Layout:
        """Return ``core.radix_layout.layout(tree, step)``, from the columns brought up to date."""
        self._sync(tree)
        cols = self._cols
        issued = tree.ids_issued
        self._grow(issued)
        alive = np.flatnonzero(cols["evicted_by"][:issued] == -1)  # every stored node, the root first
        ghost_ids, ghost_parents = self._recent_ghosts(tree, step, cols["evicted_by"])
        nodes = np.concatenate([alive, ghost_ids])
        parent_id = np.concatenate([cols["parent_id"][alive], ghost_parents])
        # siblings: stored children by their order, then the parent's ghosts as they were evicted
        rank = np.concatenate([cols["order"][alive], issued + np.arange(ghost_ids.size)])
        local = np.full(issued, -1, dtype=np.int64)
        local[nodes] = np.arange(nodes.size)
        parent = local[np.maximum(parent_id, 0)]
        parent[0] = -1
        pos = _preorder(parent, rank)
        if pos is None:
            return layout(tree, step)
        order = np.empty_like(pos)
        order[pos] = np.arange(pos.size)
        ids = nodes[order]
        up = pos[parent[order]]
        up[0] = -1
        return assemble(ids, up, self._edges[ids].tolist(), cols["length"][ids],
                        [cols[name][ids] for name in ("refs", "active", "last_used", "evicted_by")], step)

    @staticmethod
    def _recent_ghosts(tree: RadixTree, step: int, evicted_by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the ghosts a walk would reach (evicted lately, under a node it reaches) and parents.

        The ghosts are in eviction order and a parent is evicted after its children, so walking
        them newest first decides each parent before the ghosts under it.
        """
        reached: set[int] = set()
        kept: list[Node] = []
        for node in reversed(tree.ghosts):
            if node.evicted_by < step - GHOST_STEPS:
                break  # evicted in request order: every older one is older still
            up = node.parent
            if up is not None and (evicted_by[up.id] == -1 or up.id in reached):
                kept.append(node)
                reached.add(node.id)
        kept.reverse()
        return (np.array([n.id for n in kept], dtype=np.int64),
                np.array([_parent_id(n) for n in kept], dtype=np.int64))


def _preorder(parent: np.ndarray, rank: np.ndarray) -> np.ndarray | None:
    """Return each node's depth-first position (root 0; siblings by ascending ``rank``).

    ``None`` when the tree is deeper than :data:`DEEP` (a level-by-level pass would be slow).
    """
    n = parent.size
    up = np.maximum(parent, 0)
    depth = _path_sums(np.ones(n), up).astype(np.int64)
    top = int(depth.max(initial=0))
    if top > DEEP:
        return None
    by_depth = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[by_depth], np.arange(top + 2))
    size = np.ones(n, dtype=np.int64)
    for d in range(top, 0, -1):  # children before parents: each subtree's node count
        level = by_depth[bounds[d]:bounds[d + 1]]
        np.add.at(size, up[level], size[level])
    sib = np.lexsort((rank[1:], up[1:])) + 1  # siblings together, in their order
    s = size[sib]
    before = np.cumsum(s) - s
    first = np.ones(sib.size, dtype=bool)
    first[1:] = up[sib][1:] != up[sib][:-1]
    offset = np.zeros(n)
    offset[sib] = before - np.maximum.accumulate(np.where(first, before, 0))
    steps = 1.0 + offset
    steps[0] = 0.0
    pos: np.ndarray = _path_sums(steps, up).astype(np.int64)
    return pos
