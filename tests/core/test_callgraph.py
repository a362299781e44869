"""Call graph: resolution rules, slices in every direction, tokens, errors, layout."""

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import callgraph, compute
from core.callgraph_layout import layered
from core.errors import InputError
from core.tokens import WordEstimate

MODULE = '''\
import json


def read(path):
    return json.loads(open(path).read())


def tidy(rows):
    def strip_one(row):
        return [c.strip() for c in row]
    return [strip_one(r) for r in rows]


class Ledger:
    def __init__(self, path):
        self.rows = tidy(read(path))

    def total(self):
        return sum(self._amounts())

    def _amounts(self):
        return [float(r[1]) for r in self.rows]


def report(path):
    ledger = Ledger(path)
    return f"{ledger.total():.2f}"


def unrelated():
    return print("hello")
'''

PACKAGE = {
    "shop/__init__.py": "from .pricing import price\n",
    "shop/pricing.py": "from . import tax\n\n\ndef price(x):\n    return tax.add_vat(x) + fee()\n\n\n"
                       "def fee():\n    return 1\n",
    "shop/tax.py": "RATE = 0.2\n\n\ndef add_vat(x):\n    return x * (1 + RATE)\n",
    "shop/cli.py": "import shop\nfrom shop.pricing import fee as base_fee\n\n\n"
                   "def main():\n    print(shop.price(3), base_fee())\n",
    "shop/broken.py": "def ok():\n    return 1\n\ndef bad(:\n    pass\n",
}


def run(**params):
    return compute("callgraph", {"source": MODULE, **params})


def test_methods_nested_functions_and_constructors_resolve():
    res = run(target="report")
    edges = {tuple(e) for e in res["edges"]}
    assert ("report", "Ledger.__init__") in edges  # calling a class runs its __init__
    assert ("Ledger.total", "Ledger._amounts") in edges  # self. resolves within the class
    assert ("tidy", "tidy.strip_one") in edges  # a nested function
    assert ("Ledger.__init__", "tidy") in edges and ("Ledger.__init__", "read") in edges
    # report only calls Ledger.__init__ and total through a local variable (unresolvable by name)
    assert res["slice"] == ["report", "Ledger.__init__", "read", "tidy", "tidy.strip_one"]
    assert res["dropped"] == ["Ledger.total", "Ledger._amounts", "unrelated"]


def test_slice_text_is_exact_source_in_source_order_and_nested_once():
    res = run(target="tidy")
    assert res["slice"] == ["tidy", "tidy.strip_one"]
    assert res["slice_text"] == MODULE.split("\n\n\n")[2]  # the nested def only inside its parent
    assert res["slice_tokens"] == WordEstimate().count(res["slice_text"])
    assert res["whole_tokens"] == WordEstimate().count(MODULE)


def test_callers_and_both_directions_and_depth():
    assert run(target="read", direction="callers")["slice"] == ["read", "Ledger.__init__", "report"]
    both = run(target="Ledger.__init__", direction="both")
    assert both["slice"] == ["Ledger.__init__", "read", "tidy", "tidy.strip_one", "report"]
    assert both["distance"]["report"] == -1 and both["distance"]["tidy.strip_one"] == 2
    assert run(target="report", depth=1)["slice"] == ["report", "Ledger.__init__"]
    with pytest.raises(InputError, match=r"params.depth: .*>= 1"):  # the panel's 0 means all the way
        run(target="report", depth=0)


def test_unresolved_calls_are_listed_builtins_first():
    res = run(target="Ledger.total")
    assert [(u["call"], u["kind"]) for u in res["unresolved"]] == [
        ("float", "builtin"), ("sum", "builtin")]
    kinds = {u["call"]: u["kind"] for u in run(target="read")["unresolved"]}
    assert kinds == {"json.loads": "external", "open": "builtin", "….read": "dynamic"}


def test_cls_in_a_classmethod_means_the_constructor():
    source = ("class A:\n    def __init__(self):\n        pass\n\n"
              "    @classmethod\n    def make(cls):\n        return cls()\n")
    assert compute("callgraph", {"source": source, "target": "A.make"})["slice"] == ["A.make", "A.__init__"]


