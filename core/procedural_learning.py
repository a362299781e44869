"""Failure and procedural learning (book chapter 12): which mined rules earn their token cost.

Failed sessions are tagged with what went wrong. Tags that recur at least ``threshold`` times in
the training log earn a rule, appended to the agent's instruction file; a held-out log then
shows which failures the rules would have caught. Every rule is paid for on every call, so the
threshold sweep sets failures prevented against the standing token cost of the rules.

Two orders are in play, on purpose: the tag listing is most-common first with ties in
first-seen order (``Counter.most_common``), while the recurring list (the rule order) breaks
ties by tag name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core import fields
from core.economy import PER, Rates
from core.errors import InputError
from core.procedural_log import MAX_TRACES, Trace, int_items, parse_traces
from core.tokens import COUNTER_NAMES, TokenCounter, counter_for

MAX_TEXT_CHARS = 200_000
"""Longest base instruction file, heading or rule text accepted, in characters."""
MAX_RULES = 5_000
"""Most entries in ``tag_to_rule``."""
MAX_SWEEP = 100_001
"""Most thresholds in an explicit ``threshold_sweep``."""
MAX_COUNTED_CHARS = 20_000_000
"""Most characters of instruction-file variants counted for the sweep."""
MAX_THRESHOLD = 10**9
MAX_CALLS_PER_DAY = 10**10
DAYS_PER_YEAR = 365

LIVE = frozenset({"threshold", "threshold_sweep", "model", "calls_per_day", "cached"})
"""Fields whose change needs only :func:`derive`."""

_BASE = ("# Project notes for the coding agent\n"
         "- Keep changes small and explain each one in the pull request.\n"
         "- Ask before adding a new dependency.")
_HEADING = "## Rules learned from past failures"


def _long_text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: expected a string, got {type(value).__name__}")
    if len(value) > MAX_TEXT_CHARS:
        raise InputError(f"{where}: {len(value):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    return value


def _rules(value: object, where: str) -> dict[str, str]:
    raw = fields.mapping(value, where)
    if len(raw) > MAX_RULES:
        raise InputError(f"{where}: at most {MAX_RULES:,} rules, got {len(raw):,}")
    return {str(tag): _long_text(text, f"{where}.{tag}") for tag, text in raw.items()}


def _thresholds(value: object, where: str) -> tuple[int, ...]:
    return int_items(value, where, MAX_SWEEP, 1, MAX_THRESHOLD)


def _dump_traces(traces: tuple[Trace, ...]) -> list[dict[str, Any]]:
    return [t.to_dict() for t in traces]


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """A training log, a held-out log, the threshold and the rule phrasings."""

    train: tuple[Trace, ...] = fields.param((), parse=parse_traces, dump=_dump_traces,
                                            doc="past sessions the rules are mined from")
    held_out: tuple[Trace, ...] = fields.param((), parse=parse_traces, dump=_dump_traces,
                                               doc="later sessions the rules are judged on")
    threshold: int = fields.param(2, minimum=1, maximum=MAX_THRESHOLD,
                                  doc="failures of one tag needed before it earns a rule")
    tag_to_rule: dict[str, str] = fields.param(factory=dict, parse=_rules,
                                               doc="the rule text each tag earns")
    base_instructions: str = fields.param(_BASE, parse=_long_text,
                                          doc="the instruction file before learning")
    learned_heading: str = fields.param(_HEADING, parse=_long_text,
                                        doc="the heading the learned rules go under")
    threshold_sweep: tuple[int, ...] | None = fields.param(
        None, parse=_thresholds, doc="thresholds of the trade-off curve (null: 1 .. max count + 1)")
    estimator: str = fields.param("words", choices=COUNTER_NAMES, doc="how rule tokens are counted")
    model: str = fields.param("claude-opus-4-8", doc="model whose input price the rules are paid at")
    calls_per_day: int = fields.param(10_000, minimum=0, maximum=MAX_CALLS_PER_DAY,
                                      doc="calls that carry the instruction file, per day")
    cached: bool = fields.param(False, doc="price the file as a prompt-cache read")

    def check(self) -> None:
        Rates.for_model(self.model)


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything that does not depend on the threshold (or the price)."""

    tag_counts: tuple[tuple[str, int], ...]
    """Most-common order, ties first-seen."""
    ranked: tuple[str, ...]
    """Tags by count descending, ties by name: a recurring list is a prefix of this."""
    ranked_counts: NDArray[np.int64]
    n_rules: NDArray[np.int64]
    """Rules appended when the first k ranked tags recur, for k = 0 .. len(ranked)."""
    prevented: NDArray[np.int64]
    """Held-out failures caught with the first k ranked tags recurring."""
    file_tokens: dict[int, int]
    """Tokens of the instruction file with the first k ranked tags recurring (reachable k)."""
    n_train: int
    n_train_failures: int
    held_out_tags: tuple[str, ...]
    """The tags of the held-out failures, in held-out order."""
    at_k: dict[int, _AtK] = field(default_factory=dict, compare=False)
    """What the first k ranked tags recurring gives, kept per k (a threshold drag comes back)."""
    sweeps: dict[tuple[Any, ...], dict[str, NDArray[Any]]] = field(default_factory=dict, compare=False)
    """Threshold sweeps made, by (``threshold_sweep``, price, calls per day)."""


