"""Semantic cache lever (book chapter 7): where the threshold puts false misses and false hits.

A question is answered from the cache when it is similar enough (``>= threshold``) to one
answered before; otherwise the model is called and the question is stored. The embedders,
similarity and walk are in :mod:`core.semantic_cache_embed`. Cost model: a miss pays the
lookup and one model call (``out_tokens`` at the model's output price, read from
:mod:`core.economy` unless overridden); a hit pays the lookup only; with no cache every
question calls the model and nothing is looked up.

With an intent label per question, a hit that served another intent's answer is a *false
hit*, and a miss although a same-intent question was already stored is a *false miss*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core import economy, fields
from core.errors import InputError
from core.semantic_cache_embed import (
    EMBEDDERS,
    MAX_TFIDF_CELLS,
    Neighbours,
    Tfidf,
    Walk,
    false_flags,
    hashing_vector,
    neighbours,
    similarity_matrix,
    tfidf_matrix,
    tfidf_similarity,
    walk,
    words,
)
from core.tokens import TokenCounter

MAX_QUESTIONS = 5000
"""The similarity matrix is questions squared (100 MB of float32 at 5,000)."""
MAX_CHARS = 2000
MAX_WORDS_LISTED = 10_000
MAX_THRESHOLDS = 1001
MAX_DIM = 1024
_MAX_MS = 1e7
_MAX_TOKENS = 10_000_000

STOPWORDS = (
    "a", "an", "the", "i", "me", "my", "we", "our", "you", "your", "it", "its", "is", "are", "am",
    "was", "be", "do", "does", "did", "can", "could", "would", "will", "should", "how", "what",
    "when", "which", "who", "why", "to", "of", "for", "on", "in", "at", "with", "and", "or",
    "please", "hi", "hello", "thanks", "there", "any", "there's", "i'm", "just",
)
"""Our default stopword list (question filler); give your own in ``stopwords``."""

_WORKLOAD = (
    "How do I unlock a bike with the app?",
    "What does a day pass cost?",
    "Can I unlock a bike with the app?",
    "The app will not unlock my bike, what should I do?",
    "How much is a day pass?",
    "Where can I leave a bike overnight?",
    "How do I end my ride?",
    "What does a day pass cost for students?",
)
_INTENTS = ("unlock", "price", "unlock", "unlock", "price", "parking", "end_ride", "price")


def _texts(limit: int, chars: int) -> Callable[[Any, str], tuple[str, ...]]:
    def parse(value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise InputError(f"{where}: expected a list of strings, got {type(value).__name__}")
        if len(value) > limit:
            raise InputError(f"{where}: {len(value):,} items is over the limit of {limit:,}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise InputError(f"{where}[{i}]: expected a string, got {type(item).__name__}")
            if len(item) > chars:
                raise InputError(f"{where}[{i}]: {len(item):,} characters is over the limit of {chars:,}")
            out.append(item)
        return tuple(out)
    return parse


def _thresholds(limit: int) -> Callable[[Any, str], tuple[float, ...]]:
    def parse(value: Any, where: str) -> tuple[float, ...]:
        if not isinstance(value, list | tuple):
            raise InputError(f"{where}: expected a list of numbers, got {type(value).__name__}")
        if len(value) > limit:
            raise InputError(f"{where}: {len(value):,} thresholds is over the limit of {limit:,}")
        return tuple(_unit(v, f"{where}[{i}]") for i, v in enumerate(value))
    return parse


def _unit(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InputError(f"{where}: must be a number from 0 to 1, got {value!r:.40}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """A workload of questions in arrival order, the embedder, the threshold and the cost model."""

    threshold: float = fields.param(0.8, minimum=0.0, maximum=1.0,
                                    doc="hit when the best similarity is at least this")
    workload: tuple[str, ...] = fields.param(_WORKLOAD, parse=_texts(MAX_QUESTIONS, MAX_CHARS),
                                             doc="the questions, in arrival order")
    intents: tuple[str, ...] | None = fields.param(
        _INTENTS, parse=_texts(MAX_QUESTIONS, 200),
        doc="one intent label per question (for false hits and misses); null for none")
    embedder: str = fields.param("hashing", choices=EMBEDDERS,
                                 doc="hashing (the book's) or tfidf over the workload")
    dim: int = fields.param(256, minimum=1, maximum=MAX_DIM, doc="hashing embedding size")
    stopwords: tuple[str, ...] = fields.param(STOPWORDS, parse=_texts(MAX_WORDS_LISTED, 100),
                                              doc="words that carry no meaning here")
    strip_chars: str = fields.param("?.,!;:'\"()", doc="stripped from both ends of each word")
    lookup_ms: float = fields.param(10.0, minimum=0.0, maximum=_MAX_MS, doc="embed and search")
    llm_ms: float = fields.param(1500.0, minimum=0.0, maximum=_MAX_MS, doc="one model call")
    out_tokens: int = fields.param(500, minimum=0, maximum=_MAX_TOKENS, doc="output tokens per call")
    model: str = fields.param("claude-opus-4-8", choices=tuple(economy.PRICES),
                              doc="whose output price applies")
    price_per_mtok: float | None = fields.param(None, minimum=0.01, maximum=1e6,  # cents; 0 bills nothing
                                                doc="output $ per million tokens; null: the model's")
    probe_cached: str = fields.param("How do I return a bike at a full dock?",
                                     doc="the question already in the cache")
    probe_new: str = fields.param("How do I return a bike helmet?", doc="the new question")
    probe_thresholds: tuple[float, ...] = fields.param((0.8, 0.4), parse=_thresholds(50),
                                                       doc="thresholds the probe is decided at")
    sweep_thresholds: tuple[float, ...] | None = fields.param(
        None, parse=_thresholds(MAX_THRESHOLDS), doc="null: 0.00, 0.05, ..., 1.00")

    def check(self) -> None:
        if not self.workload:
            raise InputError("params.workload: give at least one question")
        for key in ("probe_cached", "probe_new"):
            if len(getattr(self, key)) > MAX_CHARS:
                raise InputError(f"params.{key}: over the limit of {MAX_CHARS:,} characters")

    @property
    def price(self) -> float:
        """Output dollars per million tokens."""
        if self.price_per_mtok is not None:
            return self.price_per_mtok
        return economy.Rates.for_model(self.model).output

    @property
    def cost_per_call(self) -> float:
        """Dollars for one model call's output."""
        return self.out_tokens / economy.PER * self.price


