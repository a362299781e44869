"""Radix tree: full matches after insert, stored = edge lengths, eviction spares held nodes."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import compute, radix
from core.errors import InputError
from core.radix_tree import POLICIES, RadixTree

streams = st.lists(st.lists(st.sampled_from("abcde"), min_size=1, max_size=12), min_size=1, max_size=30)


def distinct_prefix_blocks(seqs):
    """Blocks a perfect prefix cache stores: one per distinct prefix."""
    return len({tuple(s[:i + 1]) for s in seqs for i in range(len(s))})


@settings(max_examples=200, deadline=None)
@given(seqs=streams)
def test_everything_inserted_matches_in_full_and_shares_prefixes(seqs):
    tree = RadixTree()
    for i, s in enumerate(seqs):
        matched, _ = tree.insert(s, i)
        assert matched == max((len(_common(s, t)) for t in seqs[:i]), default=0)
    for s in seqs:
        assert tree.match_prefix(s) == len(s)
    nodes = tree.nodes()
    assert tree.stored == sum(len(n.edge) for n in nodes) == distinct_prefix_blocks(seqs)
    for n in nodes[1:]:  # compressed: no edge is empty, siblings differ in their first block
        assert n.edge and n.parent.children[n.edge[0]] is n


def _common(a, b):
    out = []
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        out.append(x)
    return out


@settings(max_examples=200, deadline=None)
@given(seqs=streams, capacity=st.integers(1, 30), hold=st.integers(0, 3))
def test_eviction_keeps_within_capacity_and_never_drops_held_paths(seqs, capacity, hold):
    replay = radix.Replay([tuple(s) for s in seqs], capacity, hold)
    for step in range(1, len(seqs) + 1):
        tree = replay.advance(step)
        held = seqs[max(0, step - hold):step] if hold else []
        for s in held:
            assert tree.match_prefix(s) == len(s)  # a running request's blocks stay
        held_blocks = distinct_prefix_blocks(held) if held else 0
        assert tree.stored <= max(capacity, held_blocks)
        assert tree.stored == sum(len(n.edge) for n in tree.nodes())


def test_stepping_back_replays_the_same_tree():
    seqs = [tuple("abcd"), tuple("abxy"), tuple("q"), tuple("abcz")]
    replay = radix.Replay(seqs, None, 1)
    replay.advance(4)
    late = [(n.edge, n.refs) for n in replay.tree.nodes()]
    replay.advance(2)
    assert replay.tree.stored == 6 and replay.step == 2
    replay.advance(4)
    assert [(n.edge, n.refs) for n in replay.tree.nodes()] == late


def test_prompts_share_their_common_opening_blocks():
    common = "one two three four five six"
    res = compute("radix", {"prompts": [f"{common} alpha", f"{common} beta", f"{common} gamma"],
                            "block_words": 3})
    assert res["blocks_no_share"] == 9 and res["blocks_stored"] == 2 + 3
    assert res["matched"] == [0, 2, 2]
    root_child = next(n for n in res["nodes"] if n["parent"] == 0)
    assert root_child["label"] == "one two three four five six" and root_child["refs"] == 3


def test_layout_spans_edges_by_their_length():
    res = radix.compute(radix.Params(requests=(("a", "b", "c"), ("a", "b", "d", "e"))))
    lay = res.drawn
    labels = [radix.label(lay, i) for i in range(len(lay.ids))]
    widths = {text: lay.x1[i] - lay.x0[i] for i, text in enumerate(labels)}
    assert widths == {"": 0, "a b": 2, "c": 1, "d e": 2}
    split, tail = labels.index("a b"), labels.index("d e")
    assert lay.x0[tail] == lay.x1[split] == 2
    assert radix.prefix(lay, tail) == ("a", "b", "d", "e")
    assert radix.sharers([("a", "b", "c"), ("a", "b", "d", "e")], lay, split, 2) == [0, 1]


@pytest.mark.parametrize("params, message", [
    ({}, "give either requests"),
    ({"requests": [["a"]], "prompts": ["x"]}, "give either requests"),
    ({"requests": [["a", True]]}, r"params.requests\[0\]"),
    ({"prompts": ["ok", 3]}, r"params.prompts\[1\]"),
    ({"requests": [["a"]], "capacity_blocks": 0}, "params.capacity_blocks: must be >= 1"),
])
def test_bad_params_name_the_field(params, message):
    with pytest.raises(InputError, match=message):
        compute("radix", params)


def test_prefix_hits_match_a_plain_trie_on_the_bench_stream():
    from app.bench_core import _trie_insert
    from app.bench_loads import radix_bench_stream

    stream = radix_bench_stream(total_blocks=5000, seed=3)
    replay = radix.Replay(list(stream), None, 1)
    replay.advance(len(stream))
    trie: dict = {}
    assert replay.matched == [_trie_insert(trie, req) for req in stream]


# ---- honest totals, eviction policies, misses, the capacity curve (issue 20) -------------------

class ScanTree(RadixTree):
    """A plain reference: every eviction scans the whole tree for the policy's smallest leaf."""

    def evict(self, capacity, request=-1):
        while self.stored > capacity:
            leaves = [n for n in self.nodes()[1:] if not n.children and not n.active]
            if not leaves:
                return
            victim = min(leaves, key=self.key)
            del victim.parent.children[victim.edge[0]]
            self.stored -= len(victim.edge)
            self.evicted += len(victim.edge)