@dataclass(frozen=True, slots=True)
class _AtK:
    recurring: tuple[str, ...]
    unphrased: tuple[str, ...]
    rules: tuple[str, ...]
    after_file: str
    caught: tuple[str, ...]
    missed: tuple[str, ...]


def count_tags(train: Sequence[Trace]) -> list[tuple[str, int]]:
    """Count the failure tags: most common first, equal counts in first-seen order."""
    return Counter(t.tag for t in train if t.outcome == "failure" and t.tag).most_common()


def rule_lines(params: Params, recurring: Sequence[str]) -> list[str]:
    """Return the rule texts of the recurring tags, in recurring order (unphrased tags skipped)."""
    return [params.tag_to_rule[t] for t in recurring if params.tag_to_rule.get(t, "").strip()]


def render_file(base: str, heading: str, rules: Sequence[str]) -> str:
    """Render the instruction file: the base, then the heading and one ``- rule`` line per rule."""
    if not rules:
        return base
    return base + "\n\n" + heading + "\n" + "\n".join("- " + r for r in rules)


def covered_tags(params: Params, rules: Sequence[str]) -> set[str]:
    """Return the tags appended rules cover (rule text -> tag; a later tag wins a shared text)."""
    owner = {text: tag for tag, text in params.tag_to_rule.items()}
    return {owner[r] for r in rules}


def _reachable(counts: NDArray[np.int64]) -> list[int]:
    """Return the prefix lengths some threshold gives: 0 and the number of tags at each count."""
    return sorted({0, *(int(np.count_nonzero(counts >= c)) for c in np.unique(counts))})


def prepare(params: Params, counter: TokenCounter | None = None,
            progress: Callable[[float], None] | None = None) -> Prepared:
    """Count the tags and the tokens of every instruction file a threshold can produce."""
    tag_counts = count_tags(params.train)
    ranked = sorted(tag_counts, key=lambda tc: (-tc[1], tc[0]))
    tags = [t for t, _ in ranked]
    counts = np.array([c for _, c in ranked], dtype=np.int64)
    held = tuple(t.tag or "" for t in params.held_out if t.outcome == "failure")
    per_tag = Counter(held)
    owner = {text: tag for tag, text in params.tag_to_rule.items()}
    n_rules, prevented, covered = [0], [0], set()
    for tag in tags:
        text = params.tag_to_rule.get(tag, "")
        added = bool(text.strip())
        if added and owner[text] not in covered:
            covered.add(owner[text])
            prevented.append(prevented[-1] + per_tag[owner[text]])
        else:
            prevented.append(prevented[-1])
        n_rules.append(n_rules[-1] + added)
    ks = _reachable(counts)
    files = [render_file(params.base_instructions, params.learned_heading,
                         rule_lines(params, tags[:k])) for k in _guard_sizes(params, tags, ks)]
    if progress is not None:
        progress(0.5)
    chosen = counter_for(params.estimator, counter)
    tokens = chosen.count_many(files)
    return Prepared(
        tag_counts=tuple(tag_counts), ranked=tuple(tags), ranked_counts=counts,
        n_rules=np.array(n_rules, dtype=np.int64), prevented=np.array(prevented, dtype=np.int64),
        file_tokens=dict(zip(ks, tokens, strict=True)), n_train=len(params.train),
        n_train_failures=sum(t.outcome == "failure" for t in params.train), held_out_tags=held)


