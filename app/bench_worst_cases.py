"""The largest input each lever accepts, and inputs just over its limits (``ctxlab bench --worst``).

Every size here is derived from the limits the code declares (module constants, ``fields``
bounds, the scenario file limit), never typed in: when a limit changes, the worst case follows.
Where a lever declares no limit on a field, the binding limit is the scenario file that
``ctxlab compute`` reads (:data:`widgets.loaders.MAX_JSON_BYTES`); those cases fill the file.
:class:`Case`, :class:`Over` and the limits read from the code are :mod:`app.bench_worst_limits`.
"""

from __future__ import annotations

import itertools

from app.bench_worst_inputs import callgraph_files, json_len, radix_stream, words
from app.bench_worst_limits import (
    FILE_BUDGET,
    FILE_LIMIT,
    FILE_OVER,
    Case,
    Over,
    Params,
    base,
    config_limit,
    declared_max,
)
from core import (
    agent_memory,
    attention,
    bpe,
    callgraph,
    compaction,
    compression,
    context_router,
    kv_blocks,
    model_config,
    output_shaping,
    packer,
    prefix_cache,
    procedural_learning,
    procedural_log,
    radix,
    semantic_cache,
    temporal,
)
from core.callgraph_ast import MAX_FILE_CHARS
from core.fields import INT_MAX
from core.radix_tree import POLICIES
from core.semantic_cache_embed import MAX_TFIDF_CELLS

# ---- the levers ---------------------------------------------------------------------------------


