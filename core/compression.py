"""Query-aware extractive compression lever (book chapter 3): keep the sentences that matter.

Scoring (the book's): every sentence is a document; idf(w) = ln((N+1)/(df+1)) + 1; a
sentence's score is the summed idf of its words that are also query words (repeats count),
divided by its word count. BM25 is offered as a second scorer. Coarse pass: rank by score
(ties in reading order) and keep each sentence that still fits the budget. Fine pass: drop
stopwords from the kept sentences, never a query word.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core import fields
from core.errors import InputError
from core.tokens import TokenCounter, counter_for

SCORERS = ("idf", "bm25")
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each either few for from
further had has have having he her here hers him his how however i if in into is it its itself
just me might more most must my neither no nor not now of off on once only or other ought our
ours out over own same shall she should so some such than that the their theirs them then there
these they this those through to too under until up upon us very was we were what when where
whether which while who whom whose why will with within without would yet you your yours
""".split())  # noqa: SIM905 (a word list reads best as text)
"""The project's default stopword list (common English function words)."""

ABBREVIATIONS = frozenset("""
e.g i.e etc vs mr mrs ms dr prof sr jr st no approx fig dept inc ltd corp co jan feb mar apr
jun jul aug sep sept oct nov dec u.s u.k a.m p.m
""".split())  # noqa: SIM905 (a word list reads best as text)
"""Words after which a period does not end a sentence (compared lowercase, final dot removed)."""
_LAST_WORD = max(map(len, ABBREVIATIONS)) + 1
"""Characters before a period searched for the word it ends: a search back to the sentence's
start made a run of initials or abbreviations quadratic ("a. " x 1.7 million: over 2 minutes)."""

