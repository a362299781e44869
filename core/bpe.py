"""BPE tokenizer lever (book chapter 2): learn merges on a corpus, watch a text re-tokenize.

``compute`` learns ``merges`` merges (``core.bpe_model`` has the algorithm), encodes the
requested words, and measures a sample text: pieces per word at every merge count, and the
two rules of thumb (words x 1.3, chars / 4) beside the learned count and, when a counter is
given, the exact count. A :class:`Cache` lets a panel keep the trained model while only the
merge count moves, and learn more merges without starting over.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core import fields
from core.bpe_model import (
    ALPHABETS,
    DEFAULT_PATTERN,
    PRETOKENIZERS,
    Encoder,
    Replay,
    Trainer,
    check_pattern,
    readable,
    symbols,
    tokens_by_merges,
    word_spans,
)
from core.errors import InputError
from core.tokens import CharEstimate, TokenCounter, WordEstimate

MAX_MERGES = 100_000
MAX_CORPUS_CHARS = 1_000_000
"""Characters the corpus (and the sample) may have: about a book's worth. The slowest corpus
found at this size, CJK text in runs of :data:`MAX_RUN_CHARS` learned as UTF-8 bytes, learns
all 100,000 merges in about 13 s of CPU and 480 MB; a 128 MiB corpus ran out of 8 GiB."""
MAX_RUN_CHARS = 2_000
"""Characters a run without whitespace may have (the whitespace pre-tokenizer makes it one
word). Merges inside a long word build ever longer pieces: runs of 10,000 CJK characters took
32 s and 1 GB for 500,000 characters (2,000: 12 s, 480 MB), one 100,000-character word
1.5 GB. Prose and code have far shorter runs; the regex pre-tokenizer cuts at 1,000 anyway."""
_WHERE = "params"


def _parse_words(value: object, where: str) -> tuple[str, ...]:
    words = fields.sequence(value, where)
    for i, w in enumerate(words):
        if not isinstance(w, str) or len(w.split()) != 1 or w != w.strip():
            raise InputError(f"{where}[{i}]: expected a word without spaces, got {w!r}")
    return tuple(words)


def _parse_sample(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: expected a string or null, got {type(value).__name__}")
    return value


def check_size(text: str, where: str) -> None:
    """Refuse a corpus or sample longer than the limits training keeps to (``where`` names it)."""
    if len(text) > MAX_CORPUS_CHARS:
        raise InputError(f"{where}: longer than {MAX_CORPUS_CHARS:,} characters ({len(text):,})")
    run = max(map(len, text.split()), default=0)
    if run > MAX_RUN_CHARS:
        raise InputError(f"{where}: a run of {run:,} characters without whitespace is over the "
                         f"limit of {MAX_RUN_CHARS:,}")


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """What to learn from, how many merges, and what to encode with them."""

    corpus: str = fields.param(doc="the text the merges are learned from")
    merges: int = fields.param(100, minimum=0, maximum=MAX_MERGES, doc="merges in effect")
    words: tuple[str, ...] = fields.param((), parse=_parse_words, doc="words to encode")
    sample: str | None = fields.param(None, parse=_parse_sample,
                                      doc="the text shown re-tokenized; None uses the corpus")
    alphabet: str = fields.param("chars", choices=ALPHABETS,
                                 doc="start from characters (the book) or UTF-8 bytes")
    pretokenizer: str = fields.param("whitespace", choices=PRETOKENIZERS,
                                     doc="split words on whitespace (the book) or by a regex")
    pattern: str = fields.param(DEFAULT_PATTERN, doc="regex whose matches are the words (applied to at most "
                                "1,000 characters at a time; a longer run without whitespace is cut)")
    curve_merges: int | None = fields.param(None, minimum=0, maximum=MAX_MERGES,
                                            doc="how far the curve runs; None stops it at merges")
    exact: bool = fields.param(False, doc="compare against the exact (API) count too")

    def check(self) -> None:
        for name, text in (("corpus", self.corpus), ("sample", self.sample)):
            check_size(text or "", f"{_WHERE}.{name}")
        if self.pretokenizer == "regex":
            check_pattern(self.pattern)

    @property
    def top(self) -> int:
        """The largest merge count this request needs learned."""
        return max(self.merges, self.curve_merges or 0)


@dataclass(frozen=True, slots=True)
class Chip:
    """One drawn token of the sample text."""

    text: str
    token_id: int | None
    """Vocabulary id (alphabet first, then one per merge); ``None``: unseen in the corpus."""
    rank: int | None
    """Rank of the merge that made this piece; ``None`` for a single starting symbol."""
    newline: bool
    """Whether a line break precedes it."""
    space: bool
    """Whether a gap (whitespace or unmatched text) precedes it."""


@dataclass(frozen=True, slots=True)
class _PieceMemo:
    """What drawing chips reuses while only the merge count moves (one per set of merges).

    A word's pieces depend on the merge count only through how many of its replay's steps
    run, so they are kept per (word, steps); a piece's id and rank come from the first merge
    that makes it, the same among all merges as among those in effect (the merge that made
    it in effect came no earlier than that first one).
    """

    ids: dict[str, tuple[int | None, int | None]]
    replays: dict[str, tuple[str, Replay]]
    """Word -> its starting symbols and replay."""
    chips: dict[tuple[str, int, bool, bool], tuple[Chip, ...]]
    """(word, steps, newline before, gap before) -> its chips."""


_MEMO_MOST = 100_000
"""Memoized words at most before the chip memo starts over."""


class Cache:
    """The trained model and replays for one corpus setup, kept across requests.

    Not thread-safe: a panel uses it from its single worker thread only.
    """

    def __init__(self) -> None:
        self._key: tuple[str, ...] | None = None
        self.trainer: Trainer | None = None
        self.alphabet: dict[str, int] = {}
        """Starting symbol -> vocabulary id (bytes: all 256; chars: those in the corpus)."""
        self._encoder: Encoder | None = None
        self._freq = np.zeros(0, np.int64)
        self._spans: tuple[tuple[str, str, str] | None, list[tuple[int, int]]] = (None, [])
        self._curves: dict[tuple[str, int], tuple[np.ndarray, int]] = {}
        self._pieces: tuple[object, str, _PieceMemo] = (None, "", _PieceMemo({}, {}, {}))

    def trained(self, params: Params, should_stop: Callable[[], bool],
                progress: Callable[[float], None] | None) -> Trainer:
        """Return a trainer for the params' corpus with at least ``params.top`` merges tried."""
        key = (params.corpus, params.alphabet, params.pretokenizer, params.pattern)
        if key != self._key or self.trainer is None:
            words = _words(params.corpus, params, "corpus")
            self._key, self.trainer, self._encoder = key, Trainer(words), None
            self._freq = np.zeros(0, np.int64)
            self.alphabet = _alphabet_ids(words, params.alphabet)
            self._curves.clear()
        before = len(self.trainer.merges)
        self.trainer.train(params.top, should_stop, progress)
        if len(self.trainer.merges) != before:
            self._encoder = None
            self._curves.clear()
        return self.trainer

    def ready(self, params: Params) -> bool:
        """Whether ``params`` needs no training and no new curve: only replays (cheap)."""
        key = (params.corpus, params.alphabet, params.pretokenizer, params.pattern)
        if key != self._key or self.trainer is None:
            return False
        if len(self.trainer.merges) < params.top and not self.trainer.exhausted:
            return False
        sample = params.corpus if params.sample is None else params.sample
        return all((text, params.top) in self._curves for text in (params.corpus, sample))

    def encoder(self) -> Encoder:
        """Return the encoder for every merge learned so far."""
        assert self.trainer is not None
        if self._encoder is None:
            self._encoder = Encoder(self.trainer.merges)
        return self._encoder

    def piece_memo(self, alphabet: str) -> _PieceMemo:
        """Return the chip memo for the current merges and ``alphabet`` (a new one after training)."""
        assert self.trainer is not None
        enc = self.encoder()
        held, held_alphabet, memo = self._pieces
        if held is not enc or held_alphabet != alphabet or len(memo.chips) > _MEMO_MOST:
            ids: dict[str, tuple[int | None, int | None]] = {c: (i, None) for c, i in self.alphabet.items()}
            for r, (a, b) in enumerate(self.trainer.merges):
                ids.setdefault(a + b, (len(self.alphabet) + r, r))
            memo = _PieceMemo(ids, {}, {})
            self._pieces = (enc, alphabet, memo)
        return memo

    def frequencies(self, top: int) -> np.ndarray:
        """Return the pair frequency of the first ``top`` merges (the same array until retrained)."""
        assert self.trainer is not None
        if self._freq.size != min(top, len(self.trainer.frequencies)):
            self._freq = np.array(self.trainer.frequencies[:top], dtype=np.int64)
        return self._freq

    def spans(self, text: str, params: Params) -> list[tuple[int, int]]:
        """Return (and keep, for the last text) the word spans of ``text``."""
        key = (text, params.pretokenizer, params.pattern)
        if self._spans[0] != key:
            self._spans = (key, word_spans(text, params.pretokenizer, params.pattern))
        return self._spans[1]

    def curve(self, text: str, params: Params, top: int) -> tuple[np.ndarray, int]:
        """Return pieces in ``text`` at every merge count ``0..top``, and its word count."""
        key = (text, top)
        if key not in self._curves:
            weights = Counter(_words(text, params, "sample"))
            enc = self.encoder()
            replays = [enc.replay(w) for w in weights]
            curve = tokens_by_merges(replays, np.array(list(weights.values()), np.int64), top)
            self._curves[key] = (curve, weights.total())
        return self._curves[key]


