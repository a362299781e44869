"""The compression panel: live budget on cached scores, the probe, user text, the text view."""

import numpy as np
import pyqtgraph as pg
import pytest

from widgets.compression_panel import CompressionPanel
from widgets.compression_plots import binned_scores


@pytest.fixture
def panel(sample_panel):
    return sample_panel(CompressionPanel)


def test_budget_drag_reuses_scores_and_tracks_the_answer(panel, qtbot):
    first = panel.output().result
    assert first.answer_kept is True and "answer kept" in panel.status.text()
    assert panel.reuses_prepared(panel.params)  # same text and query: only the greedy pass reruns
    panel.plots_.line.setValue(5)  # drag the chart's budget line
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.budget == 5)
    res = panel.output().result
    assert res.scored is first.scored and panel.budget.value() == 5
    assert res.answer_kept is False and "answer lost" in panel.status.text()
    _x, kept = panel.plots_.kept_bars.getData()
    assert np.count_nonzero(kept) == int(res.kept.sum())


def test_query_edit_rescores_on_the_worker(panel, qtbot):
    before = panel.output().result.scored
    panel.query.setText("Who flagged the stale dashboards?")
    panel.query.editingFinished.emit()
    assert not panel.reuses_prepared(panel.params)
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.scored is not before, timeout=10000)
    best = panel.output().result.scored.order[0]
    assert "flagged" in panel.output().result.scored.sentences[best]


def test_text_view_strikes_fine_pass_words_after_a_pause(panel, qtbot):
    qtbot.waitUntil(lambda: "<s " in panel._html, timeout=3000)
    assert "text-decoration:underline" in panel._html  # the probe's sentence


def test_user_file_and_empty_text(panel, qtbot, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Alpha beta gamma. The budget owner is Priya. Delta epsilon.", encoding="utf-8")
    panel.open_paths([path])
    qtbot.waitUntil(lambda: panel.is_idle() and len(panel.output().result.scored.sentences) == 3,
                    timeout=10000)
    before = panel.output()
    panel.text.setPlainText("   ")
    qtbot.waitUntil(lambda: "params.text: nothing to compress" in panel.status.text(), timeout=5000)
    assert panel.output() is before


def test_binning_keeps_the_tallest_score_per_column():
    scores = np.arange(10.0)
    kept = scores % 2 == 0
    edges, top_kept, top_dropped = binned_scores(scores, kept, bins=5)
    assert edges.size == 6 and top_kept.tolist() == [0, 2, 4, 6, 8]
    assert top_dropped.tolist() == [1, 3, 5, 7, 9]


def test_bars_can_be_shown_best_first(panel, qtbot):
    panel.order.setCurrentText("score")
    qtbot.waitUntil(lambda: panel.is_idle() and panel.output().result.params.order == "score")
    _x, dropped = panel.plots_.dropped_bars.getData()
    _x, kept = panel.plots_.kept_bars.getData()
    heights = np.maximum(kept, dropped)
    assert (np.diff(heights) <= 1e-12).all()  # best first: never rising
    assert panel.scenario()["params"]["order"] == "score"


def test_dropped_bars_are_filled_opaque_in_the_faded_color(panel):
    """A translucent fill cost ~15 ms a paint on 10,000 sentences; the same color, mixed once, ~1 ms."""
    from widgets.theme import mix

    brush = panel.plots_.dropped_bars.opts["fillBrush"]
    color = pg.mkBrush(brush).color()
    assert color.alpha() == 255
    theme = panel.theme
    assert color.name() == mix(theme.background, theme.muted, 120 / 255)


@pytest.mark.parametrize("height", [560, 900])
def test_the_token_counts_are_never_cut_at_the_top_of_their_chart(panel, qtbot, height):
    """At 1280x720 the chart is about 100 px tall, and 20% headroom cut the tallest count."""
    plots = panel.plots_
    panel.resize(900, height)
    qtbot.wait(50)
    top = plots.counts.vb.sceneBoundingRect().top()
    for label in plots.count_labels:
        assert label.sceneBoundingRect().top() >= top - 0.5, (height, label.toPlainText())