def test_package_imports_relative_and_aliased_and_a_syntax_error_is_reported():
    res = compute("callgraph", {"files": PACKAGE, "target": "shop.cli:main"})
    assert res["slice"] == ["shop.cli:main", "shop.pricing:fee", "shop.pricing:price", "shop.tax:add_vat"]
    assert res["errors"] == [{"path": "shop/broken.py", "line": 4, "message": "invalid syntax"}]
    assert "shop.tax:add_vat" in res["functions"] and "shop.broken:ok" not in res["functions"]
    assert res["file_tokens"] == WordEstimate().count(PACKAGE["shop/cli.py"])
    assert res["whole_tokens"] == sum(WordEstimate().count(s) for s in PACKAGE.values())


def test_code_is_never_run():
    source = ("import os\nos.system('touch /tmp/ctxlab-should-not-exist')\n\n\n"
              "def f():\n    g()\n\n\ndef g():\n    pass\n")
    res = compute("callgraph", {"source": source, "target": "f"})
    assert res["slice"] == ["f", "g"]
    import os
    assert not os.path.exists("/tmp/ctxlab-should-not-exist")


@pytest.mark.parametrize(("params", "message"), [
    ({"source": ""}, "params.source: give Python source"),
    ({"source": MODULE, "target": "nope"}, "params.target: no function named 'nope'"),
    ({"source": MODULE, "direction": "up"}, "params.direction: must be one of"),
    ({"source": MODULE, "depth": 0}, "params.depth: must be >= 1"),
])
def test_bad_input_names_the_field(params, message):
    with pytest.raises(InputError, match=message):
        compute("callgraph", params)


def test_code_over_the_total_character_limit_is_refused_naming_it():
    limit = callgraph.MAX_TOTAL_CHARS
    half = "# x\n" * (limit // 8)  # comment lines: nothing to analyse, cheap to build
    at_limit = {"a.py": half, "b.py": half + "#" * (limit - 2 * len(half))}
    assert sum(map(len, at_limit.values())) == limit
    assert callgraph.Params.from_dict({"files": at_limit}).files == at_limit
    with pytest.raises(InputError, match=f"params.files: longer than {limit:,} characters in all"):
        compute("callgraph", {"files": {**at_limit, "c.py": "x"}})
    with pytest.raises(InputError, match=f"params.source: longer than {limit:,} characters"):
        compute("callgraph", {"source": "#" * (limit + 1)})


def test_depth_sweep_grows_to_the_whole_slice():
    params = callgraph.Params(source=MODULE, target="report")
    curve = callgraph.sweep(params, "depth", [0, 1, 2, 3, 10])
    assert curve["functions"].tolist() == [1, 2, 4, 5, 5]
    assert np.all(np.diff(curve["slice_tokens"]) >= 0)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 25), raw=st.lists(st.tuples(st.integers(0, 24), st.integers(0, 24)), max_size=60))
def test_layout_puts_callers_left_of_callees_on_acyclic_edges(n, raw):
    edges = np.array([(a % n, b % n) for a, b in raw if a % n < b % n], np.int64).reshape(-1, 2)
    x, y = layered(n, edges)
    assert x.shape == y.shape == (n,)
    for a, b in edges.tolist():
        assert x[a] < x[b]
    placed = {(float(i), float(j)) for i, j in zip(x, y, strict=True)}
    assert len(placed) == n  # no two nodes on the same spot


def test_layout_survives_cycles_and_recursion():
    edges = np.array([[0, 1], [1, 2], [2, 0], [2, 2], [3, 3]])
    x, y = layered(4, edges)
    assert len({(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)}) == 4


def chain(n):
    """A module where f0 calls f1 calls f2 ... (an n-deep call chain), with a nested helper."""
    body = [f"def f{i}(x):\n    return f{i + 1}(x)\n" for i in range(n - 1)]
    last = f"def f{n - 1}(x):\n    def inner():\n        return f0(1)\n    return inner()\n"
    return "\n\n".join([*body, last])


