"""One live API run at a time, off the UI thread, for the panels that can run live.

The window hands a panel a factory for its live client (``app.window.LIVE_CLIENTS``); the panel
starts ``work(client, should_stop)`` here and gets ``sig_done`` on the UI thread with the result,
or with a one-line message (``str``) when the run failed. The client is closed when the run ends;
:meth:`LiveRunner.stop` makes a call in flight give up at its next poll.

:class:`LiveSection` is a panel's whole live section: its heading, the button that starts a run
(enabled only with a factory and no run in flight) and the label that says how it went.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from widgets.controls import section

Work = Callable[[Any, Callable[[], bool]], Any]
"""``work(client, should_stop)``: the live calls, on the worker thread."""


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

    def start(self, client: Any, work: Work) -> None:
        """Run ``work(client, should_stop)`` on a worker thread; ``client`` is closed after it.

        Each run has a stop flag of its own: a run started after :meth:`stop` runs in full.
        """
        stop = self._stop = threading.Event()

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
        """Make the call in flight give up (it polls every 50 ms) and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(wait_s)


class LiveSection(QObject):
    """A panel's live section: heading, extra inputs, a run button and a result label.

    The panel declares it once in its controls column and hands it the window's client
    factory (:meth:`set_factory`). A click calls the panel's ``on_click``, which starts the run
    with :meth:`start`; the outcome comes back as ``sig_measured(result)`` (the panel shows it
    with :meth:`say`) or ``sig_failed(message)`` (already shown in the label).
    """

    sig_measured = Signal(object)
    """A run succeeded: its result (UI thread)."""
    sig_failed = Signal(str)
    """A run failed: its one-line message (UI thread)."""

    def __init__(self, panel: QWidget, layout: QVBoxLayout, heading: str, button: str, idle: str,
                 on_click: Callable[[], None], *, tooltip: str = "",
                 inputs: Sequence[QWidget] = ()) -> None:
        super().__init__(panel)
        self.runner = LiveRunner(str(getattr(panel, "lever", "panel")), self)
        self.runner.sig_done.connect(self._on_done)
        self.factory: Callable[[], Any] | None = None
        self.button = QPushButton(button)
        self.button.setEnabled(False)
        self.button.setToolTip(tooltip)
        self.button.clicked.connect(on_click)
        self.label = QLabel(idle)
        self.label.setWordWrap(True)
        layout.addWidget(section(heading))
        for widget in (*inputs, self.button, self.label):
            layout.addWidget(widget)

    def set_factory(self, factory: Callable[[], Any] | None) -> None:
        """Offer (or withdraw) live runs: ``factory()`` returns a client with ``close()``."""
        self.factory = factory
        self._enable()

    def start(self, sending: str, work: Work) -> None:
        """Start ``work(client, should_stop)`` with a new client; ``sending`` says what goes out."""
        if self.factory is None or self.runner.busy():
            return
        self.button.setEnabled(False)
        self.label.setText(sending)
        self.runner.start(self.factory(), work)

    def say(self, text: str) -> None:
        """Show what the run measured."""
        self.label.setText(text)

    def stop(self, wait_s: float = 5.0) -> None:
        """Give up the run in flight (its result is dropped); the button is offered again."""
        self.runner.stop(wait_s)
        self._enable()

    def _enable(self) -> None:
        self.button.setEnabled(self.factory is not None and not self.runner.busy())

    def _on_done(self, result: Any) -> None:
        self.button.setEnabled(self.factory is not None)
        if isinstance(result, str):
            self.label.setText(f"Live run failed: {result}")
            self.sig_failed.emit(result)
        else:
            self.sig_measured.emit(result)