def default_thresholds() -> NDArray[np.float64]:
    """0.00, 0.05, ..., 1.00 (exact two-decimal values)."""
    return np.round(np.arange(21) * 0.05, 2)


LIVE = frozenset({"threshold", "lookup_ms", "llm_ms", "out_tokens", "model", "price_per_mtok",
                  "probe_thresholds"})
"""Fields whose change needs only :func:`derive` (the threshold slider and the cost model)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything that does not depend on the threshold or the cost model.

    ``walks`` holds the walks made so far, by threshold (the sweep's, a panel's slider
    positions, and any value asked for since): a threshold seen once is a lookup.
    """

    vectors: NDArray[np.floating]
    sim: NDArray[np.float32]
    near: Neighbours
    codes: NDArray[np.int64] | None
    labels: tuple[str, ...]
    probe_similarity: float
    intents_note: str
    sweep_thresholds: NDArray[np.float64]
    walks: dict[float, Walk]
    counts: dict[float, tuple[int, int, int]]
    """Per walked threshold: hits, false hits, false misses (-1 without intents)."""

    def walk(self, threshold: float) -> Walk:
        """Return the walk at ``threshold`` (made once, then kept)."""
        found = self.walks.get(threshold)
        if found is None:
            found = self.walks[threshold] = walk(self.sim, self.near, threshold)
            flags = false_flags(found, self.codes)
            fh, fm = (int(flags[0].sum()), int(flags[1].sum())) if flags else (-1, -1)
            self.counts[threshold] = (int(found.hit.sum()), fh, fm)
        return found


def prepare(params: Params, counter: object = None, progress: Callable[[float], None] | None = None,
            grid: Any = ()) -> Prepared:
    """Embed the workload and the probe, build the similarity matrix, and walk each threshold.

    The thresholds walked are the sweep's and ``grid`` (a panel's slider positions), each from
    an empty cache. ``counter`` is unused (no tokens are counted).
    """
    p = params
    report = progress or (lambda _f: None)
    stop = frozenset(p.stopwords)
    vectors, probe_sim = _embed(p, stop)
    report(0.1)
    sim = similarity_matrix(vectors)
    report(0.2)
    codes, labels, note = _codes(p)
    ts = default_thresholds() if p.sweep_thresholds is None else np.asarray(p.sweep_thresholds, dtype=float)
    prep = Prepared(vectors, sim, neighbours(sim), codes, labels, probe_sim, note, ts, {}, {})
    todo = list(dict.fromkeys([*ts.tolist(), *np.asarray(grid, dtype=float).reshape(-1).tolist()]))
    for i, t in enumerate(todo):
        prep.walk(t)
        report(0.3 + 0.7 * (i + 1) / len(todo))
    return prep


