"""One live API run at a time, off the UI thread, for the panels that can run live.

The window hands a panel a factory for its live client (``app.window.LIVE_CLIENTS``); the panel
starts ``work(client, should_stop)`` here and gets ``sig_done`` on the UI thread with the result,
or with a one-line message (``str``) when the run failed. The client is closed when the run ends;
:meth:`LiveRunner.stop` makes a call in flight give up at its next poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class LiveRunner(QObject):
    """Run one live job on a daemon thread and report it back on the UI thread."""

    sig_done = Signal(object)
    """The run ended: its result, or the error message (``str``)."""

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = f"ctxlab-{name}-live"
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def busy(self) -> bool:
        """Whether a run is in flight."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, client: Any, work: Callable[[Any, Callable[[], bool]], Any]) -> None:
        """Run ``work(client, should_stop)`` on a worker thread; ``client`` is closed after it."""
        stop = self._stop

        def run() -> None:
            try:
                result: Any = work(client, stop.is_set)
            except Exception as exc:  # the app's ApiCallError: one line, never the key
                result = str(exc)
            finally:
                client.close()
            if not stop.is_set():
                self.sig_done.emit(result)

        self._thread = threading.Thread(target=run, daemon=True, name=self._name)
        self._thread.start()

    def stop(self, wait_s: float = 5.0) -> None:
        """Make a call in flight give up (it polls every 50 ms) and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(wait_s)
