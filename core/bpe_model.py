"""Byte-pair encoding, trained and replayed fast (the algorithm behind ``core.bpe``).

The rules are the book's: each round merges the most frequent adjacent pair (overlapping
occurrences all count), ties go to the pair seen first scanning the current corpus left to
right, and a merge replaces left to right without overlap. Encoding applies the lowest-rank
merge present, leftmost first, until none applies.

Training counts pairs once over the unique words weighted by their frequency and, after each
merge, updates only the words that merge touched. The first occurrence of a pair in the corpus
is in the earliest unique word that holds it (unique words keep first-seen order), at its
leftmost position there, so ties are settled without rescanning the corpus.

Encoding records, per word, the boundary each merge step removes and the running maximum of
the step ranks. With only the first ``k`` merges allowed, a word's encoding is the full replay
stopped before the first step whose running maximum reaches ``k`` -- so one replay per word
answers every ``k``, which is what makes dragging the merges slider cheap.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate, pairwise

import numpy as np

from core.bpe_pattern import check_pattern as check_pattern
from core.bpe_pattern import word_spans as word_spans

Pair = tuple[str, str]
ALPHABETS = ("chars", "bytes")
PRETOKENIZERS = ("whitespace", "regex")
DEFAULT_PATTERN = r"\w+|[^\w\s]+"
"""The regex pre-tokenizer's default: runs of word characters, runs of punctuation."""


def symbols(word: str, alphabet: str) -> str:
    """Return ``word`` as the starting symbols: characters, or UTF-8 bytes as latin-1 chars.

    Mapping each byte to the character with the same code keeps one code path for both
    alphabets: a piece is always a ``str`` and merging is concatenation.
    """
    return word if alphabet == "chars" else word.encode("utf-8").decode("latin-1")


def readable(piece: str, alphabet: str) -> str:
    """Return a piece as the user reads it (bytes that split a character shown escaped)."""
    if alphabet == "chars":
        return piece
    return piece.encode("latin-1").decode("utf-8", errors="backslashreplace")


class Trainer:
    """Learns merges over a corpus of words; :meth:`train` can be called again to learn more.

    Each unique word is a linked list of pieces (indexed by their first symbol), and every
    pair knows where it occurs (word, position). A merge visits only the occurrences of the
    merged pair and the pairs beside them, so its cost does not grow with the words' lengths:
    5 KB of text without a space learns every merge in about a second instead of minutes.
    The next merge comes from a heap of (count, first occurrence) entries, stale entries
    skipped, so a tie is settled without rescanning the corpus.

    Parameters
    ----------
    words
        The corpus as a sequence of words, each already in starting symbols.
    """

    def __init__(self, words: Iterable[str]) -> None:
        freq = Counter(words)  # insertion order is first-seen order
        self.freq: list[int] = list(freq.values())
        self.merges: list[Pair] = []
        self.frequencies: list[int] = []
        self._piece: list[list[str]] = [list(w) for w in freq]
        """Per word, the piece starting at each symbol index (``""``: merged into the left)."""
        self._next: list[list[int]] = [[*range(1, len(w)), -1] for w in freq]
        self._prev: list[list[int]] = [list(range(-1, len(w) - 1)) for w in freq]
        self._counts: dict[Pair, int] = {}
        self._where: dict[Pair, dict[int, set[int]]] = {}
        """Pair -> word -> positions (the left piece's symbol index) where it occurs."""
        self._first: dict[Pair, tuple[int, int]] = {}
        self._heap: list[tuple[int, int, int, Pair]] = []
        for wid, word in enumerate(freq):
            for i in range(len(word) - 1):
                self._add((word[i], word[i + 1]), wid, i)
        self._heap = [(-c, *self._first[p], p) for p, c in self._counts.items()]
        heapq.heapify(self._heap)

    @property
    def exhausted(self) -> bool:
        """Whether no adjacent pair is left to merge."""
        return not self._counts

    def train(self, n: int, should_stop: Callable[[], bool] = lambda: False,
              progress: Callable[[float], None] | None = None) -> None:
        """Learn merges until ``n`` are known, no pair is left, or ``should_stop()``."""
        start = len(self.merges)
        while len(self.merges) < n and self._counts and not should_stop():
            best = self._best()
            self.merges.append(best)
            self.frequencies.append(self._counts[best])
            self._merge(best)
            if progress is not None and len(self.merges) % 50 == 0:
                progress((len(self.merges) - start) / max(n - start, 1))

    def _best(self) -> Pair:
        """Return the most frequent pair, first seen on a tie (stale heap entries are dropped)."""
        while True:
            negative, wid, pos, pair = self._heap[0]
            if self._counts.get(pair) == -negative and self._first.get(pair) == (wid, pos):
                return pair
            heapq.heappop(self._heap)

    def _add(self, pair: Pair, wid: int, pos: int) -> None:
        self._where.setdefault(pair, {}).setdefault(wid, set()).add(pos)
        self._counts[pair] = self._counts.get(pair, 0) + self.freq[wid]
        if (wid, pos) < self._first.get(pair, (wid + 1, 0)):
            self._first[pair] = (wid, pos)

    def _remove(self, pair: Pair, wid: int, pos: int, stale: set[Pair]) -> None:
        found = self._where.get(pair)
        if found is None:  # the pair being merged: its occurrences were taken already
            return
        found[wid].discard(pos)
        if not found[wid]:
            del found[wid]
        self._counts[pair] -= self.freq[wid]
        if self._first[pair] == (wid, pos):
            stale.add(pair)

    def _merge(self, pair: Pair) -> None:
        a, b = pair
        joined = a + b
        occurrences = self._where.pop(pair)
        del self._counts[pair], self._first[pair]
        touched: set[Pair] = set()
        stale: set[Pair] = set()
        for wid in sorted(occurrences):
            piece, nxt, prv = self._piece[wid], self._next[wid], self._prev[wid]
            for i in sorted(occurrences[wid]):  # left to right, never overlapping
                j = nxt[i]
                if piece[i] != a or j < 0 or piece[j] != b:
                    continue  # taken by the merge just left of it ("a a a")
                h, k = prv[i], nxt[j]
                if h >= 0:
                    left, merged = (piece[h], a), (piece[h], joined)
                    self._remove(left, wid, h, stale)
                    self._add(merged, wid, h)
                    touched.update((left, merged))
                if k >= 0:
                    right, merged = (b, piece[k]), (joined, piece[k])
                    self._remove(right, wid, j, stale)
                    self._add(merged, wid, i)
                    touched.update((right, merged))
                    prv[k] = i
                piece[i], piece[j], nxt[i] = joined, "", k
        touched.discard(pair)
        for p in touched:
            count = self._counts.get(p, 0)
            if count <= 0:
                self._counts.pop(p, None)
                self._first.pop(p, None)
                self._where.pop(p, None)
                continue
            if p in stale:
                where = self._where[p]
                wid = min(where)
                self._first[p] = (wid, min(where[wid]))
            heapq.heappush(self._heap, (-count, *self._first[p], p))


