"""KV cache and prompt caching (book chapter 6): what a cache saves, exactly and in dollars.

Within one generation a KV cache turns n(n+1)/2 key/value projections into n, and the replay
here checks the cached attention equals the recomputed one. Across requests, a shared prefix
is projected once. On the API, a cached prefix is written once at a premium (1.25x the input
price for 5 minutes, 2x for an hour) and then read at 0.1x; below the model's minimum
cacheable prefix the breakpoint is silently ignored. ``prefix_diff`` finds where two rendered
prompts part: everything after that byte is a cache miss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core import economy, fields, model_profile
from core.errors import InputError
from core.output_shaping import estimate

TTL_WRITE = {"5m": model_profile.CACHE_WRITE_5M, "1h": model_profile.CACHE_WRITE_1H}
"""Cache-write multiplier of the input price by TTL."""
MAX_N = 100_000_000
"""Longest generation in the projection table (n(n+1)/2 stays exact in a double)."""
MAX_REPLAY_WORK = 100_000_000
"""Cap on the replay's multiply-adds: sum of n^2 x dim^2 over the lengths replayed."""
MAX_REPLAY_N = 4096
"""Longest generation replayed step by step."""
MAX_DRAWS = 20_000_000
"""Cap on the random numbers drawn for the replay: sum of n x dim over all lengths."""
MAX_SWEEP = 100_000
MAX_PROMPT_BYTES = 20_000_000


def _lengths(value: object, where: str) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise InputError(f"{where}: expected a list of integers, got {type(value).__name__}")
    if len(value) > 64:
        raise InputError(f"{where}: at most 64 lengths, got {len(value)}")
    return tuple(fields.integer({"n": v}, "n", f"{where}[{i}]", minimum=1, maximum=MAX_N)
                 for i, v in enumerate(value))


def _calls(value: object, where: str) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise InputError(f"{where}: expected a list of integers, got {type(value).__name__}")
    if len(value) > MAX_SWEEP:
        raise InputError(f"{where}: at most {MAX_SWEEP:,} values, got {len(value):,}")
    return tuple(fields.integer({"c": v}, "c", f"{where}[{i}]", minimum=1, maximum=10**9)
                 for i, v in enumerate(value))


_IN = economy.PRICES[model_profile.DEFAULT][0]


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """The projection table, the exactness replay, two requests and the prompt-cache bill."""

    gen_lengths: tuple[int, ...] = fields.param((16, 128, 512), parse=_lengths,
                                                doc="generation lengths n of the projection table")
    dim: int = fields.param(8, minimum=1, maximum=64, doc="vector size D of the replay")
    seed: int = fields.param(0, minimum=0, doc="NumPy default_rng seed of the replay")
    weight_scale: float = fields.param(0.5, minimum=-1e3, maximum=1e3, doc="scale of the W matrices")
    verify_exact: bool = fields.param(True, doc="replay attention with and without the cache")
    verify_max_n: int = fields.param(512, minimum=0, maximum=MAX_N, doc="skip the replay above this n")
    prefix_len: int = fields.param(1200, minimum=0, maximum=10**12, doc="shared prefix, tokens")
    tail_len: int = fields.param(40, minimum=0, maximum=10**12, doc="each request's own tail, tokens")
    prefix_tokens: int = fields.param(12_000, minimum=0, maximum=10**9, doc="cached prompt prefix")
    calls: int = fields.param(200, minimum=1, maximum=10**9, doc="calls inside the cache window")
    input_rate_per_mtok: float = fields.param(_IN, minimum=0.0, maximum=1e6, doc="$ per M input tokens")
    read_multiplier: float = fields.param(model_profile.CACHE_READ, minimum=0.0, maximum=100.0,
                                          doc="cache read price / input price")
    write_multiplier: float = fields.param(TTL_WRITE["5m"], minimum=0.0, maximum=100.0,
                                           doc="cache write price / input price (2.0: 1-hour TTL)")
    min_cacheable_tokens: int = fields.param(4096, minimum=0, maximum=10**9,
                                             doc="smallest cacheable prefix (0: no minimum)")
    calls_sweep: tuple[int, ...] | None = fields.param(None, parse=_calls,
                                                       doc="x-axis of the curve (null: 1..calls)")
    prompt_a: str | None = fields.param(None, doc="a rendered prompt")
    prompt_b: str | None = fields.param(None, doc="the next call's rendered prompt")

    def check(self) -> None:
        if self.verify_exact:
            draws = sum(self.gen_lengths) * self.dim
            if draws > MAX_DRAWS:
                raise InputError(f"params.gen_lengths: the replay would draw {draws:,} numbers "
                                 f"(sum of n x dim); the limit is {MAX_DRAWS:,}")
            replayed = [n for n in self.gen_lengths if n <= self.verify_max_n]
            if replayed and max(replayed) > MAX_REPLAY_N:
                raise InputError(f"params.verify_max_n: the replay steps through tokens one by one; "
                                 f"lengths up to {MAX_REPLAY_N:,} can be replayed, got "
                                 f"{max(replayed):,} (lower verify_max_n to skip it)")
            work = sum(n * n for n in replayed) * self.dim ** 2
            if work > MAX_REPLAY_WORK:
                raise InputError(f"params.verify_max_n: replaying would take {work:,} multiply-adds "
                                 f"(n^2 x dim^2); the limit is {MAX_REPLAY_WORK:,}")
        if self.calls_sweep is None and self.calls > MAX_SWEEP:
            raise InputError(f"params.calls: the default sweep 1..calls is capped at {MAX_SWEEP:,}; "
                             "give calls_sweep")
        for name in ("prompt_a", "prompt_b"):
            value = getattr(self, name)
            if value is not None and len(value) > MAX_PROMPT_BYTES // 4:
                raise InputError(f"params.{name}: longer than {MAX_PROMPT_BYTES // 4:,} characters")


