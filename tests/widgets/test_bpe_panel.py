"""The BPE and token-economy panels: live replay, chips, user data, bad input, exact counts."""

import dataclasses

import pytest
from PySide6.QtCore import QPoint

from app.anthropic_service import ExactCounter
from core import bpe, economy
from tests.fake_api import FakeAnthropic, fake_count
from tests.widgets.open_files import open_files
from widgets.bpe_panel import BpePanel
from widgets.chips import describe
from widgets.economy_panel import EconomyPanel


@pytest.fixture
def panel(sample_panel):
    return sample_panel(BpePanel)


def test_dragging_merges_retokenizes_the_sample_and_grows_the_table(panel, qtbot):
    panel.merges.slider.setValue(0)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.learned == 0)
    chips0 = [c.text for c in panel.chip_view.chips()]
    assert all(len(c) == 1 for c in chips0) and panel.table.rowCount() == 0
    panel.merges.slider.setValue(panel.merges.slider.maximum())
    top = panel.top.value()
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.learned == top)
    res = panel.output().result
    chips = [c.text for c in panel.chip_view.chips()]
    assert "".join(chips) == "".join(chips0) and len(chips) < len(chips0)
    assert panel.table.rowCount() == top == len(res.merges)
    assert float(panel.plots_.line.value()) == top
    xs, ys = panel.plots_.sample_curve.getData()
    assert xs[-1] == top and ys[top] == res.sample_tokens / res.sample_words


def test_a_merges_tick_adds_or_cuts_table_rows_without_resetting_it(panel, qtbot):
    """A reset per tick re-laid out the whole merge table; the rows at the end change instead."""
    panel.merges.spin.setValue(10)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.learned == 10)
    events = []
    panel.table.modelReset.connect(lambda: events.append("reset"))
    panel.table.rowsInserted.connect(lambda _p, first, last: events.append(("added", first, last)))
    panel.table.rowsRemoved.connect(lambda _p, first, last: events.append(("cut", first, last)))
    panel.merges.spin.setValue(14)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.learned == 14)
    panel.merges.spin.setValue(12)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.learned == 12)
    assert events == [("added", 10, 13), ("cut", 12, 13)]
    res, model = panel.output().result, panel.table
    shown = [[model.data(model.index(r, c)) for c in range(4)] for r in range(model.rowCount())]
    assert [row[0] for row in shown] == list(range(12))
    assert [row[3] for row in shown] == [f"{f:,}" for f in res.merge_frequencies]
    assert [row[2] for row in shown] == [repr(a + b) for a, b in res.merges]


def test_chips_hover_names_piece_id_and_rank(panel, qtbot):
    view = panel.chip_view
    merged = next(i for i, c in enumerate(view.chips()) if c.rank is not None)
    rect = view._rects[merged]
    view.verticalScrollBar().setValue(0)
    assert view.chip_at(QPoint(rect.center().x(), rect.center().y())) == merged
    text = describe(view.chips()[merged])
    assert f"merge rank {view.chips()[merged].rank}" in text and "id " in text


def test_dragging_the_chart_line_sets_merges(panel, qtbot):
    panel.plots_.line.setValue(37.4)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.learned == 37)
    assert panel.params.merges == 37 == panel.merges.value()


def test_play_steps_through_merges(panel, qtbot):
    panel.merges.spin.setValue(0)
    qtbot.waitUntil(panel.is_idle)
    panel.play.setChecked(True)
    qtbot.waitUntil(lambda: panel.params.merges >= panel.top.value() // 10, timeout=10000)
    panel.play.setChecked(False)
    assert panel.play.text().startswith("▶")


def test_user_corpus_file_retrains_and_bad_files_are_refused(panel, qtbot, tmp_path):
    good = tmp_path / "mine.txt"
    good.write_text("banana bandana cabana " * 30, encoding="utf-8")
    panel.open_paths([good])
    qtbot.waitUntil(lambda: panel.is_idle() and "banana" in panel.params.corpus)
    assert panel.corpus.toPlainText() == panel.params.corpus
    assert panel.output().result.corpus_words == 90
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    open_files(panel, qtbot, [bad])
    assert "latin1.txt" in panel.status.text() and "banana" in panel.params.corpus


def test_clearing_the_corpus_names_the_problem_and_keeps_the_chart(panel, qtbot):
    before = panel.output()
    panel.corpus.setPlainText("   ")
    qtbot.waitUntil(lambda: "params.corpus" in panel.status.text(), timeout=5000)
    assert panel.output() is before and panel.status.property("error")


@pytest.mark.sdk
def test_exact_count_is_compared_and_failures_fall_back(panel, qtbot):
    with FakeAnthropic() as api:
        counter = ExactCounter("sk-ant-test", base_url=api.url)
        panel.set_exact_counter(counter)
        panel.exact.setChecked(True)
        qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.exact is not None, timeout=10000)
        sample = panel.params.sample
        assert panel.output().result.exact == fake_count(sample)
        assert "exact (API)" in panel.plots_.bars_plot.titleLabel.text
        api.script = [401] * 20
        failing = ExactCounter("sk-ant-other", base_url=api.url, max_retries=0)
        panel.set_exact_counter(failing)
        panel.change(sample=sample + " more")
        qtbot.waitUntil(lambda: panel.is_idle() and "unavailable" in panel.status.text(), timeout=10000)
        assert panel.output().result.exact is None
        counter.close()
        failing.close()


