"""Compression: the book's scoring and passes on our own text, splitting, BM25, sweeps."""

import math

import numpy as np
import pytest

from core import compression, compute
from core.errors import Cancelled, InputError
from tests.core.cancelling import stop_at

DOC = ("The cache was warm. The deploy failed because the schema migration locked the orders "
       "table. Lunch was late. A retry fixed nothing until the lock was released.")


def test_scores_follow_the_idf_density_rule():
    res = compute("compression", {"text": DOC, "query": "why did the deploy fail", "budget": 100})
    sentences = [s["text"] for s in res["sentences"]]
    assert len(sentences) == 4
    bags = [compression.words(s) for s in sentences]
    n = len(bags)
    idf = {w: math.log((n + 1) / (sum(w in b for b in bags) + 1)) + 1 for b in bags for w in b}
    query = {"why", "did", "the", "deploy", "fail"}
    for s, bag in zip(res["sentences"], bags, strict=True):
        assert s["score"] == pytest.approx(sum(idf[w] for w in bag if w in query) / len(bag))


def test_greedy_keeps_what_fits_without_stopping_early_and_in_reading_order():
    params = compression.Params(text=DOC, query="deploy schema migration lock", budget=17)
    res = compression.compute(params)
    tokens = res.scored.tokens
    order = res.scored.order.tolist()
    used, kept = 0, set()
    for i in order:  # the rule, spelled out
        if used + tokens[i] <= 17:
            kept.add(i)
            used += tokens[i]
    assert set(np.flatnonzero(res.kept)) == kept
    d = res.to_dict()
    assert d["kept"] == [s for i, s in enumerate(res.scored.sentences) if i in kept]
    assert d["coarse_tokens"] == round(len(" ".join(d["kept"]).split()) * 1.3)


def test_greedy_in_runs_keeps_what_the_one_by_one_rule_keeps():
    """The array walk keeps exactly the sentences the rule keeps, also past its run limit."""
    import dataclasses

    base = compression.compute(compression.Params(text=DOC, query="deploy schema", budget=17)).scored
    rng = np.random.default_rng(7)
    for n, top in ((1, 5), (40, 30), (3000, 60), (3000, 3)):
        tokens = rng.integers(0, top, n)
        order = rng.permutation(n)
        scored = dataclasses.replace(base, sentences=["s"] * n, tokens=tokens, order=order)
        for budget in (0, 1, top, int(tokens.sum()) // 3, int(tokens.sum()), int(tokens.sum()) + 1):
            used, expected = 0, np.zeros(n, dtype=bool)
            for i in order.tolist():  # the rule, spelled out
                if used + tokens[i] <= budget:
                    expected[i] = True
                    used += int(tokens[i])
            assert np.array_equal(compression.keep_mask(scored, budget), expected), (n, top, budget)


def test_fine_pass_drops_stopwords_but_never_query_words():
    res = compression.compute(compression.Params(text=DOC, query="the lock", budget=1000,
                                                 stopwords=("the", "was", "a")))
    fine = res.fine_text.split()
    assert "the" in fine and "was" not in fine and "A" not in fine
    assert res.fine_tokens == round(len(fine) * 1.3)


@pytest.mark.parametrize("text, expected", [
    ("Dr. Lee met Mr. Park at noon. They talked at 5 p.m. in the hall.", 2),
    ("We shipped it, e.g. the fix. Then it broke.", 2),
    ("no punctuation here\nanother line\nthird line", 3),
    ("First paragraph without end\n\nSecond one.", 2),
    ("東京は晴れです。大阪は雨です！京都は？", 3),
    (" ".join(["word"] * 130), 3),
    ("J. R. R. Tolkien wrote it. Then approx. 5 more came.\nxapprox. Supercalifragilistic. End.", 5),
    ("a. " * 2000, 34),  # initials only: no sentence ends, cut into 60-word pieces
])
def test_sentence_splitting_copes_with_messy_text(text, expected):
    parts = compression.split_sentences(text)
    assert len(parts) == expected
    assert "".join(parts).replace(" ", "") == text.replace(" ", "").replace("\n", "")


def test_cjk_sentences_get_scored_characters():
    text = "東京は晴れです。大阪は雨です。"
    params = compression.Params(text=text, query="大阪", budget=5, estimator="chars")
    res = compression.compute(params)
    assert res.scored.scores[1] > res.scored.scores[0] == 0


def test_bm25_ranks_by_query_terms_too():
    params = compression.Params(text=DOC, query="schema migration", budget=20, scorer="bm25")
    res = compression.compute(params)
    assert int(np.argmax(res.scored.scores)) == 1


def test_sweep_marks_where_the_answer_is_lost():
    params = compression.Params(text=DOC, query="deploy", budget=0, probe="schema migration")
    out = compression.sweep(params, "budget", [0, 5, 20, 100])
    assert out["answer_kept"].tolist() == [False, False, True, True]
    assert (np.diff(out["ratio"]) >= 0).all() and out["ratio"][-1] == pytest.approx(1.0, abs=0.05)
    at = compression.compute(compression.Params(DOC, "deploy", budget=20, probe="schema migration"))
    assert at.answer_kept is True


@pytest.mark.parametrize("params, message", [
    ({"text": " ", "query": "x", "budget": 5}, "params.text: nothing to compress"),
    ({"text": "A b.", "query": "?!", "budget": 5}, "params.query: no words"),
    ({"text": "A b.", "query": "a", "budget": -1}, "params.budget: must be >= 0"),
    ({"text": "A b.", "query": "a", "budget": 5, "scorer": "tfidf"}, "params.scorer: must be one of"),
    ({"text": "A b.", "query": "a", "budget": 5, "stopwords": [1]}, "params.stopwords"),
])
def test_bad_params_name_the_field(params, message):
    with pytest.raises(InputError, match=message):
        compute("compression", params)


@pytest.mark.parametrize("field", ["text", "query", "probe"])
def test_text_over_the_limit_is_refused_naming_it_and_at_the_limit_accepted(field):
    ok = {"text": DOC, "query": "deploy", "budget": 10}
    at = compression.Params.from_dict({**ok, field: "a" * compression.MAX_TEXT_CHARS})
    assert len(getattr(at, field)) == compression.MAX_TEXT_CHARS
    with pytest.raises(InputError, match=rf"params\.{field}: longer than 5,000,000 characters"):
        compression.Params.from_dict({**ok, field: "a" * (compression.MAX_TEXT_CHARS + 1)})


def test_prepare_and_sweep_report_rising_fractions_and_a_raising_callback_stops_them():
    p = compression.Params(text=DOC * 100, query="deploy lock", budget=50)
    heard = []
    prepared = compression.prepare(p, None, heard.append)
    assert len(heard) > 10 and heard == sorted(heard) and heard[0] >= 0 and heard[-1] <= 1
    assert compression.derive(prepared, p).to_dict() == compression.compute(p).to_dict()
    swept, budgets = [], [0, 50, 1000]
    with_progress = compression.sweep(p, "budget", budgets, scored=prepared.scored, progress=swept.append)
    plain = compression.sweep(p, "budget", budgets, scored=prepared.scored)
    assert swept == [0.0] and all(np.array_equal(with_progress[k], plain[k]) for k in plain)
    for n in (1, len(heard) // 2, len(heard)):
        told = []
        with pytest.raises(Cancelled):
            compression.prepare(p, None, stop_at(n, told))
        assert len(told) == n, "nothing runs on after the callback raised"
    with pytest.raises(Cancelled):
        compression.sweep(p, "budget", budgets, scored=prepared.scored, progress=stop_at(1, []))
