"""Context orchestration (book chapter 13): route each query to the context it needs.

A *kitchen sink* sends every context source on every turn. A router classifies the query by
keywords (first matching list wins: coding, then factual, then chitchat, else a default) and
packs only that label's sources, in the route's priority order, under a per-turn budget.
Packing skips a source that does not fit and keeps going, so a later, smaller one may still
get in. ``budget_sweep`` shows both totals, and the needed sources dropped, as the budget moves.

A query given with its own label skips classification: that is how a sub-agent plan (steps
with declared types) is entered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core import fields
from core.context_router_pack import Packing as Packing  # re-exported: split for length
from core.context_router_pack import Turn as Turn
from core.context_router_pack import Turns, pack, pack_many
from core.errors import InputError
from core.procedural_log import int_items
from core.tokens import COUNTER_NAMES, TokenCounter, counter_for

MAX_SOURCES = 200
MAX_QUERIES = 5_000
MAX_SOURCE_CHARS = 20_000_000
"""Most characters of all source texts together, after repetition."""
MAX_TOKENS = 10**9
"""Largest source size or budget accepted, in tokens."""
MAX_SWEEP = 5_001
"""Most budgets in a sweep (an explicit one, or the default one, whose step grows to fit)."""
MAX_WORDS = 2_000
MAX_NAME = 200
LABELS = ("coding", "factual", "chitchat")
"""The classifier's labels, in the order their word lists are tried."""
_STRIP = ".,!?"

LIVE = frozenset({"budget", "budget_sweep"})
"""Fields whose change needs only :func:`derive`."""