def _embed(p: Params, stop: frozenset[str]) -> tuple[NDArray[np.floating], float]:
    """Return the workload's unit vectors and the probe pair's similarity."""
    if p.embedder == "tfidf":
        bags = [words(q, stop, p.strip_chars) for q in p.workload]
        model = Tfidf.fit(bags)
        cells = len(bags) * max(len(model.index), 1)
        if cells > MAX_TFIDF_CELLS:
            raise InputError(f"params.workload: {len(bags):,} questions x {len(model.index):,} "
                             f"distinct words is over the TF-IDF limit of {MAX_TFIDF_CELLS:,} "
                             "cells; use the hashing embedder")
        probe = (words(p.probe_cached, stop, p.strip_chars), words(p.probe_new, stop, p.strip_chars))
        return tfidf_matrix(bags, model), tfidf_similarity(*probe, model)
    memo: dict[str, list[tuple[int, float]]] = {}
    vectors = np.array([hashing_vector(q, p.dim, stop, p.strip_chars, memo) for q in p.workload])
    a, b = (hashing_vector(t, p.dim, stop, p.strip_chars, memo) for t in (p.probe_cached, p.probe_new))
    return vectors, float(np.dot(a, b))


def _codes(p: Params) -> tuple[NDArray[np.int64] | None, tuple[str, ...], str]:
    if p.intents is None:
        return None, (), ""
    if len(p.intents) != len(p.workload):
        return None, (), (f"intents ignored: {len(p.intents):,} labels for "
                          f"{len(p.workload):,} questions")
    labels = tuple(dict.fromkeys(p.intents))
    lookup = {label: i for i, label in enumerate(labels)}
    return np.array([lookup[x] for x in p.intents], dtype=np.int64), labels, ""


def answer(question: str) -> str:
    """Return the stand-in answer the cache stores for ``question``."""
    return f"[answer to: {question!r}]"