# ---- the rules --------------------------------------------------------------------------------

def projections(n: NDArray[np.int64] | int) -> tuple[Any, Any]:
    """Key/value projections for n generated tokens: without a cache, and with one."""
    ns = np.asarray(n, dtype=np.int64)
    return ns * (ns + 1) // 2, ns


def _attend(q: NDArray[np.float64], keys: NDArray[np.float64], values: NDArray[np.float64],
            dim: int) -> NDArray[np.float64]:
    scores = keys @ q / np.sqrt(dim)
    weights = np.exp(scores - scores.max())
    weights /= weights.sum()
    return np.asarray(weights @ values)


def project(rows: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.float64]:
    """Project each row by ``w`` with the same arithmetic whatever the number of rows.

    A BLAS product may pick another kernel for one row than for many and differ in the last
    bit; summing the products row by row keeps the cached and the recomputed keys identical.
    """
    return np.asarray((rows[:, :, None] * w[None, :, :]).sum(axis=1))


def replay(x: NDArray[np.float64], w: tuple[NDArray[np.float64], ...],
           progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Decode ``x`` token by token both ways; return the outputs' difference and the counts.

    ``progress`` hears the share of the work done (step t costs ~t) every 64 tokens.
    """
    wq, wk, wv = w
    n, dim = x.shape
    plain = np.empty((n, dim))
    cached = np.empty((n, dim))
    keys, values = np.empty((n, dim)), np.empty((n, dim))
    counted_plain = counted_cached = 0
    for t in range(n):
        if progress is not None and t % 64 == 0:
            progress(t * t / (n * n))
        q = project(x[t:t + 1], wq)[0]
        k_all, v_all = project(x[:t + 1], wk), project(x[:t + 1], wv)  # no cache: all rows again
        counted_plain += t + 1
        plain[t] = _attend(q, k_all, v_all, dim)
        keys[t], values[t] = project(x[t:t + 1], wk)[0], project(x[t:t + 1], wv)[0]  # one new row
        counted_cached += 1
        cached[t] = _attend(q, keys[:t + 1], values[:t + 1], dim)
    diff = float(np.max(np.abs(plain - cached))) if n else 0.0
    return {"n": n, "allclose": bool(np.allclose(plain, cached)), "max_abs_diff": diff,
            "counted_no_cache": counted_plain, "counted_with_cache": counted_cached}


def verify(p: Params, progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Replay real attention for every length up to ``verify_max_n`` (draws as the book).

    ``progress`` hears the share of the replay work (n^2 a length) done.
    """
    tell = progress or (lambda _f: None)
    rng = np.random.default_rng(p.seed)
    w = tuple(rng.standard_normal((p.dim, p.dim)) * p.weight_scale for _ in range(3))
    checks = []
    total = sum(n * n for n in p.gen_lengths if n <= p.verify_max_n) or 1
    done = 0
    for n in p.gen_lengths:
        x = rng.standard_normal((n, p.dim))  # drawn even when skipped, so later n match
        if n <= p.verify_max_n:
            def part(f: float, start: float = done / total, span: float = n * n / total) -> None:
                tell(start + span * f)

            checks.append(replay(x, w, part))
            done += n * n
    no_cache, with_cache = projections(np.array([c["n"] for c in checks], dtype=np.int64))
    return {
        "checks": checks,
        "outputs_identical": all(c["allclose"] for c in checks),
        "max_abs_diff": max((c["max_abs_diff"] for c in checks), default=0.0),
        "counts_match": all(c["counted_no_cache"] == int(a) and c["counted_with_cache"] == int(b)
                            for c, a, b in zip(checks, no_cache, with_cache, strict=True)),
    }


def bill(prefix_tokens: int, calls: NDArray[np.int64] | int, rate: float, write: float, read: float,
         engaged: bool) -> tuple[Any, Any]:
    """Dollars for the prefix over ``calls`` calls: uncached, and cached (first call writes)."""
    c = np.asarray(calls, dtype=np.float64)
    r = rate / economy.PER
    uncached = prefix_tokens * r * c
    if not engaged:
        return uncached, uncached.copy()
    return uncached, prefix_tokens * r * write + prefix_tokens * r * read * (c - 1)


def break_even(prefix_tokens: int, rate: float, write: float, read: float, engaged: bool) -> int | None:
    """Smallest call count at which the cached bill is below the uncached one (None: never)."""
    if not engaged or prefix_tokens == 0 or rate == 0 or read >= 1.0:
        return None
    guess = max(1, int(np.floor((write - read) / (1.0 - read))))
    for c in range(max(1, guess - 1), guess + 3):  # the formula, settled with the same floats
        u, k = bill(prefix_tokens, c, rate, write, read, engaged)
        if k < u:
            return c
    return None


def pct_cheaper(uncached: Any, cached: Any) -> Any:
    """Percent by which ``cached`` is below ``uncached`` (0 where nothing is billed)."""
    u = np.asarray(uncached, dtype=np.float64)
    out = np.zeros_like(u)
    np.divide(np.asarray(cached, dtype=np.float64), u, out=out, where=u > 0)
    return np.where(u > 0, (1.0 - out) * 100.0, 0.0)


def _utf8(text: str) -> bytes:
    """UTF-8 bytes of ``text``; a lone surrogate (half an emoji) passes as its 3 bytes."""
    return text.encode("utf-8", "surrogatepass")


def _whole_chars(data: bytes) -> str:
    """Decode ``data`` (which may end inside a character), dropping only that cut character."""
    for cut in range(4):
        try:
            return data[:len(data) - cut].decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="ignore")


