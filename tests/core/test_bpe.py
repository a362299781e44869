"""BPE: the fast trainer and encoder agree with a plain reading of the rules."""

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import bpe, compute
from core.bpe_model import Encoder, Trainer
from core.errors import InputError


def reference_train(words: list[str], n: int) -> list[tuple[str, str]]:
    """Recount every pair of the whole corpus each round; first seen wins a tie."""
    corpus = [list(w) for w in words]
    merges = []
    for _ in range(n):
        counts: dict[tuple[str, str], int] = {}
        first: dict[tuple[str, str], int] = {}
        position = 0
        for seq in corpus:
            for a, b in itertools.pairwise(seq):
                counts[(a, b)] = counts.get((a, b), 0) + 1
                first.setdefault((a, b), position)
                position += 1
        if not counts:
            break
        top = max(counts.values())
        best = min((p for p, c in counts.items() if c == top), key=first.__getitem__)
        merges.append(best)
        for k, seq in enumerate(corpus):
            out, i = [], 0
            while i < len(seq):
                if seq[i:i + 2] == list(best):
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(seq[i])
                    i += 1
            corpus[k] = out
    return merges


def reference_encode(word: str, merges: list[tuple[str, str]]) -> list[str]:
    """Apply the lowest-rank merge present, leftmost first, until none applies."""
    ranks = {p: r for r, p in enumerate(merges)}
    pieces = list(word)
    while True:
        found = [(ranks[(a, b)], i) for i, (a, b) in enumerate(itertools.pairwise(pieces))
                 if (a, b) in ranks]
        if not found:
            return pieces
        _, i = min(found)
        pieces[i:i + 2] = [pieces[i] + pieces[i + 1]]


# Small alphabets force ties and runs of repeated characters ("aaaa" overlaps).
corpora = st.lists(st.text(alphabet="aab c", min_size=1, max_size=9).map(str.strip).filter(bool),
                   min_size=1, max_size=25).map(lambda ws: " ".join(ws).split())


@settings(max_examples=300, deadline=None)
@given(words=corpora, n=st.integers(0, 30))
def test_fast_training_matches_the_reference(words, n):
    trainer = Trainer(words)
    trainer.train(n)
    assert trainer.merges == reference_train(words, n)


@settings(max_examples=200, deadline=None)
@given(words=corpora, n=st.integers(0, 30), probe=st.text(alphabet="abcd", min_size=1, max_size=12))
def test_encoding_at_every_merge_count_matches_the_reference(words, n, probe):
    trainer = Trainer(words)
    trainer.train(n)
    enc = Encoder(trainer.merges)
    for k in range(len(trainer.merges) + 1):
        prefix = trainer.merges[:k]
        if len(set(prefix)) == len(prefix):  # a pair learned twice ranks by its last time
            assert enc.encode(probe, k) == reference_encode(probe, prefix)


def test_training_can_resume_where_it_stopped():
    words = ["low", "lower", "lowest", "newer", "newest", "wider", "widest"] * 3
    once = Trainer(words)
    once.train(12)
    twice = Trainer(words)
    twice.train(5)
    twice.train(12)
    assert twice.merges == once.merges and twice.frequencies == once.frequencies


def test_curve_counts_the_sample_at_every_merge_count():
    corpus = "lantern lanterns latent latency patent patents " * 20
    sample = "lantern patents latency unseen"
    res = bpe.compute(bpe.Params(corpus=corpus, merges=8, sample=sample, curve_merges=15))
    enc = Encoder([tuple(m) for m in bpe.compute(bpe.Params(corpus=corpus, merges=15)).merges])
    expected = [sum(len(enc.encode(w, k)) for w in sample.split()) for k in range(16)]
    assert res.sample_curve.tolist() == expected
    assert res.sample_tokens == expected[8]
    assert res.estimate_words == round(4 * 1.3) and res.estimate_chars == round(len(sample) / 4)


def test_bytes_alphabet_splits_multibyte_characters_until_merged():
    corpus = "café café crème brûlée " * 10
    res = bpe.compute(bpe.Params(corpus=corpus, merges=0, words=("é",), alphabet="bytes"))
    assert res.encoded["é"] == ["\\xc3", "\\xa9"]  # two bytes, shown escaped
    merged = bpe.compute(bpe.Params(corpus=corpus, merges=40, words=("café",), alphabet="bytes"))
    assert merged.encoded["café"] == ["café"] and merged.alphabet_size == 256


def test_regex_pretokenizer_keeps_punctuation_apart():
    res = compute("bpe", {"corpus": "retry(); retry(); retry();", "merges": 20, "words": ["retry"],
                          "pretokenizer": "regex"})
    assert res["encoded"]["retry"] == ["retry"]
    assert all("(" not in a + b or a + b in ("();", "()", ");") for a, b in res["merges"])