def plain_replay(seqs, capacity, hold, eviction):
    """Replay with the scanning reference tree; return matched and stored per request."""
    tree, held, matched, stored = ScanTree(capacity, eviction), [], [], []
    for i, s in enumerate(seqs):
        if hold and len(held) >= hold:
            tree.release(held.pop(0))
        m, _ = tree.insert(s, i, hold=hold > 0)
        if hold:
            held.append(s)
        matched.append(m)
        stored.append(tree.stored)
    return matched, stored


@settings(max_examples=150, deadline=None)
@given(seqs=streams, capacity=st.integers(1, 30), hold=st.integers(0, 3),
       eviction=st.sampled_from(["lru", "lfu", "fifo"]))
def test_heap_eviction_matches_a_full_scan_every_step(seqs, capacity, hold, eviction):
    seqs = [tuple(s) for s in seqs]
    replay = radix.Replay(seqs, capacity, hold, eviction)
    replay.advance(len(seqs))
    assert (replay.matched, replay.stored) == plain_replay(seqs, capacity, hold, eviction)


def test_totals_on_a_hand_checked_unbounded_stream():
    res = compute("radix", {"requests": [list("abc"), list("abd"), list("abc"), ["x"]]})
    # a b c (nothing cached), a b|d (split: 4 stored), a b c (all 3 cached), x (new)
    assert res["matched"] == [0, 2, 3, 0]
    assert {k: res[k] for k in ("blocks_requested", "blocks_hit", "blocks_saved", "blocks_computed",
                                "blocks_stored", "peak_stored", "blocks_evicted")} == {
        "blocks_requested": 10, "blocks_hit": 5, "blocks_saved": 5, "blocks_computed": 5,
        "blocks_stored": 5, "peak_stored": 5, "blocks_evicted": 0}
    assert res["hit_rate"] == 0.5
    assert [(m["request"], m["matched"], m["needed"], m["reason"]) for m in res["misses"]] == [
        (0, 0, 3, "new"), (1, 2, 3, "new"), (3, 0, 1, "new")]


