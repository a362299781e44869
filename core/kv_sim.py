"""A discrete-time KV-cache simulation under a contiguous and a paged allocator.

Each request arrives with its prompt, grows one token per step until it reaches its length,
then finishes and frees its blocks. The contiguous allocator reserves ``max_seq_len`` tokens of
adjacent blocks per request (a slot), so requests wait when no slot is free. The paged
allocator hands out blocks from a free list as tokens need them; when the pool runs dry it
preempts the most recently admitted request (recompute policy: its blocks are freed and it
re-queues at the front, needing blocks for everything it had when readmitted).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FREE = -1


class WorkLimitError(Exception):
    """The simulation handed out more blocks again, to re-admitted requests, than it may."""

    def __init__(self, again: int, step: int) -> None:
        super().__init__(f"{again:,} blocks handed out again by step {step:,}")
        self.again, self.step = again, step


class Contiguous:
    """Fixed slots of ``slot_blocks`` adjacent blocks, one per request."""

    name = "contiguous"

    def __init__(self, capacity: int, block_size: int, slot_blocks: int) -> None:
        self.owner = np.full(capacity, FREE, dtype=np.int32)
        self.block_size = block_size
        self.slot_blocks = slot_blocks
        self._free = list(range(capacity // slot_blocks))[::-1]
        self._slot: dict[int, int] = {}
        self.preemptions = 0

    def admit(self, req: int, tokens: int) -> bool:
        """Give ``req`` a free slot, or say there is none."""
        if not self._free:
            return False
        slot = self._slot[req] = self._free.pop()
        self.owner[slot * self.slot_blocks:(slot + 1) * self.slot_blocks] = req
        return True

    def grow(self, req: int, tokens: int) -> bool:
        """Return True: a reserved slot always has room (lengths never exceed ``max_seq_len``)."""
        return True

    def release(self, req: int) -> None:
        """Free the request's slot."""
        slot = self._slot.pop(req)
        self.owner[slot * self.slot_blocks:(slot + 1) * self.slot_blocks] = FREE
        self._free.append(slot)

    def reserved(self) -> int:
        """Blocks held by requests."""
        return len(self._slot) * self.slot_blocks


