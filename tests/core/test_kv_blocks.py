"""KV blocks: the static comparison, and allocator invariants under random streams."""

import dataclasses
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import compute, kv_blocks
from core.errors import InputError
from core.kv_sim import FREE, Contiguous, Paged, simulate


def test_static_comparison_follows_the_rules():
    lengths = [5, 16, 17, 40]
    res = compute("kv_blocks", {"lengths": lengths, "max_seq_len": 64, "block_size": 16})
    assert res["used"] == 78
    assert res["reserved_contiguous"] == 4 * 64
    assert res["reserved_paged"] == (1 + 1 + 2 + 3) * 16
    assert res["internal_fragmentation"] == res["reserved_paged"] - 78
    assert res["utilization_paged"] == pytest.approx(78 / 112)


streams = st.lists(st.integers(1, 120), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(lengths=streams, block=st.integers(1, 32), spare=st.integers(0, 40),
       rate=st.sampled_from([0.3, 1.0, 3.0]), share=st.sampled_from([0.0, 0.5, 1.0]))
def test_simulated_pools_stay_consistent(lengths, block, spare, rate, share):
    params = kv_blocks.Params(lengths=tuple(lengths), max_seq_len=128, block_size=block,
                              capacity_blocks=-(-128 // block) + spare, arrival_rate=rate,
                              prompt_share=share)
    res = kv_blocks.compute(params)
    arr = np.array(lengths)
    for trace in (res.contiguous, res.paged):
        assert trace.finished == len(lengths)  # everyone is served eventually
        assert (trace.owner[-1] == FREE).all()  # every block went back to the pool
        held = (trace.owner != FREE).sum(axis=1)
        assert (held == trace.reserved_blocks[::trace.stride][: held.size]).all()
    for snap in res.paged.owner:
        owners, counts = np.unique(snap[snap != FREE], return_counts=True)
        assert (counts <= -(-arr[owners] // block)).all()  # never more than ceil(len / block)
    assert res.paged.finished == res.contiguous.finished


@settings(max_examples=150, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["admit", "grow", "release"]), st.integers(0, 5),
                              st.integers(1, 60)), max_size=80))
def test_paged_free_list_never_hands_out_a_block_twice(ops):
    pool = Paged(capacity=24, block_size=4)
    tokens: dict[int, int] = {}
    for op, req, n in ops:
        if op == "admit" and req not in pool.tables:
            if pool.admit(req, n):
                tokens[req] = n
        elif op == "grow" and req in pool.tables:
            if pool.grow(req, tokens[req] + 1):
                tokens[req] += 1
        elif op == "release" and req in pool.tables:
            pool.release(req)
            del tokens[req]
        every = [b for t in pool.tables.values() for b in t]
        assert len(every) == len(set(every)) == pool.reserved()
        assert len(every) + len(pool._free) == 24 and not set(every) & set(pool._free)
        for r, table in pool.tables.items():
            assert len(table) == -(-tokens[r] // 4) and (pool.owner[table] == r).all()


def test_a_dry_pool_preempts_and_the_victim_finishes_later():
    lengths = np.array([64, 64, 64])
    pool = Paged(capacity=8, block_size=16)  # 128 token slots for 192 tokens of demand
    trace = simulate(pool, lengths, np.array([16, 16, 16]), np.array([0, 0, 0]), 10_000)
    assert trace.preemptions > 0 and trace.finished == 3
    contiguous = simulate(Contiguous(8, 16, 4), lengths, np.array([16, 16, 16]), np.array([0, 0, 0]), 10_000)
    assert contiguous.preemptions == 0 and contiguous.waiting.max() == 1  # two slots, one waits


def test_snapshots_thin_out_instead_of_growing_without_bound():
    lengths = np.full(40, 30)
    args = (lengths, np.full(40, 10), np.arange(40), 10_000)
    full = simulate(Paged(capacity=64, block_size=4), *args)
    thin = simulate(Paged(capacity=64, block_size=4), *args, max_cells=64 * 50)
    steps = full.running.size
    assert full.stride == 1 and full.owner.shape[0] == steps > 50
    assert thin.stride > 1 and thin.owner.shape[0] * 64 <= 64 * 50
    assert (thin.running == full.running).all()  # the series stay per step
    for step in (0, steps // 2, steps - 1):  # a thinned map shows the latest kept step
        kept = thin.snapshot(step)
        assert kept * thin.stride <= step
        assert (thin.owner[kept] == full.owner[kept * thin.stride]).all()


@pytest.mark.parametrize("params, message", [
    ({"lengths": []}, "params.lengths: give request lengths"),
    ({"lengths": [3, 0]}, r"params.lengths\[1\]: expected a positive integer"),
    ({"lengths": [3000], "max_seq_len": 2048}, r"params.lengths\[0\]: 3000 is longer"),
    ({"lengths": [3], "capacity_blocks": 4}, "params.capacity_blocks: 4 cannot hold"),
    ({"lengths": [3], "prompt_share": 1.5}, "params.prompt_share: must be <= 1"),
    ({"generate": {"count": 3}}, "params.generate.mean_length: required"),
])
def test_bad_params_name_the_field(params, message):
    with pytest.raises(InputError, match=message):
        compute("kv_blocks", params)


def test_sweep_block_size_shows_internal_fragmentation_growing():
    params = kv_blocks.Params(lengths=(100, 250, 513), max_seq_len=1024)
    out = kv_blocks.sweep(params, "block_size", [1, 16, 256])
    assert out["reserved_paged"].tolist() == [863, 112 + 256 + 528, 256 + 256 + 768]
    assert (np.diff(out["utilization_paged"]) < 0).all()


def test_a_stream_too_big_to_simulate_quickly_is_refused_up_front_naming_the_limit():
    """Issue 28: 100,000 requests of ~2,000 tokens at block size 1 ran for minutes (760 MB)."""
    from app.bench_loads import kv_bench_params
    from widgets.loaders import read_scenario
    from widgets.resources import samples

    huge = {"generate": {"count": 100_000, "mean_length": 2000}, "block_size": 1,
            "capacity_blocks": 10_000_000, "max_seq_len": 10_000_000, "steps": 20_000,
            "arrival_rate": 1000}
    start = time.perf_counter()
    with pytest.raises(InputError, match=rf"^params: .* more than the {kv_blocks.MAX_WORK:,} "):
        compute("kv_blocks", huge)
    assert time.perf_counter() - start < 5  # refused before simulating anything
    params = kv_blocks.Params.from_dict({**huge, "generate": {"count": 10, "mean_length": 2000}})
    with pytest.raises(InputError, match="more than the"):  # a panel replacing fields skips check
        kv_blocks.prepare(dataclasses.replace(params, generate={**params.generate, "count": 100_000}))
    bench = kv_bench_params()  # the bench load and the samples stay accepted
    assert kv_blocks.work(bench) <= kv_blocks.MAX_WORK
    for path in samples("kv_blocks"):
        assert kv_blocks.work(kv_blocks.Params.from_dict(read_scenario(path)[1])) <= kv_blocks.MAX_WORK


def test_the_simulation_reports_its_progress_through_compute():
    heard: list[float] = []
    params = {"generate": {"count": 300, "seed": 0, "mean_length": 400}, "block_size": 4, "steps": 2000}
    compute("kv_blocks", params, None, heard.append)
    assert len(heard) > 10 and heard == sorted(heard)
    assert heard[0] == 0 and 0.5 <= heard[-1] <= 1  # paged run: the first half, contiguous: the second
