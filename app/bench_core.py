"""Core timings for ``ctxlab bench``: each lever's heavy compute, away from the widgets."""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from app.bench_loads import (
    bench_corpus,
    callgraph_bench_params,
    compression_bench_params,
    kv_bench_params,
    packer_bench_params,
    radix_bench_stream,
    temporal_bench_params,
)
from core import bpe, callgraph, compression, kv_blocks, packer, radix, temporal
from core.attention_maps import Maps, Variant, compare
from core.tokens import CachingCounter, WordEstimate


def _trie_insert(trie: dict[str, Any], seq: tuple[str, ...]) -> int:
    node, matched, new = trie, 0, False
    for block in seq:
        nxt = node.get(block)
        if nxt is None:
            new = True
            nxt = node[block] = {}
        elif not new:
            matched += 1
        node = nxt
    return matched


def bench_radix(repeats: int = 5) -> dict[str, Any]:
    """Time replaying the stream into the radix tree and into a plain dict-of-dicts trie."""
    stream = radix_bench_stream()
    tree_times, trie_times = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        tree = radix.Replay(list(stream), None, 1).advance(len(stream))
        for req in stream:
            tree.match_prefix(req)
        tree_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        trie: dict[str, Any] = {}
        for req in stream:
            _trie_insert(trie, req)
        for req in stream:
            _trie_insert(trie, req)
        trie_times.append(time.perf_counter() - t)
    tree_s, trie_s = statistics.median(tree_times), statistics.median(trie_times)
    replay = radix.Replay(list(stream), None, 1)
    replay.advance(len(stream))
    fresh: dict[str, Any] = {}
    trie_matched = [_trie_insert(fresh, req) for req in stream]
    return {"radix_blocks": sum(map(len, stream)), "radix_requests": len(stream),
            "radix_trie_prefix_hits_identical": replay.matched == trie_matched,
            "radix_nodes": len(tree.nodes()), "radix_replay_and_match_s_median": round(tree_s, 4),
            "dict_trie_insert_and_match_s_median": round(trie_s, 4),
            "dict_trie_nodes": _count_nodes(trie),
            "radix_vs_dict_trie_time_ratio": round(tree_s / trie_s, 2),
            "radix_full_compute_s": round(_timed(lambda: radix.compute(radix.Params(requests=stream))), 3),
            **bench_radix_capacity(list(stream))}


