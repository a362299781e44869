"""Agent memory lever (book chapter 9): extract facts, store them, inject only the top-k.

Instead of resending the whole conversation, extract short facts from what the user says
(:mod:`core.agent_memory_rules`), keep them in a store where a fact with the same key replaces
the old one, and inject the ``k`` facts most similar to the next question. The history grows
with every turn; the injected block stays near ``k`` facts. ``until`` replays only the first
turns (the conversation-length scrubber); ``updates`` are corrections applied afterwards.

Only user turns are mined for facts (an assistant saying "I am happy to help" is not a fact
about the user); every turn counts in the history's tokens.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core import fields
from core.agent_memory_rules import Change, Store, collisions, embed, extract, top_k
from core.errors import InputError
from core.tokens import COUNTER_NAMES, TokenCounter, counter_for

MAX_TURNS = 20_000
MAX_CHARS = 20_000
MAX_TOTAL_CHARS = 5_000_000

STOPWORDS = (
    "i", "me", "my", "we", "our", "you", "your", "is", "am", "are", "was", "be", "the", "a", "an",
    "and", "or", "to", "in", "on", "of", "at", "for", "with", "what", "should", "would", "could",
)
"""Our default stopword list; ``which``, ``do`` and ``where`` carry the question, so they stay."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One message; only user turns are mined for facts."""

    role: str
    text: str


def _turns(value: Any, where: str) -> tuple[Turn, ...]:
    if not isinstance(value, list | tuple):
        raise InputError(f"{where}: expected a list of turns, got {type(value).__name__}")
    if len(value) > MAX_TURNS:
        raise InputError(f"{where}: {len(value):,} turns is over the limit of {MAX_TURNS:,}")
    out, total = [], 0
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if isinstance(item, str):
            turn = Turn("user", item)
        else:
            d = fields.mapping(item, at)
            fields.only_keys(d, ("role", "text"), at)
            turn = Turn(fields.text(d, "role", at, "user", ("user", "assistant")), fields.text(d, "text", at))
        if len(turn.text) > MAX_CHARS:
            raise InputError(f"{at}: {len(turn.text):,} characters is over the limit of {MAX_CHARS:,}")
        total += len(turn.text)
        out.append(turn)
    if total > MAX_TOTAL_CHARS:
        raise InputError(f"{where}: {total:,} characters in all is over the limit of {MAX_TOTAL_CHARS:,}")
    return tuple(out)


def _dump_turns(turns: tuple[Turn, ...]) -> list[Any]:
    return [t.text if t.role == "user" else {"role": t.role, "text": t.text} for t in turns]


