"""The capacity trade-off: prefix hit rate against cache capacity (a miss-ratio curve).

Each point is a plain replay of the whole stream at one capacity under one eviction policy;
only the hit count is kept. The curve does not depend on the capacity slider, the policy
chosen or the step shown, so a viewer computes it once per stream and keeps it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from core.radix_replay import Replay
from core.radix_tree import POLICIES, RadixTree

AUTO_POINTS = 8
"""Capacities in an automatic sweep (geometric, up to the unbounded tree's size)..."""
SWEEP_BLOCKS = 4_000_000
"""...fewer on long streams, so one sweep replays about this many blocks in all (at least 3 points)."""


def auto_capacities(stream: Sequence[tuple[str, ...]], hold: int) -> tuple[int, ...]:
    """Return capacities from about one request's length up to what the unbounded tree stores."""
    if not stream:
        return ()
    unbounded = Replay(list(stream), None, hold, trace=False)
    top = unbounded.advance(len(stream)).stored
    low = max(1, min(int(np.median([len(s) for s in stream])), top))
    total = sum(len(s) for s in stream)
    points = max(3, min(AUTO_POINTS, SWEEP_BLOCKS // max(1, len(POLICIES) * total)))
    made = np.unique(np.geomspace(low, top, points).round().astype(int))
    return tuple(int(c) for c in made)


def hits_at(stream: list[tuple[str, ...]], capacity: int | None, hold: int, eviction: str,
            should_stop: Callable[[], bool] = lambda: False) -> int:
    """Return the prefix-hit blocks of the whole stream replayed at one capacity.

    The same steps as :class:`~core.radix_replay.Replay` with nothing recorded but the hits.
    """
    tree = RadixTree(capacity, eviction, ghosts=False)
    held: deque[tuple[str, ...]] = deque()
    hits = 0
    for r, seq in enumerate(stream):
        if hold and len(held) >= hold:
            tree.release(held.popleft())
        hits += tree.insert(seq, r, hold=hold > 0)[0]
        if hold:
            held.append(seq)
        if not r & 255 and should_stop():
            break
    return hits


def sweep(stream: list[tuple[str, ...]], hold: int, capacities: Sequence[int] | None = None,
          should_stop: Callable[[], bool] = lambda: False,
          progress: Callable[[float], None] = lambda f: None) -> tuple[dict[str, Any], ...]:
    """Return ``{capacity, eviction, hit_rate, blocks_hit}`` for every capacity and policy."""
    caps = tuple(sorted(set(capacities))) if capacities else auto_capacities(stream, hold)
    total = sum(len(s) for s in stream)
    unbounded = Replay(stream, None, hold, trace=False)
    unbounded.advance(len(stream), should_stop)
    room, free_hits = unbounded.tree.stored, sum(unbounded.matched)
    out = []
    for k, (policy, cap) in enumerate((p, c) for p in POLICIES for c in caps):
        if should_stop():
            break
        # with room for everything the stream ever stores, nothing is evicted: the unbounded hits
        hit = free_hits if cap >= room else hits_at(stream, cap, hold, policy, should_stop)
        out.append({"capacity": cap, "eviction": policy, "hit_rate": hit / total if total else 0.0,
                    "blocks_hit": hit})
        progress((k + 1) / (len(caps) * len(POLICIES)))
    return tuple(out)