def test_economy_panel_prices_live_and_edits_prices(make_panel, qtbot):
    panel = make_panel(EconomyPanel)
    panel.load_sample()
    qtbot.waitUntil(panel.is_idle)
    res = panel.output().result
    assert res.cost == pytest.approx(economy.compute(panel.params).cost)
    panel.sliders["output_tokens"].spin.setValue(100)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.output_tokens == 100)
    _x, saved = panel.save_out_curve.getData()
    assert saved[-1] == pytest.approx(panel.output().result.output_cost)  # cutting all output
    panel.rates["output"].setValue(20.0)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.rates.output == 20.0)
    assert panel.params.prices == {"output": 20.0}
    assert panel.scenario()["params"]["prices"] == {"output": 20.0}


def test_bpe_sample_scenarios_all_compute():
    from widgets.loaders import read_scenario
    from widgets.resources import samples

    found = samples("bpe")
    assert len(found) >= 3
    for path in found:
        _lever, params = read_scenario(path)
        res = bpe.compute(bpe.Params.from_dict(params))
        assert res.learned == params["merges"] and res.sample_tokens < res.sample_curve[0]


def test_economy_tick_keeps_the_bar_axes_drawn(sample_panel, qtbot):
    """A slider tick that leaves the bar ranges alone does not re-lay out their axes.

    The "$" axis labels were set on every draw, which dropped each axis's drawn picture, so
    three axes regenerated their ticks on every tick (most of the panel's latency).
    """
    panel = sample_panel(EconomyPanel)
    panel.sliders["output_tokens"].spin.setValue(400)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.output_tokens == 400)
    panel.view.grab()  # paint: each axis keeps the picture it drew
    axes = [p.getAxis("left") for p in (panel.split_plot, panel.cut_plot, panel.model_plot)]
    drawn = [axis.picture for axis in axes]
    assert all(picture is not None for picture in drawn)
    assert all(axis.labelText == "$" for axis in axes)
    panel.sliders["output_tokens"].spin.setValue(401)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.output_tokens == 401)
    assert [axis.picture for axis in axes] == drawn


@pytest.mark.parametrize("which", ["bpe", "economy"])
def test_on_screen_legend_leaves_the_line_labels_readable(which, sample_panel, qtbot):
    """At 1280x720 the floating legend hid the rule's label (BPE) and the "100" label (economy)."""
    panel = sample_panel(BpePanel if which == "bpe" else EconomyPanel)
    panel.resize(1090, 650)  # its share of a 1280x720 window (beside the navigation)
    qtbot.waitUntil(panel.is_idle)
    panel.view.grab()  # lay out and paint at this size
    if which == "bpe":
        plot, labels = panel.plots_.curve_plot, [panel.plots_.rule_line.label]
    else:
        plot, labels = panel.curve_plot, [panel.marker.label]
    legend = plot.legend.sceneBoundingRect()
    for label in labels:
        assert label.isVisible() and not legend.intersects(label.sceneBoundingRect())


def _glyphs(label):
    inner = label.textItem
    margin = inner.document().documentMargin() - 1
    return inner.mapRectToScene(inner.boundingRect().adjusted(margin, margin, -margin, -margin))


def test_economy_bar_prices_fit_side_by_side_in_the_1280x720_window(sample_panel, qtbot):
    """'$1,360.00' over a 40 px bar ran into its neighbours' prices and past the plot's edge."""
    panel = sample_panel(EconomyPanel)
    panel.resize(1090, 690)  # the panel's share of a 1280x720 window
    setter, values = panel.bench_steps()
    setter(values[len(values) // 3])
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    qtbot.wait(50)
    for plot, labels in ((panel.split_plot, panel.split_labels), (panel.model_plot, panel.model_labels)):
        boxes = [_glyphs(label) for label in labels]
        inside = plot.vb.sceneBoundingRect()
        assert all(inside.left() <= b.left() and b.right() <= inside.right() for b in boxes)
        assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_the_exact_count_slot_says_it_needs_a_key_rather_than_stand_empty(panel):
    """Without a key the fourth bar's slot was empty and unlabelled, which read as a zero."""
    assert panel.output().result.exact is None
    labels = panel.plots_.bar_labels
    assert labels[3].isVisible() and labels[3].toPlainText() == "needs an API key"
    assert all(label.isVisible() and label.toPlainText()[0].isdigit() for label in labels[:3])


def test_a_sample_that_is_the_corpus_is_one_curve_named_for_both(panel, qtbot):
    """Two identical curves hid one: the legend listed a training-corpus curve nobody could see."""
    plots = panel.plots_
    legend = plots.curve_plot.legend

    def names():
        return [label.text for _sample, label in legend.items]

    for sample, shown in ((None, ["sample = training corpus"]), ("a different text entirely", None)):
        panel.set_params(dataclasses.replace(panel.params, sample=sample))
        qtbot.waitUntil(lambda s=sample: panel.is_idle() and panel.output().result.params.sample == s)
        if shown is not None:
            assert names() == shown and not plots.corpus_curve.isVisible()
        else:
            assert sorted(names()) == ["sample text", "training corpus"] and plots.corpus_curve.isVisible()
