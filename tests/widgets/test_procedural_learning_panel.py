import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core import procedural_learning as pl
from tests.widgets.open_files import open_files
from widgets.export import write_chart
from widgets.procedural_learning_panel import ProceduralLearningPanel


@pytest.fixture
def panel(sample_panel):
    return sample_panel(ProceduralLearningPanel)


def test_sample_loads_with_its_split_and_status(panel):
    res = panel.output()
    assert res.threshold == panel.params.threshold == 2
    assert len(res.rules) == len(res.recurring) - len(res.unphrased) > 0
    assert panel.share.value() == round(100 * len(panel.params.train) /
                                        (len(panel.params.train) + len(panel.params.held_out)))
    failures = len(res.prepared.held_out_tags)
    assert f"held-out failures {failures} → {failures - len(res.caught)}" in panel.status.text()
    assert panel.table.rowCount() >= len(res.prepared.tag_counts)


def test_threshold_slider_only_rederives_and_moves_both_lines(panel, qtbot):
    prepared = panel.prepared()
    panel.threshold.spin.setValue(4)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().threshold == 4)
    res = panel.output()
    assert panel.prepared() is prepared, "a threshold change reuses the counted tags and files"
    assert float(panel.plots_.hist_line.value()) == float(panel.plots_.curve_line.value()) == 4.0
    counts = dict(res.prepared.tag_counts)
    assert all(counts[t] >= 4 for t in res.recurring)
    shown = [lbl for lbl in panel.plots_.rule_labels if lbl.isVisible()]
    assert len(shown) == sum(1 for _t, c in res.prepared.tag_counts[:16] if c >= 4)
    idx = int(np.flatnonzero(res.sweep["threshold"] == 4)[0])
    assert res.rule_tokens == int(res.sweep["rule_tokens"][idx])


def test_dragging_the_line_sets_a_whole_threshold_within_range(panel, qtbot):
    panel.plots_.hist_line.setValue(3.4)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.threshold == 3)
    panel.plots_.curve_line.setValue(500.0)
    top = int(panel.output().prepared.ranked_counts[0]) + 1
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.threshold == top)
    assert panel.output().rules == ()


def test_opening_a_log_splits_it_and_bad_rows_are_named_by_line(panel, qtbot, tmp_path):
    good = tmp_path / "sessions.csv"
    rows = ["date,outcome,tag"] + [f"2026-05-{d:02d},failure,{t}" for d, t in
                                   enumerate(["a", "b", "a", "a", "b", "c", "a", "b", "a", "c"], 1)]
    good.write_text("\n".join(rows) + "\n")
    panel.open_paths([good])
    qtbot.waitUntil(panel.is_idle)
    share = panel.share.value() / 100
    cut = round(share * 10)
    assert len(panel.params.train) == cut and len(panel.params.held_out) == 10 - cut
    panel.share.spin.setValue(50)
    qtbot.waitUntil(lambda: panel.is_idle() and len(panel.params.train) == 5)
    panel.held_from.setText("2026-05-09")
    panel.held_from.editingFinished.emit()
    qtbot.waitUntil(lambda: panel.is_idle() and len(panel.params.held_out) == 2)
    assert [t.tag for t in panel.params.held_out] == ["a", "c"]

    before = panel.params
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"outcome": "failure", "tag": "a"}\n{"outcome": "crashed", "tag": "b"}\n')
    open_files(panel, qtbot, [bad])
    assert "broken.jsonl line 2: outcome: expected success or failure" in panel.status.text()
    assert panel.params == before


def test_base_file_and_rule_table_change_the_after_file(panel, qtbot, tmp_path):
    base = tmp_path / "AGENTS.md"
    base.write_text("# Our agent\n- Reply in French when asked in French.\n")
    panel.open_paths([base])
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().before_file.startswith("# Our agent"))
    first = panel.output().recurring[0]
    row = next(i for i in range(panel.table.rowCount()) if panel.table.item(i, 0).text() == first)
    panel.table.item(row, 1).setText("Say which checks ran before saying done.")
    qtbot.waitUntil(lambda: panel.is_idle()
                    and "- Say which checks ran before saying done." in panel.output().after_file)
    assert panel.params.tag_to_rule[first] == "Say which checks ran before saying done."
    assert not panel.table.item(row, 0).flags() & Qt.ItemFlag.ItemIsEditable
    panel.table.item(row, 1).setText("")
    qtbot.waitUntil(lambda: panel.is_idle() and first in panel.output().unphrased)


def test_the_diff_and_cost_export_as_text(panel, tmp_path):
    svg = write_chart(panel.view, tmp_path / "learning.svg")
    texts = " ".join(e.text or "" for e in ET.parse(svg).getroot().iter() if e.tag.endswith("text"))
    res = panel.output()
    assert "Instruction" in texts and "Held-out" in texts
    assert res.rules[0].split()[0] in texts  # the added rule lines are text, not a picture
    rows = panel.csv_rows()
    assert rows[0] == list(res.sweep) and len(rows) == 1 + res.sweep["threshold"].size


def test_call_volume_and_model_reprice_without_recounting(panel, qtbot):
    prepared = panel.prepared()
    panel.calls.spin.setValue(100_000)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().calls_per_day == 100_000)
    res = panel.output()
    assert panel.prepared() is prepared
    assert res.yearly_cost == pytest.approx(pl.yearly_cost(res.rule_tokens, res.price_per_mtok, 100_000))
    assert f"${res.yearly_cost:,.2f}/year" in panel.status.text()


