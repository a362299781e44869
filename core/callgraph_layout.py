"""A layered (Sugiyama-style) drawing of a directed graph, in NumPy.

Callers sit left of their callees: cycles are broken by ignoring the edges a depth-first search
finds going back, each node's layer is its longest path from a node nobody calls, and nodes
within a layer are ordered by a few sweeps of the barycenter heuristic (the mean position of
their neighbours in the layers already placed). Tall layers wrap into several columns and
functions with no edges at all are set apart in a grid on the right, so a package with
hundreds of entry points still draws roughly square.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
SWEEPS = 4


def _acyclic(n: int, src: Ints, dst: Ints) -> NDArray[np.bool_]:
    """Mask of edges kept after dropping back edges of an iterative depth-first search."""
    order = np.argsort(src, kind="stable")
    starts = np.searchsorted(src[order], np.arange(n + 1))
    state = np.zeros(n, np.int8)  # 0 new, 1 on the stack, 2 done
    keep = np.ones(src.size, bool)
    for root in range(n):
        if state[root]:
            continue
        stack = [(root, int(starts[root]))]
        state[root] = 1
        while stack:
            v, i = stack[-1]
            if i == starts[v + 1]:
                state[v] = 2
                stack.pop()
                continue
            stack[-1] = (v, i + 1)
            e = int(order[i])
            w = int(dst[e])
            if state[w] == 1:
                keep[e] = False  # back edge: it would close a cycle
            elif state[w] == 0:
                state[w] = 1
                stack.append((w, int(starts[w])))
    return keep


def _layers(n: int, src: Ints, dst: Ints) -> Ints:
    """Longest-path layer of every node over an acyclic edge set (Kahn's order)."""
    layer = np.zeros(n, np.int64)
    indegree = np.bincount(dst, minlength=n)
    order = np.argsort(src, kind="stable")
    starts = np.searchsorted(src[order], np.arange(n + 1))
    ready: list[int] = np.flatnonzero(indegree == 0).tolist()
    while ready:
        v = ready.pop()
        for e in order[starts[v]:starts[v + 1]].tolist():
            w = int(dst[e])
            layer[w] = max(layer[w], layer[v] + 1)
            indegree[w] -= 1
            if indegree[w] == 0:
                ready.append(w)
    return layer


def _rank(layer: Ints, key: Floats) -> Floats:
    """Place of each node within its layer when the layer is sorted by ``key`` (ties: index).

    One stable sort over all nodes: a loop over layers cost O(layers x nodes), 8 s for a
    40,000-deep call chain (issue 28).
    """
    ranked = np.lexsort((key, layer))  # by layer, then key; stable, so ties keep index order
    starts = np.searchsorted(layer[ranked], layer[ranked], side="left")
    pos = np.empty(layer.size, np.float64)
    pos[ranked] = np.arange(layer.size) - starts
    return pos


def _order(layer: Ints, src: Ints, dst: Ints) -> Floats:
    """Position of each node within its layer after barycenter sweeps (0..size-1)."""
    n = layer.size
    pos = _rank(layer, np.zeros(n))
    for sweep in range(SWEEPS):
        a, b = (src, dst) if sweep % 2 == 0 else (dst, src)  # forward: order by callers' places
        total = np.bincount(b, weights=pos[a], minlength=n)
        count = np.bincount(b, minlength=n)
        bary = np.where(count > 0, total / np.maximum(count, 1), pos)
        pos = _rank(layer, bary)
    return pos


def layered(n: int, edges: Ints) -> tuple[Floats, Floats]:
    """Return x (layer) and y (place in layer, centred) for ``n`` nodes and ``edges`` (m x 2)."""
    if n == 0:
        return np.zeros(0), np.zeros(0)
    edges = edges.reshape(-1, 2).astype(np.int64)
    edges = edges[edges[:, 0] != edges[:, 1]]  # recursion draws no edge
    src, dst = edges[:, 0], edges[:, 1]
    linked = np.zeros(n, bool)
    linked[src] = linked[dst] = True
    keep = _acyclic(n, src, dst)
    layer = _layers(n, src[keep], dst[keep])
    pos = _order(layer, src[keep], dst[keep])
    # a layer taller than `cap` wraps into side-by-side columns, so a package whose hundreds of
    # entry points share layer 0 still draws roughly square
    cap = max(8, int(np.ceil(1.5 * np.sqrt(max(int(linked.sum()), 1)))))
    sizes = np.bincount(layer[linked], minlength=int(layer.max(initial=0)) + 1)
    widths = -(-sizes // cap)
    offset = np.concatenate([[0], np.cumsum(widths + 1)[:-1]]).astype(np.float64)
    x = offset[layer] + pos // cap
    y = pos % cap - (np.minimum(sizes[layer], cap) - 1) / 2
    alone = np.flatnonzero(~linked)
    if alone.size:
        side = max(1, int(np.ceil(np.sqrt(alone.size))))
        first = (x[linked].max() + 2) if linked.any() else 0.0
        x[alone] = first + np.arange(alone.size) % side
        y[alone] = np.arange(alone.size) // side - (alone.size // side) / 2
    return x, y
