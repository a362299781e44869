"""Cyclic garbage holding Qt objects is destroyed on the UI thread, never on a panel's worker."""

import gc
import threading

import pyqtgraph as pg

from widgets import PANELS


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
