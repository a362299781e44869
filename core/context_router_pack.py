"""Context router packing (book chapter 13): one packing under a budget, a sweep of budgets, turns.

Split from :mod:`core.context_router`, which re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, overload

import numpy as np
from numpy.typing import NDArray


class _Query(Protocol):
    @property
    def query(self) -> str: ...

    @property
    def label(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Packing:
    """What one packing of named sources under a budget kept and skipped."""

    included: tuple[str, ...]
    skipped: tuple[str, ...]
    tokens: int


def pack(names: Sequence[str], sizes: dict[str, int], budget: int) -> Packing:
    """Walk ``names`` in order; include a source if it still fits, else skip it and go on."""
    total, included, skipped = 0, [], []
    for n in names:
        if total + sizes[n] <= budget:
            total += sizes[n]
            included.append(n)
        else:
            skipped.append(n)
    return Packing(tuple(included), tuple(skipped), total)


def pack_many(names: Sequence[str], sizes: dict[str, int], budgets: NDArray[np.int64]
              ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """:func:`pack` at every budget at once: the totals and the number skipped."""
    total = np.zeros(budgets.shape, dtype=np.int64)
    skipped = np.zeros(budgets.shape, dtype=np.int64)
    for n in names:
        fits = total + sizes[n] <= budgets
        total += np.where(fits, sizes[n], 0)
        skipped += ~fits
    return total, skipped


class Turn(NamedTuple):
    """One query: its label, the kitchen-sink packing and the routed one."""

    query: str
    label: str
    declared: bool
    sink: Packing
    routed: Packing
    needed_tokens: int
    """What the route needs in full: the smallest budget at which it drops nothing."""

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (LEVERS2.md section 6.2 names)."""
        return {"query": self.query, "label": self.label, "declared": self.declared,
                "sink_tokens": self.sink.tokens, "sink_included": list(self.sink.included),
                "sink_skipped": list(self.sink.skipped), "routed_tokens": self.routed.tokens,
                "routed_included": list(self.routed.included),
                "routed_skipped": list(self.routed.skipped),
                "saved": self.sink.tokens - self.routed.tokens, "needed_tokens": self.needed_tokens}


class Turns(Sequence[Turn]):
    """Every query's :class:`Turn`, made when asked for.

    A budget tick repacks once per label, not once per query: the turns of one label share
    their packings, so 5,000 queries cost nothing until a turn is read (the chart reads 24).
    Compares equal to the tuple of the same turns.
    """

    __slots__ = ("_labels", "_needed", "_queries", "_routed", "_sink")

    def __init__(self, queries: Sequence[_Query], labels: Sequence[str], sink: Packing,
                 routed: dict[str, Packing], needed: dict[str, int]) -> None:
        self._queries, self._labels = queries, labels
        self._sink, self._routed, self._needed = sink, routed, needed

    def _turn(self, i: int) -> Turn:
        q, label = self._queries[i], self._labels[i]
        return Turn(q.query, label, q.label is not None, self._sink, self._routed[label],
                    self._needed[label])

    def __len__(self) -> int:
        return len(self._labels)

    @overload
    def __getitem__(self, i: int) -> Turn: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[Turn, ...]: ...

    def __getitem__(self, i: int | slice) -> Turn | tuple[Turn, ...]:
        if isinstance(i, slice):
            return tuple(self._turn(k) for k in range(*i.indices(len(self))))
        if not -len(self) <= i < len(self):
            raise IndexError(f"turn {i} of {len(self)}")
        return self._turn(i % len(self))

    def __iter__(self) -> Iterator[Turn]:
        return (self._turn(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Turns | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented  # defining __eq__ sets __hash__ to None: a Turns is unhashable

    def __repr__(self) -> str:
        return f"Turns({len(self)} turns)"

    def hungriest(self) -> Turn | None:
        """Return the first turn whose route needs the most tokens (``None`` without turns)."""
        if not self._labels:
            return None
        best = max(self._needed.values())
        return self._turn(next(i for i, lb in enumerate(self._labels) if self._needed[lb] == best))
