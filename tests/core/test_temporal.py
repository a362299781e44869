"""Temporal graph: closing rules, back-dated facts, bi-temporal replay, interval properties."""

import itertools
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import compute, temporal
from core.errors import Cancelled, InputError
from tests.core.cancelling import stop_at

SHOP = [
    {"subject": "store-7", "predicate": "manager", "object": "Okafor", "valid_from": "2023-02-01"},
    {"subject": "store-7", "predicate": "manager", "object": "Lindqvist", "valid_from": "2023-09-15"},
    {"subject": "store-7", "predicate": "hours", "object": "9-17", "valid_from": "2023-01-01"},
    # recorded in December, true since August: a back-dated fact between two others
    {"subject": "store-7", "predicate": "manager", "object": "Haddad", "valid_from": "2023-08-01",
     "ingested_on": "2023-12-01"},
]


def ask(at, known_at=None, predicate="manager"):
    q = {"subject": "store-7", "predicate": predicate, "at": at}
    return q if known_at is None else {**q, "known_at": known_at}


def test_supersession_closes_and_back_dated_fact_lands_in_place():
    res = compute("temporal", {"events": SHOP, "queries": [ask("2023-07-31"), ask("2023-08-01"),
                                                           ask("2023-09-14"), ask("2024-01-01")]})
    managers = [e for e in res["edges"] if e["predicate"] == "manager"]
    assert [(e["object"], e["valid_from"], e["valid_to"]) for e in managers] == [
        ("Okafor", "2023-02-01", "2023-08-01"),
        ("Haddad", "2023-08-01", "2023-09-15"),
        ("Lindqvist", "2023-09-15", None)]
    assert res["answers"] == ["Okafor", "Haddad", "Haddad", "Lindqvist"]


def test_known_at_replays_what_was_believed():
    res = compute("temporal", {"events": SHOP, "known_at": "2023-10-01",
                               "queries": [ask("2023-08-15", "2023-10-01"), ask("2023-08-15"),
                                           ask("2023-01-15")]})
    # before December nobody knew of Haddad: Okafor's interval runs to Lindqvist's start again
    okafor = next(e for e in res["edges"] if e["object"] == "Okafor")
    assert okafor["valid_to"] == "2023-09-15"
    assert "Haddad" not in [e["object"] for e in res["edges"]]
    assert res["answers"] == ["Okafor", "Haddad", None]


def test_naive_store_is_wrong_for_the_past():
    res = compute("temporal", {"events": SHOP, "as_of": "2023-03-01"})
    row = next(r for r in res["rows"] if r["predicate"] == "manager")
    # a latest-value store keeps the last write (Haddad, recorded in December)
    assert (row["value"], row["naive"], row["naive_wrong"]) == ("Okafor", "Haddad", True)


def test_same_start_later_recording_wins_and_the_other_is_kept_empty():
    events = [{"subject": "s", "predicate": "p", "object": "a", "valid_from": "2024-01-01"},
              {"subject": "s", "predicate": "p", "object": "b", "valid_from": "2024-01-01",
               "ingested_on": "2024-02-01"}]
    res = compute("temporal", {"events": events, "queries": [{"subject": "s", "predicate": "p",
                                                              "at": "2024-01-01"}]})
    assert res["answers"] == ["b"]
    assert [(e["object"], e["valid_to"]) for e in res["edges"]] == [("a", "2024-01-01"), ("b", None)]


