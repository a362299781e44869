import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import packer
from core.errors import Cancelled, InputError
from core.tokens import WordEstimate
from tests.core.cancelling import stop_at

WORDS = WordEstimate()


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 7))
    parts = tuple(
        packer.Part(f"p{i}", " ".join(["w"] * draw(st.integers(0, 40))),
                    pinned=draw(st.booleans()), rank=draw(st.integers(0, 5)))
        for i in range(n))
    budget = draw(st.integers(0, 300))
    policy = draw(st.sampled_from(packer.POLICIES))
    return packer.Params(parts=parts, budget=budget, policy=policy)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_every_part_is_kept_or_dropped_and_the_budget_holds(params):
    res = packer.compute(params)
    names = [p.name for p in params.parts]
    kept, dropped = res.packing.kept, res.packing.dropped
    assert sorted(kept + dropped) == sorted(names)
    assert not set(kept) & set(dropped)
    tokens = dict(zip(names, res.tokens.tolist(), strict=True))
    assert res.packing.used == sum(tokens[n] for n in kept)
    pinned_total = sum(tokens[p.name] for p in params.parts if p.pinned)
    if pinned_total <= params.budget:
        assert res.packing.used <= params.budget
    else:  # pinned parts alone overflow: only they are sent
        assert set(kept) == {p.name for p in params.parts if p.pinned}
    # pinned first, then the others in their original order
    pinned_names = [p.name for p in params.parts if p.pinned]
    assert list(kept[: len(pinned_names)]) == pinned_names
    rest = list(kept[len(pinned_names):])
    assert rest == sorted(rest, key=names.index)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_sweep_agrees_with_compute_at_every_budget(params):
    budgets = np.arange(0, 320, 7)
    sweep = packer.sweep(params, "budget", budgets)
    names = [p.name for p in params.parts]
    for j, b in enumerate(budgets):
        one = packer.compute(packer.Params(params.parts, int(b), params.policy))
        assert sweep.used[j] == one.packing.used
        assert [names[i] for i in np.flatnonzero(sweep.kept[:, j])] == sorted(
            one.packing.kept, key=names.index)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_drop_oldest_sends_more_or_equal_as_the_budget_grows(params):
    oldest = packer.Params(params.parts, params.budget, "drop_oldest")
    used = packer.sweep(oldest, "budget", np.arange(0, 400)).used
    assert np.all(np.diff(used) >= 0)


def parts(*sizes, pinned=(), ranks=None):
    return tuple(packer.Part(f"p{i}", " ".join(["w"] * n), i in pinned,
                             (ranks or [1] * len(sizes))[i]) for i, n in enumerate(sizes))


def test_drop_oldest_keeps_newest_and_skips_what_does_not_fit():
    # 10 words -> 13 tokens, 20 -> 26, 5 -> 6 (6.5 rounds to even)
    res = packer.compute(packer.Params(parts(10, 20, 5), budget=20))
    assert res.packing.kept == ("p0", "p2")  # p2 first (newest), p1 too big, p0 still fits
    assert res.packing.used == 19


def test_drop_largest_keeps_the_smallest_parts():
    res = packer.compute(packer.Params(parts(10, 20, 5, 30), budget=45, policy="drop_largest"))
    assert res.packing.kept == ("p0", "p1", "p2")
    assert res.packing.dropped == ("p3",)


def test_priority_keeps_by_rank_and_pinned_always_stays():
    res = packer.compute(packer.Params(parts(10, 20, 5, 2, pinned=(3,), ranks=[2, 1, 3, 9]),
                                       budget=35, policy="priority"))
    assert res.packing.kept == ("p3", "p1", "p2")  # pinned p3, then rank 1 (26), rank 3 (6)
    assert res.compare["drop_oldest"].kept == ("p3", "p1", "p2")


def test_cost_prices_the_sent_tokens():
    res = packer.compute(packer.Params(parts(100), budget=1000, output_tokens=200, calls=10))
    per_call = (130 * 5.0 + 200 * 25.0) / 1e6
    assert res.to_dict()["cost"]["cost"] == pytest.approx(per_call * 10)


