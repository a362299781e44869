"""Radix prefix sharing lever (book chapter 8): replay a request stream into a radix tree.

Requests are block-id sequences, or text prompts cut into blocks of ``block_words`` words
(a block's id is its text, so a shared system prompt becomes a shared path). The stream is
replayed in order; the tree shown is the one after ``at_step`` requests, the curves and totals
cover the whole stream. With ``capacity_blocks`` set, unreferenced leaves are evicted in the
order of ``eviction`` (``lru``, the book's; ``lfu``; ``fifo``); the last ``hold`` requests keep
their paths referenced. "Saved" blocks are prefix hits: prefill work skipped.

:func:`prepare` is the heavy part (the whole-stream replay, the replay up to the step, the
capacity sweep); :func:`derive` the per-tick part (the kept replay moved to ``at_step``, the
only :data:`LIVE` field, and its tree laid out); :func:`compute` is the two together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core import fields
from core.errors import Cancelled, InputError
from core.radix_curve import sweep
from core.radix_layout import Layout, label, layout, prefix, sharers, subtree
from core.radix_replay import Replay
from core.radix_tree import POLICIES
from core.tokens import stop_check

_WHERE = "params"
MAX_BLOCKS = 2_000_000
MAX_SWEEP = 64
SWEEP_WORK = 3 * len(POLICIES) * MAX_BLOCKS
"""Blocks a given ``capacity_sweep`` may replay in all (capacities x policies x stream blocks):
what the automatic sweep replays for the longest stream (its 3 points), about 17 s of CPU."""
"""Capacities one sweep may try."""
__all__ = ["LIVE", "Layout", "Params", "Prepared", "Record", "Replay", "Result", "compute", "derive", "label",
           "layout", "prefix", "prepare", "sharers", "subtree"]


_BLOCK_TYPES = {str, int}


def _requests(value: object, where: str) -> tuple[tuple[str, ...], ...]:
    requests = []
    for i, req in enumerate(fields.sequence(value, where)):
        # exact types (bool is not int here), read at C speed: a stream may hold millions of blocks
        if not isinstance(req, list | tuple) or not set(map(type, req)) <= _BLOCK_TYPES:
            raise InputError(f"{where}[{i}]: expected a list of block ids (strings or integers)")
        requests.append(tuple(map(str, req)))
    return tuple(requests)


def _prompts(value: object, where: str) -> tuple[str, ...]:
    prompts = fields.sequence(value, where)
    for i, text in enumerate(prompts):
        if not isinstance(text, str):
            raise InputError(f"{where}[{i}]: expected a string")
    return tuple(prompts)


@dataclass(frozen=True, slots=True)
class Params(fields.Declared):
    """The stream, the cache bound, and the step shown."""

    requests: tuple[tuple[str, ...], ...] = fields.param((), parse=_requests,
                                                         dump=lambda rs: [list(r) for r in rs],
                                                         doc="requests as block-id sequences")
    prompts: tuple[str, ...] = fields.param((), parse=_prompts, doc="requests as text prompts")
    block_words: int = fields.param(8, minimum=1, doc="words per block when prompts are cut")
    capacity_blocks: int | None = fields.param(None, minimum=1, doc="cache bound in blocks (None: none)")
    hold: int = fields.param(1, minimum=0,
                             doc="requests running at once: the latest keep their paths from eviction")
    at_step: int | None = fields.param(None, minimum=0,
                                       doc="requests replayed into the tree shown (None: all)")
    eviction: str = fields.param("lru", choices=POLICIES,
                                 doc="which unheld leaf goes first when over capacity")
    capacity_sweep: tuple[int, ...] | None = fields.param(
        None, parse=lambda v, where: _sweep_from(v),
        doc="capacities for the hit-rate curve (None: automatic up to the unbounded size)")

    def check(self) -> None:
        """Raise :class:`InputError` unless exactly one non-empty stream is given."""
        if bool(self.requests) == bool(self.prompts):
            raise InputError(f"{_WHERE}.requests: give either requests (block ids) or prompts (text)")
        blocks = sum(len(r) for r in self.stream())
        if blocks > MAX_BLOCKS:
            raise InputError(f"{_WHERE}.requests: more than {MAX_BLOCKS:,} blocks in all")
        work = len(set(self.capacity_sweep or ())) * len(POLICIES) * blocks
        if work > SWEEP_WORK:
            raise InputError(f"{_WHERE}.capacity_sweep: {len(set(self.capacity_sweep or ()))} capacities x "
                             f"{len(POLICIES)} policies x {blocks:,} blocks is {work:,} blocks to replay, "
                             f"more than the {SWEEP_WORK:,} a sweep may replay; give fewer capacities "
                             "(or null for an automatic sweep)")

    def stream(self) -> list[tuple[str, ...]]:
        """Return the requests as block sequences (prompts cut into ``block_words``-word blocks)."""
        if self.requests:
            return list(self.requests)
        out = []
        for text in self.prompts:
            words = text.split()
            out.append(tuple(" ".join(words[i:i + self.block_words])
                             for i in range(0, len(words), self.block_words)))
        return out


def _sweep_from(value: object) -> tuple[int, ...] | None:
    """Validate ``capacity_sweep``: null, or a list of up to :data:`MAX_SWEEP` capacities >= 1."""
    if value is None:
        return None
    where = f"{_WHERE}.capacity_sweep"
    raw = fields.items({"capacity_sweep": value}, "capacity_sweep", _WHERE)
    if not raw or len(raw) > MAX_SWEEP:
        raise InputError(f"{where}: give 1 to {MAX_SWEEP} capacities (or null for automatic), got {len(raw)}")
    return tuple(fields.integer({f"capacity_sweep[{i}]": v}, f"capacity_sweep[{i}]", _WHERE, minimum=1)
                 for i, v in enumerate(raw))


@dataclass(frozen=True, slots=True)
class Record:
    """The whole stream replayed once: per request, what it needed, matched, stored and evicted."""

    lengths: np.ndarray
    matched: np.ndarray
    stored: np.ndarray
    evicted: np.ndarray
    """Blocks evicted so far, after each request."""
    seen: np.ndarray
    evicted_by: np.ndarray
    frame: tuple[int, int]
    """Depth in blocks and leaf rows of the whole stream's tree: a fixed frame to grow into."""
    curve: tuple[dict[str, Any], ...] = ()
    """The capacity sweep: ``{capacity, eviction, hit_rate, blocks_hit}`` per point."""

    def record(self) -> dict[str, Any]:
        """Return the :class:`Record` fields by name (the arrays themselves, not copies)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(Record)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Result(Record):
    """The tree after ``at_step`` requests, and the whole stream's sharing curves and totals."""

    params: Params
    step: int
    tree_stored: int
    tree_evicted: int
    drawn: Layout

    def totals(self, step: int) -> dict[str, Any]:
        """Return the honest totals over the first ``step`` requests (``saved`` = hits only)."""
        step = max(0, min(step, self.lengths.size))
        requested = int(self.lengths[:step].sum())
        hit = int(self.matched[:step].sum())
        last = step - 1
        return {"blocks_requested": requested, "blocks_hit": hit, "blocks_saved": hit,
                "blocks_computed": requested - hit,
                "blocks_stored": int(self.stored[last]) if step else 0,
                "peak_stored": int(self.stored[:step].max(initial=0)),
                "blocks_evicted": int(self.evicted[last]) if step else 0,
                "hit_rate": hit / requested if requested else 0.0}

    def summary(self) -> dict[str, Any]:
        """Return the headline numbers: whole stream, and at the step shown."""
        whole = self.totals(self.lengths.size)
        return {"blocks_no_share": whole["blocks_requested"], **whole,
                "at_step": {"step": self.step, **self.totals(self.step),
                            "nodes": int(len(self.drawn.ids) - 1 - self.drawn.ghost.sum())}}

    def misses(self) -> list[dict[str, Any]]:
        """Every request that had to compute blocks: how much it matched and why it stopped there.

        ``reason`` is ``new`` when its first missing block (after that prefix) was never stored
        before, ``evicted`` when an earlier request had stored it and it was evicted: by request
        ``evicted_by``, so the tree shown at step ``evicted_at_step`` no longer holds it.
        """
        out = []
        for r in np.flatnonzero(self.matched < self.lengths).tolist():
            by = int(self.evicted_by[r])
            evicted = int(self.matched[r]) < int(self.seen[r])
            out.append({"request": r, "matched": int(self.matched[r]), "needed": int(self.lengths[r]),
                        "seen": int(self.seen[r]), "reason": "evicted" if evicted else "new",
                        "evicted_by": by if evicted else None,
                        "evicted_at_step": by + 1 if evicted and by >= 0 else None})
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe data (field names are DESIGN.md's contract)."""
        lay = self.drawn
        return {
            **self.summary(),
            "matched": self.matched.tolist(),
            "misses": self.misses(),
            "capacity_curve": [dict(p) for p in self.curve],
            "nodes": [{"id": lay.ids[i], "parent": lay.parents[i], "label": label(lay, i),
                       "refs": int(lay.refs[i]), "active": int(lay.active[i]),
                       "x0": float(lay.x0[i]), "x1": float(lay.x1[i]), "y": float(lay.y[i]),
                       "band": [float(lay.band0[i]), float(lay.band1[i])]}
                      for i in range(len(lay.ids)) if not lay.ghost[i]],
        }


LIVE = frozenset({"at_step"})
"""The step only moves the kept replay and lays its tree out; every other field replays the stream."""


def _sweep_key(params: Params) -> tuple[Any, ...]:
    """Return what the capacity sweep depends on: the stream, the hold and the capacities asked for."""
    return (params.requests, params.prompts, params.block_words, params.hold, params.capacity_sweep)


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared(Record):
    """The whole stream's record with its capacity sweep, and a replay to step through.

    ``replay`` stands at the step last derived: :func:`derive` moves it forward by inserting the
    next requests, or back by replaying from the start (so derive costs the requests it inserts).
    """

    params: Params
    """The params it was prepared for (the step aside, :func:`derive` serves every params equal to it)."""
    replay: Replay


def _step(params: Params, total: int) -> int:
    return total if params.at_step is None else min(params.at_step, total)


def _advance(replay: Replay, step: int, should_stop: Callable[[], bool],
             progress: Callable[[float], None]) -> None:
    """Advance ``replay`` to ``step`` in twentieths, reporting the fraction after each."""
    chunk = max(1, step // 20)
    for upto in range(min(chunk, step), step + 1, chunk) if step else ():
        replay.advance(upto, should_stop)
        progress(upto / step)
    replay.advance(step, should_stop)


def prepare(params: Params, counter: object = None, progress: Callable[[float], None] | None = None,
            previous: Prepared | None = None, curve: tuple[dict[str, Any], ...] | None = None) -> Prepared:
    """Replay the whole stream (curves, totals), then up to the step shown; sweep the capacities.

    The sweep does not depend on the capacity, the policy or the step: it is taken from
    ``previous`` (the state prepared before, e.g. for another capacity) when that was made for the
    same stream, hold and capacities, or given as ``curve`` (``()``: none). ``progress`` hears
    the fraction done (the replays in twentieths, the sweep per point); one with a ``stopped()``
    method (a panel's) is polled to stop early, and a cut-short replay raises :class:`Cancelled`.
    """
    report = progress or (lambda _f: None)
    should_stop: Callable[[], bool] = getattr(progress, "stopped", lambda: False)
    if curve is None and previous is not None and _sweep_key(previous.params) == _sweep_key(params):
        curve = previous.curve
    stream = params.stream()
    share = (0.5, 0.6) if curve is None else (0.9, 1.0)  # where the replays end on the way to done
    full = Replay(stream, params.capacity_blocks, params.hold, params.eviction)
    _advance(full, len(stream), should_stop, lambda f: report(f * share[0]))
    matched, stored, evicted, seen, evicted_by = (np.array(values, np.int64) for values in (
        full.matched, full.stored, full.evicted, full.seen, full.evicted_by))
    frame = (max(map(len, stream), default=1), sum(not n.children for n in full.tree.nodes()))
    step = _step(params, len(stream))
    shown = full if step == len(stream) else Replay(stream, params.capacity_blocks, params.hold,
                                                    params.eviction)
    _advance(shown, step, should_stop, lambda f: report(share[0] + f * (share[1] - share[0])))
    if curve is None:
        curve = sweep(stream, params.hold, params.capacity_sweep, should_stop,
                      lambda f: report(share[1] + f * (1 - share[1])))
    if should_stop():  # a cut-short replay or sweep must not be kept as the stream's
        raise Cancelled
    lengths = np.array([len(r) for r in stream], dtype=np.int64)
    return Prepared(lengths, matched, stored, evicted, seen, evicted_by, frame, curve, params=params,
                    replay=shown)


def derive(prepared: Prepared, params: Params) -> Result:
    """Move the kept replay to ``params.at_step`` and lay its tree out (the per-tick part).

    Inside a :func:`core.tokens.cancellable` block (a panel's worker) a long step back stops
    early and raises :class:`Cancelled`; the replay then stands somewhere before the step, and
    the next derive carries on from there.
    """
    replay = prepared.replay
    step = _step(params, len(replay.stream))
    tree = replay.advance(step, stop_check())
    if replay.step != step:
        raise Cancelled
    return Result(**prepared.record(), params=params, step=step, tree_stored=tree.stored,
                  tree_evicted=tree.evicted, drawn=replay.layout())


def compute(params: Params, counter: object = None, curve: tuple[dict[str, Any], ...] | None = None,
            progress: Callable[[float], None] | None = None) -> Result:
    """Replay the whole stream (curves, totals), the first ``at_step`` requests (the tree), the sweep.

    ``curve``: a capacity sweep already made for this stream and hold (``()``: skip the sweep).
    """
    return derive(prepare(params, counter, progress, curve=curve), params)
