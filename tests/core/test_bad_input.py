"""Bad params for every lever: the only exception ``core.compute`` lets out is ``InputError``.

Each case starts from a lever's shipped sample and breaks one field (or a field inside a list
or an object) with a value of the wrong type, out of range, empty, huge or malformed; the
message must start with the path of a field.
"""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core
from core.errors import InputError
from widgets.loaders import read_scenario
from widgets.resources import samples

SAMPLES = {lever: read_scenario(samples(lever)[0])[1] for lever in core.REGISTRY}
SMALL = {"radix": {"requests": [["a", "b"], ["a", "c"]]},
         "temporal": {"events": [{"subject": "s", "predicate": "p", "object": "o",
                                  "valid_from": "2024-01-01"}]},
         "callgraph": {"source": "def f():\n    g()\n\n\ndef g():\n    pass\n"},
         "attention": {"n": 64, "d": 16, "window": 8},
         "kv_blocks": {"lengths": [5, 30, 12], "max_seq_len": 64}}
"""Small stand-ins where the sample is slow to compute many times (a fuzz runs hundreds)."""

junk = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.binary(max_size=8).map(lambda b: b.decode("latin-1")),
    st.lists(st.integers(-5, 5), max_size=4), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just("x" * 5000), st.just([[[[[]]]]]), st.just(-1), st.just(0), st.just(10**18), st.just(""),
)


def paths(value, prefix=()):
    """Every (path, value) inside a params dict, lists and objects included (first 3 items)."""
    yield prefix, value
    if isinstance(value, dict):
        for k, v in list(value.items())[:12]:
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from paths(v, (*prefix, i))


def replace(params, path, new):
    out = json.loads(json.dumps(params))
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return out


def check(lever, params):
    try:
        result = core.compute(lever, params)
    except InputError as exc:
        assert str(exc).startswith("params"), f"the message names the field: {exc}"
        return
    json.dumps(result, allow_nan=False)  # accepted params give strict JSON: no NaN or infinity


@pytest.mark.parametrize("lever", list(core.REGISTRY))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_only_input_errors_escape(lever, data):
    base = {**SAMPLES[lever], **SMALL.get(lever, {})}
    if lever == "compaction":
        base["turns"] = base["turns"][:12]
    if lever == "bpe":
        base["corpus"] = base["corpus"][:2000]
    candidates = [p for p, _ in paths(base) if p]
    path = data.draw(st.sampled_from(candidates))
    params = replace(base, path, data.draw(junk))
    check(lever, params)


@pytest.mark.parametrize("lever", list(core.REGISTRY))
def test_unknown_fields_and_non_objects_are_refused(lever):
    for bad in ([], "params", 3, None):
        with pytest.raises(InputError):
            core.compute(lever, bad)
    with pytest.raises(InputError, match="unknown field"):
        core.compute(lever, {**SAMPLES[lever], "no_such_field": 1})


def test_nan_infinity_and_huge_numbers_in_any_field_are_refused_or_harmless():
    for lever in core.REGISTRY:
        base = {**SAMPLES[lever], **SMALL.get(lever, {})}
        if lever == "compaction":
            base["turns"] = base["turns"][:12]
        for path, _ in paths(base):
            for value in (math.nan, math.inf, -math.inf, 1e300, -1e300, 2**62, 1e15):
                if path:
                    check(lever, replace(base, path, value))
