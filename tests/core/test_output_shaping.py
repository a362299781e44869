import json

import numpy as np
import pytest

import core
from core import output_shaping as osh
from core.errors import Cancelled, InputError
from core.output_shaping_io import parse_replies
from tests.core.cancelling import stop_at

REPLY = ("Sure, glad to dig into this.\n\n  The deploy status is: failed.  \n"
         "Surely you will want the log too.\nIn short, the deploy failed.\nLet me know!")


def params(**kw):
    return osh.Params.from_dict({"verbose_text": REPLY, "answer": "failed", "n_calls": 1000,
                                 "output_rate_per_mtok": 10.0, **kw})


def test_estimate_rounds_half_to_even_in_integers():
    anchors = {0: 0, 1: 1, 2: 3, 4: 5, 5: 6, 9: 12, 10: 13, 25: 32, 35: 46, 45: 58, 48: 62}
    got = osh.estimate(np.array(list(anchors)))
    assert got.tolist() == list(anchors.values())
    ws = np.arange(0, 5000)
    assert osh.estimate(ws).tolist() == [round(w * 1.3) for w in ws]
    assert isinstance(osh.estimate(7), int)


def test_stub_reply_has_four_lines_from_question_and_answer():
    p = osh.Params.from_dict({"question": "Is the queue empty?", "answer": "no"})
    lines = p.reply_text().split("\n")
    assert len(lines) == 4
    assert lines[1] == "You asked: Is the queue empty?" and lines[2] == "The answer is: no."


def test_terse_drops_blank_and_filler_lines_by_plain_prefix():
    res = osh.compute(params(filler_prefixes=["sure", "let me know", "in short"]))
    # "Surely ..." starts with "sure": a prefix test, no word boundary
    assert res.terse.text == "The deploy status is: failed."
    assert res.terse.tokens == osh.estimate(5)
    dropped = [f for _, f in res.lines]
    assert dropped == ["sure", "", None, "sure", "in short", "let me know"]
    curly = osh.terse("I\u2019d be glad to\nok", ("i'd be glad",))
    assert curly == "I\u2019d be glad to\nok"


def test_schema_is_one_chunk_without_escaping():
    res = osh.compute(params(schema_field="status"))
    assert res.schema.text == '{"status":"failed"}' and res.schema.tokens == 1
    two = osh.compute(params(answer="not sure", verbose_text="it is not sure"))
    assert two.schema.text == '{"answer":"not sure"}' and two.schema.tokens == 3


def test_cap_keeps_the_longest_prefix_within_the_cap_and_loses_line_breaks():
    res = osh.compute(params(cap_tokens=9))
    assert res.cap.kept_words == 7 and res.cap.tokens == 9  # 8 words would be 10 tokens
    assert res.cap.text == "Sure, glad to dig into this. The"
    assert osh.compute(params(cap_tokens=0)).cap.text == ""


def test_cap_keeps_the_answer_only_when_its_last_occurrence_is_kept():
    res = osh.compute(params(cap_tokens=10_000))
    words = REPLY.split()
    assert words[res.answer_word] == "failed." and res.answer_word == len(words) - 4
    need = osh.estimate(res.answer_word + 1)
    assert not osh.compute(params(cap_tokens=need - 1)).cap.answer_kept
    assert osh.compute(params(cap_tokens=need)).cap.answer_kept
    assert osh.min_cap_keeping(REPLY, "FAILED") == need
    assert osh.min_cap_keeping(REPLY, "succeeded") is None


def test_dollars_savings_and_percentages():
    res = osh.compute(params(cap_tokens=8))
    d = res.to_dict()
    base = d["baseline"]["tokens"]
    assert d["baseline"]["dollars"] == pytest.approx(base * 1000 / 1e6 * 10.0)
    for s in d["shapers"]:
        assert s["dollars"] == pytest.approx(s["tokens"] * 1000 / 1e6 * 10.0)
        assert s["saved_dollars"] == pytest.approx(d["baseline"]["dollars"] - s["dollars"])
        assert s["pct_smaller"] == pytest.approx((base - s["tokens"]) / base * 100)
    assert [s["name"] for s in d["shapers"]] == ["terse", "schema", "cap"]
    c = d["classification"]
    assert c["one_word_tokens"] == 1 and c["pct_cheaper"] == pytest.approx((base - 1) / base * 100)
    empty = osh.compute(params(verbose_text="   ", answer="x")).to_dict()
    assert empty["baseline"]["tokens"] == 0 and empty["terse"]["pct_smaller"] == 0.0


def test_cap_sweep_is_a_step_curve_with_the_answer_region():
    res = osh.compute(params())
    d = res.to_dict()
    caps = [row["cap"] for row in d["cap_sweep"]]
    assert caps == list(range(d["baseline"]["tokens"] + 1))
    tokens = [row["tokens"] for row in d["cap_sweep"]]
    assert all(t <= c for t, c in zip(tokens, caps, strict=True))
    assert tokens == sorted(tokens) and tokens[-1] == d["baseline"]["tokens"]
    need = osh.min_cap_keeping(REPLY, "failed")
    assert [row["answer_kept"] for row in d["cap_sweep"]] == [c >= need for c in caps]
    out = osh.sweep(res and params(), "cap_tokens", [0, need, 1000])
    assert out["answer_kept"].tolist() == [False, True, True]
    with pytest.raises(InputError, match="only 'cap_tokens'"):
        osh.sweep(params(), "n_calls", [1])
    assert osh.compute(params(cap_sweep=[])).to_dict()["cap_sweep"] == []


