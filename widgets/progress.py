"""Visible work: a progress bar and a Cancel button beside a panel's status line.

:class:`WorkIndicator` is shown only when work on the worker thread outlasts
:data:`SHOW_AFTER_MS` (a quick recompute must not flash a bar); while shown, the panel's plots
are dimmed (:data:`STALE_OPACITY`) and wear a busy cursor, so what is on screen is visibly the
previous result. The bar is busy (an endless sweep) until the work reports a fraction.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QProgressBar, QPushButton, QWidget

SHOW_AFTER_MS = 250
"""Work shorter than this shows no bar and dims nothing."""
STALE_OPACITY = 0.4
"""Opacity of plots whose result is stale (work for newer params is running)."""
_SCALE = 1000


class WorkIndicator(QWidget):
    """A progress bar and a Cancel button; :meth:`start`, :meth:`report`, :meth:`stop`."""

    def __init__(self, on_cancel: Callable[[], None], on_shown: Callable[[bool], None]) -> None:
        super().__init__()
        self._on_shown = on_shown
        self.bar = QProgressBar()
        self.bar.setObjectName("workProgress")
        self.bar.setFixedWidth(170)
        self.bar.setTextVisible(True)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop this computation (Esc); the chart keeps the previous result")
        self.cancel.clicked.connect(on_cancel)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar)
        row.addWidget(self.cancel)
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(SHOW_AFTER_MS)
        self._delay.timeout.connect(self._show)
        self._active = False
        self.setVisible(False)  # hidden, it leaves the status line its full width

    def start(self) -> None:
        """Work began: busy bar, shown if it is still running after :data:`SHOW_AFTER_MS`."""
        self._active = True
        self.bar.setRange(0, 0)
        self.bar.setFormat("working…")
        self._delay.start()

    def report(self, fraction: float) -> None:
        """Show that the work is ``fraction`` done (the bar becomes determinate)."""
        if not self._active:
            return
        if self.bar.maximum() == 0:
            self.bar.setRange(0, _SCALE)
            self.bar.setFormat("%p%")
        self.bar.setValue(round(min(max(fraction, 0.0), 1.0) * _SCALE))

    def stop(self) -> None:
        """End the work (done, failed or cancelled): hide the bar, undim the plots."""
        self._active = False
        self._delay.stop()
        if not self.isHidden():  # shown by _show (isVisible is False in a panel never shown: an export)
            self.setVisible(False)
            self._on_shown(False)

    def fraction(self) -> float | None:
        """Return the fraction the bar shows (``None`` while idle or busy without one)."""
        if not self._active or self.bar.maximum() == 0:
            return None
        return self.bar.value() / _SCALE

    def active(self) -> bool:
        """Whether work is running (shown or not yet)."""
        return self._active

    def _show(self) -> None:
        if self._active:
            self.setVisible(True)
            self._on_shown(True)


def dim(view: QWidget, plots_item: QGraphicsItem, stale: bool) -> None:
    """Dim the plots (``plots_item``: the view's central item) and show a busy cursor over them."""
    plots_item.setOpacity(STALE_OPACITY if stale else 1.0)
    if stale:
        view.setCursor(Qt.CursorShape.BusyCursor)
    else:
        view.unsetCursor()
