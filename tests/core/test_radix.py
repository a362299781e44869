"""Radix tree: full matches after insert, stored = edge lengths, eviction spares held nodes."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import compute, radix
from core.errors import InputError
from core.radix_tree import RadixTree

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
