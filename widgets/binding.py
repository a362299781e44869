"""Controls tied to params fields: connected once, ranged from the declarations, synced back.

:class:`Bindings` is what :meth:`widgets.base.BasePanel.bind` uses; a panel never needs it
directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QSlider,
    QSpinBox,
    QWidget,
)

from core import fields
from widgets.controls import EstimatorCombo, SliderSpin

W = TypeVar("W", bound=QWidget)


@dataclass(slots=True)
class _Binding:
    widget: QWidget
    push: Callable[[Any], None]


class Bindings:
    """The bound controls of one panel, by field."""

    def __init__(self, change: Callable[..., None]) -> None:
        self._change = change
        self._bound: dict[str, list[_Binding]] = {}

    def add(self, widget: W, field: str, params_cls: type, to_field: Callable[[Any], Any] | None,
            from_field: Callable[[Any], Any] | None, minimum: float | None, maximum: float | None,
            scale: int = 1) -> W:
        """Tie ``widget`` to ``field`` of ``params_cls`` both ways and return it.

        The range (or the combo's items, when it has none) comes from the field's declared
        :class:`core.fields.Spec`; ``minimum`` / ``maximum`` narrow a slider inside a wide
        declared range (a log slider from 20, not 1; up to 200,000, not 10^12). An integer
        control showing a fraction in ``scale``-ths (hundredths of a threshold) gets the
        declared range in those units, and the field the control's value divided by ``scale``.
        """
        spec = fields.spec(params_cls, field)
        if scale != 1:
            if to_field is not None or from_field is not None:
                raise TypeError("bind: scale converts both ways; give it or to_field / from_field")
            to_field, from_field = (lambda v: v / scale), (lambda f: round(f * scale))
        to = to_field or (lambda v: v)
        frm = from_field or (lambda v: v)

        def user(value: Any) -> None:
            self._change(**{field: to(value)})

        push: Callable[[Any], None]
        if isinstance(widget, SliderSpin):
            _bind_range(widget, spec, minimum, maximum, scale)
            widget.sig_value_changed.connect(user)
            push = lambda v: widget.set_value(int(frm(v)))  # noqa: E731
        elif isinstance(widget, QSpinBox | QDoubleSpinBox | QSlider):
            _bind_range(widget, spec, minimum, maximum, scale)
            if isinstance(widget, QAbstractSpinBox):
                widget.setKeyboardTracking(False)
            widget.valueChanged.connect(user)
            push = lambda v: _show(widget, frm(v))  # noqa: E731
        elif isinstance(widget, QComboBox):
            if widget.count() == 0 and spec.choices:
                widget.addItems(list(spec.choices))
            keyed = widget.count() > 0 and widget.itemData(0) is not None
            widget.currentIndexChanged.connect(
                lambda _i: user(widget.currentData() if keyed else widget.currentText()))
            push = lambda v: widget.setCurrentIndex(  # noqa: E731
                widget.findData(frm(v)) if keyed else widget.findText(str(frm(v))))
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(user)
            push = lambda v: widget.setChecked(bool(frm(v)))  # noqa: E731
        elif isinstance(widget, QLineEdit):
            widget.editingFinished.connect(lambda: user(widget.text()))
            push = lambda v: widget.setText("" if frm(v) is None else str(frm(v)))  # noqa: E731
        else:
            raise TypeError(f"bind: cannot bind a {type(widget).__name__}")
        if spec.doc and not widget.toolTip():
            widget.setToolTip(spec.doc)
        self._bound.setdefault(field, []).append(_Binding(widget, push))
        return widget

    def items(self) -> list[tuple[str, QWidget]]:
        """Return every (field, control) pair."""
        return [(name, b.widget) for name, found in self._bound.items() for b in found]

    def push(self, params: Any, names: Sequence[str] | None, exact_available: bool) -> None:
        """Show the values of ``params`` (only ``names``, when given) without emitting anything."""
        for name in self._bound if names is None else names:
            for b in self._bound.get(name, ()):
                with QSignalBlocker(b.widget):
                    if isinstance(b.widget, EstimatorCombo):
                        b.widget.set_exact_available(exact_available)
                    b.push(getattr(params, name))  # SliderSpin.set_value blocks its parts


_INT_MAX = 2**31 - 1
"""The largest value a Qt integer control holds."""


def _show(widget: QSpinBox | QDoubleSpinBox | QSlider, value: Any) -> None:
    """Show a pushed value; one past the control's range widens it (never a silent clamp)."""
    if value is not None and not widget.minimum() <= value <= widget.maximum():
        widget.setRange(min(widget.minimum(), value), max(widget.maximum(), value))
    widget.setValue(value)


def _bind_range(widget: SliderSpin | QSpinBox | QDoubleSpinBox | QSlider, spec: fields.Spec,
                floor: float | None, cap: float | None, scale: int) -> None:
    """Set the control's range to the declared one in its units (bounds not declared stay)."""
    if isinstance(widget, SliderSpin):
        lo: float = widget.spin.minimum()
        hi: float = widget.spin.maximum()
    else:
        lo, hi = widget.minimum(), widget.maximum()
    lo = lo if spec.minimum is None else spec.minimum * scale
    hi = hi if spec.maximum is None else spec.maximum * scale
    if floor is not None:  # narrows a declared bound, or stands for one not declared
        lo = floor if spec.minimum is None else max(lo, floor)
    if cap is not None:
        hi = cap if spec.maximum is None else min(hi, cap)
    if isinstance(widget, QDoubleSpinBox):
        widget.setRange(lo, hi)
        return
    lo, hi = max(int(lo), -_INT_MAX), min(int(hi), _INT_MAX)
    if isinstance(widget, SliderSpin):
        widget.set_range(lo, hi)
    else:
        widget.setRange(lo, hi)
