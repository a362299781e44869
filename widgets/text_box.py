"""A plain-text box that shows any text in bounded time (issue 28).

``QPlainTextEdit.setPlainText`` lays a line out whole: a 100 KB one-line file held the window
4 s, a 300 KB one more than 20 s, and 3 MB of short lines 2-5 s. :class:`TextBox` shows a text
that fits (at most :data:`MAX_CHARS` characters and :data:`MAX_LINES` lines, none over
:data:`MAX_LINE`) as it is, editable as before. A larger one is shown as a *preview*: a note
saying how much is not shown and that the panel uses the whole text, then its first
:data:`PREVIEW_CHARS` characters (at most :data:`PREVIEW_LINES` lines, each cut at
:data:`PREVIEW_LINE`). While it shows a preview the box is read-only, so an edit can never put
the cut text in place of the real one, and :meth:`TextBox.full_text` gives the whole text, so a
panel reading the box back never reads the preview. Showing a text that fits (the sample, a
smaller file, an empty part) makes it editable again.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget

MAX_CHARS = 500_000
"""A text is shown whole if it has at most this many characters,"""
MAX_LINES = 5_000
"""...at most this many lines (each costs ~10 µs to lay out: 25,000 took ~0.3 s),"""
MAX_LINE = 5_000
"""...and no line longer than this (a long line lays out in quadratic time). At these limits
setPlainText took 45-70 ms offscreen (5,000 lines of 85 characters; one 5,000-character line)."""
PREVIEW_CHARS = 20_000
"""A preview shows the text's first this many characters,"""
PREVIEW_LINES = 2_000
"""...at most this many lines of them,"""
PREVIEW_LINE = 500
"""...each cut at this many characters."""


def clipped(text: str, limit: int = 60) -> str:
    """Return ``text`` cut at ``limit`` characters (and a "…"): for a table cell or a message."""
    return text if len(text) <= limit else text[:limit] + "…"


def fits(text: str) -> bool:
    """Whether ``text`` is shown whole (short enough, and no line too long)."""
    if len(text) > MAX_CHARS or text.count("\n") >= MAX_LINES:
        return False
    return len(text) <= MAX_LINE or max(map(len, text.split("\n"))) <= MAX_LINE


def preview_of(text: str) -> str:
    """Return the bounded preview of a ``text`` that does not fit: a note, then its start."""
    lines = text[:PREVIEW_CHARS].split("\n", PREVIEW_LINES)[:PREVIEW_LINES]
    head = sum(map(len, lines)) + len(lines) - 1
    cut = sum(len(line) > PREVIEW_LINE for line in lines)
    shown = "\n".join(line if len(line) <= PREVIEW_LINE else line[:PREVIEW_LINE] + " …"
                      for line in lines)
    total_lines = text.count("\n") + 1
    what = (f"the first {head:,} of {len(text):,} characters"
            + (f" ({len(lines):,} of {total_lines:,} lines)" if total_lines > 1 else ""))
    if cut:
        what += f", {cut:,} long line{'s' if cut > 1 else ''} cut at {PREVIEW_LINE:,} characters"
    note = (f"[Preview — too large to edit here. Showing {what}; the panel uses the whole text. "
            "Read-only: load the sample, open a smaller file, or right-click > Clear to type "
            "or paste a new text.]")
    return f"{note}\n\n{shown}"


class TextBox(QPlainTextEdit):
    """A :class:`QPlainTextEdit` whose :meth:`show_text` is bounded for any text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full: str | None = None  # the whole text while a preview is shown
        self._own = (False, "")  # the box's read-only and tooltip, restored when a preview goes

    def is_preview(self) -> bool:
        """Whether the box shows a preview of a text too large to show whole."""
        return self._full is not None

    def full_text(self) -> str:
        """Return the text the box stands for: the whole text under a preview, else what it holds."""
        return self._full if self._full is not None else self.toPlainText()

    def clear_preview(self) -> None:
        """Empty a box that shows a preview and make it editable, as select-all + delete would.

        ``textChanged`` is emitted: the panel reads the empty box back as an edit.
        """
        if self.is_preview():
            self._full = None
            self.setReadOnly(self._own[0])
            self.setToolTip(self._own[1])
            self.setPlainText("")

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt override)
        """Add *Clear* to the standard menu while a preview is shown (the way back to editing)."""
        menu = self.createStandardContextMenu()
        if self.is_preview():
            menu.addSeparator()
            menu.addAction("Clear, to type or paste a new text", self.clear_preview)
        menu.exec(event.globalPos())
        menu.deleteLater()

    def show_text(self, text: str) -> bool:
        """Show ``text`` without emitting ``textChanged``; whether the box changed.

        A text that :func:`fits` is shown whole and editable (if the box was); a larger one as
        a read-only :func:`preview_of`, with a tooltip saying why. The same text again does
        nothing, so the user's cursor and scroll stay put.
        """
        if text == self.full_text():
            return False
        was_preview = self.is_preview()
        if not was_preview:
            self._own = (self.isReadOnly(), self.toolTip())
        with QSignalBlocker(self):
            if fits(text):
                self._full = None
                self.setPlainText(text)
                if was_preview:
                    self.setReadOnly(self._own[0])
                    self.setToolTip(self._own[1])
            else:
                self._full = text
                self.setPlainText(preview_of(text))
                self.setReadOnly(True)
                self.setToolTip(f"A preview of a {len(text):,}-character text; "
                                "the panel uses all of it")
        return True
