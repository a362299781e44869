"""Semantic cache panel: the threshold slider and line, the user's questions, embedders, export."""

import itertools

import numpy as np
import pyqtgraph as pg
import pytest

from core import semantic_cache as sc
from core.errors import InputError
from core.semantic_cache_io import parse_csv, parse_lines, to_lines
from widgets.semantic_cache_panel import SemanticCachePanel
from widgets.semantic_cache_plots import GRID, zero_window


@pytest.fixture
def panel(sample_panel):
    return sample_panel(SemanticCachePanel)


@pytest.fixture
def shown(shared_sample_panel):
    """The sample's panel for tests that only read it: one for the module (see conftest.py)."""
    return shared_sample_panel(SemanticCachePanel)


def test_sample_loads_and_every_slider_position_was_walked_once(shown):
    out = shown.output()
    res = out.result
    assert res.params.threshold == 0.7 and res.n == 30
    assert set(GRID.tolist()) <= set(res.prepared.walks)  # a tick is a lookup
    assert "no threshold avoids both" in shown.status.text()
    assert zero_window(out.fine) is None
    assert out.fine["false_hits"][0] > 0 and out.fine["false_misses"][-1] > 0


def test_the_slider_moves_the_threshold_the_lines_and_the_dots(panel, qtbot):
    prepared = panel.prepared()
    panel.threshold.slider.setValue(panel.threshold.slider.maximum())  # a drag to the end
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.threshold == 1.0)
    res = panel.output().result
    assert panel.prepared() is prepared  # only the live field changed: nothing re-embedded
    assert float(panel.plots_.hline.value()) == 1.0 == float(panel.plots_.vline.value())
    hits_x, _ = panel.plots_.dots["hit"].getData()
    assert len(hits_x) + res.false_hit.sum() == res.hits
    assert res.hits == sc.compute(res.params).hits
    assert panel.exact.value() == pytest.approx(1.0)


def test_dragging_a_line_sets_the_slider(panel, qtbot):
    panel.plots_.vline.setValue(0.42)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.threshold == 0.42)
    assert panel.threshold.value() == 42
    panel.plots_.hline.setValue(0.9)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.threshold == 0.9)


def test_tfidf_embedder_reembeds_and_changes_the_sweep(panel, qtbot):
    before = panel.output().fine["hits"].copy()
    panel.embedder.setCurrentText("tfidf")
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.embedder == "tfidf")
    assert not np.array_equal(panel.output().fine["hits"], before)


def test_user_questions_from_csv_text_and_json(panel, qtbot, tmp_path):
    good = tmp_path / "faq.csv"
    good.write_text("question,intent\nWhere is my parcel?,track\nWhere's my parcel?,track\n"
                    "Can I return shoes?,returns\n")
    panel.open_paths([good])
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.n == 3)
    assert panel.params.intents == ("track", "track", "returns")
    assert "Where is my parcel? | track" in panel.workload.toPlainText()
    plain = tmp_path / "questions.txt"
    plain.write_text("Where is my parcel?\n\nWhere is my parcel now?\n")
    panel.open_paths([plain])
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.n == 2)
    assert panel.params.intents is None and panel.output().result.false_hit is None
    as_json = tmp_path / "list.json"
    as_json.write_text('[{"question": "a b c", "intent": "x"}, "d e f"]')
    panel.open_paths([as_json])
    assert panel.opener.active() and panel.params.workload != ("a b c", "d e f")  # on the worker
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.workload == ("a b c", "d e f"))
    assert panel.params.intents is None and panel.workload.toPlainText() == "a b c\nd e f"


def _opened(panel, qtbot, path):
    """Open ``path`` as the Open button does; wait until it was read and applied, or refused."""
    panel.open_paths([path])
    qtbot.waitUntil(lambda: not panel.opener.active(), timeout=20000)
    qtbot.waitUntil(panel.is_idle, timeout=20000)


def test_bad_files_name_the_line_and_keep_the_data(panel, qtbot, tmp_path):
    before, shown = panel.params, panel.output()
    bad = tmp_path / "bad.csv"
    bad.write_text("question,intent\nfine,one\n,two\n")
    _opened(panel, qtbot, bad)
    assert "bad.csv line 3: no question in column 1" in panel.status.text()
    assert panel.params == before and panel.output() is shown
    assert panel.workload.toPlainText() == to_lines(before.workload, before.intents)


