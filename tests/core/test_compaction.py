"""Compaction: the book's rules, their invariants, and the cookbook's traditional vs instant."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import compaction, compute
from core.compaction_sim import CACHE_READ, Clock, simulate
from core.errors import InputError
from core.tokens import WordEstimate

CHAT = [
    {"role": "user", "text": "We are moving the nightly export to a new scheduler."},
    {"role": "assistant", "text": "Understood. The job will be called Heron from now on. It runs at two."},
    {"role": "user", "text": "It reads from the orders table and writes parquet files."},
    {"role": "assistant",
     "text": "Then we need a bucket. I suggest one bucket per region, owned by Data Platform."},
    {"role": "user", "text": "Retries should back off; the warehouse is slow at night."},
    {"role": "assistant",
     "text": "We decided on three retries with exponential backoff. That keeps load low."},
    {"role": "user", "text": "What was the job called again?"},
]


def run(**params):
    return compute("compaction", {"turns": CHAT, "probe": "Heron", **params})


def test_facts_follow_the_priority_rules():
    pattern = compaction.decision_pattern(None)
    assert compaction.priority("The job will be called Heron from now on.", pattern) == 2  # "from now on"
    assert compaction.priority("I suggest one bucket per region, owned by Data Platform.", pattern) == 1
    assert compaction.priority("It runs at two.", pattern) is None
    assert compaction.priority("Heron is the name.", pattern) is None  # the first word does not count
    custom = compaction.decision_pattern(["agreed on"])
    assert compaction.priority("We AGREED  on Tuesday.", custom) == 2
    assert compaction.priority("We agreed online.", custom) is None  # whole words only: "on" != "online"


def test_tiered_keeps_the_codename_and_drop_oldest_loses_it():
    tiered = run(budget=40, strategy="tiered", keep_recent=2, max_facts=3)
    dropped = run(budget=40, strategy="drop_oldest")
    assert tiered["answerable"] is True and "Heron" in tiered["sent_text"]
    assert tiered["sent_text"].startswith(compaction.HEADER + "\n- ")
    assert dropped["answerable"] is False and dropped["dropped"] > 0 and dropped["archived"] == 0
    assert tiered["archived"] == tiered["compactions"] > 0


def test_summary_renders_nothing_when_empty():
    assert compaction.render([]) == ""
    res = run(budget=10_000)
    assert res["compactions"] == 0 and res["summary"] == [] and not res["sent_text"].startswith("Summary")


texts = st.lists(st.sampled_from([
    "Plain words here.", "We decided to ship Friday.", "Ask Priya about Kafka. Then rest.",
    "nothing named at all", "The budget is tight! Really.", "One more line with Zed3 inside?"]),
    min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(lines=texts, budget=st.integers(1, 120), keep=st.integers(1, 4), facts=st.integers(0, 5),
       strategy=st.sampled_from(compaction.STRATEGIES))
def test_never_over_budget_unless_the_kept_turns_alone_exceed_it(lines, budget, keep, facts, strategy):
    turns = tuple(compaction.Turn("user", t) for t in lines)
    params = compaction.Params(turns, budget=budget, strategy=strategy, keep_recent=keep, max_facts=facts)
    res = compaction.compute(params)
    r = res.chosen
    counts = WordEstimate().count_many(lines)
    floor = 1 if strategy == "drop_oldest" else keep
    for t, tokens in enumerate(r.in_window):
        if tokens > budget:  # only allowed when no more turns could leave
            alive = [i for i in range(t + 1) if r.archived_at[i] == -1 or r.archived_at[i] > t]
            assert len(alive) <= floor or sum(counts[i] for i in alive) > budget
    assert len(r.summary) <= facts
    assert [p for p, _ in r.summary] == sorted((p for p, _ in r.summary), reverse=True)


def test_bad_input_names_the_field():
    with pytest.raises(InputError, match=r"params.turns\[1\].role: must be user, assistant or system"):
        compaction.Params.from_dict({"turns": [{"role": "user", "text": "a"}, {"role": "bot", "text": "b"}]})
    with pytest.raises(InputError, match=r"params\.turns: the transcript is empty"):
        compaction.Params.from_dict({"turns": []})
    with pytest.raises(InputError, match=r"params\.strategy: must be one of"):
        compaction.Params.from_dict({"turns": CHAT, "strategy": "magic"})


def test_turn_text_over_the_total_character_limit_is_refused_naming_it():
    from core.compaction_io import parse_transcript

    limit = compaction.MAX_TOTAL_CHARS
    half = "word " * (limit // 10 - 1) + "word."  # no trailing space: a pasted turn is stripped
    at_limit = [{"role": "user", "text": half},
                {"role": "assistant", "text": half + "x" * (limit - 2 * len(half))}]
    assert sum(len(t.text) for t in compaction.Params.from_dict({"turns": at_limit}).turns) == limit
    over = [*at_limit, {"role": "user", "text": "x"}]
    with pytest.raises(InputError, match=f"params.turns: longer than {limit:,} characters in all"):
        compute("compaction", {"turns": over})
    pasted = "\n".join(f"{t['role']}: {t['text']}" for t in over)
    with pytest.raises(InputError, match=f"chat.txt: longer than {limit:,} characters in all"):
        parse_transcript(pasted, "chat.txt")


def sim(kind, caching=True, limit=60, soft=30, between=10, pause=5.0):
    tokens = np.array([20, 30, 15, 25, 20, 30, 15, 25, 20, 30], np.int64)
    users = np.arange(10) % 2 == 0
    memory = np.full(10, 8, np.int64)
    clock = Clock(1.0, 100.0, 10.0, 5.0, 25.0)
    return simulate(kind, tokens, users, memory, limit, soft, between, clock, caching, pause)


def test_traditional_makes_the_user_wait_and_instant_does_not():
    trad, inst = sim("traditional"), sim("instant")
    assert trad.compacted_at and inst.compacted_at
    assert trad.wait_s.sum() > 0 and trad.wait_s[trad.compacted_at[0]] > 1.0
    assert inst.wait_s.sum() == 0.0  # the memory was ready before it was needed
    assert inst.summarizer_calls > len(inst.compacted_at) - 1  # background refreshes
    assert inst.in_window.max() < 60 + 30


def test_a_slow_background_call_makes_the_user_wait_for_it():
    slow = sim("instant", soft=1, pause=0.0)  # memory requested right away, no time to finish
    assert slow.wait_s.sum() > 0


def test_caching_makes_summaries_cheaper_not_different():
    cached, plain = sim("traditional", caching=True), sim("traditional", caching=False)
    assert cached.compacted_at == plain.compacted_at
    assert cached.summarizer_cost < plain.summarizer_cost
    clock = Clock(0, 1, 1, 5.0, 25.0)
    assert clock.dollars(0, 1_000_000, 0, 0) == pytest.approx(5.0 * CACHE_READ)


def test_cookbook_results_are_reported_for_each_strategy():
    res = run(budget=40)
    book = res["cookbook"]
    assert set(book) == {"traditional", "instant", "traditional (uncached)", "instant (uncached)"}
    assert book["traditional"]["total_wait_s"] > book["instant"]["total_wait_s"]
    assert book["traditional"]["cost"] < book["traditional (uncached)"]["cost"]


def test_budget_sweep_is_monotone_in_compactions():
    params = compaction.Params(tuple(compaction.Turn(t["role"], t["text"]) for t in CHAT))
    curve = compaction.sweep(params, "budget", [20, 40, 80, 400])
    assert np.all(np.diff(curve["tiered_compactions"]) <= 0)
    assert curve["drop_oldest_compactions"][-1] == 0


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(0, 50), min_size=1, max_size=60), budget=st.integers(1, 200))
def test_vectorized_drop_oldest_matches_the_rule_turn_by_turn(sizes, budget):
    class Table:
        turns = np.array(sizes, np.int64)

    r = compaction.drop_oldest(budget, Table())
    first, window = 0, []
    for t in range(len(sizes)):
        while sum(sizes[first:t + 1]) > budget and t + 1 - first > 1:
            first += 1
        window.append(sum(sizes[first:t + 1]))
    assert r.in_window.tolist() == window and r.compactions == first == r.first_kept


@settings(max_examples=200, deadline=None)
@given(lines=texts, budget=st.integers(1, 120), keep=st.integers(1, 4), facts=st.integers(0, 5))
def test_tiered_on_the_running_memory_matches_folding_turn_by_turn(lines, budget, keep, facts):
    turns = tuple(compaction.Turn("user", t) for t in lines)
    prep = compaction.prepare(compaction.Params(turns, max_facts=facts))
    r = compaction.replay("tiered", budget, keep, facts, prep.facts, prep.table, prep.running)
    counts = prep.table.turns.tolist()
    first, held, head, summary, window, folded = 0, 0, 0, [], [], {}
    for t in range(len(lines)):  # the book's rule: fold each archived turn into the summary
        held += counts[t]
        while held + head > budget and t + 1 - first > keep:
            held -= counts[first]
            summary = compaction.fold(summary, prep.facts.per_turn[first], facts)
            head = prep.table.summary(summary)
            for p, s in prep.facts.per_turn[first]:
                folded.setdefault(s, p)
            first += 1
        window.append(held + head)
    assert r.in_window.tolist() == window and r.compactions == first == r.first_kept
    assert r.summary == tuple(summary) and r.folded == tuple((p, s) for s, p in folded.items())
