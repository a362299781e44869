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

from core import bpe, kv_blocks, packer
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


BENCH_PARAMS = {"packer": packer_bench_params, "bpe": bpe_bench_params, "kv_blocks": kv_bench_params}
"""Per panel: the heavy scenario the benchmark drives (default: the panel's sample)."""


def _tick(app: QApplication, panel: BasePanel, setter: Any, value: int) -> tuple[float, float]:
    view = panel.view
    painted = view.paint_count
    t0 = time.perf_counter()
    setter(value)
    stall = time.perf_counter() - t0
    end = t0 + 5.0
    while not (panel.is_idle() and view.paint_count > painted) and time.perf_counter() < end:
        t = time.perf_counter()
        app.processEvents()
        stall = max(stall, time.perf_counter() - t)
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