def test_opened_questions_are_read_off_the_ui_thread_then_applied(panel, qtbot, tmp_path):
    """Issue 28: the file was read and parsed inside open_paths, on the UI thread."""
    path = tmp_path / "many.csv"
    rows = [f"How do I return bike number {i}?,return" for i in range(sc.MAX_QUESTIONS)]
    path.write_text("question,intent\n" + "\n".join(rows) + "\n")
    before = panel.params
    panel.open_paths([path])
    assert panel.opener.active() and panel.params == before  # still reading: nothing changed yet
    assert panel.status.text().startswith("reading many.csv")
    qtbot.waitUntil(lambda: panel.params.workload != before.workload, timeout=20000)
    assert panel.params.workload == tuple(r.split(",")[0] for r in rows)
    assert panel.params.intents == ("return",) * sc.MAX_QUESTIONS
    assert panel.workload.toPlainText().startswith("How do I return bike number 0? | return")


def test_a_question_over_the_scenario_limit_is_refused_by_name(panel, qtbot, tmp_path):
    """Issue 28: files bypassed the params limits, so a session holding them could not reopen."""
    before = panel.params
    path = tmp_path / "long.txt"
    path.write_text("short one\n" + "why " * 624 + "why?\n")  # 2,500 characters: over MAX_CHARS
    _opened(panel, qtbot, path)
    assert panel.params == before
    assert panel.status.text().startswith(
        f"long.txt.workload[1]: 2,500 characters is over the limit of {sc.MAX_CHARS:,}")


def test_typed_questions_with_intents(panel, qtbot):
    panel.workload.setPlainText("reset my password | pw\nreset password please | pw\nopening hours | hours")
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.n == 3, timeout=5000)
    assert panel.params.intents == ("pw", "pw", "hours")


def test_parsers_on_their_own():
    assert parse_lines("a | x\nb | y") == (("a", "b"), ("x", "y"))
    assert parse_lines("a | x\nb") == (("a", "b"), None)  # an untagged line: no intents at all
    assert parse_csv("what now?,later\nwhy?,\n") == (("what now?", "why?"), None)
    with pytest.raises(InputError, match="questions: no questions found"):
        parse_lines("\n\n")


def test_csv_rows_and_headline(shown):
    rows = shown.csv_rows()
    assert rows[0][:3] == ["question", "hit", "score"] and len(rows) == 31
    assert "false hits" in shown.status.text()


def test_a_cache_slower_than_the_model_says_more_wait_not_negative_less(panel, qtbot):
    assert "% less wait" in panel.status.text()
    panel.change(llm_ms=1.0, lookup_ms=12.0)  # a lookup slower than the call it saves
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.llm_ms == 1.0)
    text = panel.status.text()
    assert "% more wait" in text and "less wait" not in text and "-" not in text.split("·")[1]


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the tooltip, offscreen
def test_many_questions_are_one_density_image_with_hover(make_panel, qtbot):
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QToolTip

    from app.bench_loads import semantic_cache_bench_params

    panel = make_panel(SemanticCachePanel)
    panel.set_params(semantic_cache_bench_params(questions=600))
    panel.resize(1300, 900)
    panel.show()
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.n == 600, timeout=60_000)
    plots = panel.plots_
    assert plots.density.isVisible() and not plots.dots["hit"].isVisible()
    image = plots.density.image
    res = panel.output().result
    assert image.shape[:2] == (100, 600)
    assert (image[..., 3] > 0).sum() <= res.n  # one cell per question at most
    scene = plots.scores.vb.mapViewToScene(QPointF(123, 0.5))
    plots._on_mouse_moved((scene,))
    assert QToolTip.text().startswith(f"#124 {'HIT' if res.walk.hit[123] else 'MISS'}")


