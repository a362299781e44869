"""Compaction lever (book chapter 11): keep a long conversation under a budget.

The book's two strategies replay the turns and compact after each one:

- ``drop_oldest`` drops the oldest turn while over budget and more than one turn remains;
- ``tiered`` folds the oldest turn's facts into a running summary (sentences ranked by a
  priority: decisions first, then sentences naming something), keeps ``max_facts`` of them and
  archives the turn, while over budget and more than ``keep_recent`` turns remain.

The cookbook's traditional and instant compaction (``core.compaction_sim``) run on the same
turns. Per-turn token counts are counted once and every replay is linear in the turns, so a
budget dragged over a 2,000-turn transcript replays live.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from core import fields, model_profile
from core.compaction_replay import HEADER as HEADER  # re-exported: the summary's first line
from core.compaction_replay import Replay, Running, TokenTable, fold, render, replay
from core.compaction_replay import drop_oldest as drop_oldest
from core.compaction_sim import Clock, Trace, simulate
from core.errors import InputError
from core.tokens import TokenCounter, counter_for

STRATEGIES = ("tiered", "drop_oldest")
DECISION_WORDS = ("decided", "agreed", "chose", "will use", "must", "deadline", "budget", "launch",
                  "ship", "ships", "version", "named", "codenamed", "is called", "the goal is",
                  "always", "never", "from now on")
"""Our default phrases that mark a sentence as a decision (priority 2)."""
MAX_TURNS = 50_000
MAX_TOTAL_CHARS = 20 * 2**20
"""Characters of every turn's text together: the 20 MiB a transcript file is read up to
(``widgets.loaders.MAX_TEXT_BYTES``). Counting, fact-finding and the replays grow with the text
(50,000 turns of 2.6 KB, 130 MB, took 58 s); at this size the worst case takes seconds."""
MAX_MEMORY_SLOTS = 5_000_000
"""turns x max_facts: the running memory keeps the summary at every turn (30,000 turns x
5,000 facts took 65 s and 1.2 GB; this bound is about 2 s and 40 MB)."""
MAX_TOKENS = 10**12
"""Largest budget or threshold accepted (far past any context window; keeps sums in int64)."""
_WHERE = "params"
SHOWN = ("tiered", "drop_oldest", "traditional", "instant")
"""Strategies the lab can show in the transcript."""
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NAMED = re.compile(r"^[A-Z][A-Za-z0-9]{2,}")


class Summarizer(Protocol):
    """Turns a transcript into a session memory (the app plugs the real model in)."""

    def summarize(self, turns: Sequence[Turn], previous: str | None) -> str:
        """Return the session memory for ``turns``, updating ``previous`` when given."""
        ...


@dataclass(frozen=True, slots=True)
class Turn:
    """One message."""

    role: str
    text: str


def _turn(data: object, where: str) -> Turn:
    d = fields.mapping(data, where)
    fields.only_keys(d, ("role", "text", "content"), where)
    text = d.get("text", d.get("content"))
    if not isinstance(text, str):
        raise InputError(f"{where}.text: expected the message text, got {text!r}"[:160])
    role = fields.text(d, "role", where, "user")
    if role not in ("user", "assistant", "system"):
        raise InputError(f"{where}.role: must be user, assistant or system, got {role!r}")
    return Turn(role, text)


_LATENCY = {"overhead_s": 0.8, "input_tps": 6000.0, "output_tps": 60.0}
_PRICES = {"input": model_profile.listed().input, "output": model_profile.listed().output}
"""The default model profile's list prices (the model profiles are the one source)."""


def _turns(value: object, where: str) -> tuple[Turn, ...]:
    raw = fields.sequence(value, where)
    if not raw:
        raise InputError(f"{where}: the transcript is empty")
    if len(raw) > MAX_TURNS:
        raise InputError(f"{where}: at most {MAX_TURNS:,} turns, got {len(raw):,}")
    turns = tuple(_turn(t, f"{where}[{i}]") for i, t in enumerate(raw))
    check_chars(turns, where)
    return turns


def check_chars(turns: Sequence[Turn], where: str) -> None:
    """Refuse turns whose text together is over :data:`MAX_TOTAL_CHARS` characters."""
    chars = sum(len(t.text) for t in turns)
    if chars > MAX_TOTAL_CHARS:
        raise InputError(f"{where}: longer than {MAX_TOTAL_CHARS:,} characters in all (got {chars:,}); "
                         "shorten the conversation")


def _decision_words(value: object, where: str) -> tuple[str, ...]:
    words = fields.sequence(value, where)
    if not all(isinstance(w, str) and w.strip() for w in words):
        raise InputError(f"{where}: expected a list of words or phrases")
    return tuple(words)


