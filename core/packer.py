"""Context-window packer (book chapter 1): fit named parts into a token budget.

Pinned parts always stay. Every policy is an order in which evictable parts are offered
to the window, newest first for ``drop_oldest``; each part is kept if it still fits
(no early stop), so a small old part can survive where a large newer one could not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core import economy, fields
from core.errors import InputError
from core.tokens import COUNTER_NAMES, TokenCounter, counter_for

POLICIES = ("drop_oldest", "drop_largest", "priority")
"""``drop_oldest`` keeps the newest parts (the book's); ``drop_largest`` keeps the smallest;
``priority`` keeps parts by their ``rank`` (1 = most important; ties keep the newer part)."""

_WHERE = "params"

MAX_PARTS = 100_000
"""Parts a context may have. Each part is a named piece a reader can follow in the panel's
chart and list; counting, packing under all three policies and pricing 100,000 parts of 64
characters takes about a second (a 128 MiB scenario of 1.1 million parts took over 90 s)."""


@dataclass(frozen=True, slots=True)
class Part:
    """One named piece of the context."""

    name: str
    text: str
    pinned: bool = False
    rank: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Return the part as JSON-safe data."""
        return {"name": self.name, "text": self.text, "pinned": self.pinned, "rank": self.rank}


def _parse_parts(value: object, where: str) -> tuple[Part, ...]:
    raws = fields.sequence(value, where)
    if len(raws) > MAX_PARTS:
        raise InputError(f"{where}: {len(raws):,} parts is over the limit of {MAX_PARTS:,}")
    parts = []
    for i, raw in enumerate(raws):
        at = f"{where}[{i}]"
        p = fields.mapping(raw, at)
        fields.only_keys(p, ("name", "text", "pinned", "rank"), at)
        parts.append(Part(name=fields.text(p, "name", at), text=fields.text(p, "text", at),
                          pinned=fields.boolean(p, "pinned", at, False),
                          rank=fields.integer(p, "rank", at, 1, minimum=0)))
    dupes = sorted(n for n, seen in Counter(p.name for p in parts).items() if seen > 1)
    if dupes:
        raise InputError(f"{where}: part names must be unique, repeated: {dupes}")
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """What to pack, into how much room, by which rule."""

    parts: tuple[Part, ...] = fields.param(parse=_parse_parts, dump=lambda ps: [p.to_dict() for p in ps],
                                           doc="the named parts, oldest first")
    budget: int = fields.param(minimum=0, doc="tokens the window holds")
    policy: str = fields.param("drop_oldest", choices=POLICIES,
                               doc="drop_oldest keeps the newest parts; drop_largest keeps the "
                                   "smallest; priority keeps by rank (1 first)")
    estimator: str = fields.param("words", choices=COUNTER_NAMES, doc="how tokens are counted")
    model: str = fields.param("claude-opus-4-8", choices=tuple(economy.PRICES),
                              doc="model whose prices the cost uses")
    output_tokens: int = fields.param(500, minimum=0, doc="output tokens per call")
    calls: int = fields.param(100_000, minimum=0, doc="calls the cost is for")


@dataclass(frozen=True, slots=True)
class Packing:
    """Which parts one policy keeps at one budget."""

    kept: tuple[str, ...]
    dropped: tuple[str, ...]
    used: int

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data."""
        return {"kept": list(self.kept), "dropped": list(self.dropped), "used": self.used}


@dataclass(frozen=True, slots=True)
class Result:
    """The packed context for the chosen policy, plus every policy side by side."""

    names: tuple[str, ...]
    tokens: NDArray[np.int64]
    pinned: NDArray[np.bool_]
    budget: int
    policy: str
    estimator: str
    packing: Packing
    compare: dict[str, Packing]
    cost: economy.Result
    """What sending the packed context costs: ``used`` input tokens per call."""

    @property
    def total(self) -> int:
        """Tokens of all parts together."""
        return int(self.tokens.sum())

    @property
    def fits(self) -> bool:
        """Whether everything fits without dropping anything."""
        return self.total <= self.budget

    @property
    def pinned_tokens(self) -> int:
        """Tokens that no policy can drop."""
        return int(self.tokens[self.pinned].sum())

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-safe data (field names are DESIGN.md's contract)."""
        return {
            "parts": [
                {"name": n, "tokens": int(t), "pinned": bool(p)}
                for n, t, p in zip(self.names, self.tokens, self.pinned, strict=True)
            ],
            "total": self.total,
            "budget": self.budget,
            "fits": self.fits,
            "policy": self.policy,
            "estimator": self.estimator,
            **self.packing.to_dict(),
            "over_budget": self.packing.used > self.budget,
            "compare": {k: v.to_dict() for k, v in self.compare.items()},
            "cost": self.cost.to_dict(),
        }


def offer_order(tokens: NDArray[np.int64], ranks: Sequence[int], policy: str) -> list[int]:
    """Return part indices in the order a policy offers them to the window.

    Pinned parts are handled by the caller; ties always go to the newer (later) part.
    """
    newest_first = list(range(len(tokens) - 1, -1, -1))
    if policy == "drop_oldest":
        return newest_first
    if policy == "drop_largest":
        return sorted(newest_first, key=lambda i: int(tokens[i]))
    if policy == "priority":
        return sorted(newest_first, key=lambda i: ranks[i])
    raise InputError(f"{_WHERE}.policy: must be one of {', '.join(POLICIES)}, got {policy!r}")


def _pack(
    names: Sequence[str],
    tokens: NDArray[np.int64],
    pinned: NDArray[np.bool_],
    order: Sequence[int],
    budget: int,
) -> Packing:
    used = int(tokens[pinned].sum())
    keep = pinned.copy()
    for i in order:
        if not pinned[i] and used + tokens[i] <= budget:
            keep[i] = True
            used += int(tokens[i])
    kept = [names[i] for i in range(len(names)) if pinned[i]]
    kept += [names[i] for i in range(len(names)) if keep[i] and not pinned[i]]
    dropped = [names[i] for i in range(len(names)) if not keep[i]]
    return Packing(tuple(kept), tuple(dropped), used)


def count_parts(params: Params, counter: TokenCounter | None = None,
                progress: Callable[[float], None] | None = None) -> NDArray[np.int64]:
    """Count every part's tokens with the estimator the params name.

    ``progress`` hears 0 first, and then, with a counter that is not ``cheap`` (an exact
    count asks the API once a text), the fraction of the parts counted before each part.
    A cheap estimate counts all at once: 100,000 parts take tens of milliseconds.
    """
    chosen = counter_for(params.estimator, counter)
    texts = [p.text for p in params.parts]
    if progress is None or getattr(chosen, "cheap", False):
        if progress is not None:
            progress(0.0)
        return np.array(chosen.count_many(texts), dtype=np.int64)
    counts: list[int] = []
    for i, text in enumerate(texts):
        progress(i / len(texts))
        counts += chosen.count_many([text])
    return np.array(counts, dtype=np.int64)


LIVE = frozenset({"budget", "policy", "model", "output_tokens", "calls"})
"""Fields packed from the prepared counts (only the parts and the estimator are counted)."""


@dataclass(frozen=True, slots=True)
class Counted:
    """The parts' token counts: what every budget, policy and price reuses."""

    names: tuple[str, ...]
    tokens: NDArray[np.int64]
    pinned: NDArray[np.bool_]
    ranks: tuple[int, ...]


def prepare(params: Params, counter: TokenCounter | None = None,
            progress: Callable[[float], None] | None = None) -> Counted:
    """Count every part once (``counter`` replaces the named estimator when its name matches).

    ``progress`` hears the fraction counted (see :func:`count_parts`).
    """
    return Counted(tuple(p.name for p in params.parts), count_parts(params, counter, progress),
                   np.array([p.pinned for p in params.parts], dtype=bool),
                   tuple(p.rank for p in params.parts))


def compute(params: Params, counter: TokenCounter | None = None) -> Result:
    """Pack ``params.parts`` into ``params.budget`` under every policy."""
    return derive(prepare(params, counter), params)


def derive(counted: Counted, params: Params) -> Result:
    """Pack the counted parts into ``params.budget`` under every policy, and price it."""
    names, tokens, pinned, ranks = counted.names, counted.tokens, counted.pinned, counted.ranks
    compare = {
        policy: _pack(names, tokens, pinned, offer_order(tokens, ranks, policy), params.budget)
        for policy in POLICIES
    }
    packing = compare[params.policy]
    cost = economy.compute(economy.Params(
        params.model, packing.used, params.output_tokens, params.calls))
    return Result(
        names=names,
        tokens=tokens,
        pinned=pinned,
        budget=params.budget,
        policy=params.policy,
        estimator=params.estimator,
        packing=packing,
        compare=compare,
        cost=cost,
    )


@dataclass(frozen=True, slots=True)
class Sweep:
    """What survives at every budget in ``budgets`` under one policy."""

    budgets: NDArray[np.int64]
    kept: NDArray[np.bool_]
    """Survival map, parts x budgets."""
    used: NDArray[np.int64]

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe arrays."""
        return {
            "budgets": self.budgets.tolist(),
            "kept": self.kept.tolist(),
            "used": self.used.tolist(),
        }


def sweep(
    params: Params,
    field: str,
    values: Sequence[int] | NDArray[np.int64],
    counter: TokenCounter | None = None,
) -> Sweep:
    """Pack at every value of ``field`` at once (only ``budget`` is sweepable).

    The greedy pass runs once per part over the whole budget vector, so a sweep of
    every budget from 0 to the total costs a few vectorised operations per part.
    """
    if field != "budget":
        raise InputError(f"sweep: field {field!r} cannot be swept; sweepable: budget")
    return sweep_counted(prepare(params, counter), params.policy, values)


def sweep_counted(counted: Counted, policy: str, values: Sequence[int] | NDArray[np.int64]) -> Sweep:
    """Pack the counted parts at every budget in ``values`` under ``policy``."""
    budgets = np.asarray(values, dtype=np.int64)
    tokens, pinned = counted.tokens, counted.pinned
    kept = np.zeros((len(tokens), budgets.size), dtype=bool)
    kept[pinned, :] = True
    used = np.full(budgets.shape, int(tokens[pinned].sum()), dtype=np.int64)
    for i in offer_order(tokens, counted.ranks, policy):
        if pinned[i]:
            continue
        fits = used + tokens[i] <= budgets
        kept[i] = fits
        used += tokens[i] * fits
    return Sweep(budgets=budgets, kept=kept, used=used)