_WORD = re.compile(r"[a-z0-9]+|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_END = re.compile(r"[.!?]+[\"')\]]*\s+|[。！？]+")
_MAX_WORDS = 60
MAX_TEXT_CHARS = 5_000_000
"""Characters the text (and the query and probe) may have: a few books. Splitting, scoring
and packing 5,000,000 characters takes about 2 s of CPU as 12-word sentences and 6 s as
one-word sentences (the most sentences per character); 128 MiB ran over 90 s and 2 GB."""
_WHERE = "params"
ORDERS = ("reading", "score")


def words(text: str) -> list[str]:
    """Return the scoring words: lowercase ASCII letter/digit runs, and each CJK character."""
    return _WORD.findall(text.lower())


def split_sentences(text: str, progress: Callable[[float], None] | None = None) -> list[str]:
    """Split text into sentences (``progress`` hears the fraction of the text walked).

    A sentence ends at ``.``, ``!`` or ``?`` followed by whitespace (not after a listed
    abbreviation or a single-letter initial), at the CJK full stop, exclamation and question
    marks, and at a blank line. Text with no sentence punctuation at all (a log) is split at
    line breaks, and a run longer than 60 words without any boundary is cut into 60-word pieces.
    """
    text = text.strip()
    if not text:
        return []
    if not re.search(r"[.!?。！？]", text):
        pieces = text.splitlines()
    else:
        pieces, start, mark = [], 0, 0
        for m in _END.finditer(text):
            if progress is not None and m.start() >= mark:  # every 1/64 of the text
                progress(m.start() / len(text))
                mark = m.start() + len(text) // 64 + 1
            lo = max(start, m.start() - _LAST_WORD)  # a longer word is no abbreviation: look no further
            cut = max(text.rfind(" ", lo, m.start()), text.rfind("\n", lo, m.start()), lo - 1)
            last = text[cut + 1:m.start() + 1].lower().rstrip(".")
            initial = len(last) == 1 and last.isalpha()
            if m.group().strip()[:1] == "." and (last in ABBREVIATIONS or initial):
                continue
            pieces.append(text[start:m.end()])
            start = m.end()
        pieces.append(text[start:])
        pieces = [part for piece in pieces for part in re.split(r"\n\s*\n", piece)]
    out = []
    for piece in (p.strip() for p in pieces):
        ws = piece.split()
        if len(ws) > _MAX_WORDS and not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", piece):
            out += [" ".join(ws[i:i + _MAX_WORDS]) for i in range(0, len(ws), _MAX_WORDS)]
        elif piece:
            out.append(piece)
    return out


def _parse_stopwords(value: object, where: str) -> tuple[str, ...]:
    stop = fields.sequence(value, where)
    if not all(isinstance(w, str) for w in stop):
        raise InputError(f"{where}: expected a list of words or null")
    return tuple(w.lower() for w in stop)


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """The text, the question, and the budget it must be squeezed into."""

    text: str = fields.param(doc="the text to compress")
    query: str = fields.param(doc="the question the kept sentences should answer")
    budget: int = fields.param(minimum=0, doc="tokens the compressed text may use")
    stopwords: tuple[str, ...] | None = fields.param(None, parse=_parse_stopwords,
                                                     doc="words the fine pass strikes (None: built-in)")
    scorer: str = fields.param("idf", choices=SCORERS, doc="how sentences are scored")
    fine: bool = fields.param(True, doc="fine pass: strike stopwords (query words kept)")
    probe: str = fields.param("", doc="text of the answer: the curve marks where it is lost")
    estimator: str = fields.param("words", choices=("words", "chars", "exact"),
                                  doc="how tokens are counted")
    order: str = fields.param("reading", choices=ORDERS,
                              doc="how a viewer lays out the sentences; no effect on results")

    def check(self) -> None:
        for name in ("text", "query", "probe"):
            if len(getattr(self, name)) > MAX_TEXT_CHARS:
                raise InputError(f"{_WHERE}.{name}: longer than {MAX_TEXT_CHARS:,} characters")


@dataclass(frozen=True, slots=True)
class Scored:
    """Everything that does not depend on the budget: sentences, scores, costs, ranking."""

    sentences: list[str]
    scores: np.ndarray
    tokens: np.ndarray
    order: np.ndarray
    """Sentence indices best first (ties in reading order)."""
    original_tokens: int
    answer: int
    """Index of the sentence holding the probe, or -1."""
    fine_sentences: list[str]
    """Each sentence after the fine pass."""
    sizes: np.ndarray
    """Per sentence: whitespace words, characters, and the same after the fine pass (4 x n)."""


def score(params: Params, counter: TokenCounter,
          progress: Callable[[float], None] | None = None) -> Scored:
    """Split, score, count and rank: the part to cache while only the budget moves.

    ``progress`` hears the fraction done: splitting is the first 40 %, then one step a pass.
    """
    tell = progress or (lambda _f: None)
    sentences = split_sentences(params.text, lambda f: tell(0.4 * f))
    if not sentences:
        raise InputError(f"{_WHERE}.text: nothing to compress; paste a document")
    query = words(params.query)
    if not query:
        raise InputError(f"{_WHERE}.query: no words in the question")
    bags: list[list[str]] = []
    for lo in range(0, len(sentences), 1 << 16):  # the longest pass: heard every 65,536 sentences
        tell(0.4 + 0.2 * lo / len(sentences))
        bags += [words(s) for s in sentences[lo:lo + (1 << 16)]]
    tell(0.6)
    scores = _bm25(bags, set(query)) if params.scorer == "bm25" else _idf(bags, set(query))
    tell(0.7)
    tokens = np.array(counter.count_many(sentences), dtype=np.int64)
    tell(0.8)
    order = np.argsort(-scores, kind="stable")
    probe = params.probe.strip().lower()
    answer = next((i for i, s in enumerate(sentences) if probe and probe in s.lower()), -1)
    stop = STOPWORDS if params.stopwords is None else frozenset(params.stopwords)
    qset = set(query)
    fine = [" ".join([w for w in s.split() if (b := w.lower().strip(".,!?;:")) not in stop or b in qset])
            for s in sentences]  # fine_words, inlined: this runs over every sentence per rescore
    tell(0.9)
    sizes = np.array([[len(s.split()) for s in sentences], [len(s) for s in sentences],
                      [len(f.split()) for f in fine], [len(f) for f in fine]], dtype=np.int64)
    return Scored(sentences, scores, tokens, order, counter.count(params.text), answer, fine, sizes)


def _idf(bags: list[list[str]], query: set[str]) -> np.ndarray:
    n = len(bags)
    df = Counter(w for bag in bags for w in set(bag))
    weight = {w: math.log((n + 1) / (df[w] + 1)) + 1.0 for w in query if w in df}
    return np.array([sum(weight.get(w, 0.0) for w in bag if w in query) / len(bag) if bag else 0.0
                     for bag in bags])


def _bm25(bags: list[list[str]], query: set[str], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    n = len(bags)
    df = Counter(w for bag in bags for w in set(bag))
    avg = max(sum(map(len, bags)) / max(n, 1), 1e-9)
    out = np.zeros(n)
    for i, bag in enumerate(bags):
        tf = Counter(w for w in bag if w in query)
        norm = k1 * (1 - b + b * len(bag) / avg)
        out[i] = sum(math.log((n - df[w] + 0.5) / (df[w] + 0.5) + 1) * f * (k1 + 1) / (f + norm)
                     for w, f in tf.items())
    return out


_RUNS = 32
"""Runs of fitting sentences found with array operations before the rest is walked one by one."""


def keep_mask(scored: Scored, budget: int) -> np.ndarray:
    """Greedy coarse pass: best first, keep each sentence that still fits (no early stop).

    The walk is done in runs: from a sentence that fits, every following one fits while the
    running total stays within the budget (a cumulative sum finds where that ends); the one
    that ends the run is skipped, and so is every later one dearer than the room left (the
    room only shrinks). A budget drag reruns this on 10,000 sentences, so a loop per
    sentence was most of the drag's compute; after a few runs the rest is walked as before.
    """
    costs = scored.tokens[scored.order].astype(np.int64)
    take = np.zeros(costs.size, dtype=bool)
    used, pos = 0, 0
    for _run in range(_RUNS if costs.size and costs.min() >= 0 else 0):
        ahead = np.flatnonzero(costs[pos:] <= budget - used)  # dearer ones never fit again
        if ahead.size == 0:
            pos = costs.size
            break
        pos += int(ahead[0])
        total = np.cumsum(costs[pos:])
        run = int(np.searchsorted(total, budget - used, side="right"))
        take[pos:pos + run] = True
        used += int(total[run - 1])
        pos += run
    for k, cost in enumerate(costs[pos:].tolist(), start=pos):
        if used + cost <= budget:
            take[k] = True
            used += cost
    kept = np.zeros(len(scored.sentences), dtype=bool)
    kept[scored.order[take]] = True
    return kept


def fine_words(sentence: str, stopwords: frozenset[str], query: set[str]) -> list[tuple[str, bool]]:
    """Return each whitespace word of ``sentence`` and whether the fine pass keeps it."""
    return [(w, (bare := w.lower().strip(".,!?;:")) not in stopwords or bare in query)
            for w in sentence.split()]


@dataclass(frozen=True, slots=True)
class Result:
    """The scored sentences, what the coarse pass kept, and the fine pass's text."""

    params: Params
    scored: Scored
    kept: np.ndarray
    coarse_tokens: int
    fine_tokens: int

    @property
    def fine_text(self) -> str:
        """The kept sentences after the fine pass, joined by spaces."""
        return " ".join(f for f, k in zip(self.scored.fine_sentences, self.kept, strict=True) if k)

    @property
    def answer_kept(self) -> bool | None:
        """Whether the probe's sentence survived (``None`` without a probe or a match)."""
        return None if self.scored.answer < 0 else bool(self.kept[self.scored.answer])

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (field names are DESIGN.md's contract)."""
        s = self.scored
        original = max(s.original_tokens, 1)
        return {
            "sentences": [{"text": t, "score": float(v), "tokens": int(n), "kept": bool(k)}
                          for t, v, n, k in zip(s.sentences, s.scores, s.tokens, self.kept, strict=True)],
            "original_tokens": s.original_tokens,
            "kept": [t for t, k in zip(s.sentences, self.kept, strict=True) if k],
            "coarse_tokens": self.coarse_tokens,
            "fine_text": self.fine_text,
            "fine_tokens": self.fine_tokens,
            "ratio": self.coarse_tokens / original,
            "fine_ratio": self.fine_tokens / original,
            "answer_kept": self.answer_kept,
        }


def joined_count(counter: TokenCounter, texts: list[str], kept: np.ndarray, words_n: np.ndarray,
                 chars_n: np.ndarray) -> int:
    """Count the kept texts joined by single spaces.

    The two estimates are sums over the parts (whitespace words add up; each joint adds one
    character), so a budget drag never re-reads the text; other counters count the joined text.
    """
    if counter.name == "words":
        return round(int(words_n[kept].sum()) * 1.3)
    if counter.name == "chars":
        k = int(kept.sum())
        return round((int(chars_n[kept].sum()) + max(k - 1, 0)) / 4)
    return counter.count(" ".join(t for t, k in zip(texts, kept, strict=True) if k))


def compress(params: Params, scored: Scored, counter: TokenCounter) -> Result:
    """Run the budget-dependent passes on cached scores."""
    kept = keep_mask(scored, params.budget)
    s, z = scored, scored.sizes
    coarse = joined_count(counter, s.sentences, kept, z[0], z[1])
    fine = joined_count(counter, s.fine_sentences, kept, z[2], z[3])
    return Result(params, scored, kept, coarse, fine)


LIVE = frozenset({"budget", "fine", "order"})
"""Fields that only :func:`derive` reads: a budget drag never rescores."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """The scores (everything but the budget) and the counter they were counted with."""

    scored: Scored
    counter: TokenCounter


def prepare(params: Params, counter: TokenCounter | None = None,
            progress: Callable[[float], None] | None = None) -> Prepared:
    """Split, score and count the text for the query (the heavy part; ``progress`` hears 0 to 1)."""
    active = counter_for(params.estimator, counter)
    return Prepared(score(params, active, progress), active)


def derive(prepared: Prepared, params: Params) -> Result:
    """Keep the best sentences that fit ``params.budget`` (cheap: reads the scores)."""
    return compress(params, prepared.scored, prepared.counter)


def compute(params: Params, counter: TokenCounter | None = None) -> Result:
    """Score the text against the query and compress it into the budget."""
    return derive(prepare(params, counter), params)


def sweep(params: Params, field: str, values: Sequence[int] | np.ndarray,
          counter: TokenCounter | None = None, scored: Scored | None = None,
          progress: Callable[[float], None] | None = None) -> dict[str, np.ndarray]:
    """Return the coarse ratio and whether the answer survives at each budget in ``values``.

    ``progress`` hears the fraction of the sentences walked (every 16,384 sentences).
    """
    if field != "budget":
        raise InputError(f"sweep: only 'budget' can be swept, not {field!r}")
    budgets = np.asarray(values, dtype=np.int64)
    s = scored or score(params, counter_for(params.estimator, counter))
    used = np.zeros(budgets.size, dtype=np.int64)
    answer = np.zeros(budgets.size, dtype=bool)
    n = len(s.sentences)
    for k, i in enumerate(s.order.tolist()):
        if progress is not None and k % 16_384 == 0:
            progress(k / n)
        fits = used + s.tokens[i] <= budgets
        used += s.tokens[i] * fits
        if i == s.answer:
            answer = fits
    return {"budget": budgets, "kept_tokens": used, "ratio": used / max(s.original_tokens, 1),
            "answer_kept": answer}
