"""Shared control helpers: one slider-plus-spin-box binding, section titles, explanations."""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

_TICKS = 1000
ARROW_TICKS = 10
"""Ticks an arrow key moves a focused slider (1 % of its travel, at least one value)."""
PAGE_TICKS = 100
"""Ticks Page Up / Page Down move a focused slider (10 % of its travel, at least one value)."""
_STEPS = {Qt.Key.Key_Left: -ARROW_TICKS, Qt.Key.Key_Down: -ARROW_TICKS, Qt.Key.Key_Right: ARROW_TICKS,
          Qt.Key.Key_Up: ARROW_TICKS, Qt.Key.Key_PageDown: -PAGE_TICKS, Qt.Key.Key_PageUp: PAGE_TICKS}


class SliderSpin(QWidget):
    """An integer control: a slider for dragging and a spin box for typing, kept in step.

    The slider runs on ``_TICKS`` ticks mapped linearly (or logarithmically) onto
    ``[minimum, maximum]``, so a range of 0..100,000 still drags smoothly; the spin box
    holds the exact value. Focused, the slider steps with the arrow keys (:data:`ARROW_TICKS`)
    and jumps with Page Up / Page Down (:data:`PAGE_TICKS`), always by at least one value, so
    a key press on a short range (1..8) is never swallowed by rounding. The spin box steps by
    one value (ten with Page Up / Page Down).
    """

    sig_value_changed = Signal(int)
    """The value changed, by dragging, typing or ``set_value``."""

    def __init__(self, label: str, minimum: int = 0, maximum: int = 100, value: int = 0,
                 log: bool = False, suffix: str = "") -> None:
        """Make the control; a bound one may leave out the range (bind sets the declared one)."""
        super().__init__()
        self._log = log
        self.label = QLabel(label)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, _TICKS)
        self.slider.setSingleStep(ARROW_TICKS)
        self.slider.setPageStep(PAGE_TICKS)
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.slider.installEventFilter(self)
        self.setFocusProxy(self.slider)
        self.spin = QSpinBox()
        self.spin.setKeyboardTracking(False)
        self.spin.setSuffix(suffix)
        self.spin.setGroupSeparatorShown(True)
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.label)
        box.addLayout(row)
        self.spin.setRange(minimum, max(minimum, maximum))
        self.set_value(value)
        self.slider.valueChanged.connect(self._on_slider_moved)
        self.spin.valueChanged.connect(self._on_spin_changed)

    def value(self) -> int:
        """Return the current value."""
        return self.spin.value()

    def set_range(self, minimum: int, maximum: int) -> None:
        """Change the range, emitting nothing; widened to hold the value shown (never clamped)."""
        value = self.spin.value()
        with QSignalBlocker(self.spin), QSignalBlocker(self.slider):
            self.spin.setRange(min(minimum, value), max(minimum, maximum, value))
            self.slider.setValue(self._to_tick(self.spin.value()))

    def set_value(self, value: int) -> None:
        """Show ``value`` without emitting a change (used when params are pushed in).

        A loaded value past the range widens it: the control must show what the params hold,
        never a silently clamped number (issue 28).
        """
        with QSignalBlocker(self.spin), QSignalBlocker(self.slider):
            if not self.spin.minimum() <= value <= self.spin.maximum():
                self.spin.setRange(min(self.spin.minimum(), value), max(self.spin.maximum(), value))
            self.spin.setValue(value)
            self.slider.setValue(self._to_tick(self.spin.value()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """Step the focused slider by keys in values, never by less than one."""
        if watched is self.slider and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            ticks = _STEPS.get(Qt.Key(event.key()))
            if ticks is not None and event.modifiers() in (Qt.KeyboardModifier.NoModifier,
                                                           Qt.KeyboardModifier.KeypadModifier):
                self.step_ticks(ticks)
                return True
        return super().eventFilter(watched, event)

    def step_ticks(self, ticks: int) -> None:
        """Move by ``ticks`` of the slider's travel (at least one value), as a user would."""
        current = self.spin.value()
        target = self._from_tick(min(max(self._to_tick(current) + ticks, 0), _TICKS))
        if target == current:
            target = current + (1 if ticks > 0 else -1)
        self.spin.setValue(min(max(target, self.spin.minimum()), self.spin.maximum()))

    def _to_tick(self, value: int) -> int:
        lo, hi = self.spin.minimum(), self.spin.maximum()
        if hi <= lo:
            return 0
        frac = math.log1p(value - lo) / math.log1p(hi - lo) if self._log else (value - lo) / (hi - lo)
        return round(frac * _TICKS)

    def _from_tick(self, tick: int) -> int:
        lo, hi = self.spin.minimum(), self.spin.maximum()
        frac = tick / _TICKS
        if self._log:
            return lo + round(math.expm1(frac * math.log1p(hi - lo)))
        return lo + round(frac * (hi - lo))

    def _on_slider_moved(self, tick: int) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setValue(self._from_tick(tick))
        self.sig_value_changed.emit(self.spin.value())

    def _on_spin_changed(self, value: int) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(self._to_tick(value))
        self.sig_value_changed.emit(value)


ESTIMATOR_CHOICES = [("words", "words × 1.3 (book)"), ("chars", "characters / 4"),
                     ("exact", "exact: Claude count_tokens")]
"""The token counters a panel can offer, with their labels (``exact`` needs an API key)."""


class EstimatorCombo(QComboBox):
    """The one "count tokens by" combo: :data:`ESTIMATOR_CHOICES`, item data = counter name.

    Bind it to the ``estimator`` field; the panel enables "exact" only when it has an exact
    counter (:meth:`set_exact_available`).
    """

    def __init__(self) -> None:
        super().__init__()
        for key, label in ESTIMATOR_CHOICES:
            self.addItem(label, key)
        self.setToolTip("How tokens are counted: estimates need nothing; exact asks Claude")

    def set_exact_available(self, available: bool) -> None:
        """Enable or disable the "exact" item (with a tooltip saying how to enable it)."""
        model = self.model()
        if not isinstance(model, QStandardItemModel):
            return
        item = model.item(self.findData("exact"))
        item.setEnabled(available)
        item.setToolTip("" if available else "Set ANTHROPIC_API_KEY (or API > Set key) for exact counts")


class PlayButton(QPushButton):
    """Step a :class:`SliderSpin` up to its maximum on a timer; the button toggles play/pause.

    Each tick moves ``1/steps`` of the range and waits while ``ready()`` is false, so a slow
    frame is never skipped over. Playing from the end starts again at the minimum.
    """

    def __init__(self, target: SliderSpin, label: str, interval_ms: int, steps: int,
                 ready: Callable[[], bool] = lambda: True) -> None:
        super().__init__(f"▶ {label}")
        self.setCheckable(True)
        self._label, self._target, self._steps, self._ready = label, target, steps, ready
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_tick)
        self.toggled.connect(self._on_toggled)

    def _on_toggled(self, on: bool) -> None:
        self.setText("⏸ Pause" if on else f"▶ {self._label}")
        spin = self._target.spin
        if on and spin.value() >= spin.maximum():
            spin.setValue(spin.minimum())
        (self._timer.start if on else self._timer.stop)()

    def _on_timer_tick(self) -> None:
        if not self._ready():
            return
        spin = self._target.spin
        nxt = min(spin.value() + max(1, (spin.maximum() - spin.minimum()) // self._steps), spin.maximum())
        spin.setValue(nxt)
        if nxt >= spin.maximum():
            self.setChecked(False)


def section(title: str) -> QLabel:
    """Return a bold section title for a controls column."""
    label = QLabel(title)
    label.setObjectName("sectionTitle")
    return label


def explanation(text: str) -> QLabel:
    """Return the short paragraph that explains a lever beside its controls."""
    label = QLabel(text)
    label.setObjectName("explain")
    label.setWordWrap(True)
    return label
