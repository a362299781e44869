import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core
from core import context_router as cr
from core.errors import InputError

SOURCES = [{"name": "menu", "tokens": 50}, {"name": "orders", "tokens": 100},
           {"name": "recipes", "tokens": 30}]
ROUTES = {"coding": ["recipes"], "factual": ["orders", "menu", "recipes"], "chitchat": []}
WORDS = {"coding_words": ["crash", "bug"], "factual_words": ["when", "soup"],
         "chitchat_words": ["hello", "thanks"]}


def run(queries, budget=1000, **extra):
    params = {"sources": SOURCES, "routes": ROUTES, **WORDS, "budget": budget, "queries": queries,
              "budget_sweep": [], **extra}
    return core.compute("context_router", params)


def test_first_matching_word_list_wins_and_the_default_catches_the_rest():
    out = run(["Hello, the app had a CRASH!", "hello... thanks", "When is soup?", "just browsing",
               "soup's on"])
    assert [t["label"] for t in out["turns"]] == ["coding", "chitchat", "factual", "factual", "factual"]
    params = cr.Params.from_dict({"sources": SOURCES, "routes": ROUTES, **WORDS, "default_label": "chitchat"})
    assert cr.classify("soup's on", params) == "chitchat"  # an apostrophe is not stripped
    assert cr.classify("(soup)", params) == "chitchat"  # only . , ! ? are stripped
    assert cr.classify("?soup.", params) == "factual"


def test_packing_skips_what_does_not_fit_and_keeps_going():
    out = run(["when"], budget=90)
    turn = out["turns"][0]
    assert turn["routed_included"] == ["menu", "recipes"] and turn["routed_skipped"] == ["orders"]
    assert turn["routed_tokens"] == 80
    assert turn["sink_included"] == ["menu", "recipes"] and turn["sink_tokens"] == 80
    exact = run(["when"], budget=180)["turns"][0]  # total + size == budget still fits
    assert exact["routed_included"] == ["orders", "menu", "recipes"] and exact["routed_skipped"] == []


def test_kitchen_sink_packs_every_source_in_declared_order_whatever_the_label():
    out = run(["hello", "a crash", "when"], budget=160)
    assert {tuple(t["sink_included"]) for t in out["turns"]} == {("menu", "orders")}
    assert [t["routed_tokens"] for t in out["turns"]] == [0, 30, 150]
    assert [t["saved"] for t in out["turns"]] == [150, 120, 0]
    assert out["totals"] == {"sink": 450, "routed": 180, "saved": 270,
                             "pct_smaller": pytest.approx(60.0)}


def test_declared_labels_skip_classification_and_report_what_the_route_needs():
    out = run([{"query": "hello", "label": "factual"}, "hello"])
    assert [(t["label"], t["declared"]) for t in out["turns"]] == [("factual", True), ("chitchat", False)]
    assert [t["needed_tokens"] for t in out["turns"]] == [180, 0]


def test_text_sources_are_repeated_literally_before_counting():
    sources = [{"name": "spaced", "text": "one two three ", "repeat": 4},  # 12 words -> 16
               {"name": "fused", "text": "one two three", "repeat": 4},  # 9 words -> 12
               {"name": "given", "text": "ignored words", "tokens": 7}]
    out = core.compute("context_router", {"sources": sources, "routes": {"factual": ["given"]},
                                          "coding_words": [], "chitchat_words": [], "queries": []})
    assert out["source_tokens"] == {"spaced": 16, "fused": 12, "given": 7}
    assert out["totals"] == {"sink": 0, "routed": 0, "saved": 0, "pct_smaller": 0.0}


def test_budget_sweep_agrees_with_packing_at_each_budget():
    queries = ["when", "crash", "hello", "when"]
    curve = run(queries, budget_sweep=None)["budget_sweep"]
    assert [c["budget"] for c in curve] == [0, 100, 200]  # the last one past all 180 tokens
    for point in curve:
        one = run(queries, budget=point["budget"])
        assert point["sink_total"] == one["totals"]["sink"]
        assert point["routed_total"] == one["totals"]["routed"]
        assert point["routed_skipped"] == sum(len(t["routed_skipped"]) for t in one["turns"])
        assert point["sink_skipped"] == sum(len(t["sink_skipped"]) for t in one["turns"])


