"""Semantic cache core: the embedders, the cache walk, costs, false hits/misses, sweep, bad input."""

import dataclasses
import hashlib
import math

import numpy as np
import pytest

import core
from core import economy
from core import semantic_cache as sc
from core import semantic_cache_embed as emb
from core.errors import InputError

STOP = frozenset({"the", "a", "how", "do", "i", "my", "is"})


def params(**kw):
    base = {"workload": ["how do i water a fern", "watering a fern", "how do i repot a fern"],
            "intents": None, "stopwords": sorted(STOP), "sweep_thresholds": []}
    return sc.Params.from_dict({**base, **kw})


def test_slot_hash_is_md5_first_eight_bytes_big_endian():
    digest = hashlib.md5(b"word:reset").digest()
    assert emb.slot("word:reset", 256) == digest[7] == 36
    assert emb.slot("word:reset", 1000) == int.from_bytes(digest[:8], "big") % 1000


def test_hashing_vector_weights_words_and_trigrams_and_skips_stopwords():
    vec = emb.hashing_vector("The CAT?", 4096, STOP, "?.")
    raw = np.zeros(4096)
    raw[emb.slot("word:cat", 4096)] += 1.0
    raw[emb.slot("tri:cat", 4096)] += 0.5
    assert np.allclose(vec, raw / np.linalg.norm(raw))
    assert not emb.hashing_vector("how do i", 64, STOP, "?").any()  # all stopwords: zero vector
    assert emb.words("'don't' ok!", frozenset(), "'!") == ["don't", "ok"]  # inner apostrophe stays


def brute_walk(sim, threshold):
    """The rule as stated: score against every stored question, first index of the maximum."""
    stored, hits, matches = [], [], []
    for i in range(sim.shape[0]):
        if not stored:
            stored.append(i)
            hits.append(False)
            matches.append(-1)
            continue
        scores = [float(sim[i, j]) for j in stored]
        best = max(range(len(stored)), key=lambda k: (scores[k], -k))
        matches.append(stored[best])
        hit = scores[best] >= threshold
        hits.append(hit)
        if not hit:
            stored.append(i)
    return hits, matches


@pytest.mark.parametrize("seed", range(6))
def test_fast_walk_equals_the_plain_rule_on_clustered_workloads(seed):
    rng = np.random.default_rng(seed)
    vocab = ["fern", "cactus", "water", "repot", "soil", "light", "prune", "mist"]
    qs = [" ".join(rng.choice(vocab, size=int(rng.integers(1, 4)))) for _ in range(90)]
    vectors = np.array([emb.hashing_vector(q, 32, frozenset(), "") for q in qs])
    sim = emb.similarity_matrix(vectors)
    assert np.allclose(sim, vectors @ vectors.T, atol=1e-6)
    near = emb.neighbours(sim, top=3)  # few neighbours: the fallback search runs often
    for t in (0.0, 0.2, 0.5, 0.75, 0.9, 1.0):
        hits, matches = brute_walk(sim, t)
        by_misses = emb.walk_by_misses(sim, t, limit=len(qs))
        for w in (emb.walk(sim, near, t), emb.walk_by_neighbours(sim, near, t), by_misses):
            assert w.hit.tolist() == hits, t
            assert w.match.tolist() == matches, t
        assert np.array_equal(by_misses.score, emb.walk_by_neighbours(sim, near, t).score, equal_nan=True)
        repeats = [i for i in range(1, len(qs)) if qs[i] in qs[:i]]
        assert repeats and all(by_misses.hit[i] for i in repeats)  # a question asked again hits
    assert emb.walk_by_misses(sim, 1.0, limit=2) is None  # too many misses: left to the other walk


def test_hits_are_not_stored_so_later_questions_match_the_stored_one():
    res = sc.compute(params(workload=["fern water", "fern water soil", "soil"], threshold=0.5))
    assert res.walk.hit.tolist() == [False, True, False]
    assert res.walk.match.tolist() == [-1, 0, 0]  # "soil" is scored against the stored Q1 only
    events = res.to_dict()["events"]
    assert events[0]["score"] is None and events[0]["best_match"] is None
    assert events[1]["answer"] == "[answer to: 'fern water']"
    assert events[2]["answer"] == "[answer to: 'soil']"


def test_a_repeated_question_hits_even_at_threshold_one():
    res = sc.compute(params(workload=["Repot a fern?", "repot a fern", "repot fern now"],
                            threshold=1.0, strip_chars="?"))
    assert res.walk.hit.tolist() == [False, True, False]
    assert res.walk.score[1] == 1.0


def test_costs_latency_and_savings_follow_the_cost_model():
    p = params(workload=["fern water", "fern water", "cactus soil", "fern water"], threshold=0.9,
               lookup_ms=5, llm_ms=1000, out_tokens=2000, model="claude-haiku-4-5")
    d = sc.compute(p).to_dict()
    per_call = 2000 / 1e6 * economy.PRICES["claude-haiku-4-5"][1]
    assert d["price_per_mtok"] == economy.Rates.for_model("claude-haiku-4-5").output
    assert d["cost_per_call"] == pytest.approx(per_call)
    assert d["baseline"] == {"llm_calls": 4, "latency_ms": 4000.0, "cost": pytest.approx(4 * per_call)}
    assert (d["hits"], d["llm_calls"], d["hit_rate"]) == (2, 2, 0.5)
    assert d["cache"]["latency_ms"] == 2 * 1005 + 2 * 5
    assert d["saved"]["latency_ms"] == 4000 - 2020
    assert d["saved"]["cost_pct"] == pytest.approx(50.0)
    overridden = sc.compute(dataclasses.replace(p, price_per_mtok=2.0)).to_dict()
    assert overridden["cost_per_call"] == pytest.approx(2000 / 1e6 * 2.0)