def _alphabet_ids(words: list[str], alphabet: str) -> dict[str, int]:
    if alphabet == "bytes":
        return {chr(i): i for i in range(256)}
    return {c: i for i, c in enumerate(sorted(set().union(*map(set, dict.fromkeys(words)))))}


def _words(text: str, params: Params, field: str) -> list[str]:
    words = [symbols(text[s:e], params.alphabet)
             for s, e in word_spans(text, params.pretokenizer, params.pattern)]
    if field == "corpus" and not words:
        raise InputError(f"{_WHERE}.corpus: no words to learn from; paste or open some text")
    return words


@dataclass(frozen=True, slots=True)
class Result:
    """Merges learned, encoded words, and the sample's counts at every merge count."""

    params: Params
    merges: list[tuple[str, str]]
    merge_frequencies: list[int]
    exhausted: bool
    alphabet_size: int
    encoded: dict[str, list[str]]
    corpus_words: int
    corpus_curve: np.ndarray
    sample_words: int
    sample_chars: int
    sample_curve: np.ndarray
    estimate_words: int
    estimate_chars: int
    exact: int | None

    @property
    def learned(self) -> int:
        """Merges in effect (fewer than asked when the corpus ran out of pairs)."""
        return len(self.merges)

    @property
    def sample_tokens(self) -> int:
        """The sample's learned-BPE token count with the merges in effect."""
        return int(self.sample_curve[self.learned])

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (field names are DESIGN.md's contract)."""
        words = max(self.sample_words, 1)
        return {
            "merges": [list(m) for m in self.merges],
            "merge_frequencies": self.merge_frequencies,
            "learned": self.learned,
            "exhausted": self.exhausted,
            "alphabet_size": self.alphabet_size,
            "vocab_size": self.alphabet_size + self.learned,
            "encoded": self.encoded,
            "counts": {w: len(p) for w, p in self.encoded.items()},
            "corpus": {"words": self.corpus_words,
                       "tokens": int(self.corpus_curve[self.learned])},
            "sample": {"words": self.sample_words, "chars": self.sample_chars,
                       "tokens": self.sample_tokens, "estimate_words": self.estimate_words,
                       "estimate_chars": self.estimate_chars, "exact": self.exact},
            "curve": {"merges": list(range(self.sample_curve.size)),
                      "corpus_tokens_per_word": (self.corpus_curve / max(self.corpus_words, 1)).tolist(),
                      "sample_tokens_per_word": (self.sample_curve / words).tolist()},
        }


LIVE = frozenset({"merges", "words", "sample"})
"""Fields replayed on the trained model (a merge count within what is learned, other text)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """The trained model (an incremental :class:`Cache`) and the exact counter, if any."""

    cache: Cache
    counter: TokenCounter | None


def prepare(params: Params, counter: TokenCounter | None = None, progress: Any = None,
            cache: Cache | None = None) -> Prepared:
    """Learn the merges ``params`` needs (continuing ``cache``'s training when it has the corpus).

    ``progress`` is told the fraction trained; one with ``stopped()`` (a panel's) stops early.
    """
    cache = cache or Cache()
    cache.trained(params, getattr(progress, "stopped", lambda: False), progress)
    return Prepared(cache, counter)


def compute(params: Params, counter: TokenCounter | None = None, cache: Cache | None = None) -> Result:
    """Learn the merges, encode ``params.words`` and measure the sample.

    ``counter``, when given, is the exact counter the sample is also counted with.
    """
    return derive(prepare(params, counter, cache=cache), params)


def derive(prepared: Prepared, params: Params) -> Result:
    """Encode ``params.words`` and measure the sample with the learned merges."""
    cache, counter = prepared.cache, prepared.counter
    trainer = cache.trained(params, lambda: False, None)  # trained by prepare: returns at once
    learned = min(params.merges, len(trainer.merges))
    top = max(params.merges, params.curve_merges or 0)
    enc = cache.encoder()
    encoded = {w: [readable(p, params.alphabet) for p in enc.encode(symbols(w, params.alphabet), learned)]
               for w in params.words}
    sample = params.corpus if params.sample is None else params.sample
    corpus_curve, corpus_words = cache.curve(params.corpus, params, top)
    sample_curve, sample_words = cache.curve(sample, params, top)
    return Result(
        params=params,
        merges=[(readable(a, params.alphabet), readable(b, params.alphabet))
                for a, b in trainer.merges[:learned]],
        merge_frequencies=trainer.frequencies[:learned],
        exhausted=trainer.exhausted and learned == len(trainer.merges),
        alphabet_size=len(cache.alphabet),
        encoded=encoded,
        corpus_words=corpus_words,
        corpus_curve=corpus_curve,
        sample_words=sample_words,
        sample_chars=len(sample),
        sample_curve=sample_curve,
        estimate_words=WordEstimate().count(sample),
        estimate_chars=CharEstimate().count(sample),
        exact=counter.count(sample) if counter is not None and sample.strip() else None,
    )


def sweep(params: Params, field: str, values: Any, counter: TokenCounter | None = None,
          cache: Cache | None = None) -> dict[str, np.ndarray]:
    """Return the sample's and the corpus's token counts at each merge count in ``values``."""
    if field != "merges":
        raise InputError(f"sweep: only 'merges' can be swept, not {field!r}")
    ks = np.asarray(values, dtype=np.int64)
    if ks.size and ks.min() < 0:
        raise InputError("sweep: merge counts must be >= 0")
    wide = replace(params, words=(), curve_merges=int(ks.max(initial=0)))
    res = compute(wide, None, cache)
    return {"merges": ks, "sample_tokens": res.sample_curve[ks], "corpus_tokens": res.corpus_curve[ks]}


def chips(params: Params, cache: Cache, limit: int) -> tuple[list[Chip], int]:
    """Return the first ``limit`` tokens of the sample as chips, and the sample's word count.

    Call after :func:`compute` on the same params and cache.
    """
    assert cache.trainer is not None
    learned = min(params.merges, len(cache.trainer.merges))
    memo = cache.piece_memo(params.alphabet)
    enc = cache.encoder()
    text = params.corpus if params.sample is None else params.sample
    spans = cache.spans(text, params)
    out: list[Chip] = []
    prev = 0
    for s, e in spans:
        gap = text[prev:s]
        prev = e
        word = text[s:e]
        found = memo.replays.get(word)
        if found is None:
            start = symbols(word, params.alphabet)
            found = memo.replays[word] = (start, enc.replay(start))
        start, replay = found
        key = (word, replay.steps(learned), "\n" in gap, bool(gap))
        made = memo.chips.get(key)
        if made is None:
            made = memo.chips[key] = tuple(
                Chip(readable(p, params.alphabet), *memo.ids.get(p, (None, None)),
                     newline=j == 0 and key[2], space=j == 0 and key[3])
                for j, p in enumerate(replay.pieces(start, learned)))
        out += made
        if len(out) >= limit:
            break
    return out[:limit], len(spans)
