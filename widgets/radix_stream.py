"""The radix panel's request list (what differs, highlighted) and its miss explanation.

Each request is one line: its number, how many leading words it shares with an earlier request
(folded into a grey count), then the words that differ. Clicking a line asks why it missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

from core.radix_miss import Miss, shared_words

SHOWN_MAX = 2000
"""Requests listed; longer streams are reached through the per-request chart."""


class RequestList(QPlainTextEdit):
    """Read-only: one line per request, the part after the shared prefix in bold."""

    sig_request_clicked = Signal(int)
    """The user clicked the line of this request."""

    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setToolTip("Each request with its shared opening folded: click one to see why it missed")
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        self.shared: list[int] = []
        self._muted = QColor("#888888")
        self._accent = QColor("#1f77b4")

    def set_colors(self, muted: str, accent: str) -> None:
        """Colors of the folded prefix and of the differing tail."""
        self._muted, self._accent = QColor(muted), QColor(accent)

    def set_requests(self, requests: Sequence[Sequence[str]], total: int | None = None) -> None:
        """Show ``requests`` (each a list of words or block ids), of ``total`` in all.

        ``total`` defaults to as many as given. Only the first :data:`SHOWN_MAX` are listed, so
        only theirs are measured: a 400,000-line stream cost 4 s here on the UI thread (issue 28).
        """
        total = len(requests) if total is None else total
        requests = requests[:SHOWN_MAX]
        self.shared = shared_words(requests)
        self.clear()
        cursor = QTextCursor(self.document())
        plain, fold, tail = QTextCharFormat(), QTextCharFormat(), QTextCharFormat()
        fold.setForeground(self._muted)
        tail.setForeground(self._accent)
        tail.setFontWeight(QFont.Weight.Bold)
        cursor.beginEditBlock()
        for r, (words, shared) in enumerate(zip(requests, self.shared, strict=True)):
            if r:
                cursor.insertBlock()
            cursor.insertText(f"#{r:<4} ", plain)
            if shared:
                cursor.insertText(f"[{shared} shared] ", fold)
            cursor.insertText(" ".join(words[shared:]) or "(same as an earlier request)", tail)
        if total > SHOWN_MAX:
            cursor.insertBlock()
            cursor.insertText(f"… and {total - SHOWN_MAX:,} more: click the per-request chart", fold)
        cursor.endEditBlock()
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def select_request(self, r: int) -> None:
        """Put the cursor on request ``r``'s line (if listed)."""
        block = self.document().findBlockByNumber(r)
        if block.isValid() and r < SHOWN_MAX:
            self.setTextCursor(QTextCursor(block))
            self.ensureCursorVisible()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """Report the request whose line was clicked."""
        super().mouseReleaseEvent(event)
        r = self.cursorForPosition(event.position().toPoint()).blockNumber()
        if 0 <= r < min(len(self.shared), SHOWN_MAX):
            self.sig_request_clicked.emit(r)


def miss_html(miss: Miss, accent: str, muted: str) -> str:
    """Return the explanation of one request's miss as rich text."""
    head = f"<b>Request #{miss.request}</b>: {miss.matched} of {miss.needed} blocks found in the cache"
    if miss.reason == "hit":
        return head + " — a full hit, nothing to compute."
    if miss.reason == "evicted":
        why = (f"<b>evicted</b>: an earlier request had stored block {miss.matched + 1}, and request "
               f"#{miss.evicted_by} pushed it out (gone from step {(miss.evicted_by or 0) + 1} on)")
    else:
        why = f"<b>new</b>: no earlier request had block {miss.matched + 1} after this prefix"
    parts = [head + ".", f"Why: {why}."]
    if miss.matched:
        shown = miss.prefix if len(miss.prefix) <= 90 else f"{miss.prefix[:40]} … {miss.prefix[-40:]}"
        parts.insert(1, f"Matched prefix: <span style='color:{muted}'>{escape(shown)}</span>")
    if miss.cached_block is None:
        parts.append("The closest cached path ends here: nothing was cached after the matched prefix.")
    else:
        runs = []
        for tag, mine, cached in miss.diff:
            if tag == "equal":
                runs.append(escape(mine))
            else:
                if cached:
                    runs.append(f"<s style='color:{muted}'>{escape(cached)}</s>")
                if mine:
                    runs.append(f"<b style='color:{accent}'>{escape(mine)}</b>")
        note = f"<span style='color:{muted}'>(struck out: the closest cached path)</span>"
        parts.append(f"Diverged at block {miss.matched + 1}: {' '.join(runs)} {note}")
    return "<br>".join(parts)
