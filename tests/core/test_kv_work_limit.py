"""Issue 28: the KV simulation's work limit holds for streams that preempt: the up-front estimate
cannot foresee re-admissions (each hands a request all its blocks again), so they are counted as
the run goes and a run past the limit stops with the same refusal."""

import time

import numpy as np
import pytest

from core import kv_blocks
from core.errors import InputError
from core.kv_sim import Paged, WorkLimitError, simulate

# 4,990 requests of 1,000 tokens arriving at once into 250,000 blocks: they grow in lockstep
# until the pool is dry at step ~50, then preempt one another for the rest of the run
THRASH = {"lengths": [1000] * 4990, "max_seq_len": 1000, "block_size": 1, "capacity_blocks": 250_000,
          "prompt_share": 0.0, "arrival_rate": 1000}


def test_a_stream_that_preempts_heavily_stops_at_the_work_limit_with_the_same_message():
    params = kv_blocks.Params.from_dict(THRASH)
    assert kv_blocks.work(params) <= kv_blocks.MAX_WORK  # accepted up front: 9,975,010
    # cancelled (not refused) after 60 s: before the fix the run went on for minutes, far past the limit
    deadline = time.monotonic() + 60
    with pytest.raises(InputError, match=(
            rf"^params: this stream is 9,975,010 token-steps and blocks plus [\d,]+ blocks handed "
            rf"out again to preempted requests \(by step [\d,]+\) to simulate, more than the "
            rf"{kv_blocks.MAX_WORK:,} ctxlab simulates at once")):
        kv_blocks.simulate_stream(params, lambda: time.monotonic() > deadline)


def test_re_admissions_are_counted_block_for_block():
    lengths = np.array([40] * 12)
    prompts, arrivals = np.ones(12, np.int64), np.zeros(12, np.int64)
    with pytest.raises(WorkLimitError) as first:  # the first re-admission is over a limit of 0
        simulate(Paged(capacity=100, block_size=4), lengths, prompts, arrivals, 1000, again_max=0)
    assert first.value.again > 0
    full = simulate(Paged(capacity=100, block_size=4), lengths, prompts, arrivals, 1000)
    assert full.preemptions > 0 and full.finished == 12
    limit = 0  # the smallest limit the whole run fits in: every limit below it stops the run
    while True:
        try:
            same = simulate(Paged(capacity=100, block_size=4), lengths, prompts, arrivals, 1000,
                            again_max=limit)
            break
        except WorkLimitError as exc:
            assert exc.again > limit
            limit = exc.again
    assert np.array_equal(same.owner, full.owner) and same.preemptions == full.preemptions

