"""Long work is visible: a progress bar, dimmed plots, a busy cursor; Esc cancels it."""

import random
import threading

import pytest
from PySide6.QtCore import Qt

from core import compression, packer, temporal
from core import output_shaping as osh
from core import prefix_cache as pc
from core.errors import Cancelled
from widgets.base import Progress
from widgets.bpe_panel import BpePanel
from widgets.compression_panel import CompressionPanel
from widgets.output_shaping_panel import OutputShapingPanel
from widgets.packer_panel import PackerPanel
from widgets.prefix_cache_panel import PrefixCachePanel
from widgets.progress import STALE_OPACITY
from widgets.temporal_panel import TemporalPanel


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


class _ApiLike:
    """A counter that is not cheap (as the exact one): the packer counts part by part."""

    name, cheap = "words", False

    def count(self, text):
        return len(text.split())

    def count_many(self, texts):
        return [len(t.split()) for t in texts]


_DOC = "The deploy failed because the schema migration locked the orders table. Lunch was late. "
_HEAVY = {  # params under which each panel's prepare reports at least three times
    TemporalPanel: lambda: temporal.Params.from_dict({"generate": {"keys": 50, "events": 2000, "seed": 3}}),
    OutputShapingPanel: lambda: osh.Params.from_dict({"replies": [{"reply": "Sure!\nAnswer: red",
                                                                   "answer": "red"}] * 300}),
    PrefixCachePanel: lambda: pc.Params(),
    CompressionPanel: lambda: compression.Params(text=_DOC * 200, query="why did the deploy fail", budget=50),
    PackerPanel: lambda: packer.Params(parts=tuple(packer.Part(f"p{i}", "w " * i) for i in range(5)),
                                       budget=10),
}


@pytest.mark.parametrize("cls", list(_HEAVY), ids=lambda c: c.__name__)
def test_a_panels_prepare_reports_its_progress_and_stops_once_its_job_is_cancelled(make_panel, qtbot, cls):
    """The job's Progress reaches the core (rising fractions); once the job is cancelled (its stop
    event set, as Esc, Cancel and newer params do) the next report raises and prepare stops."""
    panel = make_panel(cls)
    qtbot.waitUntil(panel.is_idle, timeout=20000)
    params, counter = _HEAVY[cls](), _ApiLike()
    heard = []
    panel.prepare(params, counter, Progress(threading.Event(), heard.append))
    assert len(heard) >= 3 and heard == sorted(heard) and heard[0] >= 0 and heard[-1] <= 1

    stop, told = threading.Event(), []

    def report(fraction):
        told.append(fraction)
        if len(told) == 2:
            stop.set()  # the user cancels while the job runs

    with pytest.raises(Cancelled):
        panel.prepare(params, counter, Progress(stop, report))
    assert told == heard[:2], "the job stopped at its next report"


def test_a_long_compression_shows_its_fraction_and_cancel_stops_it(sample_panel, qtbot, click):
    """A worst-case document (~9 s of scoring on one machine) reports a fraction; Cancel stops it."""
    panel = sample_panel(CompressionPanel)
    before = panel.output()
    panel.change(text="ab. " * (compression.MAX_TEXT_CHARS // 4))
    qtbot.waitUntil(lambda: panel.work.isVisible() and panel.work.bar.maximum() > 0, timeout=10000)
    assert "%" in panel.status.text()
    click(panel, "Cancel")
    qtbot.waitUntil(panel.is_idle, timeout=10000)
    assert panel.output() is before and "cancelled" in panel.status.text()