def test_the_rules_are_priced_at_the_model_profile(panel, qtbot):
    from core import model_profile
    from widgets.profile_bar import apply_profile

    apply_profile(panel, model_profile.Params.named("claude-haiku-4-5"))
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().price_per_mtok == 1.0)
    assert panel.params.model == panel.model.currentText() == "claude-haiku-4-5"
    apply_profile(panel, model_profile.Params.named("Llama 3.1 70B"))  # no list price: kept
    qtbot.waitUntil(panel.is_idle)
    assert panel.params.model == "claude-haiku-4-5"


@pytest.mark.sdk
def test_live_counts_price_the_rules_exactly_and_a_fault_falls_back(panel, qtbot):
    from app.anthropic_service import ExactCounter
    from tests.fake_api import FakeAnthropic, fake_count

    with FakeAnthropic() as api:
        counter = ExactCounter("sk-ant-test-key-never-written", base_url=api.url, max_retries=0)
        panel.set_exact_counter(counter)
        panel.estimator.setCurrentIndex(panel.estimator.findData("exact"))
        assert not panel.is_cheap(panel.params)  # network work goes to the worker
        qtbot.waitUntil(lambda: panel.is_idle() and panel.counter_for(panel.params) is counter
                        and panel.output().before_tokens == fake_count(panel.output().before_file),
                        timeout=10_000)
        res = panel.output()
        assert res.after_tokens == fake_count(res.after_file)
        asked = api.count_requests()
        panel.threshold.spin.setValue(res.threshold + 1)  # live field: no new request
        qtbot.waitUntil(lambda: panel.is_idle() and panel.output().threshold == res.threshold + 1)
        assert api.count_requests() == asked
        api.script = [529] * 10  # the API is overloaded: a new rule text cannot be counted
        tag = res.recurring[0]
        panel.change(tag_to_rule={**panel.params.tag_to_rule, tag: "Ask before deleting files."})
        qtbot.waitUntil(lambda: panel.is_idle() and "exact count unavailable" in panel.status.text(),
                        timeout=10_000)
        assert panel.output().before_tokens == round(len(res.before_file.split()) * 1.3)
        counter.close()


def test_a_pasted_log_is_used_and_a_bad_one_is_named_by_line(panel, qtbot, click):
    panel.paste.setPlainText('{"outcome": "failure", "tag": "x"}\n{"outcome": "failure", "tag": "x"}\n'
                             '{"outcome": "success"}\n{"outcome": "failure", "tag": "x"}\n')
    panel.share.spin.setValue(75)
    click(panel, "Use the pasted log")
    qtbot.waitUntil(lambda: panel.is_idle() and len(panel.params.train) == 3)
    assert [t.tag for t in panel.params.held_out] == ["x"]
    res = panel.output()  # x recurs, but has no rule text yet: nothing is caught
    assert res.recurring == res.unphrased == ("x",) and res.missed == ("x",)
    before = panel.params
    panel.paste.setPlainText("outcome,tag\nfailure,x\nfailure\n")
    click(panel, "Use the pasted log")
    assert "pasted log line 3: tag: a failure needs a tag" in panel.status.text()
    assert panel.params == before


def test_a_long_held_out_row_is_capped_with_a_count(panel, qtbot):
    from core.procedural_log import Trace

    many = tuple(Trace("failure", "flaky") for _ in range(35))
    panel.set_params(pl.Params(train=many[:2], held_out=many, tag_to_rule={"flaky": "Retry once."}))
    qtbot.waitUntil(lambda: panel.is_idle() and len(panel.output().caught) == 35)
    xs, _ys = panel.plots_.caught_marks.getData()
    assert len(xs) == 30 and max(xs) == 30
    shown = [lbl.textItem.toPlainText() for lbl in panel.plots_.more_labels if lbl.isVisible()]
    assert shown == [" +5"]


def test_a_threshold_tick_that_changes_no_rule_redraws_no_text_or_ticks(panel, qtbot):
    """A tick inside one set of recurring tags re-laid out the diff text and the held-out axis."""
    counts = panel.output().prepared.ranked_counts
    gap = next(int(c) for c in counts if int(c) - 1 > 1 and int(c) - 1 not in counts)  # same k
    panel.threshold.spin.setValue(gap)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().threshold == gap)
    changed: list[int] = []
    panel.plots_.diff_text.textItem.document().contentsChanged.connect(lambda: changed.append(1))
    ticks = panel.plots_.held.getAxis("bottom")._tickLevels
    before = panel.output()
    panel.threshold.spin.setValue(gap - 1)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().threshold == gap - 1)
    after = panel.output()
    assert after.recurring == before.recurring and after.after_file == before.after_file
    assert changed == []
    assert panel.plots_.held.getAxis("bottom")._tickLevels is ticks
    assert after.caught is before.caught  # the held-out check is kept per recurring set


def test_a_learned_rule_longer_than_the_chart_is_wide_wraps_whole(panel, qtbot):
    """The rule is what the diff is about: cut to the chart's width, a slide lost its end."""
    shown = panel.plots_.diff_text.textItem.toPlainText()
    longest = max(len(line) for line in shown.split("\n"))
    added = panel.output().after_file.split("\n")[len(panel.output().before_file.split("\n")):]
    rule = next(line for line in added if line.startswith("- "))
    assert len(rule) + 2 > longest, "the sample's rule is longer than this chart is wide"
    assert " ".join(rule.split()) in " ".join(shown.split()), "every word of it, in order"
    wrapped = [line for line in shown.split("\n") if line.startswith("    ")]
    assert wrapped, "the rules' ends are on lines of their own"
    panel.resize(700, 500)  # a chart too short for the wrapped rules: a line a rule, cut, as before
    qtbot.waitUntil(lambda: "more lines" in panel.plots_.diff_text.textItem.toPlainText())
    assert not [line for line in panel.plots_.diff_text.textItem.toPlainText().split("\n")
                if line.startswith("    ")]
