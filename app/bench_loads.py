"""The heavy scenarios ``ctxlab bench`` drives each panel and core through."""

from __future__ import annotations

import dataclasses
import itertools
import sysconfig
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core import (
    agent_memory,
    attention,
    bpe,
    callgraph,
    compaction,
    compression,
    context_router,
    kv_blocks,
    output_shaping,
    packer,
    prefix_cache,
    procedural_learning,
    radix,
    semantic_cache,
    temporal,
)
from core.output_shaping_io import parse_replies
from core.procedural_log import Trace
from widgets.loaders import read_python_tree, read_scenario
from widgets.resources import resource_path, samples


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



def compression_bench_params(sentences: int = 10_000) -> compression.Params:
    """The shipped compression sample's sentences drawn at random into a 10,000-sentence text."""
    _lever, raw = read_scenario(samples("compression")[0])
    pool = compression.split_sentences(raw["text"])
    rng = np.random.default_rng(0)
    text = " ".join(pool[i] for i in rng.integers(0, len(pool), sentences))
    return compression.Params(text=text, query=raw["query"], budget=4000, probe=raw["probe"])



def temporal_bench_params() -> temporal.Params:
    """100,000 facts over 1,000 keys (10 % recorded late), as of the middle of the span."""
    return temporal.Params(generate={"keys": 1000, "events": 100_000, "seed": 0, "backdated": 10},
                           as_of="2022-06-01")


CALLGRAPH_PACKAGES = ("email", "json", "http", "asyncio", "xml", "logging", "urllib", "multiprocessing")