def test_chips_carry_ids_ranks_and_layout():
    corpus = "graph graphs graphed\ngraph"
    params = bpe.Params(corpus=corpus, merges=4)
    cache = bpe.Cache()
    bpe.compute(params, cache=cache)
    chips, words = bpe.chips(params, cache, limit=100)
    assert words == 4 and chips[0].text == "graph" and chips[0].rank == 3
    assert chips[0].token_id == len(cache.alphabet) + 3
    assert [c.newline for c in chips].count(True) == 1
    short, _ = bpe.chips(params, cache, limit=2)
    assert len(short) == 2


def _chips_one_by_one(params, cache, limit):
    """The chips as first written: ids from the merges in effect, each word re-encoded."""
    from core.bpe_model import readable, symbols

    enc = cache.encoder()
    learned = min(params.merges, len(cache.trainer.merges))
    ids = {c: (i, None) for c, i in cache.alphabet.items()}
    for r, (a, b) in enumerate(cache.trainer.merges[:learned]):
        ids.setdefault(a + b, (len(cache.alphabet) + r, r))
    text = params.corpus if params.sample is None else params.sample
    spans = cache.spans(text, params)
    out, prev = [], 0
    for s, e in spans:
        gap, prev, word = text[prev:s], e, text[s:e]
        for j, p in enumerate(enc.encode(symbols(word, params.alphabet), learned)):
            out.append(bpe.Chip(readable(p, params.alphabet), *ids.get(p, (None, None)),
                                newline=j == 0 and "\n" in gap, space=j == 0 and bool(gap)))
        if len(out) >= limit:
            break
    return out[:limit], len(spans)


@pytest.mark.parametrize("alphabet", ["chars", "bytes"])
def test_memoized_chips_match_re_encoding_at_every_merge_count(alphabet):
    """Chips kept per (word, steps) across merge counts are the ones re-encoding gives."""
    corpus = "lower lowest newer newest\nwidest wider, low low ünïcode lowér\n" * 3
    params = bpe.Params(corpus=corpus, sample="the newest lowér widget\nzebra ✓ lowest, lower",
                        merges=0, curve_merges=60, alphabet=alphabet)
    cache = bpe.Cache()
    bpe.compute(params, cache=cache)
    for k in [*range(0, 61, 3), 60, 17, 0, 44]:  # up, down and back: the memo is reused
        at = dataclasses.replace(params, merges=k)
        assert bpe.chips(at, cache, 25) == _chips_one_by_one(at, cache, 25), k


def test_one_character_corpus_runs_out_of_pairs():
    res = compute("bpe", {"corpus": "a a a", "merges": 50})
    assert res["learned"] == 0 and res["exhausted"] and res["sample"]["tokens"] == 3


@pytest.mark.parametrize("params, message", [
    ({"corpus": "   \n "}, "params.corpus: no words"),
    ({"corpus": "x", "merges": -1}, "params.merges: must be >= 0"),
    ({"corpus": "x", "alphabet": "runes"}, "params.alphabet: must be one of"),
    ({"corpus": "x", "pretokenizer": "regex", "pattern": "("}, "params.pattern: not a valid"),
    ({"corpus": "x", "words": ["two words"]}, "params.words[0]"),
])
def test_bad_params_name_the_field(params, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        compute("bpe", params)


def test_sweep_reads_the_curve():
    params = bpe.Params(corpus="abab abab cdcd " * 5, merges=2, sample="abab cdcd")
    out = bpe.sweep(params, "merges", np.array([0, 1, 2, 3, 10]))
    assert out["sample_tokens"].tolist() == [8, 6, 5, 3, 2]  # ab, then (ab,ab) wins the tie with cd


def test_one_long_word_trains_like_the_reference():
    """Issue 28: text without spaces is one long word; the incremental trainer must still follow
    the rules exactly there (repeats, overlaps, ties inside one word)."""
    rng = np.random.default_rng(3)
    word = "".join(rng.choice(list("aabc"), 400))
    trainer = Trainer([word, word[:50], "ab" * 30])
    trainer.train(250)
    assert trainer.merges == reference_train([word, word[:50], "ab" * 30], 250)


def test_text_without_spaces_trains_in_well_under_a_second_per_5_kb():
    """Issue 28: 5 KB without a space took ~60 s (every merge rewrote the whole word); each
    merge now touches only where the pair occurs."""
    import time

    rng = np.random.default_rng(0)
    text = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), 5000))
    t0 = time.perf_counter()
    res = bpe.compute(bpe.Params(corpus=text, merges=bpe.MAX_MERGES))
    assert time.perf_counter() - t0 < 5
    assert res.exhausted and res.corpus_words == 1 and int(res.corpus_curve[res.learned]) == 1


