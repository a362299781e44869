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
         "kv_blocks": {"lengths": [5, 30, 12], "max_seq_len": 64},
         "prefix_cache": {"gen_lengths": [16, 64], "verify_max_n": 64}}
"""Small stand-ins where the sample is slow to compute many times (a fuzz runs hundreds)."""

junk = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.binary(max_size=8).map(lambda b: b.decode("latin-1")),
    st.lists(st.integers(-5, 5), max_size=4), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just("x" * 5000), st.just([[[[[]]]]]), st.just(-1), st.just(0), st.just(10**18), st.just(""),
    st.just(10**400), st.just(-(10**400)), st.just(2**31), st.just(-(2**31)),
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
            for value in (math.nan, math.inf, -math.inf, 1e300, -1e300, 2**62, 1e15, 10**400,
                          -(10**400), -1, 2**31):
                if path:
                    check(lever, replace(base, path, value))


# ---- issue 28: crashes found by the adversarial pass ---------------------------------------
def test_negative_seeds_are_refused_by_name():
    cases = {"attention": ({**SMALL["attention"], "seed": -1}, "params.seed"),
             "kv_blocks": ({"generate": {"count": 5, "seed": -3, "mean_length": 50}},
                           "params.generate.seed"),
             "temporal": ({**SMALL["temporal"], "generate": {"keys": 2, "events": 5, "seed": -1}},
                          "params.generate.seed")}
    for lever, (params, field) in cases.items():
        with pytest.raises(InputError, match=rf"^{field}: must be >= 0"):
            core.compute(lever, params)


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_offset_datetimes_past_year_1_or_9999_are_refused(instant):
    event = {"subject": "s", "predicate": "p", "object": "o", "valid_from": instant}
    with pytest.raises(InputError, match=r"valid_from: .* outside 0001-01-01 \.\. 9999-12-31"):
        core.compute("temporal", {"events": [event]})
    with pytest.raises(InputError, match=r"params\.as_of"):
        core.compute("temporal", {**SMALL["temporal"], "as_of": instant})
    edge = {**event, "valid_from": "9999-12-31T23:59:59"}
    json.dumps(core.compute("temporal", {"events": [edge], "as_of": "0001-01-01"}))


def test_mla_sizes_are_bounded_up_front():
    for key, value in (("d", 10**6), ("r", 10**6), ("bytes_per_elem", 10**6)):
        with pytest.raises(InputError, match=rf"params.mla.{key}: must be <="):
            core.compute("attention", {**SMALL["attention"], "mla": {key: value}})


def test_call_graph_survives_a_re_export_cycle_and_a_file_too_deep_to_parse():
    files = {"pkg/__init__.py": "", "pkg/a.py": "from pkg.b import f\n\n\ndef g():\n    f()\n",
             "pkg/b.py": "from pkg.a import f\n\n\ndef h():\n    f()\n"}
    result = core.compute("callgraph", {"files": files})
    assert set(result["functions"]) >= {"pkg.a:g", "pkg.b:h"}
    files = {"pkg/__init__.py": "", "pkg/ok.py": "def ok():\n    pass\n",
             "pkg/deep.py": "x = " + "-" * 100_000 + "1\n"}
    result = core.compute("callgraph", {"files": files})
    assert "pkg.ok:ok" in result["functions"]  # one bad file loses nothing
    assert [e["path"] for e in result["errors"]] == ["pkg/deep.py"]
    assert "nested too deeply" in result["errors"][0]["message"]


def test_files_opened_into_a_panel_meet_the_same_limits_as_a_scenario(monkeypatch):
    from core import compaction_io, temporal

    monkeypatch.setattr(temporal, "MAX_EVENTS", 3)
    csv_text = "\n".join(f"s,p,{i},2024-01-0{i + 1}" for i in range(4))
    with pytest.raises(InputError, match="more than the 3 events"):
        temporal.parse_events(csv_text, "facts.csv")
    as_json = json.dumps([{"subject": "s", "predicate": "p", "object": str(i),
                           "valid_from": "2024-01-01"} for i in range(4)])
    with pytest.raises(InputError, match="at most 3 events"):
        temporal.parse_events(as_json, "facts.json")
    monkeypatch.setattr(compaction_io, "MAX_TURNS", 3)
    with pytest.raises(InputError, match="4 turns, more than the 3"):
        compaction_io.parse_transcript("\n".join(f"user: question {i}" for i in range(4)), "chat")
    with pytest.raises(InputError, match="4,300 digits"):
        compaction_io.parse_transcript('[{"role": "user", "content": ' + "7" * 5000 + "}]", "chat")


def test_a_module_too_big_to_parse_quickly_is_skipped_with_a_note():
    from core.callgraph_ast import MAX_FILE_CHARS

    big = "x = 1\n" * (MAX_FILE_CHARS // 6 + 1)
    result = core.compute("callgraph", {"files": {"pkg/__init__.py": "", "pkg/big.py": big,
                                                  "pkg/ok.py": "def ok():\n    pass\n"}})
    assert "pkg.ok:ok" in result["functions"]
    assert [e["path"] for e in result["errors"]] == ["pkg/big.py"]
    assert f"more than the {MAX_FILE_CHARS:,} analysed per file" in result["errors"][0]["message"]


def test_compaction_refuses_a_memory_table_that_would_take_minutes():
    from core import compaction

    turns = [{"role": "user", "text": f"We decided to ship part {i}."} for i in range(600)]
    slots_ok = compaction.MAX_MEMORY_SLOTS // 600
    core.compute("compaction", {"turns": turns[:12], "max_facts": 10_000})  # small: fine
    with pytest.raises(InputError, match=r"^params.max_facts: .* fact slots"):
        core.compute("compaction", {"turns": turns * 10, "max_facts": slots_ok})
    params = compaction.Params.from_dict({"turns": turns[:12]})
    import dataclasses
    with pytest.raises(InputError, match="fact slots"):  # a panel replacing fields skips from_dict
        compaction.Prepared.build(dataclasses.replace(params, turns=params.turns * 1000,
                                                      max_facts=10_000))


def test_a_lone_surrogate_in_any_text_field_computes():
    """Half an emoji (a lone surrogate) in any string of any lever is accepted or refused by name.

    Each string field of each lever's sample (and its small stand-in) gets a lone surrogate on
    its own and appended to its text; the bytes-level code (hashes, prefix diffs) used to raise
    UnicodeEncodeError from ``str.encode`` on it.
    """
    tried = 0
    for lever in core.REGISTRY:
        for base in (SAMPLES[lever], {**SAMPLES[lever], **SMALL.get(lever, {})}):
            if lever == "compaction":
                base = {**base, "turns": base["turns"][:12]}
            for path, value in paths(base):
                if path and isinstance(value, str):
                    for bad in ("\ud83d", value + " \ud83d", "\udc00" + value):
                        check(lever, replace(base, path, bad))
                        tried += 1
    assert tried > 100
