import itertools
import json
from pathlib import Path

import numpy as np
import pytest

import core
from core import economy
from core import prefix_cache as pc
from core.errors import Cancelled, InputError
from core.prefix_cache_session import bill, parse_session
from tests.core.cancelling import stop_at


def run(**kw):
    return core.compute("prefix_cache", {"gen_lengths": [3, 10], "calls_sweep": [], **kw})


def test_projection_counts_are_a_triangle_against_a_line():
    d = run(gen_lengths=[1, 3, 10, 99_999_999], verify_exact=False)
    assert [g["no_cache"] for g in d["generation"]] == [1, 6, 55, 99_999_999 * 100_000_000 // 2]
    assert [g["with_cache"] for g in d["generation"]] == [1, 3, 10, 99_999_999]
    assert [g["ratio"] for g in d["generation"]] == [1.0, 2.0, 5.5, 50_000_000.0]
    assert d["verify"] is None


def test_replay_counts_projections_and_cached_attention_is_identical():
    d = run(gen_lengths=[5, 40, 700], dim=6, seed=3, verify_max_n=100)
    v = d["verify"]
    assert [c["n"] for c in v["checks"]] == [5, 40]  # 700 is above verify_max_n: skipped
    assert [c["counted_no_cache"] for c in v["checks"]] == [15, 820]
    assert [c["counted_with_cache"] for c in v["checks"]] == [5, 40]
    assert v["counts_match"] and v["outputs_identical"] and v["max_abs_diff"] == 0.0
    # the skipped length still draws its tokens, so a later length sees the same numbers
    later = run(gen_lengths=[5, 700, 40], dim=6, seed=3, verify_max_n=100)["verify"]["checks"]
    alone = run(gen_lengths=[5, 40], dim=6, seed=3)["verify"]["checks"]
    assert later[0] == alone[0]


def test_projection_of_a_row_does_not_depend_on_the_batch():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((16, 16)) * 3
    x = rng.standard_normal((50, 16)) * 1e3
    whole = pc.project(x, w)
    assert all((pc.project(x[t:t + 1], w)[0] == whole[t]).all() for t in range(50))
    assert np.allclose(whole, x @ w)
    out = pc.replay(x[:12], (w, w.T, w * 0.5))
    assert out["counted_no_cache"] == 78 and out["counted_with_cache"] == 12 and out["allclose"]


def test_prefix_sharing_saves_the_prefix():
    d = run(prefix_len=900, tail_len=100, verify_exact=False)["prefix"]
    assert (d["a_projections"], d["b_uncached"], d["b_cached"], d["saved"]) == (1000, 1000, 100, 900)
    assert d["pct_saved"] == pytest.approx(90.0)
    assert run(prefix_len=0, tail_len=0, verify_exact=False)["prefix"]["pct_saved"] == 0.0


def test_dollars_write_once_then_read():
    m = run(prefix_tokens=8000, calls=10, input_rate_per_mtok=3.0, verify_exact=False)["money"]
    r = 3.0 / 1e6
    assert m["uncached"] == pytest.approx(8000 * r * 10)
    assert m["cached"] == pytest.approx(8000 * r * 1.25 + 8000 * r * 0.1 * 9)
    assert m["saved"] == pytest.approx(m["uncached"] - m["cached"])
    assert m["pct_cheaper"] == pytest.approx((1 - m["cached"] / m["uncached"]) * 100)
    assert m["break_even_by_ttl"] == {"5m": 2, "1h": 3}
    assert m["per_call"]["read"] == pytest.approx(8000 * r * 0.1)


def test_below_the_minimum_the_breakpoint_is_ignored():
    m = run(prefix_tokens=4095, calls=50, verify_exact=False)["money"]
    assert not m["cache_engaged"] and m["cached"] == m["uncached"] and m["break_even_calls"] is None
    assert run(prefix_tokens=4096, verify_exact=False)["money"]["cache_engaged"]
    assert run(prefix_tokens=10, min_cacheable_tokens=0, verify_exact=False)["money"]["cache_engaged"]


def test_break_even_is_the_first_cheaper_call_count():
    for write, read in ((1.25, 0.1), (2.0, 0.1), (3.0, 0.5), (1.0, 0.1), (0.5, 0.0)):
        be = pc.break_even(5000, 5.0, write, read, True)
        u, k = pc.bill(5000, np.arange(1, 50), 5.0, write, read, True)
        assert be == int(np.flatnonzero(k < u)[0]) + 1
    assert pc.break_even(5000, 5.0, 1.25, 1.0, True) is None


def test_calls_sweep_has_both_ttls_and_starts_at_the_write_premium():
    d = run(calls=40, verify_exact=False, calls_sweep=None)
    rows = d["calls_sweep"]
    assert [r["calls"] for r in rows] == list(range(1, 41))
    assert rows[0]["pct_cheaper_5m"] == pytest.approx(-25.0)
    assert rows[0]["pct_cheaper_1h"] == pytest.approx(-100.0)
    assert all(a["pct_cheaper_5m"] < b["pct_cheaper_5m"] < 90 for a, b in itertools.pairwise(rows))
    out = pc.sweep(pc.Params.from_dict({"verify_exact": False}), "calls", [1, 2, 1000])
    assert out["pct_cheaper"][2] == pytest.approx((1 - (1.25 + 0.1 * 999) / 1000) * 100)
    with pytest.raises(InputError, match="only 'calls'"):
        pc.sweep(pc.Params(), "dim", [1])


def test_prefix_diff_finds_the_first_divergent_byte_and_line():
    a = "system: be brief\nrequest id: 7f3a\nuser: hi"
    b = "system: be brief\nrequest id: 9c01\nuser: hi"
    d = run(prompt_a=a, prompt_b=b, min_cacheable_tokens=3, verify_exact=False)["prefix_diff"]
    assert d["first_divergence_byte"] == d["common_prefix_bytes"] == a.index("7f3a")
    assert (d["line"], d["column"]) == (2, 13)
    assert d["a_after"].startswith("7f3a") and d["b_after"].startswith("9c01")
    assert d["common_prefix_tokens_est"] == 6 and d["cacheable"]  # "system: be brief request id:"
    same = run(prompt_a=a, prompt_b=a, verify_exact=False)["prefix_diff"]
    assert same["identical"] and same["first_divergence_byte"] is None
    split = pc.prefix_diff("café au lait", "cafè au lait", 0)  # differs inside a 2-byte character
    assert split["common_prefix_bytes"] == 4 and split["before"] == "caf"


@pytest.mark.parametrize(("change", "message"), [
    ({"gen_lengths": [4, 0]}, r"params\.gen_lengths\[1\]\.n: must be >= 1"),
    ({"dim": 1000}, r"params\.dim: must be <= 64"),
    ({"calls": 0}, r"params\.calls: must be >= 1"),
    ({"write_multiplier": "2x"}, r"params\.write_multiplier: expected a finite number"),
    ({"prompt_a": 5}, r"params\.prompt_a: expected a string"),
])
def test_bad_params_name_the_field(change, message):
    with pytest.raises(InputError, match=message):
        run(**change)


def test_work_that_would_blow_up_is_refused_with_the_limit():
    with pytest.raises(InputError, match="lengths up to 4,096 can be replayed"):
        run(gen_lengths=[5000], verify_max_n=10_000)
    with pytest.raises(InputError, match="the limit is 100,000,000"):
        run(gen_lengths=[4000], dim=64, verify_max_n=4096)
    with pytest.raises(InputError, match="the limit is 20,000,000"):
        run(gen_lengths=[10_000_000] * 3, verify_max_n=0)
    with pytest.raises(InputError, match="capped at 100,000; give calls_sweep"):
        core.compute("prefix_cache", {"calls": 200_000, "verify_exact": False})
    assert run(gen_lengths=[10**8], verify_exact=False)["generation"][0]["with_cache"] == 10**8


# ---- a real session -----------------------------------------------------------------------------

def cc(kind, msg, ts, parent="p", side=False):
    return json.dumps({"type": kind, "timestamp": ts, "parentUuid": parent, "isSidechain": side,
                       "message": msg})


def usage(inp, write, read, out, **more):
    return {"input_tokens": inp, "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read, "output_tokens": out, **more}


def assistant(mid, u, text="ok", model="claude-opus-4-8"):
    return {"id": mid, "role": "assistant", "model": model, "content": [{"type": "text", "text": text}],
            "usage": u}


def test_claude_code_transcript_bills_each_message_once_and_marks_an_expiry():
    lines = [
        cc("user", {"role": "user", "content": "start"}, "2026-01-05T10:00:00Z", parent=None),
        cc("assistant", assistant("m1", usage(3, 6000, 0, 50)), "2026-01-05T10:00:05Z"),
        # a second content block of the same message repeats its usage: billed once
        cc("assistant", assistant("m1", usage(3, 6000, 0, 80)), "2026-01-05T10:00:06Z"),
        cc("user", {"role": "user", "content": "next"}, "2026-01-05T10:01:00Z"),
        cc("assistant", assistant("m2", usage(2, 200, 6000, 40)), "2026-01-05T10:01:04Z"),
        cc("user", {"role": "user", "content": "after lunch"}, "2026-01-05T10:30:00Z"),
        cc("assistant", assistant("m3", usage(2, 6300, 0, 30)), "2026-01-05T10:30:04Z"),
        json.dumps({"type": "summary", "summary": "not a call"}),
    ]
    s = parse_session("\n".join(lines), "t.jsonl")
    assert [c.line for c in s.calls] == [2, 5, 7] and [c.output for c in s.calls] == [80, 40, 30]
    b = bill(s)
    rates = economy.Rates.for_model("claude-opus-4-8")  # economy reads the model profiles
    assert b.cost[1] == pytest.approx((2 * rates.input + 200 * rates.cache_write
                                       + 6000 * rates.cache_read + 40 * rates.output) / 1e6)
    assert b.cost_uncached[1] == pytest.approx(((2 + 200 + 6000) * rates.input + 40 * rates.output) / 1e6)
    assert b.gap[2] == pytest.approx(29 * 60)
    assert len(b.drops) == 1 and b.drops[0][0] == 2 and b.drops[0][1].startswith("expired: 29.0 min")
    assert b.hit_ratio == pytest.approx(6000 / (3 + 6000 + 2 + 200 + 6000 + 2 + 6300))


def test_missing_usage_fields_count_as_zero_and_are_listed():
    lines = [json.dumps({"type": "message", "model": "claude-haiku-4-5",
                         "usage": {"input_tokens": 10, "output_tokens": 5}}),
             json.dumps({"type": "message", "model": "claude-haiku-4-5", "content": []}),
             json.dumps({"type": "message", "model": "claude-haiku-4-5-20251001",
                         "usage": usage(1, 0, 0, 2, cache_creation={"ephemeral_1h_input_tokens": 0})})]
    s = parse_session("\n".join(lines), "r.jsonl")
    assert len(s.calls) == 2
    assert s.calls[0].missing == ("cache_creation_input_tokens", "cache_read_input_tokens")
    assert s.skipped == ["r.jsonl line 2: no usage"]
    b = bill(s)
    haiku = economy.Rates.for_model("claude-haiku-4-5")
    assert b.cost[1] == pytest.approx((1 * haiku.input + 2 * haiku.output) / 1e6)  # dated id matched


def test_saved_requests_show_what_changed_at_the_first_divergence():
    def call(system, read, write, ts):
        body = {"system": system, "messages": [{"role": "user", "content": "hi"}]}
        return json.dumps({"request": body, "timestamp": ts,
                           "response": {"type": "message", "model": "claude-opus-4-8",
                                        "usage": usage(5, write, read, 9)}})
    text = "\n".join([call("rules v1\nnow: 10:00:01", 0, 5000, 100.0),
                      call("rules v1\nnow: 10:00:01", 5000, 0, 130.0),
                      call("rules v1\nnow: 10:00:44", 0, 5000, 160.0)])
    s = parse_session(text, "calls.jsonl")
    assert s.calls[1].divergence is None and s.calls[2].divergence is not None
    d = s.calls[2].divergence
    assert d["line"] == 3 and d["a_after"].startswith("01") and d["b_after"].startswith("44")
    assert bill(s).drops[0][1] == "prefix changed at line 3, column 12"


def test_one_hour_writes_are_priced_at_twice_the_input_and_keep_their_ttl():
    lines = [json.dumps({"type": "message", "model": "claude-opus-4-8", "timestamp": t,
                         "usage": usage(0, w, r, 0, cache_creation={"ephemeral_1h_input_tokens": w})})
             for t, w, r in ((0, 9000, 0), (1800, 0, 9000), (1800 + 3700, 9000, 0))]
    b = bill(parse_session("\n".join(lines)))
    assert b.cost[0] == pytest.approx(9000 * 5.0 * 2.0 / 1e6)
    assert b.drops == ((2, "expired: 61.7 min since the previous call (TTL 60 min)"),)


def test_bad_session_lines_are_named_by_number():
    good = json.dumps({"type": "message", "usage": usage(1, 0, 0, 1)})
    with pytest.raises(InputError, match=r"s\.jsonl line 2: not valid JSON"):
        parse_session(good + "\n{oops\n", "s.jsonl")
    with pytest.raises(InputError, match=r"s\.jsonl line 1\.usage\.output_tokens: must be >= 0"):
        parse_session(json.dumps({"type": "message", "usage": usage(1, 0, 0, -4)}), "s.jsonl")
    with pytest.raises(InputError, match=r"s\.jsonl\[0\]: expected an object"):
        parse_session("[1]\n", "s.jsonl")
    with pytest.raises(InputError, match="no call with usage found"):
        parse_session(cc("user", {"role": "user", "content": "hi"}, "2026-01-01T00:00:00Z"), "s.jsonl")
    with pytest.raises(InputError, match="empty"):
        parse_session("   ")


def test_the_shipped_session_sample_reads():
    path = Path(__file__).parents[2] / "resources" / "samples" / "prefix_cache_session.jsonl"
    s = parse_session(path.read_text(), "sample")
    b = bill(s)
    assert len(s.calls) == 24 and len(b.drops) == 1 and b.drops[0][1].startswith("expired")
    assert b.cost.sum() < b.cost_uncached.sum()


def test_derive_from_one_prepare_matches_a_full_compute_for_every_live_change():
    base = pc.Params.from_dict({"gen_lengths": [4, 9], "prompt_a": "a b c\nd", "prompt_b": "a b x",
                                "calls_sweep": [1, 5]})
    prepared = pc.prepare(base)
    for change in ({"calls": 3}, {"prefix_tokens": 100, "min_cacheable_tokens": 2},
                   {"write_multiplier": 2.0, "calls_sweep": None, "calls": 30}, {"tail_len": 0}):
        assert set(change) <= pc.LIVE
        moved = pc.Params.from_dict({**base.to_dict(), **change})
        assert pc.derive(prepared, moved).to_dict() == pc.compute(moved).to_dict()


def test_a_restarted_conversation_is_the_reason_for_the_miss():
    lines = [
        cc("user", {"role": "user", "content": "start"}, "2026-01-05T10:00:00Z", parent=None),
        cc("assistant", assistant("m1", usage(3, 6000, 0, 50)), "2026-01-05T10:00:05Z"),
        cc("user", {"role": "user", "content": "next"}, "2026-01-05T10:01:00Z"),
        cc("assistant", assistant("m2", usage(2, 200, 6000, 40)), "2026-01-05T10:01:04Z"),
        # a compaction (or /clear) starts a new root: the history sent is no longer a prefix
        cc("user", {"role": "user", "content": "summary: we started"}, "2026-01-05T10:02:00Z",
           parent=None),
        cc("assistant", assistant("m3", usage(2, 900, 0, 30)), "2026-01-05T10:02:04Z"),
    ]
    s = parse_session("\n".join(lines), "t.jsonl")
    assert s.calls[1].divergence is None  # the second call only appended to the first's history
    d = s.calls[2].divergence
    # "user: start" and "user: summary" share "user: s"
    assert (d["line"], d["column"]) == (1, 8) and d["a_after"].startswith("tart")
    assert d["b_after"].startswith("ummary")
    assert bill(s).drops == ((2, "prefix changed at line 1, column 8"),)


def test_long_sessions_report_progress_and_can_be_stopped():
    line = json.dumps({"type": "message", "usage": usage(1, 0, 0, 1)})
    text = "\n".join([line] * 9000)
    seen = []
    s = parse_session(text, "long.jsonl", progress=seen.append)
    assert len(s.calls) == 9000 and seen == sorted(seen) and len(seen) == 4 and seen[-1] <= 1.0
    with pytest.raises(InputError, match=r"long\.jsonl: reading cancelled"):
        parse_session(text, "long.jsonl", should_stop=lambda: True)


def test_prepare_reports_the_replay_rising_and_a_raising_callback_stops_it():
    p = pc.Params.from_dict({"gen_lengths": [16, 300, 5000, 200], "verify_max_n": 1000})
    heard = []
    prepared = pc.prepare(p, None, heard.append)
    # one report every 64 tokens of each replayed length (5000 is skipped): 1 + 5 + 4
    assert len(heard) == 10 and heard == sorted(heard) and heard[0] == 0 and heard[-1] < 1
    assert prepared.verify == pc.prepare(p).verify
    for n in (1, 4, len(heard)):
        told = []
        with pytest.raises(Cancelled):
            pc.prepare(p, None, stop_at(n, told))
        assert len(told) == n, "nothing runs on after the callback raised"