def _latency(value: object, where: str) -> dict[str, float]:
    lat = dict(fields.mapping(value or {}, where))
    fields.only_keys(lat, tuple(_LATENCY), where)
    return {k: fields.number(lat, k, where, v, minimum=0 if k == "overhead_s" else 1e-6, maximum=1e9)
            for k, v in _LATENCY.items()}


def _prices(value: object, where: str) -> dict[str, float]:
    prices = dict(fields.mapping(value or {}, where))
    fields.only_keys(prices, tuple(_PRICES), where)
    return {k: fields.number(prices, k, where, v, minimum=0, maximum=1e6) for k, v in _PRICES.items()}


def _tokens(default: int | None, doc: str, minimum: int = 0) -> Any:
    return fields.param(default, minimum=minimum, maximum=MAX_TOKENS, doc=doc)


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """The transcript, the budget, the book's strategy knobs and the cookbook's."""

    turns: tuple[Turn, ...] = fields.param(parse=_turns,
                                           dump=lambda ts: [{"role": t.role, "text": t.text} for t in ts],
                                           doc="the conversation, oldest first")
    budget: int = _tokens(1000, "the context budget in tokens", minimum=1)
    strategy: str = fields.param("tiered", choices=STRATEGIES, doc="how the transcript is compacted")
    keep_recent: int = fields.param(2, minimum=1, maximum=MAX_TURNS, doc="recent turns kept verbatim")
    max_facts: int = fields.param(8, minimum=0, maximum=10_000, doc="facts the summary keeps")
    probe: str | None = fields.param(None, doc="a fact to follow through compaction")
    decision_words: tuple[str, ...] | None = fields.param(None, parse=_decision_words,
                                                          doc="phrases that mark a decision")
    estimator: str = fields.param("words", choices=("words", "chars", "exact"), doc="how tokens are counted")
    soft_threshold: int | None = _tokens(None, "instant compaction starts building memory here "
                                               "(None: 60 % of the budget)")
    min_between: int | None = _tokens(None, "tokens of new conversation between memory updates "
                                            "(None: 15 % of the budget)")
    summary_tokens: int | None = _tokens(None, "size the simulated memory is taken to have "
                                               "(None: what the fact summary counts)")
    caching: bool = fields.param(True, doc="prompt caching on")
    latency: dict[str, float] = fields.param(factory=lambda: dict(_LATENCY), parse=_latency,
                                             doc="overhead_s, input_tps, output_tps")
    prices: dict[str, float] = fields.param(factory=lambda: dict(_PRICES), parse=_prices,
                                            doc="dollars per million tokens (input, output)")
    user_pause_s: float = fields.param(20.0, minimum=0, maximum=1e7,
                                       doc="seconds a user takes between an answer and the next message")
    shown: str = fields.param("tiered", choices=SHOWN,
                              doc="the strategy whose archive, summary and diff the lab shows")

    def check(self) -> None:
        """Refuse up front what would take minutes: the memory table is turns x max_facts."""
        slots = len(self.turns) * self.max_facts
        if slots > MAX_MEMORY_SLOTS:
            raise InputError(f"{_WHERE}.max_facts: {self.max_facts:,} facts x {len(self.turns):,} turns "
                             f"is over the {MAX_MEMORY_SLOTS:,} fact slots the running memory may "
                             f"hold; keep at most {MAX_MEMORY_SLOTS // max(len(self.turns), 1):,} "
                             "facts or shorten the conversation")

    @property
    def soft(self) -> int:
        """The soft threshold in tokens."""
        return round(0.6 * self.budget) if self.soft_threshold is None else self.soft_threshold

    @property
    def between(self) -> int:
        """Tokens between background memory updates."""
        return max(1, round(0.15 * self.budget) if self.min_between is None else self.min_between)


# ---- facts -------------------------------------------------------------------------------------
def sentences(text: str) -> list[str]:
    """Split after ``.``, ``!`` or ``?`` followed by whitespace."""
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


def decision_pattern(words: Sequence[str] | None) -> re.Pattern[str]:
    """Match any decision word or phrase as whole words, in any case."""
    phrases = sorted({w.strip().lower() for w in (DECISION_WORDS if words is None else words)}, key=len,
                     reverse=True)
    body = "|".join(r"\s+".join(map(re.escape, p.split())) for p in phrases) or r"(?!x)x"
    return re.compile(rf"(?<![A-Za-z0-9])(?:{body})(?![A-Za-z0-9])", re.IGNORECASE)