class Paged:
    """Blocks from a free list, allocated as tokens arrive; a block table per request."""

    name = "paged"

    def __init__(self, capacity: int, block_size: int) -> None:
        self.owner = np.full(capacity, FREE, dtype=np.int32)
        self.block_size = block_size
        self._free = list(range(capacity))[::-1]  # a stack: the lowest id comes out first
        self.tables: dict[int, list[int]] = {}
        self.preemptions = 0

    def _take(self, req: int, n: int) -> bool:
        if len(self._free) < n:
            return False
        table = self.tables.setdefault(req, [])
        if n <= 0:
            return True
        if n == 1:  # the common case (one more block as a request grows): no fancy indexing
            block = self._free.pop()
            table.append(block)
            self.owner[block] = req
            return True
        got = self._free[-n:][::-1]  # the same blocks, in the same order, as n pops
        del self._free[-n:]
        table.extend(got)
        self.owner[got] = req
        return True

    def admit(self, req: int, tokens: int) -> bool:
        """Allocate ``ceil(tokens / block_size)`` blocks for the request, if the pool has them."""
        return self._take(req, -(-tokens // self.block_size))

    def grow(self, req: int, tokens: int) -> bool:
        """Make room for ``tokens`` tokens: one more block when the last one is full."""
        have = len(self.tables[req]) * self.block_size
        return tokens <= have or self._take(req, 1)

    def release(self, req: int) -> None:
        """Return the request's blocks to the pool."""
        blocks = self.tables.pop(req)
        self.owner[blocks] = FREE
        self._free.extend(reversed(blocks))

    def reserved(self) -> int:
        """Blocks held by requests (every block not free is in one table)."""
        return self.owner.size - len(self._free)


Allocator = Contiguous | Paged


@dataclass(frozen=True, slots=True)
class Trace:
    """What one allocator did, step by step."""

    name: str
    owner: np.ndarray
    """snapshots x capacity: the request owning each block after every ``stride``-th step."""
    filled: np.ndarray
    """snapshots x capacity: whether the block holds tokens (reserved-but-empty is False)."""
    stride: int
    """Steps between snapshots (1 unless the maps would exceed the memory budget)."""
    running: np.ndarray
    waiting: np.ndarray
    used_tokens: np.ndarray
    reserved_blocks: np.ndarray
    finished: int
    admitted: int
    preemptions: int

    def snapshot(self, step: int) -> int:
        """Return the index of the snapshot showing ``step`` (the latest one at or before it)."""
        return min(step // self.stride, int(self.owner.shape[0]) - 1)

    def utilization(self, block_size: int) -> np.ndarray:
        """Tokens held over token slots reserved, per step (0 when nothing is reserved)."""
        slots = self.reserved_blocks * block_size
        out: np.ndarray = np.divide(self.used_tokens, slots, out=np.zeros(slots.shape), where=slots > 0)
        return out


PROGRESS_STEPS = 64
"""Steps between progress reports (a step of 100,000 running requests takes milliseconds)."""


def simulate(alloc: Allocator, lengths: np.ndarray, prompts: np.ndarray, arrivals: np.ndarray,
             steps: int, should_stop: Callable[[], bool] = lambda: False,
             max_cells: int = 8_000_000, again_max: int | None = None,
             progress: Callable[[float], None] = lambda f: None) -> Trace:
    """Run the request stream through ``alloc`` for ``steps`` steps (or until all finish).

    Block maps are kept for every step while they fit in ``max_cells`` cells; past that, every
    other snapshot is dropped and the stride doubles, so memory stays bounded. A preempted
    request is handed all its blocks again when re-admitted, work no estimate made before the
    run can bound; past ``again_max`` such blocks :class:`WorkLimitError` stops the run.
    ``progress`` hears the fraction of the steps run, every :data:`PROGRESS_STEPS` steps.
    """
    n, cap = lengths.size, alloc.owner.size
    # per-request counts as Python ints: a step touches every running request, and NumPy scalar
    # reads and writes cost several times a list's
    tokens: list[int] = prompts.astype(np.int64).tolist()
    ends: list[int] = lengths.astype(np.int64).tolist()
    arrive: list[int] = arrivals.astype(np.int64).tolist()
    queue: deque[int] = deque()
    running: dict[int, None] = {}  # admission order; the last is preempted first
    owners: list[np.ndarray] = []
    fills: list[np.ndarray] = []
    stride = 1
    series = np.zeros((4, steps), np.int64)
    nxt = finished = admitted = again = 0
    preempted = np.zeros(n, bool)
    last = steps
    for step in range(steps):
        if step % PROGRESS_STEPS == 0:
            progress(step / steps)
        while nxt < n and arrive[nxt] <= step:
            queue.append(nxt)
            nxt += 1
        while queue and alloc.admit(queue[0], tokens[queue[0]]):
            req = queue.popleft()
            running[req] = None
            admitted += 1
            if preempted[req]:
                again += -(-tokens[req] // alloc.block_size)
                if again_max is not None and again > again_max:
                    raise WorkLimitError(again, step)
        for req in list(running):
            if req not in running:
                continue  # preempted earlier in this step
            tokens[req] += 1
            while not alloc.grow(req, tokens[req]):
                victim, _ = running.popitem()
                alloc.release(victim)
                alloc.preemptions += 1
                preempted[victim] = True
                queue.appendleft(victim)
                if victim == req:
                    break
            if req in running and tokens[req] >= ends[req]:
                del running[req]
                alloc.release(req)
                finished += 1
        if step % stride == 0:
            owners.append(alloc.owner.copy())
            fills.append(_filled(alloc, running, tokens))
            if len(owners) * cap > max_cells and len(owners) > 1:
                owners, fills, stride = owners[::2], fills[::2], stride * 2
        held = sum(map(tokens.__getitem__, running))
        series[:, step] = (len(running), len(queue), held, alloc.reserved())
        if (finished == n and nxt == n) or should_stop():
            last = step + 1
            break
    kept = series[:, :last]
    return Trace(alloc.name, np.array(owners), np.array(fills), stride, running=kept[0],
                 waiting=kept[1], used_tokens=kept[2], reserved_blocks=kept[3], finished=finished,
                 admitted=admitted, preemptions=alloc.preemptions)


def _filled(alloc: Allocator, running: dict[int, None], tokens: list[int]) -> np.ndarray:
    if isinstance(alloc, Paged):
        held: np.ndarray = alloc.owner != FREE
        return held
    out = np.zeros(alloc.owner.size, bool)
    for req in running:
        start = alloc._slot[req] * alloc.slot_blocks
        out[start:start + -(-tokens[req] // alloc.block_size)] = True
    return out
