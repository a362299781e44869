"""The semantic cache's embedders, similarity matrix and cache walk (book chapter 7).

Two embedders turn a question into a unit vector:

* ``hashing`` (the book's): lower-case, split on whitespace, strip punctuation from both ends
  of each chunk, drop stopwords; each word adds 1.0 at ``H("word:" + w)`` and each of its
  3-character windows adds 0.5 at ``H("tri:" + c)``, where ``H`` is the first 8 bytes of the
  MD5 digest (big-endian) mod ``dim``. Different words can land in one slot.
* ``tfidf`` (ours, for comparison): the same words, weighted by term frequency times
  ``ln((N + 1) / (df + 1)) + 1`` over the workload's own questions; no collisions.

The cache walk visits the workload in order; a question is a hit when its best similarity to
a *stored* question (the misses before it) is at least the threshold. Only misses are stored,
so the walk is replayed from an empty cache for every threshold.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

EMBEDDERS = ("hashing", "tfidf")
MAX_TFIDF_CELLS = 25_000_000
"""Questions x distinct words for the TF-IDF matrix (100 MB of float32) at most."""
_TOP = 12
"""Per question, the most similar earlier questions kept for the walk (ties: earlier first)."""
_CHUNK = 512
_FEW = 48


def words(text: str, stopwords: frozenset[str], strip_chars: str) -> list[str]:
    """Return the question's content words: lower-cased, end-stripped, stopwords dropped."""
    out = []
    for chunk in text.lower().split():
        word = chunk.strip(strip_chars)
        if word and word not in stopwords:
            out.append(word)
    return out


def slot(feature: str, dim: int) -> int:
    """Return the book's slot hash: the first 8 bytes of MD5 (big-endian) mod ``dim``.

    A lone surrogate (half an emoji) hashes as its 3 UTF-8-style bytes (``surrogatepass``).
    """
    data = feature.encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.md5(data).digest()[:8], "big") % dim


def features(word: str, dim: int) -> list[tuple[int, float]]:
    """Return the (slot, weight) pairs one word adds: 1.0 for the word, 0.5 per trigram."""
    out = [(slot(f"word:{word}", dim), 1.0)]
    out += [(slot(f"tri:{word[i:i + 3]}", dim), 0.5) for i in range(len(word) - 2)]
    return out


def hashing_vector(text: str, dim: int, stopwords: frozenset[str], strip_chars: str,
                   memo: dict[str, list[tuple[int, float]]] | None = None) -> NDArray[np.float64]:
    """Return the unit hashing embedding of ``text`` (the zero vector for no content words)."""
    memo = {} if memo is None else memo
    vec = np.zeros(dim)
    for w in words(text, stopwords, strip_chars):
        found = memo.get(w)
        if found is None:
            found = memo[w] = features(w, dim)
        for where, weight in found:
            vec[where] += weight
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec


@dataclass(frozen=True, slots=True)
class Tfidf:
    """A TF-IDF model fitted on the workload: vocabulary index and idf per word."""

    index: dict[str, int]
    idf: NDArray[np.float64]
    unseen_idf: float

    @classmethod
    def fit(cls, bags: Sequence[Sequence[str]]) -> Tfidf:
        """Fit on the workload's word bags (document frequency counts each question once)."""
        df: Counter[str] = Counter()
        for bag in bags:
            df.update(set(bag))
        index = {w: i for i, w in enumerate(sorted(df))}
        n = len(bags)
        idf = np.array([math.log((n + 1) / (df[w] + 1)) + 1 for w in index])
        return cls(index, idf, math.log(n + 1) + 1)

    def vector(self, bag: Sequence[str]) -> tuple[NDArray[np.float64], float]:
        """Return ``bag``'s vector over the vocabulary, and the squared weight of unseen words.

        Unseen words count in the norm and match nothing in the workload.
        """
        vec = np.zeros(len(self.index))
        extra: Counter[str] = Counter()
        for w, tf in Counter(bag).items():
            i = self.index.get(w)
            if i is None:
                extra[w] = tf
            else:
                vec[i] = tf * self.idf[i]
        return vec, float(sum((tf * self.unseen_idf) ** 2 for tf in extra.values()))


def tfidf_matrix(bags: Sequence[Sequence[str]], model: Tfidf) -> NDArray[np.float32]:
    """Return the unit TF-IDF rows of ``bags`` (float32) over the model's vocabulary."""
    out = np.zeros((len(bags), len(model.index)), dtype=np.float32)
    for r, bag in enumerate(bags):
        vec, _ = model.vector(bag)
        norm = float(np.linalg.norm(vec))
        if norm:
            out[r] = vec / norm
    return out


