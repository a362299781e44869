"""Why did request ``r`` miss? Its matched prefix, where it left the closest cached path, and why.

The tree is replayed to just before ``r`` (what ``r`` met). Walking ``r``'s blocks down it gives
the matched prefix; the cached path it diverged from continues with the next block on the same
edge or, at a node, with the most recently used child. For text prompts the two blocks at the
divergence are compared word by word.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from core.radix_replay import Replay
from core.radix_tree import Node, RadixTree


@dataclass(frozen=True, slots=True)
class Miss:
    """One request's miss, explained."""

    request: int
    matched: int
    needed: int
    reason: str
    """``hit`` (nothing to compute), ``new`` (never stored before) or ``evicted``."""
    evicted_by: int | None
    request_block: str | None
    """The request's first block not served from the cache."""
    cached_block: str | None
    """The block the closest cached path holds at that position (``None``: the path ends there)."""
    diff: tuple[tuple[str, str, str], ...]
    """Word-level ``(tag, request words, cached words)`` runs (difflib's opcode tags)."""
    prefix: str = ""
    """The matched blocks, joined by spaces."""


def _continuation(tree: RadixTree, seq: tuple[str, ...], matched: int) -> str | None:
    """Return the cached block that follows ``seq[:matched]`` in ``tree`` (most recent branch)."""
    node: Node = tree.root
    i = 0
    while i < matched:
        child = node.children[seq[i]]
        take = min(len(child.edge), matched - i)
        if take < len(child.edge):
            return str(child.edge[take])
        i += take
        node = child
    if not node.children:
        return None
    return str(max(node.children.values(), key=lambda c: c.last_used).edge[0])


def word_diff(a: str, b: str) -> tuple[tuple[str, str, str], ...]:
    """Return ``(tag, a words, b words)`` runs turning ``a`` into ``b`` (whitespace words)."""
    wa, wb = a.split(), b.split()
    ops = difflib.SequenceMatcher(a=wa, b=wb, autojunk=False).get_opcodes()
    return tuple((tag, " ".join(wa[i0:i1]), " ".join(wb[j0:j1])) for tag, i0, i1, j0, j1 in ops)


def explain(stream: list[tuple[str, ...]], capacity: int | None, hold: int, eviction: str,
            request: int) -> Miss:
    """Explain request ``request`` of ``stream`` replayed under this cache."""
    replay = Replay(stream, capacity, hold, eviction)
    seq = stream[request]
    tree = replay.advance(request)  # what the request met
    cached = _continuation(tree, seq, tree.match_prefix(seq))
    replay.advance(request + 1)
    matched, seen, by = replay.matched[request], replay.seen[request], replay.evicted_by[request]
    prefix = " ".join(map(str, seq[:matched]))
    if matched >= len(seq):
        return Miss(request, matched, len(seq), "hit", None, None, None, (), prefix)
    mine = str(seq[matched])
    evicted = matched < seen
    return Miss(request, matched, len(seq), "evicted" if evicted else "new",
                by if evicted and by >= 0 else None, mine, cached,
                word_diff(mine, cached) if cached is not None else (), prefix)


_Trie = dict[str, "_Trie"]
"""A word trie: each word leads to the trie of the words that followed it."""


def shared_words(lines: Sequence[Sequence[str]]) -> list[int]:
    """For each request (a list of words), how many leading words it shares with an earlier one.

    A plain word trie: one dictionary step per word, so a whole stream costs its word count.
    """
    root: _Trie = {}
    out = []
    for words in lines:
        node, shared, new = root, 0, False
        for word in words:
            nxt = node.get(word)
            if nxt is None:
                new = True
                nxt = node[word] = {}
            elif not new:
                shared += 1
            node = nxt
        out.append(shared)
    return out