def test_an_eviction_caused_miss_names_the_request_that_evicted():
    # capacity 4, nothing held: after "x y" arrives the LRU leaves c then d go (6 -> 4 blocks);
    # "a b c" then finds a b but not c: seen before, evicted by request 2 (gone at step 3);
    # storing c again (5 blocks) evicts the least recent leaf, x y.
    res = compute("radix", {"requests": [list("abc"), list("abd"), list("xy"), list("abc")],
                            "capacity_blocks": 4, "hold": 0})
    assert res["matched"] == [0, 2, 0, 2]
    assert {k: res[k] for k in ("blocks_requested", "blocks_hit", "blocks_computed", "blocks_stored",
                                "peak_stored", "blocks_evicted")} == {
        "blocks_requested": 11, "blocks_hit": 4, "blocks_computed": 7, "blocks_stored": 3,
        "peak_stored": 4, "blocks_evicted": 4}
    last = res["misses"][-1]
    assert last == {"request": 3, "matched": 2, "needed": 3, "seen": 3, "reason": "evicted",
                    "evicted_by": 2, "evicted_at_step": 3}
    assert [m["reason"] for m in res["misses"][:3]] == ["new", "new", "new"]
    assert res["at_step"]["step"] == 4 and res["at_step"]["blocks_evicted"] == 4


def test_policies_choose_different_victims():
    # capacity 4: a b c (used 3 times) and q fill it; r forces one leaf out, then q comes back
    # and forces another. lru: q goes (least recent), then a b c (older than r) -> last a b c misses.
    # lfu: q goes (1 use, older than r), then r (1 use) -> a b c survives.
    # fifo: a b c goes first (oldest), so q still hits; then q (older than r) -> a b c misses.
    seqs = [list("abc"), list("abc"), ["q"], list("abc"), ["r"], ["q"], list("abc")]
    got = {p: compute("radix", {"requests": seqs, "capacity_blocks": 4, "hold": 0, "eviction": p})["matched"]
           for p in ("lru", "lfu", "fifo")}
    assert got["lru"] == [0, 3, 0, 3, 0, 0, 0]
    assert got["lfu"] == [0, 3, 0, 3, 0, 0, 3]
    assert got["fifo"] == [0, 3, 0, 3, 0, 1, 0]


def shipped_stream():
    from widgets.loaders import read_scenario
    from widgets.resources import samples

    _lever, raw = read_scenario(next(p for p in samples("radix")))
    return radix.Params.from_dict(raw)


def test_a_smaller_capacity_never_saves_more_on_the_shipped_stream():
    params = shipped_stream()
    stream = params.stream()
    assert len(stream) >= 40
    unbounded = compute("radix", {**params.to_dict(), "capacity_blocks": None})
    saved = []
    for cap in range(1, unbounded["blocks_stored"] + 2):
        res = radix.compute(dataclasses.replace(params, capacity_blocks=cap), curve=())
        saved.append(res.summary()["blocks_saved"])
    assert saved == sorted(saved)  # LRU (the default): more room never saves less
    assert saved[-1] == unbounded["blocks_saved"] and saved[0] < saved[-1]


def test_capacity_curve_matches_a_plain_resimulation():
    params = shipped_stream()
    stream = params.stream()
    caps = (12, 40, 90)
    res = compute("radix", {**params.to_dict(), "capacity_sweep": list(caps)})
    total = sum(map(len, stream))
    assert len(res["capacity_curve"]) == 9
    for point in res["capacity_curve"]:
        matched, _ = plain_replay(stream, point["capacity"], params.hold, point["eviction"])
        assert point["blocks_hit"] == sum(matched)
        assert point["hit_rate"] == sum(matched) / total
    auto = radix.compute(params).curve
    assert auto[-1]["capacity"] == compute("radix", params.to_dict())["blocks_stored"]
    assert auto[-1]["hit_rate"] == compute("radix", params.to_dict())["hit_rate"]


@pytest.mark.parametrize("params, message", [
    ({"requests": [["a"]], "eviction": "mru"}, "params.eviction: must be one of lru, lfu, fifo"),
    ({"requests": [["a"]], "capacity_sweep": []}, "params.capacity_sweep: give 1 to 64"),
    ({"requests": [["a"]], "capacity_sweep": [4, 0]}, r"params.capacity_sweep\[1\]: must be >= 1"),
    ({"requests": [["a"]], "capacity_sweep": "4"}, "params.capacity_sweep: expected a list"),
])
def test_bad_policy_and_sweep_name_the_field(params, message):
    with pytest.raises(InputError, match=message):
        compute("radix", params)


