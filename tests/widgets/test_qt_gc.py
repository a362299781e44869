"""Cyclic garbage holding Qt objects is destroyed on the UI thread, never on a panel's worker."""

import gc
import threading
import weakref

import pyqtgraph as pg

from widgets import PANELS, qt_gc


class _Cycle:
    """Unreachable as soon as it is built: it refers to itself and holds a Qt graphics item."""

    def __init__(self, log):
        self.log = log
        self.item = pg.PlotCurveItem()
        self.me = self

    def __del__(self):
        self.log.append(threading.current_thread().name)


def _churn():
    for _ in range(200_000):  # enough allocations to trigger many automatic collections
        a = []
        a.append(a)


def test_cyclic_qt_garbage_dies_on_the_ui_thread(make_panel, qtbot):
    make_panel(PANELS[0])  # building any panel installs the UI-thread collector
    assert not gc.isenabled()
    log = []
    _Cycle(log)
    worker = threading.Thread(target=_churn, name="ctxlab-churn")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(log), timeout=5000)
    assert log == [threading.main_thread().name]


class _Node:
    def __init__(self):
        self.me = self  # cyclic: only a collection frees it


def test_settle_heap_walks_frozen_objects_again_once_they_grew_by_half(monkeypatch):
    monkeypatch.setattr(qt_gc, "_frozen_after_full", [0])
    qt_gc.settle_heap()  # the first settle is a full one
    settled = gc.get_freeze_count()
    node = _Node()
    dropped = weakref.ref(node)
    qt_gc.settle_heap()  # freezes the node with what else is new
    del node
    qt_gc.settle_heap()  # collects what is new only: the frozen heap is not walked again
    assert dropped() is not None
    kept = [[] for _ in range(int(0.6 * settled))]  # the frozen heap grows by more than half
    qt_gc.settle_heap()
    assert dropped() is None, "a full collection freed the cycle frozen earlier"
    assert gc.get_freeze_count() >= len(kept)