def test_false_hits_and_false_misses_come_from_intents():
    workload = ["fern water", "fern water now", "fern repot", "fern water please", "cactus soil"]
    intents = ["water", "water", "repot", "water", "soil"]
    low = sc.compute(params(workload=workload, intents=intents, threshold=0.3)).to_dict()
    assert [e["hit"] for e in low["events"]] == [False, True, True, True, False]
    assert [e["false_hit"] for e in low["events"]] == [False, False, True, False, False]
    assert low["false_hits"] == 1 and low["false_misses"] == 0
    high = sc.compute(params(workload=workload, intents=intents, threshold=0.99)).to_dict()
    assert high["false_hits"] == 0
    assert [e["false_miss"] for e in high["events"]] == [False, True, False, True, False]
    off = sc.compute(params(workload=workload, intents=intents[:3])).to_dict()
    assert off["false_hits"] is None and "3 labels for 5 questions" in off["intents_note"]


def test_sweep_replays_each_threshold_like_compute():
    p = params(workload=["fern water", "fern water now", "water fern soil", "cactus", "fern"],
               intents=["w", "w", "w", "c", "f"])
    table = sc.sweep(p, [0.0, 0.35, 0.7, 1.0])
    for k, t in enumerate(table["threshold"]):
        d = sc.compute(dataclasses.replace(p, threshold=float(t))).to_dict()
        assert table["hits"][k] == d["hits"] and table["false_misses"][k] == d["false_misses"]
        assert table["cost"][k] == pytest.approx(d["cache"]["cost"])
    assert table["hits"].tolist() == sorted(table["hits"].tolist(), reverse=True)
    default = sc.compute(sc.Params.from_dict({})).to_dict()["sweep"]
    assert [row["threshold"] for row in default] == [round(0.05 * k, 2) for k in range(21)]


def test_tfidf_weighs_rare_words_and_counts_unseen_words_in_the_norm():
    bags = [["fern", "water"], ["fern", "repot"], ["fern", "soil"]]
    model = emb.Tfidf.fit(bags)
    assert model.idf[model.index["fern"]] == pytest.approx(math.log(4 / 4) + 1)
    assert model.idf[model.index["water"]] == pytest.approx(math.log(4 / 2) + 1)
    same = emb.tfidf_similarity(["fern", "water"], ["fern", "water"], model)
    assert same == pytest.approx(1.0)
    unseen = emb.tfidf_similarity(["fern", "cactus"], ["fern", "orchid"], model)
    w_fern, w_new = 1.0, math.log(4) + 1
    assert unseen == pytest.approx(w_fern**2 / (w_fern**2 + w_new**2))
    res = sc.compute(params(embedder="tfidf", workload=["fern water", "fern repot", "water fern"],
                            threshold=0.99))
    assert res.walk.hit.tolist() == [False, False, True]


def test_the_generic_entry_point_and_probe():
    d = core.compute("semantic_cache", {"probe_cached": "repot a fern", "probe_new": "repot a cactus",
                                        "probe_thresholds": [0.9, 0.2], "stopwords": ["a"],
                                        "sweep_thresholds": []})
    probe = d["probe"]
    assert 0.2 < probe["similarity"] < 0.9
    assert [x["hit"] for x in probe["decisions"]] == [False, True]
    assert probe["decisions"][1]["served"] == "[answer to: 'repot a fern']"


@pytest.mark.parametrize(("change", "message"), [
    ({"threshold": 1.5}, r"params\.threshold: must be <= 1"),
    ({"workload": []}, r"params\.workload: give at least one question"),
    ({"workload": ["ok", 3]}, r"params\.workload\[1\]: expected a string"),
    ({"workload": ["q"] * (sc.MAX_QUESTIONS + 1)}, r"params\.workload: 5,001 items is over the limit"),
    ({"workload": ["x" * 3000]}, r"params\.workload\[0\]: 3,000 characters is over the limit"),
    ({"sweep_thresholds": [0.5, 2]}, r"params\.sweep_thresholds\[1\]: must be a number from 0 to 1, got 2"),
    ({"embedder": "bert"}, r"params\.embedder: must be one of hashing, tfidf"),
    ({"model": "gpt-x"}, r"params\.model: must be one of"),
    ({"dim": 0}, r"params\.dim: must be >= 1"),
    ({"price_per_mtok": 0}, r"params\.price_per_mtok: must be >= 0.01"),  # null is the model's price
])
def test_bad_input_names_the_field(change, message):
    with pytest.raises(InputError, match=message):
        core.compute("semantic_cache", {"sweep_thresholds": [], **change})


def test_sweep_refuses_too_many_thresholds():
    with pytest.raises(InputError, match="at most 1001 thresholds"):
        sc.sweep(params(), np.linspace(0, 1, 2000))


def test_derive_on_one_prepared_state_equals_compute_for_every_live_change():
    p = params(workload=["fern water", "fern water now", "water fern soil", "cactus", "fern"],
               intents=["w", "w", "w", "c", "f"], sweep_thresholds=[0.2, 0.6])
    prep = sc.prepare(p, grid=[0.0, 0.5, 1.0])
    assert set(prep.walks) == {0.2, 0.6, 0.0, 0.5, 1.0}
    for change in ({"threshold": 0.5}, {"threshold": 0.33, "llm_ms": 50.0},
                   {"out_tokens": 9, "model": "claude-sonnet-4-6"}, {"probe_thresholds": (0.1,)}):
        assert set(change) <= sc.LIVE
        q = dataclasses.replace(p, **change)
        assert sc.derive(prep, q).to_dict() == sc.compute(q).to_dict()
    assert 0.33 in prep.walks  # a value asked for once is kept
