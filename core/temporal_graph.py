"""The temporal lever's engine: instants as seconds, the sorted graph, tilings, queries, history.

Instants are ISO dates or date-times, held as int64 seconds since the epoch (UTC). The events
sit sorted by (key, start) in one array (:class:`Graph`); a :class:`Tiling` closes each fact
at the next later-starting fact of its key among those recorded by a transaction time, and a
query for every key at once is a single ``searchsorted``. :mod:`core.temporal` (the lever:
events, params, ``prepare`` / ``derive``) re-exports these names.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from core.errors import InputError

if TYPE_CHECKING:
    from core.temporal import Event, Params, Query

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST = int((datetime(1, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
LAST = int((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - _EPOCH).total_seconds())
"""The instants Python's calendar can show back (in UTC)."""
NEVER = np.iinfo(np.int64).max
"""The end of an open interval, in seconds (and the known_at of a plain query)."""

Ints = NDArray[np.int64]


def to_seconds(value: object, where: str) -> int:
    """Parse an ISO date or date-time into seconds since the epoch (naive times are UTC)."""
    if not isinstance(value, str):
        raise InputError(f"{where}: expected an ISO date like 2024-01-31, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int((moment - _EPOCH).total_seconds())
    if not FIRST <= seconds <= LAST:  # an offset can push year 1 or 9999 out of the calendar
        raise InputError(f"{where}: {value!r} is outside 0001-01-01 .. 9999-12-31 in UTC")
    return seconds


@functools.lru_cache(maxsize=4096)  # a graph's instants repeat (a generated one has ~2,200 days)
def to_iso(seconds: int) -> str:
    """Return ``YYYY-MM-DD`` for a midnight, else ``YYYY-MM-DDTHH:MM:SS`` (UTC).

    Instants outside the calendar (a chart's margin past year 1 or 9999) name its first or
    last second.
    """
    seconds = min(max(int(seconds), FIRST), LAST)
    moment = _EPOCH + timedelta(seconds=seconds)
    return moment.date().isoformat() if seconds % 86_400 == 0 else moment.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True, slots=True)
class Graph:
    """The events as arrays, sorted by (key, valid_from, ingested_on, input order)."""

    keys: tuple[tuple[str, str], ...]
    """(subject, predicate) per key id, in order of first appearance."""
    objects: tuple[str, ...]
    """Value per event, in sorted order."""
    key: Ints
    start: Ints
    ingested: Ints
    order: Ints
    """Input position of each sorted event."""
    value: Ints
    """Id of each sorted event's object (ids in order of first appearance): equal ids, equal values."""

    @classmethod
    def build(cls, events: Sequence[Event], progress: Any = None) -> Graph:
        """Index ``events`` (seconds, key ids) and sort them for tiling (``progress`` hears 0 to 1)."""
        tell = progress or (lambda _f: None)
        key_ids: dict[tuple[str, str], int] = {}
        key = np.fromiter((key_ids.setdefault((e.subject, e.predicate), len(key_ids)) for e in events),
                          np.int64, len(events))
        tell(0.2)
        start = np.array([to_seconds(e.valid_from, "valid_from") for e in events], np.int64)
        tell(0.5)
        ingested = np.array([to_seconds(e.ingested_on, "ingested_on") if e.ingested_on else s
                             for e, s in zip(events, start.tolist(), strict=True)], np.int64)
        tell(0.7)
        order = np.lexsort((np.arange(len(events)), ingested, start, key))
        tell(0.8)
        objects = tuple(events[i].object for i in order.tolist())
        value_ids: dict[str, int] = {}
        value = np.fromiter((value_ids.setdefault(o, len(value_ids)) for o in objects), np.int64,
                            len(objects))
        tell(1.0)
        return cls(tuple(key_ids), objects, key[order], start[order], ingested[order], order, value)

    def tile(self, known_at: int = NEVER) -> Tiling:
        """Tile valid time with the events recorded by ``known_at``."""
        seen = np.flatnonzero(self.ingested <= known_at)
        k, s = self.key[seen], self.start[seen]
        end = np.full(seen.size, NEVER, np.int64)
        if seen.size > 1:
            end[:-1] = np.where(k[1:] == k[:-1], s[1:], NEVER)
        return Tiling(self, seen, end)


@dataclass(frozen=True, slots=True)
class Tiling:
    """Facts visible at one transaction time, with their validity ends; queries are bisections."""

    graph: Graph
    seen: Ints
    """Sorted-event positions that were recorded by the transaction time."""
    end: Ints
    """Valid-to of each seen fact (``NEVER``: open)."""

    def lookup(self, keys: Ints, at: Ints) -> Ints:
        """Return the seen position true at each (key, at), or -1 where nothing held yet.

        One bisection for all pairs: within a key the winner is the last start <= ``at``.
        """
        g = self.graph
        k = g.key[self.seen]
        upto = np.searchsorted(_composite(k, g.start[self.seen]), _composite(keys, at), side="right") - 1
        hit = (upto >= 0) & (k[np.clip(upto, 0, None)] == keys) if k.size else np.zeros(keys.size, bool)
        return np.where(hit, upto, -1)

    def snapshot(self, at: int) -> Ints:
        """Seen position true at ``at`` for every key (-1: no fact yet)."""
        n_keys = len(self.graph.keys)
        return self.lookup(np.arange(n_keys, dtype=np.int64), np.full(n_keys, at, np.int64))

    def latest_recorded(self) -> Ints:
        """Seen position a naive latest-value store holds per key (last recorded wins)."""
        g = self.graph
        k = g.key[self.seen]
        rank = np.lexsort((g.order[self.seen], g.ingested[self.seen], k))
        last = np.full(len(g.keys), -1, np.int64)
        last[k[rank]] = rank
        return last


