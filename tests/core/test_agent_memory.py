"""Agent memory core: extraction order, keys, the store, embedding, top-k, tokens, curves, input."""

import dataclasses
import itertools

import numpy as np
import pytest

import core
from core import agent_memory as am
from core import agent_memory_rules as rules
from core.errors import InputError
from core.tokens import CharEstimate


def params(**kw):
    return am.Params.from_dict({"stopwords": ["i", "my", "is", "am", "the", "a", "in", "at"], **kw})


def test_patterns_run_in_order_and_take_every_match():
    found = rules.extract("I work at Orbit and my dog is Pixel, my cat is Mochi. I'm sleepy!")
    assert found == [("dog is pixel", "my X is Y"), ("cat is mochi", "my X is Y"),
                     ("is sleepy", "i'm Y"), ("works at orbit", "i work at Y")]
    assert rules.extract("Call me Nes. We moved to Faro.") == []  # phrasings the rules miss
    twice = rules.extract("MY   Team is   the Owls and my team is the Owls.")
    assert twice == [("team is the owls", "my X is Y")]
    assert rules.extract("Sometimes I prefer tea") == [("prefers tea", "i prefer Y")]
    assert rules.extract("Quietly I amble home.") == []  # "i am" needs its own word boundary and space


def test_keys_cut_at_the_last_is_otherwise_the_first_word():
    assert rules.key("favorite tea is jasmine") == "favorite tea is "
    assert rules.key("name is what it is ok") == "name is what it is "
    assert rules.key("is vegetarian") == "is"  # no space before "is": keyed by the first word
    assert rules.key("prefers tea") == "prefers"
    assert rules.key("hello") == "hello"


def test_the_store_replaces_same_key_facts_in_place():
    store = rules.Store(["is vegetarian", "dog is pixel", "prefers tea"])
    change = store.add("is tired")  # the key quirk: any "I am ..." replaces "is vegetarian"
    assert (change.status, change.old) == ("updated", "is vegetarian")
    assert store.facts == ["is tired", "dog is pixel", "prefers tea"]
    assert store.add("cat is mochi").status == "added" and len(store.facts) == 4


def test_fnv1a_folding_and_embedding():
    assert rules.fnv1a32("") == 0x811C9DC5
    assert rules.fnv1a32("a") == 0xE40C292C  # the published FNV-1a 32 test vector
    assert [rules.fold(w) for w in ("cats", "glass", "bus", "news")] == ["cat", "glass", "bus", "new"]
    vec = rules.embed("My cats and the cat", 64, frozenset({"my", "and", "the"}))
    slot = rules.fnv1a32("cat") % 64
    assert vec[slot] == pytest.approx(1.0) and np.count_nonzero(vec) == 1
    assert not rules.embed("the and", 64, frozenset({"the", "and"})).any()


def test_collisions_list_words_sharing_a_slot():
    words = ["tea", "jasmine", "owls", "pixel", "mochi", "dog", "cat"]
    found = rules.collisions([" ".join(words)], 4, frozenset())
    slots = {rules.fold(w): rules.fnv1a32(rules.fold(w)) % 4 for w in words}
    for group in found:
        assert len(group["words"]) > 1 and {slots[w] for w in group["words"]} == {group["slot"]}
    shared = [w for w, s in slots.items() if list(slots.values()).count(s) > 1]
    assert sorted(w for g in found for w in g["words"]) == sorted(shared)


def test_top_k_is_stable_on_ties():
    assert rules.top_k(np.array([0.0, 0.5, 0.0, 0.5]), 3).tolist() == [1, 3, 0]
    assert rules.top_k(np.array([]), 3).tolist() == []


CHAT = ["Hi, my dog is Pixel and I live in Faro.",
        {"role": "assistant", "text": "I am glad to help. My name is Bot."},
        "Call me Nes.",
        "I prefer green tea and I am vegetarian.",
        "I'm training for a marathon."]


def test_only_user_turns_are_mined_and_misses_are_reported():
    res = am.compute(params(turns=CHAT, query="which tea do I prefer?", k=2, updates=[]))
    d = res.to_dict()
    assert [e["fact"] for e in d["extracted"]] == [
        "dog is pixel", "lives in faro", "prefers green tea", "is vegetarian", "is training for a marathon"]
    assert d["extracted"][-1]["status"] == "updated" and d["extracted"][-1]["old"] == "is vegetarian"
    assert d["missed_turns"] == [2]
    assert d["facts"] == ["dog is pixel", "lives in faro", "prefers green tea", "is training for a marathon"]
    assert d["retrieved"][0]["fact"] == "prefers green tea"
    assert d["injected"].splitlines()[0] == "- prefers green tea"