def test_the_other_embedders_sweep_is_drawn_dotted_for_comparison(shown):
    out = shown.output()
    assert out.other == "tfidf" and out.other_table is not None
    twin = sc.Params.from_dict({**shown.params.to_dict(), "embedder": "tfidf", "sweep_thresholds": None})
    expected = sc.compute(twin).to_dict()["sweep"]
    x, y = shown.plots_.twins["false_misses"].getData()
    assert list(x) == [row["threshold"] for row in expected]
    assert list(y) == [row["false_misses"] / out.result.n for row in expected]
    assert "dotted: tfidf" in shown.plots_.sweep.titleLabel.text


@pytest.mark.sdk
def test_live_run_sends_only_the_misses_and_the_measured_costs_replace_the_assumptions(panel, qtbot):
    from app.semantic_live import MAX_CALLS, SemanticLive
    from tests.fake_api import FakeAnthropic
    from widgets.semantic_cache_panel import MAX_LIVE_CALLS

    assert MAX_LIVE_CALLS == MAX_CALLS
    assert not panel.live_button.isEnabled()  # no key: nothing to send
    before = panel.output().result
    missed = [e["question"] for e in before.events() if not e["hit"]]
    hit = {e["question"] for e in before.events() if e["hit"]}
    assert 0 < len(missed) <= MAX_CALLS and hit
    with FakeAnthropic() as fake:
        fake.reply = lambda body: "one two three four five six seven eight"
        panel.set_live_factory(lambda: SemanticLive("sk-test-panel", base_url=fake.url))
        with qtbot.waitSignal(panel.live_section.sig_measured, timeout=30000):
            panel.live_button.click()
        sent = [b["messages"][0]["content"] for path, _h, b in fake.requests
                if path.endswith("/v1/messages")]
    assert sent == missed and not hit & set(sent)  # hits never call
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.out_tokens == 8, timeout=20000)
    after = panel.output().result
    assert after.params.llm_ms != before.params.llm_ms and panel.out_tokens.value() == 8
    assert after.totals()["cache"]["cost"] == pytest.approx(
        (after.n - after.hits) * 8 / 1e6 * after.params.price)
    assert f"Measured on {len(missed)} misses: 8 output tokens" in panel.live_label.text()
    assert "sk-test-panel" not in panel.live_label.text() and panel.live_button.isEnabled()


@pytest.mark.sdk
def test_live_run_failure_is_one_line_and_changes_nothing(panel, qtbot):
    from app.semantic_live import SemanticLive
    from tests.fake_api import FakeAnthropic

    params = panel.params
    with FakeAnthropic() as fake:
        fake.script = [401]
        panel.set_live_factory(lambda: SemanticLive("sk-test-panel", base_url=fake.url))
        with qtbot.waitSignal(panel.sig_failed, timeout=15000) as failed:
            panel.live_button.click()
    assert failed.args[0].startswith("miss 1: the API key was rejected (401)")
    assert panel.params == params and "sk-test-panel" not in panel.live_label.text()


@pytest.mark.sdk
def test_a_live_run_after_a_stopped_one_runs_in_full(panel, qtbot):
    """Stopping a run set the runner's stop flag for good: the next run gave up at once and
    never reported. Each run now has a flag of its own."""
    from app.semantic_live import SemanticLive
    from tests.fake_api import FakeAnthropic

    with FakeAnthropic() as fake:
        fake.delay_s = 1.0  # the first run is still waiting for its first answer when stopped
        panel.set_live_factory(lambda: SemanticLive("sk-test-panel", base_url=fake.url))
        panel.live_button.click()
        assert not panel.live_button.isEnabled() and "sending" in panel.live_label.text()
        panel.live_section.stop()
        assert panel.live_button.isEnabled()
        fake.delay_s = 0.0
        fake.reply = lambda body: "one two three"
        with qtbot.waitSignal(panel.live_section.sig_measured, timeout=30000) as measured:
            panel.live_button.click()
    assert len(measured.args[0].calls) > 0 and measured.args[0].mean_tokens == 3
    qtbot.waitUntil(lambda: panel.is_idle() and panel.params.out_tokens == 3, timeout=20000)


