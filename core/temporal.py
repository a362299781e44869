"""Temporal knowledge graph lever (book chapter 10): facts with validity intervals, bi-temporal.

Each event says that (subject, predicate) took the value ``object`` from ``valid_from`` on,
and was recorded on ``ingested_on`` (transaction time; default ``valid_from``). Per key the
facts tile valid time: a fact holds until the next later-starting fact of its key, so a newer
fact closes the open one (close, never delete) and a back-dated fact lands between two others.
When two facts start on the same instant, the one recorded later wins and the other keeps an
empty interval (it was superseded, not erased).

``known_at`` replays the past: only facts recorded by then exist, so facts ingested later
disappear and the intervals they closed are open again.

Instants are ISO dates or date-times, held as int64 seconds since the epoch (UTC) so a whole
graph is re-tiled and queried with NumPy: the tiled facts sit sorted by (key, start) in one
array and a query for every key at once is a single ``searchsorted``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core import fields
from core.errors import InputError

MAX_EVENTS = 500_000
MAX_QUERIES = 1_000
"""Point queries a scenario may ask. Queries sharing a known-at are answered in one bisection,
but each distinct known-at replays the graph (up to :data:`MAX_EVENTS` facts): 1,000 queries
with 1,000 different known-at instants take seconds on the largest graph. The book asks five."""
_WHERE = "params"
_EVENT_KEYS = ("subject", "predicate", "object", "valid_from", "ingested_on")
_QUERY_KEYS = ("subject", "predicate", "at", "known_at")
_GEN_KEYS = ("keys", "events", "seed", "backdated")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST = int((datetime(1, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
LAST = int((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - _EPOCH).total_seconds())
"""The instants Python's calendar can show back (in UTC)."""
_NEVER = np.iinfo(np.int64).max
"""The end of an open interval (and the known_at of a plain query)."""

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


def to_iso(seconds: int) -> str:
    """Return ``YYYY-MM-DD`` for a midnight, else ``YYYY-MM-DDTHH:MM:SS`` (UTC).

    Instants outside the calendar (a chart's margin past year 1 or 9999) name its first or
    last second.
    """
    seconds = min(max(int(seconds), FIRST), LAST)
    moment = _EPOCH + timedelta(seconds=seconds)
    return moment.date().isoformat() if seconds % 86_400 == 0 else moment.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded fact."""

    subject: str
    predicate: str
    object: str
    valid_from: str
    ingested_on: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the event as JSON-safe data (``ingested_on`` only when given)."""
        out = {"subject": self.subject, "predicate": self.predicate, "object": self.object,
               "valid_from": self.valid_from}
        return out if self.ingested_on is None else {**out, "ingested_on": self.ingested_on}


@dataclass(frozen=True, slots=True)
class Query:
    """A point question: the value of (subject, predicate) at ``at``, as known at ``known_at``."""

    subject: str
    predicate: str
    at: str
    known_at: str | None = None


def _event(data: object, where: str) -> Event:
    d = fields.mapping(data, where)
    fields.only_keys(d, _EVENT_KEYS, where)
    values = {k: fields.text(d, k, where) for k in ("subject", "predicate", "object", "valid_from")}
    ingested = d.get("ingested_on")
    event = Event(**values, ingested_on=None if ingested is None else fields.text(d, "ingested_on", where))
    to_seconds(event.valid_from, f"{where}.valid_from")
    if event.ingested_on is not None:
        to_seconds(event.ingested_on, f"{where}.ingested_on")
    return event


def _query(data: object, where: str) -> Query:
    d = fields.mapping(data, where)
    fields.only_keys(d, _QUERY_KEYS, where)
    known = d.get("known_at")
    query = Query(fields.text(d, "subject", where), fields.text(d, "predicate", where),
                  fields.text(d, "at", where), None if known is None else fields.text(d, "known_at", where))
    to_seconds(query.at, f"{where}.at")
    if query.known_at is not None:
        to_seconds(query.known_at, f"{where}.known_at")
    return query


def _instant(value: object, where: str) -> str:
    to_seconds(value, where)
    return str(value)


def _events(value: object, where: str) -> tuple[Event, ...]:
    raw = fields.sequence(value, where)
    if len(raw) > MAX_EVENTS:
        raise InputError(f"{where}: at most {MAX_EVENTS:,} events, got {len(raw):,}")
    return tuple(_event(e, f"{where}[{i}]") for i, e in enumerate(raw))


def _queries(value: object, where: str) -> tuple[Query, ...]:
    raw = fields.sequence(value, where)
    if len(raw) > MAX_QUERIES:
        raise InputError(f"{where}: at most {MAX_QUERIES:,} queries, got {len(raw):,}")
    return tuple(_query(q, f"{where}[{i}]") for i, q in enumerate(raw))


def _dump_queries(queries: tuple[Query, ...]) -> list[dict[str, str]]:
    return [{"subject": q.subject, "predicate": q.predicate, "at": q.at,
             **({"known_at": q.known_at} if q.known_at else {})} for q in queries]


