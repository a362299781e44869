"""Python's cyclic garbage is collected on the UI thread only.

A panel's worker allocates heavily (replays, sweeps) and so triggers Python's automatic
collections on the worker thread. A collection destroys whatever cyclic garbage exists at that
moment, including pyqtgraph items left over from an earlier draw or panel, and destroying a Qt
object off its own thread makes Qt start timers from the wrong thread and can crash the
process. pyqtgraph's :class:`GarbageCollector` turns automatic collection off and collects on
a timer of the UI thread instead; :func:`collect_on_ui_thread` installs it once per process.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector

_collector: GarbageCollector | None = None


def collect_on_ui_thread(interval_s: float = 0.5) -> GarbageCollector:
    """Install the UI-thread collector (call on the UI thread once a QApplication exists)."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=interval_s)
    return _collector


FULL_AFTER_GROWTH = 1.5
"""settle_heap walks the whole heap again once this many times as many objects are frozen as
after its last full collection (CPython's own full collections wait for 25 % more long-lived
objects)."""
_frozen_after_full = [0]


def settle_heap() -> None:
    """Collect garbage, then exempt the survivors from later full collections.

    Call after a heavy compute that left many long-lived objects (a trained model): without
    it, Python's periodic full collection walks them all and stalls a drag for ~50 ms.

    A collection walks only what is not frozen yet, so it costs what the compute left. Cyclic
    garbage among frozen objects (an earlier model, dropped since) is collected by a full
    collection, which unfreezes first and walks the whole heap (20-100 ms): it runs once the
    frozen objects grew by half since the last one, so that garbage waits a bounded time and
    the full walks cost a bounded share of the work.
    """
    gc.collect()
    gc.freeze()
    if gc.get_freeze_count() >= FULL_AFTER_GROWTH * _frozen_after_full[0]:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        _frozen_after_full[0] = gc.get_freeze_count()