@dataclass(frozen=True, slots=True)
class Replay:
    """One word's full encoding replay: what each step removed, and when it is allowed."""

    size: int
    """Number of starting symbols."""
    removed: tuple[int, ...]
    """Per step, the symbol index where the merged right piece started (a boundary gone)."""
    reach: tuple[int, ...]
    """Per step, the running maximum of the step ranks: step s runs iff ``reach[s] < k``."""

    def steps(self, k: int) -> int:
        """Return how many steps run when only the first ``k`` merges are allowed."""
        return bisect_left(self.reach, k)

    def pieces(self, word: str, k: int) -> list[str]:
        """Return ``word`` (in starting symbols) split into pieces with ``k`` merges."""
        gone = set(self.removed[: self.steps(k)])
        cuts = [0] + [i for i in range(1, self.size) if i not in gone] + [self.size]
        return [word[s:e] for s, e in pairwise(cuts)]


class Encoder:
    """Encodes words with a ranked merge list; replays are cached per word."""

    def __init__(self, merges: list[Pair]) -> None:
        # A pair learned twice keeps its later rank, as a dict built in rank order does.
        self.ranks: dict[Pair, int] = {pair: rank for rank, pair in enumerate(merges)}
        self._replays: dict[str, Replay] = {}

    def replay(self, word: str) -> Replay:
        """Return (and cache) the full replay of ``word``, given in starting symbols."""
        found = self._replays.get(word)
        if found is None:
            found = self._replays[word] = self._replay(word)
        return found

    def encode(self, word: str, k: int | None = None) -> list[str]:
        """Return ``word`` (starting symbols) as pieces with the first ``k`` merges (all)."""
        return self.replay(word).pieces(word, len(self.ranks) + 1 if k is None else k)

    def _replay(self, word: str) -> Replay:
        # A linked list of pieces keyed by their first symbol index, and a heap of candidate
        # (rank, start) pairs; stale heap entries are skipped by re-checking the pair's rank.
        n = len(word)
        piece = {i: word[i] for i in range(n)}
        nxt = {i: i + 1 for i in range(n - 1)}
        prv = {i + 1: i for i in range(n - 1)}
        heap = [(r, i) for i in range(n - 1) if (r := self.ranks.get((word[i], word[i + 1]))) is not None]
        heapq.heapify(heap)
        removed: list[int] = []
        ranks: list[int] = []
        while heap:
            rank, i = heapq.heappop(heap)
            j = nxt.get(i)
            if i not in piece or j is None or self.ranks.get((piece[i], piece[j])) != rank:
                continue
            piece[i] += piece.pop(j)
            removed.append(j)
            ranks.append(rank)
            after = nxt.pop(j, None)
            prv.pop(j, None)
            if after is None:
                nxt.pop(i, None)
            else:
                nxt[i], prv[after] = after, i
                self._push(heap, piece, i, after)
            if i in prv:
                self._push(heap, piece, prv[i], i)
        return Replay(size=n, removed=tuple(removed), reach=tuple(accumulate(ranks, max)))

    def _push(self, heap: list[tuple[int, int]], piece: dict[int, str], i: int, j: int) -> None:
        rank = self.ranks.get((piece[i], piece[j]))
        if rank is not None:
            heapq.heappush(heap, (rank, i))


def tokens_by_merges(replays: list[Replay], weights: np.ndarray, top: int) -> np.ndarray:
    """Return the weighted total number of pieces for every ``k`` in ``0..top``.

    A step with running-maximum rank ``r`` removes one piece for every ``k > r``, so the count
    at ``k`` is the symbol total minus the weighted steps with ``reach < k``.
    """
    sizes = np.array([r.size for r in replays], dtype=np.int64)
    total = int((sizes * weights).sum())
    if not replays:
        return np.full(top + 1, total, dtype=np.int64)
    reach = np.fromiter((x for r in replays for x in r.reach), dtype=np.int64)
    per_step = np.repeat(weights, [len(r.reach) for r in replays])
    hist = np.bincount(np.minimum(reach, top), weights=per_step, minlength=top + 1)
    removed_before = np.concatenate([[0.0], np.cumsum(hist)[:-1]])
    return total - removed_before.astype(np.int64)