def test_explaining_a_miss_shows_the_divergence_and_the_evicting_request():
    from core.radix_miss import explain

    seqs = [("sys", "where is parcel 7", "thanks"), ("sys", "where is box 9"), ("q",),
            ("sys", "where is parcel 7", "bye")]
    new = explain(seqs, None, 0, "lru", 1)
    assert (new.matched, new.needed, new.reason, new.evicted_by) == (1, 2, "new", None)
    assert (new.request_block, new.cached_block, new.prefix) == ("where is box 9", "where is parcel 7", "sys")
    assert new.diff == (("equal", "where is", "where is"), ("replace", "box 9", "parcel 7"))
    # capacity 4, nothing held: "q" evicts request 0's tail edge ("where is parcel 7" "thanks")
    gone = explain(seqs, 4, 0, "lru", 3)
    assert (gone.matched, gone.reason, gone.evicted_by) == (1, "evicted", 2)
    assert (gone.request_block, gone.cached_block) == ("where is parcel 7", "where is box 9")
    assert explain(seqs, None, 0, "lru", 0).cached_block is None  # nothing cached after "sys" yet
    hit = explain([("a",), ("a",)], None, 0, "lru", 1)
    assert hit.reason == "hit" and hit.request_block is None


def test_shared_words_counts_the_opening_shared_with_any_earlier_request():
    from core.radix_miss import shared_words

    lines = [["you", "are", "a", "bot", "hi"], ["you", "are", "a", "cat"], ["you", "are", "a", "bot", "bye"],
             ["hello"], ["you", "are", "a", "bot", "hi"]]
    assert shared_words(lines) == [0, 3, 4, 0, 5]


@settings(max_examples=100, deadline=None)
@given(seqs=streams)
def test_layout_matches_a_plain_walk(seqs):
    tree = RadixTree()
    for i, s in enumerate(seqs):
        tree.insert(s, i)
    lay = radix.layout(tree, len(seqs))
    n, par = len(lay.ids), lay.parent_index.tolist()
    ends, start, rows, row, last = [0] * n, [0.0] * n, [0.0] * n, 0, [-1] * n
    for i in range(1, n):  # parents first: walk down
        ends[i] = ends[par[i]] + len(lay.edges[i])
        last[par[i]] = i
    for i in range(n - 1, -1, -1):  # leaves one row apart, parents midway between first and last child
        rows[i] = (rows[i + 1] + rows[last[i]]) / 2 if last[i] >= 0 else row
        row += last[i] < 0
    assert lay.x1.tolist() == ends and (lay.y == max(rows) - np.array(rows)).all()
    for i in range(1, n):  # each band starts where its earlier siblings' bands end
        before = sum(lay.refs[j] for j in range(1, i) if par[j] == par[i]) / len(seqs)
        start[i] = start[par[i]] + before
    assert np.allclose(lay.band0, start)