def test_result_is_json_safe_and_params_round_trip():
    params = packer.Params(parts(3, 4, pinned=(0,)), budget=5, policy="priority")
    again = packer.Params.from_dict(json.loads(json.dumps(params.to_dict())))
    assert again == params
    data = json.loads(json.dumps(packer.compute(params).to_dict()))
    assert data["parts"][0] == {"name": "p0", "tokens": 4, "pinned": True}


@pytest.mark.parametrize(("raw", "message"), [
    ({"budget": 5}, r"params\.parts: required"),
    ({"parts": [], "budget": -1}, r"params\.budget: must be >= 0"),
    ({"parts": [], "budget": "lots"}, r"params\.budget: expected an integer"),
    ({"parts": [{"name": "a"}], "budget": 1}, r"params\.parts\[0\]\.text: required"),
    ({"parts": [{"name": "a", "text": 3}], "budget": 1}, r"params\.parts\[0\]\.text: expected"),
    ({"parts": [], "budget": 1, "policy": "lru"}, r"params\.policy: must be one of"),
    ({"parts": [], "budget": 1, "bugdet": 2}, r"params: unknown field\(s\) bugdet"),
    ({"parts": [{"name": "a", "text": ""}, {"name": "a", "text": ""}], "budget": 1},
     r"params\.parts: part names must be unique"),
    ([], r"params: expected an object"),
])
def test_bad_params_name_the_field(raw, message):
    with pytest.raises(InputError, match=message):
        packer.Params.from_dict(raw)


def test_only_budget_can_be_swept():
    with pytest.raises(InputError, match="sweepable: budget"):
        packer.sweep(packer.Params(parts(1), 1), "policy", [1])


def _parts(n):
    return [{"name": f"p{i}", "text": "a b"} for i in range(n)]


def test_the_parts_limit_refuses_one_over_naming_it_and_validates_the_limit_in_linear_time():
    # 100,000 names used to be checked with names.count(n) per name (quadratic: minutes)
    at_limit = packer.Params.from_dict({"parts": _parts(packer.MAX_PARTS), "budget": 1})
    assert len(at_limit.parts) == packer.MAX_PARTS
    with pytest.raises(InputError, match=rf"params\.parts: 100,001 parts is over the limit of "
                                         rf"{packer.MAX_PARTS:,}"):
        packer.Params.from_dict({"parts": _parts(packer.MAX_PARTS + 1), "budget": 1})


def test_repeated_names_are_listed_once_each_sorted():
    parts = [*_parts(5), {"name": "p3", "text": ""}, {"name": "p1", "text": ""}, {"name": "p3", "text": ""}]
    with pytest.raises(InputError) as refused:
        packer.Params.from_dict({"parts": parts, "budget": 1})
    assert str(refused.value) == "params.parts: part names must be unique, repeated: ['p1', 'p3']"


class _ApiLike:
    """A counter that is not cheap (as the exact one), counting whitespace words."""

    name, cheap = "words", False

    def __init__(self):
        self.asked = []

    def count(self, text):
        return self.count_many([text])[0]

    def count_many(self, texts):
        self.asked += texts
        return [len(t.split()) for t in texts]


def test_prepare_reports_each_part_counted_and_a_raising_callback_stops_the_count():
    p = packer.Params(parts=tuple(packer.Part(f"p{i}", "w " * i) for i in range(5)), budget=10)
    heard, counter = [], _ApiLike()
    counted = packer.prepare(p, counter, heard.append)
    assert heard == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert counted.tokens.tolist() == [0, 1, 2, 3, 4] == packer.prepare(p, _ApiLike()).tokens.tolist()
    cheap = []
    assert packer.prepare(p, None, cheap.append).tokens.tolist() == packer.prepare(p).tokens.tolist()
    assert cheap == [0.0], "a cheap estimate counts at once"

    counter, told = _ApiLike(), []
    with pytest.raises(Cancelled):
        packer.prepare(p, counter, stop_at(3, told))
    assert len(told) == 3 and len(counter.asked) == 2, "no part is counted after the callback raised"
    with pytest.raises(Cancelled):
        packer.prepare(p, None, stop_at(1, []))
