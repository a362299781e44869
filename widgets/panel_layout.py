"""The look of a panel: controls beside the plots, the status line and pins, the theme.

:class:`PanelLayout` is the part of :class:`~widgets.base.BasePanel` that lays out what the
hooks :meth:`~widgets.base.BasePanel.build_controls` and
:meth:`~widgets.base.BasePanel.build_extra` made, shows the status line (the drawn headline
with its deltas to the latest pin, progress, errors), and recolors the plots when the theme
changes (:meth:`~PanelLayout.theme_changed` for items that do not follow the axes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from core.errors import MESSAGE_CHARS, shown
from widgets.controls import explanation
from widgets.pin_bar import PinBar
from widgets.plots import PlotView, style_plot
from widgets.progress import WorkIndicator
from widgets.reflow import ControlsScroll
from widgets.theme import Theme


class PanelLayout:
    """Layout, status line and theme; mixed into :class:`~widgets.base.BasePanel`."""

    explain: ClassVar[str]
    theme: Theme
    controls: QVBoxLayout
    view: PlotView
    status: QLabel
    work: WorkIndicator
    pin_bar: PinBar
    _output: Any
    _drawn_headline: str
    # BasePanel's hooks
    build_controls: Callable[[QVBoxLayout], None]
    build_extra: Callable[[], QWidget | None]
    extra_share: float = 0.375
    """The share of the right column's height the extra widget starts with (the plots get the rest)."""
    draw: Callable[[Any], None]

    def _show_headline(self) -> None:
        """Show the drawn output's headline, with its deltas to the latest pin."""
        if self._output is None:
            return
        note = getattr(self._output, "note", "")
        self.set_status(self.pin_bar.annotate(self._drawn_headline) + (f"   ⚠ {note}" if note else ""),
                         error=False)

    def pin(self) -> None:
        """Pin what the charts show now (Ctrl+P); see :mod:`widgets.pins`."""
        if self._output is not None:
            self.pin_bar.pin(self._drawn_headline)

    def set_status(self, text: str, error: bool) -> None:
        """Show ``text`` in the status line (red when ``error``): a refusal, a note, a headline."""
        self.status.setText(shown(text, 4 * MESSAGE_CHARS))  # an error may quote a whole file
        # grow, never shrink: a headline one line longer on some ticks would otherwise resize
        # the plots above it back and forth (and throw away their cached pixmaps)
        needed = self.status.heightForWidth(max(self.status.width(), 200))
        if needed > self.status.minimumHeight():
            self.status.setMinimumHeight(needed)
        if self.status.property("error") != error:  # a re-polish per tick costs ~1 ms: only on a change
            self.status.setProperty("error", error)
            self.status.style().unpolish(self.status)
            self.status.style().polish(self.status)

    def plots(self) -> list[pg.PlotItem]:
        """Every PlotItem in the view."""
        return [item for item in self.view.ci.items if isinstance(item, pg.PlotItem)]

    def apply_theme(self, theme: Theme) -> None:
        """Recolor every plot and redraw the last output in ``theme``."""
        self.theme = theme
        self.view.setBackground(theme.background)
        for plot in self.plots():
            style_plot(plot, theme)
        self.theme_changed()
        if self._output is not None:
            self.draw(self._output)
        self.pin_bar.restyle()  # pin tags and map notes are filled with the ground they were made on

    def theme_changed(self) -> None:
        """Recolor items that do not follow the axes (subclasses override)."""

    def _build_layout(self) -> QSplitter:
        """Return the controls (scrolled) beside the plots and the status row, for the panel's box."""
        left = QWidget()
        left.setLayout(self.controls)
        if self.explain:
            self.controls.addWidget(explanation(self.explain))
        self.build_controls(self.controls)
        self.controls.addStretch(1)
        scroll = ControlsScroll(left)  # as wide as the controls need, never sideways scrolling
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        extra = self.build_extra()
        if extra is None:
            right_box.addWidget(self.view, 1)
        else:
            stack = QSplitter(Qt.Orientation.Vertical)
            stack.addWidget(extra)
            stack.addWidget(self.view)
            stack.setStretchFactor(1, 1)
            share = round(800 * self.extra_share)  # of about the height a 720 screen gives
            stack.setSizes([share, 800 - share])
            right_box.addWidget(stack, 1)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.work, 0, Qt.AlignmentFlag.AlignTop)
        status_row.addWidget(self.pin_bar, 0, Qt.AlignmentFlag.AlignTop)
        right_box.addLayout(status_row)
        split = QSplitter()
        split.addWidget(scroll)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([380, 900])
        return split