def priority(sentence: str, decisions: re.Pattern[str]) -> int | None:
    """2 for a decision, 1 if a capitalized word (3+ letters/digits) follows the first word, else None."""
    if decisions.search(sentence):
        return 2
    words = sentence.split()
    if any(_NAMED.match(w) for w in words[1:]):
        return 1
    return None


@dataclass(frozen=True, slots=True)
class Facts:
    """Every turn's facts, prioritized once."""

    per_turn: tuple[tuple[tuple[int, str], ...], ...]
    """(priority, sentence) of each turn, in order."""

    @classmethod
    def extract(cls, turns: Sequence[Turn], words: Sequence[str] | None) -> Facts:
        """Prioritize each sentence of each turn; keep those that are facts."""
        pattern = decision_pattern(words)
        out = []
        for t in turns:
            found = [(p, s) for s in sentences(t.text) if (p := priority(s, pattern)) is not None]
            out.append(tuple(found))
        return cls(tuple(out))


class RuleSummarizer:
    """The offline summarizer: the tiered strategy's facts over the whole transcript."""

    def __init__(self, words: Sequence[str] | None = None, max_facts: int = 12) -> None:
        self.pattern, self.max_facts = decision_pattern(words), max_facts

    def summarize(self, turns: Sequence[Turn], previous: str | None) -> str:
        """Return the top facts of ``turns`` (plus those already in ``previous``)."""
        summary = [(2 if self.pattern.search(line) else 1, line[2:]) for line in (previous or "").splitlines()
                   if line.startswith("- ")]
        for t in turns:
            facts = [(p, s) for s in sentences(t.text) if (p := priority(s, self.pattern)) is not None]
            summary = fold(summary, facts, self.max_facts)
        return render(summary)


# ---- everything on one transcript --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Prepared:
    """What does not depend on the budget: counts, facts, and the session memory at every turn."""

    turns: tuple[Turn, ...]
    facts: Facts
    table: TokenTable
    memory: tuple[tuple[tuple[int, str], ...], ...]
    """The rule summarizer's memory covering turns 0..j, for every j."""
    memory_tokens: NDArray[np.int64]
    is_user: NDArray[np.bool_]
    running: Running
    """The same memory with its counted tokens and facts, for the tiered replay at any budget."""

    @classmethod
    def build(cls, params: Params, counter: TokenCounter | None = None) -> Prepared:
        """Count every turn once and fold the running memory once."""
        params.check()  # a panel may have replaced turns or max_facts without from_dict
        facts = Facts.extract(params.turns, params.decision_words)
        table = TokenTable(params.turns, facts, counter_for(params.estimator, counter))
        running = Running.fold_all(facts, table, params.max_facts)
        tokens = np.array(running.tokens, np.int64)
        if params.summary_tokens is not None:
            tokens = np.full(tokens.size, params.summary_tokens, np.int64)
        return cls(params.turns, facts, table, running.summaries, tokens,
                   np.array([t.role == "user" for t in params.turns], bool), running)