@dataclass(frozen=True, slots=True)
class Source:
    """A context source: its text repeated ``repeat`` times, or a given token size."""

    name: str
    text: str = ""
    repeat: int = 1
    tokens: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data."""
        out: dict[str, Any] = {"name": self.name}
        if self.text or self.tokens is None:
            out.update(text=self.text, repeat=self.repeat)
        if self.tokens is not None:
            out["tokens"] = self.tokens
        return out


@dataclass(frozen=True, slots=True)
class Query:
    """A user query (or a plan step); ``label`` set skips classification."""

    query: str
    label: str | None = None

    def to_dict(self) -> Any:
        """Return a plain string, or ``{query, label}`` when the label is declared."""
        return self.query if self.label is None else {"query": self.query, "label": self.label}


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise InputError(f"{where}: expected a non-empty name of at most {MAX_NAME} characters")
    return value


def _sources(value: object, where: str) -> tuple[Source, ...]:
    if not isinstance(value, list | tuple):
        raise InputError(f"{where}: expected a list of sources, got {type(value).__name__}")
    if len(value) > MAX_SOURCES:
        raise InputError(f"{where}: at most {MAX_SOURCES} sources, got {len(value)}")
    out: list[Source] = []
    chars = 0
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        d = fields.mapping(item, at)
        fields.only_keys(d, ("name", "text", "repeat", "tokens"), at)
        name = _name(d.get("name"), f"{at}.name")
        if name in {s.name for s in out}:
            raise InputError(f"{at}.name: {name!r} is used twice; source names must differ")
        text = fields.text(d, "text", at, "")
        repeat = fields.integer(d, "repeat", at, 1, minimum=0, maximum=MAX_SOURCE_CHARS)
        tokens = None if d.get("tokens") is None else fields.integer(
            d, "tokens", at, minimum=0, maximum=MAX_TOKENS)
        if tokens is None:
            chars += len(text) * repeat
            if chars > MAX_SOURCE_CHARS:
                raise InputError(f"{at}.repeat: the sources would hold more than "
                                 f"{MAX_SOURCE_CHARS:,} characters; give a token size instead")
        out.append(Source(name, text, repeat, tokens))
    return tuple(out)


def _routes(value: object, where: str) -> dict[str, tuple[str, ...]]:
    d = fields.mapping(value, where)
    if len(d) > MAX_SOURCES:
        raise InputError(f"{where}: at most {MAX_SOURCES} labels, got {len(d)}")
    out: dict[str, tuple[str, ...]] = {}
    for label, names in d.items():
        at = f"{where}.{label}"
        _name(label, at)
        if not isinstance(names, list | tuple) or len(names) > MAX_SOURCES:
            raise InputError(f"{at}: expected a list of at most {MAX_SOURCES} source names")
        picked = tuple(_name(n, f"{at}[{i}]") for i, n in enumerate(names))
        twice = [n for n, c in Counter(picked).items() if c > 1]
        if twice:
            raise InputError(f"{at}: {twice[0]!r} is listed twice")
        out[label] = picked
    return out


def _words(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or len(value) > MAX_WORDS:
        raise InputError(f"{where}: expected a list of at most {MAX_WORDS} words")
    for i, w in enumerate(value):
        if not isinstance(w, str) or not w.strip() or len(w) > MAX_NAME:
            raise InputError(f"{where}[{i}]: expected a non-empty word")
    return tuple(w.strip().lower() for w in value)


def _queries(value: object, where: str) -> tuple[Query, ...]:
    if not isinstance(value, list | tuple) or len(value) > MAX_QUERIES:
        raise InputError(f"{where}: expected a list of at most {MAX_QUERIES:,} queries")
    out = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if isinstance(item, str):
            out.append(Query(item))
            continue
        d = fields.mapping(item, at)
        fields.only_keys(d, ("query", "label"), at)
        label = None if d.get("label") is None else _name(d["label"], f"{at}.label")
        out.append(Query(fields.text(d, "query", at), label))
    return tuple(out)


def _budgets(value: object, where: str) -> tuple[int, ...]:
    return int_items(value, where, MAX_SWEEP, 0, MAX_TOKENS)


def _dump_all(items: tuple[Any, ...]) -> list[Any]:
    return [x.to_dict() for x in items]


def _dump_routes(routes: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    return {k: list(v) for k, v in routes.items()}


_SOURCES = (Source("faq", tokens=420), Source("account", tokens=160), Source("tools", tokens=250),
            Source("repo", tokens=610))
_ROUTES = {"coding": ("repo", "tools"), "factual": ("faq", "account"), "chitchat": ()}


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """Context sources, routes (label -> sources by priority), word lists, budget, queries."""

    sources: tuple[Source, ...] = fields.param(_SOURCES, parse=_sources, dump=_dump_all,
                                               doc="context sources, in kitchen-sink order")
    routes: dict[str, tuple[str, ...]] = fields.param(
        factory=lambda: dict(_ROUTES), parse=_routes, dump=_dump_routes,
        doc="label -> the sources it needs, highest priority first")
    coding_words: tuple[str, ...] = fields.param(
        ("bug", "crash", "traceback", "compile", "function", "test", "error", "refactor", "merge"),
        parse=_words, doc="words that make a query coding")
    factual_words: tuple[str, ...] = fields.param(
        ("what", "when", "where", "which", "how", "why", "price", "plan", "invoice"),
        parse=_words, doc="words that make a query factual")
    chitchat_words: tuple[str, ...] = fields.param(
        ("hi", "hello", "thanks", "cheers", "great", "bye"), parse=_words,
        doc="words that make a query chitchat")
    default_label: str = fields.param("factual", doc="the label when no word matches")
    budget: int = fields.param(4000, minimum=0, maximum=MAX_TOKENS, doc="tokens per turn")
    queries: tuple[Query, ...] = fields.param(
        (Query("Which plan am I on?"), Query("The build test fails with a traceback")),
        parse=_queries, dump=_dump_all, doc="queries, or plan steps with a declared label")
    budget_sweep: tuple[int, ...] | None = fields.param(
        None, parse=_budgets, doc="budgets of the trade-off curve (null: 0, 100, ..., all + 100)")
    estimator: str = fields.param("words", choices=COUNTER_NAMES, doc="how source texts are counted")

    def check(self) -> None:
        names = {s.name for s in self.sources}
        for label, picked in self.routes.items():
            for i, n in enumerate(picked):
                if n not in names:
                    raise InputError(f"params.routes.{label}[{i}]: unknown source {n!r}; "
                                     f"sources: {', '.join(sorted(names)) or '(none)'}")
        routed = ", ".join(self.routes) or "(none)"
        if self.default_label not in self.routes:
            raise InputError(f"params.default_label: no route for {self.default_label!r}; "
                             f"routes: {routed}")
        for label in LABELS:
            if getattr(self, f"{label}_words") and label not in self.routes:
                raise InputError(f"params.routes: no route for {label!r} (its word list is not "
                                 f"empty); routes: {routed}")
        for i, q in enumerate(self.queries):
            if q.label is not None and q.label not in self.routes:
                raise InputError(f"params.queries[{i}].label: no route for {q.label!r}; "
                                 f"routes: {routed}")


def words_of(query: str) -> set[str]:
    """Return the query's words: whitespace chunks, ``. , ! ?`` stripped at both ends, lower-cased."""
    return {w.strip(_STRIP).lower() for w in query.split()}


def classify(query: str, params: Params) -> str:
    """Return the first label whose word list meets the query's words, else the default."""
    found = words_of(query)
    for label in LABELS:
        if found & set(getattr(params, f"{label}_words")):
            return label
    return params.default_label


@dataclass(frozen=True, slots=True)
class Prepared:
    """Source sizes and the labels: everything that does not depend on the budget."""

    source_tokens: dict[str, int]
    labels: tuple[str, ...]
    sweeps: dict[tuple[int, ...] | None, dict[str, NDArray[np.int64]]] = field(
        default_factory=dict, compare=False)
    """Budget sweeps already made, by ``params.budget_sweep``: they do not move with the budget."""