def test_imported_replies_give_distributions_and_cut_counts():
    replies = [{"reply": "Sure!\nAnswer: red", "answer": "red"},
               {"reply": "blue is the one, I checked twice", "answer": "blue"},
               {"reply": "no colour given here"}]
    d = core.compute("output_shaping", {"verbose_text": REPLY, "answer": "failed", "cap_tokens": 2,
                                        "replies": replies, "cap_sweep": [0, 1, 3, 100]})
    r = d["replies"]
    assert r["count"] == 3
    assert r["baseline_tokens"] == [4, 9, 5] and r["terse_tokens"] == [3, 9, 5]
    assert r["answer_min_cap"] == [4, 1, None]  # the third falls back to params.answer
    assert r["cut_at_cap"] == 1
    assert r["cut_by_cap"] == [2, 1, 1, 0]


def test_parse_replies_accepts_jsonl_lists_responses_and_plain_text():
    jsonl = "\n".join([json.dumps({"reply": "a\nb", "answer": "b"}), "",
                       json.dumps({"type": "message", "content": [
                           {"type": "thinking", "thinking": "hidden"},
                           {"type": "text", "text": "one"}, {"type": "text", "text": "two"}]})])
    got = parse_replies(jsonl, "log.jsonl")
    assert [(r.reply, r.answer) for r in got] == [("a\nb", "b"), ("one\ntwo", None)]
    listed = parse_replies(json.dumps({"responses": [{"content": "plain"}, "bare"]}))
    assert [r.reply for r in listed] == ["plain", "bare"]
    assert parse_replies("Just a pasted reply.\nSecond line.")[0].reply.endswith("Second line.")


def test_parse_replies_names_the_bad_line():
    bad = json.dumps({"reply": "x"}) + "\n" + json.dumps({"reply": "y"}) + "\n{not json\n"
    with pytest.raises(InputError, match=r"log\.jsonl line 3: not valid JSON"):
        parse_replies(bad, "log.jsonl")
    with pytest.raises(InputError, match=r"log line 2: expected"):
        parse_replies('{"reply": "x"}\n[1, 2]\n', "log")
    with pytest.raises(InputError, match=r"log line 1\.answer"):
        parse_replies('{"reply": "x", "answer": ""}\n{"reply": "y"}', "log")
    with pytest.raises(InputError, match="empty"):
        parse_replies("  \n ")


@pytest.mark.parametrize(("change", "message"), [
    ({"n_calls": -1}, r"params\.n_calls: must be >= 0, got -1"),
    ({"cap_tokens": "ten"}, r"params\.cap_tokens: expected an integer"),
    ({"answer": "  "}, r"params\.answer: must not be empty"),
    ({"filler_prefixes": ["ok", 3]}, r"params\.filler_prefixes\[1\]"),
    ({"cap_sweep": [1, -2]}, r"params\.cap_sweep\[1\]\.cap: must be >= 0"),
    ({"replies": [{"reply": 5}]}, r"params\.replies\[0\]\.reply: expected a string"),
    ({"output_rate_per_mtok": float("nan")}, r"params\.output_rate_per_mtok: expected a finite"),
])
def test_bad_params_name_the_field(change, message):
    with pytest.raises(InputError, match=message):
        core.compute("output_shaping", {"verbose_text": "x", **change})


def test_sizes_that_would_blow_up_are_refused_with_the_limit():
    with pytest.raises(InputError, match="longer than 400,000 characters"):
        osh.Params.from_dict({"verbose_text": "w " * 200_001})
    with pytest.raises(InputError, match="at most 200,001 caps"):
        osh.Params.from_dict({"cap_sweep": [1] * 200_002})
    with pytest.raises(InputError, match="at most 20,000 replies"):
        osh.Params.from_dict({"replies": [{"reply": "a"}] * 20_001})


def test_params_round_trip_through_json():
    p = params(replies=[{"reply": "r", "answer": None}], cap_sweep=[1, 2])
    again = osh.Params.from_dict(json.loads(json.dumps(p.to_dict())))
    assert again == p


def test_derive_from_one_prepare_matches_a_full_compute_for_every_live_change():
    replies = [{"reply": "Sure!\nAnswer: red", "answer": "red"}, {"reply": "red " * 30}]
    base = params(replies=replies, answer="red")
    prepared = osh.prepare(base)
    for change in ({"cap_tokens": 3}, {"cap_tokens": 40, "n_calls": 7}, {"output_rate_per_mtok": 2.5}):
        assert set(change) <= osh.LIVE
        moved = osh.Params.from_dict({**base.to_dict(), **change})
        assert osh.derive(prepared, moved).to_dict() == osh.compute(moved).to_dict()


def test_imported_replies_report_progress_as_they_are_shaped():
    heard = []
    p = params(replies=[{"reply": REPLY, "answer": "failed"}] * 300)
    plain = core.compute("output_shaping", p.to_dict())
    assert core.compute("output_shaping", p.to_dict(), None, heard.append) == plain
    assert len(heard) == 100 and heard == sorted(heard) and heard[0] >= 0 and heard[-1] < 1


def test_prepare_reports_rising_fractions_and_a_raising_callback_stops_it():
    p = params(replies=[{"reply": REPLY, "answer": "failed"}] * 300)
    heard = []
    osh.prepare(p, None, heard.append)
    assert len(heard) == 100 and heard == sorted(heard) and heard[0] >= 0 and heard[-1] < 1
    for n in (1, 50, 100):
        told = []
        with pytest.raises(Cancelled):
            osh.prepare(p, None, stop_at(n, told))
        assert len(told) == n, "nothing runs on after the callback raised"
