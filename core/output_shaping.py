"""Output shaping (book chapter 4): terse, schema and a hard cap against the output price.

An output token costs several input tokens, so the cheapest reply is the one that carries the
answer and nothing else. Three shapers act on a verbose reply: *terse* drops filler lines,
*schema* emits a one-field JSON object, the *cap* cuts the word stream at ``max_tokens``. The
cap saves tokens only by risking the answer; ``cap_sweep`` shows where it is lost.

Tokens are the book's estimate: whitespace words x 1.3, an exact half to the even integer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core import fields
from core.economy import PER, PRICES
from core.errors import InputError

MAX_TEXT_CHARS = 400_000
"""Longest verbose reply (or one imported reply) accepted, in characters."""
MAX_REPLIES = 20_000
"""Most imported replies in one scenario."""
MAX_SWEEP = 200_001
"""Most caps in an explicit ``cap_sweep``."""
MAX_CAP = 10_000_000
MAX_CALLS = 10**12
MAX_RATE = 1e6

DEFAULT_FILLERS = ("sure", "certainly", "of course", "great question", "happy to", "thanks for",
                   "you asked", "you wanted to know", "to summarize", "in summary", "i hope",
                   "let me know", "feel free")
"""Lower-case line openings the terse shaper drops (a plain prefix test, no word boundary)."""

_PREAMBLE = "Certainly! I'd be happy to help you with that."
_CLOSING = ("In summary, I hope this explanation clarifies things for you. "
            "Let me know if you'd like me to elaborate further on any point!")


def estimate(words: int | NDArray[np.int64]) -> Any:
    """Return ``round(1.3 * words)`` with an exact half going to the even integer (exact ints)."""
    q, r = np.divmod(np.asarray(words, dtype=np.int64) * 13, 10)
    up = (r > 5) | ((r == 5) & (q % 2 == 1))
    out = q + up
    return int(out) if out.ndim == 0 else out


def _text_list(value: object, where: str, limit: int = 200) -> tuple[str, ...]:
    raw = value
    if not isinstance(raw, list | tuple):
        raise InputError(f"{where}: expected a list of strings, got {type(raw).__name__}")
    if len(raw) > limit:
        raise InputError(f"{where}: at most {limit} entries, got {len(raw)}")
    for i, item in enumerate(raw):
        if not isinstance(item, str) or not item.strip() or len(item) > 200:
            raise InputError(f"{where}[{i}]: expected a non-empty string of at most 200 characters")
    return tuple(s.strip().lower() for s in raw)


def _caps(value: object, where: str) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise InputError(f"{where}: expected a list of integers, got {type(value).__name__}")
    if len(value) > MAX_SWEEP:
        raise InputError(f"{where}: at most {MAX_SWEEP:,} caps, got {len(value):,}")
    return tuple(fields.integer({"cap": v}, "cap", f"{where}[{i}]", minimum=0, maximum=MAX_CAP)
                 for i, v in enumerate(value))


@dataclass(frozen=True, slots=True)
class Reply:
    """One real reply and the answer it must carry (``None``: the params' answer)."""

    reply: str
    answer: str | None = None


def _replies(value: object, where: str) -> tuple[Reply, ...]:
    if not isinstance(value, list | tuple):
        raise InputError(f"{where}: expected a list of {{reply, answer}} objects")
    if len(value) > MAX_REPLIES:
        raise InputError(f"{where}: at most {MAX_REPLIES:,} replies, got {len(value):,}")
    out = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        d = fields.mapping(item, at)
        fields.only_keys(d, ("reply", "answer"), at)
        reply = fields.text(d, "reply", at)
        if len(reply) > MAX_TEXT_CHARS:
            raise InputError(f"{at}.reply: longer than {MAX_TEXT_CHARS:,} characters")
        answer = d.get("answer")
        if answer is not None:
            answer = fields.text(d, "answer", at)
            if not answer.strip():
                raise InputError(f"{at}.answer: must not be empty (or give null)")
        out.append(Reply(reply, answer))
    return tuple(out)


def _dump_replies(value: tuple[Reply, ...]) -> list[dict[str, Any]]:
    return [{"reply": r.reply, "answer": r.answer} for r in value]


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """A verbose reply (the user's, or a stub built from question and answer) and its pricing."""

    question: str = fields.param("Did the nightly backup of the orders database finish?",
                                 doc="used only to build the stub reply")
    answer: str = fields.param("yes", doc="the one thing the caller needs from the reply")
    verbose_text: str | None = fields.param(None, doc="the user's own verbose reply (null: stub)")
    n_calls: int = fields.param(100_000, minimum=0, maximum=MAX_CALLS, doc="calls in the workload")
    output_rate_per_mtok: float = fields.param(PRICES["claude-opus-4-8"][1], minimum=0.0,
                                               maximum=MAX_RATE, doc="$ per million output tokens")
    cap_tokens: int = fields.param(12, minimum=0, maximum=MAX_CAP, doc="the hard max_tokens cap")
    schema_field: str = fields.param("answer", doc="key of the one-field JSON object")
    filler_prefixes: tuple[str, ...] = fields.param(
        DEFAULT_FILLERS, parse=_text_list, doc="line openings the terse shaper drops")
    cap_sweep: tuple[int, ...] | None = fields.param(None, parse=_caps,
                                                     doc="caps of the trade-off curve (null: 0..baseline)")
    replies: tuple[Reply, ...] = fields.param((), parse=_replies, dump=_dump_replies,
                                              doc="imported real replies for the distribution")

    def check(self) -> None:
        for name in ("question", "answer", "verbose_text", "schema_field"):
            value = getattr(self, name)
            if value is not None and len(value) > MAX_TEXT_CHARS:
                raise InputError(f"params.{name}: longer than {MAX_TEXT_CHARS:,} characters")
        if not self.answer.strip():
            raise InputError("params.answer: must not be empty")

    def reply_text(self) -> str:
        """Return the reply being shaped: the user's, or the four-line stub."""
        if self.verbose_text is not None:
            return self.verbose_text
        return "\n".join((_PREAMBLE, f"You asked: {self.question}",
                          f"The answer is: {self.answer}.", _CLOSING))


# ---- the rules --------------------------------------------------------------------------------

def filler_of(line: str, fillers: tuple[str, ...]) -> str | None:
    """Return the filler prefix that makes terse mode drop ``line`` (``""`` if blank), else None."""
    low = line.strip().lower()
    if not low:
        return ""
    return next((f for f in fillers if low.startswith(f)), None)


def terse(text: str, fillers: tuple[str, ...]) -> str:
    """Drop blank lines and lines opening with a filler; join the rest stripped."""
    return "\n".join(s.strip() for s in text.splitlines() if filler_of(s, fillers) is None)


def schema(field: str, answer: str) -> str:
    """Return the one-field JSON object the schema shaper emits (no spaces, no escaping)."""
    return '{"' + field + '":"' + answer + '"}'


def kept_words(n_words: int, caps: NDArray[np.int64]) -> NDArray[np.int64]:
    """Return, per cap, the longest word prefix whose estimate stays within the cap."""
    table = estimate(np.arange(n_words + 1, dtype=np.int64))
    return np.searchsorted(table, caps, side="right").astype(np.int64) - 1


def answer_word(text: str, answer: str) -> int | None:
    """Index of the word holding the end of the answer's last occurrence (case-insensitive)."""
    low, needle = text.lower(), answer.strip().lower()
    at = low.rfind(needle)
    if at < 0 or not needle:
        return None
    # lower() may lengthen a character but never adds whitespace, so count words in ``low``
    return len(low[:at + len(needle)].split()) - 1


def min_cap_keeping(text: str, answer: str) -> int | None:
    """Smallest cap that still keeps the answer, or None when the reply lacks it."""
    k = answer_word(text, answer)
    return None if k is None else estimate(k + 1)


# ---- result -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Shaped:
    """One shaper's output and what it costs against the baseline."""

    name: str
    text: str
    tokens: int
    dollars: float
    saved_dollars: float
    pct_smaller: float
    answer_kept: bool
    cap: int | None = None
    kept_words: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (``cap`` and ``kept_words`` only for the cap shaper)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in (
            "name", "text", "tokens", "dollars", "saved_dollars", "pct_smaller", "answer_kept")}
        if self.cap is not None:
            out.update(cap=self.cap, kept_words=self.kept_words)
        return out