@pytest.mark.parametrize(("params", "message"), [
    ({"events": []}, "params.events: give at least one event"),
    ({"events": [{"subject": "s", "predicate": "p", "object": "o", "valid_from": "31/01/2024"}]},
     "params.events[0].valid_from: '31/01/2024' is not an ISO date"),
    ({"events": [{"subject": "s", "predicate": "p", "valid_from": "2024-01-01"}]},
     "params.events[0].object: required field is missing"),
    ({"events": SHOP, "as_of": "soon"}, "params.as_of: 'soon' is not an ISO date"),
])
def test_bad_input_names_the_field(params, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        temporal.Params.from_dict(params)


def test_history_draws_each_version_over_the_time_it_was_believed():
    res = temporal.compute(temporal.Params.from_dict({"events": SHOP}))
    key = res.graph.keys.index(("store-7", "manager"))
    day = temporal.to_seconds
    versions = {(v["object"], v["valid_to"], v["recorded"], v["superseded"])
                for v in temporal.history(res, key)}
    assert ("Okafor", day("2023-09-15", ""), day("2023-09-15", ""), day("2023-12-01", "")) in versions
    assert ("Okafor", day("2023-08-01", ""), day("2023-12-01", ""), temporal.NEVER) in versions
    assert ("Haddad", day("2023-09-15", ""), day("2023-12-01", ""), temporal.NEVER) in versions


days = st.integers(0, 60)
event_lists = st.lists(st.tuples(st.integers(0, 3), days, st.integers(0, 30), st.integers(0, 5)),
                       min_size=1, max_size=30)


def iso(n):
    return (date(2024, 1, 1) + timedelta(days=n)).isoformat()


def build(raw):
    return [{"subject": f"k{k}", "predicate": "p", "object": f"v{v}", "valid_from": iso(d),
             "ingested_on": iso(d + lag)} for k, d, lag, v in raw]


@settings(max_examples=200, deadline=None)
@given(raw=event_lists, at=days, known=st.integers(0, 100))
def test_intervals_tile_and_queries_agree(raw, at, known):
    events = build(raw)
    for known_at in (None, iso(known)):
        params = temporal.Params.from_dict({"events": events, "known_at": known_at})
        edges = temporal.compute(params).to_dict()["edges"]
        for k in {e["subject"] for e in edges}:
            mine = [e for e in edges if e["subject"] == k]
            for a, b in itertools.pairwise(mine):
                assert a["valid_to"] == b["valid_from"]  # no gap, no overlap
                assert a["valid_from"] <= b["valid_from"]
            assert mine[-1]["valid_to"] is None
        # as_of answers with the one fact whose interval contains the instant (empty ones never)
        queries = [{"subject": f"k{k}", "predicate": "p", "at": iso(at)} for k in range(4)]
        if known_at:
            queries = [{**q, "known_at": known_at} for q in queries]
        answers = compute("temporal", {"events": events, "queries": queries})["answers"]
        for k, got in enumerate(answers):
            holding = [e["object"] for e in edges if e["subject"] == f"k{k}"
                       and e["valid_from"] <= iso(at) and (e["valid_to"] is None or iso(at) < e["valid_to"])]
            assert holding == ([] if got is None else [got])


@settings(max_examples=100, deadline=None)
@given(raw=event_lists, at=days)
def test_known_at_latest_ingestion_equals_the_plain_query(raw, at):
    events = build(raw)
    latest = max(e["ingested_on"] for e in events)
    plain = [{"subject": f"k{k}", "predicate": "p", "at": iso(at)} for k in range(4)]
    known = [{**q, "known_at": latest} for q in plain]
    res = compute("temporal", {"events": events, "queries": plain + known})
    assert res["answers"][:4] == res["answers"][4:]


def test_snapshot_of_every_key_matches_one_query_per_key():
    res = temporal.compute(temporal.Params.from_dict({"generate": {"keys": 50, "events": 2000, "seed": 3}}))
    at = int(np.median(res.graph.start))
    snap = res.tiling.snapshot(at)
    for key in range(0, 50, 7):
        subject, predicate = res.graph.keys[key]
        q = temporal.Query(subject, predicate, temporal.to_iso(at))
        one = temporal.answer(res.graph, {res.graph.keys[key]: key}, {temporal.NEVER: res.tiling}, q)
        assert one == (None if snap[key] < 0 else res.graph.objects[int(res.tiling.seen[snap[key]])])


def _queries(n):
    return [{"subject": f"account-{i % 40:05d}", "predicate": "status", "at": f"202{i % 6}-0{i % 9 + 1}-01",
             **({"known_at": f"202{i % 5}-06-0{i % 3 + 1}"} if i % 4 else {})} for i in range(n)]


def test_queries_over_the_limit_are_refused_naming_it():
    gen = {"generate": {"keys": 40, "events": 500, "seed": 1}}
    assert len(temporal.Params.from_dict({**gen, "queries": _queries(temporal.MAX_QUERIES)}).queries) == 1000
    with pytest.raises(InputError, match=r"params\.queries: at most 1,000 queries, got 1,001"):
        temporal.Params.from_dict({**gen, "queries": _queries(temporal.MAX_QUERIES + 1)})


def test_queries_answered_together_match_one_at_a_time_at_many_known_at_instants():
    p = temporal.Params.from_dict({"generate": {"keys": 40, "events": 3000, "seed": 5},
                                   "queries": [*_queries(400), {"subject": "nobody", "predicate": "status",
                                                                "at": "2022-01-01"}]})
    res = temporal.compute(p)
    g = res.graph
    key_ids = {k: i for i, k in enumerate(g.keys)}
    one_by_one = [temporal.answer(g, key_ids, {temporal.NEVER: res.current}, q) for q in p.queries]
    assert list(res.answers) == one_by_one and one_by_one[-1] is None
    assert len({a for a in one_by_one if a is not None}) > 3


def test_building_a_generated_graph_reports_progress_to_the_end():
    heard = []
    # drawing reports every 50,000 events: 50,001 are heard twice while drawn, then five times indexed
    p = {"generate": {"keys": 100, "events": 50_001, "seed": 2}}
    assert compute("temporal", p, None, heard.append) == compute("temporal", p)
    assert heard == sorted(heard) and heard[0] == 0 and heard[-1] == 1 and len(heard) >= 6


def test_prepare_reports_rising_fractions_and_a_raising_callback_stops_it():
    p = temporal.Params.from_dict({"generate": {"keys": 100, "events": 50_001, "seed": 2}})
    heard = []
    built = temporal.prepare(p, None, heard.append)
    assert len(heard) >= 6 and heard == sorted(heard) and heard[0] == 0 and heard[-1] == 1
    assert built.current.seen.size > 0
    for n in (1, 3, len(heard)):
        told = []
        with pytest.raises(Cancelled):
            temporal.prepare(p, None, stop_at(n, told))
        assert len(told) == n, "nothing runs on after the callback raised"