def _texts_over_curves(plots):
    """Say which texts of the running-cost chart lie on one of its curves (scene pixels).

    Each curve is followed pixel by pixel between its points and widened by its pen; every
    visible text in the chart (and the legend's box, when it floats over the data) is tested.
    """
    from PySide6.QtCore import QPointF, QRectF

    cost = plots.cost
    plot = cost.plot
    boxes = [(item.toPlainText(), item.sceneBoundingRect()) for item in plot.vb.addedItems
             if isinstance(item, pg.TextItem) and item.isVisible() and item.toPlainText().strip()]
    boxes += [(label.text, label.mapRectToScene(label.itemRect())) for _sample, label in plot.legend.items]
    if plot.legend.parentItem() is plot.vb:
        boxes.append(("legend box", plot.legend.sceneBoundingRect()))
    problems = []
    for curve in (cost.base_curve, cost.cache_curve):
        xs, ys = curve.getData()
        points = [plot.vb.mapViewToScene(QPointF(float(x), float(y))) for x, y in zip(xs, ys, strict=True)]
        half = curve.opts["pen"].widthF() / 2 + 1
        for text, box in boxes:
            grown = QRectF(box).adjusted(-half, -half, half, half)
            for a, b in itertools.pairwise(points):
                steps = max(2, int(max(abs(b.x() - a.x()), abs(b.y() - a.y()))) + 1)
                if any(grown.contains(a + (b - a) * (i / steps)) for i in range(steps + 1)):
                    problems.append(f"{text!r} on {curve.name()}")
                    break
    return problems


def _wait_texts(res):
    t = res.totals()
    return [f"no cache · wait {t['baseline']['latency_ms'] / 1000:,.1f} s",
            f"with cache · wait {t['cache']['latency_ms'] / 1000:,.1f} s"]


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768), (1920, 1080)])
def test_the_wait_is_told_clear_of_the_running_cost_curves_in_the_window(qtbot, size):
    """The wait was a text at the bottom right of the running-cost chart, over the no-cache line
    at 1280x720; it is in the legend, and the floating legend leaves room above the lines."""
    from app.window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    try:
        panel = win.show_panel("semantic_cache")
        qtbot.waitUntil(lambda: panel.is_idle() and panel.output() is not None, timeout=60_000)
        plots = panel.plots_
        qtbot.waitUntil(lambda: [lbl.text for _s, lbl in plots.cost.legend.items]
                        == _wait_texts(panel.output().result), timeout=5000)
        qtbot.waitUntil(lambda: not _texts_over_curves(plots), timeout=3000)  # after the reflow
        panel.threshold.spin.setValue(30)  # more hits: the wait changes, the room holds
        qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.threshold == 0.3)
        assert [lbl.text for _s, lbl in plots.cost.legend.items] == _wait_texts(panel.output().result)
        assert _texts_over_curves(plots) == []
        (_x0, x1), (_y0, top) = plots.cost.plot.viewRange()
        res = panel.output().result
        assert x1 == res.n and top < 4 * res.n * res.params.cost_per_call  # the lines still show
    finally:
        for panel in win.panels.values():
            panel.shutdown()


def test_the_wait_is_told_clear_of_the_running_cost_curves_on_a_slide(qapp):
    from widgets.export import resize_view
    from widgets.loaders import read_scenario
    from widgets.offscreen import build_panel
    from widgets.resources import samples

    lever, params = read_scenario(samples("semantic_cache")[0])
    panel = build_panel(lever, params, theme="slide")
    try:
        for size in [(1280, 720), (1920, 1080)]:
            resize_view(panel.view, size)
            legend = panel.plots_.cost.legend
            assert [lbl.text for _s, lbl in legend.items] == _wait_texts(panel.output().result)
            assert _texts_over_curves(panel.plots_) == [], size
    finally:
        panel.shutdown()
        panel.view.close()
        panel.view.deleteLater()
        panel.deleteLater()


def test_the_similarity_map_has_a_labelled_colour_scale_from_0_to_1(shown):
    """Without one, a slide showed colours no one could read as numbers."""
    from widgets.plots import colour_bars

    plots = shown.plots_
    bars = colour_bars(plots.heat)
    assert len(bars) == 1 and tuple(bars[0].levels()) == (0.0, 1.0)
    assert tuple(plots.image.levels) == (0.0, 1.0)
    assert any(bars[0].getAxis(side).labelText == "similarity" for side in ("left", "right"))