def tfidf_similarity(a: Sequence[str], b: Sequence[str], model: Tfidf) -> float:
    """Return the cosine of two word bags under ``model`` (unseen words count in the norms)."""
    (va, ea), (vb, eb) = model.vector(a), model.vector(b)
    shared = Counter(a).keys() & Counter(b).keys() - model.index.keys()
    unseen = sum(Counter(a)[w] * Counter(b)[w] for w in shared) * model.unseen_idf ** 2
    na, nb = math.sqrt(float(va @ va) + ea), math.sqrt(float(vb @ vb) + eb)
    return float(va @ vb + unseen) / (na * nb) if na and nb else 0.0


def similarity_matrix(vectors: NDArray[np.floating]) -> NDArray[np.float32]:
    """Return question-by-question similarities (float32), exactly 1 for identical vectors.

    Identical questions are scored once (a workload repeats itself) and set to exactly 1, so
    a question asked twice hits even at threshold 1 whatever the summation order.
    """
    n = vectors.shape[0]
    ids: dict[bytes, int] = {}
    inverse = np.array([ids.setdefault(vectors[r].tobytes(), len(ids)) for r in range(n)])
    first = np.full(len(ids), -1, dtype=np.int64)
    first[inverse[::-1]] = np.arange(n)[::-1]
    unique = vectors[first].astype(np.float32)
    out = np.empty((first.size, first.size), dtype=np.float32)
    for start in range(0, first.size, _CHUNK):
        out[start:start + _CHUNK] = unique[start:start + _CHUNK] @ unique.T
    np.clip(out, -1.0, 1.0, out=out)
    _mirror(out)
    nonzero = np.flatnonzero(np.abs(unique).sum(axis=1) > 0)
    out[nonzero, nonzero] = 1.0
    return out if first.size == n else out[np.ix_(inverse, inverse)]


def _mirror(sim: NDArray[np.float32]) -> None:
    """Copy the upper triangle onto the lower one in place, so ``sim[i, j] == sim[j, i]``.

    A matrix product may round (i, j) and (j, i) differently in the last bit; the walk reads
    a stored question's row or a new question's row, and both must give the same score.
    """
    n = sim.shape[0]
    for start in range(0, n, _CHUNK):
        end = min(start + _CHUNK, n)
        sim[start:end, :start] = sim[:start, start:end].T
        block = sim[start:end, start:end]
        lower = np.tril_indices(end - start, -1)
        block[lower] = block.T[lower]


@dataclass(frozen=True, slots=True)
class Neighbours:
    """For each question, its most similar earlier questions, best first (ties: earlier first)."""

    index: NDArray[np.int64]
    """(n, k) earlier question indices; -1 pads rows with fewer than k earlier questions."""
    score: NDArray[np.float32]
    """(n, k) their similarities (-inf on padding)."""
    complete: NDArray[np.bool_]
    """Whether the row lists every earlier question (then no fallback search is needed)."""


def _rank_keys(block: NDArray[np.float32], cols: NDArray[np.int64]) -> NDArray[np.int64]:
    """Return int64 keys that order (score descending, index ascending) as one number.

    The float32 bits map to a monotone int32; the index fills the low 32 bits reversed, so
    among equal scores the earlier question has the larger key. -inf (not earlier) sorts last.
    """
    bits = block.view(np.int32).astype(np.int64)
    monotone = np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)
    return (monotone << 32) | (0xFFFFFFFF - cols)[None, :]


def neighbours(sim: NDArray[np.float32], top: int = _TOP,
               should_stop: Callable[[], bool] = lambda: False) -> Neighbours:
    """Rank each question's earlier questions by similarity, keeping the first ``top``.

    The order is total (score descending, then earlier question first) and the kept ones are
    exactly its first ``top``: any question not kept comes after every kept one.
    """
    n = sim.shape[0]
    k = max(1, min(top, n))
    index = np.full((n, k), -1, dtype=np.int64)
    score = np.full((n, k), -np.inf, dtype=np.float32)
    cols = np.arange(n, dtype=np.int64)
    for start in range(0, n, _CHUNK):
        if should_stop():
            break
        rows = np.arange(start, min(start + _CHUNK, n))
        block = np.where(cols[None, :] < rows[:, None], sim[rows], -np.inf).astype(np.float32)
        keys = _rank_keys(block, cols)
        part = np.argpartition(-keys, k - 1, axis=1)[:, :k] if n > k else np.tile(cols[:k], (rows.size, 1))
        part = np.take_along_axis(part, np.argsort(-np.take_along_axis(keys, part, axis=1), axis=1), axis=1)
        vals = np.take_along_axis(block, part, axis=1)
        index[rows] = np.where(np.isfinite(vals), part, -1)
        score[rows] = vals
    return Neighbours(index, score, np.arange(n) <= k)


