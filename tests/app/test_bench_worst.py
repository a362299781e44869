"""``ctxlab bench --worst``: every lever has a worst case, and every limit refuses what is over it."""

from __future__ import annotations

import json

import pytest

import core
from app import bench_worst
from app.bench_worst_cases import cases
from core.errors import InputError
from widgets.loaders import MAX_JSON_BYTES, read_scenario

_CASES = cases()
_OVERS = [pytest.param(c, i, id=f"{c.lever}-{c.variant}-{o.what.replace(' ', '_')}")
          for c in _CASES for i, o in enumerate(c.over)]


def test_every_registered_lever_has_a_worst_case():
    assert {c.lever for c in _CASES} == set(core.REGISTRY)


@pytest.mark.parametrize(("case", "index"), _OVERS)
def test_inputs_over_a_limit_are_refused_up_front_naming_it(case, index, tmp_path):
    over = case.over[index]
    if over.build is None:  # a scenario file one byte over the limit (sparse: nothing written)
        path = tmp_path / "over.json"
        with path.open("wb") as handle:
            handle.truncate(MAX_JSON_BYTES + 1)
        with pytest.raises(InputError) as refused:
            read_scenario(path)
    else:  # as ctxlab compute runs it (every limit is checked before the heavy work)
        with pytest.raises(InputError) as refused:
            core.compute(case.lever, over.build())
    assert bench_worst._names(str(refused.value), over.limit), str(refused.value)


@pytest.mark.slow  # a child process per lever case, timed: `make check`
def test_the_worst_bench_runs_a_cheap_lever_end_to_end(tmp_path):
    out = tmp_path / "worst.json"
    assert bench_worst.main_worst(["economy"], out) == 0
    report = json.loads(out.read_text())["worst"]
    (row,) = report["cases"]
    assert row["outcome"] == "ok" and row["peak_mb"] > 0 and row["cpu_s"] > 0
    assert [o["outcome"] for o in row["over"]] == ["refused"] and row["over"][0]["names_limit"]
    assert "economy/limits" in bench_worst.table(report)


def test_a_case_over_its_deadline_is_reported_as_a_timeout_not_waited_for():
    row = bench_worst.run_child("kv_blocks", "limits", "accepted", 0, timeout=0.3)
    assert row["outcome"] == "timeout" and row["wall_s"] < 5