def _strings(limit: int) -> Callable[[Any, str], tuple[str, ...]]:
    def parse(value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise InputError(f"{where}: expected a list of strings, got {type(value).__name__}")
        if len(value) > limit:
            raise InputError(f"{where}: {len(value):,} items is over the limit of {limit:,}")
        for i, item in enumerate(value):
            if not isinstance(item, str) or len(item) > MAX_CHARS:
                raise InputError(f"{where}[{i}]: expected a string of at most {MAX_CHARS:,} characters")
        return tuple(value)
    return parse


_TURNS = (
    "Hello! My name is Ines and I work at a bike repair shop.",
    {"role": "assistant", "text": "Nice to meet you, Ines. How can I help with your trip?"},
    "I live in Porto. I prefer aisle seats and I am allergic to peanuts.",
    {"role": "assistant", "text": "Noted. Any airline you like?"},
    "Call me Nes, everyone does. My home airport is OPO.",
    "I'm travelling with a folding bike, so my bag limit is two pieces.",
)


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """A conversation, the next question, top-k, and later corrections."""

    turns: tuple[Turn, ...] = fields.param(_turns(_TURNS, "turns"), parse=_turns, dump=_dump_turns,
                                           doc="the conversation; a plain string is a user turn")
    query: str = fields.param("Which seat should I book for Ines?", doc="the next session's question")
    k: int = fields.param(3, minimum=0, maximum=10_000, doc="facts injected")
    until: int | None = fields.param(None, minimum=0, maximum=MAX_TURNS,
                                     doc="replay only the first turns (null: all)")
    updates: tuple[str, ...] = fields.param(("Actually my home airport is LIS now.",),
                                            parse=_strings(1000), doc="corrections said later")
    update_query: str = fields.param("what is my home airport?", doc="asked before and after")
    dim: int = fields.param(256, minimum=1, maximum=4096, doc="embedding slots")
    stopwords: tuple[str, ...] = fields.param(STOPWORDS, parse=_strings(10_000), doc="ignored words")
    estimator: str = fields.param("words", choices=COUNTER_NAMES, doc="how tokens are counted")

    @property
    def shown(self) -> int:
        """How many turns are replayed."""
        return len(self.turns) if self.until is None else min(self.until, len(self.turns))


LIVE = frozenset({"k", "until", "updates", "update_query"})
"""Fields whose change needs only :func:`derive` (top-k, the conversation length, corrections)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """Extraction of every turn and the vectors: all that ``k`` and ``until`` do not change."""

    changes: tuple[tuple[int, str, Change], ...]
    """(turn index, pattern, change) in order, over all turns."""
    vectors: dict[str, NDArray[np.float64]]
    query: NDArray[np.float64]
    history_tokens: NDArray[np.int64]
    """Tokens of the history after each turn (index t: the first t + 1 turns)."""
    missed: tuple[int, ...]
    """User turns from which no fact was extracted."""
    counter: TokenCounter
    growths: dict[int, dict[str, NDArray[np.int64]]]
    """The growth curves made so far, by k."""
    change_turns: NDArray[np.int64]
    """The turn of each change, in order."""
    overwritten: NDArray[np.int64]
    """How many of the changes up to each one replaced a stored fact (same key)."""

    def counts(self, shown: int) -> tuple[int, int]:
        """Return user turns with no fact and facts overwritten, in the first ``shown`` turns."""
        upto = int(np.searchsorted(self.change_turns, shown))
        return bisect.bisect_left(self.missed, shown), int(self.overwritten[upto - 1]) if upto else 0

    def growth(self, p: Params) -> dict[str, NDArray[np.int64]]:
        """Return the growth curves at ``p.k`` (made once per k, then kept)."""
        found = self.growths.get(p.k)
        if found is None:
            found = self.growths[p.k] = growth(p, self, self.counter)
        return found


def prepare(params: Params, counter: TokenCounter | None = None,
            progress: Callable[[float], None] | None = None) -> Prepared:
    """Extract facts from every user turn, embed them and count the history's tokens."""
    p = params
    stop = frozenset(p.stopwords)
    store, changes, missed = Store(), [], []
    vectors: dict[str, NDArray[np.float64]] = {}
    for i, turn in enumerate(p.turns):
        if turn.role != "user":
            continue
        found = extract(turn.text)
        if not found:
            missed.append(i)
        for fact, pattern in found:
            changes.append((i, pattern, store.add(fact)))
            if fact not in vectors:
                vectors[fact] = embed(fact, p.dim, stop)
        if progress is not None and i % 500 == 499:
            progress(0.8 * i / len(p.turns))
    active = counter_for(p.estimator, counter)
    return Prepared(tuple(changes), vectors, embed(p.query, p.dim, stop),
                    _history_tokens(p.turns, active), tuple(missed), active, {},
                    np.array([i for i, _p, _c in changes], dtype=np.int64),
                    np.cumsum([c.status == "updated" for _i, _p, c in changes], dtype=np.int64))


def _history_tokens(turns: tuple[Turn, ...], counter: TokenCounter) -> NDArray[np.int64]:
    """Tokens of each prefix of the history joined with spaces (exact for words and chars)."""
    if counter.name == "words":
        words = np.cumsum([len(t.text.split()) for t in turns])
        return np.asarray([round(w * 1.3) for w in words.tolist()], dtype=np.int64)
    if counter.name == "chars":
        chars = np.cumsum([len(t.text) + 1 for t in turns]) - 1
        return np.asarray([round(c / 4) for c in chars.tolist()], dtype=np.int64)
    return np.cumsum(counter.count_many([t.text for t in turns])).astype(np.int64)


def block(facts: list[str]) -> str:
    """Return the injected memory block: one ``- fact`` line per fact."""
    return "\n".join(f"- {f}" for f in facts)


def replay(prep: Prepared, turns: int) -> Store:
    """Return the store after the first ``turns`` turns (keys were computed once, in prepare)."""
    facts: list[str] = []
    where: dict[str, int] = {}
    for i, _pattern, change in prep.changes:
        if i >= turns:
            break
        at = where.get(change.key)
        if at is None:
            where[change.key] = len(facts)
            facts.append(change.fact)
        else:
            facts[at] = change.fact
    return Store(facts)


def scores(prep: Prepared, facts: list[str], query: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """Return each fact's similarity to the query (dot product of unit vectors)."""
    q = prep.query if query is None else query
    return np.array([float(np.dot(prep.vectors[f], q)) for f in facts]) if facts else np.zeros(0)


@dataclass(frozen=True, slots=True)
class Result:
    """The store at ``until``, what top-k injects, its tokens, the curves and the update."""

    params: Params
    prepared: Prepared
    facts: list[str]
    scores: NDArray[np.float64]
    order: NDArray[np.int64]
    history_tokens: int
    topk_tokens: int
    k_tokens: NDArray[np.int64]
    growth: dict[str, NDArray[np.int64]]
    update: dict[str, Any]
    collisions: list[dict[str, object]]
    note: str = ""

    @property
    def retrieved(self) -> list[str]:
        """The injected facts, best first."""
        return [self.facts[i] for i in self.order[:self.params.k]]

    @property
    def relevant_k(self) -> int | None:
        """The smallest k that injects every fact scoring above zero (None: none does)."""
        positive = int((self.scores > 0).sum())
        return positive or None

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (LEVERS2.md section 4.2 names)."""
        p, full = self.params, self.history_tokens
        shown = p.shown
        extracted = [{"turn_index": i, "turn": p.turns[i].text, "fact": c.fact, "key": c.key,
                      "pattern": pat, "status": c.status, "old": c.old}
                     for i, pat, c in self.prepared.changes if i < shown]
        return {
            "turns": shown, "extracted": extracted,
            "missed_turns": [i for i in self.prepared.missed if i < shown],
            "facts": list(self.facts), "fact_count": len(self.facts),
            "retrieved": [{"fact": self.facts[i], "score": float(self.scores[i])}
                          for i in self.order[:p.k]],
            "injected": block(self.retrieved),
            "full_history_tokens": full, "topk_tokens": self.topk_tokens,
            "saved_tokens": full - self.topk_tokens, "pct_smaller": _pct(self.topk_tokens, full),
            "relevant_k": self.relevant_k,
            "k_sweep": [{"k": k, "tokens": int(t), "pct_smaller": _pct(int(t), full)}
                        for k, t in enumerate(self.k_tokens.tolist())],
            "growth": [{"turns": int(a), "history_tokens": int(b), "facts": int(c), "topk_tokens": int(d)}
                       for a, b, c, d in zip(*(self.growth[x].tolist() for x in
                                               ("turns", "history_tokens", "facts", "topk_tokens")),
                                             strict=True)],
            "update": self.update, "collisions": self.collisions,
        }


def _pct(part: int, whole: int) -> float:
    return (whole - part) / whole * 100.0 if whole else 0.0


def k_tokens(facts: list[str], order: NDArray[np.int64], counter: TokenCounter) -> NDArray[np.int64]:
    """Return the injected block's tokens for k = 0 ... #facts."""
    ranked = [facts[i] for i in order]
    return np.array([counter.count(block(ranked[:k])) for k in range(len(ranked) + 1)], dtype=np.int64)


def growth(p: Params, prep: Prepared, counter: TokenCounter) -> dict[str, NDArray[np.int64]]:
    """Return history tokens, stored facts and top-k tokens after every turn."""
    n = len(p.turns)
    facts = np.zeros(n, dtype=np.int64)
    topk = np.zeros(n, dtype=np.int64)
    store, at, current = Store(), 0, (0, 0)
    seen: dict[tuple[str, ...], tuple[int, int]] = {}
    changes = prep.changes
    for t in range(n):
        changed = False
        while at < len(changes) and changes[at][0] <= t:
            change = changes[at][2]
            store.add(change.fact)
            at, changed = at + 1, changed or change.old != change.fact
        if changed:
            state = tuple(store.facts)
            found = seen.get(state)
            if found is None:
                chosen = [state[i] for i in top_k(scores(prep, store.facts), p.k)]
                found = seen[state] = (len(state), counter.count(block(chosen)))
            current = found
        facts[t], topk[t] = current
    return {"turns": np.arange(1, n + 1), "history_tokens": prep.history_tokens,
            "facts": facts, "topk_tokens": topk}


def apply_updates(p: Params, store: Store, prep: Prepared) -> dict[str, Any]:
    """Ask ``update_query`` before and after applying the corrections to a copy of ``store``."""
    stop = frozenset(p.stopwords)
    q = embed(p.update_query, p.dim, stop)
    before = _best(store.facts, q, p, stop, prep)
    after_store, events = store.copy(), []
    for utterance in p.updates:
        found = extract(utterance)
        if not found:
            events.append({"utterance": utterance, "status": "missed", "old": None, "fact": None})
        for fact, _pattern in found:
            c = after_store.add(fact)
            events.append({"utterance": utterance, "status": c.status, "old": c.old, "fact": c.fact})
    after = _best(after_store.facts, q, p, stop, prep)
    return {"query": p.update_query, "before_best": before[0], "before_score": before[1],
            "events": events, "after_best": after[0], "after_score": after[1],
            "facts": list(after_store.facts), "fact_count": len(after_store.facts)}


def _best(facts: list[str], q: NDArray[np.float64], p: Params, stop: frozenset[str],
          prep: Prepared) -> tuple[str | None, float | None]:
    if not facts:
        return None, None
    known = prep.vectors
    s = np.array([float(np.dot(known[f] if f in known else embed(f, p.dim, stop), q)) for f in facts])
    i = int(top_k(s, 1)[0])
    return facts[i], float(s[i])


def derive(prepared: Prepared, params: Params) -> Result:
    """Build the result at ``params.until`` and ``params.k`` (growth is kept per k)."""
    p, prep = params, prepared
    store = replay(prep, p.shown)
    s = scores(prep, store.facts)
    order = top_k(s, len(store.facts))
    kt = k_tokens(store.facts, order, prep.counter)
    full = int(prep.history_tokens[p.shown - 1]) if p.shown else 0
    stop = frozenset(p.stopwords)
    return Result(p, prep, store.facts, s, order, full, int(kt[min(p.k, kt.size - 1)]), kt,
                  prep.growth(p), apply_updates(p, store, prep),
                  collisions([*store.facts, p.query, p.update_query, *p.updates], p.dim, stop))


def compute(params: Params, counter: TokenCounter | None = None) -> Result:
    """Extract, store, retrieve top-k, count tokens, and apply the corrections."""
    return derive(prepare(params, counter), params)
