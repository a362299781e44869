"""The pin strip beside a panel's status line: a Pin button and one chip per pin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from widgets import pin_data, pin_deltas, pin_maps, pins
from widgets.pin_data import MAX_PINS, Pin
from widgets.pin_maps import Difference


class PinBar(QWidget):
    """Up to :data:`~widgets.pin_data.MAX_PINS` pins of one panel, listed and removable."""

    def __init__(self, plots: Callable[[], list[pg.PlotItem]], changed: Callable[[], None]) -> None:
        super().__init__()
        self._plots, self._changed = plots, changed
        self.pins: list[Pin] = []
        self.button = QPushButton("Pin")
        self.button.setToolTip("Pin what the charts show now (Ctrl+P): it stays as a faded ghost "
                               "under the live curves, and the status line shows the deltas")
        self.button.clicked.connect(self._on_pin_clicked)
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.addWidget(self.button)
        self.maps_button = QPushButton("Δ maps")
        self.maps_button.setCheckable(True)
        self.maps_button.setChecked(True)
        self.maps_button.setVisible(False)
        self.maps_button.toggled.connect(lambda _on: self._show_maps())
        self._row.addWidget(self.maps_button)
        self.differences: list[Difference] = []
        """The latest pin's maps drawn as live − pinned (while :attr:`maps_button` is on)."""
        self._chips: list[QPushButton] = []
        self.pin_headline: Callable[[], str] = lambda: ""
        self.view: Callable[[], str] = lambda: ""
        """The set of charts shown now, for a panel that swaps its charts (prefix caching's model
        and session views): a pin is drawn, and compared with, only in the set it was made in."""
        self._drawn_view = ""

    def _on_pin_clicked(self) -> None:
        self.pin(self.pin_headline())

    def pin(self, headline: str) -> Pin | None:
        """Freeze the curves on screen and ``headline`` as a new pin (the oldest goes past three)."""
        if len(self.pins) >= MAX_PINS:
            self.unpin(self.pins[0].label)
        label, color = pin_data.next_label(self.pins)
        pin = pins.capture(self._plots(), label, color, headline)
        pin.view = self.view()
        self.pins.append(pin)
        self._draw_all()
        self._show_maps()
        self._rebuild()
        return pin

    def unpin(self, label: str) -> None:
        """Remove pin ``label`` and its ghosts."""
        for pin in [p for p in self.pins if p.label == label]:
            pins.remove(pin)
            self.pins.remove(pin)
        self._show_maps()
        self._rebuild()

    def set_pins(self, loaded: list[Pin]) -> None:
        """Replace every pin (a session being opened)."""
        for pin in self.pins:
            pins.remove(pin)
        self.pins = []
        try:  # a pin that cannot be drawn is not kept: every pin listed has its ghosts and chip
            for pin in loaded[:MAX_PINS]:
                try:
                    self._draw(pin, self._plots())
                except Exception:
                    pins.remove(pin)
                    raise
                self.pins.append(pin)
        finally:
            self._show_maps()
            self._rebuild()

    def to_list(self) -> list[dict[str, Any]]:
        """Return the pins as JSON-safe data."""
        return [p.to_dict() for p in self.pins]

    def annotate(self, headline: str) -> str:
        """Return ``headline`` with its deltas to the latest pin of these charts (none: unchanged)."""
        latest = self._latest()
        if latest is None:
            return headline
        self._explain_maps()
        return pin_deltas.annotate(headline, latest.headline, latest.label)

    def _latest(self) -> Pin | None:
        """Return the latest pin made in the set of charts shown now."""
        now = self.view()
        return next((p for p in reversed(self.pins) if p.view == now), None)

    def _draw(self, pin: Pin, plots: list[pg.PlotItem]) -> None:
        if pin.view == self.view():
            pins.draw(pin, plots)
        else:  # made in the other set of charts: its plot numbers mean other plots here
            pins.remove(pin)

    def _draw_all(self) -> None:
        plots = self._plots()
        self._drawn_view = self.view()
        for pin in self.pins:
            self._draw(pin, plots)

    def restyle(self) -> None:
        """Draw the pins and their maps again on the plots' new ground (after a theme switch)."""
        self._draw_all()
        if self.pins:
            self._show_maps()

    def redraw_if_lost(self) -> None:
        """Draw the ghosts again when the panel rebuilt a plot they were on.

        First, move a pin's corner tag that a label now covers.
        """
        for pin in self.pins:
            pins.keep_clear(pin)
        plots = self._plots()
        swapped = self.view() != self._drawn_view
        if swapped or any(plot not in plots for pin in self.pins for plot, _item in pin.items):
            self._draw_all()
        if swapped or any(d.lost(plots) for d in self.differences):
            self._show_maps()
            self._rebuild()
        for difference in self.differences:
            difference.check()  # a map re-placed on its axes after its image was set

    def _show_maps(self) -> None:
        """Draw the latest pin's maps as differences (Δ maps on), or the live maps alone."""
        for difference in self.differences:
            difference.remove()
        self.differences = []
        latest = self._latest()
        self.maps_button.setVisible(latest is not None and bool(latest.maps))
        if latest is not None and self.maps_button.isChecked():
            self.differences = pin_maps.draw(latest.maps, self._plots(), latest.label)
        self._explain_maps()

    def _explain_maps(self) -> None:
        if self.maps_button.isHidden():
            return
        latest = self._latest()
        if latest is None:
            return
        label = latest.label
        why = [d.why for d in self.differences if d.why]
        tip = (f"Draw the maps as live − pin {label} (red: higher now, blue: lower, background: "
               "unchanged); off: the live maps.\nA map of more than 256×256 cells is compared in "
               "block means, as a saved session keeps it")
        if why:
            tip += "\n" + "\n".join(why)
        if tip != self.maps_button.toolTip():
            self.maps_button.setToolTip(tip)

    def _rebuild(self) -> None:
        for chip in self._chips:
            self._row.removeWidget(chip)
            chip.deleteLater()
        self._chips = []
        for pin in self.pins:
            chip = QPushButton(f"{pin.label} ✕")
            chip.setObjectName("pinChip")
            chip.setStyleSheet(f"background: {pin.color}; color: #111111; font-weight: bold; "
                               "border-radius: 3px; padding: 2px 8px;")
            curves = sum(1 for _p, item in pin.items if isinstance(item, pg.PlotDataItem))
            bars = sum(1 for _p, item in pin.items if isinstance(item, pg.BarGraphItem))
            lines = f", {len(pin.lines)} line(s)" if pin.lines else ""
            maps = f", {len(pin.maps)} map(s) kept for Δ maps" if pin.maps else ""
            drawn = (f"{curves} curve(s), {bars} bar set(s){lines} ghosted{maps} (text is not)"
                     if pin.view == self.view() else f"made in the {pin.view or 'other'} charts: drawn there")
            chip.setToolTip(f"pin {pin.label}: {pin.headline}\n{drawn}. Click to remove")
            chip.clicked.connect(lambda _=False, k=pin.label: self.unpin(k))
            self._row.addWidget(chip)
            self._chips.append(chip)
        self._changed()