def _composite(key: Ints, start: Ints) -> Ints:
    # key-major order that one searchsorted can bisect: starts within +-2^39 s (17,000 years)
    return key * 2**40 + np.clip(start, -(2**39), 2**39 - 1) + 2**39


@dataclass(frozen=True, slots=True)
class Result:
    """The tiled graph at ``known_at``, the book's answers, and the as-of snapshot."""

    params: Params
    graph: Graph
    tiling: Tiling
    current: Tiling
    """Everything recorded (what queries without their own known_at see)."""
    as_of: int
    answers: tuple[str | None, ...]

    def edges(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Return the visible facts with their intervals, in (key, start) order."""
        g, t = self.graph, self.tiling
        out = []
        for i, p in enumerate(t.seen[:limit].tolist()):
            subject, predicate = g.keys[int(g.key[p])]
            end = int(t.end[i])
            out.append({"subject": subject, "predicate": predicate, "object": g.objects[p],
                        "valid_from": to_iso(int(g.start[p])),
                        "valid_to": None if end == NEVER else to_iso(end),
                        "ingested_on": to_iso(int(g.ingested[p]))})
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Per key: the value at ``as_of`` and what a latest-value store answers (both at ``known_at``)."""
        g, t = self.graph, self.tiling
        at, naive = t.snapshot(self.as_of), t.latest_recorded()
        out = []
        for key, (subject, predicate) in enumerate(g.keys):
            value = _object(g, t, int(at[key]))
            stored = _object(g, t, int(naive[key]))
            out.append({"subject": subject, "predicate": predicate, "value": value, "naive": stored,
                        "naive_wrong": stored != value})
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (field names are DESIGN.md's contract)."""
        return {"edges": self.edges(), "answers": list(self.answers), "as_of": to_iso(self.as_of),
                "known_at": self.params.known_at, "rows": self.rows()}


def _object(g: Graph, t: Tiling, pos: int) -> str | None:
    return None if pos < 0 else g.objects[int(t.seen[pos])]


def answer(graph: Graph, key_ids: dict[tuple[str, str], int], tilings: dict[int, Tiling],
           query: Query) -> str | None:
    """Answer one book query (tilings are cached per known_at)."""
    key_id = key_ids.get((query.subject, query.predicate))
    if key_id is None:
        return None
    known = NEVER if query.known_at is None else to_seconds(query.known_at, "known_at")
    tiling = tilings.get(known) or tilings.setdefault(known, graph.tile(known))
    pos = int(tiling.lookup(np.array([key_id]), np.array([to_seconds(query.at, "at")]))[0])
    return _object(graph, tiling, pos)


def answer_all(graph: Graph, key_ids: dict[tuple[str, str], int], tilings: dict[int, Tiling],
               queries: Sequence[Query]) -> tuple[str | None, ...]:
    """Answer every query as :func:`answer` does, with one tiling and bisection per known-at.

    A tiling not in ``tilings`` is built once and let go after its queries.
    """
    out: list[str | None] = [None] * len(queries)
    groups: dict[int, list[tuple[int, int]]] = {}
    for i, q in enumerate(queries):
        key_id = key_ids.get((q.subject, q.predicate))
        if key_id is not None:
            known = NEVER if q.known_at is None else to_seconds(q.known_at, "known_at")
            groups.setdefault(known, []).append((i, key_id))
    for known, found in groups.items():
        tiling = tilings.get(known) or graph.tile(known)
        keys = np.array([k for _i, k in found], np.int64)
        at = np.array([to_seconds(queries[i].at, "at") for i, _k in found], np.int64)
        for (i, _k), pos in zip(found, tiling.lookup(keys, at).tolist(), strict=True):
            out[i] = _object(graph, tiling, pos)
    return tuple(out)


def history(result: Result, key: int) -> list[dict[str, Any]]:
    """Bi-temporal rectangles of one key: each fact's validity over the span it was believed.

    Returns ``{object, value, valid_from, valid_to, recorded, superseded}`` in seconds (``NEVER`` for
    open), one per (fact, valid_to) version: a back-dated recording shortens an interval, and
    the old version's belief ends when the new one is recorded.
    """
    g = result.graph
    mine = np.flatnonzero(g.key == key)
    times = np.unique(g.ingested[mine])
    versions: dict[tuple[int, int], dict[str, Any]] = {}
    for i, t in enumerate(times.tolist()):
        nxt = int(times[i + 1]) if i + 1 < times.size else NEVER
        visible = mine[g.ingested[mine] <= t]
        ends = np.append(g.start[visible][1:], NEVER)
        for p, end in zip(visible.tolist(), ends.tolist(), strict=True):
            v = versions.get((p, end))
            if v is not None and v["superseded"] == t:
                v["superseded"] = nxt
            else:
                versions[(p, end)] = {"object": g.objects[p], "value": int(g.value[p]),
                                       "valid_from": int(g.start[p]), "valid_to": end,
                                      "recorded": t, "superseded": nxt}
    return list(versions.values())