def _guard_sizes(params: Params, tags: Sequence[str], ks: Sequence[int]) -> Sequence[int]:
    """Refuse up front when the file variants to count would be too large."""
    base = len(params.base_instructions) + len(params.learned_heading) + 3
    lengths = np.cumsum([0] + [len(params.tag_to_rule.get(t, "")) + 3 for t in tags])
    total = int(sum(base + lengths[k] for k in ks))
    if total > MAX_COUNTED_CHARS:
        raise InputError(f"params.tag_to_rule: the instruction files to count would hold {total:,} "
                         f"characters; the limit is {MAX_COUNTED_CHARS:,} (fewer or shorter rules)")
    return ks


@dataclass(frozen=True, slots=True)
class Result:
    """The mined rules at one threshold, the files before and after, the held-out check."""

    prepared: Prepared
    threshold: int
    recurring: tuple[str, ...]
    unphrased: tuple[str, ...]
    rules: tuple[str, ...]
    before_file: str
    after_file: str
    caught: tuple[str, ...]
    missed: tuple[str, ...]
    before_tokens: int
    after_tokens: int
    price_per_mtok: float
    calls_per_day: int
    sweep: dict[str, NDArray[Any]]
    """``threshold``, ``recurring``, ``rules``, ``prevented``, ``remaining``, ``rule_tokens``,
    ``yearly_cost`` as arrays, one entry per swept threshold."""
    note: str = ""
    """Said beside the headline (why an estimate stands in for the exact count)."""

    @property
    def rule_tokens(self) -> int:
        """Tokens the learned rules add to every call."""
        return self.after_tokens - self.before_tokens

    @property
    def yearly_cost(self) -> float:
        """Dollars a year the learned rules cost at the call volume."""
        return float(yearly_cost(self.rule_tokens, self.price_per_mtok, self.calls_per_day))

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (LEVERS2.md section 5.2 field names, plus the cost)."""
        p = self.prepared
        keys = list(self.sweep)
        rows = zip(*(self.sweep[k].tolist() for k in keys), strict=True)
        return {
            "n_train": p.n_train, "n_train_failures": p.n_train_failures,
            "threshold": self.threshold,
            "tag_counts": [{"tag": t, "count": c, "recurring": c >= self.threshold}
                           for t, c in p.tag_counts],
            "recurring": list(self.recurring), "unphrased": list(self.unphrased),
            "rules": list(self.rules), "new_rule_count": len(self.rules),
            "before_file": self.before_file, "after_file": self.after_file,
            "after_lines": self.after_file.split("\n"),
            "held_out_failures": len(p.held_out_tags), "prevented_before": 0,
            "prevented": len(self.caught), "remaining": len(self.missed),
            "caught": list(self.caught), "missed": list(self.missed),
            "before_tokens": self.before_tokens, "after_tokens": self.after_tokens,
            "rule_tokens": self.rule_tokens, "price_per_mtok": self.price_per_mtok,
            "calls_per_day": self.calls_per_day, "yearly_cost": self.yearly_cost,
            "threshold_sweep": [dict(zip(keys, row, strict=True)) for row in rows],
        }


def yearly_cost(tokens: Any, price_per_mtok: float, calls_per_day: int) -> Any:
    """Dollars a year for ``tokens`` more input on every call."""
    return tokens * price_per_mtok / PER * calls_per_day * DAYS_PER_YEAR


def recurring_count(prepared: Prepared, thresholds: Any) -> NDArray[np.int64]:
    """How many tags recur at each threshold (the ranked counts are descending)."""
    descending = prepared.ranked_counts
    return np.searchsorted(-descending, -np.asarray(thresholds, dtype=np.int64), side="right")


def derive(prepared: Prepared, params: Params) -> Result:
    """Apply the threshold: the recurring tags, their rules, the after file, the held-out check."""
    k = int(recurring_count(prepared, params.threshold))
    at = prepared.at_k.get(k)
    if at is None:
        at = prepared.at_k[k] = _at_k(prepared, params, k)
    rates = Rates.for_model(params.model)
    price = rates.cache_read if params.cached else rates.input
    key = (params.threshold_sweep, price, params.calls_per_day)
    swept = prepared.sweeps.get(key)
    if swept is None:
        swept = prepared.sweeps[key] = threshold_sweep(prepared, params, price)
        for column in swept.values():
            column.flags.writeable = False  # shared by every result of this prepared state
    return Result(
        prepared=prepared, threshold=params.threshold, recurring=at.recurring,
        unphrased=at.unphrased, rules=at.rules, before_file=params.base_instructions,
        after_file=at.after_file, caught=at.caught, missed=at.missed,
        before_tokens=prepared.file_tokens[0], after_tokens=prepared.file_tokens[k],
        price_per_mtok=price, calls_per_day=params.calls_per_day, sweep=swept)


def _at_k(prepared: Prepared, params: Params, k: int) -> _AtK:
    """Return the rules, file and held-out check with the first ``k`` ranked tags recurring."""
    recurring = prepared.ranked[:k]
    rules = rule_lines(params, recurring)
    covered = covered_tags(params, rules)
    return _AtK(recurring, tuple(t for t in recurring if not params.tag_to_rule.get(t, "").strip()),
                tuple(rules), render_file(params.base_instructions, params.learned_heading, rules),
                caught=tuple(t for t in prepared.held_out_tags if t in covered),
                missed=tuple(t for t in prepared.held_out_tags if t not in covered))


def default_thresholds(prepared: Prepared) -> NDArray[np.int64]:
    """1 .. the largest tag count + 1: from every tag recurring to none."""
    top = int(prepared.ranked_counts[0]) if prepared.ranked_counts.size else 0
    return np.arange(1, top + 2, dtype=np.int64)


def threshold_sweep(prepared: Prepared, params: Params, price: float) -> dict[str, NDArray[Any]]:
    """Failures prevented and the rules' standing token cost at each threshold."""
    if params.threshold_sweep is None:
        ts = default_thresholds(prepared)
    else:
        ts = np.array(params.threshold_sweep, dtype=np.int64)
    ks = recurring_count(prepared, ts)
    by_k = np.zeros(prepared.ranked_counts.size + 1, dtype=np.int64)  # only reachable k are read
    by_k[list(prepared.file_tokens)] = list(prepared.file_tokens.values())
    tokens = by_k[ks] - prepared.file_tokens[0]
    prevented = prepared.prevented[ks]
    return {"threshold": ts, "recurring": ks.astype(np.int64), "rules": prepared.n_rules[ks],
            "prevented": prevented, "remaining": len(prepared.held_out_tags) - prevented,
            "rule_tokens": tokens,
            "yearly_cost": yearly_cost(tokens.astype(float), price, params.calls_per_day)}


def compute(params: Params, counter: TokenCounter | None = None) -> Result:
    """Mine the rules at ``params.threshold`` and judge them on the held-out log."""
    return derive(prepare(params, counter), params)


def sweep(params: Params, field: str, values: Any, counter: TokenCounter | None = None
          ) -> dict[str, NDArray[Any]]:
    """Return the trade-off curve as arrays; only ``threshold`` can be swept."""
    if field != "threshold":
        raise InputError(f"sweep: {field!r} cannot be swept; choose threshold")
    ts = _thresholds(list(np.asarray(values).tolist()), "sweep.values")
    prepared = prepare(params, counter)
    rates = Rates.for_model(params.model)
    price = rates.cache_read if params.cached else rates.input
    return threshold_sweep(prepared, Params(**{**_fields_of(params), "threshold_sweep": ts}), price)


def _fields_of(params: Params) -> dict[str, Any]:
    return {name: getattr(params, name) for name in Params.__dataclass_fields__}


__all__ = ["LIVE", "MAX_TRACES", "Params", "Prepared", "Result", "Trace", "compute", "derive",
           "prepare", "sweep"]