@pytest.mark.parametrize("pattern, message", [
    (r"(a+)+$", "a repeat nested in a repeat"),
    (r"(\w+\s?)*$", "a repeat nested in a repeat"),
    (r"(a|ab)+c", "an alternation inside a repeat"),
    (r"(\w)\1", "a back-reference"),
    (r"\w+\w+x", "two repeats in a row that can match the same characters"),
    (r"\s*\s*\s*$", "two repeats in a row that can match the same characters"),
    (r"\w+a\w+", "two repeats in a row that can match the same characters"),
    (r".*(?=\w*!)", "two repeats in a row that can match the same characters"),
    (r"\w+\w++x", "two repeats in a row that can match the same characters"),
])
def test_a_pre_tokenizer_regex_that_can_backtrack_forever_is_refused(pattern, message):
    """Issue 28: such a regex held the interpreter lock for ~50 s (the window froze); it is
    refused before it runs, by the params and by the panel's path through prepare."""
    corpus = "a" * 24 + "!"
    with pytest.raises(InputError, match=f"params.pattern: {message}"):
        bpe.Params.from_dict({"corpus": corpus, "pretokenizer": "regex", "pattern": pattern})
    with pytest.raises(InputError, match=f"params.pattern: {message}"):
        bpe.prepare(bpe.Params(corpus=corpus, pretokenizer="regex", pattern=pattern))


@pytest.mark.parametrize("pattern", [r"\w+|[^\w\s]+", r" ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+",
                                     r"(?>\w+\s?)+", r"(?:ab){2,5}", r"\w+\s+\w+", r"\d+\.\d+",
                                     r"[a-z]+[0-9]+", r"\w++\w+x", r"'s|'t| ?[^\W\d_]+"])
def test_ordinary_pre_tokenizer_regexes_still_pass(pattern):
    assert bpe.Params.from_dict({"corpus": "ab ab, cd!", "pretokenizer": "regex", "pattern": pattern})


def test_the_regex_pre_tokenizer_reads_text_in_bounded_pieces():
    r"""Issue 28: one re call over the whole text tried every start against the rest of it:
    r"\w+x" on 200,000 letters held the interpreter lock for minutes (20,000: 2.9 s). Each call
    now sees at most CHUNK characters, cut at a line start or after whitespace when there is one."""
    from core.bpe_pattern import CHUNK, chunks, word_spans

    run = "a" * (2 * CHUNK + 500)
    assert word_spans(run, "regex", r"\w+") == [(0, CHUNK), (CHUNK, 2 * CHUNK), (2 * CHUNK, len(run))]
    lines = "".join(f"line {i}: some words, here!\n" for i in range(400))
    pieces = list(chunks(lines))
    assert len(pieces) > 3 and all(0 < e - s <= CHUNK for s, e in pieces)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(lines)
    assert all(a[1] == b[0] and lines[b[0] - 1] == "\n" for a, b in itertools.pairwise(pieces))
    # cut at line starts, ordinary text splits into the same words as one call over all of it
    import re
    for pattern in (r"\w+|[^\w\s]+", r" ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+"):
        whole = [m.span() for m in re.finditer(pattern, lines)]
        assert word_spans(lines, "regex", pattern) == whole


def test_training_on_one_long_word_grows_linearly_with_its_length():
    """Issue 28 (200 KB without a space): count the work of learning every merge on one word of
    n and 4n letters -- the Python calls training makes -- instead of timing it: a trainer that
    rewrote the whole word per merge made ~16x the calls at 4x the length; this one ~4x."""
    import sys

    def calls(n):
        rng = np.random.default_rng(7)
        word = "".join(rng.choice(list("abcdefgh"), n))
        made = [0]

        def profile(frame, event, arg):
            if event in ("call", "c_call"):
                made[0] += 1
        trainer = Trainer([word])
        sys.setprofile(profile)
        try:
            trainer.train(bpe.MAX_MERGES)
        finally:
            sys.setprofile(None)
        assert trainer.exhausted
        return made[0], len(trainer.merges)

    (small, merges_small), (large, merges_large) = calls(1500), calls(6000)
    assert merges_large > 3 * merges_small  # about one merge per few letters either way
    assert large < 6 * small


@pytest.mark.parametrize("field", ["corpus", "sample"])
def test_corpus_and_sample_over_the_size_limit_are_refused_naming_it(field):
    run = "x" * (bpe.MAX_RUN_CHARS - 1) + " "
    at = run * (bpe.MAX_CORPUS_CHARS // len(run))
    assert len(at) == bpe.MAX_CORPUS_CHARS  # whole runs fill the limit exactly
    base = {"corpus": "low lower", "merges": 1}
    assert len(getattr(bpe.Params.from_dict({**base, field: at}), field)) == bpe.MAX_CORPUS_CHARS
    limit = f"{bpe.MAX_CORPUS_CHARS:,}"
    with pytest.raises(InputError, match=rf"params\.{field}: longer than {limit} characters"):
        bpe.Params.from_dict({**base, field: at + "y"})


def test_a_run_without_whitespace_over_the_limit_is_refused_naming_it():
    at = "lo " + "x" * bpe.MAX_RUN_CHARS + "\nlow"
    assert bpe.Params.from_dict({"corpus": at, "merges": 1}).corpus == at
    with pytest.raises(InputError, match=rf"params\.corpus: a run of {bpe.MAX_RUN_CHARS + 1:,} characters "
                                         rf"without whitespace is over the limit of {bpe.MAX_RUN_CHARS:,}"):
        bpe.Params.from_dict({"corpus": "lo " + "x" * (bpe.MAX_RUN_CHARS + 1), "merges": 1})