def bench_radix_capacity(stream: list[tuple[str, ...]], repeats: int = 3) -> dict[str, Any]:
    """Time the capacity sweep (3 policies x the automatic capacities; medians) and one bounded replay."""
    from core.radix_curve import auto_capacities, sweep

    caps = auto_capacities(stream, 1)
    bounded = caps[len(caps) // 2]
    walls, cpus = [], []
    for _ in range(repeats):
        cpu = time.process_time()
        walls.append(_timed(lambda: sweep(stream, 1)))
        cpus.append(time.process_time() - cpu)  # the CPU it used: on a shared machine, wall time also waits
    return {"radix_sweep_points": 3 * len(caps),
            "radix_capacity_sweep_s": round(statistics.median(walls), 3),
            "radix_capacity_sweep_cpu_s": round(statistics.median(cpus), 3),
            "radix_bounded_capacity": bounded,
            "radix_bounded_compute_s": round(_timed(lambda: radix.compute(
                radix.Params(requests=tuple(stream), capacity_blocks=bounded), curve=())), 3)}


def _count_nodes(trie: dict[str, Any]) -> int:
    count, stack = 0, [trie]
    while stack:
        node = stack.pop()
        count += len(node)
        stack.extend(node.values())
    return count


def _timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_compression(repeats: int = 5) -> dict[str, Any]:
    """Time rescoring the 10,000-sentence text (what a query edit costs) and one budget pass."""
    params = compression_bench_params()
    rescore, budget = [], []
    for _ in range(repeats):
        counter = CachingCounter(WordEstimate())
        t = time.perf_counter()
        scored = compression.score(params, counter)
        top = max(scored.original_tokens, 1)
        compression.sweep(params, "budget", np.linspace(0, top, 400).astype(np.int64), scored=scored)
        rescore.append(time.perf_counter() - t)
        t = time.perf_counter()
        compression.compress(params, scored, counter)
        budget.append(time.perf_counter() - t)
    return {"compression_sentences": len(scored.sentences),
            "compression_rescore_and_sweep_ms_median": round(statistics.median(rescore) * 1e3, 1),
            "compression_budget_pass_ms_median": round(statistics.median(budget) * 1e3, 2)}



def bench_temporal(repeats: int = 5) -> dict[str, Any]:
    """Time building the 100,000-fact graph, re-tiling at a past known-at, and an as-of over all keys."""
    params = temporal_bench_params()
    events = params.all_events()
    build, retile, snap = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        graph = temporal.Graph.build(events)
        build.append(time.perf_counter() - t)
        t = time.perf_counter()
        tiling = graph.tile(temporal.to_seconds("2023-01-01", "known_at"))
        retile.append(time.perf_counter() - t)
        t = time.perf_counter()
        tiling.snapshot(temporal.to_seconds("2022-06-01", "as_of"))
        snap.append(time.perf_counter() - t)
    return {"temporal_events": len(events), "temporal_keys": len(graph.keys),
            "temporal_build_ms_median": round(statistics.median(build) * 1e3, 1),
            "temporal_retile_known_at_ms_median": round(statistics.median(retile) * 1e3, 2),
            "temporal_as_of_all_keys_ms_median": round(statistics.median(snap) * 1e3, 3)}


def bench_callgraph(repeats: int = 3) -> dict[str, Any]:
    """Time analysing the standard-library stand-in for a 50,000-line package."""
    params = callgraph_bench_params()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        graph = callgraph.analyse(params)
        times.append(time.perf_counter() - t)
    return {"callgraph_files": len(params.files),
            "callgraph_lines": sum(text.count("\n") for text in params.files.values()),
            "callgraph_functions": len(graph.names), "callgraph_edges": int(graph.edges.shape[0]),
            "callgraph_analyse_s_median": round(statistics.median(times), 3)}


def bench_attention(repeats: int = 5, n: int = 4096, d: int = 64) -> dict[str, Any]:
    """Time a full n = 4,096 recompute (full attention + a window variant) against plain matmuls.

    The plain baseline is the two products of dense attention at the same shapes (Q K^T and
    W V, float64), without softmax or masks: the floor any exact implementation sits on.
    """
    ours, plain = [], []
    x = np.random.default_rng(0).normal(0, 1, (n, d))
    for _ in range(repeats):
        t = time.perf_counter()
        maps = Maps.build(n, d, 0.05, 0)
        compare(maps, Variant("window", 256))
        ours.append(time.perf_counter() - t)
        del maps
        t = time.perf_counter()
        (x @ x.T) @ x
        plain.append(time.perf_counter() - t)
    a, b = statistics.median(ours), statistics.median(plain)
    return {"attention_n": n, "attention_full_recompute_ms_median": round(a * 1e3, 1),
            "plain_numpy_matmuls_ms_median": round(b * 1e3, 1),
            "attention_vs_plain_matmul_ratio": round(a / b, 2)}


def bench_core(repeats: int = 7) -> dict[str, Any]:
    """Time the packer core on the bench load: a cold count, then warm recomputes."""
    params = packer_bench_params()
    budgets = np.arange(0, 80_001, 64)
    cold, warm = [], []
    for _ in range(repeats):
        counter = CachingCounter(WordEstimate())
        t = time.perf_counter()
        packer.compute(params, counter)
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        packer.compute(params, counter)
        for policy in packer.POLICIES:
            packer.sweep(packer.Params(params.parts, params.budget, policy), "budget", budgets,
                         counter)
        warm.append(time.perf_counter() - t)
    corpus = bench_corpus(1_000_000)
    t = time.perf_counter()
    trained = bpe.compute(bpe.Params(corpus=corpus, merges=1000, words=()))
    train_s = time.perf_counter() - t
    kv_times = []
    for _ in range(3):
        t = time.perf_counter()
        kv_blocks.compute(kv_bench_params())
        kv_times.append(time.perf_counter() - t)
    return {
        **bench_compression(),
        **bench_radix(),
        **bench_temporal(),
        **bench_callgraph(),
        **bench_attention(),
        "kv_simulate_10k_requests_2000_steps_s_median": round(statistics.median(kv_times), 3),
        "bpe_train_1mb_1000_merges_s": round(train_s, 3),
        "bpe_train_corpus_chars": len(corpus),
        "bpe_train_merges_learned": trained.learned,
        "bpe_train_distinct_words": len(set(corpus.split())),
        "packer_words": sum(len(p.text.split()) for p in params.parts),
        "packer_compute_cold_ms_median": round(statistics.median(cold) * 1e3, 3),
        "packer_compute_and_3_sweeps_warm_ms_median": round(statistics.median(warm) * 1e3, 3),
        "sweep_budgets": int(budgets.size),
    }