class LineCounter:
    """A counter that is not a words/chars estimate: one token per line, counting what it read."""

    name = "lines"
    cheap = True

    def __init__(self):
        self.read = 0

    def count(self, text):
        self.read += len(text)
        return text.count("\n") + 1

    def count_many(self, texts):
        return [self.count(t) for t in texts]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 12), raw=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=30),
       nested=st.lists(st.booleans(), min_size=12, max_size=12),
       estimator=st.sampled_from(["words", "chars"]),
       direction=st.sampled_from(callgraph.DIRECTIONS), pick=st.integers(0, 40))
def test_depth_curve_is_the_slice_tokens_at_every_depth(n, raw, nested, estimator, direction, pick):
    calls = {i: [b % n for a, b in raw if a % n == i] for i in range(n)}
    source = "\n\n".join(
        f"def f{i}(x):\n" + (f"    def g{i}():\n        return f{(i + 1) % n}(x)\n" if nested[i] else "")
        + "".join(f"    f{c}(x)\n" for c in calls[i]) + "    return x\n" for i in range(n))
    params = callgraph.Params(source=source, estimator=estimator)
    prepared = callgraph.prepare(params)
    g = prepared.graph
    target = pick % len(g.names)
    curve = callgraph.depth_curve(g, target, direction, prepared.counter)
    cuts = [callgraph.cut(callgraph.Params(source, target=g.names[target], direction=direction, depth=d,
                                           estimator=estimator), g) for d in range(n + 1)]
    far = next(d for d in range(n + 1) if len(cuts[d].distance) == len(cuts[-1].distance))  # stops growing
    assert curve["depth"].tolist() == list(range(far + 1))
    assert curve["slice_tokens"].tolist() == [c.slice_tokens for c in cuts[:far + 1]]
    counter = LineCounter()  # any other counter counts the slice text itself
    assert callgraph.depth_curve(g, target, direction, counter)["slice_tokens"].tolist() == [
        counter.count(callgraph.cut(callgraph.Params(source, target=g.names[target], direction=direction,
                                                     depth=d), g).slice_text) for d in range(far + 1)]


def test_depth_curve_of_a_deep_chain_reads_the_code_a_bounded_number_of_times():
    source = chain(3000)
    prepared = callgraph.prepare(callgraph.Params(source=source))
    g = prepared.graph
    curve = callgraph.depth_curve(g, 0, "callees", prepared.counter)
    assert curve["depth"].size == callgraph.CURVE_POINTS and curve["depth"][-1] == 3000  # f2999.inner
    assert curve["depth"][:128].tolist() == list(range(128))
    for d in (0, 127, int(curve["depth"][200]), 3000):
        i = curve["depth"].tolist().index(d)
        assert curve["slice_tokens"][i] == callgraph.cut(callgraph.Params(source, depth=d), g).slice_tokens
    counter = LineCounter()
    curve = callgraph.depth_curve(g, 0, "callees", counter)
    # one slice per depth read the code 3,000 times over (O(depth²)); now at most COUNTED_POINTS times
    assert curve["depth"].size == callgraph.COUNTED_POINTS
    assert counter.read <= callgraph.COUNTED_POINTS * len(source)
    whole = callgraph.cut(callgraph.Params(source), g).slice_text
    assert curve["slice_tokens"][-1] == LineCounter().count(whole)


def test_layout_work_does_not_grow_with_the_number_of_layers():
    """Ordering nodes within layers once looped over every layer (8 s for a 40,000-deep chain):
    count the calls the ordering makes, which must not depend on how deep the graph is."""
    def calls_in_ordering(n):
        made = [0]

        def profile(frame, event, arg):
            if event == "c_call" and frame.f_code.co_name in ("_order", "_rank"):
                made[0] += 1
        edges = np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)
        sys.setprofile(profile)
        try:
            x, _ = layered(n, edges)
        finally:
            sys.setprofile(None)
        assert x.tolist() == sorted(x.tolist()) and len(set(x.tolist())) == n  # one layer per call
        return made[0]

    assert calls_in_ordering(2000) == calls_in_ordering(50)