def same_layout(a, b):
    """Assert two layouts hold the same nodes in the same order with the same numbers."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert (np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y), f.name


@settings(max_examples=150, deadline=None)
@given(seqs=streams, capacity=st.none() | st.integers(1, 20), hold=st.integers(0, 3),
       eviction=st.sampled_from(["lru", "lfu", "fifo"]),
       steps=st.lists(st.integers(0, 30), min_size=1, max_size=12))
def test_the_kept_layout_matches_a_fresh_walk_at_every_step(seqs, capacity, hold, eviction, steps):
    # the step tick lays out only what changed since the last step (issue 20): forward by a few
    # requests, back (a new replay), with splits, evictions and ghosts, it must equal the walk
    seqs = [tuple(s) for s in seqs]
    replay = radix.Replay(seqs, capacity, hold, eviction)
    for step in steps:
        replay.advance(step)
        same_layout(replay.layout(), radix.layout(replay.tree, replay.step))


def test_the_kept_layout_matches_the_walk_on_the_bench_stream_with_evictions():
    from app.bench_loads import radix_bench_stream

    stream = list(radix_bench_stream(6_000))
    replay = radix.Replay(stream, 300, 2)
    for step in (40, 41, 45, 60, 200, 201, 250, 30, 31):
        replay.advance(step)
        lay = replay.layout()
        assert lay.ghost.any() or step < 45
        same_layout(lay, radix.layout(replay.tree, replay.step))

# ---- prepare / derive (issue 19): the step is live, everything else prepares anew --------------

def test_every_step_derived_from_one_prepared_state_matches_compute():
    params = dataclasses.replace(shipped_stream(), capacity_blocks=20)
    prepared = radix.prepare(params)
    for step in (40, 3, 17, 18, None, 0, 41):  # forward, back (a replay from the start), forward
        moved = dataclasses.replace(params, at_step=step)
        assert {f for f in radix.Params.__dataclass_fields__
                if getattr(moved, f) != getattr(params, f)} <= radix.LIVE
        derived = radix.derive(prepared, moved)
        assert derived.to_dict() == compute("radix", moved.to_dict())
        assert derived.matched is prepared.matched and derived.curve is prepared.curve  # nothing replayed


def test_the_sweep_is_kept_across_capacity_and_policy_and_made_anew_for_another_hold():
    params = shipped_stream()
    first = radix.prepare(params)
    moved = radix.prepare(dataclasses.replace(params, capacity_blocks=30, eviction="lfu"), previous=first)
    assert moved.curve is first.curve
    held = dataclasses.replace(params, hold=3)
    other = radix.prepare(held, previous=first)
    assert other.curve is not first.curve and other.curve == radix.prepare(held).curve


def test_a_step_back_cut_short_raises_and_the_next_derive_carries_on():
    from core.errors import Cancelled
    from core.tokens import cancellable

    params = shipped_stream()
    prepared = radix.prepare(params)
    back = dataclasses.replace(params, at_step=10)
    with cancellable(lambda: True), pytest.raises(Cancelled):
        radix.derive(prepared, back)
    assert prepared.replay.step < 10
    assert radix.derive(prepared, back).to_dict() == compute("radix", back.to_dict())


def test_a_given_capacity_sweep_replaying_more_than_the_automatic_one_is_refused_up_front():
    """Issue 28: 64 capacities over 2,000,000 blocks replayed for minutes; the limit is what the
    automatic sweep replays for the longest stream, and the refusal names it."""
    requests = [[f"r{r}b{b}" for b in range(100)] for r in range(1_000)]  # 100,000 blocks
    fits = radix.SWEEP_WORK // (len(POLICIES) * 100_000)
    radix.Params.from_dict({"requests": requests, "capacity_sweep": list(range(1, fits + 1))})
    with pytest.raises(InputError, match=(
            rf"^params.capacity_sweep: {fits + 1} capacities x 3 policies x 100,000 blocks is "
            rf"{(fits + 1) * 300_000:,} blocks to replay, more than the {radix.SWEEP_WORK:,} a sweep")):
        radix.Params.from_dict({"requests": requests, "capacity_sweep": list(range(1, fits + 2))})


def test_block_ids_are_strings_or_integers_and_read_as_strings():
    params = radix.Params.from_dict({"requests": [["a", 7], [3, "a"]]})
    assert params.requests == (("a", "7"), ("3", "a"))
    for bad in (True, 1.5, None, ["a"]):
        with pytest.raises(InputError, match=r"requests\[1\]: expected a list of block ids"):
            radix.Params.from_dict({"requests": [["a"], ["b", bad]]})
    with pytest.raises(InputError, match=r"requests\[0\]: expected a list of block ids"):
        radix.Params.from_dict({"requests": ["ab"]})
