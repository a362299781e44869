"""A radix tree over block-id sequences, with reference counts and LRU leaf eviction.

Edges hold runs of block ids; a request that diverges in the middle of an edge splits it.
One stored block per edge element, so shared prefixes are stored once. ``active`` counts the
requests holding a node right now (such a node is never evicted); ``refs`` counts every request
that ever passed through it, the sharing a viewer colors by.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

Block = Hashable


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


class RadixTree:
    """Insert and match block sequences; evict unreferenced least-recently-used leaves."""

    def __init__(self, capacity: int | None = None) -> None:
        self.root = Node(0, None, ())
        self.capacity = capacity
        self.stored = 0
        self.evicted = 0
        self._next_id = 1
        self._clock = 0

    def _new(self, parent: Node, edge: tuple[Block, ...]) -> Node:
        node = Node(self._next_id, parent, edge)
        self._next_id += 1
        parent.children[edge[0]] = node
        return node

    def _split(self, node: Node, at: int) -> Node:
        """Cut ``node``'s edge after ``at`` blocks; return the new upper node."""
        assert node.parent is not None
        upper = self._new(node.parent, node.edge[:at])
        upper.refs, upper.active, upper.last_used = node.refs, node.active, node.last_used
        node.edge, node.parent = node.edge[at:], upper
        upper.children[node.edge[0]] = node
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

    def insert(self, seq: Sequence[Block], request: int, hold: bool = False) -> tuple[int, list[Node]]:
        """Store ``seq``; return the blocks that were already stored and the path of nodes.

        With ``hold`` the request keeps an active reference on its path until :meth:`release`.
        """
        self._clock += 1
        node, i, path = self.root, 0, []
        matched = -1
        while i < len(seq):
            child = node.children.get(seq[i])
            if child is None:
                matched = i if matched < 0 else matched
                child = self._new(node, tuple(seq[i:]))
                self.stored += len(child.edge)
                i = len(seq)
            else:
                n = _common(child.edge, seq, i)
                if n < len(child.edge):
                    child = self._split(child, n)
                i += n
            path.append(child)
            node = child
        matched = len(seq) if matched < 0 else matched
        for on_path in path:
            on_path.refs += 1
            on_path.last_used = self._clock
            on_path.active += hold
        if self.capacity is not None:
            self.evict(self.capacity)
        return matched, path

    def release(self, seq: Sequence[Block]) -> None:
        """Drop the active references a held request put on its path.

        The path is walked afresh: splits since the insert may have added nodes to it (each
        copying the count), and a held path is never evicted, so it is all still there.
        """
        node, i = self.root, 0
        while i < len(seq):
            node = node.children[seq[i]]
            node.active -= 1
            i += len(node.edge)

    def evict(self, capacity: int) -> None:
        """Remove least-recently-used leaves nobody holds until at most ``capacity`` blocks remain."""
        if self.stored <= capacity:
            return
        heap = [(n.last_used, n.id, n) for n in self.nodes()
                if not n.children and n.active == 0 and n is not self.root]
        heapq.heapify(heap)
        while self.stored > capacity and heap:
            _, _, victim = heapq.heappop(heap)
            parent = victim.parent
            assert parent is not None
            del parent.children[victim.edge[0]]
            self.stored -= len(victim.edge)
            self.evicted += len(victim.edge)
            if parent is not self.root and not parent.children and parent.active == 0:
                heapq.heappush(heap, (parent.last_used, parent.id, parent))

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