def test_tokens_follow_words_times_1_3_and_the_k_sweep():
    res = am.compute(params(turns=CHAT, query="which tea do I prefer?", k=2, updates=[]))
    d = res.to_dict()
    words = sum(len((t if isinstance(t, str) else t["text"]).split()) for t in CHAT)
    assert d["full_history_tokens"] == round(words * 1.3)
    injected_words = len(d["injected"].split())
    assert d["topk_tokens"] == round(injected_words * 1.3)
    assert d["saved_tokens"] == d["full_history_tokens"] - d["topk_tokens"]
    sweep = d["k_sweep"]
    assert [s["k"] for s in sweep] == list(range(d["fact_count"] + 1)) and sweep[0]["tokens"] == 0
    assert sweep[2]["tokens"] == d["topk_tokens"]
    assert all(a["tokens"] < b["tokens"] for a, b in itertools.pairwise(sweep))
    assert d["relevant_k"] == 1  # only "prefers green tea" shares a word with the question


def test_growth_and_until_replay_the_first_turns():
    p = params(turns=CHAT, query="which tea do I prefer?", k=1, updates=[])
    full = am.compute(p).to_dict()
    growth = full["growth"]
    assert [g["turns"] for g in growth] == [1, 2, 3, 4, 5]
    assert [g["facts"] for g in growth] == [2, 2, 2, 4, 4]
    for t in range(1, 6):
        part = am.compute(dataclasses.replace(p, until=t)).to_dict()
        assert part["full_history_tokens"] == growth[t - 1]["history_tokens"]
        assert part["fact_count"] == growth[t - 1]["facts"]
        assert part["topk_tokens"] == growth[t - 1]["topk_tokens"]
    assert am.compute(dataclasses.replace(p, until=0)).to_dict()["fact_count"] == 0


def test_updates_replace_by_key_and_a_missed_correction_is_reported():
    p = params(turns=["My dog is Pixel. I live in Faro."], update_query="what is my dog?",
               updates=["Sorry, my dog is Rex.", "We moved to Lagos."])
    up = am.compute(p).to_dict()["update"]
    assert up["before_best"] == "dog is pixel" and up["after_best"] == "dog is rex"
    assert [e["status"] for e in up["events"]] == ["updated", "missed"]
    assert up["events"][0]["old"] == "dog is pixel" and up["fact_count"] == 2


def test_another_counter_counts_the_history():
    p = params(turns=CHAT, estimator="chars")
    prep = am.prepare(p)
    joined = " ".join(t if isinstance(t, str) else t["text"] for t in CHAT)
    assert prep.history_tokens[-1] == CharEstimate().count(joined)


@pytest.mark.parametrize(("change", "message"), [
    ({"k": -1}, r"params\.k: must be >= 0"),
    ({"turns": "hello"}, r"params\.turns: expected a list of turns"),
    ({"turns": [{"role": "robot", "text": "x"}]}, r"params\.turns\[0\]\.role: must be one of user"),
    ({"turns": [3]}, r"params\.turns\[0\]: expected an object"),
    ({"turns": ["x" * 20_001]}, r"params\.turns\[0\]: 20,001 characters is over the limit"),
    ({"turns": ["hi"] * 20_001}, r"params\.turns: 20,001 turns is over the limit of 20,000"),
    ({"updates": [None]}, r"params\.updates\[0\]: expected a string"),
    ({"estimator": "guess"}, r"params\.estimator: must be one of words, chars, exact"),
    ({"estimator": "exact"}, r"params\.estimator: 'exact' needs the Anthropic token counter"),
])
def test_bad_input_names_the_field(change, message):
    with pytest.raises(InputError, match=message):
        core.compute("agent_memory", change)


def test_derive_on_one_prepared_state_equals_compute_for_every_live_change():
    p = params(turns=CHAT, query="which tea do I prefer?", k=2, updates=[])
    prep = am.prepare(p)
    for change in ({"k": 0}, {"k": 4, "until": 2}, {"until": 4}, {"updates": ("I'm sleepy.",)},
                   {"update_query": "where do I live?"}):
        assert set(change) <= am.LIVE
        q = dataclasses.replace(p, **change)
        assert am.derive(prep, q).to_dict() == am.compute(q).to_dict()
    assert set(prep.growths) == {0, 2, 4}  # one growth curve per k asked for


def test_counts_up_to_each_turn_match_a_plain_count():
    base = am.Params()
    extra = (am.Turn("user", "Thanks, that is all."), base.turns[-1])  # a turn with no fact, one more
    p = dataclasses.replace(base, turns=(*base.turns, *extra))
    prep = am.prepare(p)
    for shown in range(len(p.turns) + 1):
        missed = sum(1 for i in prep.missed if i < shown)
        overwritten = sum(1 for i, _p, c in prep.changes if i < shown and c.status == "updated")
        assert prep.counts(shown) == (missed, overwritten)
    assert all(prep.counts(len(p.turns)))  # both happen in this conversation