@dataclass(frozen=True, slots=True)
class Batch:
    """The imported replies: tokens per shaper, and where each answer sits."""

    baseline: NDArray[np.int64]
    terse: NDArray[np.int64]
    schema: NDArray[np.int64]
    cap: NDArray[np.int64]
    min_cap: NDArray[np.int64]
    """Smallest cap that keeps each reply's answer; -1 where the reply lacks it."""

    def cut_at(self, caps: NDArray[np.int64]) -> NDArray[np.int64]:
        """How many answers each cap cuts off (replies without the answer never count)."""
        present = np.sort(self.min_cap[self.min_cap >= 0])
        return (present.size - np.searchsorted(present, caps, side="right")).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Result:
    """Baseline, the three shapers, the one-word comparison and the cap trade-off curve."""

    verbose_text: str
    n_calls: int
    rate: float
    baseline_words: int
    baseline_tokens: int
    terse: Shaped
    schema: Shaped
    cap: Shaped
    lines: tuple[tuple[str, str | None], ...]
    """Each line of the reply and the filler that drops it (None: kept, "": blank)."""
    answer_word: int | None
    one_word_tokens: int
    sweep_caps: NDArray[np.int64]
    sweep_tokens: NDArray[np.int64]
    sweep_kept: NDArray[np.bool_]
    batch: Batch | None
    note: str = ""

    def dollars(self, tokens: Any) -> Any:
        """Dollars for ``tokens`` per call over the workload."""
        return tokens * self.n_calls / PER * self.rate

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (LEVERS2.md section 1.2 names)."""
        base_d = float(self.dollars(self.baseline_tokens))
        one_d = float(self.dollars(self.one_word_tokens))
        shapers = [s.to_dict() for s in (self.terse, self.schema, self.cap)]
        out: dict[str, Any] = {
            "verbose_text": self.verbose_text, "n_calls": self.n_calls,
            "baseline": {"tokens": self.baseline_tokens, "dollars": base_d,
                         "words": self.baseline_words},
            "terse": shapers[0], "schema": shapers[1], "cap": shapers[2], "shapers": shapers,
            "classification": {
                "paragraph_tokens": self.baseline_tokens, "one_word_tokens": self.one_word_tokens,
                "paragraph_dollars": base_d, "one_word_dollars": one_d,
                "pct_cheaper": (base_d - one_d) / base_d * 100 if base_d else 0.0},
            "lines": [{"text": t, "dropped": f is not None, "filler": f} for t, f in self.lines],
            "answer_word": self.answer_word,
            "cap_sweep": [
                {"cap": int(c), "tokens": int(t), "dollars": float(self.dollars(int(t))),
                 "pct_smaller": _pct(self.baseline_tokens, int(t)), "answer_kept": bool(k)}
                for c, t, k in zip(self.sweep_caps, self.sweep_tokens, self.sweep_kept, strict=True)],
            "replies": None,
        }
        if self.batch is not None:
            b = self.batch
            out["replies"] = {
                "count": int(b.baseline.size),
                "baseline_tokens": b.baseline.tolist(), "terse_tokens": b.terse.tolist(),
                "schema_tokens": b.schema.tolist(), "cap_tokens": b.cap.tolist(),
                "answer_min_cap": [int(m) if m >= 0 else None for m in b.min_cap],
                "cut_at_cap": int(b.cut_at(np.array([self.cap.cap or 0]))[0]),
                "cut_by_cap": b.cut_at(self.sweep_caps).tolist(),
            }
        return out


def _pct(base: int, shaped: int) -> float:
    return (base - shaped) / base * 100 if base else 0.0


def _shaped(name: str, text: str, tokens: int, kept: bool, base: int, p: Params,
            **extra: Any) -> Shaped:
    per = p.n_calls / PER * p.output_rate_per_mtok
    return Shaped(name, text, tokens, tokens * per, (base - tokens) * per, _pct(base, tokens), kept,
                  **extra)


LIVE = frozenset({"cap_tokens", "n_calls", "output_rate_per_mtok"})
"""Fields whose change needs only :func:`derive` (the cap slider, the workload, the price)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything that does not move with the cap, the calls or the price."""

    text: str
    words: tuple[str, ...]
    terse_text: str
    schema_text: str
    answer: str
    lines: tuple[tuple[str, str | None], ...]
    answer_word: int | None
    sweep_caps: NDArray[np.int64]
    sweep_words: NDArray[np.int64]
    reply_words: NDArray[np.int64]
    batch: Batch | None


def _batch(p: Params, progress: Callable[[float], None] | None = None
           ) -> tuple[NDArray[np.int64], Batch | None]:
    if not p.replies:
        return np.zeros(0, dtype=np.int64), None
    rows = []
    every = max(1, len(p.replies) // 100)
    for i, r in enumerate(p.replies):
        if progress is not None and i % every == 0:
            progress(i / len(p.replies))
        answer = r.answer if r.answer is not None else p.answer
        low = min_cap_keeping(r.reply, answer)
        rows.append((len(r.reply.split()), len(terse(r.reply, p.filler_prefixes).split()),
                     len(schema(p.schema_field, answer).split()), -1 if low is None else low))
    cols = np.array(rows, dtype=np.int64).T
    base = estimate(cols[0])
    return cols[0], Batch(base, estimate(cols[1]), estimate(cols[2]), base, cols[3])


def prepare(params: Params, counter: object = None,
            progress: Callable[[float], None] | None = None) -> Prepared:
    """Shape the reply (and any imported replies) once; the cap is applied in :func:`derive`."""
    p = params
    text = p.reply_text()
    words = tuple(text.split())
    caps = (np.arange(estimate(len(words)) + 1, dtype=np.int64) if p.cap_sweep is None
            else np.asarray(p.cap_sweep, dtype=np.int64))
    reply_words, batch = _batch(p, progress)  # the replies are the heavy part
    return Prepared(
        text=text, words=words, terse_text=terse(text, p.filler_prefixes),
        schema_text=schema(p.schema_field, p.answer), answer=p.answer.strip().lower(),
        lines=tuple((line, filler_of(line, p.filler_prefixes)) for line in text.splitlines()),
        answer_word=answer_word(text, p.answer), sweep_caps=caps,
        sweep_words=kept_words(len(words), caps), reply_words=reply_words, batch=batch)


def derive(prepared: Prepared, params: Params) -> Result:
    """Apply the cap and price every shaper for the workload."""
    pr, p = prepared, params
    base = estimate(len(pr.words))
    k = pr.answer_word
    m = int(kept_words(len(pr.words), np.array([p.cap_tokens], dtype=np.int64))[0])
    batch = pr.batch
    if batch is not None:
        cap_words = kept_words(int(pr.reply_words.max(initial=0)), np.array([p.cap_tokens]))[0]
        batch = replace(batch, cap=estimate(np.minimum(pr.reply_words, cap_words)))
    return Result(
        verbose_text=pr.text, n_calls=p.n_calls, rate=p.output_rate_per_mtok,
        baseline_words=len(pr.words), baseline_tokens=base,
        terse=_shaped("terse", pr.terse_text, estimate(len(pr.terse_text.split())),
                      pr.answer in pr.terse_text.lower(), base, p),
        schema=_shaped("schema", pr.schema_text, estimate(len(pr.schema_text.split())),
                       pr.answer in pr.schema_text.lower(), base, p),
        cap=_shaped("cap", " ".join(pr.words[:m]), estimate(m), k is not None and k < m, base, p,
                    cap=p.cap_tokens, kept_words=m),
        lines=pr.lines, answer_word=k, one_word_tokens=estimate(len(p.answer.split())),
        sweep_caps=pr.sweep_caps, sweep_tokens=estimate(pr.sweep_words),
        sweep_kept=(pr.sweep_words > k) if k is not None else np.zeros(pr.sweep_caps.size, dtype=bool),
        batch=batch,
    )


def compute(params: Params, counter: object = None) -> Result:
    """Shape the reply three ways and price each (``counter`` is unused: the book's estimate)."""
    return derive(prepare(params), params)


def sweep(params: Params, field: str, values: Any, counter: object = None) -> dict[str, NDArray[Any]]:
    """Return output tokens and answer survival at each cap (only ``cap_tokens`` sweeps)."""
    if field != "cap_tokens":
        raise InputError(f"sweep: only 'cap_tokens' can be swept, not {field!r}")
    caps = np.asarray(values, dtype=np.int64)
    if caps.size and caps.min() < 0:
        raise InputError("sweep: cap_tokens values must be >= 0")
    text = params.reply_text()
    n = len(text.split())
    m = kept_words(n, caps)
    k = answer_word(text, params.answer)
    kept = (m > k) if k is not None else np.zeros(caps.size, dtype=bool)
    return {"cap_tokens": caps, "tokens": estimate(m), "answer_kept": kept}
