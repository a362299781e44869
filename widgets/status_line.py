"""The status line: a word-wrapped label whose text can be selected, without paying for it per tick.

A label whose text can be selected lays its text out as a rich text document on every change,
about 1 ms a slider tick for a two-line headline (a tenth of attention's tick). The status line
becomes selectable while the pointer is over it, which is when a user selects text; while a
slider is dragged it is a plain label.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QLabel

_SELECTABLE = Qt.TextInteractionFlag.TextSelectableByMouse
_PLAIN = Qt.TextInteractionFlag.NoTextInteraction


class StatusLine(QLabel):
    """A word-wrapped label, selectable with the mouse while the pointer is over it."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("status")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # level with the bar
        self.setTextInteractionFlags(_PLAIN)
        self.setCursor(Qt.CursorShape.IBeamCursor)  # it reads as selectable before it is

    def enterEvent(self, event: QEnterEvent) -> None:  # noqa: N802 (Qt override)
        """Let the text be selected (and copied) while the pointer is over it."""
        self.setTextInteractionFlags(_SELECTABLE)
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        """Back to a plain label (a selection in it ends)."""
        self.setTextInteractionFlags(_PLAIN)
        super().leaveEvent(event)