def test_vectorised_packing_equals_the_plain_walk():
    rng = np.random.default_rng(3)
    sizes = {f"s{i}": int(v) for i, v in enumerate(rng.integers(0, 400, 9))}
    names = list(sizes)
    budgets = np.arange(0, 2500, 37, dtype=np.int64)
    totals, skipped = cr.pack_many(names, sizes, budgets)
    for b, total, skip in zip(budgets.tolist(), totals.tolist(), skipped.tolist(), strict=True):
        packed = cr.pack(names, sizes, b)
        assert (packed.tokens, len(packed.skipped)) == (total, skip)


def test_default_sweep_step_grows_so_huge_sources_stay_bounded():
    out = core.compute("context_router", {"sources": [{"name": "big", "tokens": 10**9}],
                                          "routes": {"factual": ["big"], "coding": [], "chitchat": []},
                                          "queries": ["x"]})
    assert 2 <= len(out["budget_sweep"]) <= cr.MAX_SWEEP
    assert out["budget_sweep"][-1]["routed_skipped"] == 0
    json.dumps(out)


def test_sweep_function_returns_arrays_and_rejects_other_fields():
    params = cr.Params.from_dict({"sources": SOURCES, "routes": ROUTES, **WORDS, "queries": ["when"]})
    out = cr.sweep(params, "budget", [0, 80, 180])
    assert out["routed_total"].tolist() == [0, 80, 180]
    with pytest.raises(InputError, match="cannot be swept"):
        cr.sweep(params, "queries", [1])


@pytest.mark.parametrize(("change", "message"), [
    ({"routes": {**ROUTES, "factual": ["menu", "pantry"]}},
     r"params.routes.factual\[1\]: unknown source 'pantry'"),
    ({"routes": {"coding": [], "factual": []}}, r"params.routes: no route for 'chitchat'"),
    ({"default_label": "smalltalk"}, r"params.default_label: no route for 'smalltalk'"),
    ({"queries": [{"query": "x", "label": "deploy"}]}, r"params.queries\[0\].label: no route for 'deploy'"),
    ({"sources": [*SOURCES, {"name": "menu", "tokens": 1}]},
     r"params.sources\[3\].name: 'menu' is used twice"),
    ({"routes": {**ROUTES, "coding": ["menu", "menu"]}}, r"params.routes.coding: 'menu' is listed twice"),
    ({"budget": -1}, r"params.budget: must be >= 0"),
    ({"budget_sweep": [0, -5]}, r"params.budget_sweep\[1\]: must be >= 0"),
    ({"sources": [{"name": "huge", "text": "word " * 1000, "repeat": 10**6}]},
     r"params.sources\[0\].repeat: .* more than 20,000,000 characters"),
])
def test_bad_input_names_the_field(change, message):
    params = {"sources": SOURCES, "routes": ROUTES, **WORDS, "queries": ["when"], **change}
    with pytest.raises(InputError, match=message):
        core.compute("context_router", params)


@settings(max_examples=150, deadline=None)
@given(sizes=st.lists(st.integers(0, 300), min_size=1, max_size=6), budget=st.integers(0, 1000),
       route=st.lists(st.integers(0, 5), max_size=6, unique=True))
def test_packing_never_exceeds_the_budget_and_accounts_for_every_source(sizes, budget, route):
    sources = [{"name": f"s{i}", "tokens": t} for i, t in enumerate(sizes)]
    names = [f"s{i}" for i in route if i < len(sizes)]
    out = core.compute("context_router", {"sources": sources, "budget": budget, "queries": ["q"],
                                          "routes": {"factual": names}, "coding_words": [],
                                          "chitchat_words": [], "budget_sweep": []})
    turn = out["turns"][0]
    for kind, wanted in (("sink", [s["name"] for s in sources]), ("routed", names)):
        assert turn[f"{kind}_tokens"] <= budget
        assert sorted(turn[f"{kind}_included"] + turn[f"{kind}_skipped"]) == sorted(wanted)
        assert turn[f"{kind}_tokens"] == sum(sizes[int(n[1:])] for n in turn[f"{kind}_included"])
        # a skipped source did not fit even after everything before it was packed
        assert all(sizes[int(n[1:])] > 0 for n in turn[f"{kind}_skipped"])
