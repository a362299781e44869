"""Long work is visible: a progress bar, dimmed plots, a busy cursor; Esc cancels it."""

import random

from PySide6.QtCore import Qt

from widgets.bpe_panel import BpePanel
from widgets.progress import STALE_OPACITY


def _big_corpus(words: int = 120_000) -> str:
    """A corpus large enough that training many merges takes seconds (made-up words)."""
    rng = random.Random(29)
    letters = "aeioulnrstkmpdgbh"
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 11))) for _ in range(6000)]
    return " ".join(rng.choice(vocab) for _ in range(words))


def test_long_training_shows_the_bar_dims_the_plots_and_esc_cancels(sample_panel, qtbot):
    panel = sample_panel(BpePanel)
    before = panel.output()
    headline = panel.status.text()
    assert not panel.work.isVisible() and panel.view.ci.opacity() == 1.0

    panel.change(corpus=_big_corpus(), merges=5000)
    qtbot.waitUntil(panel.work.isVisible, timeout=5000)
    assert panel.view.ci.opacity() == STALE_OPACITY, "the stale chart is dimmed"
    assert panel.view.cursor().shape() == Qt.CursorShape.BusyCursor
    qtbot.waitUntil(lambda: panel.work.bar.maximum() > 0, timeout=10000)  # it reports a fraction
    assert "%" in panel.status.text()

    failed = []
    panel.sig_failed.connect(failed.append)
    panel.activateWindow()
    qtbot.keyClick(panel.merges.slider, Qt.Key.Key_Escape)
    qtbot.waitUntil(panel.is_idle, timeout=10000)
    assert not panel.work.isVisible()
    assert panel.view.ci.opacity() == 1.0 and panel.view.cursor().shape() != Qt.CursorShape.BusyCursor
    assert panel.output() is before, "the previous result stays"
    assert failed and "cancelled" in failed[0] and "cancelled" in panel.status.text()
    assert panel.status.text() != headline


def test_cancel_button_stops_the_work_and_a_quick_change_shows_no_bar(sample_panel, qtbot, click):
    panel = sample_panel(BpePanel)
    panel.merges.slider.setValue(panel.merges.slider.maximum() // 3)  # live: derive only
    qtbot.waitUntil(panel.is_idle)
    assert not panel.work.isVisible()

    before = panel.output()
    corpus, merges = panel.params.corpus, panel.params.merges
    # thousands of merges: long on any machine (133 of them on an idle one could end before the
    # bar's delay, and the test failed about 1 run in 6)
    panel.change(corpus=_big_corpus(), merges=5000)
    qtbot.waitUntil(panel.work.isVisible, timeout=5000)
    click(panel, "Cancel")
    qtbot.waitUntil(panel.is_idle, timeout=10000)
    assert panel.output() is before and not panel.work.isVisible()

    panel.change(corpus=corpus, merges=max(merges - 1, 0))  # works again after a cancel
    qtbot.waitUntil(panel.is_idle, timeout=60000)
    assert panel.output() is not before


def test_an_export_of_slow_work_is_not_left_dimmed(qtbot):
    """A panel built for export is never shown: the dimming of long work must still be undone."""
    from app.bench_loads import kv_bench_params
    from widgets.offscreen import build_panel

    panel = build_panel("kv_blocks", kv_bench_params().to_dict(), "slide")  # ~1.5 s of work
    try:
        assert panel.view.ci.opacity() == 1.0, "the chart an export writes is not the stale, dimmed one"
        assert not panel.work.active()
    finally:
        panel.shutdown()
        panel.deleteLater()