def _packer(parts: int = packer.MAX_PARTS) -> Params:
    """The most parts, their text sharing out the scenario file (varied, so counts differ)."""
    one = {"name": "p0000000", "text": "", "pinned": False, "rank": 5}
    per = FILE_BUDGET // packer.MAX_PARTS - json_len(one) - 1
    text = words(per * 50, sentence=10)
    made = [{**one, "name": f"p{i:07d}", "text": text[(i * 131) % (len(text) - per):][:per],
             "pinned": i % 97 == 0, "rank": i % 9 + 1} for i in range(parts)]
    return {**base("packer"), "parts": made, "budget": parts * per // 10, "policy": "priority"}


def _packer_over() -> Params:
    one = {"name": "", "text": "a b"}
    return {**base("packer"), "parts": [{**one, "name": f"p{i}"} for i in range(packer.MAX_PARTS + 1)]}


def _economy() -> Params:
    big = {k: INT_MAX for k in ("input_tokens", "output_tokens", "calls", "cache_write_tokens",
                                "cache_read_tokens")}
    return {**base("economy"), **big}


_CJK = {c: chr(0x4E00 + c * 7 % 2000) for c in range(128)}
"""An ASCII character's CJK stand-in (``str.translate`` maps millions of them at C speed)."""


def _bpe_limits(corpus_over: int = 0, run_over: bool = False) -> Params:
    """The longest corpus of CJK runs of the longest length, learned as UTF-8 bytes (the most
    symbols per character in the longest words: the slowest found), every merge and curve."""
    run, n = bpe.MAX_RUN_CHARS, bpe.MAX_CORPUS_CHARS + corpus_over
    cjk = words(n, spaces=False).translate(_CJK)
    corpus = " ".join(cjk[i:i + run] for i in range(0, n, run))[:n]
    if run_over:  # the first space goes: two runs become one
        corpus = corpus[:run] + cjk[0] + corpus[run + 1:]
    return {**base("bpe"), "merges": bpe.MAX_MERGES, "curve_merges": bpe.MAX_MERGES, "alphabet": "bytes",
            "corpus": corpus, "sample": None}


def _compression(over: int = 0) -> Params:
    """The longest text as one-word sentences (the most sentences per character: the slowest)."""
    return {**base("compression"), "text": words(compression.MAX_TEXT_CHARS + over, sentence=1)}


def _callgraph(chars_over: int = 0) -> Params:
    """The most modules, their code filling the total-characters limit (one more with ``chars_over``)."""
    n = callgraph.MAX_FILES
    per = min(callgraph.MAX_TOTAL_CHARS // n - 100, MAX_FILE_CHARS)
    files = callgraph_files(n, per)
    rest = callgraph.MAX_TOTAL_CHARS - sum(map(len, files.values())) + chars_over
    for i, path in enumerate(files):  # the rest as a comment in every module (none past the per-file cap)
        files[path] += "#" * (rest // n + (i < rest % n))
    return {"files": files, "direction": "both", "target": "m0000:f0"}


def _kv(over: bool, count: int = kv_blocks.MAX_REQUESTS) -> Params:
    """All requests at once, block_size 1, the longest run: the mean length puts the work at
    (or just past) ``MAX_WORK``, found by bisection on the lever's own ``work``."""
    seq = kv_blocks.MAX_BLOCKS // 8

    def params(mean: int) -> Params:
        return {"generate": {"count": count, "seed": 0, "mean_length": mean}, "block_size": 1,
                "max_seq_len": seq, "capacity_blocks": kv_blocks.MAX_BLOCKS, "arrival_rate": float(count),
                "steps": kv_blocks.MAX_STEPS, "prompt_share": 0.0}

    def cost(mean: int) -> int:
        return kv_blocks.work(kv_blocks.Params(**{**params(mean), "generate": {
            "count": count, "seed": 0, "mean_length": mean}}))
    lo, hi = 1, seq
    while lo < hi:  # the largest mean whose work is within the limit
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if cost(mid) <= kv_blocks.MAX_WORK else (lo, mid - 1)
    mean = lo
    if over:
        while cost(mean) <= kv_blocks.MAX_WORK:
            mean += 1
    return params(mean)


RADIX_SWEEP = radix.SWEEP_WORK // (len(POLICIES) * radix.MAX_BLOCKS)
"""Capacities a given sweep may have at the largest stream (the sweep's work limit)."""


def _radix(extra_blocks: int = 0, sweep: int = RADIX_SWEEP, blocks: int = radix.MAX_BLOCKS) -> Params:
    stream = radix_stream(blocks)
    stream[-1] += [f"extra{i}" for i in range(extra_blocks)]
    unique = len({b for r in stream for b in r})
    caps = sorted({max(1, unique * (i + 1) // sweep) for i in range(sweep)})
    caps += [unique + i + 1 for i in range(sweep - len(caps))]
    return {"requests": stream, "capacity_blocks": max(1, unique // 10), "eviction": "lru",
            "capacity_sweep": caps}


def _temporal(events: int | None = None) -> Params:
    p = {k: v for k, v in base("temporal").items() if k != "events"}
    keys = declared_max("temporal", p, "keys", "generate")
    backdated = declared_max("temporal", {**p, "generate": {"keys": 1, "events": 1}}, "backdated", "generate")
    gen = {"keys": keys, "events": temporal.MAX_EVENTS if events is None else events, "seed": 0,
           "backdated": backdated}
    return {**p, "generate": gen, "as_of": "2022-06-01", "known_at": "2022-01-01", "focus": None}


def _temporal_queries(queries: int = temporal.MAX_QUERIES) -> Params:
    """That graph and the most queries, each of a key the graph has at its own known-at instant
    (every known-at replays the graph: the slowest found)."""
    p = _temporal()
    first, span = temporal.to_seconds("2020-01-01", "start"), 6 * 365 * 86_400
    qs = [{"subject": f"account-{i * 37 % p['generate']['keys']:05d}", "predicate": "status",
           "at": temporal.to_iso(first + span * i // queries),
           "known_at": temporal.to_iso(first + span * (queries - i) // queries)} for i in range(queries)]
    return {**p, "queries": qs}


def _compaction(turns: int = compaction.MAX_TURNS, chars: int = 0, extra_fact: int = 0) -> Params:
    p = base("compaction")
    src = p["turns"]
    text = words(chars, sentence=10) if chars else ""
    made = [{"role": src[i % len(src)]["role"], "text": text or src[i % len(src)]["text"]}
            for i in range(turns)]
    facts = min(compaction.MAX_MEMORY_SLOTS // turns, 10_000) + extra_fact
    return {**p, "turns": made, "max_facts": facts, "budget": 100_000}


def _compaction_text(chars_over: int = 0, turns: int = compaction.MAX_TURNS, extra_fact: int = 0) -> Params:
    """The most turns, their text filling the total-characters limit, the most facts they may keep."""
    p = _compaction(turns, compaction.MAX_TOTAL_CHARS // turns, extra_fact)
    last = p["turns"][-1]
    last["text"] += "x" * (compaction.MAX_TOTAL_CHARS - sum(len(t["text"]) for t in p["turns"]) + chars_over)
    return p


def _attention(n: int = attention.MAX_N, ops: list[int] | None = None) -> Params:
    p = base("attention")
    d = declared_max("attention", p, "d")
    bins = declared_max("attention", p, "bins")
    context = declared_max("attention", p, "context")
    mla = {"n": 10**9, "d": 256, "r": 512, "bytes_per_elem": 8}
    mla = {k: declared_max("attention", {**p, "mla": mla}, k, "mla") for k in mla}
    mla["r"] = min(mla["r"], 2 * mla["d"])
    out = {**p, "n": n, "d": d, "bins": bins, "context": context, "mla": mla, "variant": "topk",
           "k": n // 2, "window": n // 2, "row": None}
    if ops is not None:
        out["ops_ns"] = ops
    return out


def _attention_ops(over: int = 0) -> Params:
    return _attention(ops=[INT_MAX - i for i in range(attention.MAX_OPS_NS + over)])


def _model_profile(keys: int = 0) -> Params:
    layers = model_config.MAX_LAYERS
    config: Params = {"model_type": "llama", "num_hidden_layers": layers, "num_attention_heads": 64,
                      "num_key_value_heads": 8, "hidden_size": 8192, "torch_dtype": "bfloat16",
                      "max_position_embeddings": model_config.MAX_POSITIONS, "sliding_window": 4096,
                      "layer_types": ["sliding_attention", "full_attention"] * (layers // 2)}
    config |= {f"unused_{i}": i for i in range(config_limit() - len(config) + keys)}
    gpus = declared_max("model_profile", {"name": "Llama 3.1 8B"}, "gpus")
    return {"config": config, "context_tokens": model_config.MAX_POSITIONS, "gpu_gib": 80.0,
            "gpus": gpus, "block_size": 1}


def _output_shaping(text_over: int = 0, replies_over: int = 0, sweep_over: int = 0) -> Params:
    n = output_shaping.MAX_REPLIES + replies_over
    per = min(output_shaping.MAX_TEXT_CHARS, (FILE_BUDGET - 2 * output_shaping.MAX_TEXT_CHARS) // n - 40)
    reply = words(per, sentence=8).replace(". ", ".\n")
    return {**base("output_shaping"),
            "verbose_text": words(output_shaping.MAX_TEXT_CHARS + text_over, sentence=8).replace(". ", ".\n"),
            "replies": [{"reply": reply, "answer": "yes"}] * n,
            "cap_sweep": [i * output_shaping.MAX_CAP // output_shaping.MAX_SWEEP
                          for i in range(output_shaping.MAX_SWEEP + sweep_over)]}


def _prefix_cache(prompt_over: int = 0, replay_over: int = 0) -> Params:
    n = prefix_cache.MAX_REPLAY_N + replay_over
    dim = 1
    while n * n * (dim + 1) ** 2 <= prefix_cache.MAX_REPLAY_WORK and n * (dim + 1) <= prefix_cache.MAX_DRAWS:
        dim += 1
    skipped = (prefix_cache.MAX_DRAWS // dim - n) // 63
    chars = prefix_cache.MAX_PROMPT_BYTES // 4
    prompt = words(chars + prompt_over)
    return {**base("prefix_cache"), "gen_lengths": [n] + [skipped] * 63, "dim": dim, "verify_exact": True,
            "verify_max_n": n, "calls_sweep": list(range(1, prefix_cache.MAX_SWEEP + 1)),
            "prompt_a": prompt,
            "prompt_b": prompt[:chars // 2] + words(chars - chars // 2 + prompt_over)[::-1]}


def _semantic(over: int = 0, words_over: int = 0) -> Params:
    """The most questions of the longest length; their vocabulary is as large as TF-IDF takes."""
    n, chars = semantic_cache.MAX_QUESTIONS + over, semantic_cache.MAX_CHARS
    vocab = list(dict.fromkeys(words(10**6).split()))[:MAX_TFIDF_CELLS // n + words_over]
    per = chars // (sum(map(len, vocab)) // len(vocab) + 1)
    # question i: the ``per`` words from vocab[i * per] on (wrapping), cut from one joined ring
    ring = vocab * (per // len(vocab) + 2)
    text, at = " ".join(ring), [0, *itertools.accumulate(len(w) + 1 for w in ring)]
    qs = [text[at[j]:min(at[j + per] - 1, at[j] + chars - 1)].rsplit(" ", 1)[0] + "?"
          for j in (i * per % len(vocab) for i in range(n))]
    return {**base("semantic_cache"), "workload": qs, "intents": [f"i{i % 500}" for i in range(n)],
            "embedder": "tfidf", "dim": semantic_cache.MAX_DIM,
            "sweep_thresholds": [i / (semantic_cache.MAX_THRESHOLDS - 1)
                                 for i in range(semantic_cache.MAX_THRESHOLDS)]}


def _agent_memory(turns: int = agent_memory.MAX_TURNS, chars_over: int = 0) -> Params:
    per = agent_memory.MAX_TOTAL_CHARS // turns
    text = words(per * 40, sentence=9)
    made = [text[(i * 53) % (len(text) - per):][:per] for i in range(turns)]
    made[-1] = made[-1][:per - 1] + "x" * (1 + chars_over)
    p = base("agent_memory")
    return {**p, "turns": made, "k": declared_max("agent_memory", p, "k"),
            "dim": declared_max("agent_memory", p, "dim"),
            "updates": [words(agent_memory.MAX_CHARS)] * 1000, "until": None}


def _procedural(traces: int = procedural_log.MAX_TRACES,
                rules: int = procedural_learning.MAX_RULES) -> Params:
    p = base("procedural_learning")
    rule = words(100)

    def log(seed: int) -> list[Params]:
        return [{"outcome": "failure" if (i + seed) % 3 else "success", "tag": f"t{(i * 7 + seed) % rules}",
                 "date": "2026-03-02"} for i in range(traces)]
    return {**p, "train": log(0), "held_out": log(1), "tag_to_rule": {f"t{i}": rule for i in range(rules)},
            "threshold": 1}


def _router(sources: int = context_router.MAX_SOURCES, queries: int = context_router.MAX_QUERIES,
            chars_over: int = 0) -> Params:
    per = context_router.MAX_SOURCE_CHARS // sources
    unit = words(1000, sentence=10)
    srcs: list[Params] = [{"name": f"s{i}", "text": unit, "repeat": per // len(unit)} for i in range(sources)]
    srcs[-1]["repeat"] += (context_router.MAX_SOURCE_CHARS - sum(s["repeat"] * len(unit) for s in srcs)
                           ) // len(unit) + (1 if chars_over else 0)
    names = [s["name"] for s in srcs[:context_router.MAX_SOURCES]]
    vocab = words(context_router.MAX_WORDS * 12).split()
    lists = {f"{lab}_words": [f"{w}{lab}" for w in vocab[:context_router.MAX_WORDS]]
             for lab in context_router.LABELS}
    return {"sources": srcs, "routes": {lab: names[j::3] for j, lab in enumerate(context_router.LABELS)},
            **lists, "default_label": context_router.LABELS[1], "budget": context_router.MAX_TOKENS,
            "queries": [" ".join(vocab[i % 500: i % 500 + 20]) for i in range(queries)],
            "budget_sweep": [i * (context_router.MAX_TOKENS // context_router.MAX_SWEEP)
                             for i in range(context_router.MAX_SWEEP)]}


def cases() -> tuple[Case, ...]:
    """Every lever's worst accepted inputs, in the order of :data:`core.REGISTRY`."""
    f = f"{FILE_LIMIT} scenario file"
    kv_work, slots = f"{kv_blocks.MAX_WORK:,}", compaction.MAX_MEMORY_SLOTS
    return (
        Case("packer", "limits", f"{packer.MAX_PARTS:,} parts filling the {f}, priority policy", _packer,
             (Over("parts one over", f"{packer.MAX_PARTS:,}", _packer_over), FILE_OVER)),
        Case("economy", "limits", f"every token and call count at {INT_MAX:,}", _economy,
             (Over("calls one over", INT_MAX, lambda: {**_economy(), "calls": INT_MAX + 1}),)),
        Case("bpe", "limits", f"{bpe.MAX_CORPUS_CHARS:,} chars of CJK in {bpe.MAX_RUN_CHARS:,}-char runs "
             f"as bytes, {bpe.MAX_MERGES:,} merges and curve", _bpe_limits,
             (Over("merges one over", bpe.MAX_MERGES,
                   lambda: {**_bpe_limits(), "merges": bpe.MAX_MERGES + 1}),
              Over("corpus one char over", f"{bpe.MAX_CORPUS_CHARS:,}", lambda: _bpe_limits(1)),
              Over("run without whitespace over", f"{bpe.MAX_RUN_CHARS:,}",
                   lambda: _bpe_limits(run_over=True)))),
        Case("compression", "limits", f"{compression.MAX_TEXT_CHARS:,} chars of one-word sentences",
             _compression, (Over("text one over", f"{compression.MAX_TEXT_CHARS:,}",
                                 lambda: _compression(1)),)),
        Case("callgraph", "limits", f"{callgraph.MAX_FILES:,} modules of chained calls, "
             f"{callgraph.MAX_TOTAL_CHARS:,} chars in all", _callgraph,
             (Over("files one over", callgraph.MAX_FILES,
                   lambda: {"files": callgraph_files(callgraph.MAX_FILES + 1, 40)}),
              Over("chars one over", f"{callgraph.MAX_TOTAL_CHARS:,}", lambda: _callgraph(1)))),
        Case("kv_blocks", "limits", f"{kv_blocks.MAX_REQUESTS:,} requests at once, block 1, "
             f"{kv_blocks.MAX_STEPS:,} steps, {kv_blocks.MAX_BLOCKS:,}-block pool, work just under {kv_work}",
             lambda: _kv(False), (Over("work just over", kv_work, lambda: _kv(True)),
                                  Over("requests one over", f"{kv_blocks.MAX_REQUESTS:,}",
                                       lambda: _kv(False, kv_blocks.MAX_REQUESTS + 1)))),
        Case("radix", "limits", f"{radix.MAX_BLOCKS:,} blocks (bench-like stream), capacity a tenth "
             f"of the unique blocks, {RADIX_SWEEP} swept capacities", _radix,
             (Over("one block over", f"{radix.MAX_BLOCKS:,}", lambda: _radix(1)),
              Over("sweep work over", f"{radix.SWEEP_WORK:,}", lambda: _radix(0, RADIX_SWEEP + 1)),
              Over("sweep one over", radix.MAX_SWEEP, lambda: _radix(0, radix.MAX_SWEEP + 1, 1000)))),
        Case("temporal", "limits", f"generated graph of {temporal.MAX_EVENTS:,} events over the most keys, "
             "most backdated, as-of and known-at set", _temporal,
             (Over("events one over", temporal.MAX_EVENTS, lambda: _temporal(temporal.MAX_EVENTS + 1)),)),
        Case("temporal", "queries", f"that graph and {temporal.MAX_QUERIES:,} queries of its keys, "
             "each at its own known-at", _temporal_queries,
             (Over("queries one over", f"{temporal.MAX_QUERIES:,}",
                   lambda: _temporal_queries(temporal.MAX_QUERIES + 1)),)),
        Case("compaction", "limits", f"{compaction.MAX_TURNS:,} turns of {compaction.MAX_TOTAL_CHARS:,} "
             f"chars in all x {slots // compaction.MAX_TURNS} facts ({slots:,} slots)", _compaction_text,
             (Over("slots one fact over", f"{slots:,}", lambda: _compaction_text(extra_fact=1)),
              Over("turns one over", f"{compaction.MAX_TURNS:,}",
                   lambda: _compaction(compaction.MAX_TURNS + 1)),
              Over("chars one over", f"{compaction.MAX_TOTAL_CHARS:,}", lambda: _compaction_text(1)))),
        Case("attention", "limits", f"n {attention.MAX_N:,}, top-k n/2, largest d, bins, MLA and context, "
             f"{attention.MAX_OPS_NS:,} ops lengths near {INT_MAX:,}", _attention_ops,
             (Over("n one over", attention.MAX_N, lambda: _attention(attention.MAX_N + 1)),
              Over("ops lengths one over", f"{attention.MAX_OPS_NS:,}", lambda: _attention_ops(1)))),
        Case("model_profile", "limits", f"a config at the key limit, {model_config.MAX_LAYERS:,} layers, "
             f"{model_config.MAX_POSITIONS:,} tokens, most GPUs, block 1", _model_profile,
             (Over("config one key over", f"{config_limit():,}", lambda: _model_profile(1)),)),
        Case("output_shaping", "limits", f"{output_shaping.MAX_TEXT_CHARS:,}-char reply, "
             f"{output_shaping.MAX_REPLIES:,} replies filling the file, {output_shaping.MAX_SWEEP:,} caps",
             _output_shaping, (
                 Over("text one over", f"{output_shaping.MAX_TEXT_CHARS:,}",
                      lambda: _output_shaping(text_over=1)),
                 Over("replies one over", f"{output_shaping.MAX_REPLIES:,}",
                      lambda: _output_shaping(replies_over=1)),
                 Over("caps one over", f"{output_shaping.MAX_SWEEP:,}",
                      lambda: _output_shaping(sweep_over=1)))),
        Case("prefix_cache", "limits", f"two {prefix_cache.MAX_PROMPT_BYTES // 4:,}-char prompts, replay at "
             f"n {prefix_cache.MAX_REPLAY_N:,}, {prefix_cache.MAX_SWEEP:,} swept calls", _prefix_cache,
             (Over("prompt one over", f"{prefix_cache.MAX_PROMPT_BYTES // 4:,}", lambda: _prefix_cache(1)),
              Over("replay n one over", f"{prefix_cache.MAX_REPLAY_N:,}", lambda: _prefix_cache(0, 1)))),
        Case("semantic_cache", "limits", f"{semantic_cache.MAX_QUESTIONS:,} questions of "
             f"{semantic_cache.MAX_CHARS:,} chars, tfidf over the most distinct words, "
             f"{semantic_cache.MAX_THRESHOLDS:,} thresholds",
             _semantic, (Over("questions one over", semantic_cache.MAX_QUESTIONS, lambda: _semantic(1)),
                         Over("TF-IDF vocabulary one word over", f"{MAX_TFIDF_CELLS:,}",
                              lambda: _semantic(words_over=1)))),
        Case("agent_memory", "limits", f"{agent_memory.MAX_TURNS:,} turns, {agent_memory.MAX_TOTAL_CHARS:,} "
             "chars, largest k and dim, 1,000 max-length updates", _agent_memory,
             (Over("chars one over", f"{agent_memory.MAX_TOTAL_CHARS:,}",
                   lambda: _agent_memory(chars_over=1)),
              Over("turns one over", f"{agent_memory.MAX_TURNS:,}",
                   lambda: _agent_memory(agent_memory.MAX_TURNS + 1)))),
        Case("procedural_learning", "limits", f"{procedural_log.MAX_TRACES:,} + "
             f"{procedural_log.MAX_TRACES:,} sessions over {procedural_learning.MAX_RULES:,} tags, "
             "a rule each, threshold 1", _procedural,
             (Over("sessions one over", f"{procedural_log.MAX_TRACES:,}",
                   lambda: _procedural(procedural_log.MAX_TRACES + 1)),
              Over("rules one over", f"{procedural_learning.MAX_RULES:,}",
                   lambda: _procedural(10, procedural_learning.MAX_RULES + 1)))),
        Case("context_router", "limits", f"{context_router.MAX_SOURCES} sources holding "
             f"{context_router.MAX_SOURCE_CHARS:,} chars, {context_router.MAX_QUERIES:,} queries, "
             "full word lists, "
             f"{context_router.MAX_SWEEP:,} budgets", _router,
             (Over("sources one over", context_router.MAX_SOURCES,
                   lambda: _router(context_router.MAX_SOURCES + 1)),
              Over("chars one over", f"{context_router.MAX_SOURCE_CHARS:,}", lambda: _router(chars_over=1)),
              Over("queries one over", f"{context_router.MAX_QUERIES:,}",
                   lambda: _router(queries=context_router.MAX_QUERIES + 1)))),
    )
