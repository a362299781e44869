"""``ctxlab bench --peers``: our cores next to the tools a user would pick instead, run back to back.

Each comparison alternates ours and the peer (ABAB) ``repeats`` times on the same deterministic
input and reports medians and their ratio. Peers come from the optional ``bench`` extra; one
that is not installed is reported as skipped, never faked.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import statistics
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.bench_loads import bench_corpus
from core import bpe_model, callgraph
from core.attention_maps import Maps, Variant, compare
from widgets.loaders import read_python_tree


def _abab(ours: Callable[[], Any], peer: Callable[[], Any], repeats: int) -> tuple[float, float]:
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeats):
        for fn, out in ((ours, a), (peer, b)):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return statistics.median(a), statistics.median(b)


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def textbook_bpe(words: list[str], merges: int) -> list[tuple[str, str]]:
    """The textbook trainer: recount every adjacent pair of every word before each merge."""
    vocab = {tuple(w): n for w, n in Counter(words).items()}
    learned = []
    for _ in range(merges):
        pairs: Counter[tuple[str, str]] = Counter()
        for word, n in vocab.items():
            for pair in itertools.pairwise(word):
                pairs[pair] += n
        if not pairs:
            break
        best = max(pairs, key=pairs.__getitem__)  # ties: the first counted
        learned.append(best)
        joined = best[0] + best[1]
        merged: dict[tuple[str, ...], int] = {}
        for word, n in vocab.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(joined)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + n
        vocab = merged
    return learned


def bpe_training(corpus: str, repeats: int) -> dict[str, Any]:
    """1,000 merges on the 1 MB corpus: ours vs Hugging Face tokenizers; 100 vs the textbook."""
    words = corpus.split()
    out: dict[str, Any] = {}
    ours = lambda: bpe_model.Trainer(words).train(1000)  # noqa: E731
    if _have("tokenizers"):
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers

        alphabet = sorted(set("".join(set(words))))

        def peer() -> None:
            tok = Tokenizer(models.BPE())
            tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
            trainer = trainers.BpeTrainer(vocab_size=len(alphabet) + 1000, min_frequency=0,
                                          show_progress=False, initial_alphabet=alphabet)
            tok.train_from_iterator([corpus], trainer)

        a, b = _abab(ours, peer, repeats)
        out |= {"bpe_train_ours_s": round(a, 3), "bpe_train_hf_tokenizers_s": round(b, 3),
                "bpe_train_ours_over_hf_tokenizers": round(a / b, 1)}
    else:
        out["bpe_train_hf_tokenizers"] = "skipped: tokenizers not installed"
    # the textbook needs ~45 ms per merge here (~45 s a run): fewer repeats, same 1,000 merges
    textbook_repeats = max(1, (repeats + 1) // 2)
    a, b = _abab(ours, lambda: textbook_bpe(words, 1000), textbook_repeats)
    out |= {"bpe_train_textbook_s": round(b, 2), "bpe_train_textbook_repeats": textbook_repeats,
            "bpe_textbook_over_ours": round(b / a, 1)}
    return out


def bpe_encoding(corpus: str, repeats: int) -> dict[str, Any]:
    """Byte-level encoding with our merges: ours vs tiktoken built offline from the same ranks."""
    if not _have("tiktoken"):
        return {"bpe_encode_tiktoken": "skipped: tiktoken not installed"}
    import tiktoken

    pattern = bpe_model.DEFAULT_PATTERN
    spans = bpe_model.word_spans(corpus, "regex", pattern)
    words = [bpe_model.symbols(corpus[a:b], "bytes") for a, b in spans]
    trainer = bpe_model.Trainer(words)
    trainer.train(1000)
    ranks = {bytes([i]): i for i in range(256)}
    for left, right in trainer.merges:
        ranks.setdefault((left + right).encode("latin-1"), len(ranks))
    enc = tiktoken.Encoding("ctxlab-bytes", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
    text = corpus[:200_000]
    sample = [bpe_model.symbols(text[a:b], "bytes") for a, b in bpe_model.word_spans(text, "regex", pattern)]

    def ours() -> list[int]:
        encoder = bpe_model.Encoder(trainer.merges)
        return [ranks[p.encode("latin-1")] for w in sample for p in encoder.encode(w)]

    mine, theirs = ours(), enc.encode_ordinary(text)
    mismatched = sum(x != y for x, y in zip(mine, theirs, strict=False)) + abs(len(mine) - len(theirs))
    a, b = _abab(ours, lambda: enc.encode_ordinary(text), repeats)
    return {"bpe_encode_chars": len(text), "bpe_encode_tokens": len(mine),
            "bpe_encode_mismatches": mismatched,
            "bpe_encode_ours_s": round(a, 4), "bpe_encode_tiktoken_s": round(b, 4),
            "bpe_encode_ours_over_tiktoken": round(a / b, 1)}


def attention(repeats: int) -> dict[str, Any]:
    """Full attention at n = 1,024 / 2,048 / 4,096, d = 64: ours vs plain matmuls vs torch SDPA."""
    out: dict[str, Any] = {}
    torch = importlib.import_module("torch") if _have("torch") else None
    for n in (1024, 2048, 4096):
        x = np.random.default_rng(0).normal(0, 1, (n, 64))
        def ours(n: int = n) -> object:
            return compare(Maps.build(n, 64, 0.0, 0), Variant("window", n))

        def matmul(x: np.ndarray = x) -> object:
            return (x @ x.T) @ x

        a, b = _abab(ours, matmul, repeats)
        out |= {f"attention_{n}_ours_ms": round(a * 1e3, 1),
                f"attention_{n}_plain_matmul_ms": round(b * 1e3, 1),
                f"attention_{n}_ours_over_matmul": round(a / b, 2)}
        if torch is not None:
            q = torch.from_numpy(x).float()[None, None]
            sdpa = lambda q=q: torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)  # noqa: E731
            a, c = _abab(ours, sdpa, repeats)
            out |= {f"attention_{n}_torch_ms": round(c * 1e3, 1),
                    f"attention_{n}_ours_over_torch": round(a / c, 2)}
    if torch is None:
        out["attention_torch"] = "skipped: torch not installed"
    return out


def call_graph(repeats: int) -> dict[str, Any]:
    """The email + json + http packages (about 17,000 lines): ours vs code2flow, time and edge overlap."""
    if not _have("code2flow"):
        return {"callgraph_code2flow": "skipped: code2flow not installed"}
    import logging

    from code2flow import engine

    root = Path(sysconfig.get_paths()["stdlib"])
    files: dict[str, str] = {}
    for package in ("email", "json", "http"):
        files.update(read_python_tree(root / package)[0])
    params = callgraph.Params(files=files)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(root / p) for p in files]
        target = str(Path(tmp) / "graph.json")
        peer = lambda: engine.code2flow(paths, target, language="py", skip_parse_errors=True,  # noqa: E731
                                        level=logging.ERROR)
        a, b = _abab(lambda: callgraph.analyse(params), peer, max(1, repeats // 2))
        theirs = _code2flow_edges(json.loads(Path(target).read_text()))
    graph = callgraph.analyse(params)
    stems = {f.name: f"{Path(f.path).stem}::{f.name.split(':', 1)[1]}" for f in graph.functions}
    ours_edges = {(stems[graph.names[x]], stems[graph.names[y]]) for x, y in graph.edges.tolist()}
    shared, missing = ours_edges & theirs, theirs - ours_edges
    # what we do not find: method calls on values (``x.append()``), which code2flow links to the
    # one method of that name in the code base, and code at module level (not a function here)
    to_methods = sum(1 for src, dst in missing if "(global)" not in src and "." in dst.split("::")[1])
    return {"callgraph_lines": sum(t.count("\n") for t in files.values()), "callgraph_ours_s": round(a, 3),
            "callgraph_code2flow_s": round(b, 3), "callgraph_code2flow_over_ours": round(b / a, 1),
            "callgraph_edges_ours": len(ours_edges), "callgraph_edges_code2flow": len(theirs),
            "callgraph_code2flow_edges_we_find": round(len(shared) / max(len(theirs), 1), 3),
            "callgraph_missing_method_calls_on_values": to_methods,
            "callgraph_missing_from_module_level": sum(1 for src, _ in missing if "(global)" in src),
            "callgraph_edges_only_ours": len(ours_edges - theirs)}


def _code2flow_edges(data: dict[str, Any]) -> set[tuple[str, str]]:
    """Return code2flow's edges as (caller, callee) ``file-stem::qualname`` pairs, its own naming.

    Ours are mapped to the same form for the overlap; the stem drops the package, so two
    ``__init__`` files can collide (rare in this corpus, and it can only raise the overlap).
    """
    nodes = data["graph"]["nodes"]
    return {(nodes[e["source"]]["name"], nodes[e["target"]]["name"]) for e in data["graph"]["edges"]}


def bench_peers(repeats: int = 5) -> dict[str, Any]:
    """Every peer comparison, with the inputs each used."""
    corpus = bench_corpus(1_000_000)
    return {"repeats": repeats, **bpe_training(corpus, repeats), **bpe_encoding(corpus, repeats),
            **attention(repeats), **call_graph(repeats)}