def callgraph_bench_params() -> callgraph.Params:
    """Eight standard-library packages read as one code base (about 57,000 lines, no tests)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = {}
    for package in CALLGRAPH_PACKAGES:
        found, _skipped = read_python_tree(root / package)
        files.update({path: text for path, text in found.items() if "test" not in path.split("/")})
    return callgraph.Params(files=files, direction="both")


def attention_bench_params() -> attention.Params:
    """n = 1,024 (the live size), a 64-key window, maps at full resolution."""
    return attention.Params(n=1024, d=64, window=64, slope=0.02, seed=0, bins=1024)


def compaction_bench_params(turns: int = 2000) -> compaction.Params:
    """The shipped sample conversation repeated (numbered) to 2,000 turns."""
    _lever, raw = read_scenario(samples("compaction")[0])
    base = compaction.Params.from_dict(raw)
    out = [compaction.Turn(t.role, f"{t.text} (round {i // len(base.turns)})")
           for i, t in zip(range(turns), itertools.cycle(base.turns), strict=False)]
    return dataclasses.replace(base, turns=tuple(out), budget=20_000, soft_threshold=12_000, min_between=3000)


def procedural_learning_bench_params(sessions: int = 100_000, tags: int = 300, seed: int = 0
                                     ) -> procedural_learning.Params:
    """100,000 training and 20,000 held-out sessions, 300 Zipf-distributed tags, each phrased."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, tags + 1)
    names = [f"mistake_{i:03d}" for i in range(tags)]

    def log(n: int) -> tuple[Trace, ...]:
        picks = rng.choice(tags, size=n, p=weights / weights.sum())
        ok = rng.random(n) < 0.4
        return tuple(Trace("success") if s else Trace("failure", names[k])
                     for k, s in zip(picks, ok, strict=True))

    rules = {t: f"Check {t.replace('_', ' ')} before reporting the task done." for t in names}
    return procedural_learning.Params(train=log(sessions), held_out=log(sessions // 5), tag_to_rule=rules)


def context_router_bench_params(sources: int = 40, queries: int = 5000, seed: int = 0
                                ) -> context_router.Params:
    """40 sized sources, eight routes, 5,000 queries (the most a scenario may hold)."""
    rng = np.random.default_rng(seed)
    made = tuple(context_router.Source(f"src_{i:02d}", tokens=int(t))
                 for i, t in enumerate(rng.integers(50, 4000, sources)))
    labels = ["coding", "factual", "chitchat", *(f"team_{i}" for i in range(5))]
    names = [s.name for s in made]
    routes = {lb: tuple(rng.permutation(names)[:int(rng.integers(0, 12))].tolist()) for lb in labels}
    words = ["fix the bug", "what is the price", "thanks", "hello there", "deploy error", "when"]
    asked = tuple(context_router.Query(f"{words[i % len(words)]} #{i}",
                                       labels[3 + i % 5] if i % 7 == 0 else None) for i in range(queries))
    return context_router.Params(sources=made, routes=routes, queries=asked, budget=20_000)


def semantic_cache_bench_params(questions: int = 5000, seed: int = 0) -> semantic_cache.Params:
    """Return the shipped sample's questions drawn at random into 5,000 (intents kept).

    Each gets a greeting or a closing now and then: repeats, near-repeats and new wording.
    """
    _lever, raw = read_scenario(samples("semantic_cache")[0])
    base = semantic_cache.Params.from_dict(raw)
    rng = np.random.default_rng(seed)
    openers = ("", "hi, ", "quick question: ", "hello! ", "sorry, ")
    closers = ("", " thanks", " please", " today", " (new user)", " again")
    picks = rng.integers(0, len(base.workload), questions)
    made = tuple(f"{openers[rng.integers(len(openers))]}{base.workload[k]}"
                 f"{closers[rng.integers(len(closers))]}" for k in picks.tolist())
    intents = None if base.intents is None else tuple(base.intents[k] for k in picks.tolist())
    return dataclasses.replace(base, workload=made, intents=intents)


def agent_memory_bench_params(turns: int = 2000) -> agent_memory.Params:
    """Return the shipped sample conversation repeated (weeks numbered) to 2,000 turns."""
    _lever, raw = read_scenario(samples("agent_memory")[0])
    base = agent_memory.Params.from_dict(raw)
    made = tuple(agent_memory.Turn(t.role, f"{t.text} (week {i // len(base.turns) + 1})")
                 for i, t in zip(range(turns), itertools.cycle(base.turns), strict=False))
    return dataclasses.replace(base, turns=made)


def output_shaping_bench_params(replies: int = 2000) -> output_shaping.Params:
    """The shipped reply with the shipped real-reply log repeated to 2,000 replies."""
    _lever, raw = read_scenario(samples("output_shaping")[0])
    log = resource_path("samples", "output_shaping_replies.jsonl").read_text(encoding="utf-8")
    pool = parse_replies(log, "output_shaping_replies.jsonl")
    made = tuple(itertools.islice(itertools.cycle(pool), replies))
    return dataclasses.replace(output_shaping.Params.from_dict(raw), replies=made)


def prefix_cache_bench_params() -> prefix_cache.Params:
    """The shipped scenario at 20,000 calls: the dollar curves hold 20,000 points per drag."""
    _lever, raw = read_scenario(samples("prefix_cache")[0])
    return dataclasses.replace(prefix_cache.Params.from_dict(raw), calls=20_000)


BENCH_PARAMS: dict[str, Callable[[], object]] = {
    "output_shaping": output_shaping_bench_params,
    "prefix_cache": prefix_cache_bench_params,
    "semantic_cache": semantic_cache_bench_params,
    "agent_memory": agent_memory_bench_params,
    "procedural_learning": procedural_learning_bench_params,
    "context_router": context_router_bench_params,
    "compaction": compaction_bench_params,
    "attention": attention_bench_params,
    "callgraph": callgraph_bench_params,
    "compression": compression_bench_params,
    "packer": packer_bench_params,
    "bpe": bpe_bench_params,
    "kv_blocks": kv_bench_params,
    "radix": radix_bench_params,
    "temporal": temporal_bench_params,
}
"""Per panel: the heavy scenario the benchmark drives (default: the panel's sample)."""