def prefix_diff(a: str, b: str, min_tokens: int) -> dict[str, Any]:
    """Where two rendered prompts part, and whether the shared part is still cacheable."""
    ab, bb = _utf8(a), _utf8(b)
    n = min(len(ab), len(bb))
    mism = np.flatnonzero(np.frombuffer(ab[:n], np.uint8) != np.frombuffer(bb[:n], np.uint8))
    common = int(mism[0]) if mism.size else n
    identical = ab == bb
    shared = _whole_chars(ab[:common])
    tokens = estimate(len(shared.split()))
    line = shared.count("\n") + 1
    return {
        "common_prefix_bytes": common, "identical": identical,
        "first_divergence_byte": None if identical else common,
        "common_prefix_tokens_est": tokens,
        "cacheable": tokens >= min_tokens if min_tokens else tokens > 0,
        "line": None if identical else line,
        "column": None if identical else len(shared) - (shared.rfind("\n") + 1) + 1,
        "a_after": ab[common:common + 80].decode("utf-8", errors="replace"),
        "b_after": bb[common:common + 80].decode("utf-8", errors="replace"),
        "before": shared[-80:],
    }


# ---- result -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Result:
    """Every block of the chapter; arrays for the curves, dicts for the small blocks."""

    gen_n: NDArray[np.int64]
    gen_no_cache: NDArray[np.int64]
    gen_with_cache: NDArray[np.int64]
    verify: dict[str, Any] | None
    prefix: dict[str, Any]
    money: dict[str, Any]
    sweep_calls: NDArray[np.int64]
    sweep: dict[str, NDArray[np.float64]]
    """``uncached``, ``cached`` (at the params' write multiplier), ``cached_5m``, ``cached_1h``."""
    diff: dict[str, Any] | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (LEVERS2.md section 2.2 names)."""
        s = self.sweep
        pct = {k: pct_cheaper(s["uncached"], s[k]) for k in ("cached", "cached_5m", "cached_1h")}
        rows = [{"calls": int(c), "uncached": float(u), "cached": float(k), "pct_cheaper": float(p),
                 "pct_cheaper_5m": float(p5), "pct_cheaper_1h": float(p1)}
                for c, u, k, p, p5, p1 in zip(self.sweep_calls, s["uncached"], s["cached"],
                                              pct["cached"], pct["cached_5m"], pct["cached_1h"],
                                              strict=True)]
        return {
            "generation": [{"n": int(n), "no_cache": int(a), "with_cache": int(b),
                            "ratio": float(a) / float(b)}
                           for n, a, b in zip(self.gen_n, self.gen_no_cache, self.gen_with_cache,
                                              strict=True)],
            "verify": self.verify, "prefix": self.prefix, "money": self.money,
            "calls_sweep": rows, "prefix_diff": self.diff,
        }


def _money(p: Params) -> dict[str, Any]:
    engaged = p.min_cacheable_tokens == 0 or p.prefix_tokens >= p.min_cacheable_tokens
    rate, read = p.input_rate_per_mtok, p.read_multiplier
    u, k = bill(p.prefix_tokens, p.calls, rate, p.write_multiplier, read, engaged)
    r = rate / economy.PER
    return {
        "prefix_tokens": p.prefix_tokens, "calls": p.calls, "uncached": float(u), "cached": float(k),
        "saved": float(u - k), "pct_cheaper": float(pct_cheaper(u, k)), "cache_engaged": engaged,
        "break_even_calls": break_even(p.prefix_tokens, rate, p.write_multiplier, read, engaged),
        "break_even_by_ttl": {ttl: break_even(p.prefix_tokens, rate, w, read, engaged)
                              for ttl, w in TTL_WRITE.items()},
        "per_call": {"uncached": p.prefix_tokens * r,
                     "write": p.prefix_tokens * r * (p.write_multiplier if engaged else 1.0),
                     "read": p.prefix_tokens * r * (read if engaged else 1.0)},
    }


LIVE = frozenset({"prefix_len", "tail_len", "prefix_tokens", "calls", "input_rate_per_mtok",
                  "read_multiplier", "write_multiplier", "min_cacheable_tokens", "calls_sweep"})
"""Fields whose change needs only :func:`derive`: everything but the replay and the diff."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """The slow part: the exactness replay, and the diff of the two prompts."""

    verify: dict[str, Any] | None
    diff: dict[str, Any] | None


def prepare(params: Params, counter: object = None,
            progress: Callable[[float], None] | None = None) -> Prepared:
    """Replay attention both ways and diff the prompts (``min_cacheable_tokens`` is applied later).

    ``progress`` hears the share of the replay done (the diff is one array comparison).
    """
    p = params
    diff = None
    if p.prompt_a is not None and p.prompt_b is not None:
        diff = prefix_diff(p.prompt_a, p.prompt_b, 0)
    return Prepared(verify(p, progress) if p.verify_exact else None, diff)


def derive(prepared: Prepared, params: Params) -> Result:
    """Price the prompt cache and build the curves from the prepared replay."""
    p = params
    ns = np.asarray(p.gen_lengths, dtype=np.int64)
    no_cache, with_cache = projections(ns)
    engaged = p.min_cacheable_tokens == 0 or p.prefix_tokens >= p.min_cacheable_tokens
    calls = (np.arange(1, p.calls + 1, dtype=np.int64) if p.calls_sweep is None
             else np.asarray(p.calls_sweep, dtype=np.int64))
    curves = {}
    for key, write in (("cached", p.write_multiplier), ("cached_5m", TTL_WRITE["5m"]),
                       ("cached_1h", TTL_WRITE["1h"])):
        u, curves[key] = bill(p.prefix_tokens, calls, p.input_rate_per_mtok, write,
                              p.read_multiplier, engaged)
        curves["uncached"] = u
    total = p.prefix_len + p.tail_len
    diff = prepared.diff
    if diff is not None:
        tokens = diff["common_prefix_tokens_est"]
        m = p.min_cacheable_tokens
        diff = {**diff, "cacheable": tokens >= m if m else tokens > 0}
    return Result(
        gen_n=ns, gen_no_cache=no_cache, gen_with_cache=with_cache, verify=prepared.verify,
        prefix={"prefix_len": p.prefix_len, "tail_len": p.tail_len, "a_projections": total,
                "b_uncached": total, "b_cached": p.tail_len, "saved": p.prefix_len,
                "pct_saved": p.prefix_len / total * 100 if total else 0.0},
        money=_money(p), sweep_calls=calls, sweep=curves, diff=diff,
    )


def compute(params: Params, counter: object = None) -> Result:
    """Run every block of the chapter (``counter`` is unused: the book's estimate)."""
    return derive(prepare(params), params)


def sweep(params: Params, field: str, values: Any, counter: object = None) -> dict[str, NDArray[Any]]:
    """Return the uncached and cached bills at each call count (only ``calls`` sweeps)."""
    if field != "calls":
        raise InputError(f"sweep: only 'calls' can be swept, not {field!r}")
    calls = np.asarray(values, dtype=np.int64)
    if calls.size and calls.min() < 1:
        raise InputError("sweep: calls values must be >= 1")
    p = params
    engaged = p.min_cacheable_tokens == 0 or p.prefix_tokens >= p.min_cacheable_tokens
    u, k = bill(p.prefix_tokens, calls, p.input_rate_per_mtok, p.write_multiplier,
                p.read_multiplier, engaged)
    return {"calls": calls, "uncached": u, "cached": k, "pct_cheaper": pct_cheaper(u, k)}
