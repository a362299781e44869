"""The keys of a panel: focus its main control, reset it to its sample, undo that reset.

:func:`install` adds the shortcuts to a :class:`~widgets.base.BasePanel`; :data:`PANEL_KEYS`
lists every key a panel answers to (Help > Keyboard shortcuts shows them with the window's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut

if TYPE_CHECKING:
    from widgets.base import BasePanel

FOCUS_MAIN = "F6"
RESET = "Home"
UNDO_RESET = "Ctrl+Z"
PIN = "Ctrl+P"

PANEL_KEYS: list[tuple[str, str]] = [
    (FOCUS_MAIN, "focus the panel's main control (its first slider)"),
    ("← → ↑ ↓", "step a focused slider (1 % of its travel, at least one value)"),
    ("Page Up / Page Down", "jump a focused slider (10 % of its travel)"),
    (RESET, "reset the panel to its sample (outside text fields and tables)"),
    (UNDO_RESET, "undo that reset (one step)"),
    ("Esc / Cancel", "stop a running computation; the previous result stays"),
    (PIN, "pin the charts: ghosts under the live curves, deltas in the status line (up to 3)"),
]
"""(key, what it does) for every panel key, in the order Help lists them."""


def install(panel: BasePanel) -> None:
    """Add the panel's shortcuts (active while the panel is shown in the active window)."""
    keys = [(FOCUS_MAIN, panel.focus_main_control, Qt.ShortcutContext.WindowShortcut),
            (PIN, panel.pin, Qt.ShortcutContext.WindowShortcut),
            # focus inside the panel: Home in the navigation tree still goes to its top
            (RESET, panel.reset_to_sample, Qt.ShortcutContext.WidgetWithChildrenShortcut),
            (UNDO_RESET, panel.undo_reset, Qt.ShortcutContext.WidgetWithChildrenShortcut)]
    for key, slot, context in keys:
        shortcut = QShortcut(QKeySequence(key), panel, slot)
        shortcut.setContext(context)
