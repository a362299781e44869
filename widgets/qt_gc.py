"""Python's cyclic garbage is collected on the UI thread only.

A panel's worker allocates heavily (replays, sweeps) and so triggers Python's automatic
collections on the worker thread. A collection destroys whatever cyclic garbage exists at that
moment, including pyqtgraph items left over from an earlier draw or panel, and destroying a Qt
object off its own thread makes Qt start timers from the wrong thread and can crash the
process. pyqtgraph's :class:`GarbageCollector` turns automatic collection off and collects on
a timer of the UI thread instead; :func:`collect_on_ui_thread` installs it once per process.
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector

_collector: GarbageCollector | None = None


def collect_on_ui_thread(interval_s: float = 0.5) -> GarbageCollector:
    """Install the UI-thread collector (call on the UI thread once a QApplication exists)."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=interval_s)
    return _collector
