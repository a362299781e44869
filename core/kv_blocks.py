"""Paged KV blocks lever (book chapter 8): contiguous reservation against paging.

The static comparison is the book's: contiguous reserves ``max_seq_len`` per request, paged
reserves ``ceil(len / block_size)`` blocks. The simulation (``core.kv_sim``) replays the same
lengths as a request stream through both allocators with a fixed capacity in blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core import fields
from core.errors import InputError
from core.kv_sim import Contiguous, Paged, Trace, WorkLimitError, simulate

MAX_REQUESTS = 100_000
MAX_STEPS = 20_000
MAX_BLOCKS = 10_000_000
"""Largest pool (and longest sequence) simulated: the pool is an array of this many cells."""
MAX_WORK = 10_000_000
"""Most work one simulation may take (see :func:`work`). The worst stream within it (100,000
requests at once, block size 1, ``ctxlab bench --worst``) took 19.8 s of CPU on a shared
2-core machine (the 10 s this once said was a lighter stream's)."""
_WHERE = "params"
_GEN_KEYS = ("count", "seed", "mean_length")


def _parse_generate(value: object, where: str) -> dict[str, Any]:
    gen = dict(fields.mapping(value or {}, where))
    fields.only_keys(gen, _GEN_KEYS, where)
    if not gen:
        return gen
    return {"count": fields.integer(gen, "count", where, minimum=1, maximum=MAX_REQUESTS),
            "seed": fields.integer(gen, "seed", where, 0, minimum=0),
            "mean_length": fields.integer(gen, "mean_length", where, minimum=1)}


def _parse_lengths(value: object, where: str) -> tuple[int, ...]:
    lengths = fields.sequence(value, where)
    for i, v in enumerate(lengths):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InputError(f"{where}[{i}]: expected a positive integer, got {v!r}")
    return tuple(lengths)


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """The request lengths, the allocation grain, and the simulated stream."""

    lengths: tuple[int, ...] = fields.param((), parse=_parse_lengths, doc="request lengths in tokens")
    max_seq_len: int = fields.param(2048, minimum=1, maximum=MAX_BLOCKS,
                                    doc="the longest a request may grow (a contiguous reservation)")
    block_size: int = fields.param(16, minimum=1, maximum=MAX_BLOCKS, doc="tokens per paged block")
    capacity_blocks: int | None = fields.param(
        None, minimum=1, maximum=MAX_BLOCKS,
        doc="pool size for the simulation; None: room for eight contiguous reservations")
    arrival_rate: float = fields.param(1.0, minimum=1e-3, doc="requests arriving per step")
    prompt_share: float = fields.param(0.5, minimum=0.0, maximum=1.0,
                                       doc="share of each request present on arrival (the prompt)")
    steps: int | None = fields.param(None, minimum=1, maximum=MAX_STEPS,
                                     doc="steps to simulate; None: until every request finishes")
    generate: dict[str, Any] = fields.param(factory=dict, parse=_parse_generate,
                                            doc="{count, seed, mean_length}: draw lengths instead")
    at_step: int = fields.param(0, minimum=0, doc="the step whose block maps are shown")

    def check(self) -> None:
        """Raise :class:`InputError` when the params cannot describe a stream."""
        if not self.lengths and not self.generate:
            raise InputError(f"{_WHERE}.lengths: give request lengths (or params.generate)")
        if len(self.lengths) > MAX_REQUESTS:
            raise InputError(f"{_WHERE}.lengths: at most {MAX_REQUESTS:,} requests, "
                             f"got {len(self.lengths):,}")
        too_long = [i for i, n in enumerate(self.lengths) if n > self.max_seq_len]
        if too_long:
            i = too_long[0]
            raise InputError(f"{_WHERE}.lengths[{i}]: {self.lengths[i]} is longer than "
                             f"max_seq_len {self.max_seq_len}")
        if self.capacity_blocks is not None and self.capacity_blocks < self.slot_blocks:
            raise InputError(f"{_WHERE}.capacity_blocks: {self.capacity_blocks} cannot hold one "
                             f"max_seq_len request ({self.slot_blocks} blocks)")
        check_work(self)

    @property
    def slot_blocks(self) -> int:
        """Blocks one contiguous reservation takes."""
        return -(-self.max_seq_len // self.block_size)

    @property
    def capacity(self) -> int:
        """The simulated pool size in blocks."""
        return self.capacity_blocks or min(8 * self.slot_blocks, max(self.slot_blocks, MAX_BLOCKS))

    def request_lengths(self) -> np.ndarray:
        """Return the given lengths, or lengths drawn by ``generate`` (lognormal, capped)."""
        if self.lengths:
            return np.array(self.lengths, dtype=np.int64)
        rng = np.random.default_rng(self.generate["seed"])
        sigma = 0.6
        mu = np.log(self.generate["mean_length"]) - sigma**2 / 2
        drawn = rng.lognormal(mu, sigma, self.generate["count"]).round().astype(np.int64)
        clipped: np.ndarray = np.clip(drawn, 1, self.max_seq_len)
        return clipped


@dataclass(frozen=True, slots=True)
class Result:
    """The static comparison and the two simulated traces."""

    params: Params
    lengths: np.ndarray
    contiguous: Trace
    paged: Trace

    @property
    def used(self) -> int:
        """Tokens the requests actually hold at full length."""
        return int(self.lengths.sum())

    def reserved(self) -> tuple[int, int]:
        """Token slots reserved at full length: contiguous, paged."""
        p = self.params
        blocks = -(-self.lengths // p.block_size)
        return self.lengths.size * p.max_seq_len, int(blocks.sum()) * p.block_size

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (field names are DESIGN.md's contract)."""
        contiguous, paged = self.reserved()
        used = self.used
        bs = self.params.block_size
        return {
            "used": used,
            "reserved_contiguous": contiguous,
            "utilization_contiguous": used / contiguous,
            "reserved_paged": paged,
            "utilization_paged": used / paged,
            "internal_fragmentation": paged - used,
            "simulation": {"capacity_blocks": self.params.capacity, "requests": int(self.lengths.size),
                           **{t.name: _summary(t, bs) for t in (self.contiguous, self.paged)}},
            "at_step": {t.name: _snapshot(t, self.params.at_step) for t in (self.contiguous, self.paged)},
        }


def _summary(t: Trace, block_size: int) -> dict[str, Any]:
    util = t.utilization(block_size)
    return {"steps": int(t.running.size), "admitted": t.admitted, "finished": t.finished,
            "preemptions": t.preemptions, "peak_running": int(t.running.max(initial=0)),
            "peak_waiting": int(t.waiting.max(initial=0)),
            "mean_utilization": float(util[busy].mean()) if (busy := t.reserved_blocks > 0).any() else 0.0}


def _snapshot(t: Trace, step: int) -> dict[str, int]:
    at = min(step, t.running.size - 1)
    return {"step": at, "running": int(t.running[at]), "waiting": int(t.waiting[at]),
            "used_tokens": int(t.used_tokens[at]), "reserved_blocks": int(t.reserved_blocks[at])}


LIVE = frozenset({"at_step"})
"""Scrubbing through time re-reads the simulated traces; nothing else is live."""


def prepare(params: Params, counter: object = None, progress: Any = None) -> Result:
    """Compare the allocators statically and simulate the stream through both (the heavy part).

    ``progress`` hears the fraction simulated; one with a ``stopped()`` method (a panel's) is
    polled to stop early.
    """
    return simulate_stream(params, getattr(progress, "stopped", lambda: False), progress or (lambda f: None))


def derive(prepared: Result, params: Params) -> Result:
    """Return the simulated result showing ``params.at_step``."""
    return replace(prepared, params=params)


def compute(params: Params, counter: object = None) -> Result:
    """Compare the allocators statically and simulate the stream through both."""
    return derive(prepare(params), params)


def _stream(params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Return the lengths, prompt lengths and arrival steps of the stream, and the steps to run."""
    lengths = params.request_lengths()
    prompts = np.maximum(1, np.floor(lengths * params.prompt_share)).astype(np.int64)
    prompts = np.minimum(prompts, lengths)
    arrivals = np.floor(np.arange(lengths.size) / params.arrival_rate).astype(np.int64)
    return lengths, prompts, arrivals, params.steps or MAX_STEPS


def work(params: Params) -> int:
    """Return the simulation's work: token-steps grown plus blocks handed out.

    Every running request grows one token per step in Python, so each request that arrives
    within ``steps`` costs up to ``min(length - prompt, steps)`` token-steps, and the paged
    allocator hands out ``ceil(length / block_size)`` blocks to it, one at a time.
    """
    lengths, prompts, arrivals, steps = _stream(params)
    arrived = arrivals < steps
    grown = np.minimum(lengths - prompts, steps)[arrived].sum()
    blocks = (-(-lengths // params.block_size))[arrived].sum()
    return int(grown) + int(blocks)


def _too_much(what: str) -> InputError:
    return InputError(f"{_WHERE}: this stream is {what} to simulate, more than the {MAX_WORK:,} "
                      "ctxlab simulates at once (up to 20 s); use fewer or shorter requests "
                      "(lengths, generate.count, generate.mean_length), fewer steps or a larger "
                      "block_size")


def check_work(params: Params) -> int:
    """Refuse, before simulating, a stream that would take more than :data:`MAX_WORK`.

    Return its work (:func:`work`).
    """
    cost = work(params)
    if cost > MAX_WORK:
        raise _too_much(f"{cost:,} token-steps and blocks")
    return cost


def simulate_stream(params: Params, should_stop: Callable[[], bool] = lambda: False,
                    progress: Callable[[float], None] = lambda f: None) -> Result:
    """Simulate the stream of ``params`` through both allocators.

    :func:`work` cannot foresee preemptions: each re-admission hands a request all its blocks
    again. They are counted as the paged run goes (it runs first: the contiguous allocator
    never preempts), and a run whose total passes :data:`MAX_WORK` stops with the same refusal.
    """
    cost = check_work(params)
    lengths, prompts, arrivals, steps = _stream(params)
    cap = params.capacity
    try:
        paged = simulate(Paged(cap, params.block_size), lengths, prompts, arrivals, steps,
                         should_stop, again_max=MAX_WORK - cost, progress=lambda f: progress(f / 2))
    except WorkLimitError as exc:
        raise _too_much(f"{cost:,} token-steps and blocks plus {exc.again:,} blocks handed out "
                        f"again to preempted requests (by step {exc.step:,})") from None
    contiguous = simulate(Contiguous(cap, params.block_size, params.slot_blocks), lengths, prompts,
                          arrivals, steps, should_stop, progress=lambda f: progress(0.5 + f / 2))
    return Result(params, lengths, contiguous, paged)


def sweep(params: Params, field_name: str, values: Any, counter: object = None) -> dict[str, np.ndarray]:
    """Return the static reservations and utilizations at each value of a block size or max length."""
    if field_name not in ("block_size", "max_seq_len"):
        raise InputError(f"sweep: only block_size or max_seq_len can be swept, not {field_name!r}")
    lengths = params.request_lengths()
    xs = np.asarray(values, dtype=np.int64)
    if xs.size and xs.min() < 1:
        raise InputError(f"sweep: {field_name} values must be >= 1")
    if field_name == "block_size":
        paged = (-(-lengths[None, :] // xs[:, None]) * xs[:, None]).sum(axis=1)
        contiguous = np.full(xs.size, lengths.size * params.max_seq_len)
    else:
        paged = np.full(xs.size, (-(-lengths // params.block_size)).sum() * params.block_size)
        contiguous = lengths.size * xs
    used = lengths.sum()
    return {field_name: xs, "reserved_paged": paged, "reserved_contiguous": contiguous,
            "utilization_paged": used / paged, "utilization_contiguous": used / contiguous}