def _focus(value: object, where: str) -> tuple[str, str]:
    focus = fields.sequence(value, where)
    if len(focus) != 2 or not all(isinstance(f, str) for f in focus):
        raise InputError(f"{where}: expected [subject, predicate], got {focus!r}")
    return focus[0], focus[1]


def _generate(value: object, where: str) -> dict[str, int]:
    gen = dict(fields.mapping(value or {}, where))
    fields.only_keys(gen, _GEN_KEYS, where)
    if not gen:
        return {}
    return {"keys": fields.integer(gen, "keys", where, minimum=1, maximum=100_000),
            "events": fields.integer(gen, "events", where, minimum=1, maximum=MAX_EVENTS),
            "seed": fields.integer(gen, "seed", where, 0, minimum=0),
            "backdated": fields.integer(gen, "backdated", where, 10, minimum=0, maximum=100)}


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """The events, the book's point queries, and the panel's as-of / known-at instants."""

    events: tuple[Event, ...] = fields.param((), parse=_events,
                                             dump=lambda es: [e.to_dict() for e in es],
                                             doc="the recorded facts")
    queries: tuple[Query, ...] = fields.param((), parse=_queries, dump=_dump_queries,
                                              doc="point questions (the book's)")
    as_of: str | None = fields.param(None, parse=_instant,
                                     doc="the instant the as-of line marks (None: the latest start)")
    known_at: str | None = fields.param(None, parse=_instant,
                                        doc="transaction time the view is replayed at (None: all)")
    focus: tuple[str, str] | None = fields.param(None, parse=_focus, dump=list,
                                                 doc="(subject, predicate) whose history is drawn")
    generate: dict[str, int] = fields.param(factory=dict, parse=_generate,
                                            doc="{keys, events, seed, backdated}: a synthetic graph")

    def check(self) -> None:
        if not self.events and not self.generate:
            raise InputError(f"{_WHERE}.events: give at least one event (or params.generate)")

    def to_dict(self) -> dict[str, Any]:
        """Return the params as JSON-safe data (``generate`` only when used)."""
        out = fields.dump(self)
        if not self.generate:
            del out["generate"]
        return out

    def all_events(self) -> tuple[Event, ...]:
        """Return the given events, or the synthetic ones ``generate`` describes."""
        return self.events or synthetic_events(**self.generate)


