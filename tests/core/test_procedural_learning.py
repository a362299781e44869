import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core
from core import procedural_learning as pl
from core.economy import Rates
from core.errors import InputError
from core.procedural_log import parse_log, split_log
from core.tokens import CharEstimate, WordEstimate


def log(*tags):
    """Sessions from tags; ``None`` is a success."""
    return [{"outcome": "success", "tag": None} if t is None else {"outcome": "failure", "tag": t}
            for t in tags]


RULES = {"zebra": "Check the zebra crossing twice.", "apple": "Wash the apple before slicing it.",
         "mango": "Mangoes ripen on the counter, not in the fridge."}


def run(**params):
    return core.compute("procedural_learning", {"tag_to_rule": RULES, "threshold_sweep": [],
                                                "base_instructions": "# Base\n- be kind", **params})


def test_listing_keeps_first_seen_ties_but_rules_break_ties_by_name():
    out = run(train=log("zebra", None, "apple", "zebra", "apple", "mango"), threshold=2)
    assert [(t["tag"], t["count"], t["recurring"]) for t in out["tag_counts"]] == [
        ("zebra", 2, True), ("apple", 2, True), ("mango", 1, False)]
    assert out["recurring"] == ["apple", "zebra"]
    assert out["after_lines"] == ["# Base", "- be kind", "", "## Rules learned from past failures",
                                  "- Wash the apple before slicing it.", "- Check the zebra crossing twice."]
    assert out["n_train"] == 6 and out["n_train_failures"] == 5


def test_count_equal_to_threshold_recurs_and_no_rules_leaves_the_base_unchanged():
    assert run(train=log("apple", "apple"), threshold=2)["recurring"] == ["apple"]
    none = run(train=log("apple", "apple"), threshold=3)
    assert none["rules"] == [] and none["after_file"] == none["before_file"] == "# Base\n- be kind"
    assert none["rule_tokens"] == 0


def test_a_recurring_tag_without_rule_text_is_unphrased_and_adds_no_line():
    out = run(train=log("apple", "kiwi", "kiwi"), threshold=1,
              tag_to_rule={**RULES, "kiwi": "   "})
    assert out["recurring"] == ["kiwi", "apple"] and out["unphrased"] == ["kiwi"]
    assert out["rules"] == [RULES["apple"]] and out["new_rule_count"] == 1


def test_held_out_successes_are_ignored_and_lists_keep_held_out_order():
    out = run(train=log("apple", "apple", "mango"), threshold=2,
              held_out=log("mango", None, "apple", "kiwi", "apple"))
    assert out["held_out_failures"] == 4 and out["prevented_before"] == 0
    assert out["caught"] == ["apple", "apple"] and out["missed"] == ["mango", "kiwi"]
    assert (out["prevented"], out["remaining"]) == (2, 2)


def test_a_shared_rule_text_covers_only_the_later_tag_of_the_mapping():
    shared = {"apple": "Read the label.", "mango": "Read the label."}
    out = run(train=log("apple", "apple"), threshold=2, tag_to_rule=shared, held_out=log("apple", "mango"))
    assert out["rules"] == ["Read the label."]
    assert out["caught"] == ["mango"] and out["missed"] == ["apple"]


def test_rule_tokens_are_the_counted_difference_of_the_two_files():
    params = {"train": log("apple", "apple", "zebra", "zebra", "zebra", "mango"), "threshold": 1}
    for estimator, counter in (("words", WordEstimate()), ("chars", CharEstimate())):
        out = run(**params, estimator=estimator)
        assert out["before_tokens"] == counter.count(out["before_file"])
        assert out["after_tokens"] == counter.count(out["after_file"])
        assert out["rule_tokens"] == out["after_tokens"] - out["before_tokens"] > 0


def test_threshold_sweep_matches_computing_each_threshold_and_defaults_to_max_plus_one():
    train = log("apple", "apple", "zebra", "zebra", "zebra", "mango", None)
    held = log("zebra", "apple", "mango", "kiwi")
    sweep = run(train=train, held_out=held, threshold_sweep=None)["threshold_sweep"]
    assert [s["threshold"] for s in sweep] == [1, 2, 3, 4]
    for s in sweep:
        one = run(train=train, held_out=held, threshold=s["threshold"])
        assert (s["prevented"], s["remaining"], s["rule_tokens"], s["rules"], s["recurring"]) == (
            one["prevented"], one["remaining"], one["rule_tokens"], one["new_rule_count"],
            len(one["recurring"]))
    assert [s["prevented"] for s in sweep] == [3, 2, 1, 0]
    assert sweep[-1]["rule_tokens"] == 0 < sweep[0]["rule_tokens"]


def test_sweep_function_returns_arrays_and_rejects_other_fields():
    params = pl.Params.from_dict({"train": log("apple", "apple", "mango"), "tag_to_rule": RULES,
                                  "held_out": log("apple")})
    curve = pl.sweep(params, "threshold", [1, 2, 3, 50])
    assert curve["prevented"].tolist() == [1, 1, 0, 0]
    assert curve["rules"].tolist() == [2, 1, 0, 0]
    with pytest.raises(InputError, match="cannot be swept"):
        pl.sweep(params, "model", [1])


