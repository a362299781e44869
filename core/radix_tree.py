"""A radix tree over block-id sequences, with reference counts and leaf eviction.

Edges hold runs of block ids; a request that diverges in the middle of an edge splits it.
One stored block per edge element, so shared prefixes are stored once. ``active`` counts the
requests holding a node right now (such a node is never evicted); ``refs`` counts every request
that ever passed through it, the sharing a viewer colors by.

Eviction removes whole leaf edges nobody holds, in the order of the policy's key: ``lru``
(least recently used first, the book's), ``lfu`` (fewest requests first, then least recent) or
``fifo`` (oldest inserted first). Evictable leaves wait in a heap with lazy deletion: an entry
whose node changed (touched, grew a child, was removed) is skipped when it surfaces, so each
eviction costs a logarithmic pop instead of a scan of the whole tree.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

Block = Hashable
POLICIES = ("lru", "lfu", "fifo")
GHOSTS_KEPT = 400
"""Recently evicted nodes remembered for a viewer (most recent last)."""


@dataclass(eq=False, slots=True)
class Node:
    """One tree node: the edge leading to it and its children by first block."""

    id: int
    parent: Node | None
    edge: tuple[Block, ...]
    children: dict[Block, Node] = field(default_factory=dict)
    refs: int = 0
    active: int = 0
    last_used: int = 0
    created: int = 0
    gids: tuple[int, ...] = ()
    """Per edge block, the id of the prefix ending there (given by the caller, or empty)."""
    evicted_by: int = -1
    """The request whose insert evicted this node (-1: still stored)."""
    order: int = 0
    """Its place among its siblings: the id of the node that first took its key in the parent's
    children (children iterate in ascending ``order``; a split's upper half inherits it)."""


def _key_lru(n: Node) -> tuple[int, ...]:
    return (n.last_used, n.id)


def _key_lfu(n: Node) -> tuple[int, ...]:
    return (n.refs, n.last_used, n.id)


def _key_fifo(n: Node) -> tuple[int, ...]:
    return (n.created, n.id)


KEYS: dict[str, Callable[[Node], tuple[int, ...]]] = {"lru": _key_lru, "lfu": _key_lfu, "fifo": _key_fifo}


class RadixTree:
    """Insert and match block sequences; evict unreferenced leaves by a policy."""

    def __init__(self, capacity: int | None = None, eviction: str = "lru", ghosts: bool = True) -> None:
        self.root = Node(0, None, ())
        self.capacity = capacity
        self.key = KEYS[eviction]
        self.stored = 0
        self.evicted = 0
        self.node_count = 1
        self.ghosts: deque[Node] = deque(maxlen=GHOSTS_KEPT if ghosts else 0)
        self.evicted_at: dict[int, int] = {}
        """Prefix id (see ``Node.gids``) -> the request whose insert last evicted it."""
        self._next_id = 1
        self._clock = 0
        self._heap: list[tuple[tuple[int, ...], int, Node]] = []
        self._pushes = 0
        self.log: list[Node] | None = None
        """When a list, every node whose fields change is appended (a viewer's incremental layout)."""

    @property
    def ids_issued(self) -> int:
        """How many node ids were handed out (ids are 0 .. this - 1, the root's 0)."""
        return self._next_id

    def _new(self, parent: Node, edge: tuple[Block, ...], gids: tuple[int, ...]) -> Node:
        node = Node(self._next_id, parent, edge, created=self._clock, gids=gids, order=self._next_id)
        self._next_id += 1
        self.node_count += 1
        parent.children[edge[0]] = node
        return node

    def _split(self, node: Node, at: int) -> Node:
        """Cut ``node``'s edge after ``at`` blocks; return the new upper node."""
        assert node.parent is not None
        upper = self._new(node.parent, node.edge[:at], node.gids[:at])
        upper.refs, upper.active, upper.last_used = node.refs, node.active, node.last_used
        upper.created, upper.order = node.created, node.order  # it takes the node's place
        node.edge, node.gids, node.parent = node.edge[at:], node.gids[at:], upper
        upper.children[node.edge[0]] = node
        if self.log is not None:
            self.log.append(node)
        return upper

    def match_prefix(self, seq: Sequence[Block]) -> int:
        """Return how many leading blocks of ``seq`` are stored."""
        node, i = self.root, 0
        while i < len(seq) and (child := node.children.get(seq[i])) is not None:
            edge = child.edge
            n = _common(edge, seq, i)
            i += n
            if n < len(edge):
                break
            node = child
        return i

    def insert(self, seq: Sequence[Block], request: int, hold: bool = False,
               gids: Sequence[int] = ()) -> tuple[int, list[Node]]:
        """Store ``seq``; return the blocks that were already stored and the path of nodes.

        With ``hold`` the request keeps an active reference on its path until :meth:`release`.
        ``gids`` (optional, one per block) name each prefix so evictions can be traced back.
        """
        self._clock += 1
        node, i, path = self.root, 0, []
        size = matched = len(seq)
        while i < size:
            child = node.children.get(seq[i])
            if child is None:
                matched = i
                child = self._new(node, tuple(seq[i:]), tuple(gids[i:]))
                self.stored += size - i
                i = size
            else:
                edge = child.edge
                n = len(edge)
                if seq[i:i + n] != edge:  # the common case, a whole edge matched, costs one compare
                    k = _common(edge, seq, i)  # (a list ``seq`` never equals a tuple edge: check)
                    if k < n:
                        child = self._split(child, k)
                    n = k
                i += n
            path.append(child)
            node = child
        for on_path in path:
            on_path.refs += 1
            on_path.last_used = self._clock
            on_path.active += hold
        if self.log is not None:
            self.log.extend(path)
        if path and not node.children and not node.active:
            self._offer(node)
        if self.capacity is not None:
            self.evict(self.capacity, request)
        return matched, path

    def release(self, seq: Sequence[Block]) -> None:
        """Drop the active references a held request put on its path.

        The path is walked afresh: splits since the insert may have added nodes to it (each
        copying the count), and a held path is never evicted, so it is all still there.
        """
        node, i, log = self.root, 0, self.log
        while i < len(seq):
            node = node.children[seq[i]]
            node.active -= 1
            if log is not None:
                log.append(node)
            i += len(node.edge)
            if not node.active and not node.children:
                self._offer(node)

    def _offer(self, node: Node) -> None:
        """Queue an evictable leaf under its current key (older entries for it go stale)."""
        if self.capacity is None:
            return
        self._pushes += 1  # a tie-break, so a node queued twice under one key never compares
        heapq.heappush(self._heap, (self.key(node), self._pushes, node))
        if len(self._heap) > 4 * self.node_count + 64:  # mostly stale: keep only live entries
            self._heap = [e for e in self._heap if self._valid(e[0], e[2])]
            heapq.heapify(self._heap)

    def _valid(self, key: tuple[int, ...], node: Node) -> bool:
        return (node.evicted_by < 0 and not node.children and not node.active
                and node is not self.root and key == self.key(node))

    def evict(self, capacity: int, request: int = -1) -> None:
        """Remove leaves nobody holds, in policy order, until at most ``capacity`` blocks remain."""
        while self.stored > capacity and self._heap:
            key, _, victim = heapq.heappop(self._heap)
            if not self._valid(key, victim):
                continue
            parent = victim.parent
            assert parent is not None
            del parent.children[victim.edge[0]]
            self.stored -= len(victim.edge)
            self.evicted += len(victim.edge)
            self.node_count -= 1
            victim.evicted_by = request
            self.ghosts.append(victim)
            if self.log is not None:
                self.log.append(victim)
            if victim.gids:
                for gid in victim.gids:
                    self.evicted_at[gid] = request
            if parent is not self.root and not parent.children and not parent.active:
                self._offer(parent)

    def nodes(self) -> list[Node]:
        """Every node, root first, children in first-block insertion order (depth first)."""
        out, stack = [], [self.root]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children.values()))
        return out


def _common(edge: tuple[Block, ...], seq: Sequence[Block], start: int) -> int:
    """Length of the common prefix of ``edge`` and ``seq[start:]``."""
    n = min(len(edge), len(seq) - start)
    if tuple(seq[start:start + n]) == edge[:n]:
        return n
    k = 0
    while k < n and edge[k] == seq[start + k]:
        k += 1
    return k