@dataclass(frozen=True, slots=True)
class Result:
    """The walk at the threshold, its totals against no cache, the probe and the sweep."""

    params: Params
    prepared: Prepared
    walk: Walk
    false_hit: NDArray[np.bool_] | None
    false_miss: NDArray[np.bool_] | None
    sweep: dict[str, NDArray[Any]]
    note: str = ""

    @property
    def n(self) -> int:
        """Questions in the workload."""
        return int(self.walk.hit.size)

    @property
    def hits(self) -> int:
        """Questions answered from the cache."""
        return int(self.walk.hit.sum())

    def latency(self) -> NDArray[np.float64]:
        """Milliseconds per question with the cache."""
        p = self.params
        return np.where(self.walk.hit, p.lookup_ms, p.lookup_ms + p.llm_ms)

    def cost(self) -> NDArray[np.float64]:
        """Dollars per question with the cache."""
        return np.where(self.walk.hit, 0.0, self.params.cost_per_call)

    def totals(self) -> dict[str, Any]:
        """Baseline, cache and saved totals."""
        p, n = self.params, self.n
        base_ms, base_cost = n * p.llm_ms, n * p.cost_per_call
        cache_ms, cache_cost = float(self.latency().sum()), float(self.cost().sum())
        return {
            "baseline": {"llm_calls": n, "latency_ms": base_ms, "cost": base_cost},
            "cache": {"latency_ms": cache_ms, "cost": cache_cost},
            "saved": {"latency_ms": base_ms - cache_ms, "cost": base_cost - cache_cost,
                      "latency_pct": _pct(cache_ms, base_ms), "cost_pct": _pct(cache_cost, base_cost)},
        }

    def probe(self) -> dict[str, Any]:
        """Return the false-hit probe: one cached and one new question, decided at each threshold."""
        p, s = self.params, self.prepared.probe_similarity
        return {"cached_question": p.probe_cached, "new_question": p.probe_new, "similarity": s,
                "decisions": [{"threshold": t, "hit": s >= t, "served": answer(p.probe_cached)
                               if s >= t else None} for t in p.probe_thresholds]}

    def events(self) -> list[dict[str, Any]]:
        """One record per question, in arrival order."""
        p, w = self.params, self.walk
        lat, cost = self.latency().tolist(), self.cost().tolist()
        out = []
        for i, q in enumerate(p.workload):
            m = int(w.match[i])
            event: dict[str, Any] = {
                "question": q, "hit": bool(w.hit[i]),
                "score": None if m < 0 else float(w.score[i]),
                "best_match": None if m < 0 else p.workload[m],
                "latency_ms": lat[i], "cost": cost[i],
                "answer": answer(p.workload[m] if w.hit[i] else q)}
            if self.false_hit is not None and self.false_miss is not None:
                event["false_hit"] = bool(self.false_hit[i])
                event["false_miss"] = bool(self.false_miss[i])
            out.append(event)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (LEVERS2.md section 3.2 names)."""
        p, hits, n = self.params, self.hits, self.n
        flags = self.false_hit is not None and self.false_miss is not None
        return {
            "threshold": p.threshold, "embedder": p.embedder, "price_per_mtok": p.price,
            "cost_per_call": p.cost_per_call, **self.totals(), "events": self.events(),
            "n": n, "hits": hits, "hit_rate": hits / n, "llm_calls": n - hits,
            "false_hits": int(self.false_hit.sum()) if flags and self.false_hit is not None else None,
            "false_misses": int(self.false_miss.sum()) if flags and self.false_miss is not None else None,
            "intents_note": self.prepared.intents_note or None,
            "probe": self.probe(),
            "sweep": [{k: _plain(v[i]) for k, v in self.sweep.items()}
                      for i in range(self.sweep["threshold"].size)],
        }


def _pct(part: float, whole: float) -> float:
    return (1.0 - part / whole) * 100.0 if whole else 0.0


def _plain(value: Any) -> Any:
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    return value.item() if isinstance(value, np.generic) else value


def derive(prepared: Prepared, params: Params) -> Result:
    """Build the result at ``params.threshold`` and price it (walks are reused when made)."""
    w = prepared.walk(params.threshold)
    flags = false_flags(w, prepared.codes)
    return Result(params, prepared, w, flags[0] if flags else None, flags[1] if flags else None,
                  sweep_table(prepared, params, prepared.sweep_thresholds))


def compute(params: Params, counter: TokenCounter | None = None) -> Result:
    """Walk the workload at the threshold, price it, probe, and sweep (``counter`` unused)."""
    return derive(prepare(params), params)


def sweep_table(prep: Prepared, p: Params, thresholds: Any) -> dict[str, NDArray[Any]]:
    """Return hits, calls, latency, cost and false hits/misses at each threshold.

    Walks already made are reused; others are made (and kept) now.
    """
    ts = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    n = len(p.workload)
    rows = np.array([prep.counts[t] if t in prep.counts else _walked(prep, t)
                     for t in ts.tolist()], dtype=np.int64).reshape(-1, 3)
    hits = rows[:, 0]
    calls = n - hits
    table: dict[str, NDArray[Any]] = {
        "threshold": ts, "hits": hits, "hit_rate": hits / n, "llm_calls": calls,
        "latency_ms": n * p.lookup_ms + calls * p.llm_ms, "cost": calls * p.cost_per_call,
        "false_hits": rows[:, 1], "false_misses": rows[:, 2]}
    if prep.codes is None:
        table["false_hits"] = np.full(ts.size, np.nan)
        table["false_misses"] = np.full(ts.size, np.nan)
    return table


def _walked(prep: Prepared, t: float) -> tuple[int, int, int]:
    prep.walk(t)
    return prep.counts[t]


def sweep(p: Params, thresholds: Any = None, prep: Prepared | None = None) -> dict[str, NDArray[Any]]:
    """Re-run the workload from an empty cache at each threshold (default: the sweep's)."""
    prep = prepare(p) if prep is None else prep
    ts = prep.sweep_thresholds if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    if ts.size > MAX_THRESHOLDS or (ts.size and (ts.min() < 0 or ts.max() > 1)):
        raise InputError(f"sweep: give at most {MAX_THRESHOLDS} thresholds between 0 and 1")
    return sweep_table(prep, p, ts)
