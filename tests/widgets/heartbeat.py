"""A 10 ms timer on the UI thread: the longest gap between its ticks is the longest freeze."""

import time

from PySide6.QtCore import QTimer


class Heartbeat:
    """Start it, do the thing, stop it: :attr:`longest` is the longest the UI thread was busy."""

    def __init__(self):
        self.longest, self._last = 0.0, time.perf_counter()
        self.timer = QTimer()
        self.timer.timeout.connect(self._beat)
        self.timer.start(10)

    def _beat(self):
        now = time.perf_counter()
        self.longest, self._last = max(self.longest, now - self._last), now

    def stop(self):
        self.timer.stop()
        return self.longest
