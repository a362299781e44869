"""An editable list of context parts: name, pinned, rank, token count, and the text itself."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QGridLayout,
    QHeaderView,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.packer import Part
from widgets.text_box import TextBox

_NAME, _PIN, _RANK, _TOKENS, _EST = range(5)


def unique_name(wanted: str, taken: Sequence[str]) -> str:
    """Return ``wanted``, or ``wanted (2)``, ``(3)``... if it is already taken."""
    name, k = wanted.strip() or "part", 2
    while name in taken:
        name = f"{wanted.strip() or 'part'} ({k})"
        k += 1
    return name


class PartsEditor(QWidget):
    """Table of parts plus an editor for the selected part's text."""

    sig_parts_changed = Signal(object)
    """The user changed the parts; the argument is the new tuple of :class:`Part`."""
    sig_error = Signal(str)
    """Nothing could be added; the message says why."""
    sig_files_chosen = Signal(object)
    """The user chose text files to add as parts (a list of paths); the panel reads them."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: tuple[Part, ...] = ()
        self._counts: tuple[tuple[int, ...], tuple[int, ...] | None] | None = None
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Part", "Pin", "Rank", "Tokens", "≈ words×1.3"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(_NAME, QHeaderView.ResizeMode.Stretch)
        for col in (_PIN, _RANK, _TOKENS, _EST):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setColumnHidden(_EST, True)
        self.table.setMinimumHeight(220)
        self.text = TextBox()
        self.text.setPlaceholderText("Select a part to edit its text, or paste text here.")
        self.text.setMinimumHeight(120)
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(250)
        self._text_timer.timeout.connect(self._on_text_settled)

        buttons = QGridLayout()
        for i, (label, slot, tip) in enumerate([
            ("Add", self._on_add_clicked, "Add an empty part after the selected one"),
            ("Remove", self._on_remove_clicked, "Remove the selected part"),
            ("▲ Up", lambda: self._on_move_clicked(-1), "Move the part earlier (older)"),
            ("▼ Down", lambda: self._on_move_clicked(1), "Move the part later (newer)"),
            ("Open files…", self._on_open_clicked, "Add text files as parts (or drop them here)"),
            ("Paste as part", self._on_paste_clicked, "Add the clipboard text as a new part"),
        ]):
            button = QPushButton(label)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button, i // 3, i % 3)

        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.table, 2)
        box.addLayout(buttons)
        box.addWidget(self.text, 1)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.text.textChanged.connect(self._text_timer.start)

    # ---- pushing state in -----------------------------------------------------------------
    def set_parts(self, parts: tuple[Part, ...]) -> None:
        """Show ``parts`` (no change signal)."""
        row = self.current_row()
        self._parts = parts
        self._counts = None
        with QSignalBlocker(self.table), self._bulk():
            self.table.setRowCount(len(parts))
            for i, part in enumerate(parts):
                self._fill_row(i, part)
        if parts:
            self.table.selectRow(min(max(row, 0), len(parts) - 1))
        self._show_text()

    def set_counts(self, tokens: Sequence[int], estimates: Sequence[int] | None) -> None:
        """Show each part's tokens, and the words estimate beside exact counts.

        A budget drag redraws every tick with the same counts: they are written only when they
        changed, and all at once (see :meth:`_bulk`).
        """
        shown = (tuple(tokens), None if estimates is None else tuple(estimates))
        if shown == self._counts:
            return
        self._counts = shown
        self.table.setColumnHidden(_EST, estimates is None)
        with QSignalBlocker(self.table), self._bulk():
            for i, n in enumerate(tokens[: self.table.rowCount()]):
                self._readonly(i, _TOKENS, f"{n:,}")
                if estimates is not None:
                    est = estimates[i]
                    delta = f" ({(est - n) / n:+.0%})" if n else ""
                    self._readonly(i, _EST, f"{est:,}{delta}")

    @contextmanager
    def _bulk(self) -> Iterator[None]:
        """Write many cells with the fitted columns fixed, then fit them once.

        A column that resizes to its contents measures every row on each cell written: 1,000
        parts took ~8 s per budget tick (issue 28) instead of ~30 ms.
        """
        header = self.table.horizontalHeader()
        fitted = [c for c in range(self.table.columnCount())
                  if header.sectionResizeMode(c) == QHeaderView.ResizeMode.ResizeToContents]
        for col in fitted:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        try:
            yield
        finally:
            for col in fitted:
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

    def current_row(self) -> int:
        """Index of the selected part, or -1."""
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _fill_row(self, i: int, part: Part) -> None:
        name = QTableWidgetItem(part.name)
        name.setToolTip(part.text[:300])
        self.table.setItem(i, _NAME, name)
        pin = QTableWidgetItem()
        pin.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
                     | Qt.ItemFlag.ItemIsSelectable)
        pin.setCheckState(Qt.CheckState.Checked if part.pinned else Qt.CheckState.Unchecked)
        pin.setToolTip("Pinned parts are never dropped")
        self.table.setItem(i, _PIN, pin)
        spin = self.table.cellWidget(i, _RANK)
        if not isinstance(spin, QSpinBox):
            spin = QSpinBox()
            spin.setRange(0, 99)
            spin.setKeyboardTracking(False)
            spin.setToolTip("Priority policy: rank 1 is kept first")
            spin.valueChanged.connect(self._on_rank_changed)
            self.table.setCellWidget(i, _RANK, spin)
        with QSignalBlocker(spin):
            spin.setValue(part.rank)
        self._readonly(i, _TOKENS, "")

    def _readonly(self, row: int, col: int, text: str) -> None:
        item = self.table.item(row, col)
        if item is not None:  # written again: the text only
            item.setText(text)
            return
        item = QTableWidgetItem(text)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.setItem(row, col, item)

    def _show_text(self) -> None:
        row = self.current_row()
        self.text.show_text(self._parts[row].text if 0 <= row < len(self._parts) else "")

    # ---- user edits -----------------------------------------------------------------------
    def _emit(self, parts: list[Part], select: int | None = None) -> None:
        self.set_parts(tuple(parts))
        if select is not None and 0 <= select < len(parts):
            self.table.selectRow(select)
        self.sig_parts_changed.emit(self._parts)

    def _replace(self, row: int, **changes: str | bool | int) -> None:
        parts = list(self._parts)
        old = parts[row]
        parts[row] = Part(
            name=str(changes.get("name", old.name)),
            text=str(changes.get("text", old.text)),
            pinned=bool(changes.get("pinned", old.pinned)),
            rank=int(changes.get("rank", old.rank)),
        )
        self._parts = tuple(parts)
        self.sig_parts_changed.emit(self._parts)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        row = item.row()
        if item.column() == _NAME:
            others = [p.name for i, p in enumerate(self._parts) if i != row]
            name = unique_name(item.text(), others)
            if name != item.text():
                with QSignalBlocker(self.table):
                    item.setText(name)
            self._replace(row, name=name)
        elif item.column() == _PIN:
            self._replace(row, pinned=item.checkState() == Qt.CheckState.Checked)

    def _on_rank_changed(self, value: int) -> None:
        for row in range(self.table.rowCount()):
            if self.table.cellWidget(row, _RANK) is self.sender():
                self._replace(row, rank=value)

    def _on_selection_changed(self) -> None:
        self._text_timer.stop()
        self._show_text()

    def _on_text_settled(self) -> None:
        row = self.current_row()
        if 0 <= row < len(self._parts):
            self._replace(row, text=self.text.full_text())
        elif self.text.full_text().strip():
            self.add_part("pasted", self.text.full_text())

    def add_part(self, name: str, text: str) -> None:
        """Insert a part after the selected one (or at the end) and select it."""
        parts = list(self._parts)
        at = self.current_row() + 1 if self.current_row() >= 0 else len(parts)
        parts.insert(at, Part(unique_name(name, [p.name for p in parts]), text))
        self._emit(parts, select=at)

    def _on_add_clicked(self) -> None:
        self.add_part("new part", "")

    def _on_remove_clicked(self) -> None:
        row = self.current_row()
        if 0 <= row < len(self._parts):
            parts = list(self._parts)
            del parts[row]
            self._emit(parts, select=min(row, len(parts) - 1))

    def _on_move_clicked(self, step: int) -> None:
        row = self.current_row()
        dest = row + step
        if 0 <= row < len(self._parts) and 0 <= dest < len(self._parts):
            parts = list(self._parts)
            parts[row], parts[dest] = parts[dest], parts[row]
            self._emit(parts, select=dest)

    def _on_open_clicked(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Add text files as parts")
        if names:
            self.sig_files_chosen.emit([Path(n) for n in names])

    def _on_paste_clicked(self) -> None:
        text = QApplication.clipboard().text()
        if text.strip():
            self.add_part("pasted", text)
        else:
            self.sig_error.emit("the clipboard holds no text to add as a part")
