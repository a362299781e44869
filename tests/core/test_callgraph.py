"""Call graph: resolution rules, slices in every direction, tokens, errors, layout."""

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
    assert run(target="report", depth=0)["slice"] == ["report"]


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
    ({"source": MODULE, "depth": -1}, "params.depth: must be >= 0"),
])
def test_bad_input_names_the_field(params, message):
    with pytest.raises(InputError, match=message):
        compute("callgraph", params)


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
