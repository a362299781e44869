"""Long use: every panel's main control moved 3,000 times; memory stays bounded, no thread is left.

Marked ``soak``: ``make soak`` runs it, and so does CI. Each panel gets at most ``DEADLINE_S``
seconds once past twice the warm-up (about 20 s each here, for 17 panels, two at a time), so CI stays bounded
on a slow machine; the ticks done are printed.
"""

import threading
import time

import pytest
from PySide6.QtWidgets import QApplication

from widgets import PANELS

TICKS = 3000
WARM = 300
DEADLINE_S = 30.0
GROWTH_MB = 40


def rss_mb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.soak
@pytest.mark.parametrize("spec", PANELS, ids=[s.lever for s in PANELS])
def test_three_thousand_drags(spec, make_panel, record_property):
    app = QApplication.instance()
    threads_before = {t.name for t in threading.enumerate()}
    panel = make_panel(spec)
    panel.load_sample()
    panel.resize(1200, 800)
    panel.show()
    while not panel.is_idle():
        app.processEvents()
    setter, values = panel.bench_steps()
    values = list(values)
    warm = None
    done = 0
    start = time.monotonic()
    for i in range(TICKS):
        if i > 2 * WARM and time.monotonic() - start > DEADLINE_S:
            break
        setter(values[i % len(values)])
        while not panel.is_idle():
            app.processEvents()
        app.processEvents()
        if i == WARM:
            warm = rss_mb()
        done = i + 1
    grown = rss_mb() - warm
    record_property("rss_growth_mb", round(grown, 1))
    print(f"{spec.lever}: {done} ticks, RSS grew {grown:.1f} MB after warm-up")
    assert grown < GROWTH_MB
    assert panel.output() is not None
    panel.shutdown()
    left = {t.name for t in threading.enumerate()} - threads_before
    assert not [n for n in left if n.startswith("ctxlab-")], left