def prepare(params: Params, counter: TokenCounter | None = None,
            progress: Callable[[float], None] | None = None) -> Prepared:
    """Size every source (text repeated, or the given size) and label every query."""
    texted = [s for s in params.sources if s.tokens is None]
    chosen = counter_for(params.estimator, counter) if texted else None
    counted = chosen.count_many([s.text * s.repeat for s in texted]) if chosen else []
    by_name = dict(zip((s.name for s in texted), counted, strict=True))
    sizes = {s.name: s.tokens if s.tokens is not None else by_name[s.name] for s in params.sources}
    labels = tuple(q.label if q.label is not None else classify(q.query, params)
                   for q in params.queries)
    return Prepared(sizes, labels)


@dataclass(frozen=True, slots=True)
class Result:
    """Every turn packed both ways under the budget, the totals and the budget sweep."""

    source_tokens: dict[str, int]
    budget: int
    turns: Turns
    sweep: dict[str, NDArray[np.int64]]
    """``budget``, ``sink_total``, ``routed_total``, ``sink_skipped``, ``routed_skipped``."""
    sink_total: int
    """Kitchen-sink tokens over all turns."""
    routed_total: int
    """Routed tokens over all turns."""
    dropped: int
    """Needed sources dropped over all turns (routed packing skipped them)."""
    note: str = ""
    """Said beside the headline (why an estimate stands in for the exact count)."""

    def totals(self) -> dict[str, Any]:
        """``sink``, ``routed``, ``saved`` and ``pct_smaller`` (0 when the sink is empty)."""
        sink, routed = self.sink_total, self.routed_total
        pct = (sink - routed) / sink * 100 if sink else 0.0
        return {"sink": sink, "routed": routed, "saved": sink - routed, "pct_smaller": pct}

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data."""
        keys = list(self.sweep)
        rows = zip(*(self.sweep[k].tolist() for k in keys), strict=True)
        return {"source_tokens": dict(self.source_tokens), "budget": self.budget,
                "turns": [t.to_dict() for t in self.turns], "totals": self.totals(),
                "budget_sweep": [dict(zip(keys, row, strict=True)) for row in rows]}


def default_budgets(sizes: dict[str, int]) -> NDArray[np.int64]:
    """0, 100, ... up to all sources + 100; the step grows past 100 to stay within the limit."""
    top = sum(sizes.values()) + 100
    step = 100
    while top // step + 1 > MAX_SWEEP:
        step *= 10
    return np.arange(0, top + 1, step, dtype=np.int64)


def derive(prepared: Prepared, params: Params) -> Result:
    """Pack every turn both ways under the budget and sweep the budget."""
    sizes = prepared.source_tokens
    order = [s.name for s in params.sources]
    sink = pack(order, sizes, params.budget)
    by_label = {label: pack(params.routes[label], sizes, params.budget)
                for label in set(prepared.labels)}
    needed = {label: sum(sizes[n] for n in params.routes[label]) for label in by_label}
    turns = Turns(params.queries, prepared.labels, sink, by_label, needed)
    swept = prepared.sweeps.get(params.budget_sweep)
    if swept is None:
        budgets = (default_budgets(sizes) if params.budget_sweep is None
                   else np.array(params.budget_sweep, dtype=np.int64))
        swept = prepared.sweeps[params.budget_sweep] = budget_sweep(prepared, params, budgets)
        for column in swept.values():
            column.flags.writeable = False  # shared by every result of this prepared state
    times = Counter(prepared.labels)  # turns with one label share one packing: total per label
    return Result(sizes, params.budget, turns, swept,
                  sink_total=sink.tokens * len(turns),
                  routed_total=sum(by_label[lb].tokens * n for lb, n in times.items()),
                  dropped=sum(len(by_label[lb].skipped) * n for lb, n in times.items()))


def budget_sweep(prepared: Prepared, params: Params, budgets: NDArray[np.int64]
                 ) -> dict[str, NDArray[np.int64]]:
    """Kitchen-sink and routed totals over all turns, and sources dropped, at each budget."""
    sizes = prepared.source_tokens
    n = len(prepared.labels)
    sink_total, sink_skipped = pack_many([s.name for s in params.sources], sizes, budgets)
    routed = np.zeros(budgets.shape, dtype=np.int64)
    dropped = np.zeros(budgets.shape, dtype=np.int64)
    for label, times in Counter(prepared.labels).items():
        total, skipped = pack_many(params.routes[label], sizes, budgets)
        routed += total * times
        dropped += skipped * times
    return {"budget": budgets, "sink_total": sink_total * n, "routed_total": routed,
            "sink_skipped": sink_skipped * n, "routed_skipped": dropped}


def compute(params: Params, counter: TokenCounter | None = None) -> Result:
    """Route every query and pack its context under the budget."""
    return derive(prepare(params, counter), params)


def sweep(params: Params, field: str, values: Any, counter: TokenCounter | None = None
          ) -> dict[str, NDArray[np.int64]]:
    """Return the trade-off curve as arrays; only ``budget`` can be swept."""
    if field != "budget":
        raise InputError(f"sweep: {field!r} cannot be swept; choose budget")
    budgets = np.array(_budgets(list(np.asarray(values).tolist()), "sweep.values"), dtype=np.int64)
    return budget_sweep(prepare(params, counter), params, budgets)