def parse_events(text: str, name: str = "events") -> tuple[Event, ...]:
    """Read events from CSV lines or JSON (a list of events, or an object with ``events``).

    CSV columns: subject, predicate, object, valid_from and optionally ingested_on; a first
    line naming the columns is skipped. Errors name the line (CSV) or the item (JSON).
    """
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        data = fields.parse_json(stripped, name)
        if isinstance(data, dict):
            data = data.get("params", data).get("events", [])
        return _events(data, name)
    out = []
    for line_no, row in enumerate(csv.reader(io.StringIO(stripped)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or (line_no == 1 and cells[:1] == ["subject"]):
            continue
        if len(cells) not in (4, 5):
            raise InputError(f"{name} line {line_no}: expected subject, predicate, object, valid_from"
                             f"[, ingested_on], got {len(cells)} columns")
        record = dict(zip(_EVENT_KEYS, cells, strict=False))
        out.append(_event({k: v for k, v in record.items() if v}, f"{name} line {line_no}"))
        if len(out) > MAX_EVENTS:  # the same limit a scenario or a session is read with
            raise InputError(f"{name}: more than the {MAX_EVENTS:,} events a graph may have "
                             f"(line {line_no})")
    return tuple(out)


def to_csv(events: Sequence[Event]) -> str:
    """Return events as the CSV :func:`parse_events` reads."""
    lines = ["subject,predicate,object,valid_from,ingested_on"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for e in events:
        writer.writerow([e.subject, e.predicate, e.object, e.valid_from, e.ingested_on or ""])
    return "\n".join(lines) + "\n" + buf.getvalue()


_VALUES = ("active", "paused", "trial", "churned", "pro", "free", "enterprise", "review")


def synthetic_events(keys: int, events: int, seed: int = 0, backdated: int = 10,
                     progress: Any = None) -> tuple[Event, ...]:
    """Draw ``events`` facts over ``keys`` keys in 2020-2025; ``backdated`` % are recorded late.

    ``progress``, when given, hears the fraction drawn every 50,000 events.
    """
    rng = np.random.default_rng(seed)
    start = to_seconds("2020-01-01", "generate")
    days = rng.integers(0, 6 * 365, events)
    key = rng.integers(0, keys, events)
    late = rng.random(events) < backdated / 100
    delay = np.where(late, rng.integers(1, 120, events), 0)
    value = rng.integers(0, len(_VALUES), events)
    out = []
    for i, (k, day, lag, v) in enumerate(zip(key.tolist(), days.tolist(), delay.tolist(), value.tolist(),
                                              strict=True)):
        if progress is not None and i % 50_000 == 0:
            progress(i / events)
        valid = to_iso(start + day * 86_400)
        out.append(Event(f"account-{k:05d}", "status", _VALUES[v], valid,
                         to_iso(start + (day + lag) * 86_400) if lag else None))
    return tuple(out)


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

    def tile(self, known_at: int = _NEVER) -> Tiling:
        """Tile valid time with the events recorded by ``known_at``."""
        seen = np.flatnonzero(self.ingested <= known_at)
        k, s = self.key[seen], self.start[seen]
        end = np.full(seen.size, _NEVER, np.int64)
        if seen.size > 1:
            end[:-1] = np.where(k[1:] == k[:-1], s[1:], _NEVER)
        return Tiling(self, seen, end)


@dataclass(frozen=True, slots=True)
class Tiling:
    """Facts visible at one transaction time, with their validity ends; queries are bisections."""

    graph: Graph
    seen: Ints
    """Sorted-event positions that were recorded by the transaction time."""
    end: Ints
    """Valid-to of each seen fact (``_NEVER``: open)."""

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
                        "valid_to": None if end == _NEVER else to_iso(end),
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
    known = _NEVER if query.known_at is None else to_seconds(query.known_at, "known_at")
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
            known = _NEVER if q.known_at is None else to_seconds(q.known_at, "known_at")
            groups.setdefault(known, []).append((i, key_id))
    for known, found in groups.items():
        tiling = tilings.get(known) or graph.tile(known)
        keys = np.array([k for _i, k in found], np.int64)
        at = np.array([to_seconds(queries[i].at, "at") for i, _k in found], np.int64)
        for (i, _k), pos in zip(found, tiling.lookup(keys, at).tolist(), strict=True):
            out[i] = _object(graph, tiling, pos)
    return tuple(out)


LIVE = frozenset({"as_of", "known_at", "focus", "queries"})
"""Fields answered on the prepared graph (only new events rebuild it)."""


@dataclass(frozen=True, slots=True)
class Built:
    """The graph and its tiling with everything recorded: what moving an instant reuses."""

    graph: Graph
    current: Tiling


def prepare(params: Params, counter: object = None, progress: Any = None) -> Built:
    """Build the graph and tile it with everything recorded (the heavy part).

    ``progress``, when given, hears the fraction done: drawing a synthetic graph is the first
    half, indexing the events the rest.
    """
    tell = progress or (lambda _f: None)
    drawn = not params.events  # as all_events() decides
    events = synthetic_events(**params.generate, progress=lambda f: tell(f / 2)) if drawn else params.events
    share = 0.5 if drawn else 0.0
    graph = Graph.build(events, lambda f: tell(share + (1 - share) * f))
    return Built(graph, graph.tile())


def compute(params: Params, counter: object = None) -> Result:
    """Build the graph, tile it now and at ``known_at``, answer the queries."""
    return derive(prepare(params), params)


def derive(prepared: Built, params: Params, tiling: Tiling | None = None) -> Result:
    """Recompute what the instants change, reusing the graph (and the known-at tiling when given)."""
    graph, current = prepared.graph, prepared.current
    known = _NEVER if params.known_at is None else to_seconds(params.known_at, "known_at")
    tiling = tiling or (current if known == _NEVER else graph.tile(known))
    tilings = {_NEVER: current, known: tiling}
    key_ids = {k: i for i, k in enumerate(graph.keys)}
    answers = answer_all(graph, key_ids, tilings, params.queries)
    as_of = to_seconds(params.as_of, "as_of") if params.as_of else int(graph.start.max(initial=0))
    return Result(params, graph, tiling, current, as_of, answers)


def history(result: Result, key: int) -> list[dict[str, Any]]:
    """Bi-temporal rectangles of one key: each fact's validity over the span it was believed.

    Returns ``{object, value, valid_from, valid_to, recorded, superseded}`` in seconds (``_NEVER`` for
    open), one per (fact, valid_to) version: a back-dated recording shortens an interval, and
    the old version's belief ends when the new one is recorded.
    """
    g = result.graph
    mine = np.flatnonzero(g.key == key)
    times = np.unique(g.ingested[mine])
    versions: dict[tuple[int, int], dict[str, Any]] = {}
    for i, t in enumerate(times.tolist()):
        nxt = int(times[i + 1]) if i + 1 < times.size else _NEVER
        visible = mine[g.ingested[mine] <= t]
        ends = np.append(g.start[visible][1:], _NEVER)
        for p, end in zip(visible.tolist(), ends.tolist(), strict=True):
            v = versions.get((p, end))
            if v is not None and v["superseded"] == t:
                v["superseded"] = nxt
            else:
                versions[(p, end)] = {"object": g.objects[p], "value": int(g.value[p]),
                                       "valid_from": int(g.start[p]), "valid_to": end,
                                      "recorded": t, "superseded": nxt}
    return list(versions.values())


NEVER = _NEVER
"""The end of an open interval, in seconds."""