@dataclass(frozen=True, slots=True)
class Result:
    """The book's replays and the cookbook's simulations on one transcript."""

    params: Params
    prepared: Prepared
    book: dict[str, Replay]
    cookbook: dict[str, Trace]
    """traditional, instant (with the params' caching) and both again with caching flipped."""
    note: str = ""

    def simulated(self, kind: str, cached: bool) -> Trace:
        """Return the cookbook trace of ``kind`` with the summarizer's caching on or off."""
        return self.cookbook[kind if cached == self.params.caching else
                             f"{kind} ({'cached' if cached else 'uncached'})"]

    @property
    def chosen(self) -> Replay:
        """The replay of the params' strategy."""
        return self.book[self.params.strategy]

    def sent_text(self, replay: Replay | None = None) -> str:
        """Return what would be sent at the end: the summary, then the turns still in the window."""
        r = replay or self.chosen
        kept = [t.text for t in self.params.turns[r.first_kept:]]
        return "\n\n".join(x for x in [render(r.summary), *kept] if x)

    def cookbook_text(self, trace: Trace) -> str:
        """Return what a cookbook strategy would send at the end: its memory, then later turns."""
        memory = render(self.prepared.memory[trace.memory_upto]) if trace.memory_upto >= 0 else ""
        kept = [t.text for t in self.params.turns[trace.first_kept:]]
        return "\n\n".join(x for x in [memory, *kept] if x)

    def answerable(self, text: str) -> bool | None:
        """Whether the probe appears in ``text`` (None without a probe)."""
        return None if not self.params.probe else self.params.probe in text

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (field names are DESIGN.md's contract)."""
        r, p = self.chosen, self.params
        sent = self.sent_text()
        return {
            "strategy": p.strategy,
            "per_turn": [{"turn": i, "in_window_tokens": int(v)} for i, v in enumerate(r.in_window)],
            "peak_tokens": int(r.in_window.max(initial=0)),
            "turns_over_budget": int((r.in_window > p.budget).sum()),
            "compactions": r.compactions,
            "archived": r.compactions if p.strategy == "tiered" else 0,
            "dropped": r.compactions if p.strategy == "drop_oldest" else 0,
            "summary": [s for _, s in r.summary],
            "sent_text": sent,
            "answerable": self.answerable(sent),
            "cookbook": {name: _trace_dict(tr, self.answerable(self.cookbook_text(tr)))
                         for name, tr in self.cookbook.items()},
        }


def _trace_dict(tr: Trace, answerable: bool | None) -> dict[str, Any]:
    return {"compactions": len(tr.compacted_at), "compacted_at": tr.compacted_at,
            "summarizer_calls": tr.summarizer_calls, "total_wait_s": round(float(tr.wait_s.sum()), 3),
            "max_wait_s": round(float(tr.wait_s.max(initial=0)), 3),
            "peak_tokens": int(tr.in_window.max(initial=0)), "cost": round(float(tr.cost[-1]), 6),
            "summarizer_cost": round(tr.summarizer_cost, 6), "answerable": answerable}


LIVE = frozenset({"budget", "strategy", "keep_recent", "probe", "soft_threshold", "min_between",
                  "caching", "latency", "prices", "user_pause_s", "shown"})
"""Fields replayed on the prepared counts (the transcript, facts and estimator are counted once)."""


def prepare(params: Params, counter: TokenCounter | None = None, progress: Any = None) -> Prepared:
    """Count every turn and fold the running memory (the heavy part)."""
    return Prepared.build(params, counter)


def derive(prepared: Prepared, params: Params) -> Result:
    """Replay both book strategies and simulate both cookbook ones on the prepared counts."""
    p, prep = params, prepared
    book = {s: replay(s, p.budget, p.keep_recent, p.max_facts, prep.facts, prep.table, prep.running)
            for s in STRATEGIES}
    lat, price = p.latency, p.prices
    clock = Clock(lat["overhead_s"], lat["input_tps"], lat["output_tps"], price["input"], price["output"])
    sims = {}
    other = "cached" if not p.caching else "uncached"
    for caching in (p.caching, not p.caching):
        name = "instant" if caching == p.caching else f"instant ({other})"
        sims[name] = simulate("instant", prep.table.turns, prep.is_user, prep.memory_tokens, p.budget, p.soft,
                              p.between, clock, caching, p.user_pause_s)
    trad = simulate("traditional", prep.table.turns, prep.is_user, prep.memory_tokens, p.budget, p.soft,
                    p.between, clock, p.caching, p.user_pause_s)
    flipped = copy.copy(trad)  # the same compactions and waits; only the summarizer's bill differs
    assert trad.alt_cost is not None
    flipped.name, flipped.cost = f"traditional ({other})", trad.alt_cost
    flipped.summarizer_cost = trad.alt_summarizer_cost
    sims = {"traditional": trad, "instant": sims["instant"], f"traditional ({other})": flipped,
            f"instant ({other})": sims[f"instant ({other})"]}
    return Result(p, prep, book, sims)


def compute(params: Params, counter: TokenCounter | None = None) -> Result:
    """Replay both book strategies and simulate both cookbook ones."""
    return derive(prepare(params, counter), params)


def sweep(params: Params, field_name: str, values: Any, counter: TokenCounter | None = None,
          prepared: Prepared | None = None) -> dict[str, NDArray[Any]]:
    """Peak tokens, compactions and probe survival of both book strategies at each budget."""
    if field_name != "budget":
        raise InputError(f"sweep: only budget can be swept, not {field_name!r}")
    prep = prepared or Prepared.build(params, counter)
    xs = np.asarray(values, dtype=np.int64)
    out: dict[str, list[Any]] = {f"{s}_{k}": [] for s in STRATEGIES for k in ("peak", "compactions")}
    for b in xs.tolist():
        for s in STRATEGIES:
            r = replay(s, b, params.keep_recent, params.max_facts, prep.facts, prep.table, prep.running)
            out[f"{s}_peak"].append(int(r.in_window.max(initial=0)))
            out[f"{s}_compactions"].append(r.compactions)
    return {"budget": xs, **{k: np.array(v) for k, v in out.items()}}
