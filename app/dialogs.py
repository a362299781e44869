"""Small dialogs: chart export options."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core.errors import InputError
from widgets.export import FORMATS, SLIDE_SIZES
from widgets.theme import THEMES

AS_SHOWN = "as shown"


def chart_name(text: str) -> str:
    """Return ``text`` if it names a file to export to, else raise :class:`InputError` saying why."""
    if "\x00" in text:  # pasted: no file system takes it (and Python raises ValueError on it)
        raise InputError(f"{text!r}: a file name cannot hold a NUL character")
    if Path(text).name in ("", "..") or text.endswith(("/", os.sep)):
        raise InputError(f"{text!r}: give a file name to export to, not a folder")
    try:
        return str(Path(text).expanduser())
    except RuntimeError as exc:  # ~nosuchuser: "Could not determine home directory"
        raise InputError(f"{text}: cannot expand '~' ({exc})") from None


@dataclass(frozen=True)
class ExportChoice:
    """What the user asked the export dialog for."""

    path: Path
    fmt: str
    size: tuple[int, int] | None
    """None: the chart exactly as it is on screen."""
    scale: int
    theme: str
    with_scenario: bool


class ExportDialog(QDialog):
    """Ask where and how to export the current chart."""

    def __init__(self, parent: QWidget | None, default_path: Path, theme: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export chart")
        self.path = QLineEdit(str(default_path))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.fmt = QComboBox()
        self.fmt.addItems(FORMATS)
        self.fmt.setCurrentText(default_path.suffix.lstrip(".") or "svg")
        self.fmt.currentTextChanged.connect(self._on_format_changed)
        self.size_combo = QComboBox()
        self.size_combo.addItems([AS_SHOWN, *SLIDE_SIZES])
        self.scale = QSpinBox()
        self.scale.setRange(1, 4)
        self.scale.setSuffix("x")
        self.scale.setToolTip("PNG pixel density (1x to 4x)")
        self.theme = QComboBox()
        self.theme.addItems(THEMES)
        self.theme.setCurrentText("slide" if theme == "light" else theme)
        self.with_scenario = QCheckBox("Also save the scenario JSON that reproduces it")
        self.with_scenario.setChecked(True)
        form = QFormLayout(self)
        form.addRow("File", row)
        form.addRow("Format", self.fmt)
        form.addRow("Size", self.size_combo)
        form.addRow("PNG scale", self.scale)
        form.addRow("Theme", self.theme)
        form.addRow(self.with_scenario)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._on_format_changed(self.fmt.currentText())

    def choice(self) -> ExportChoice:
        """Return the options as chosen; :class:`InputError` when the file box names no file."""
        chosen = self.size_combo.currentText()
        size = None if chosen == AS_SHOWN else SLIDE_SIZES[chosen]
        path = Path(chart_name(self.path.text())).with_suffix("." + self.fmt.currentText())
        return ExportChoice(path, self.fmt.currentText(), size, self.scale.value(),
                            self.theme.currentText(), self.with_scenario.isChecked())

    def _on_format_changed(self, fmt: str) -> None:
        self.scale.setEnabled(fmt == "png")
        try:
            name = chart_name(self.path.text())
        except InputError:  # no file named yet ("", "/", ".."): no suffix to change
            return
        self.path.setText(str(Path(name).with_suffix("." + fmt)))

    def _on_browse_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export chart", self.path.text(),
                                              "Charts (*.svg *.png *.pdf)")
        if name:
            self.path.setText(name)
            suffix = Path(name).suffix.lstrip(".").lower()
            if suffix in FORMATS:
                self.fmt.setCurrentText(suffix)
