"""Agent memory rules (book chapter 9): fact extraction, invalidation keys, the store, embedding.

Extraction tries six patterns in a fixed order; for each, every non-overlapping match in the
turn is taken left to right. A fact's *key* is everything up to its last `` is `` (so
``favorite color is``), else its first word: facts such as ``is vegetarian`` or ``prefers
window seats`` are keyed by one word, so any later ``I am ...`` replaces ``is vegetarian``.
Embedding is a bag of folded words hashed with FNV-1a 32 into ``dim`` slots, where unrelated
words can share a slot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

_VALUE = r"([\w ]+?)(?: and |[.,!?]|$)"
PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (name, re.compile(trigger + _VALUE, re.IGNORECASE), template)
    for name, trigger, template in (
        ("my X is Y", r"\bmy ([\w ]+?) is ", "{0} is {1}"),
        ("i prefer Y", r"\bi prefer ", "prefers {0}"),
        ("i am Y", r"\bi am ", "is {0}"),
        ("i'm Y", r"\bi'm ", "is {0}"),
        ("i live in Y", r"\bi live in ", "lives in {0}"),
        ("i work at Y", r"\bi work at ", "works at {0}"),
    )
)
"""The six extraction patterns, in the order they are tried, with their fact templates."""

_WORD = re.compile(r"[a-z0-9]+")
FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193


def extract(turn: str) -> list[tuple[str, str]]:
    """Return ``(fact, pattern name)`` for each fact found in ``turn``, in pattern order."""
    found: dict[str, str] = {}
    for name, pattern, template in PATTERNS:
        for m in pattern.finditer(turn):
            groups = [g.strip().lower() for g in m.groups()]
            fact = " ".join(template.format(*groups).split())
            found.setdefault(fact, name)
    return list(found.items())


def key(fact: str) -> str:
    """Return the invalidation key: up to and including the last `` is ``, else the first word."""
    at = fact.rfind(" is ")
    if at >= 0:
        return fact[:at + 4]
    parts = fact.split()
    return parts[0] if len(parts) >= 2 else fact


def fnv1a32(text: str) -> int:
    """Return the 32-bit FNV-1a hash of the UTF-8 bytes of ``text`` (lone surrogates passed)."""
    h = FNV_OFFSET
    for byte in text.encode("utf-8", "surrogatepass"):
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return h


def fold(word: str) -> str:
    """Drop a plural ``s`` (longer than 3 characters, not ending in ``ss``)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def terms(text: str, stopwords: frozenset[str]) -> list[str]:
    """Return the folded, non-stopword ``[a-z0-9]+`` runs of the lower-cased text."""
    return [fold(w) for w in _WORD.findall(text.lower()) if w not in stopwords]


def embed(text: str, dim: int, stopwords: frozenset[str]) -> NDArray[np.float64]:
    """Return the unit bag-of-words vector of ``text`` (zero when no word is left)."""
    vec = np.zeros(dim)
    for w in terms(text, stopwords):
        vec[fnv1a32(w) % dim] += 1.0
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec


def collisions(texts: Sequence[str], dim: int, stopwords: frozenset[str]) -> list[dict[str, object]]:
    """Return the slots that two or more different words of ``texts`` share."""
    slots: dict[int, list[str]] = {}
    for text in texts:
        for w in terms(text, stopwords):
            group = slots.setdefault(fnv1a32(w) % dim, [])
            if w not in group:
                group.append(w)
    return [{"slot": s, "words": ws} for s, ws in sorted(slots.items()) if len(ws) > 1]


@dataclass(frozen=True, slots=True)
class Change:
    """One fact added to the store: ``updated`` replaced ``old`` (same key) in place."""

    fact: str
    key: str
    status: str
    old: str | None


class Store:
    """Facts in insertion order; a fact whose key is already stored replaces it in place."""

    def __init__(self, facts: Sequence[str] = ()) -> None:
        self.facts: list[str] = []
        self._at: dict[str, int] = {}
        for fact in facts:
            self.add(fact)

    def add(self, fact: str) -> Change:
        """Add ``fact``, replacing the stored fact with the same key."""
        k = key(fact)
        at = self._at.get(k)
        if at is None:
            self._at[k] = len(self.facts)
            self.facts.append(fact)
            return Change(fact, k, "added", None)
        old, self.facts[at] = self.facts[at], fact
        return Change(fact, k, "updated", old)

    def copy(self) -> Store:
        """Return an independent copy."""
        out = Store()
        out.facts, out._at = list(self.facts), dict(self._at)
        return out


def top_k(scores: NDArray[np.float64], k: int) -> NDArray[np.int64]:
    """Return the indices of the ``k`` best scores, equal scores in insertion order."""
    return np.argsort(-scores, kind="stable")[:max(k, 0)]