@dataclass(frozen=True, slots=True)
class Walk:
    """The cache walk at one threshold."""

    threshold: float
    hit: NDArray[np.bool_]
    score: NDArray[np.float64]
    """Best similarity to a stored question (NaN while the cache was empty)."""
    match: NDArray[np.int64]
    """Index of that stored question (-1 while the cache was empty)."""


def walk(sim: NDArray[np.float32], near: Neighbours, threshold: float) -> Walk:
    """Replay the workload from an empty cache at ``threshold`` (hit when best >= threshold).

    Few misses: :func:`walk_by_misses`; many: :func:`walk_by_neighbours`. Both give the same
    walk (a test checks them against the plain rule).
    """
    fast = walk_by_misses(sim, threshold, limit=max(32, sim.shape[0] // 8))
    return fast if fast is not None else walk_by_neighbours(sim, near, threshold)


def walk_by_misses(sim: NDArray[np.float32], threshold: float, limit: int) -> Walk | None:
    """Walk by jumping from miss to miss; ``None`` once there are more than ``limit`` misses.

    Every question keeps its best score against the questions stored so far; a miss stores
    one more question and updates the later ones from its row (strictly better only, so the
    earlier stored question wins a tie). Between two misses every question is a hit.
    """
    n = sim.shape[0]
    best = np.full(n, -np.inf, dtype=np.float32)
    arg = np.full(n, -1, dtype=np.int64)
    hit = np.zeros(n, dtype=bool)
    t = np.float64(threshold)  # compare in float64, as the plain walk does
    pos, misses = 0, 0
    while pos < n:
        below = best[pos:] < t
        k = int(np.argmax(below))
        if not below[k]:
            hit[pos:] = True
            break
        j = pos + k
        hit[pos:j] = True
        misses += 1
        if misses > limit:
            return None
        row, tail = sim[j, j + 1:], best[j + 1:]
        better = row > tail
        tail[better] = row[better]
        arg[j + 1:][better] = j
        pos = j + 1
    score = np.where(arg >= 0, best.astype(np.float64), np.nan)
    return Walk(threshold, hit, score, arg)


def walk_by_neighbours(sim: NDArray[np.float32], near: Neighbours, threshold: float) -> Walk:
    """Walk question by question through each one's ranked earlier questions.

    A question's best stored match is the first of its ranked earlier questions that was
    stored (a miss): the ranking is total, so nothing unranked can beat it. Only when all of
    those were hits are the stored questions searched: few while hits dominate, which is when
    that happens.
    """
    n = sim.shape[0]
    is_hit = [False] * n
    score = np.full(n, np.nan)
    match = np.full(n, -1, dtype=np.int64)
    stored = np.zeros(n, dtype=np.int64)
    m = 1  # the first question always misses and is stored
    idx_rows, score_rows, complete = near.index.tolist(), near.score.tolist(), near.complete.tolist()
    for i in range(1, n):
        found, best = -1, math.nan
        row = score_rows[i]
        for j, s in zip(idx_rows[i], row, strict=True):
            if j < 0:
                break
            if not is_hit[j]:
                found, best = j, s
                break
        if found < 0 and not complete[i]:
            found, best = _best_stored(sim[i], stored, m)
        score[i], match[i] = best, found
        if best >= threshold:
            is_hit[i] = True
        else:
            stored[m] = i
            m += 1
    return Walk(threshold, np.array(is_hit, dtype=bool), score, match)


def _best_stored(row: NDArray[np.float32], stored: NDArray[np.int64], m: int) -> tuple[int, float]:
    """Return the first stored question with the highest similarity in ``row``."""
    if m <= _FEW:  # a NumPy call costs more than a short Python loop
        found, best = -1, -math.inf
        for j in stored[:m].tolist():
            s = float(row[j])
            if s > best:
                found, best = j, s
        return found, best
    cols = stored[:m]
    vals = row[cols]
    at = int(np.argmax(vals))
    return int(cols[at]), float(vals[at])


def false_flags(w: Walk, codes: NDArray[np.int64] | None
                ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]] | None:
    """Return (false hit, false miss) per question from intent codes, or ``None`` without them.

    A false hit served a stored question of another intent; a false miss called the model
    although a question of the same intent was already stored.
    """
    if codes is None:
        return None
    false_hit = w.hit & (w.match >= 0) & (codes[np.maximum(w.match, 0)] != codes)
    stored = np.flatnonzero(~w.hit)
    labels, first = np.unique(codes[stored], return_index=True)
    first_stored = np.full(int(codes.max(initial=0)) + 1, codes.size, dtype=np.int64)
    first_stored[labels] = stored[first]
    false_miss = ~w.hit & (np.arange(codes.size) > first_stored[codes])
    return false_hit, false_miss
