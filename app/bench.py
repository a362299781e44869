"""``ctxlab bench``: slider-to-pixels latency per panel, offscreen, plus core throughput.

A tick is: set the panel's main control to a new value, then process Qt events until the
panel is idle and its plot view has finished a paint. Latency is from the value change to
the end of that paint. The longest UI-thread stall is the longest single uninterrupted stretch
(the setter call or one ``processEvents``) during the run. Medians and percentiles only; the
machines are shared, so compare runs by ratios, not absolute times.
"""

from __future__ import annotations

import platform
import statistics
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
import PySide6
from PySide6.QtWidgets import QApplication

from core import bpe, compression, kv_blocks, packer, radix
from core.tokens import CachingCounter, WordEstimate
from widgets import PANELS
from widgets.base import BasePanel
from widgets.export import wait_until
from widgets.loaders import read_scenario
from widgets.resources import samples

_WARMUP = 3


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def packer_bench_params(parts: int = 12, max_words: int = 5000, seed: int = 0) -> packer.Params:
    """Twelve parts of up to 5,000 words each (the foundation issue's target load)."""
    rng = np.random.default_rng(seed)
    vocab = np.array(["token", "budget", "context", "window", "cache", "prefix", "summary",
                      "query", "retrieval", "agent", "tool", "result", "the", "a", "of", "and"])
    sizes = np.linspace(max_words // 10, max_words, parts).astype(int)
    made = tuple(
        packer.Part(f"part_{i:02d}", " ".join(vocab[rng.integers(0, vocab.size, n)]),
                    pinned=i in (0, parts - 1), rank=int(rng.integers(1, 10)))
        for i, n in enumerate(sizes))
    return packer.Params(parts=made, budget=20_000)


def bench_corpus(chars: int, distinct: int = 30_000, seed: int = 0) -> str:
    """Text of ``chars`` characters: the BPE samples' words plus made-up ones, Zipf-weighted."""
    vocab: dict[str, None] = {}
    for path in samples("bpe"):
        _lever, params = read_scenario(path)
        vocab.update(dict.fromkeys(params["corpus"].split()))
    rng = np.random.default_rng(seed)
    # Real 1 MB corpora hold tens of thousands of distinct words; add made-up ones built from
    # the samples' trigrams so training has that much to count, not just a few hundred words.
    grams = np.array(sorted({w[i:i + 3] for w in vocab for i in range(0, max(len(w) - 2, 1), 2)}))
    made = ["".join(rng.choice(grams, size=rng.integers(2, 5)).tolist()) for _ in range(distinct)]
    words = np.array(list(dict.fromkeys([*vocab, *made])))
    weights = 1.0 / np.arange(1, words.size + 1) ** 1.05
    picked = rng.choice(words, size=chars // 6, p=weights / weights.sum())
    text = " ".join(picked.tolist())
    while len(text) < chars:
        text += " " + text
    return text[:chars]


def bpe_bench_params() -> bpe.Params:
    """A 50 KB text tokenized with up to 1,000 merges learned on it (the replay target)."""
    return bpe.Params(corpus=bench_corpus(50_000), merges=500, curve_merges=1000)


def kv_bench_params() -> kv_blocks.Params:
    """10,000 requests (lognormal, mean 300 tokens) over 2,000 steps on 8,192 blocks."""
    return kv_blocks.Params(generate={"count": 10_000, "seed": 0, "mean_length": 300},
                            arrival_rate=5.0, steps=2000, capacity_blocks=8192)


def radix_bench_stream(total_blocks: int = 100_000, seed: int = 0) -> tuple[tuple[str, ...], ...]:
    """Requests of a shared system prompt (one of 8), few-shot set (one of 6), question template
    (one of 300) and a unique tail, until ``total_blocks`` blocks."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, ...]] = []
    blocks = 0
    while blocks < total_blocks:
        s, f, t = (int(v) for v in rng.integers((8, 6, 300)))
        tail = int(rng.integers(1, 6))
        req = (tuple(f"sys{s}.{i}" for i in range(12)) + tuple(f"shot{s}.{f}.{i}" for i in range(8))
               + tuple(f"tmpl{t}.{i}" for i in range(int(rng.integers(2, 6))))
               + tuple(f"r{len(out)}.{i}" for i in range(tail)))
        out.append(req)
        blocks += len(req)
    return tuple(out)


def radix_bench_params() -> radix.Params:
    """The 100,000-block stream, shown from its middle."""
    stream = radix_bench_stream()
    return radix.Params(requests=stream, at_step=len(stream) // 2)


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
    return {"radix_blocks": sum(map(len, stream)), "radix_requests": len(stream),
            "radix_nodes": len(tree.nodes()), "radix_replay_and_match_s_median": round(tree_s, 4),
            "dict_trie_insert_and_match_s_median": round(trie_s, 4),
            "dict_trie_nodes": _count_nodes(trie),
            "radix_vs_dict_trie_time_ratio": round(tree_s / trie_s, 2),
            "radix_full_compute_s": round(_timed(lambda: radix.compute(radix.Params(requests=stream))), 3)}


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


def compression_bench_params(sentences: int = 10_000) -> compression.Params:
    """The shipped compression sample's sentences drawn at random into a 10,000-sentence text."""
    _lever, raw = read_scenario(samples("compression")[0])
    pool = compression.split_sentences(raw["text"])
    rng = np.random.default_rng(0)
    text = " ".join(pool[i] for i in rng.integers(0, len(pool), sentences))
    return compression.Params(text=text, query=raw["query"], budget=4000, probe=raw["probe"])


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


BENCH_PARAMS = {
    "compression": compression_bench_params,
    "packer": packer_bench_params,
    "bpe": bpe_bench_params,
    "kv_blocks": kv_bench_params,
    "radix": radix_bench_params,
}
"""Per panel: the heavy scenario the benchmark drives (default: the panel's sample)."""


def _tick(app: QApplication, panel: BasePanel, setter: Any, value: int) -> tuple[float, float]:
    """Set one value; return ms until the repaint that follows its render, and the longest stall.

    The repaint counted is the first one after the panel drew the new result into its items
    (``sig_rendered``), so an unrelated earlier repaint cannot make a tick look fast.
    """
    view = panel.view
    drawn_at: list[int] = []

    def on_rendered(_rid: int) -> None:
        drawn_at.append(view.paint_count)

    panel.sig_rendered.connect(on_rendered)
    t0 = time.perf_counter()
    setter(value)
    stall = time.perf_counter() - t0
    end = t0 + 5.0
    while time.perf_counter() < end and not (
            panel.is_idle() and drawn_at and view.paint_count > drawn_at[-1]):
        t = time.perf_counter()
        app.processEvents()
        stall = max(stall, time.perf_counter() - t)
    panel.sig_rendered.disconnect(on_rendered)
    return (view.last_paint_end - t0) * 1e3, stall * 1e3


def bench_panel(app: QApplication, spec_id: str, ticks: int) -> dict[str, Any]:
    """Drive one panel's main control through ``ticks`` values and report latencies."""
    spec = next(s for s in PANELS if s.id == spec_id)
    panel = spec.factory()
    try:
        make = BENCH_PARAMS.get(spec_id)
        if make is None:
            panel.load_sample()
        else:
            panel.set_params(make())
        panel.resize(1400, 900)
        panel.show()
        wait_until(panel.is_idle, 60.0)
        setter, values = panel.bench_steps()
        values = list(values)[:ticks]
        for v in values[:_WARMUP]:
            _tick(app, panel, setter, v)
        rows = [_tick(app, panel, setter, v) for v in values[_WARMUP:] + values[:_WARMUP]]
        latency = [r[0] for r in rows]
        return {
            "panel": spec_id,
            "ticks": len(rows),
            "latency_ms_p50": round(_quantile(latency, 0.5), 2),
            "latency_ms_p95": round(_quantile(latency, 0.95), 2),
            "latency_ms_max": round(max(latency), 2),
            "longest_ui_stall_ms": round(max(r[1] for r in rows), 2),
        }
    finally:
        panel.shutdown()
        panel.close()
        panel.deleteLater()


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


def run_bench(panels: list[str] | None = None, ticks: int = 200) -> dict[str, Any]:
    """Run the GUI latency bench for ``panels`` (default all) and the core timings."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    wanted = panels or [s.id for s in PANELS]
    unknown = sorted(set(wanted) - {s.id for s in PANELS})
    if unknown:
        from core.errors import InputError

        raise InputError(f"--panels: unknown panel(s) {', '.join(unknown)}; "
                         f"known: {', '.join(s.id for s in PANELS)}")
    return {
        "machine": {"python": platform.python_version(), "pyside6": PySide6.__version__,
                    "pyqtgraph": pg.__version__, "numpy": np.__version__,
                    "platform": app.platformName()},
        "panels": [bench_panel(app, p, ticks) for p in wanted],
        "core": bench_core(),
    }
