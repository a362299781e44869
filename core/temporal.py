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

Here: the events and queries, the params, reading and writing events, a synthetic graph, and
``prepare`` / ``derive``. The engine (instants, :class:`Graph`, :class:`Tiling`,
:class:`Result`, the queries, :func:`history`) is :mod:`core.temporal_graph`; its names are
importable from here too, as the lever's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core import fields
from core.errors import InputError
from core.temporal_graph import FIRST as FIRST
from core.temporal_graph import LAST as LAST
from core.temporal_graph import NEVER as NEVER
from core.temporal_graph import Graph as Graph
from core.temporal_graph import Result as Result
from core.temporal_graph import Tiling as Tiling
from core.temporal_graph import answer as answer
from core.temporal_graph import answer_all
from core.temporal_graph import history as history
from core.temporal_graph import to_iso as to_iso
from core.temporal_graph import to_seconds as to_seconds

MAX_EVENTS = 500_000
MAX_QUERIES = 1_000
"""Point queries a scenario may ask. Queries sharing a known-at are answered in one bisection,
but each distinct known-at replays the graph (up to :data:`MAX_EVENTS` facts): 1,000 queries
with 1,000 different known-at instants take seconds on the largest graph. The book asks five."""
_WHERE = "params"
_EVENT_KEYS = ("subject", "predicate", "object", "valid_from", "ingested_on")
_QUERY_KEYS = ("subject", "predicate", "at", "known_at")
_GEN_KEYS = ("keys", "events", "seed", "backdated")


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
    known = NEVER if params.known_at is None else to_seconds(params.known_at, "known_at")
    tiling = tiling or (current if known == NEVER else graph.tile(known))
    tilings = {NEVER: current, known: tiling}
    key_ids = {k: i for i, k in enumerate(graph.keys)}
    answers = answer_all(graph, key_ids, tilings, params.queries)
    as_of = to_seconds(params.as_of, "as_of") if params.as_of else int(graph.start.max(initial=0))
    return Result(params, graph, tiling, current, as_of, answers)