def test_yearly_cost_uses_the_economy_rates_and_cache_reads_are_cheaper():
    base = {"train": log("apple", "apple"), "threshold": 1, "model": "claude-haiku-4-5",
            "calls_per_day": 1000}
    out = run(**base)
    rate = Rates.for_model("claude-haiku-4-5")
    assert out["yearly_cost"] == pytest.approx(out["rule_tokens"] * rate.input / 1e6 * 1000 * 365)
    cached = run(**base, cached=True)
    assert cached["yearly_cost"] == pytest.approx(out["yearly_cost"] * rate.cache_read / rate.input)
    assert out["threshold_sweep"] == [] and json.dumps(out)


def test_logs_read_as_csv_or_json_lines_and_bad_rows_are_named_by_line():
    csv_text = ("date,outcome,tag,notes\n2026-01-02,success,,fine\n2026-01-03,FAIL,apple,x\n\n"
                "2026-01-09,ok,,\n")
    traces = parse_log(csv_text, "s.csv")
    assert [(t.outcome, t.tag, t.date) for t in traces] == [
        ("success", None, "2026-01-02"), ("failure", "apple", "2026-01-03"), ("success", None, "2026-01-09")]
    jsonl = '{"outcome": "failure", "tag": "mango"}\n\n{"outcome": "success"}\n'
    assert [t.tag for t in parse_log(jsonl, "s.jsonl")] == ["mango", None]
    with pytest.raises(InputError, match=r"s.csv line 3: outcome: expected success or failure"):
        parse_log("outcome,tag\nsuccess,\nmaybe,apple\n", "s.csv")
    with pytest.raises(InputError, match=r"s.jsonl line 2: tag: a failure needs a tag"):
        parse_log('{"outcome": "success"}\n{"outcome": "failure"}\n', "s.jsonl")
    with pytest.raises(InputError, match=r"s.jsonl line 1: not a JSON object"):
        parse_log("{oops\n", "s.jsonl")
    with pytest.raises(InputError, match="header needs columns outcome and tag"):
        parse_log("result,label\nsuccess,\n", "s.csv")


def test_split_by_fraction_or_by_date():
    traces = parse_log("date,outcome,tag\n2026-01-01,failure,a\n2026-01-05,failure,b\n"
                       "2026-02-01,success,\n2026-02-03,failure,c\n", "s.csv")
    train, held = split_log(traces, fraction=0.75)
    assert [t.tag for t in train] == ["a", "b", None] and [t.tag for t in held] == ["c"]
    train, held = split_log(traces, held_out_from="2026-02-01")
    assert len(train) == 2 and len(held) == 2
    undated = parse_log("outcome,tag\nfailure,a\n", "u.csv")
    with pytest.raises(InputError, match="session 1 has no date"):
        split_log(undated, held_out_from="2026-01-01")


@pytest.mark.parametrize(("params", "message"), [
    ({"train": [{"outcome": "failure", "tag": None}]}, r"params.train\[0\].tag: a failure needs a tag"),
    ({"train": [{"outcome": "won"}]}, r"params.train\[0\].outcome: expected success or failure"),
    ({"held_out": [{"tag": "x"}]}, r"params.held_out\[0\].outcome: required field is missing"),
    ({"threshold": 0}, r"params.threshold: must be >= 1"),
    ({"model": "no-such-model"}, r"params.model: unknown model"),
    ({"threshold_sweep": [1, 0]}, r"params.threshold_sweep\[1\]: must be >= 1"),
    ({"train": [{"outcome": "success"}] * (pl.MAX_TRACES + 1)}, r"params.train: at most 100,000 sessions"),
    ({"base_instructions": "x" * (pl.MAX_TEXT_CHARS + 1)}, r"params.base_instructions: .* the limit is"),
])
def test_bad_input_names_the_field(params, message):
    with pytest.raises(InputError, match=message):
        core.compute("procedural_learning", params)


def test_instruction_files_too_large_to_count_are_refused_up_front():
    tags = [f"t{i}" for i in range(3000)]
    rules = {t: "y " * 5000 for t in tags}
    train = log(*[t for t in tags for _ in range(2)])
    with pytest.raises(InputError, match=r"params.tag_to_rule: .* the limit is 20,000,000"):
        core.compute("procedural_learning", {"train": train, "tag_to_rule": rules})


def test_recurring_count_is_a_prefix_count_of_the_ranked_tags():
    prepared = pl.prepare(pl.Params.from_dict({"train": log("a", "a", "a", "b", "b", "c")}))
    assert pl.recurring_count(prepared, np.array([1, 2, 3, 4])).tolist() == [3, 2, 1, 0]


@settings(max_examples=150, deadline=None)
@given(train=st.lists(st.sampled_from([None, "a", "b", "c", "d"]), max_size=40),
       held=st.lists(st.sampled_from([None, "a", "b", "c", "e"]), max_size=15))
def test_a_higher_threshold_never_prevents_more_or_costs_more(train, held):
    out = run(train=log(*train), held_out=log(*held), threshold_sweep=None,
              tag_to_rule={**RULES, "b": "Keep b tidy.", "c": "See c twice.", "d": ""})
    sweep = out["threshold_sweep"]
    for lower, higher in itertools.pairwise(sweep):
        assert higher["prevented"] <= lower["prevented"]
        assert higher["rule_tokens"] <= lower["rule_tokens"]
        assert higher["rules"] <= lower["rules"]
    assert sweep[-1]["rules"] == 0 and sweep[-1]["rule_tokens"] == 0
    assert all(s["prevented"] + s["remaining"] == out["held_out_failures"] for s in sweep)
